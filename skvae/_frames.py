"""Tables in and out: pandas DataFrames with typed columns.

A :class:`TableEncoder` turns a DataFrame with float, integer, boolean,
nullable, ``category`` and string columns into the float array the models
train on (category and string columns one-hot encoded, holes as NaN), with
the likelihood specification that goes with it, and turns model output back
into a DataFrame of the same columns and dtypes. pandas is imported only when
a DataFrame is met.
"""

from __future__ import annotations

import sys
import warnings
from decimal import Decimal
from numbers import Integral
from typing import Any

import numpy as np

from skvae._columns import resolve_column_types
from skvae._data import row_counts, to_dense
from skvae.nn.likelihoods import COLUMN_TYPES, LIKELIHOODS

#: Per-column kinds of a table: how a column is encoded and decoded.
KINDS = ("float", "integer", "bool", "category")
#: Column types a table's likelihood specification may name: the models'
#: (:data:`skvae.nn.likelihoods.COLUMN_TYPES`) and ``"quantile"``, a number
#: column mapped to normal scores by its training marginal and modelled
#: Gaussian on that scale.
TABLE_COLUMN_TYPES = COLUMN_TYPES | {"quantile"}
#: Most knots of a quantile column's map (more distinct values are thinned).
MAX_KNOTS = 1000


def is_frame(X: Any) -> bool:
    """Whether X is a pandas DataFrame (without importing pandas).

    Examples
    --------
    >>> import numpy as np
    >>> is_frame(np.zeros((2, 2)))
    False
    """
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(X, pd.DataFrame)


def _kind(dtype: Any) -> str | None:
    """The kind of a pandas dtype, or None where skvae cannot model it."""
    import pandas as pd

    types = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if types.is_bool_dtype(dtype):
        return "bool"
    if types.is_integer_dtype(dtype):
        return "integer"
    if types.is_float_dtype(dtype):
        return "float"
    if types.is_string_dtype(dtype) or types.is_object_dtype(dtype):
        return "category"
    return None


def _integer_type(dtype: Any) -> np.dtype:
    """The numpy integer type of an integer column (``Int64`` -> ``int64``).

    A sparse column's is that of its values (``Sparse[int64, 0]`` -> ``int64``).
    """
    dtype = getattr(dtype, "subtype", dtype)  # pandas' SparseDtype
    return np.dtype(getattr(dtype, "numpy_dtype", dtype))


def _all_numbers(values: Any) -> bool:
    """Whether ``values`` are all real numbers (booleans are not), and some."""
    return len(values) > 0 and all(
        isinstance(v, (int, float, np.integer, np.floating, Decimal))
        and not isinstance(v, (bool, np.bool_))
        for v in values
    )


def _reads_as_number(value: Any) -> bool:
    """Whether a category reads as a finite number (a number, or its text)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return bool(np.isfinite(value))
    if isinstance(value, Decimal):  # as SQL drivers give NUMERIC columns
        return value.is_finite()
    if isinstance(value, str):
        try:
            return bool(np.isfinite(float(value.strip())))
        except ValueError:
            return False
    return False


def _category_doubt(name: Any, cats: Any, n_rows: int) -> str | None:
    """Why a column read as categories may be meant otherwise (None: no doubt).

    Numbers in an object column, numbers written as text (a CSV read with
    ``dtype=str``), numbers with a stray marker among them (``"?"``, as in
    UCI tables) and identifiers (about one value a row) each become one
    0/1 column a value, silently, unless the user is told.
    """
    n = len(cats)
    others = [v for v in cats if not _reads_as_number(v)]
    convert = "pd.to_numeric(column, errors='coerce') to model it as numbers"
    numbers = {float(v) for v in cats if _reads_as_number(v) and not isinstance(v, str)}
    twins = [
        v for v in cats if isinstance(v, str) and _reads_as_number(v)
        and float(v.strip()) in numbers
    ]  # fmt: skip
    if twins:  # 1 and "1": two categories, which a reader takes for one
        return (
            f"Column {name!r} holds {twins[0]!r} both as text and as a number: "
            "they are modelled as two categories. Give the column one type "
            f"(astype(str), or {convert})."
        )
    if _all_numbers(cats):
        return (
            f"Column {name!r} has dtype object but holds only numbers: it is "
            f"modelled as a category of the {n} values seen. Convert it with "
            "astype(float) to model it as numbers."
        )
    if n == 0:
        return None
    if not others:
        return (
            f"Column {name!r} holds numbers written as text: it is modelled as a "
            f"category of the {n} values seen. Convert it with {convert}."
        )
    if len(others) <= min(5, 0.1 * n):
        return (
            f"Column {name!r} holds numbers but also {others!r}: it is modelled "
            f"as a category of the {n} values seen. If those mark missing "
            f"values, convert it with {convert}."
        )
    if n > max(50, n_rows // 2):
        return (
            f"Column {name!r} has {n} distinct values in {n_rows} rows (an "
            f"identifier?): it is modelled as a category, {n} one-hot columns. "
            "Drop it if it names rows rather than describes them."
        )
    return None


def _zero_or_one(value: Any) -> bool:
    """Whether ``value`` is a number (or boolean) equal to 0 or 1."""
    number = (bool, int, float, np.bool_, np.integer, np.floating)
    return isinstance(value, number) and (value == 0 or value == 1)


def _refuse_unhashable(name: Any, values: Any) -> None:
    """Refuse a column of lists, dicts, sets or arrays (as JSON gives), naming it.

    Examples
    --------
    >>> _refuse_unhashable("tags", np.array([["a"], ["b", "c"]], dtype=object))
    Traceback (most recent call last):
    ...
    TypeError: Column 'tags' holds list values (e.g. ['a']), which skvae ...
    """
    for value in values:
        try:
            hash(value)
        except TypeError:  # (a tuple of lists, too)
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise TypeError(
                f"Column {name!r} holds {type(value).__name__} values (e.g. "
                f"{shown}), which skvae cannot model as one value a row. Spread "
                "them into columns first (e.g. pd.json_normalize for dicts, "
                "MultiLabelBinarizer or Series.str.join('|').str.get_dummies() "
                "for lists of tags), or drop the column."
            ) from None


def _observed_categories(series: Any) -> Any:
    """Sorted distinct values of a column (in order of appearance if unorderable).

    Booleans beside the numbers 0 or 1 are refused: ``True == 1`` and
    ``False == 0``, so they would be one category, and decode as whichever
    came first.
    """
    import pandas as pd

    seen = series.dropna().to_numpy()
    try:
        values = pd.unique(seen)
    except TypeError:  # lists, dicts, sets, arrays: no category is one
        _refuse_unhashable(series.name, seen)
        raise
    # (True == 1: a distinct 0 or 1 may hide a boolean among its rows)
    if seen.dtype == object and any(_zero_or_one(v) for v in values):
        flags = [isinstance(v, (bool, np.bool_)) for v in seen]
        if any(flags) and not all(flags):
            numbers = [
                v
                for v, flag in zip(seen, flags, strict=True)
                if not flag and _zero_or_one(v)
            ]
            if numbers:
                raise ValueError(
                    f"Column {series.name!r} holds booleans and numbers (e.g. "
                    f"{numbers[0]!r}): True equals 1 and False 0, so they would "
                    "be one category. Convert the column first (e.g. "
                    "astype(str))."
                )
    try:
        values = sorted(values)
    except TypeError:
        values = list(values)
    return pd.Index(values, dtype=object if len(values) == 0 else None)


def check_column_labels(seen: list, frame: Any) -> None:
    """Refuse a DataFrame whose column labels are not ``seen``, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> check_column_labels([0, 1], pd.DataFrame([[1.0, 2.0]]))
    >>> check_column_labels([1, 0], pd.DataFrame([[1.0, 2.0]]))
    Traceback (most recent call last):
    ...
    ValueError: X's columns are not those seen in fit: fitted on [1, 0], given \
them in another order. Pass the fitted columns, in their order (X[fitted_columns]).
    """
    import pandas as pd

    if frame.columns.equals(pd.Index(list(seen))):
        return
    given = list(frame.columns)

    def head(names: list) -> str:
        return str(names[:10])[:-1] + (", ...]" if len(names) > 10 else "]")

    same = len(seen) == len(given) and set(seen) == set(given)
    raise ValueError(
        f"X's columns are not those seen in fit: fitted on {head(seen)}, given "
        f"{'them in another order' if same else head(given)}. Pass the fitted "
        "columns, in their order (X[fitted_columns])."
    )


class TableEncoder:
    """Encode a DataFrame's columns for a model, and decode model rows back.

    Fitted on a DataFrame, the encoder records each column's name, dtype and
    kind, read off the dtype:

    - ``category`` (pandas ``category``, ``object`` and string columns): one
      one-hot column per category, modelled by one categorical likelihood.
      A ``category`` column keeps all categories its dtype declares (also
      unobserved ones); other columns take the distinct values seen.
    - ``bool`` (``bool``, ``boolean``): one 0/1 column.
    - ``integer`` (``int*``, ``uint*``, ``Int*``): one column.
    - ``float`` (``float*``, ``Float*``): one column.

    Holes (NaN, ``pd.NA``, ``None``) become NaN (the whole one-hot group of a
    category). Other dtypes (dates, complex numbers...) are refused with the
    column's name.

    The likelihood specification is translated to the encoded columns: with
    ``"auto"`` categories are categorical and the other columns are typed as
    numeric arrays are (0/1 columns Bernoulli, adjacent one-hot 0/1 columns a
    categorical group, the rest Gaussian; integers are never taken for
    counts); with ``"gaussian"`` (the estimators' default) number columns are
    Gaussian and boolean columns Bernoulli; with ``"bernoulli"`` every
    non-category column is Bernoulli; a dict names columns by name (or
    position), boolean columns it does not name are Bernoulli, and
    ``{"categorical": ["col"]}`` makes a numeric column categorical.

    ``{"quantile": [...]}`` names number columns (float or integer) that are
    *scaled inside*: each is mapped through its training marginal to normal
    scores (the empirical distribution function, then the standard normal
    quantile function, as a Gaussian copula does), modelled Gaussian on that
    scale, and mapped back by the inverse on decoding. Columns of any scale
    or shape (skewed, heavy-tailed, multimodal, with point masses such as
    many zeros) then look alike to the model, and decoded values stay inside
    the range seen in fit (a value seen several times is decoded exactly, so
    a point mass keeps its share). This is the tabular synthesis recipe's
    column type. A model's ``score_samples`` adds :meth:`log_jacobian`, so
    that its densities are in the table's own units.

    Parameters
    ----------
    likelihood : str or dict, default="auto"
        The estimator's ``likelihood`` parameter.

    Attributes
    ----------
    columns_ : list
        The column labels, in order.
    dtypes_ : list of dtype
        Each column's pandas dtype.
    kinds_ : list of str
        Each column's kind ("float", "integer", "bool", "category").
    categories_ : dict
        The categories (a ``pandas.Index``) of each category column, by label.
    types_ : dict
        Each column's likelihood ("gaussian", "bernoulli", "categorical",
        "poisson", "negbin", "quantile"), by label.
    spec_ : str or dict
        The likelihood specification over the encoded columns, which the
        model is built from.
    n_encoded_ : int
        Width of the encoded array.
    dtype_ : numpy dtype
        float32 when every column is float32, else float64.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [0.5, 1.5, 2.5], "c": ["a", "b", "a"]})
    >>> enc = TableEncoder().fit(df)
    >>> enc.transform(df)
    array([[0.5, 1. , 0. ],
           [1.5, 0. , 1. ],
           [2.5, 1. , 0. ]])
    >>> enc.types_
    {'x': 'gaussian', 'c': 'categorical'}
    >>> enc.decode(enc.transform(df)).equals(df)
    True

    A skewed column scaled inside (normal scores in, the original values
    back, inside the range seen):

    >>> skewed = pd.DataFrame({"income": [1.0, 2.0, 2.0, 5.0, 400.0]})
    >>> q = TableEncoder({"quantile": ["income"]}).fit(skewed)
    >>> q.transform(skewed).round(2).ravel().tolist()
    [-1.28, -0.25, -0.25, 0.52, 1.28]
    >>> q.decode([[-9.0], [-0.3], [9.0]])["income"].tolist()
    [1.0, 2.0, 400.0]
    """

    def __init__(self, likelihood: str | dict = "auto") -> None:
        self.likelihood = likelihood

    # ------------------------------------------------------------ fitting
    def fit(self, frame: Any, sample_weight: Any = None) -> TableEncoder:
        """Learn the columns, their dtypes, kinds and categories.

        Parameters
        ----------
        frame : pandas.DataFrame
            The training table.
        sample_weight : ndarray of shape (n_samples,) or None, default=None
            Non-negative weights of the rows (checked by the caller): an
            integer column's range and a ``"quantile"`` column's map are
            those of the rows of positive weight, each counted as its weight
            over the least positive one (a row of weight 2 as the row twice).
            A column observed only in rows of weight 0 takes them all. The
            columns, their kinds and categories are every row's (each row
            must encode).

        Returns
        -------
        self : TableEncoder
        """
        positive = None
        if sample_weight is not None:
            weight = np.asarray(sample_weight, dtype=np.float64)
            positive = weight > 0
        columns = list(frame.columns)
        if len(set(map(repr, columns))) != len(columns):
            raise ValueError("The DataFrame's column labels must be unique.")
        self.columns_ = columns
        self._labels = frame.columns.copy()
        self.dtypes_ = list(frame.dtypes)
        forced = self._forced_categories(frame)
        kinds, categories, ranges = [], {}, {}
        for j, (name, dtype) in enumerate(zip(columns, self.dtypes_, strict=True)):
            kind = "category" if j in forced else _kind(dtype)
            if kind is None:
                raise TypeError(
                    f"Column {name!r} has dtype {dtype}, which skvae cannot model; "
                    "convert it to numbers (e.g. seconds since a date) or to "
                    "categories first."
                )
            series = frame.iloc[:, j]
            if kind == "category":
                import pandas as pd

                if isinstance(dtype, pd.CategoricalDtype):
                    cats = pd.Index(dtype.categories)
                else:
                    cats = _observed_categories(series)
                    doubt = None
                    if j not in forced:
                        doubt = _category_doubt(name, cats, frame.shape[0])
                    if doubt is not None:
                        from skvae._base import _caller_level

                        warnings.warn(doubt, UserWarning, stacklevel=_caller_level())
                if len(cats) == 0:
                    raise ValueError(
                        f"Column {name!r} has no category (no observed value); "
                        "drop it before fitting."
                    )
                categories[name] = cats
            elif kind == "integer":
                seen = series.dropna()
                if positive is not None and series[positive].notna().any():
                    seen = series[positive].dropna()
                if len(seen):
                    ranges[name] = (int(seen.min()), int(seen.max()))
            kinds.append(kind)
        self.kinds_ = kinds
        self.categories_ = categories
        self._ranges = ranges
        self._slices = []
        start = 0
        for name, kind in zip(columns, kinds, strict=True):
            width = len(categories[name]) if kind == "category" else 1
            self._slices.append((start, start + width))
            start += width
        self.n_encoded_ = start
        floats = {np.dtype(np.float32)}
        self.dtype_ = np.dtype(
            np.float32
            if all(isinstance(d, np.dtype) and d in floats for d in self.dtypes_)
            else np.float64
        )
        self._quantiles = {}
        for j in self._quantile_positions():
            self._quantiles[columns[j]] = _quantile_knots(
                frame.iloc[:, j], columns[j], sample_weight
            )
        self.spec_ = self._translate(self.likelihood)
        encoded = self.transform(frame)
        self.types_ = self._column_types(encoded)
        return self

    def _quantile_positions(self) -> list[int]:
        """Positions of the columns the specification names ``"quantile"``."""
        spec = self.likelihood
        if not isinstance(spec, dict) or "quantile" not in spec:
            return []
        entries = spec["quantile"]
        if isinstance(entries, (str, Integral)):
            entries = [entries]
        positions = []
        for entry in entries:
            j = self._position(entry)
            if self.kinds_[j] not in ("float", "integer"):
                raise ValueError(
                    f"Column {self.columns_[j]!r} is a {self.kinds_[j]} column; "
                    "only number (float or integer) columns can be 'quantile'."
                )
            positions.append(j)
        return positions

    def log_jacobian(self, frame: Any) -> np.ndarray:
        """Log-derivative of the quantile maps at each row, summed over columns.

        A model's log-density of a row on the encoded scale (what
        ``score_samples`` gives) plus this is its log-density in the table's
        own units (for the ``"quantile"`` columns; the others are not
        rescaled). Missing entries add 0.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows of the fitted columns.

        Returns
        -------
        log_det : ndarray of shape (n_samples,)

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
        >>> enc = TableEncoder({"quantile": ["x"]}).fit(df)
        >>> enc.log_jacobian(df).round(2).tolist()
        [-0.18, -0.45, -0.18, -0.18]
        """
        out = np.zeros(frame.shape[0])
        for name, (u, z, _, _) in getattr(self, "_quantiles", {}).items():
            x = frame.iloc[:, self.columns_.index(name)].to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            if len(u) < 2:
                continue
            slopes = np.diff(z) / np.diff(u)
            segment = np.clip(np.searchsorted(u, x, side="right") - 1, 0, len(u) - 2)
            out += np.where(np.isnan(x), 0.0, np.log(slopes[segment]))
        return out

    def _position(self, column: Any) -> int:
        """Position of a column given by label or position, or a clear error."""
        if isinstance(column, str) or not isinstance(column, Integral):
            for j, name in enumerate(self.columns_):
                if name == column and type(name) is type(column):
                    return j
            raise ValueError(
                f"Column {column!r} of the likelihood specification is not a "
                f"column of X (columns: {self.columns_[:10]})."
            )
        n = len(self.columns_)
        if -n <= column < n:
            return int(column) % n
        raise ValueError(
            f"Column {column!r} of the likelihood specification is not a column "
            f"position in [0, {n})."
        )

    def _forced_categories(self, frame: Any) -> set[int]:
        """Positions of columns that ``{"categorical": [name]}`` makes categorical."""
        spec = self.likelihood
        self.columns_ = list(frame.columns)
        if not isinstance(spec, dict):
            return set()
        groups = spec.get("categorical", [])
        if isinstance(groups, (str, Integral)):
            groups = [groups]
        return {
            self._position(entry)
            for entry in groups
            if not isinstance(entry, (list, tuple, np.ndarray))
        }

    def _translate(self, spec: str | dict) -> str | dict:
        """The likelihood specification over the encoded columns."""
        cat_positions = [j for j, k in enumerate(self.kinds_) if k == "category"]
        groups = [
            list(range(*self._slices[j]))
            for j in cat_positions
            if self._slices[j][1] - self._slices[j][0] >= 2
        ]
        single = [
            self._slices[j][0]
            for j in cat_positions
            if self._slices[j][1] - self._slices[j][0] == 1
        ]
        others = [
            self._slices[j][0] for j, k in enumerate(self.kinds_) if k != "category"
        ]
        flags = [self._slices[j][0] for j, k in enumerate(self.kinds_) if k == "bool"]
        if isinstance(spec, str) and spec == "gaussian" and flags:
            # numbers Gaussian, booleans Bernoulli: the dtypes say which is which
            others = [c for c in others if c not in flags]
            single = single + flags
        elif isinstance(spec, str) and not cat_positions:
            if spec not in LIKELIHOODS and spec != "auto":
                raise ValueError(f"Unknown likelihood {spec!r}.")
            return spec
        if isinstance(spec, str) and spec in LIKELIHOODS:
            out: dict[str, list] = {spec: others} if others else {}
        elif isinstance(spec, str):
            if spec != "auto":
                raise ValueError(f"Unknown likelihood {spec!r}.")
            out = {}
        elif isinstance(spec, dict):
            unknown = set(spec) - TABLE_COLUMN_TYPES
            if unknown:
                raise ValueError(
                    f"Unknown column types {sorted(unknown)} in the likelihood "
                    "specification; expected keys among "
                    f"{sorted(TABLE_COLUMN_TYPES)}."
                )
            out = {}
            for kind, entries in spec.items():
                if kind == "quantile":  # normal scores: Gaussian inside
                    kind = "gaussian"
                    entries = _entries(spec.get("gaussian", [])) + _entries(entries)
                elif kind == "gaussian" and "quantile" in spec:
                    continue
                if isinstance(entries, (str, Integral)):
                    entries = [entries]
                if kind == "categorical":
                    # names of whole columns are added with the categories below
                    out[kind] = [
                        [self._numeric_index(c, kind) for c in entry]
                        for entry in entries
                        if isinstance(entry, (list, tuple, np.ndarray))
                    ]
                else:
                    out[kind] = [self._numeric_index(c, kind) for c in entries]
        else:
            raise ValueError(f"likelihood must be a string or a dict, got {spec!r}.")
        if isinstance(spec, dict):
            named = {
                c for cols in out.values() for c in cols if isinstance(c, Integral)
            }
            single = single + [c for c in flags if c not in named]
        if groups:
            out["categorical"] = out.get("categorical", []) + groups
        if single:
            out["bernoulli"] = out.get("bernoulli", []) + single
        return {k: v for k, v in out.items() if len(v)}

    def _numeric_index(self, column: Any, kind: str) -> int:
        """Encoded index of a non-category column named in the specification."""
        j = self._position(column)
        if self.kinds_[j] == "category":
            raise ValueError(
                f"Column {self.columns_[j]!r} holds categories; only "
                f"'categorical' can model it, not {kind!r}."
            )
        return self._slices[j][0]

    def _column_types(self, encoded: np.ndarray) -> dict:
        """Each column's likelihood, as the model resolves the specification."""
        spec = self.spec_
        if isinstance(spec, str) and spec in LIKELIHOODS:
            return {name: spec for name in self.columns_}
        quantile = getattr(self, "_quantiles", {})
        kind_of = {}
        for kind, cols in resolve_column_types(spec, encoded, self.encoded_names()):
            for c in cols:
                kind_of[c] = kind
        return {
            name: "quantile" if name in quantile else kind_of[start]
            for name, (start, _) in zip(self.columns_, self._slices, strict=True)
        }

    # ----------------------------------------------------------- encoding
    def transform(self, frame: Any) -> np.ndarray:
        """Encode a table with the fitted columns.

        Parameters
        ----------
        frame : pandas.DataFrame
            A table with the fitted columns, in order.

        Returns
        -------
        X : ndarray of shape (n_samples, n_encoded_)
            The encoded rows, NaN where a value is missing.

        Raises
        ------
        ValueError
            Where the frame's column labels are not the fitted ones, in
            order; where a category column holds a value not among its
            categories, or a boolean column a value other than True/False
            (naming the column and the values).
        """
        import pandas as pd

        self._check_labels(frame)
        n_rows = frame.shape[0]
        out = np.zeros((n_rows, self.n_encoded_), dtype=np.float64)
        for j, (name, kind) in enumerate(zip(self.columns_, self.kinds_, strict=True)):
            series = frame.iloc[:, j]
            start, stop = self._slices[j]
            if kind == "category":
                cats = self.categories_[name]
                hole = np.asarray(series.isna(), dtype=bool)
                try:
                    codes = cats.get_indexer(pd.Index(series.to_numpy(dtype=object)))
                except TypeError:  # lists, dicts, ... are no category
                    _refuse_unhashable(name, series.dropna().to_numpy())
                    raise
                unseen = (codes < 0) & ~hole
                if unseen.any():
                    values = pd.unique(series[unseen].to_numpy())
                    raise ValueError(
                        f"Column {name!r} has values not seen in fit: "
                        f"{list(values[:10])} (its categories: {list(cats[:10])}). "
                        "Declare every category before fitting with a pandas "
                        "'category' dtype, e.g. X[col].astype(pd.CategoricalDtype"
                        "([...])), or map the new values to known ones."
                    )
                rows = np.flatnonzero(~hole)
                out[rows, start + codes[rows]] = 1.0
                out[hole, start:stop] = np.nan
            else:
                try:
                    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError) as exc:
                    held = "True/False (or 1/0)" if kind == "bool" else "numbers"
                    raise ValueError(
                        f"Column {name!r} must hold {held}, as in fit ({exc})."
                    ) from exc
                if kind == "bool":
                    odd = ~np.isnan(values) & (values != 0) & (values != 1)
                    if odd.any():
                        raise ValueError(
                            f"Column {name!r} was boolean in fit but holds values "
                            "other than True/False (1/0): "
                            f"{pd.unique(values[odd])[:10].tolist()}."
                        )
                if kind == "integer":
                    own = _integer_type(self.dtypes_[j])
                    info = np.iinfo(own)
                    wide = ~np.isnan(values) & (
                        (values < info.min) | (values > info.max)
                    )
                    if wide.any():
                        raise ValueError(
                            f"Column {name!r} was {own} in fit, whose values lie in "
                            f"[{info.min}, {info.max}]; it holds "
                            f"{pd.unique(values[wide])[:10].tolist()}. Fit on the "
                            "wider type."
                        )
                if name in getattr(self, "_quantiles", {}):
                    values = _to_scores(values, *self._quantiles[name][:2])
                out[:, start] = values
        return out.astype(self.dtype_, copy=False)

    def _check_labels(self, frame: Any) -> None:
        """Refuse a frame whose column labels are not the fitted ones, in order.

        scikit-learn's ``validate_data`` checks column names that are all
        strings; labels of other kinds (the integers of ``pd.DataFrame(X)``)
        it lets through, and the columns would be read by position: swapped
        or relabelled ones silently as the wrong columns.
        """
        check_column_labels(list(self._labels), frame)

    def check_not_array(self, X: Any, owner: str) -> None:
        """Refuse an array where the fitted table has category columns.

        Numbers alone cannot say which category an array's entry is: such a
        model takes DataFrames with the fitted columns.

        Examples
        --------
        >>> import pandas as pd
        >>> enc = TableEncoder().fit(pd.DataFrame({"c": ["a", "b"]}))
        >>> try:
        ...     enc.check_not_array([[0.0]], "VAE")
        ... except ValueError as error:
        ...     print(str(error)[:65])
        VAE was fitted on a DataFrame with category columns ['c']; pass a
        """
        typed = [
            name
            for name, kind in zip(self.columns_, self.kinds_, strict=True)
            if kind == "category"
        ]
        if typed and not is_frame(X):
            raise ValueError(
                f"{owner} was fitted on a DataFrame with category columns "
                f"{typed[:5]}; pass a DataFrame with the same columns, not an "
                "array."
            )

    def hole_columns(self, encoded: np.ndarray, how: str = "any") -> list:
        """Labels of the columns with a missing value in encoded rows.

        With ``how="all"``, of the columns with no observed value.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [0.5, None], "c": ["a", "b"]})
        >>> enc = TableEncoder().fit(df)
        >>> enc.hole_columns(enc.transform(df))
        ['x']
        """
        nan = getattr(np.isnan(encoded), how)(axis=0)
        return [
            name
            for name, (start, stop) in zip(self.columns_, self._slices, strict=True)
            if nan[start:stop].any()
        ]

    def widened(self, frame: Any, weight: Any = None) -> TableEncoder:
        """The encoder, its integer columns' ranges widened to cover ``frame``.

        A continued fit (``warm_start``, ``partial_fit``) keeps the first
        fit's encoder, whose integer ranges clip decoded values: a later
        chunk's larger counts would decode clipped to the first chunk's
        largest. The rows of positive ``weight`` count. Returns a copy where
        a range grows (so a failed fit can keep the encoder it had).

        Examples
        --------
        >>> import pandas as pd
        >>> enc = TableEncoder().fit(pd.DataFrame({"k": [0, 1, 2]}))
        >>> enc.widened(pd.DataFrame({"k": [5, 7]}))._ranges
        {'k': (0, 7)}
        """
        import pandas as pd

        if not is_frame(frame):
            frame = pd.DataFrame(to_dense(frame), columns=self._labels)
        keep = None if weight is None else np.asarray(weight) > 0
        ranges = dict(self._ranges)
        for j, (name, kind) in enumerate(zip(self.columns_, self.kinds_, strict=True)):
            if kind != "integer":
                continue
            series = frame.iloc[:, j] if keep is None else frame.iloc[keep, j]
            seen = series.dropna()
            if not len(seen):
                continue
            low, high = int(seen.min()), int(seen.max())
            if name in ranges:
                low, high = min(low, ranges[name][0]), max(high, ranges[name][1])
            ranges[name] = (low, high)
        if ranges == self._ranges:
            return self
        import copy

        wider = copy.copy(self)
        wider._ranges = ranges
        return wider

    def beyond_quantiles(self, encoded: np.ndarray) -> list[Any]:
        """The ``"quantile"`` columns with values beyond those fitted.

        Their maps were fitted on the first data's values and extrapolate
        beyond them (see :func:`_to_scores`): encoded rows whose scores fall
        outside the knots' name such a column.

        Examples
        --------
        >>> import pandas as pd
        >>> enc = TableEncoder({"quantile": ["x"]})
        >>> enc = enc.fit(pd.DataFrame({"x": [1.0, 2, 3]}))
        >>> enc.beyond_quantiles(enc.transform(pd.DataFrame({"x": [2.0, 9.0]})))
        ['x']
        """
        names = []
        for name, (start, _) in zip(self.columns_, self._slices, strict=True):
            knots = getattr(self, "_quantiles", {}).get(name)
            if knots is None:
                continue
            z = knots[1]
            scores = np.asarray(encoded[:, start], dtype=np.float64)
            scores = scores[~np.isnan(scores)]
            slack = 1e-5 * max(1.0, float(np.abs(z).max()))  # float32 rounding
            if scores.size and (
                scores.min() < z[0] - slack or scores.max() > z[-1] + slack
            ):
                names.append(name)
        return names

    def encoded_names(self) -> np.ndarray:
        """Names of the encoded columns (``name`` or ``name_category``).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [0.5, 1.5], "c": ["a", "b"]})
        >>> TableEncoder().fit(df).encoded_names().tolist()
        ['x', 'c_a', 'c_b']
        """
        names = []
        for name, kind in zip(self.columns_, self.kinds_, strict=True):
            if kind == "category":
                names += [f"{name}_{c}" for c in self.categories_[name]]
            else:
                names.append(str(name))
        return np.asarray(names, dtype=object)

    # ----------------------------------------------------------- decoding
    def decode(self, values: np.ndarray, index: Any = None, clip: Any = True) -> Any:
        """Rows of encoded columns as a DataFrame of the fitted columns and dtypes.

        Floats keep their dtype; integers are rounded (and, with ``clip``,
        clipped to the range seen in fit; always to their dtype's range);
        booleans are true above 0.5; a category column takes the category of
        its group's largest value (the most probable one for probabilities, the
        one for one-hot rows). NaN decodes to a missing value (a whole NaN
        group to a missing category).

        Parameters
        ----------
        values : ndarray of shape (n_samples, n_encoded_)
            Encoded rows (model output).
        index : pandas.Index, optional
            The index of the result (default: 0, 1, ...).
        clip : bool or ndarray of bool of shape (n_samples, n_encoded_), \
default=True
            Clip integers to the range seen in fit (only the marked entries
            for an array).

        Returns
        -------
        frame : pandas.DataFrame
        """
        import pandas as pd

        values = np.asarray(values)
        if values.ndim != 2 or values.shape[1] != self.n_encoded_:
            raise ValueError(
                f"Expected rows of {self.n_encoded_} encoded columns, got shape "
                f"{values.shape}."
            )
        data = {}
        for j, (name, kind) in enumerate(zip(self.columns_, self.kinds_, strict=True)):
            dtype = self.dtypes_[j]
            start, stop = self._slices[j]
            block = values[:, start:stop].astype(np.float64)
            hole = np.isnan(block).all(axis=1)
            if kind == "category":
                cats = self.categories_[name]
                codes = np.argmax(np.nan_to_num(block, nan=-np.inf), axis=1)
                codes = np.where(hole, -1, codes)
                if isinstance(dtype, pd.CategoricalDtype):
                    column = pd.Categorical.from_codes(codes, dtype=dtype)
                    data[name] = pd.Series(column, index=index)
                else:
                    picked = np.asarray(cats, dtype=object)[codes]
                    picked[hole] = None
                    data[name] = pd.Series(picked, index=index).astype(dtype)
                continue
            x = block[:, 0]
            if name in getattr(self, "_quantiles", {}):
                z, u = self._quantiles[name][2:]
                x = np.where(hole, np.nan, np.interp(np.nan_to_num(x), z, u))
            if kind == "float":
                data[name] = pd.Series(x, index=index).astype(dtype)
            elif kind == "bool":
                series = pd.Series(x > 0.5, index=index, dtype=object)
                series[hole] = None
                data[name] = (
                    series.astype(dtype)
                    if not hole.any()
                    else (series.astype("boolean"))
                )
            else:
                x = np.rint(x)
                if name in self._ranges:
                    mark = clip if np.ndim(clip) == 0 else np.asarray(clip)[:, start]
                    x = np.where(mark, np.clip(x, *self._ranges[name]), x)
                # through the column's own integer type: int64 cannot hold a
                # uint64 past 2**63 (and the float of a type's maximum is past
                # it: the largest float below is the bound)
                own = _integer_type(dtype)
                info = np.iinfo(own)
                top = float(info.max)
                if int(top) > info.max:
                    top = float(np.nextafter(top, -np.inf))
                x = np.clip(x, info.min, top)
                if hole.any():
                    wide = "UInt64" if own == np.uint64 else "Int64"
                    series = pd.Series(
                        pd.array(np.where(hole, 0, x).astype(own), dtype=wide),
                        index=index,
                    )
                    series[hole] = pd.NA
                    nullable = not isinstance(dtype, np.dtype)
                    data[name] = series.astype(dtype) if nullable else series
                else:
                    data[name] = pd.Series(x.astype(own), index=index).astype(dtype)
        frame = pd.DataFrame(
            {j: data[name] for j, name in enumerate(self.columns_)}, index=index
        )
        frame.columns = self._labels
        return frame

    # -------------------------------------------------------- persistence
    def to_record(self) -> dict[str, Any]:
        """The fitted encoder as plain JSON values (for :func:`skvae.save`).

        Returns
        -------
        record : dict

        Raises
        ------
        TypeError
            Where a column label is not a string or a number, or a category
            not a string, a number or a boolean.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [0.5, 1.5], "c": ["a", "b"]})
        >>> enc = TableEncoder().fit(df)
        >>> TableEncoder.from_record(enc.to_record()).decode([[1.0, 0, 1]])
             x  c
        0  1.0  b
        """
        return {
            "likelihood": _plain(self.likelihood, "likelihood"),
            "columns": [_label_record(c) for c in self.columns_],
            "dtypes": [_dtype_record(d) for d in self.dtypes_],
            "kinds": list(self.kinds_),
            "categories": [
                None
                if kind != "category"
                else {
                    "values": [
                        _plain(v, f"a category of {name!r}")
                        for v in self.categories_[name].tolist()
                    ],
                    "dtype": _dtype_record(self.categories_[name].dtype),
                }
                for name, kind in zip(self.columns_, self.kinds_, strict=True)
            ],
            "ranges": [
                list(self._ranges.get(name, ())) or None for name in self.columns_
            ],
            "spec": _plain(self.spec_, "likelihood"),
            "types": [self.types_[name] for name in self.columns_],
            "dtype": str(self.dtype_),
            "quantiles": [
                None
                if name not in getattr(self, "_quantiles", {})
                else [a.tolist() for a in self._quantiles[name]]
                for name in self.columns_
            ],
        }

    @classmethod
    def from_record(cls, record: Any) -> TableEncoder:
        """An encoder from :meth:`to_record`, checked entry by entry.

        Parameters
        ----------
        record : dict

        Returns
        -------
        encoder : TableEncoder

        Raises
        ------
        ValueError
            Where the record is not one :meth:`to_record` writes.
        """
        import pandas as pd

        keys = {"likelihood", "columns", "dtypes", "kinds", "categories", "ranges"}
        keys |= {"spec", "types", "dtype"}
        if not isinstance(record, dict) or set(record) - {"quantiles"} != keys:
            raise ValueError("A table encoder record has other entries.")
        record = {"quantiles": [None] * len(record.get("columns") or [])} | record
        columns = record["columns"]
        n = len(columns) if isinstance(columns, list) else -1
        lists = ("dtypes", "kinds", "categories", "ranges", "types", "quantiles")
        if n < 1 or any(
            not isinstance(record[k], list) or len(record[k]) != n for k in lists
        ):
            raise ValueError("A table encoder record's lists differ in length.")
        if not all(isinstance(c, (str, int, float)) for c in columns):
            raise ValueError(
                "A table encoder record's column labels are not strings or numbers."
            )
        if len(set(map(repr, columns))) != len(columns):
            raise ValueError("A table encoder record's column labels are not unique.")
        enc = cls(record["likelihood"])
        enc.columns_ = list(columns)
        enc._labels = pd.Index(columns)
        enc.dtypes_ = [_dtype_from_record(d) for d in record["dtypes"]]
        enc.kinds_ = list(record["kinds"])
        enc.categories_, enc._ranges = {}, {}
        for name, dtype, kind, cats, rng in zip(
            columns,
            enc.dtypes_,
            enc.kinds_,
            record["categories"],
            record["ranges"],
            strict=True,
        ):
            if kind not in KINDS or (kind != "category" and _kind(dtype) != kind):
                raise ValueError(f"Column {name!r} has kind {kind!r} for {dtype}.")
            if kind == "category":
                values = cats.get("values") if isinstance(cats, dict) else None
                if (
                    not isinstance(values, list)
                    or not values
                    or not all(isinstance(v, (str, int, float, bool)) for v in values)
                    or len(set(map(repr, values))) != len(values)
                ):
                    raise ValueError(f"Column {name!r} has no valid categories.")
                index = pd.Index(values, dtype=_dtype_from_record(cats["dtype"]))
                if isinstance(dtype, pd.CategoricalDtype):
                    dtype = pd.CategoricalDtype(index, ordered=dtype.ordered)
                    enc.dtypes_[enc.columns_.index(name)] = dtype
                enc.categories_[name] = index
            elif cats is not None:
                raise ValueError(f"Column {name!r} has categories but is {kind}.")
            if rng is not None:
                if not (
                    isinstance(rng, list)
                    and len(rng) == 2
                    and all(type(v) is int for v in rng)
                    and kind == "integer"
                ):
                    raise ValueError(f"Column {name!r} has an invalid range.")
                enc._ranges[name] = tuple(rng)
        enc._slices = []
        start = 0
        for name, kind in zip(columns, enc.kinds_, strict=True):
            width = len(enc.categories_[name]) if kind == "category" else 1
            enc._slices.append((start, start + width))
            start += width
        enc.n_encoded_ = start
        if record["dtype"] not in ("float32", "float64"):
            raise ValueError("A table encoder record's dtype is not a float dtype.")
        enc.dtype_ = np.dtype(record["dtype"])
        enc.spec_ = _check_spec(record["spec"], enc.n_encoded_)
        if not all(t in TABLE_COLUMN_TYPES for t in record["types"]):
            raise ValueError("A table encoder record has unknown column types.")
        enc.types_ = dict(zip(columns, record["types"], strict=True))
        enc._quantiles = {}
        for name, kind, kind_type, knots in zip(
            columns, enc.kinds_, record["types"], record["quantiles"], strict=True
        ):
            if (knots is not None) != (kind_type == "quantile"):
                raise ValueError(
                    f"Column {name!r} has quantile knots and type mismatched."
                )
            if knots is not None:
                enc._quantiles[name] = _check_knots(knots, name, kind)
        return enc


def _entries(value: Any) -> list:
    """The columns of one entry of a specification, as a list."""
    return [value] if isinstance(value, (str, Integral)) else list(value)


def _quantile_knots(
    series: Any, name: Any, weight: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """The maps of a ``"quantile"`` column: values to normal scores and back.

    Each distinct value v, seen c times among n, covers the interval
    [a, b] of the empirical distribution function; it is encoded as the
    normal score of the interval's middle. Decoding interpolates linearly
    between knots on the score scale; a value seen more than once keeps a
    plateau (scores of a + 1/(2n) to b - 1/(2n) decode to v exactly), so
    point masses survive, while values seen once are joined smoothly. Scores
    outside the knots decode to the smallest or largest value seen. At most
    :data:`MAX_KNOTS` knots are kept (evenly thinned, the ends and the
    knots of the 250 heaviest point masses kept). With
    ``weight``, the rows of positive weight alone (all, where none of them
    is observed), each seen its weight over the least positive one times.

    Returns
    -------
    u, z : ndarray
        Forward map knots (distinct values, increasing, and their scores).
    z_back, u_back : ndarray
        Inverse map knots (increasing scores, non-decreasing values).
    """
    from scipy.special import ndtri

    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    seen = ~np.isnan(values)
    if weight is not None and (seen & (weight > 0)).any():
        seen &= weight > 0
        weight = weight[seen]
    else:
        weight = None
    values = values[seen]
    if values.size == 0:
        raise ValueError(
            f"Column {name!r} has no observed value (all missing); drop it "
            "before fitting."
        )
    if not np.isfinite(values).all():
        raise ValueError(f"Column {name!r} holds infinite values.")
    if weight is None:
        u, counts = np.unique(values, return_counts=True)
    else:
        u, index = np.unique(values, return_inverse=True)
        counts = np.bincount(index, weights=row_counts(weight), minlength=len(u))
        u, counts = u[counts > 0], counts[counts > 0]  # negligible weights
    n = counts.sum()
    upper = np.cumsum(counts) / n
    lower = upper - counts / n
    z = ndtri((lower + upper) / 2)
    if len(u) == 1:
        return u, np.zeros(1), np.zeros(1), u.copy()
    half = 0.5 / n
    lo, hi = ndtri(lower + half), ndtri(upper - half)
    plateau = counts > 1
    z_back = np.where(plateau[:, None], np.stack([lo, hi], 1), z[:, None]).ravel()
    u_back = np.repeat(u, 2)
    keep = np.repeat(plateau, 2) | (np.arange(2 * len(u)) % 2 == 0)
    z_back, u_back = z_back[keep], u_back[keep]

    def thin(arrays: tuple, chosen: np.ndarray) -> tuple[np.ndarray, ...]:
        """At most MAX_KNOTS knots: evenly spaced ones (the ends), and ``chosen``."""
        n = len(arrays[0])
        if n <= MAX_KNOTS:
            return arrays
        even = np.linspace(0, n - 1, MAX_KNOTS - len(chosen)).round().astype(int)
        index = np.union1d(even, chosen)
        return tuple(a[index] for a in arrays)

    # the heaviest point masses keep their knots (and plateaus): thinned
    # evenly, most repeated values would decode as a blend of neighbours
    heavy = np.flatnonzero(plateau)
    heavy = heavy[np.argsort(-counts[heavy], kind="stable")[: MAX_KNOTS // 4]]
    first = np.cumsum(np.where(plateau, 2, 1)) - np.where(plateau, 2, 1)
    u, z = thin((u, z), heavy)
    z_back, u_back = thin((z_back, u_back), np.r_[first[heavy], first[heavy] + 1])
    return u, z, z_back, u_back


def _to_scores(x: np.ndarray, u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Values to normal scores by the forward knots (NaN stays NaN).

    Linear between knots; beyond them the end segments go on, so a value far
    outside the training range keeps a score far out (a low density).
    """
    if len(u) == 1:
        return np.where(np.isnan(x), np.nan, x - u[0])
    out = np.interp(x, u, z)
    first, last = (z[1] - z[0]) / (u[1] - u[0]), (z[-1] - z[-2]) / (u[-1] - u[-2])
    out = np.where(x < u[0], z[0] + (x - u[0]) * first, out)
    out = np.where(x > u[-1], z[-1] + (x - u[-1]) * last, out)
    return np.where(np.isnan(x), np.nan, out)


def _check_knots(knots: Any, name: Any, kind: str) -> tuple[np.ndarray, ...]:
    """A quantile column's saved knots (:func:`_quantile_knots`), or ValueError."""
    bad = ValueError(f"Column {name!r} has invalid quantile knots.")
    if (
        kind not in ("float", "integer")
        or not isinstance(knots, list)
        or len(knots) != 4
    ):
        raise bad
    arrays = []
    for part in knots:
        if (
            not isinstance(part, list)
            or not 1 <= len(part) <= 2 * MAX_KNOTS
            or not all(type(v) in (int, float) for v in part)
        ):
            raise bad
        arrays.append(np.asarray(part, dtype=np.float64))
    u, z, z_back, u_back = arrays
    if (
        not all(np.isfinite(a).all() for a in arrays)
        or len(u) != len(z)
        or len(z_back) != len(u_back)
        or (np.diff(u) <= 0).any()
        or (np.diff(z) <= 0).any()
        or (np.diff(z_back) <= 0).any()
        or (np.diff(u_back) < 0).any()
    ):
        raise bad
    return u, z, z_back, u_back


def _label_record(label: Any) -> Any:
    """A column label as JSON: a string or a number, as ``from_record`` reads."""
    plain = _plain(label, "a column label")
    if isinstance(plain, (str, int)) or (
        isinstance(plain, float) and np.isfinite(plain)
    ):
        return plain
    raise TypeError(
        f"Cannot save the column label {label!r}: a model fitted on a DataFrame "
        "is saved when its column labels are strings or finite numbers; rename the "
        "columns (e.g. join a MultiIndex's levels into strings) before fitting."
    )


def _plain(value: Any, what: str) -> Any:
    """A JSON value (strings, numbers, booleans, lists, string-keyed dicts)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, np.generic) and isinstance(value.item(), (bool, int, float)):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v, what) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, what) for k, v in value.items()}
    raise TypeError(
        f"Cannot save {what}: a value of type {type(value).__name__}; a model "
        "fitted on a DataFrame is saved when its column labels and categories "
        "are strings, numbers or booleans."
    )


def _dtype_record(dtype: Any) -> Any:
    """A pandas or numpy dtype as JSON."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return {"category": bool(dtype.ordered)}
    if isinstance(dtype, pd.StringDtype):
        return {"string": [dtype.storage, "NA" if dtype.na_value is pd.NA else "nan"]}
    return str(dtype)


def _dtype_from_record(record: Any) -> Any:
    """The dtype of :func:`_dtype_record` (one that a table column may have)."""
    import pandas as pd

    if isinstance(record, dict) and list(record) == ["category"]:
        if not isinstance(record["category"], bool):
            raise ValueError("A categorical dtype's order is not a boolean.")
        return pd.CategoricalDtype(ordered=record["category"])
    if isinstance(record, dict) and list(record) == ["string"]:
        storage, na = record["string"] if len(record["string"]) == 2 else (None, None)
        if storage not in ("python", "pyarrow") or na not in ("NA", "nan"):
            raise ValueError(f"Unknown string dtype {record!r}.")
        return pd.StringDtype(storage, na_value=pd.NA if na == "NA" else np.nan)
    if not isinstance(record, str) or len(record) > 32:
        raise ValueError(f"Unknown dtype {record!r}.")
    try:
        dtype = pd.api.types.pandas_dtype(record)
    except TypeError as exc:
        raise ValueError(f"Unknown dtype {record!r}.") from exc
    if _kind(dtype) is None:
        raise ValueError(f"Unexpected dtype {record!r}.")
    return dtype


def _check_spec(spec: Any, width: int) -> str | dict:
    """A likelihood specification over ``width`` encoded columns, or ValueError."""
    if isinstance(spec, str) and (spec in LIKELIHOODS or spec == "auto"):
        return spec
    if not isinstance(spec, dict) or not set(spec) <= COLUMN_TYPES:
        raise ValueError("A table encoder record has an unknown likelihood.")

    def index(c: Any) -> int:
        if type(c) is not int or not 0 <= c < width:
            raise ValueError("A table encoder record's likelihood has a bad column.")
        return c

    out: dict[str, list] = {}
    for kind, entries in spec.items():
        if not isinstance(entries, list):
            raise ValueError("A table encoder record's likelihood is not lists.")
        if kind == "categorical":
            out[kind] = [
                [index(c) for c in group] if isinstance(group, list) else index(-1)
                for group in entries
            ]
        else:
            out[kind] = [index(c) for c in entries]
    return out
