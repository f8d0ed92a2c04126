"""Parallel searches: GridSearchCV over VAE with capped and uncapped torch threads.

Each parallel worker fits one model. skvae gives a fit inside a joblib (loky)
or Dask worker one torch thread unless ``SKVAE_NUM_THREADS`` says otherwise,
so that the workers together use the cores once instead of each using all of
them. The search (4 candidates x 3 folds of a VAE on the 1,797 digits) runs:

* serially (``n_jobs=1``, torch's own thread count) as the reference;
* on loky workers (``n_jobs`` = cores) with skvae's cap, one thread each;
* on loky workers with ``SKVAE_NUM_THREADS`` = cores: every worker uses every
  core (oversubscription, what happens without the cap);
* on a Dask ``LocalCluster`` with one worker process per core (if installed).

Run it on an idle machine::

    python benchmarks/bench_parallel.py
"""

from __future__ import annotations

import os
import time
import warnings

import joblib
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skvae import VAE


def search(n_jobs):
    return GridSearchCV(
        VAE(hidden_layer_sizes=(128, 64), max_iter=15, random_state=0, device="cpu"),
        {"beta": [0.5, 1.0], "n_components": [4, 8]},
        cv=3,
        n_jobs=n_jobs,
    )


def timed(run):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        run()
    return time.perf_counter() - start


def main():
    X = load_digits().data / 16.0
    cores = os.cpu_count() or 1
    rows = []
    rows.append(("serial, n_jobs=1", timed(lambda: search(1).fit(X))))
    os.environ.pop("SKVAE_NUM_THREADS", None)
    rows.append(
        (f"loky n_jobs={cores}, 1 thread/worker", timed(lambda: search(cores).fit(X)))
    )
    os.environ["SKVAE_NUM_THREADS"] = str(cores)
    rows.append(
        (
            f"loky n_jobs={cores}, {cores} threads/worker",
            timed(lambda: search(cores).fit(X)),
        )
    )
    os.environ.pop("SKVAE_NUM_THREADS", None)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        rows.append(("dask LocalCluster", float("nan")))
    else:
        with (
            LocalCluster(
                n_workers=cores, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster),
        ):

            def on_dask():
                with joblib.parallel_backend("dask"):
                    search(-1).fit(X)

            rows.append((f"dask LocalCluster, {cores} workers", timed(on_dask)))
    reference = rows[0][1]
    print(f"{'run':40s} {'seconds':>8s} {'speed-up':>9s}")
    for name, seconds in rows:
        print(f"{name:40s} {seconds:8.1f} {reference / seconds:8.2f}x")


if __name__ == "__main__":
    main()
