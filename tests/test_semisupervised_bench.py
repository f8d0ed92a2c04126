"""benchmarks/bench_semisupervised.py's helpers: the error it names, self-training."""

import numpy as np
import pytest
from conftest import load_benchmark, tiny

from skvae import SemiSupervisedVAE


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_semisupervised")


def test_worst_error_names_the_most_frequent_confusion(bench):
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 2, 0, 2, 1])
    assert bench.worst_error(y_true, y_pred) == (0, 1, 2, 3)
    # no error: the first pair off the diagonal, with no rows
    assert bench.worst_error(y_true, y_true)[2] == 0


def test_self_train_labels_only_the_confident_unlabelled_rows(bench, monkeypatch):
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(-3, 1, (30, 4)), rng.normal(3, 1, (30, 4))]
    y = np.repeat([0, 1], 30)
    y_partial = np.where(np.arange(60) % 10 == 0, y, -1)
    kept = y_partial.copy()
    model = tiny(SemiSupervisedVAE, max_iter=20, random_state=0).fit(X, y_partial)
    proba = model.predict_proba(X)
    seen = {}
    fit = SemiSupervisedVAE.fit

    def spy(self, X, y=None, sample_weight=None):
        seen["y"] = np.asarray(y).copy()
        return fit(self, X, y, sample_weight)

    monkeypatch.setattr(SemiSupervisedVAE, "fit", spy)
    epochs = len(model.history_)
    bench.self_train(model, X, y_partial, epochs=2, threshold=0.9)
    np.testing.assert_array_equal(y_partial, kept)  # the caller's labels kept
    sure = (kept == -1) & (proba.max(axis=1) >= 0.9)
    assert sure.any()
    assert not sure.all()
    np.testing.assert_array_equal(seen["y"][sure], proba[sure].argmax(axis=1))
    np.testing.assert_array_equal(seen["y"][~sure], kept[~sure])
    assert model.warm_start
    assert len(model.history_) == epochs + 2
    # the rate asked for, not the one the kept optimiser had
    assert model._optimizer.param_groups[0]["lr"] == 2e-3
    bench.self_train(model, X, y_partial, epochs=1, learning_rate=5e-4)
    assert model._optimizer.param_groups[0]["lr"] == 5e-4


def test_subset_keeps_the_class_shares_and_draws_per_seed(bench):
    X = np.arange(200.0)[:, None]
    y = np.repeat([0, 1, 2, 3], 50)
    Xa, ya = bench.subset(X, y, 80, seed=0)
    assert Xa.shape == (80, 1)
    np.testing.assert_array_equal(np.bincount(ya), [20, 20, 20, 20])
    np.testing.assert_array_equal(y[Xa[:, 0].astype(int)], ya)  # rows keep labels
    Xb, _ = bench.subset(X, y, 80, seed=1)
    assert set(Xa[:, 0]) != set(Xb[:, 0])
    assert bench.subset(X, y, None, seed=0)[0] is X  # None: every row


def test_baselines_only_scores_the_labels_without_a_vae_fit(bench, monkeypatch, capsys):
    def refuse(self, *args, **kwargs):
        raise AssertionError("--baselines-only fitted a SemiSupervisedVAE")

    monkeypatch.setattr(SemiSupervisedVAE, "fit", refuse)
    bench.timing(2, set_name="digits", n_rows=300, baselines=True, fit_model=False)
    lines = capsys.readouterr().out.splitlines()
    per_split = [line for line in lines if "most frequent error" in line]
    cheap = [m for m, _ in bench.methods(0) if m not in bench._COSTLY]
    assert len(per_split) == 2 * len(cheap)  # each cheap baseline on each split
    summary = {line.split(" accuracy ")[0].strip() for line in lines if "(min " in line}
    assert summary == set(cheap)
    # the error named is one the baseline made: "T as P (k of n)" with k <= n
    for line in per_split:
        wrong, total = line.rsplit("(", 1)[1].rstrip(")").split(" of ")
        assert 0 <= int(wrong) <= int(total) <= 75  # held-out rows of a class
