"""Column types of tabular data: inference, user specifications and checks.

The estimators' ``likelihood`` parameter is a name ("gaussian", "bernoulli"),
"auto", or a dict ``{type: columns}``; this module turns the last two into
blocks ``[(type, [column indices]), ...]`` that
:class:`skvae.nn.likelihoods.MixedLikelihood` is built from.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis

from skvae._sklearn_compat import StrOptions
from skvae.nn.likelihoods import (
    COLUMN_TYPES,
    LIKELIHOODS,
    Likelihood,
    MixedLikelihood,
    make_likelihood,
)

Blocks = list[tuple[str, list[int]]]

#: Rows densified at once when a sparse matrix's values are checked.
_SPARSE_ROWS = 4096

#: ``_parameter_constraints`` entry of ``likelihood`` on every estimator.
LIKELIHOOD_CONSTRAINT = [StrOptions(set(LIKELIHOODS) | {"auto"}), dict]


def _is_binary(column: np.ndarray) -> bool:
    seen = column[~np.isnan(column)]
    return seen.size > 0 and bool(np.all((seen == 0) | (seen == 1)))


def _column(X: Any, j: int) -> np.ndarray:
    """Column ``j`` as a dense 1-D array (of a sparse matrix: that column only)."""
    if sp.issparse(X):
        return X[:, [j]].toarray().ravel()
    return X[:, j]


def _group_rows(width: int) -> int:
    """Complete rows that a one-hot group of ``width`` columns must show.

    Each with exactly one 1, where the group has holes (without: its rows).
    Independent 0/1 columns with holes (a skip pattern: one of two answered
    in most rows) show one 1 in a complete row by chance: two fair coins in
    1 of 2 rows (three complete rows, 1 in 8, made two such columns a group),
    ``width`` columns of rate 1 / ``width`` in about 2 of 5. So five rows for
    two columns, four for three, three for more: a chance of at most about
    1 in 16, while a wide group with many holes keeps enough complete rows.
    """
    return max(3, 7 - width)


def _one_hot_group_end(X: np.ndarray, start: int, binary: np.ndarray) -> int | None:
    """End (exclusive) of the shortest one-hot group starting at ``start``.

    Adjacent 0/1 columns whose complete rows (at least :func:`_group_rows`
    of them, or every row) each hold exactly one 1, and no row more than one.
    """
    total = np.zeros(X.shape[0])
    ones = np.zeros(X.shape[0])  # the observed 1s of each row
    for end in range(start, X.shape[1]):
        if not binary[end]:
            return None
        column = _column(X, end)
        total = total + column
        ones = ones + np.nan_to_num(column)
        if np.any(ones > 1):  # more columns cannot mend a row of two 1s
            return None
        complete = ~np.isnan(total)
        enough = complete.sum() >= min(_group_rows(end + 1 - start), X.shape[0])
        if end > start and enough and np.all(total[complete] == 1):
            return end + 1
    return None


def infer_column_types(X: np.ndarray, columns: Sequence[int] | None = None) -> Blocks:
    """Column types that are safe to read off the data.

    One-hot groups (adjacent 0/1 columns with exactly one 1 per row, as
    ``OneHotEncoder`` writes them) are categorical, other 0/1 columns are
    binary (Bernoulli), and every other column is Gaussian. Counts are never
    inferred: integer columns are as often ages, ratings or pixel levels;
    declare counts with ``{"poisson": [...]}`` or ``{"negbin": [...]}``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data (NaN allowed: it is ignored).
    columns : sequence of int, optional
        Only these columns (default: all).

    Returns
    -------
    blocks : list of (str, list of int)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.3, 1, 0, 0, 1], [1.2, 0, 1, 0, 0], [-0.5, 0, 0, 1, 1.0]])
    >>> infer_column_types(X)
    [('gaussian', [0]), ('bernoulli', [4]), ('categorical', [1, 2, 3])]
    """
    wanted = set(range(X.shape[1]) if columns is None else columns)
    if sp.issparse(X):  # read a column at a time, never the whole matrix
        X = sp.csc_matrix(X)
    binary = np.array([_is_binary(_column(X, j)) for j in range(X.shape[1])])
    gaussian, bernoulli, groups = [], [], []
    j = 0
    while j < X.shape[1]:
        if j not in wanted:
            j += 1
            continue
        if binary[j]:
            end = _one_hot_group_end(X, j, binary)
            if end is not None and all(c in wanted for c in range(j, end)):
                groups.append(list(range(j, end)))
                j = end
                continue
            bernoulli.append(j)
        else:
            gaussian.append(j)
        j += 1
    blocks: Blocks = []
    if gaussian:
        blocks.append(("gaussian", gaussian))
    if bernoulli:
        blocks.append(("bernoulli", bernoulli))
    blocks += [("categorical", group) for group in groups]
    return blocks


def _column_index(column: Any, n_features: int, names: np.ndarray | None) -> int:
    if isinstance(column, str):
        if names is None or column not in set(names):
            raise ValueError(
                f"Column {column!r} of the likelihood specification is not a "
                "feature name of X (names need a DataFrame with string columns)."
            )
        return int(np.flatnonzero(names == column)[0])
    if (
        isinstance(column, (int, np.integer))
        and not isinstance(column, (bool, np.bool_))  # True is no column 1
        and -n_features <= column < n_features
    ):
        return int(column) % n_features
    raise ValueError(
        f"Column {column!r} of the likelihood specification is not a column "
        f"index in [0, {n_features}) or a feature name."
    )


def resolve_column_types(
    spec: str | dict, X: np.ndarray, names: np.ndarray | None = None
) -> Blocks:
    """Blocks of column types from ``likelihood="auto"`` or a dict specification.

    Parameters
    ----------
    spec : "auto" or dict
        A dict maps a type ("gaussian", "bernoulli", "poisson", "negbin") to
        columns (indices or feature names), and "categorical" to a list of
        groups of one-hot columns. Columns it leaves out are inferred as with
        "auto" (see :func:`infer_column_types`).
    X : ndarray of shape (n_samples, n_features)
        The training data.
    names : ndarray of str, optional
        The feature names of X.

    Returns
    -------
    blocks : list of (str, list of int)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.5, 3, 1, 0], [1.5, 0, 0, 1]])
    >>> resolve_column_types({"poisson": [1]}, X)
    [('poisson', [1]), ('gaussian', [0]), ('categorical', [2, 3])]
    """
    n_features = X.shape[1]
    if isinstance(spec, str):
        if spec != "auto":
            raise ValueError(f"Unknown likelihood {spec!r}.")
        blocks: Blocks = []
    elif isinstance(spec, dict):
        unknown = set(spec) - COLUMN_TYPES
        if unknown == {"quantile"}:
            raise ValueError(
                "'quantile' columns are columns of a DataFrame (each maps its "
                "values through their distribution): pass X as a DataFrame, "
                "or model these columns as 'gaussian'."
            )
        if unknown:
            raise ValueError(
                f"Unknown column types {sorted(unknown)} in the likelihood "
                f"specification; expected keys among {sorted(COLUMN_TYPES)}."
            )
        blocks = []
        for kind, columns in spec.items():
            if kind == "categorical":
                if isinstance(columns, (str, int, np.integer)) or not all(
                    isinstance(g, (list, tuple, np.ndarray)) for g in columns
                ):
                    raise ValueError(
                        "likelihood={'categorical': ...} takes a list of groups, "
                        "each a list of the one-hot columns of one variable, e.g. "
                        "{'categorical': [[3, 4, 5], [6, 7]]}."
                    )
                for group in columns:
                    cols = [_column_index(c, n_features, names) for c in group]
                    if len(cols) < 2:
                        raise ValueError(
                            "A categorical group needs at least 2 columns, "
                            f"got {group!r}."
                        )
                    blocks.append(("categorical", cols))
            else:
                if isinstance(columns, (str, int, np.integer)):
                    columns = [columns]
                cols = [_column_index(c, n_features, names) for c in columns]
                if cols:
                    blocks.append((kind, cols))
    else:
        raise ValueError(f"likelihood must be a string or a dict, got {spec!r}.")
    taken = [c for _, cols in blocks for c in cols]
    if len(taken) != len(set(taken)):
        repeated = sorted({c for c in taken if taken.count(c) > 1})
        raise ValueError(
            f"Columns {repeated} appear more than once in the likelihood specification."
        )
    rest = sorted(set(range(n_features)) - set(taken))
    if rest:
        blocks += infer_column_types(X, rest)
    check_column_values(blocks, X, names)
    return blocks


#: How far past [0, 1] a Bernoulli value may be: float rounding (a scaler's
#: maximum of 1.0000000000000002), which the likelihood takes as it is.
_BERNOULLI_SLACK = 1e-6


#: The end of check_column_values's messages about a one-hot group.
_AS_ONE_HOT = (
    ". Columns of 0/1 values that likelihood='auto' read as one categorical "
    "(a one-hot group) are modelled apart where the likelihood declares them, "
    "e.g. {'bernoulli': [...]} (VAEImputer: estimator=VAE(likelihood=..., "
    "missing='mask'))."
)


def check_column_values(
    blocks: Blocks, X: np.ndarray, names: np.ndarray | None = None
) -> None:
    """Reject values that a column's type cannot model, naming the column.

    ``names`` (the columns' names, e.g. a table's encoded columns) name
    them in the message; else their positions do.

    Examples
    --------
    >>> import numpy as np
    >>> check_column_values([("poisson", [0])], np.array([[1.0], [2.0]]))
    """
    if sp.issparse(X):  # dense blocks of rows, one at a time
        X = sp.csr_matrix(X)
        for start in range(0, X.shape[0], _SPARSE_ROWS):
            block = X[start : start + _SPARSE_ROWS].toarray()
            check_column_values(blocks, block, names)
        return

    def named(cols: list[int]) -> Any:
        shown = [c if names is None else str(names[c]) for c in cols[:10]]
        return shown if len(cols) <= 10 else f"{shown[:-1]} and {len(cols) - 9} more"

    low, high = -_BERNOULLI_SLACK, 1 + _BERNOULLI_SLACK
    for kind, cols in blocks:
        values = X[:, cols]
        seen = values[~np.isnan(values)]
        if (
            kind == "bernoulli"
            and seen.size
            and (seen.min() < low or seen.max() > high)
        ):
            outside = (values < low) | (values > high)  # NaN is neither
            bad = np.any(outside, axis=0)
            raise ValueError(
                f"Columns {named(np.asarray(cols)[bad].tolist())} are "
                "Bernoulli (values 0 to 1) but have values outside [0, 1] (e.g. "
                f"{float(values[outside][0])!r}): scale them as in fit, clipped to "
                "[0, 1] (MinMaxScaler(clip=True)), or model them as 'gaussian'."
            )
        if (
            kind in ("poisson", "negbin")
            and seen.size
            and (seen.min() < 0 or np.any(seen != np.round(seen)))
        ):
            odd = (values < 0) | (values != np.round(values))
            bad = np.any(odd & ~np.isnan(values), axis=0)
            raise ValueError(
                f"Columns {named(np.asarray(cols)[bad].tolist())} are counts "
                f"({kind}) but have negative or non-integer values."
            )
        if kind == "categorical":
            # (within float rounding, as a Bernoulli value)
            off = np.minimum(np.abs(seen), np.abs(seen - 1)) > _BERNOULLI_SLACK
            if seen.size and np.any(off):
                raise ValueError(
                    f"The categorical group {named(cols)} has values other than "
                    f"0 and 1{_AS_ONE_HOT}"
                )
            complete = ~np.isnan(values).any(axis=1)
            sums = values[complete].sum(axis=1)
            if np.any(np.abs(sums - 1) > len(cols) * _BERNOULLI_SLACK) or np.any(
                np.nansum(values, axis=1) > 1 + len(cols) * _BERNOULLI_SLACK
            ):
                raise ValueError(
                    f"The categorical group {named(cols)} must have exactly one 1 "
                    "per row (one-hot), as OneHotEncoder writes it (a row with "
                    f"holes at most one){_AS_ONE_HOT}"
                )


def check_likelihood_range(likelihood: Any, X: np.ndarray) -> None:
    """Reject data outside [0, 1] for the Bernoulli likelihood, with the remedy.

    Mixed specifications are checked when they are resolved.

    Examples
    --------
    >>> import numpy as np
    >>> check_likelihood_range("bernoulli", np.array([[0.0, 1.0]]))
    """
    if not (isinstance(likelihood, str) and likelihood == "bernoulli"):
        return
    if sp.issparse(X):  # X.min() and X.max() count the implicit zeros
        low, high = X.min(), X.max()
    else:
        low, high = np.nanmin(X), np.nanmax(X)
    if low < -_BERNOULLI_SLACK or high > 1 + _BERNOULLI_SLACK:
        raise ValueError(
            "likelihood='bernoulli' needs X in [0, 1], got values in "
            f"[{float(low)!r}, {float(high)!r}]; scale X with MinMaxScaler "
            "(clip=True for later rows) or use likelihood='gaussian'."
        )


def make_data_likelihood(
    spec: str | dict,
    X: np.ndarray,
    min_variance: float,
    missing: bool = False,
    names: np.ndarray | None = None,
    floor_weight: np.ndarray | None = None,
) -> Likelihood:
    """The likelihood for data like X, from a name, "auto" or a dict of types.

    Gaussian variance floors are set from the data (:func:`variance_floor`):
    its rows weighted by ``floor_weight`` where given (``sample_weight``; the
    column types are still read off every row, each of which must fit them).
    "auto" and dicts give a :class:`MixedLikelihood` over the blocks of
    :func:`resolve_column_types`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.5, 1, 0], [1.5, 0, 1], [0.1, 1, 0]])
    >>> type(make_data_likelihood("auto", X, 1e-3)).__name__
    'MixedLikelihood'
    >>> make_data_likelihood("gaussian", X, 1e-3).n_params
    3
    """
    if isinstance(spec, str) and spec in LIKELIHOODS:
        return make_likelihood(
            spec,
            X.shape[1],
            min_variance=variance_floor(X, min_variance, weight=floor_weight),
            missing=missing,
        )
    parts = []
    for kind, cols in resolve_column_types(spec, X, names):
        floor = variance_floor(X[:, cols], min_variance, weight=floor_weight)
        parts.append(
            (
                make_likelihood(kind, len(cols), min_variance=floor, missing=missing),
                cols,
            )
        )
    return MixedLikelihood(parts, X.shape[1])


#: Rows above which column variances are computed block by block.
_VARIANCE_ROWS = 65536


def _blocked_nanvar(X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """``np.nanvar(X[rows], axis=0)`` in float64, two passes over blocks of rows.

    Memory beyond X is bounded by one block, where ``np.var`` makes a
    temporary the size of X (and ``X[rows]`` a copy); ``rows``: sorted row
    indices, None for every row.

    Examples
    --------
    >>> X = np.random.RandomState(0).normal(size=(10, 3))
    >>> np.allclose(_blocked_nanvar(X), np.var(X, axis=0))
    True
    """
    return _blocked_moments(X, rows)[1]


def _blocked_moments(
    X: np.ndarray, rows: np.ndarray | None = None, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Column means and variances of ``X[rows]`` (NaN left out), by blocks of rows.

    As :func:`_blocked_nanvar`, which it serves, with the means too; with
    ``weight`` (one a row of X), each row counts its weight (a row of weight
    0 as none).

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [2.0, np.nan]])
    >>> [m.tolist() for m in _blocked_moments(X)]
    [[1.0, 1.0], [1.0, 0.0]]
    """
    size = 8192  # temporaries of a few MB

    def each_block():
        for start in range(0, X.shape[0], size):
            block = np.asarray(X[start : start + size], dtype=np.float64)
            w = None if weight is None else weight[start : start + size]
            if rows is not None:
                lo, hi = np.searchsorted(rows, [start, start + size])
                block = block[rows[lo:hi] - start]
                w = None if w is None else w[rows[lo:hi] - start]
            yield block, w

    counts = np.zeros(X.shape[1])
    sums = np.zeros(X.shape[1])
    for block, w in each_block():
        seen = ~np.isnan(block)
        if w is None:
            counts += seen.sum(axis=0)
            sums += np.nansum(block, axis=0)
        else:
            counts += w @ seen
            sums += w @ np.where(seen, block, 0.0)
    with np.errstate(all="ignore"):
        means = sums / counts
        squares = np.zeros(X.shape[1])
        for block, w in each_block():
            if w is None:
                squares += np.nansum((block - means) ** 2, axis=0)
            else:
                squares += w @ np.nan_to_num((block - means) ** 2, nan=0.0)
        return means, squares / counts


def column_moments(
    X: Any, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Means and variances of the columns of ``X[rows]`` (NaN left out), float64.

    Without a temporary the size of X: a dense X block by block, a sparse
    one by its stored entries. ``rows``: sorted row indices, None for all.
    A column with no entry has NaN.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> [m.tolist() for m in column_moments(sp.csr_matrix(X))]
    [[1.0, 2.0], [1.0, 1.0]]
    """
    if sp.issparse(X):
        X = X if rows is None else X[rows]
        return mean_variance_axis(sp.csr_matrix(X, dtype=np.float64), axis=0)
    return _blocked_moments(X, rows)


def column_peaks(
    X: Any, columns: list[int], rows: np.ndarray | None = None
) -> np.ndarray:
    """The largest absolute value of each of ``columns`` in ``X[rows]``, float64.

    NaN is left out (a column of NaN only gives NaN). Without a temporary
    the size of X: a dense X block by block of rows, a sparse one by the
    stored entries of those columns. ``rows``: sorted row indices, None for
    all.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = np.array([[0.0, -3.0, 1.0], [2.0, np.nan, 0.0]])
    >>> column_peaks(X, [0, 1]).tolist(), column_peaks(sp.csr_matrix(X), [1]).tolist()
    ([2.0, 3.0], [3.0])
    >>> column_peaks(X, [0], rows=np.array([0])).tolist()
    [0.0]
    """
    if sp.issparse(X):
        part = sp.csc_matrix(X if rows is None else X[rows])[:, columns]
        part.data = np.abs(np.nan_to_num(part.data.astype(np.float64), nan=0.0))
        return np.asarray(part.max(axis=0).toarray(), dtype=np.float64).ravel()
    peak = np.full(len(columns), np.nan)
    size = 8192  # temporaries of a few MB
    for start in range(0, X.shape[0], size):
        if rows is None:
            block = X[start : start + size, columns]
        else:
            lo, hi = np.searchsorted(rows, [start, start + size])
            block = X[np.ix_(rows[lo:hi], columns)]
        if len(block):
            block = np.abs(np.asarray(block, dtype=np.float64))
            peak = np.fmax(peak, np.fmax.reduce(block, axis=0))
    return peak


def variance_floor(
    X: np.ndarray,
    min_variance: float,
    rows: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> float:
    """The Gaussian likelihood's floor: ``min_variance`` x the mean feature variance.

    The floor scales with the data, so rescaling X rescales the model; it is
    clipped to what float32 represents. Missing entries (NaN) are ignored,
    as are columns with no entry; ``rows`` (sorted indices) are the rows
    whose variances count, None for all. With ``weight`` (``fit``'s
    ``sample_weight``, one a row of X) the variances are weighted: a row of
    weight w counts w times, a row of weight 1e-8 next to nothing.

    Examples
    --------
    >>> import numpy as np
    >>> variance_floor(np.array([[0.0], [2.0]]), 0.1)
    0.1
    >>> X, weight = np.array([[0.0], [2.0], [100.0]]), [1, 1, 1e-12]
    >>> round(variance_floor(X, 0.1, weight=weight), 6)  # the third row: nothing
    0.1
    """
    variances = None  # of the columns, where two rows or more count
    if weight is not None:
        weight = np.asarray(weight, dtype=np.float64)
        positive = np.flatnonzero(weight > 0)
        if len(positive) > 1 and sp.issparse(X):
            X = sp.csr_matrix(X[positive], dtype=np.float64)
            _, variances = mean_variance_axis(X, axis=0, weights=weight[positive])
        elif len(positive) > 1:
            variances = _blocked_moments(X, rows, weight)[1]
    else:
        if rows is not None and (sp.issparse(X) or X.shape[0] <= _VARIANCE_ROWS):
            X, rows = X[rows], None  # (a large dense X: its rows block by block)
        n_rows = X.shape[0] if rows is None else len(rows)
        if n_rows > 1 and sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            _, variances = mean_variance_axis(X, axis=0)
        elif n_rows > 1 and X.shape[0] > _VARIANCE_ROWS:  # no temporary of X's size
            variances = _blocked_nanvar(X, rows)
        elif n_rows > 1:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a column of holes
                has_nan = np.isnan(X).any()
                variances = np.nanvar(X, axis=0) if has_nan else np.var(X, axis=0)
    scale = 1.0
    if variances is not None:
        variances = variances[np.isfinite(variances)]
        scale = float(np.mean(variances)) if variances.size else 1.0
    floor = min_variance * (scale if scale > 0 else 1.0)
    return float(np.clip(floor, 1e-30, 1e30))
