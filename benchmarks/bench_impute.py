"""Imputation of tables with holes: VAEImputer against scikit-learn's imputers.

Tables that ship with scikit-learn (breast_cancer, wine, diabetes, digits as a
table of 64 pixel columns). For each table, missing rate (10%, 30%, 50%) and
seed, entries are removed completely at random (MCAR; every row and column
keeps at least one observed entry), each imputer is fitted on the table with
holes and fills them, and the RMSE on the removed entries is computed on the
standardised scale (each column divided by its standard deviation in the
complete table). Reported: the mean RMSE over the seeds, the mean fit and
transform time, and VAEImputer's time over IterativeImputer's (measured in the
same run), in wall and in CPU (process) time, for each table and rate and
for each table over its rates. One small
fit before the timings pays the one-off imports (torch's optimiser imports
sympy on its first use, seconds). Run with::

    python benchmarks/bench_impute.py     # --seeds 3 --tables wine --rates 0.3 0.5
    python benchmarks/bench_impute.py --quick      # one seed, two tables
    python benchmarks/bench_impute.py --first-seed 3   # seeds 3, 4, 5

Targets: VAEImputer has the lowest RMSE at 30% and 50% missing on most tables
and beats SimpleImputer everywhere (issue #8), in no more than 3x
IterativeImputer's time on each table (issue #26), and on each table and rate
(the worst ratio is printed last among the times).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
    make_regression,
    make_swiss_roll,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from skvae import VAEImputer

TABLES = {
    "breast_cancer": lambda: load_breast_cancer().data,
    "wine": lambda: load_wine().data,
    "diabetes": lambda: load_diabetes(scaled=False).data,
    "digits": lambda: load_digits().data,
}


def _low_rank(n=200, d=8, rank=3, seed=100):
    """Generated: a linear table of ``rank`` factors (3 of 8 columns) plus noise."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d)) + 0.3 * rng.normal(
        size=(n, d)
    )


def _curve(n=300, d=6, seed=101):
    """Generated: a 1-D curve through ``d`` (6) columns (nonlinear), plus noise."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-2, 2, size=(n, 1))
    freq = rng.uniform(0.5, 2.0, size=d)
    phase = rng.uniform(0, np.pi, size=d)
    return np.sin(t * freq + phase) + 0.1 * rng.normal(size=(n, d))


def _equicorrelated(n=120, d=4, seed=11):
    """Generated: Gaussian columns, each pair correlated 0.5 (linear, small)."""
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.zeros(d), 0.5 * np.eye(d) + 0.5, size=n)


def _regression(n, seed):
    """Generated: make_regression's 15 columns (effective rank 5) and its target."""
    X, y = make_regression(
        n, n_features=15, n_informative=8, effective_rank=5, tail_strength=0.3,
        noise=5.0, random_state=seed,
    )  # fmt: skip
    return np.hstack([X, y[:, None]])


def _mixed(n=800, seed=203):
    """Generated: 4 real columns, 2 counts, 2 0/1 columns, a 1-5 rating; 2 factors."""
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, 2))
    real = F @ rng.normal(size=(2, 4)) + 0.3 * rng.normal(size=(n, 4))
    counts = rng.poisson(np.exp(0.8 + 0.5 * F @ rng.normal(size=(2, 2))))
    flags = F @ rng.normal(size=(2, 2)) + 0.5 * rng.normal(size=(n, 2)) > 0
    rating = np.round(3 + 1.2 * F[:, :1] + 0.5 * rng.normal(size=(n, 1)))
    return np.hstack([real, counts, flags.astype(float), np.clip(rating, 1, 5)])


def _with_class(n=800, seed=306):
    """Generated: make_classification's 5 columns and its 3 classes, one-hot."""
    X, y = make_classification(
        n, 5, n_informative=4, n_redundant=1, n_classes=3,
        n_clusters_per_class=1, random_state=seed,
    )  # fmt: skip
    return np.hstack([X, np.eye(3)[y]])


def _binary_target(n=2000, seed=301):
    """Generated: make_classification's 20 columns and its 0/1 class."""
    X, y = make_classification(
        n, 20, n_informative=6, n_redundant=6, flip_y=0.05, random_state=seed
    )
    return np.hstack([X, y[:, None].astype(float)])


def _diabetes_mixed():
    """Diabetes, raw: sex and s4 (above its median) as 0/1, age / 5 rounded."""
    X = load_diabetes(scaled=False).data.copy()
    X[:, 1] = (X[:, 1] == 2).astype(float)
    X[:, 7] = (X[:, 7] > np.median(X[:, 7])).astype(float)
    X[:, 0] = np.round(X[:, 0] / 5)
    return X


def _iris_species():
    """Iris and its species, one-hot (classes as clusters: not linear)."""
    X, y = load_iris(return_X_y=True)
    return np.hstack([X, np.eye(3)[y]])


# Tables outside the benchmark's targets, to check that its rules carry over
# (``--tables iris low_rank curve``; and other sizes of generated tables,
# ``--tables low_rank_100x6 low_rank_400x12 curve_150x5 gauss_120x4``).
OTHER_TABLES = {
    "iris": lambda: load_iris().data,
    "low_rank": _low_rank,
    "curve": _curve,
    "low_rank_100x6": lambda: _low_rank(100, 6, 2, seed=7),
    "low_rank_400x12": lambda: _low_rank(400, 12, 4, seed=8),
    "curve_150x5": lambda: _curve(150, 5, seed=10),
    "gauss_120x4": _equicorrelated,
    # many rows, few columns (IterativeImputer's cheapest case); the default
    # VAE trains on 4,096 rows of these
    "curve_10000x4": lambda: _curve(10000, 4, seed=12),
    "curve_10000x8": lambda: _curve(10000, 8, seed=13),
    "low_rank_10000x4": lambda: _low_rank(10000, 4, 2, seed=14),
    "curve_30000x8": lambda: _curve(30000, 8, seed=15),
    # a few thousand rows of 3 to 5 columns: close to linear-Gaussian tables
    # (IterativeImputer converges in a few rounds) and a nonlinear one
    "gauss_3000x3": lambda: _equicorrelated(3000, 3, seed=31),
    "gauss_5000x5": lambda: _equicorrelated(5000, 5, seed=35),
    "low_rank_2000x3": lambda: _low_rank(2000, 3, 1, seed=32),
    "curve_3000x3": lambda: _curve(3000, 3, seed=33),
    # a roll in 3-D: nothing helps much (every RMSE about 1)
    "swiss_3000": lambda: make_swiss_roll(3000, noise=0.2, random_state=4)[0],
    # issue 26's held-out check: the three tables over 3x at 50% missing then
    # (``--seeds 2 --first-seed 5``; the Gaussian's EM on every row, and a
    # table of counts and 0/1 columns where IterativeImputer stops early)
    "low_rank_5000x20": lambda: _low_rank(5000, 20, 5, seed=201),
    "regress_3000x16": lambda: _regression(3000, seed=207),
    "mixed_800x9": _mixed,
    # 0/1 and one-hot columns beside real ones (a helper's held-out probe,
    # 2026-12-07: over 3x where the Gaussian left them out), ``--seeds 2``
    "clf3_onehot_800x8": _with_class,
    "clf_bin_2000x21": _binary_target,
    "diab_mixed_442x10": _diabetes_mixed,
    "iris_species": _iris_species,
}


def make_holes(X, rate, seed):
    """X with ``rate`` of its entries set to NaN at random (MCAR)."""
    rng = np.random.default_rng(seed)
    mask = rng.uniform(size=X.shape) < rate
    # keep one observed entry per row and per column
    for i in np.flatnonzero(mask.all(axis=1)):
        mask[i, rng.integers(X.shape[1])] = False
    for j in np.flatnonzero(mask.all(axis=0)):
        mask[rng.integers(X.shape[0]), j] = False
    holes = X.copy()
    holes[mask] = np.nan
    return holes, mask


def imputers(seed):
    """The competitors, fresh for one run."""
    return {
        "VAEImputer": VAEImputer(random_state=seed),
        "IterativeImputer": IterativeImputer(max_iter=25, random_state=seed),
        "KNNImputer": KNNImputer(),
        "SimpleImputer(mean)": SimpleImputer(strategy="mean"),
    }


cpu_times = {}  # (table, rate, imputer): CPU seconds of each fit + transform


def run(tables, rates, seeds):
    """Mean RMSE and time of every imputer on every table and rate."""
    warm = np.random.default_rng(0).normal(size=(30, 3))
    warm[0, 0] = np.nan
    VAEImputer(random_state=0).fit_transform(warm)  # one-off imports
    results = {}
    cpu_times.clear()
    for table in tables:
        X = {**TABLES, **OTHER_TABLES}[table]().astype(np.float64)
        X = X[:, X.std(axis=0) > 0]  # constant pixels carry nothing to impute
        scale = X.std(axis=0)
        for rate in rates:
            for seed in seeds:
                holes, mask = make_holes(X, rate, seed)
                for name, imputer in imputers(seed).items():
                    start, cpu = time.perf_counter(), time.process_time()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        filled = imputer.fit_transform(holes)
                    seconds = time.perf_counter() - start
                    cpu = time.process_time() - cpu
                    error = ((filled - X) / scale)[mask]
                    rmse = float(np.sqrt(np.mean(error**2)))
                    results.setdefault((table, rate, name), []).append((rmse, seconds))
                    cpu_times.setdefault((table, rate, name), []).append(cpu)
    return results


def cpu_ratio(table, rates):
    """VAEImputer's CPU time over IterativeImputer's on a table at these rates."""
    vae, it = (
        sum(sum(cpu_times[(table, rate, name)]) for rate in rates)
        for name in ("VAEImputer", "IterativeImputer")
    )
    return vae / it


def report(results, tables, rates):
    names = list(imputers(0))
    head = " ".join(f"{n:>20s}" for n in names)
    print(f"{'table':14s} {'missing':>7s} {head} {'wall ratio':>10s} {'CPU ratio':>9s}")
    wins = {rate: 0 for rate in rates}
    beats_mean, worst = True, 0.0
    for table in tables:
        for rate in rates:
            means = {
                n: np.mean([r for r, _ in results[(table, rate, n)]]) for n in names
            }
            times = {
                n: np.mean([t for _, t in results[(table, rate, n)]]) for n in names
            }
            best = min(means, key=means.get)
            wins[rate] += best == "VAEImputer"
            beats_mean &= means["VAEImputer"] < means["SimpleImputer(mean)"]
            cells = " ".join(
                f"{means[n]:>10.4f}{'*' if n == best else ' '} ({times[n]:5.2f}s)"
                for n in names
            )
            ratio = times["VAEImputer"] / times["IterativeImputer"]
            cpu = cpu_ratio(table, [rate])
            worst = max(worst, ratio, cpu)
            print(f"{table:14s} {rate:>7.0%} {cells} {ratio:>9.1f}x {cpu:>8.1f}x")
    print("\n* lowest RMSE. RMSE on the removed entries, standardised scale;")
    print("  mean over seeds; time is fit + transform; wall and CPU ratio:")
    print("  VAEImputer's time over IterativeImputer's (CPU: process time, less")
    print("  disturbed by other work on the machine).")
    ratios = {}
    for table in tables:
        total = {
            n: sum(t for rate in rates for _, t in results[(table, rate, n)])
            for n in ("VAEImputer", "IterativeImputer")
        }
        ratios[table] = total["VAEImputer"] / total["IterativeImputer"]
    print(
        "VAEImputer's time over IterativeImputer's, each table over its rates: "
        + ", ".join(f"{t} {r:.1f}x" for t, r in ratios.items())
    )
    cpu = {t: cpu_ratio(t, rates) for t in tables}
    print("The same in CPU time: " + ", ".join(f"{t} {r:.1f}x" for t, r in cpu.items()))
    print(f"Within 3x on every table: {all(r <= 3 for r in ratios.values())}")
    print(f"Worst ratio of a single table and rate (wall or CPU): {worst:.1f}x")
    for rate in rates:
        print(f"VAEImputer lowest at {rate:.0%}: {wins[rate]} of {len(tables)} tables")
    print(f"VAEImputer beats SimpleImputer(mean) everywhere: {beats_mean}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tables",
        nargs="+",
        default=list(TABLES),
        choices=[*TABLES, *OTHER_TABLES],
        help="the benchmark's tables (default) or others: " + ", ".join(OTHER_TABLES),
    )
    parser.add_argument("--rates", nargs="+", type=float, default=[0.1, 0.3, 0.5])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds first-seed, first-seed + 1, ... (other seeds than the "
        "benchmark's 0, 1, 2: other holes, as a held-out check would make)",
    )
    parser.add_argument("--quick", action="store_true", help="one seed, two tables")
    args = parser.parse_args()
    tables = args.tables
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.quick:
        tables, seeds = ["wine", "diabetes"], [0]
    results = run(tables, args.rates, seeds)
    report(results, tables, args.rates)


if __name__ == "__main__":
    main()
