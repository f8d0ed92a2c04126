"""Training budgets: ``max_iter="auto"`` sized by the data and stopped by it.

The rule (user guide, "Training budgets"): the epochs that give about
``_auto_steps`` optimisation steps, clipped to ``_auto_epochs``; integers mean
what they always meant. Also: the fit path makes no numpy copy the size of X.
"""

import itertools
import tracemalloc
import warnings

import numpy as np
import pytest
from conftest import tiny
from sklearn.exceptions import ConvergenceWarning

from skvae import (
    VAE,
    VQVAE,
    VQVAE2,
    WAE,
    AdversarialAE,
    ConditionalVAE,
    HierarchicalVAE,
    LadderVAE,
)
from skvae._base import auto_epochs

GENERIC = [
    VAE,
    ConditionalVAE,
    WAE,
    AdversarialAE,
    HierarchicalVAE,
    LadderVAE,
    VQVAE,
    VQVAE2,
]


def _rows(n, width=3, seed=0):
    return np.random.RandomState(seed).normal(size=(n, width))


@pytest.mark.parametrize("cls", GENERIC, ids=lambda c: c.__name__)
def test_generic_families_default_to_the_auto_budget(cls):
    params = cls().get_params()
    assert params["max_iter"] == "auto"
    if "prior_max_iter" in params:
        assert params["prior_max_iter"] == "auto"


def test_auto_gives_fewer_epochs_per_row_for_larger_data():
    sizes = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    epochs = [auto_epochs(n, 200, 5000, 2, 200) for n in sizes]
    assert epochs[0] == 200  # small data: the old integer default
    assert epochs[-1] == 2  # huge data: the floor, so cost grows linearly
    assert all(a >= b for a, b in itertools.pairwise(epochs))
    per_row = [e / n for e, n in zip(epochs, sizes, strict=True)]
    assert all(a > b for a, b in itertools.pairwise(per_row))
    # about 5,000 steps in between (one epoch of ceil(n / 200) steps)
    steps = [e * -(-n // 200) for e, n in zip(epochs, sizes, strict=True)]
    for s, n in zip(steps[2:4], sizes[2:4], strict=True):
        assert 5000 <= s < 5000 + -(-n // 200)


def test_fit_records_the_epochs_auto_chose(monkeypatch):
    # a small step target, so that the rule acts on a few hundred rows
    monkeypatch.setattr(VAE, "_auto_steps", 20)
    chosen = {}
    for n in (8, 40):
        model = tiny(VAE, max_iter="auto", batch_size=4, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(_rows(n))
        chosen[n] = model.max_iter_
        assert model.n_iter_ == len(model.history_) <= model.max_iter_
    # 2 steps an epoch: 10 epochs; 10 steps an epoch: 2, the floor
    assert chosen == {8: 10, 40: 2}


def test_integer_max_iter_is_unchanged_by_the_auto_rule(monkeypatch):
    X = _rows(60)
    before = tiny(VAE, max_iter=4).fit(X)
    monkeypatch.setattr(VAE, "_auto_steps", 1)
    monkeypatch.setattr(VAE, "_auto_epochs", (1, 1))
    after = tiny(VAE, max_iter=4, kl_warmup=10).fit(X)
    again = tiny(VAE, max_iter=4, kl_warmup=10).fit(X)
    assert before.max_iter_ == after.max_iter_ == 4 == after.n_iter_
    # the warm-up is not capped for an integer budget: beta still grows
    assert [r["beta"] for r in after.history_] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_array_equal(after.transform(X), again.transform(X))


def test_auto_caps_the_kl_warmup_at_a_quarter_of_the_budget(monkeypatch):
    monkeypatch.setattr(VAE, "_auto_steps", 8)
    monkeypatch.setattr(VAE, "_auto_epochs", (2, 8))
    model = tiny(VAE, max_iter="auto", batch_size=100, kl_warmup=100, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(_rows(100))  # one step per epoch: 8 epochs
    assert model.max_iter_ == 8
    betas = [r["beta"] for r in model.history_]
    assert betas == pytest.approx([0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])


def test_auto_budget_still_stops_on_convergence(monkeypatch):
    monkeypatch.setattr(VAE, "_auto_steps", 50)
    model = tiny(VAE, max_iter="auto", tol=1e6, n_iter_no_change=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(_rows(60))
    assert model.max_iter_ == 50
    # the first epoch improves on no loss at all, the next two do not
    assert model.n_iter_ == 3


def test_auto_budget_with_early_stopping_counts_the_training_rows(monkeypatch):
    monkeypatch.setattr(VAE, "_auto_steps", 40)
    model = tiny(VAE, max_iter="auto", batch_size=10, early_stopping=True, tol=1e6).fit(
        _rows(100)
    )
    assert model.max_iter_ == 5  # 90 training rows: 9 steps an epoch


def test_vq_prior_budget_is_auto_and_recorded(monkeypatch):
    monkeypatch.setattr(VQVAE, "_auto_steps", 12)
    X = np.random.RandomState(0).uniform(size=(40, 16))
    model = tiny(VQVAE, max_iter="auto", prior_max_iter="auto", batch_size=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    # 2 steps an epoch: 6 epochs of the autoencoder, 3 of the prior
    assert model.max_iter_ == 6
    assert model.prior_max_iter_ == 3 == len(model.prior_history_)
    fixed = tiny(VQVAE, prior_max_iter=2).fit(X)
    assert fixed.prior_max_iter_ == 2 == len(fixed.prior_history_)
    fixed.partial_fit(X)
    assert fixed.prior_max_iter_ == 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_makes_no_numpy_copy_the_size_of_the_data(dtype):
    # 140,000 rows: above the row count from which the variance floor is
    # computed block by block
    X = np.random.RandomState(0).normal(size=(140_000, 24)).astype(dtype)
    model = tiny(VAE, max_iter=0)
    tiny(VAE, max_iter=1).fit(X[:50])  # imports of a first fit are not traced
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        model.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * X.nbytes, (peak, X.nbytes)
