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

Each configuration runs in a fresh process (workers inherit its environment)
and starts its workers with a small search before the timed one.

Run it on an idle machine::

    python benchmarks/bench_parallel.py
"""

from __future__ import annotations

import os
import subprocess
import sys
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


def run_one(config, cores):
    """Time one configuration in this process, after warming its workers up."""
    X = load_digits().data / 16.0
    if config == "serial":
        return timed(lambda: search(1).fit(X))
    if config == "dask":
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=cores, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster),
            joblib.parallel_backend("dask"),
        ):
            search(-1).set_params(param_grid={"beta": [1.0]}, cv=2).fit(X[:100])
            return timed(lambda: search(-1).fit(X))
    # loky: start the workers (and their torch import) before timing
    search(cores).set_params(param_grid={"beta": [1.0]}, cv=2).fit(X[:100])
    return timed(lambda: search(cores).fit(X))


def main():
    cores = os.cpu_count() or 1
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(run_one(sys.argv[2], cores))
        return
    configs = [
        ("serial, n_jobs=1", "serial", None),
        (f"loky n_jobs={cores}, 1 thread/worker", "loky", None),
        (f"loky n_jobs={cores}, {cores} threads/worker", "loky", str(cores)),
        (f"dask LocalCluster, {cores} workers", "dask", None),
    ]
    rows = []
    for name, config, threads in configs:
        env = dict(os.environ)
        env.pop("SKVAE_NUM_THREADS", None)
        if threads:
            env["SKVAE_NUM_THREADS"] = threads
        # a fresh process per configuration: workers inherit its environment
        out = subprocess.run(
            [sys.executable, __file__, "--one", config],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = (
            float(out.stdout.strip().splitlines()[-1])
            if out.returncode == 0
            else float("nan")
        )
        rows.append((name, seconds))
    reference = rows[0][1]
    print(f"{'run':40s} {'seconds':>8s} {'speed-up':>9s}")
    for name, seconds in rows:
        print(f"{name:40s} {seconds:8.1f} {reference / seconds:8.2f}x")


if __name__ == "__main__":
    main()
