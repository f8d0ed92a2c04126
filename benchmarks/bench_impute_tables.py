"""VAEImputer on pandas DataFrames of number, boolean and category columns.

Four tables built from scikit-learn's bundled sets, each with real-valued
columns, a boolean column and one or two category columns (the class, or a
binned column): diabetes (sex a category, s4 above its median a boolean),
iris (species; petal width above 1 a boolean), wine (its class; column 6
above its median) and breast cancer (diagnosis and a three-level grade;
column 3 above its median). Entries are hidden completely at random (10%
and 30%, the first column kept in rows that would lose every entry), and
each table is imputed by ``VAEImputer`` at its defaults and by
``SimpleImputer`` (the mean of a number column, the most frequent value of
the others) as a reference. Reported, as the mean over seeds: the RMSE of
the real-valued holes (each column divided by its standard deviation) and
the share of boolean and category holes filled with the right value. Run
with::

    python benchmarks/bench_impute_tables.py            # --seeds 3

Compare two versions of skvae by running it with ``PYTHONPATH`` set to each.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.impute import SimpleImputer

from skvae import VAEImputer


def tables():
    """(name, DataFrame) of each table."""
    d = load_diabetes(scaled=False)
    X = d.data
    yield "diabetes", pd.DataFrame({
        "age": X[:, 0], "sex": pd.Categorical(np.where(X[:, 1] == 2, "M", "F")),
        "bmi": X[:, 2], "bp": X[:, 3], "s1": X[:, 4], "s5": X[:, 8],
        "high_s4": X[:, 7] > np.median(X[:, 7]), "target": d.target,
    })  # fmt: skip
    i = load_iris()
    X = i.data
    yield "iris", pd.DataFrame({
        "sl": X[:, 0], "sw": X[:, 1], "pl": X[:, 2], "pw": X[:, 3],
        "wide": X[:, 3] > 1.0,
        "species": pd.Categorical(np.array(i.target_names)[i.target]),
    })  # fmt: skip
    w = load_wine()
    X = w.data
    yield "wine", pd.DataFrame({
        **{f"c{j}": X[:, j] for j in range(6)},
        "rich": X[:, 6] > np.median(X[:, 6]),
        "cls": pd.Categorical(np.array(["a", "b", "c"])[w.target]),
    })  # fmt: skip
    b = load_breast_cancer()
    X = b.data
    edges = np.quantile(X[:, 9], [0.33, 0.66])
    yield "cancer", pd.DataFrame({
        **{f"c{j}": X[:, j] for j in range(8)},
        "big": X[:, 3] > np.median(X[:, 3]),
        "dx": pd.Categorical(np.array(["m", "b"])[b.target]),
        "grade": pd.Categorical(np.digitize(X[:, 9], edges)),
    })  # fmt: skip


def with_holes(frame, rate, seed):
    """A copy of ``frame`` with ``rate`` of its entries missing, and the mask."""
    rng = np.random.default_rng(seed)
    mask = rng.uniform(size=frame.shape) < rate
    mask[mask.all(axis=1), 0] = False
    holes = frame.copy()
    for j, column in enumerate(frame.columns):
        if frame[column].dtype == bool:
            holes[column] = holes[column].astype("boolean")
            holes.loc[mask[:, j], column] = pd.NA
        else:
            holes.loc[mask[:, j], column] = np.nan
    return holes, mask


def scores(frame, filled, mask):
    """(RMSE of the real holes, share of the other holes right)."""
    errors, right = [], []
    for j, column in enumerate(frame.columns):
        m = mask[:, j]
        if not m.any():
            continue
        truth = frame[column]
        if truth.dtype.kind == "f":
            guess = np.asarray(filled[column], dtype=float)[m]
            errors.append(np.mean(((guess - truth.to_numpy()[m]) / truth.std()) ** 2))
        else:
            guess = np.asarray(filled[column]).astype(str)[m]
            right.append(np.mean(guess == truth.astype(str).to_numpy()[m]))
    return float(np.sqrt(np.mean(errors))), float(np.mean(right))


def simple(holes):
    """SimpleImputer: a number column's mean, another's most frequent value."""
    out = holes.copy()
    for column in holes.columns:
        strategy = "mean" if holes[column].dtype.kind == "f" else "most_frequent"
        values = holes[[column]].astype(object if strategy != "mean" else float)
        if strategy != "mean":
            values = values.where(values.notna(), np.nan)
        out[column] = SimpleImputer(strategy=strategy).fit_transform(values)[:, 0]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rates", nargs="+", type=float, default=[0.1, 0.3])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print(f"{'table':10s} {'rate':>5s} {'VAEImputer':>22s} {'SimpleImputer':>22s}")
    print(f"{'':10s} {'':5s} {'real RMSE / right':>22s} {'real RMSE / right':>22s}")
    for name, frame in tables():
        for rate in args.rates:
            vae, ref = [], []
            for seed in range(args.seeds):
                holes, mask = with_holes(frame, rate, seed)
                imputer = VAEImputer(random_state=seed).set_output(transform="pandas")
                vae.append(scores(frame, imputer.fit_transform(holes), mask))
                ref.append(scores(frame, simple(holes), mask))
            v, r = np.mean(vae, axis=0), np.mean(ref, axis=0)
            print(
                f"{name:10s} {rate:5.0%} {v[0]:13.4f} / {v[1]:.3f} "
                f"{r[0]:13.4f} / {r[1]:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
