import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def pytest_configure(config):
    """One compute thread a worker under pytest-xdist (``make test``: ``-n 2``).

    The workers already share the cores; each computing on every core
    would oversubscribe them. A run without xdist keeps the defaults.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(1)
        threadpool_limits(limits=1)  # set now, for the worker's lifetime


def load_benchmark(name):
    """A module of ``benchmarks/`` (by its file name, without ``.py``).

    Imported by its path, with ``benchmarks/`` on ``sys.path`` while it runs
    (the suites import ``_suites``), and registered in ``sys.modules`` so that
    its dataclasses and pickles resolve.
    """
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


@pytest.fixture(scope="session")
def digits():
    """Scikit-learn's bundled 8x8 digits, pixels scaled to [0, 1]."""
    data = load_digits()
    return data.data / 16.0, data.target


@pytest.fixture
def small_X():
    return np.random.RandomState(0).normal(size=(40, 6))


# Settings, by class name, that make each estimator fit in milliseconds on
# small data (beside the generic ones in ``tiny``); estimators not named here
# take the generic ones only.
TINY_SETTINGS = {
    "VAEOutlierDetector": dict(n_importance_samples=4),
    "VAEImputer": dict(n_importance_samples=4),
    "VaDE": dict(n_clusters=3, pretrain_max_iter=2),
    "VQVAE": dict(
        n_codes=4, code_dim=2, n_positions=2, prior_max_iter=1, prior_channels=4
    ),
    "VQVAE2": dict(
        n_codes=4, code_dim=2, n_positions=2, prior_max_iter=1, prior_channels=4
    ),
    "WAE": dict(hidden_layer_sizes=(16,), max_iter=5),
    "AdversarialAE": dict(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(8,), max_iter=5
    ),
    "HierarchicalVAE": dict(
        n_components=(4, 2),
        hidden_layer_sizes=(16,),
        max_iter=5,
        latent_hidden_layer_sizes=(8,),
    ),
    "LadderVAE": dict(
        n_components=(4, 2),
        hidden_layer_sizes=(16,),
        max_iter=5,
        latent_hidden_layer_sizes=(8,),
    ),
    # A classifier must reach 83% training accuracy in check_classifiers_train.
    "SemiSupervisedVAE": dict(hidden_layer_sizes=(16,), batch_size=32, max_iter=20),
}


# The model a meta-estimator's ``estimator`` parameter takes, when not a VAE.
TINY_INNER = {"VAEOverSampler": "ConditionalVAE"}


def estimator_classes(samplers=False):
    """Every public skvae estimator, from the one list (``skvae.__all__``).

    Samplers (``fit_resample``, such as ``VAEOverSampler``) are left out
    unless ``samplers=True``: the suites that use this list call methods on
    rows (``transform``, ``score_samples``, ``predict``), which a sampler
    does not have. scikit-learn's checks (tests/test_common.py) and the
    parameter checks (tests/test_parameters.py) take them; the rest of a
    sampler's contract (bad values, failed fits, sparse input) is in its own
    test file (tests/test_oversample.py).
    """
    from skvae.persistence import _registry

    return [
        cls
        for _, cls in sorted(_registry().items())
        if samplers or not hasattr(cls, "fit_resample")
    ]


def tiny(cls, **params):
    """Any skvae estimator at settings that fit in milliseconds."""
    import skvae

    taken = cls().get_params(deep=False)
    generic = dict(
        n_components=2,
        hidden_layer_sizes=(8,),
        max_iter=3,
        kl_warmup=0,
        random_state=0,
        device="cpu",
    )
    settings = {k: v for k, v in generic.items() if k in taken}
    if "estimator" in taken:
        settings["estimator"] = tiny(
            getattr(skvae, TINY_INNER.get(cls.__name__, "VAE"))
        )
    settings.update(TINY_SETTINGS.get(cls.__name__, {}))
    settings.update(params)
    return cls(**settings)


def tiny_vae(cls=None, **params):
    """A VAE (or another skvae model) that fits in milliseconds, for contract tests."""
    from skvae import VAE

    cls = cls or VAE
    settings = dict(
        n_components=2,
        hidden_layer_sizes=(8,),
        max_iter=3,
        kl_warmup=0,
        random_state=0,
        device="cpu",
    )
    settings.update(params)
    return cls(**settings)


# Real mixed-type tables (pandas is in the test extra).
SPECIES = ["setosa", "versicolor", "virginica"]


def iris_table():
    """Iris with ``species`` as a pandas ``category`` column."""
    import pandas as pd
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame["species"] = pd.Categorical.from_codes(frame.pop("target"), SPECIES)
    return frame


def diabetes_table():
    """The raw diabetes table, ``sex`` as strings and ``age`` as integers."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map({1.0: "female", 2.0: "male"}).astype(str)
    frame["age"] = frame["age"].astype("int64")
    return frame


def stopped_by_the_rule(losses, patience, tol):
    """The stop rule: ``patience`` epochs in a row without a gain of ``tol``
    over the best loss before each, first reached at the last epoch."""
    best, without, stopped_at = np.inf, 0, None
    for epoch, loss in enumerate(losses):
        without = 0 if loss < best - tol else without + 1
        best = min(best, loss)
        if without >= patience:
            stopped_at = epoch
            break
    assert stopped_at == len(losses) - 1
