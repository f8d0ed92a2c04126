"""Synthetic tables: skvae against ctgan's TVAE and CTGAN and SDV's Gaussian copula.

Four tables that ship with scikit-learn, each with a column that is not a
number: iris (``species`` as a category), diabetes (``sex`` as strings, the
disease progression ``target`` as a number), wine (``class`` as a category)
and breast_cancer (``diagnosis`` as a category). Each table is split 80/20
(stratified on the class where there is one); every method is fitted on the
same 80% and asked for as many rows. Reported for each method and table:

- ``quality``: the SDMetrics quality report score (mean of ``shapes``, the
  column shapes, and ``pairs``, the column pair trends), synthetic against
  the real 80%;
- ``tstr``: train-synthetic-test-real, a gradient-boosting model fitted on
  the synthetic rows and scored on the real held-out 20% (accuracy for the
  class tables, R^2 for diabetes); ``trtr`` is the same model fitted on the
  real 80%;
- ``dcr``: the median distance from each synthetic row to its closest real
  training row (numbers standardised on the training rows, categories one-hot),
  and ``dcr_hold`` the same for the real held-out rows: a model that copies
  training rows has ``dcr`` far below ``dcr_hold``;
- ``fit_s``: the time to fit and draw the rows, in seconds (package imports
  excluded), and ``cpu_s`` the processor time this process spent on it: run
  with one thread (``OMP_NUM_THREADS=1 SKVAE_NUM_THREADS=1``, as ``make
  bench-synthetic`` sets), ``cpu_s`` is ``fit_s`` less the time spent waiting
  for a core, the steadier figure where other jobs share the machine.

skvae is run as the tabular synthesis recipe of the user guide ("Synthetic
tables"): ``skvae.synthesis.tabular_synthesizer(train)``, a ``VAE`` whose
number columns are ``"quantile"`` columns (scaled inside by their marginals),
fitted on the DataFrame, and ``sample(n, noise=True)``, which draws every
column from p(x | z). ``skvae_y`` is the same recipe told which column is the
class (``tabular_synthesizer(X, y)``, a ``ConditionalVAE``; rows drawn with
the training rows' class shares); on diabetes, whose target is a number, it
is the plain recipe. The comparators are at their default settings. SDV,
ctgan and sdmetrics need pandas < 3, so the benchmark has a virtual
environment of its own::

    make bench-synthetic BENCH_ARGS="--seeds 3"            # the README's figures
    make bench-synthetic BENCH_ARGS="--methods skvae copula --seeds 1"

Methods whose package is missing are reported as skipped; without sdmetrics
the quality columns are left empty.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors


# ------------------------------------------------------------------- tables
def _iris() -> tuple[pd.DataFrame, str]:
    frame = load_iris(as_frame=True).frame
    names = ["setosa", "versicolor", "virginica"]
    frame["species"] = pd.Categorical.from_codes(frame.pop("target"), names)
    return frame, "species"


def _diabetes() -> tuple[pd.DataFrame, str]:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map({1.0: "female", 2.0: "male"}).astype(object)
    frame["age"] = frame["age"].astype("int64")
    return frame, "target"


def _wine() -> tuple[pd.DataFrame, str]:
    frame = load_wine(as_frame=True).frame
    codes = frame.pop("target")
    frame["class"] = pd.Categorical.from_codes(codes, ["class_0", "class_1", "class_2"])
    return frame, "class"


def _breast_cancer() -> tuple[pd.DataFrame, str]:
    frame = load_breast_cancer(as_frame=True).frame
    codes = frame.pop("target")
    frame["diagnosis"] = pd.Categorical.from_codes(codes, ["malignant", "benign"])
    return frame, "diagnosis"


TABLES = {
    "iris": _iris,
    "diabetes": _diabetes,
    "wine": _wine,
    "breast_cancer": _breast_cancer,
}


def _discrete(frame: pd.DataFrame) -> list[str]:
    """The columns that are not numbers."""
    return [
        c
        for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c])
        or isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]


def _as_typed(rows: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """A comparator's rows with the columns and dtypes of the real table."""
    rows = rows[list(like.columns)].copy()
    for column in like.columns:
        dtype = like[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            rows[column] = pd.Categorical(rows[column].astype(str), dtype=dtype)
        elif pd.api.types.is_integer_dtype(dtype):
            rows[column] = np.rint(rows[column].astype(float)).astype(dtype)
        else:
            rows[column] = rows[column].astype(dtype)
    return rows


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories as plain strings (what ctgan and SDV read best)."""
    out = frame.copy()
    for column in _discrete(frame):
        out[column] = out[column].astype(str).astype(object)
    return out


# ------------------------------------------------------------------ methods
def fit_skvae(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The recipe: ``skvae.synthesis.tabular_synthesizer``, rows from p(x | z).

    Every number column is a ``"quantile"`` column (scaled inside the model
    by its marginal), the rest as the dtypes say; see the user guide,
    "Synthetic tables".
    """
    from skvae import tabular_synthesizer

    model = tabular_synthesizer(train, random_state=seed).fit(train)
    return model.sample(n, random_state=seed, noise=True)


def fit_skvae_y(train: pd.DataFrame, n: int, seed: int, target: str) -> pd.DataFrame:
    """The recipe with the class column as ``y``: a ConditionalVAE.

    Rows are drawn class by class, as many of each class as the training
    rows have (a regression target stays a column: the plain recipe).
    """
    from skvae import tabular_synthesizer

    if target not in _discrete(train):
        return fit_skvae(train, n, seed)
    X, y = train.drop(columns=target), train[target]
    model = tabular_synthesizer(X, y, random_state=seed).fit(X, y)
    labels = y.sample(n, replace=n > len(y), random_state=seed).to_numpy()
    rows = model.sample(n, random_state=seed, y=labels, noise=True)
    rows[target] = labels
    return rows


def _fit_ctgan_package(name: str, train: pd.DataFrame, n: int, seed: int):
    """Fit ``ctgan``'s model ``name`` (TVAE or CTGAN) at its defaults; draw n rows."""
    import ctgan
    import torch

    torch.manual_seed(seed)
    model = getattr(ctgan, name)()
    model.set_random_state(seed)
    model.fit(_plain(train), discrete_columns=_discrete(train))
    return model.sample(n)


def fit_tvae(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return _fit_ctgan_package("TVAE", train, n, seed)


def fit_ctgan(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return _fit_ctgan_package("CTGAN", train, n, seed)


def fit_copula(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    data = _plain(train)  # SDV seeds its own draws
    metadata = Metadata.detect_from_dataframes({"table": data})
    model = GaussianCopulaSynthesizer(metadata)
    model.fit({"table": data})
    rows = model.sample(num_rows=n)
    return rows["table"] if isinstance(rows, dict) else rows


METHODS = {
    "skvae": fit_skvae,
    "skvae_y": fit_skvae_y,
    "tvae": fit_tvae,
    "ctgan": fit_ctgan,
    "copula": fit_copula,
}
PACKAGES = {"tvae": "ctgan", "ctgan": "ctgan", "copula": "sdv"}


# ------------------------------------------------------------------ metrics
def quality(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[float, ...]:
    """SDMetrics quality report: (score, column shapes, column pair trends)."""
    try:
        with warnings.catch_warnings():  # deprecated for the multi-table one
            warnings.simplefilter("ignore", FutureWarning)
            from sdmetrics.reports.single_table import QualityReport
    except ImportError:
        return (np.nan, np.nan, np.nan)
    discrete = set(_discrete(real))
    metadata = {
        "columns": {
            c: {"sdtype": "categorical" if c in discrete else "numerical"}
            for c in real.columns
        }
    }
    report = QualityReport()
    report.generate(_plain(real), _plain(synthetic), metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return (
        float(report.get_score()),
        float(props["Column Shapes"]),
        float(props["Column Pair Trends"]),
    )


def _features(frame: pd.DataFrame, target: str, like: pd.DataFrame) -> np.ndarray:
    """Numbers and one-hot categories, columns fixed by the real table ``like``."""
    X = frame.drop(columns=target)
    parts = []
    for column in X.columns:
        if column in _discrete(like):
            levels = sorted(like[column].astype(str).unique())
            values = X[column].astype(str).to_numpy()
            parts.append(np.stack([values == v for v in levels], 1).astype(float))
        else:
            parts.append(X[[column]].to_numpy(dtype=float))
    return np.hstack(parts)


def efficacy(train: pd.DataFrame, test: pd.DataFrame, target: str, seed: int) -> float:
    """Gradient boosting fitted on ``train``, scored on the real ``test``."""
    X, X_test = _features(train, target, test), _features(test, target, test)
    if target in _discrete(test):
        y = train[target].astype(str).to_numpy()
        if len(np.unique(y)) < 2:
            return float(np.mean(test[target].astype(str).to_numpy() == y[0]))
        model = GradientBoostingClassifier(random_state=seed).fit(X, y)
        return accuracy_score(test[target].astype(str), model.predict(X_test))
    model = GradientBoostingRegressor(random_state=seed).fit(X, train[target])
    return r2_score(test[target], model.predict(X_test))


def closest(train: pd.DataFrame, rows: pd.DataFrame) -> float:
    """Median distance from each of ``rows`` to its closest training row."""
    numbers = [c for c in train.columns if c not in _discrete(train)]
    mean, std = train[numbers].mean(), train[numbers].std().replace(0, 1)

    def encode(frame: pd.DataFrame) -> np.ndarray:
        parts = [((frame[numbers] - mean) / std).to_numpy(dtype=float)]
        for column in _discrete(train):
            levels = sorted(train[column].astype(str).unique())
            values = frame[column].astype(str).to_numpy()
            parts.append(np.stack([values == v for v in levels], 1).astype(float))
        return np.hstack(parts)

    nn = NearestNeighbors(n_neighbors=1).fit(encode(train))
    distance, _ = nn.kneighbors(encode(rows))
    return float(np.median(distance[:, 0]))


# --------------------------------------------------------------------- main
def run(table: str, method: str, seed: int) -> dict:
    frame, target = TABLES[table]()
    stratify = frame[target] if target in _discrete(frame) else None
    train, test = train_test_split(
        frame, test_size=0.2, random_state=seed, stratify=stratify
    )
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extra = (target,) if method == "skvae_y" else ()
        rows = METHODS[method](train, len(train), seed, *extra)
    fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    rows = _as_typed(rows, train)
    score, shapes, pairs = quality(train, rows)
    return dict(
        table=table,
        method=method,
        seed=seed,
        quality=score,
        shapes=shapes,
        pairs=pairs,
        tstr=efficacy(rows, test, target, seed),
        trtr=efficacy(train, test, target, seed),
        dcr=closest(train, rows),
        dcr_hold=closest(train, test),
        fit_s=fit_s,
        cpu_s=cpu_s,
    )


def _available(method: str) -> bool:
    package = PACKAGES.get(method)
    if package is None:
        return True
    try:
        __import__(package)
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args(argv)
    import torch  # every method trains with torch's Adam: import it untimed

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    records = []
    for method in args.methods:
        if not _available(method):
            print(f"skipped {method}: {PACKAGES[method]} is not installed")
            continue
        __import__(PACKAGES.get(method, "skvae.synthesis"))  # imports untimed
        for table in args.tables:
            for seed in range(args.seeds):
                record = run(table, method, seed)
                print(
                    f"{table:14s} {method:7s} seed {seed}: quality "
                    f"{record['quality']:.3f} tstr {record['tstr']:.3f} "
                    f"dcr {record['dcr']:.2f}/{record['dcr_hold']:.2f} "
                    f"fit {record['fit_s']:.1f}s (cpu {record['cpu_s']:.1f}s)",
                    flush=True,
                )
                records.append(record)
    results = pd.DataFrame(records)
    if results.empty:
        return results
    summary = results.groupby(["table", "method"], sort=False).mean(numeric_only=True)
    summary = summary.drop(columns="seed")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(summary.round(3).to_string())
    return summary


if __name__ == "__main__":
    main()
