"""The outlier suite: its split is fixed, and its quick mode runs end to end."""

import numpy as np
import pytest
from conftest import load_benchmark

_load = load_benchmark


@pytest.fixture(scope="module")
def suite():
    return _load("suite_outliers")


def test_the_split_is_fixed_by_the_task_names(suite):
    suites = _load("_suites")
    split = suite.split()
    assert len(split) == len(suite.TASKS) >= 16
    assert len(set(suite.TASKS)) == len(suite.TASKS)
    assert all(split[name] == suites.half_of(name) for name in suite.TASKS)
    # a few names, checked by hand against the rule
    assert split["digits-oc0-class-5"] == "tuning"
    assert split["mnist-oc8-class-1"] == "tuning"
    assert split["cancer-benign-class-10"] == "reporting"
    assert split["mnist-oc7-heldout9-5"] == "reporting"
    halves = [suites.select(suite.TASKS, half) for half in suites.HALVES]
    assert sorted(halves[0] + halves[1]) == sorted(suite.TASKS)
    assert min(len(h) for h in halves) >= 8


def test_tasks_are_made_the_same_way_each_time(suite):
    X, is_outlier = suite.make_task("iris-mc012-shuffle-5", seed=3)
    X_again, is_outlier_again = suite.make_task("iris-mc012-shuffle-5", seed=3)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(is_outlier, is_outlier_again)
    # outliers made from inliers lie inside the inliers' range
    inliers, outliers = X[is_outlier == 0], X[is_outlier == 1]
    assert np.all(outliers >= inliers.min(0))
    assert np.all(outliers <= inliers.max(0))
    assert 0.04 < is_outlier.mean() < 0.06


def test_quick_mode_gives_finite_roc_aucs(suite):
    tasks = suite.QUICK_TASKS[:2]
    methods = [m for m in suite.available_methods() if not m.startswith("PyOD")]
    cpu = {}
    aucs, seconds = suite.run(
        tasks, [0], methods, quick=True, log=lambda _: None, cpu_seconds=cpu
    )
    assert list(aucs) == tasks
    assert list(cpu) == tasks
    for task in tasks:
        found = aucs[task]
        assert set(methods) <= set(found)
        assert {"skvae:likelihood", "skvae:neighbors"} <= set(found)  # the parts
        values = np.array(list(found.values()))
        assert np.all(np.isfinite(values))
        assert np.all((values >= 0) & (values <= 1))
        assert all(seconds[task][m] >= 0 for m in found)
        assert all(cpu[task][m] >= 0 for m in found)
    text = suite.table(aucs, seconds, cpu)
    assert "max" in text.split("(wall)")[0]
    assert text.rstrip().endswith("(CPU)")
    assert "mean rank" in text
    assert "skvae minus the best baseline" in text


def test_scaling_tasks_and_their_measurement(suite):
    # subsets of the set while it has rows enough; beyond, noisy draws
    X, is_outlier = suite.scaling_task("digits", 400, seed=0)
    assert X.shape == (400, 64)
    assert is_outlier.sum() == 20
    np.testing.assert_array_equal(X, suite.scaling_task("digits", 400, seed=0)[0])
    tiled, _ = suite.scaling_task("digits", 2_000, seed=0)
    assert len(np.unique(tiled, axis=0)) == 2_000  # no two rows the same
    assert tiled.min() >= 0
    assert tiled.max() <= 1
    lines = []
    found = suite.scaling(rows=[100], sets=["digits"], seeds=[0], log=lines.append)
    (row,) = found
    assert row["rows"] == 100
    assert row["features"] == 64
    assert min(row["wall"], row["cpu"], row["if_wall"], row["if_cpu"]) > 0
    assert 0 <= row["auc"] <= 1
    assert 0 <= row["if_auc"] <= 1
    assert lines[0].split()[:3] == ["set", "rows", "feat"]
    assert lines[1].split()[:2] == ["digits", "100"]


def test_wide_image_sets_enlarge_the_images(suite):
    # digits at 32 x 32: 1,024 pixels in [0, 1], the 8 x 8 images enlarged
    # (each image's mean kept within interpolation's error); other names None
    from sklearn.datasets import load_digits

    wide = suite.wide_images("digits32")
    small = load_digits().data / 16.0
    assert wide.shape == (len(small), 1024)
    assert wide.min() >= 0
    assert wide.max() <= 1
    corr = np.corrcoef(wide.mean(1), small.mean(1))[0, 1]
    assert corr > 0.95
    assert suite.wide_images("iris") is None
    X, is_outlier = suite.scaling_task("digits32", 300, seed=0)
    assert X.shape == (300, 1024)
    assert is_outlier.sum() == 15


def test_the_extra_tasks_are_outside_the_suite_and_build(suite):
    assert not set(suite.EXTRA_TASKS) & set(suite.TASKS)
    assert len(set(suite.EXTRA_TASKS)) == len(suite.EXTRA_TASKS)
    for name in ("iris-mc12-swap-10", "wine-mc12-heldout0-5"):
        X, is_outlier = suite.make_task(name, seed=11)
        assert X.shape[0] == is_outlier.size
        assert 0.03 < is_outlier.mean() < 0.12


def test_the_novelty_check_reports_the_shares_flagged(suite):
    lines = []
    found = suite.novelty([("digits", 1)], seeds=[0], log=lines.append)
    (row,) = found
    assert row["task"] == "digits-1"
    assert row["rows"] == int(0.7 * 182)
    assert 0.9 < row["auc"] <= 1.0  # ones against other digits
    assert 0.0 <= row["new_inliers"] <= 0.5
    assert row["new_outliers"] > 0.5
    assert 0.0 < row["train"] < 0.3
    assert lines[-1].startswith("mean ROC-AUC")
