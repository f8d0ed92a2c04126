"""Many searches: GridSearchCV over skvae estimators on a Dask cluster."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skvae import VAE
from skvae._torch import worker_threads as _worker_threads


def test_grid_search_on_a_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    X = load_digits().data[:300] / 16.0
    search = GridSearchCV(
        VAE(hidden_layer_sizes=(16,), max_iter=3, random_state=0, device="cpu"),
        {"beta": [0.5, 1.0], "n_components": [2, 4]},
        cv=2,
        n_jobs=-1,
    )
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        search.fit(X)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.transform(X).shape[0] == 300


def test_torch_threads_are_capped_in_workers(monkeypatch):
    import torch

    monkeypatch.delenv("SKVAE_NUM_THREADS", raising=False)
    assert _worker_threads(in_worker=False) is None  # the main process: torch's own
    assert _worker_threads(in_worker=True) == 1  # a worker: one thread by default
    monkeypatch.setenv("SKVAE_NUM_THREADS", "3")
    assert _worker_threads(in_worker=True) == 3
    assert _worker_threads(in_worker=False) == 3
    before = torch.get_num_threads()
    X = np.random.default_rng(0).uniform(size=(20, 4))
    VAE(n_components=2, max_iter=1, random_state=0).fit(X)
    assert torch.get_num_threads() == before  # restored after fit


def test_bfloat16_autocast_path_trains_on_cpu():
    """The GPU fast path's mixed precision, exercised on the CPU."""
    X = load_digits().data[:400] / 16.0
    settings = dict(
        n_components=4, hidden_layer_sizes=(64,), max_iter=8, random_state=0
    )
    full = VAE(**settings, precision="float32").fit(X)
    mixed = VAE(**settings, precision="bfloat16").fit(X)
    assert mixed.loss_curve_[-1] < mixed.loss_curve_[0]
    # bfloat16 networks, float32 losses: close to the float32 run, not equal
    assert abs(mixed.loss_curve_[-1] - full.loss_curve_[-1]) < 0.05 * abs(
        full.loss_curve_[-1]
    )
    assert mixed.transform(X).dtype == X.dtype
    assert np.isfinite(mixed.score_samples(X)).all()
