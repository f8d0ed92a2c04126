"""The ``skvae`` command line: fit, transform, predict, score, sample, demo.

``skvae fit DATA.csv --model vae -o model.skvae`` fits a model to the numeric
columns of a CSV file and saves it with :func:`skvae.save` (a safe format:
loading never runs code from the file); ``skvae transform``, ``skvae
predict``, ``skvae score`` and ``skvae sample`` load it and write CSV files
whose header carries the column names of the data; ``skvae demo`` fits VAEs
on scikit-learn's digits. ``python -m skvae`` is the same command.

Starting is quick: this module imports neither torch nor scikit-learn, and a
command imports them only when it needs them (``skvae --help`` and argument
errors do not). CSV files are read with pandas when it is installed (fast,
and the column names are kept in the fitted model as ``feature_names_in_``),
else with Python's ``csv`` module. Errors of the input (a missing file, a
cell that is not a number, ragged rows, a wrong number of columns, a file
that is not a skvae model, an output folder that does not exist) print one
line on stderr and exit with status 2; the output is checked before a fit
starts.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import itertools
import math
import os
import re
import shlex
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

#: Short spellings of ``--model`` kept from earlier versions; every model
#: family is also reachable by its class name in lower case (``--model vade``).
ALIASES = {
    "conditional": "ConditionalVAE",
    "vq": "VQVAE",
    "vq2": "VQVAE2",
    "aae": "AdversarialAE",
    "hierarchical": "HierarchicalVAE",
    "ladder": "LadderVAE",
    "semisupervised": "SemiSupervisedVAE",
    "outlier": "VAEOutlierDetector",
    "imputer": "VAEImputer",
}

#: The estimators that are not model families but fit a table as they are:
#: they wrap a VAE, which the model options (``--beta``...) configure.
META_ESTIMATORS = ("VAEImputer", "VAEOutlierDetector")


def model_choices() -> dict[str, str]:
    """``--model`` choices and the estimator each one fits.

    Derived, without importing them, from the one list of skvae's estimators
    (``skvae.__all__`` and the module of each name, which
    :func:`skvae.persistence._registry` also reads): every model family (the
    estimators of ``skvae.models``, all built on :class:`skvae.BaseVAE`) and
    the meta-estimators in :data:`META_ESTIMATORS`, by class name in lower
    case and by the short names in :data:`ALIASES`.

    Examples
    --------
    >>> model_choices()["vae"], model_choices()["vq"], model_choices()["outlier"]
    ('VAE', 'VQVAE', 'VAEOutlierDetector')
    """
    import skvae

    modules = skvae._MODULES
    names = sorted(
        n for n in skvae.__all__ if modules[n].startswith("skvae.models.")
    ) + [n for n in META_ESTIMATORS if n in modules]
    choices = {name.lower(): name for name in names}
    choices.update({a: n for a, n in ALIASES.items() if n in names})
    return choices


_EXIT_ERROR = 2
#: Cells read as missing (NaN), in both readers; any other text is an error.
# an integer label, read as a number: no leading zero ("007" stays text, so that
# it is not merged with "7"), no sign but "-", within int64
_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,17}")  # no "-0", no leading zeros
_NA = ("", "NA", "N/A", "n/a", "NaN", "nan", "-nan", "-NaN", "NULL", "null", "None")
#: The rows below a first row of whole numbers that tell whether it is a header.
_HEADER_ROWS = 1000
#: The fewest rows of numbers below a first row of whole numbers for it to
#: be read as a header of years (:func:`_numbers_as_names`).
_MIN_HEADER_BELOW = 20
#: Column names of row identifiers: ``id``, ``ID``, ``row_id``, ``id_visit``,
#: ``patientId``, ``PatientID``, ``index``... (``_warn_identifiers``).
_ID_NAME = re.compile(
    r"(?i:^(?:id|idx|index|uuid|guid|rownum|row_?number)$|^id[ _.-]|[ _.-]id$)"
    r"|[a-z0-9](?:Id|ID)$"
)
#: Names of columns of time or place whose values may run 1, 2, 3... one a
#: row (a table of months, a grid's rows) without naming rows.
_ORDINAL_NAME = re.compile(
    r"(?i:^(?:t|time|step|year|month|week|day|hour|minute|second|period|age|"
    r"row|col|column|x|y|z|lag|rank|level|order|position|pos)s?$)"
)
#: The fewest rows for a column of distinct consecutive integers to be taken
#: for an identifier (fewer can be so by chance).
_MIN_ID_ROWS = 10
#: The most rows ``sample -n`` writes.
MAX_SAMPLES = 10**9


class CommandError(Exception):
    """An error of the user's input: reported in one line, exit status 2.

    Examples
    --------
    >>> main(["transform", "missing.skvae", "missing.csv"])
    2
    """


def run_demo(output: str | Path = "skvae_demo.png", max_iter: int = 200) -> dict:
    """Fit VAEs on the bundled digits, print a table and save a figure.

    Fits a VAE with a 2-D latent space (for the scatter plot) and one with 10
    latent dimensions on 80% of scikit-learn's 8x8 digits, then reports on the
    held-out 20%: the ELBO, the reconstruction error against PCA with the same
    number of components, and the fit time.
    The figure is drawn with :mod:`skvae.plotting`'s displays: reconstructions,
    samples, traversals of the five latent dimensions with the largest KL,
    the 2-D latent space coloured by digit, the loss curves and the KL per
    latent dimension.

    Parameters
    ----------
    output : str or Path or None, default="skvae_demo.png"
        Where the figure is written (needs matplotlib; skipped without it);
        None writes no figure. Its folder must exist and its extension be a
        format matplotlib writes (png, pdf, svg...): both are checked before
        anything is fitted.
    max_iter : int, default=200
        Maximum epochs of each fit (early stopping usually ends sooner); at
        least 1.

    Returns
    -------
    results : dict
        ``{n_components: {"elbo", "vae_mse", "pca_mse", "fit_time"}}`` and the
        figure's path under ``"figure"`` (None when it was not written).

    Raises
    ------
    ValueError
        If ``max_iter`` is not a positive integer, or ``output`` is a folder,
        is in a folder that does not exist or has an extension that
        matplotlib cannot write.

    Examples
    --------
    >>> results = run_demo(output=None, max_iter=2)  # doctest: +ELLIPSIS
    n_components ...
    >>> list(results)
    [2, 10, 'figure']
    """
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral):
        raise ValueError(f"max_iter must be an integer, got {max_iter!r}.")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}.")
    if output is not None:
        _check_figure(output)
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    from skvae import VAE

    digits = load_digits()
    X = digits.data / 16.0
    X_train, X_test, _, y_test = train_test_split(
        X, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    models, results = {}, {}
    print(
        f"{'n_components':>12} {'held-out ELBO':>14} {'VAE MSE':>9} "
        f"{'PCA MSE':>9} {'PCA/VAE':>8} {'epochs':>7} {'fit time':>9}"
    )
    for k in (2, 10):
        vae = VAE(
            n_components=k,
            early_stopping=True,
            n_iter_no_change=20,
            max_iter=max_iter,
            random_state=0,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vae.fit(X_train)
        fit_time = time.perf_counter() - start
        vae_mse = np.mean((vae.inverse_transform(vae.transform(X_test)) - X_test) ** 2)
        pca = PCA(n_components=k).fit(X_train)
        pca_mse = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
        elbo = vae.score(X_test)
        models[k] = vae
        results[k] = {
            "elbo": elbo,
            "vae_mse": vae_mse,
            "pca_mse": pca_mse,
            "fit_time": fit_time,
        }
        print(
            f"{k:>12d} {elbo:>14.2f} {vae_mse:>9.4f} {pca_mse:>9.4f} "
            f"{pca_mse / vae_mse:>7.2f}x {vae.n_iter_:>7d} {fit_time:>8.1f}s"
        )
    print(
        "ELBO: nats per held-out digit (Gaussian log-density of pixels / 16, "
        "higher is better); MSE per pixel."
    )
    results["figure"] = None
    if output is None:
        return results
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install matplotlib).")
        return results
    from skvae.plotting import (
        KLPerDimensionDisplay,
        LatentSpaceDisplay,
        LossCurveDisplay,
        ReconstructionDisplay,
        SamplesDisplay,
        TraversalDisplay,
    )

    vae2, vae10 = models[2], models[10]
    pixels = {"image_shape": (8, 8), "vmin": 0.0, "vmax": 1.0}
    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    ReconstructionDisplay.from_estimator(vae10, X_test[:10], ax=axes[0, 0], **pixels)
    SamplesDisplay.from_estimator(
        vae10, 36, random_state=1, n_cols=9, ax=axes[0, 1], **pixels
    )
    kl = KLPerDimensionDisplay.from_estimator(vae10, ax=axes[1, 2])
    strongest = np.argsort(kl.kl_per_dim[-1])[::-1][:5]  # the 5 largest KLs
    TraversalDisplay.from_estimator(
        vae10, X_test[0], dims=strongest, ax=axes[0, 2], **pixels
    )
    LatentSpaceDisplay.from_estimator(vae2, X_test, y_test, ax=axes[1, 0])
    LossCurveDisplay.from_estimator(vae10, ax=axes[1, 1])
    fig.tight_layout()
    path = Path(output)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"Figure written to {path}")
    results["figure"] = path
    return results


def _check_figure(output: str | Path) -> None:
    """The demo's figure can be written: a file, in a folder, of a known format."""
    path = Path(output)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name to write.")
    if not path.parent.is_dir():
        raise ValueError(
            f"cannot write {path}: the folder {path.parent} does not exist; "
            "create it first (mkdir -p) or choose another path."
        )
    try:
        from matplotlib.figure import Figure
    except ImportError:  # no figure is drawn: nothing more to check
        return
    formats = Figure().canvas.get_supported_filetypes()
    extension = path.suffix[1:].lower()
    if extension and extension not in formats:
        raise ValueError(
            f"cannot write {path}: {extension!r} is not a figure format; "
            f"use one of {', '.join(sorted(formats))}."
        )


# ---------------------------------------------------------------- CSV files
class _Table:
    """A CSV file read: its column names, numbers, target and where it came from."""

    def __init__(self, source: Any, path: Any, delimiter: str, header: bool) -> None:
        self.source, self.path = source, path
        self.delimiter, self.header = delimiter, header
        self.names: list[str] | None = None
        self.X = np.empty((0, 0))
        self.y: np.ndarray | None = None
        self.columns: list[int] = []  # the file's column (0-based) of each of X's
        self.target_name: str | None = None  # the header's name of the target

    def line_of(self, row: int) -> int:
        """The line of the file that holds data row ``row`` (0-based)."""
        rows = _rows(self.source, self.path, self.delimiter)
        for i, (line, _) in enumerate(rows):
            if i == row + int(self.header):
                rows.close()
                return line
        return -1  # not reached for a row of the table

    def where(self, row: int, column: int) -> str:
        """``"PATH, line N, column K ('name')"`` for a cell of X."""
        place = f"{self.path}, line {self.line_of(row)}"
        place += f", column {self.columns[column] + 1}"
        if self.names is not None:
            place += f" ({self.names[column]!r})"
        return place


def read_csv(
    path: str | Path,
    *,
    header: bool | None = None,
    delimiter: str = ",",
    target: str | None = None,
    drop: Sequence[str] = (),
    engine: str = "auto",
) -> tuple[list[str] | None, np.ndarray, np.ndarray | None]:
    r"""Read a numeric CSV file, with an optional header and target column.

    Parameters
    ----------
    path : str or Path
        The file; ``"-"`` reads standard input.
    header : bool or None, default=None
        Whether the first row holds column names; None decides from the row
        itself (a header has a field that is not a number, those of
        ``target`` and ``drop`` aside where they are given by index, or only
        missing markers such as ``NA``: no number at all).
    delimiter : str, default=","
        The field separator, one character.
    target : str or None, default=None
        A column to return apart: its name (with a header) or its 0-based
        index (negative counts from the end).
    drop : sequence of str, default=()
        Columns to leave out, each by its name or its 0-based index
        (negative counts from the end); they may hold text.
    engine : {"auto", "pandas", "numpy", "python"}, default="auto"
        The reader: ``pandas.read_csv`` (the fastest; "auto" uses it when
        pandas is installed), else ``numpy.loadtxt`` (for files without
        empty cells or a target), else Python's ``csv`` module, which also
        locates every problem. They read the same numbers and report bad
        input alike, with the line and column.

    Returns
    -------
    names : list of str or None
        The names of the columns of ``X`` (None without a header).
    X : ndarray of shape (n_rows, n_columns)
        The other columns as floats. Empty cells and the usual markers of a
        missing value (``NA``, ``NaN``, ``null``, ``None``...) are NaN.
    y : ndarray of shape (n_rows,) or None
        The target column as strings (None without ``target``).

    Raises
    ------
    CommandError
        If a field is not a number or is infinite, rows have different
        lengths, the file has no data row or is not UTF-8 text, a header
        names a column twice, or the target column or a column to drop
        does not exist.

    Warns
    -----
    UserWarning
        If the first column has no name and counts the rows 0, 1, 2... (the
        index that ``DataFrame.to_csv`` writes by default); it is kept as a
        column of ``X``.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "data.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("a,b,label\n1,2,x\n3,,y\n")
    ...     names, X, y = read_csv(path, target="label")
    >>> names, X.tolist(), y.tolist()
    (['a', 'b'], [[1.0, 2.0], [3.0, nan]], ['x', 'y'])
    """
    table = _read_table(
        path,
        header=header,
        delimiter=delimiter,
        target=target,
        drop=drop,
        engine=engine,
    )
    return table.names, table.X, table.y


def _read_table(
    path: str | Path,
    *,
    header: bool | None,
    delimiter: str,
    target: str | None,
    drop: Sequence[str] = (),
    engine: str = "auto",
    fitted: list[str] | bool | None = False,
) -> _Table:
    # fitted: the names of the model the rows are for (None: it has none;
    # False: no model, a fit's file)
    if engine not in ("auto", "pandas", "numpy", "python"):
        raise ValueError(
            f"engine must be 'auto', 'pandas', 'numpy' or 'python', got {engine!r}"
        )
    delimiter = _delimiter(delimiter)
    if str(path) == "-":
        # a byte-order mark, as a file's "utf-8-sig" reading drops it: else
        # it sticks to the first field (a number read as a header)
        source = io.StringIO(sys.stdin.read().removeprefix("\ufeff"))
    else:
        source = path
    rows = _rows(source, path, delimiter)
    first = next(rows, None)
    rows.close()
    if first is None:
        raise CommandError(f"{path}: the file is empty.")
    row = first[1]
    width = len(row)
    # every row ending with a delimiter: an empty last column, left out (its
    # index is none of --target's or --drop's)
    trailing = _ends_with_delimiter(source, path, delimiter, width)
    usable = width - int(trailing)
    table = _Table(source, path, delimiter, header=False)
    if header is None:
        header = _detect_header(table, row[:usable], [target, *drop], fitted)
    table.header = header
    names = [v.strip() for v in row] if header else None
    if names is not None:
        _check_names(names, path)
    named = None if names is None else names[:usable]
    j = None if target is None else _column(target, named, usable, path)
    skip = _dropped(drop, named, usable, path, j)
    if trailing:
        skip.add(width - 1)
        warnings.warn(
            f"{path}: every row ends with the delimiter {delimiter!r}, which "
            f"makes an empty last column{' without a name' if header else ''}: "
            "it is left out.",
            UserWarning,
            stacklevel=2,
        )
    table.columns = [k for k in range(width) if k != j and k not in skip]
    read = None
    if engine in ("auto", "pandas"):
        try:
            read = _read_pandas(table, width, j)
        except ImportError:
            if engine == "pandas":
                raise
            engine = "numpy"
    if engine == "numpy" and len(table.columns) == width:  # no target, no drop
        read = _read_numpy(table, width)
    if read is None:  # a problem that the csv reader locates, a target, a drop
        read = _read_python(table, width, j, names)
    table.X, table.y = read
    if not len(table.X):
        raise CommandError(
            f"{path}: no data rows" + (" (only a header)." if header else ".")
        )
    if names is not None:
        table.names = [names[k] for k in table.columns]
        table.target_name = None if j is None else names[j]
        if names[0] == "" and table.columns[:1] == [0]:
            _warn_index(table)
    infinite = np.isinf(table.X)
    if infinite.any():
        i, k = np.argwhere(infinite)[0]
        raise CommandError(
            f"{table.where(i, k)}: the value is infinite or too large for a "
            "number; correct it or leave the cell empty (missing)."
        )
    return table


def _detect_header(
    table: _Table,
    row: list[str],
    columns: list[Any],
    fitted: list[str] | bool | None = False,
) -> bool:
    """Whether the first row holds names, read off the row and the rows below.

    A field that is not a number, or no number at all (a row of missing
    markers, "NA,None", names columns: as data it says nothing); ``columns``
    (the target, the columns to drop) given by index are left out (their
    labels may be text). For a fit's file (``fitted`` False), a row counting
    the columns 0, 1, 2..., or one of whole numbers far outside their
    columns' values (years over values of order 1: :func:`_numbers_as_names`),
    is a header, with a warning. For a fitted model's rows, a row of numbers
    is a header where it spells the model's column names in their order
    (``fitted``; None: the model has none) or counts the columns, else data:
    an outlier in the first row of a few new rows is not a row of years.
    """
    kept = _kept(row, columns)
    fields = [row[k] for k in kept]
    if not all(_is_number(v) for v in fields) or all(v.strip() in _NA for v in fields):
        return True
    named = fitted is not False and fitted is not None
    if named and [v.strip() for v in fields] == list(fitted):
        return True  # the model's names, in its order
    shown = ", ".join(v.strip() for v in fields[:4]) + (
        ", ..." if len(kept) > 4 else ""
    )
    if _counts_columns(row):
        warnings.warn(
            f"{table.path}: the first row counts the columns 0, 1, 2...: the "
            "labels pandas' to_csv writes for an unnamed array, read as a "
            "header (pass --no-header if that row is data).",
            UserWarning,
            stacklevel=3,
        )
        return True
    if fitted is not False:  # a model's rows: an outlier first row is data
        return False
    verdict = _numbers_as_names(table, fields, kept)
    if verdict == "header":
        warnings.warn(
            f"{table.path}: the first row ({shown}) holds whole numbers far "
            "outside the values of their columns below, as names such as years "
            "would be: read as a header (pass --no-header if that row is data).",
            UserWarning,
            stacklevel=3,
        )
        return True
    if verdict == "doubt":
        warnings.warn(
            f"{table.path}: the first row ({shown}) holds distinct whole "
            "numbers outside the range of their columns below: read as data "
            "(pass --header if it names the columns).",
            UserWarning,
            stacklevel=3,
        )
    return False


def _numbers_as_names(table: _Table, fields: list[str], kept: list[int]) -> Any:
    """``"header"``, ``"doubt"`` or None for a first row of numbers.

    Only a row of two or more distinct whole numbers (written as integers:
    ``2019``, not ``2019.0``) may hold names. It is a header when each of
    them is more than twice as large in magnitude as every value of its
    column in the next :data:`_HEADER_ROWS` rows (and more than 2), at least
    :data:`_MIN_HEADER_BELOW` of them: years over values of order 1 (or of
    order 100). It is in doubt when each of them lies outside the range of
    its column below, which holds a value that is not a whole number (or
    when fewer rows are below: an outlier in the first of a few rows looks
    the same).
    """
    values = [v.strip() for v in fields]
    if len(values) < 2 or len(set(values)) < len(values):
        return None
    if not all(_INTEGER.fullmatch(v) for v in values):
        return None
    below: list[list[float]] = [[] for _ in kept]
    rows = _rows(table.source, table.path, table.delimiter)
    try:
        next(rows)
        for _, row in itertools.islice(rows, _HEADER_ROWS):
            for numbers, k in zip(below, kept, strict=True):
                number = _float_or_nan(row[k]) if k < len(row) else math.nan
                if math.isfinite(number):
                    numbers.append(number)
    finally:
        rows.close()
    if not all(below):  # a column without numbers below: no telling
        return None
    if all(
        abs(int(v)) > 2 * max(1.0, max(map(abs, numbers)))
        for v, numbers in zip(values, below, strict=True)
    ):
        return "header" if min(map(len, below)) >= _MIN_HEADER_BELOW else "doubt"
    if all(
        not min(numbers) <= int(v) <= max(numbers)
        and any(x != round(x) for x in numbers)
        for v, numbers in zip(values, below, strict=True)
    ):
        return "doubt"
    return None


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _check_names(names: list[str], path: Any) -> None:
    """A header names each column once."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise CommandError(
                f"{path}: the header names column {name!r} twice; "
                "give each column its own name (or, where the first row "
                "is data, pass --no-header)."
            )
        seen.add(name)


def _ends_with_delimiter(source: Any, path: Any, delimiter: str, width: int) -> bool:
    """Whether every row ends with the delimiter: an empty last field throughout.

    Only a file whose first row ends so is read through (Excel and other
    tools write such files); a file of ragged rows is not (its rows are
    refused later, by their line).
    """
    rows = _rows(source, path, delimiter)
    try:
        for _, row in rows:
            if width < 2 or len(row) != width or row[-1].strip():
                return False
    finally:
        rows.close()
    return True


def _kept(row: list[str], columns: Sequence[str | None]) -> list[int]:
    """The indices of the first row's fields but those of ``columns`` by index.

    A column named by a field of the row is a name (a header); one given as
    an index (the target, a column to drop) is left out, unless no field
    would be left.

    Examples
    --------
    >>> _kept(["0.5", "1.5", "virginica"], ["2"])
    [0, 1]
    >>> _kept(["a", "b", "label"], ["label"])
    [0, 1, 2]
    >>> _kept(["P-7", "0.5", "x"], [None, "0", "-1"])
    [1]
    """
    names = [v.strip() for v in row]
    indices = {
        _target_index(c, len(row)) for c in columns if c is not None and c not in names
    }
    kept = [k for k in range(len(row)) if k not in indices]
    return kept or list(range(len(row)))


def _counts_columns(row: list[str]) -> bool:
    """Whether a first row is 0, 1, 2... (after an empty index name, if any).

    Examples
    --------
    >>> _counts_columns(["0", "1", "2"]), _counts_columns(["", "0", "1"])
    (True, True)
    >>> _counts_columns(["0", "1", "5"]), _counts_columns(["0"])
    (False, False)
    """
    fields = [v.strip() for v in row]
    if fields and fields[0] == "":
        fields = fields[1:]
    return len(fields) > 1 and fields == [str(k) for k in range(len(fields))]


def _warn_index(table: _Table) -> None:
    """Warn of a first column that looks like a row index saved by pandas.

    ``DataFrame.to_csv`` writes the index by default: a first column without
    a name that counts the rows 0, 1, 2... It is kept (the data are not
    changed behind the user's back), but it is most likely not a feature.
    """
    if table.X.shape[1] and _counts_rows(table.X[:, 0]):
        warnings.warn(
            f"{table.path}: the first column has no name and counts the rows "
            "0, 1, 2...: a row index written by pandas' DataFrame.to_csv? It "
            "is read as a feature; save the file with to_csv(..., index=False) "
            "or leave that column out with --drop 0 if it is not one.",
            UserWarning,
            stacklevel=2,
        )


def _counts_rows(values: np.ndarray) -> bool:
    """Whether a column is 0, 1, 2... (more than one row)."""
    return len(values) > 1 and np.array_equal(values, np.arange(len(values)))


def _warn_identifiers(table: _Table) -> None:
    """Warn of each column that looks like a row identifier, not a feature.

    A column whose name reads as one (:data:`_ID_NAME`), or that holds
    distinct consecutive whole numbers (one a row, at least
    :data:`_MIN_ID_ROWS` rows) is most likely an identifier: modelled as a
    feature, ``sample`` would generate IDs such as 1038.85. It is kept (the
    user decides), with a warning that names ``--drop``. An unnamed first
    column counting the rows 0, 1, 2... is :func:`_warn_index`'s.
    """
    for k, column in enumerate(table.columns):
        name = None if table.names is None else table.names[k]
        values = table.X[:, k]
        if name and _ID_NAME.search(name):
            why = "its name"
        elif name == "" and column == 0 and _counts_rows(values):
            continue  # pandas' index: _warn_index's
        elif name and _ORDINAL_NAME.search(name):
            continue  # months 1 to 12, a grid's rows: a feature
        else:
            why = _consecutive(values)
        if why is None:
            continue
        spec = _spelled(name) if name else str(column)
        what = f"column {name!r}" if name else f"column {column + 1}"
        warnings.warn(
            f"{table.path}: {what} looks like a row identifier ({why}): it is "
            f"modelled as a feature; leave it out with --drop {spec} if it "
            "names rows rather than describes them.",
            UserWarning,
            stacklevel=2,
        )


def _consecutive(values: np.ndarray) -> str | None:
    """``"the whole numbers 3 to 12, one a row"`` for an identifier, else None.

    Examples
    --------
    >>> _consecutive(np.arange(20.0)[::-1] + 1000)
    'the whole numbers 1000 to 1019, one a row'
    >>> _consecutive(np.arange(5.0)) is None  # too few rows to tell
    True
    """
    n = len(values)
    if n < _MIN_ID_ROWS or not np.all(np.isfinite(values)):
        return None
    low, high = values.min(), values.max()
    if high - low != n - 1 or not np.array_equal(values, np.round(values)):
        return None
    if len(np.unique(values)) != n:
        return None
    return f"the whole numbers {low:.0f} to {high:.0f}, one a row"


def _read_pandas(
    table: _Table, width: int, j: int | None
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """X and y through ``pandas.read_csv``; None where it cannot say.

    None on any problem in the file: the csv reader then reads it again and
    reports the problem with its line and column. ImportError without pandas.
    """
    import pandas as pd

    columns = list(range(width))
    numeric = table.columns
    # one column more than the first row's: a row with a field too many
    # (a trailing delimiter, which index_col=False would drop) fills it, and
    # the csv reader then names the row; the target's text as it is (no
    # missing markers)
    # (the columns left out: as text, unread)
    others = [k for k in [*columns, width] if k not in numeric]
    options: dict[str, Any] = {
        "na_values": {k: list(_NA) for k in numeric},
        "dtype": {k: object for k in others},
    }
    source = table.source
    if isinstance(source, io.StringIO):
        source.seek(0)
    try:
        with warnings.catch_warnings():
            # rows longer than the first would be cut short with this warning
            warnings.simplefilter("error", pd.errors.ParserWarning)
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # text: below
            frame = pd.read_csv(
                source,
                sep=table.delimiter,
                header=0 if table.header else None,
                names=[*columns, width],
                index_col=False,
                keep_default_na=False,
                encoding="utf-8-sig",
                engine="c",
                **options,
            )
    except (ValueError, pd.errors.ParserWarning):  # parse errors are ValueErrors
        return None
    if frame.pop(width).notna().any():
        return None
    numbers = frame if len(numeric) == frame.shape[1] else frame[numeric]
    if any(dtype.kind not in "fiu" for dtype in numbers.dtypes):
        return None  # a cell that is not a number
    X = numbers.to_numpy(dtype=np.float64)
    y = None
    if j is not None:
        y = np.array([str(v).strip() for v in frame[j].tolist()])
    if np.isnan(X).any() or (y is not None and (y == "").any()):
        _check_widths(table, width)  # pandas reads short rows as empty cells
    return X, y


def _read_numpy(table: _Table, width: int) -> tuple[np.ndarray, None] | None:
    """X through ``numpy.loadtxt`` (without pandas); None where it cannot say.

    numpy's reader refuses empty cells and ragged rows: the csv reader then
    reads the file again and reports the problem or reads the empty cells.
    """
    source = table.source
    if isinstance(source, io.StringIO):
        source.seek(0)
    try:
        X = np.loadtxt(
            source,
            delimiter=table.delimiter,
            skiprows=int(table.header),
            ndmin=2,
            dtype=np.float64,
            comments=None,
            quotechar='"',
            encoding="utf-8-sig",
        )
    except ValueError:
        return None
    return (X, None) if X.shape[1] == width else None


def _read_python(
    table: _Table, width: int, j: int | None, names: list[str] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """X and y through the ``csv`` module, naming the place of any problem."""
    rows = list(_rows(table.source, table.path, table.delimiter))
    data = rows[1:] if table.header else rows
    for line, row in data:
        if len(row) != width:
            raise CommandError(_ragged(table, line, row, width))
    columns = table.columns
    X = np.empty((len(data), len(columns)))
    for i, (line, row) in enumerate(data):
        for k, c in enumerate(columns):
            X[i, k] = _number(row[c], table, line, c, names)
    y = None if j is None else np.array([row[j].strip() for _, row in data])
    return X, y


def _check_widths(table: _Table, width: int) -> None:
    """Every row has ``width`` fields, or an error names the first that has not."""
    for line, row in _rows(table.source, table.path, table.delimiter):
        if len(row) != width:
            raise CommandError(_ragged(table, line, row, width))


def _ragged(table: _Table, line: int, row: list[str], width: int) -> str:
    """The message for ``row`` (at ``line``) of another width than the first row."""
    start = (
        f"{table.path}, line {line}: {len(row)} fields, but the first row has {width}"
    )
    rows = _rows(table.source, table.path, table.delimiter)
    first = next(rows)[1]
    rows.close()
    other = _split_alike(first, row, table.delimiter)
    if other is not None:
        n_fields = len(table.delimiter.join(first).split(other))
        spelled = "tab" if other == "\t" else other
        return (
            f"{start}; is the delimiter {other!r}? Use --delimiter '{spelled}' "
            f"(split by it, both rows have {n_fields} fields)."
        )
    if len(row) == width + 1 and not row[-1].strip():
        return f"{start}; it ends with the delimiter {table.delimiter!r}: delete it."
    return (
        f"{start}; every row needs the same number of fields (an empty field "
        "marks a missing value)."
    )


def _split_alike(first: list[str], row: list[str], delimiter: str) -> str | None:
    """Another delimiter that splits two rows into as many fields (2 or more).

    Examples
    --------
    >>> _split_alike(["x;y;z"], ["1", "5;2", "5;3", "5"], ",")
    ';'
    >>> _split_alike(["a", "b"], ["1", "2", "3"], ",") is None
    True
    """
    lines = delimiter.join(first), delimiter.join(row)
    for other in ",;\t|":
        if other != delimiter:
            counts = {len(text.split(other)) for text in lines}
            if len(counts) == 1 and counts.pop() > 1:
                return other
    return None


def _rows(source: Any, path: Any, delimiter: str) -> Any:
    """``(line, fields)`` of each non-blank row, any problem as a CommandError.

    A blank line (or one of spaces) is skipped, as pandas skips it; a quoted
    empty field (``""``, how pandas writes a missing value of a one-column
    table) is a row with a hole, as pandas reads it.
    """
    with contextlib.ExitStack() as stack:
        if isinstance(source, io.StringIO):
            source.seek(0)
            f = source
        else:
            f = stack.enter_context(open(source, newline="", encoding="utf-8-sig"))
        reader = csv.reader(f, delimiter=delimiter)
        try:
            for row in reader:
                if row and (len(row) > 1 or row[0] == "" or row[0].strip()):
                    yield reader.line_num, row
        except csv.Error as exc:
            limit = csv.field_size_limit()
            if "field limit" in str(exc):
                raise CommandError(
                    f"{path}, line {reader.line_num}: a field longer than "
                    f"{limit:,} characters; is this a CSV file of numbers?"
                ) from None
            raise CommandError(f"{path}, line {reader.line_num}: {exc}.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); "
                "save the file as UTF-8."
            ) from None


def _is_number(value: str) -> bool:
    value = value.strip()
    if value in _NA:
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _number(
    value: str, table: _Table, line: int, column: int, names: list[str] | None
) -> float:
    """A field as a float (a missing marker: NaN), or an error naming its place."""
    value = value.strip()
    if value in _NA:
        return math.nan
    try:
        return float(value)
    except ValueError:
        pass
    where = f"column {column + 1}"
    if names is not None:
        where += f" ({_short(names[column])})"
    hint = _delimiter_hint(value, table.delimiter)
    if hint and value.count(",") == 1 and _is_number(value.replace(",", ".")):
        # one comma in a number: a decimal comma first (the file's delimiter
        # is not ',', and a comma splitting numbers would be a ragged row)
        hint = (
            ": a decimal comma? Convert the file first: pandas.read_csv(path, "
            f"sep={table.delimiter!r}, decimal=',').to_csv(new, index=False)"
            f" (or{hint[1:].replace('? Use', '? Then use')})"
        )
    elif not hint and names is not None:
        spec = _spelled(names[column])
        hint = (
            f"; leave the column out with --drop {spec}, or set a label column "
            f"apart with --target {spec}"
        )
    raise CommandError(
        f"{table.path}, line {line}, {where}: {_short(value)} is not a number{hint}."
    )


def _spelled(name: str) -> str:
    """A column's name as an argument for the shell.

    Examples
    --------
    >>> _spelled("patient_id"), _spelled("blood pressure")
    ('patient_id', "'blood pressure'")
    """
    return shlex.quote(name)


def _short(text: str, size: int = 40) -> str:
    """``repr(text)``, cut to about ``size`` characters."""
    return repr(text if len(text) <= size else text[: size - 3] + "...")


def _column(target: str, names: list[str] | None, width: int, path: Any) -> int:
    """The index of the target column, from its name or its index."""
    if names is not None and target in names:
        return names.index(target)
    index = _target_index(target, width)
    if index is None and _is_integer_text(target):
        raise CommandError(f"{path}: no column {target} (the file has {width}).")
    if index is None:
        # (names split by another character than the file's hold it)
        hint = _delimiter_hint(" ".join(names or ()), None)
        raise CommandError(
            f"{path}: no column named {target!r}"
            + (
                f" (columns: {', '.join(names)})."
                if names
                else "; the file has no header."
            )
            + (f" I{hint[3:]}." if hint else "")  # ("; is..." as a sentence)
        )
    return index


def _dropped(
    drop: Sequence[str], names: list[str] | None, width: int, path: Any, j: Any
) -> set[int]:
    """The indices of the columns that ``--drop`` leaves out."""
    skip = set()
    for column in drop:
        k = _column(column, names, width, path)
        if k == j:
            raise CommandError(
                f"--drop {column} is the --target column; name it once: "
                "--target sets the labels apart, --drop leaves a column out."
            )
        skip.add(k)
    if len(skip) + (j is not None) == width:
        raise CommandError(f"{path}: --drop leaves no data column; keep one.")
    return skip


def _is_integer_text(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _target_index(target: str, width: int) -> int | None:
    """The column ``target`` gives by its index (0-based, or from the end).

    None where it is no integer or out of range.

    Examples
    --------
    >>> _target_index("2", 3), _target_index("-1", 3), _target_index("3", 3)
    (2, 2, None)
    """
    if not _is_integer_text(target):
        return None
    index = int(target)
    return index % width if -width <= index < width else None


def _delimiter_hint(value: str, delimiter: str | None) -> str:
    """The hint naming another delimiter that ``value`` holds than ``delimiter``.

    Empty where ``value`` holds none of ``,;`` tab ``|`` but ``delimiter``.

    Examples
    --------
    >>> _delimiter_hint("1;2", ",")
    "; is the delimiter ';'? Use --delimiter ';'"
    """
    others = [c for c in ",;\t|" if c in value and c != delimiter]
    if not others:
        return ""
    spelled = "tab" if others[0] == "\t" else others[0]
    return f"; is the delimiter {others[0]!r}? Use --delimiter '{spelled}'"


def _delimiter(text: str) -> str:
    """The field separator from ``--delimiter`` (``tab``: a tab)."""
    text = {"tab": "\t", "\\t": "\t", "space": " "}.get(text, text)
    if len(text) != 1 or text in "\"'\r\n.-+" or text.isalnum():
        raise CommandError(
            f"--delimiter must be one character that cannot be part of a number "
            f"(such as ',', ';', '|' or 'tab'), got {text!r}."
        )
    return text


def write_csv(path: str | Path, names: Sequence[str], values: np.ndarray) -> None:
    """Write rows of values under a header row (``"-"``: standard output).

    Parameters
    ----------
    path : str or Path
        The file, or ``"-"`` for standard output.
    names : sequence of str
        The column names.
    values : ndarray of shape (n_rows,) or (n_rows, n_columns)
        The values; numbers are written in their shortest exact form.

    Examples
    --------
    >>> write_csv("-", ["score"], np.array([0.5, -1.25]))
    score
    0.5
    -1.25
    """
    values = np.asarray(values)
    values = values.reshape(len(values), -1)
    if str(path) == "-":
        _write_rows(sys.stdout, names, values)
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        _write_rows(f, names, values)


def _write_rows(f: Any, names: Sequence[str], values: np.ndarray) -> None:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(values.tolist())


# ------------------------------------------------------------- subcommands
def _fit(args: argparse.Namespace) -> None:
    name = model_choices()[args.model]
    _check_output(args.output, data=args.data)
    _check_options(args, name)
    table = _read_input(args, target=args.target)
    _warn_identifiers(table)
    _check_empty_columns(table)
    X = table.X
    allowed = name == "VAEImputer" or args.missing == "mask"
    from skvae.persistence import _registry

    cls = _registry()[name]
    masks = name not in META_ESTIMATORS and "missing" in cls().get_params()
    _check_missing(table, allowed=allowed, model=None, masks=masks)
    scaler = None
    if args.standardize:
        scaler = _fit_scaler(X)
        X = (X - scaler["mean"]) / scaler["scale"]
    model = _build_model(args, name, *X.shape)
    X_in = _frame(X, table.names)
    if model.__sklearn_tags__().target_tags.required:
        if table.y is None:
            raise CommandError(
                f"--model {args.model} needs the label column: --target COLUMN."
            )
        model.fit(X_in, _labels(table, args, name))
        # the name of the label column that sample writes
        model.cli_target_ = table.target_name or "label"
    else:
        model.fit(X_in)
    if scaler is not None:
        model.cli_scaler_ = scaler
    from skvae.persistence import save

    save(model, args.output)
    inner = getattr(model, "estimator_", model)
    curve = getattr(inner, "loss_curve_", None)
    loss = f", final loss {curve[-1]:.4g}" if curve else ""
    epochs = getattr(inner, "n_iter_", None)
    done = f" ({epochs} epochs{loss})" if epochs is not None else ""
    print(
        f"{name} fitted on {X.shape[0]} rows x {X.shape[1]} columns{done}; "
        f"saved to {args.output}"
    )


def _check_empty_columns(table: _Table) -> None:
    """Refuse a column without any value: no model can learn it, nor fill it."""
    empty = np.flatnonzero(np.isnan(table.X).all(axis=0))
    if empty.size:
        k = int(empty[0])
        column = table.columns[k]
        name = None if table.names is None else table.names[k]
        what = f"column {column + 1}" + (f" ({name!r})" if name is not None else "")
        spec = _spelled(name) if name else str(column)
        raise CommandError(
            f"{table.path}: {what} has no value in any row (every cell empty or "
            f"a marker such as NA); leave it out with --drop {spec}."
        )


def _labels(table: _Table, args: argparse.Namespace, name: str) -> np.ndarray:
    """The target column for ``fit``: an empty cell is unlabelled or refused.

    For the semi-supervised model an empty cell, or a missing-value marker
    (``NA``, ``NaN``, ``null``, ``None``...), marks an unlabelled row (as
    ``-1`` does); any other model refuses it with its line. Labels that are
    all integers are given as integers, so that the classes are numbers.
    """
    y = table.y
    # a missing-value marker is no label, as it is no number in the data
    empty = np.isin(np.char.strip(y.astype(str)), _NA)
    if empty.any():
        if name != "SemiSupervisedVAE":
            i = int(np.flatnonzero(empty)[0])
            raise CommandError(
                f"{args.data}, line {table.line_of(i)}, column {args.target!r}: "
                "the label is missing (empty, or a marker such as NA); give "
                "every row its label (only --model semisupervised takes "
                "unlabelled rows, marked empty, NA or -1)."
            )
        y = np.where(empty, "-1", y)
    if all(_INTEGER.fullmatch(v) for v in y):
        return np.array([int(v) for v in y], dtype=np.int64)
    return y


def _check_options(args: argparse.Namespace, name: str) -> None:
    """Options that the chosen model cannot take, refused before any work."""
    if args.contamination is not None and name != "VAEOutlierDetector":
        raise CommandError("--contamination applies to --model outlier only.")
    if args.missing is not None and name == "VAEOutlierDetector":
        raise CommandError(
            "--missing does not apply to VAEOutlierDetector (it scores complete "
            "rows); fill the missing cells first, e.g. with --model imputer."
        )
    if args.missing == "error" and name == "VAEImputer":
        raise CommandError("VAEImputer always masks missing cells: drop --missing.")
    from skvae.persistence import _registry

    # a meta-estimator's options go to its VAE
    template = _registry()["VAE" if name in META_ESTIMATORS else name]()
    given = _given(args)
    if name in META_ESTIMATORS:
        given.pop("random_state")
    _model_params(given, template, name)


def _given(args: argparse.Namespace) -> dict[str, tuple[str, Any]]:
    """``{parameter: (option, value)}`` of the model options (None: not given)."""
    return {
        "n_components": ("--n-components", args.n_components),
        "hidden_layer_sizes": ("--hidden-layer-sizes", args.hidden_layer_sizes),
        "likelihood": ("--likelihood", args.likelihood),
        "n_clusters": ("--n-clusters", args.n_clusters),
        "beta": ("--beta", args.beta),
        "missing": ("--missing", args.missing),
        "batch_size": ("--batch-size", args.batch_size),
        "early_stopping": ("--early-stopping", args.early_stopping or None),
        "max_iter": ("--max-iter", args.max_iter),
        "random_state": ("--random-state", args.random_state),
        "device": ("--device", args.device),
        "verbose": ("--verbose", args.verbose or None),
    }


def _build_model(
    args: argparse.Namespace, name: str, n_samples: int, n_features: int
) -> Any:
    """The estimator ``--model`` names, with the options given."""
    from skvae.persistence import _registry

    cls = _registry()[name]
    given = _given(args)
    if name not in META_ESTIMATORS:
        return cls(**_model_params(given, cls(), name))
    # A meta-estimator: the options configure the VAE inside it, sized to the
    # data as the meta-estimator's own default would be.
    outer: dict[str, Any] = {"random_state": args.random_state}
    if args.contamination is not None:
        outer["contamination"] = args.contamination
    inner_given = {k: v for k, v in given.items() if k != "random_state"}
    if any(value is not None for _, value in inner_given.values()):
        if name == "VAEImputer":
            from skvae.impute import default_imputer_vae as default
        else:
            from skvae.outlier import default_detector_vae as default
        vae = default(n_samples, n_features, random_state=args.random_state)
        outer["estimator"] = vae.set_params(**_model_params(inner_given, vae, name))
    return cls(**outer)


def _model_params(
    given: dict[str, tuple[str, Any]], template: Any, name: str
) -> dict[str, Any]:
    """Estimator parameters from the options given, checked against ``template``."""
    accepted = template.get_params(deep=False)
    params = {}
    for param, (option, value) in given.items():
        if value is None:
            continue
        if param not in accepted:
            raise CommandError(f"{option} does not apply to {name}.")
        params[param] = value
    sizes = params.get("n_components")
    if sizes is not None and len(sizes) == 1:
        params["n_components"] = sizes[0]
    elif sizes is not None and not isinstance(accepted["n_components"], tuple):
        raise CommandError(
            f"--n-components takes one number for {name}, got "
            f"{','.join(map(str, sizes))}."
        )
    return params


def _fit_scaler(X: np.ndarray) -> dict[str, np.ndarray]:
    """Column means and standard deviations of the observed cells.

    Binary (0/1) columns and constant ones are left as they are (mean 0,
    scale 1).
    """
    observed = ~np.isnan(X)
    n = np.maximum(observed.sum(axis=0), 1)
    filled = np.where(observed, X, 0.0)
    mean = filled.sum(axis=0) / n
    var = (np.where(observed, X - mean, 0.0) ** 2).sum(axis=0) / n
    scale = np.sqrt(var)
    binary = np.all(~observed | (X == 0) | (X == 1), axis=0)
    keep = binary | ~(scale > 0)
    mean[keep], scale[keep] = 0.0, 1.0
    return {"mean": mean, "scale": scale}


def _scaled(model: Any, X: np.ndarray) -> np.ndarray:
    """X as the model was fitted on it (standardised by ``fit --standardize``)."""
    scaler = getattr(model, "cli_scaler_", None)
    return X if scaler is None else (X - scaler["mean"]) / scaler["scale"]


def _unscaled(model: Any, X: np.ndarray) -> np.ndarray:
    """Rows from the model back in the units of the data."""
    scaler = getattr(model, "cli_scaler_", None)
    return X if scaler is None else X * scaler["scale"] + scaler["mean"]


def _transform(args: argparse.Namespace) -> None:
    _check_output(args.output, data=args.data, model=args.model)
    model = _load_model(args.model)
    if not hasattr(model, "transform"):
        raise CommandError(f"{type(model).__name__} has no transform.")
    table = _read_input(args, target=args.target, model=model)
    Z = model.transform(_model_input(model, table))
    if _is_imputer(model):  # the filled table, in the units of the data
        Z = _unscaled(model, Z)
        observed = ~np.isnan(table.X)
        Z[observed] = table.X[observed]
        names = table.names or _model_names(model) or _x_names(Z.shape[1])
    else:
        names = _output_names(model, Z.shape[1])
    write_csv(args.output, names, Z)


def _predict(args: argparse.Namespace) -> None:
    _check_output(args.output, data=args.data, model=args.model)
    model = _load_model(args.model)
    if not hasattr(model, "predict"):
        raise CommandError(
            f"{type(model).__name__} does not predict; --model outlier (-1 for "
            "an outlier, 1 for an inlier), vade (clusters) and semisupervised "
            "(classes) do."
        )
    table = _read_input(args, target=args.target, model=model)
    write_csv(args.output, ["label"], model.predict(_model_input(model, table)))


def _score(args: argparse.Namespace) -> None:
    _check_output(args.output, data=args.data, model=args.model)
    model = _load_model(args.model)
    if not hasattr(model, "score_samples"):
        raise CommandError(f"{type(model).__name__} has no score_samples.")
    table = _read_input(args, target=args.target, model=model)
    scores = model.score_samples(_model_input(model, table))
    from skvae._base import BaseVAE

    scaler = getattr(model, "cli_scaler_", None)
    # a model's log-densities in the data's units: the log-Jacobian of the
    # scaling, of the cells each row holds (a masked model's score leaves out
    # the rest); a detector's typicality is no density, and must stay
    # comparable with its offset_
    if scaler is not None and isinstance(model, BaseVAE):
        observed = ~np.isnan(np.asarray(table.X, dtype=np.float64))
        scores = scores - observed @ np.log(np.asarray(scaler["scale"], dtype=float))
    write_csv(args.output, ["score"], scores)


def _sample(args: argparse.Namespace) -> None:
    n = args.n_samples
    if not 1 <= n <= MAX_SAMPLES:
        raise CommandError(
            f"-n must be a positive integer of at most {MAX_SAMPLES:,}, got {n}."
        )
    _check_output(args.output, model=args.model)
    model = _load_model(args.model)
    if not hasattr(model, "sample"):
        raise CommandError(f"{type(model).__name__} cannot sample.")
    _check_room(args.output, n, getattr(model, "n_features_in_", 1))
    random_state, labels = args.random_state, None
    if args.label is not None and not hasattr(model, "classes_"):
        raise CommandError(
            f"--label needs a conditional model, not {type(model).__name__}."
        )
    if hasattr(model, "classes_"):
        if args.label is None:
            random_state, labels = _drawn_labels(model, n, random_state)
        else:
            labels = _label(model, args.label)
    _write_samples(model, n, args.output, random_state, labels)


def _drawn_labels(model: Any, n_samples: int, random_state: Any) -> tuple[int, Any]:
    """Labels drawn from a model's class prior, and the seed of the rows.

    ``model.sample`` would draw them itself, but does not return them: they
    are drawn here (from their own stream of the seed) and passed, so that
    ``sample`` writes each row's class. The rows are then those of
    ``model.sample(n_samples, seed, y=labels)``.
    """
    from skvae._torch import Stream, draw_seed, make_rng

    if random_state is None:  # the model's seed, else a fresh one
        random_state = model.random_state
    if random_state is None:
        random_state = draw_seed(None)
    rng = make_rng(draw_seed(random_state), Stream.NOISE)
    codes = rng.choice(len(model.classes_), size=n_samples, p=model.class_prior_)
    return random_state, model.classes_[codes]


def _check_room(output: str, n_samples: int, n_columns: int) -> None:
    """Refuse an output that cannot fit on its disk (about 24 bytes a value)."""
    if str(output) == "-":
        return
    folder = Path(output).resolve().parent
    needed = 24 * n_samples * n_columns
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise CommandError(
            f"-n {n_samples:,} would write about {needed / 1e9:,.1f} GB, but "
            f"{folder} has {free / 1e9:,.1f} GB free; ask for fewer rows."
        )


def _write_samples(
    model: Any, n_samples: int, output: str, random_state: Any, labels: Any
) -> None:
    """Write ``model.sample(n_samples)`` block by block as the rows are decoded.

    ``labels``: a conditional model's ``y``, one label or one a row (drawn
    by :func:`_drawn_labels`), written as the last column. Memory stays
    bounded whatever ``n_samples`` is (but for the labels, one a row, and the
    model's one-hot rows of them); a file
    left half written by an error is removed.
    """
    from skvae._base import sample_in_blocks

    to_stdout = str(output) == "-"
    header = True
    names = _model_names(model)
    kwargs = {} if labels is None else {"y": labels}
    start = 0  # the first row of the next block
    with contextlib.ExitStack() as stack:
        f = (
            sys.stdout
            if to_stdout
            else stack.enter_context(open(output, "w", newline="", encoding="utf-8"))
        )
        writer = csv.writer(f, lineterminator="\n")

        def write(block: Any) -> None:
            nonlocal header, start
            if hasattr(block, "to_numpy"):  # a model fitted on a table: typed rows
                block = block.to_numpy(
                    dtype=float if vars(model).get("cli_scaler_") else object
                )
            block = _unscaled(model, block.reshape(len(block), -1))
            if header:
                label = [vars(model).get("cli_target_", "label")]
                writer.writerow(
                    (names or _x_names(block.shape[1]))
                    + (label if labels is not None else [])
                )
                header = False
            rows = block.tolist()
            if labels is not None:
                stop = start + len(rows)
                ys = labels[start:stop] if np.ndim(labels) else [labels] * len(rows)
                rows = [[*r, y] for r, y in zip(rows, ys, strict=True)]
                start = stop
            writer.writerows(rows)

        try:
            sample_in_blocks(
                model, n_samples, write, random_state=random_state, **kwargs
            )
        except BaseException:
            if not to_stdout:
                stack.close()
                os.unlink(output)
            raise


def _demo(args: argparse.Namespace) -> None:
    if args.max_iter < 1:
        raise CommandError(f"--max-iter must be at least 1, got {args.max_iter}.")
    output = None if args.output.lower() == "none" else args.output
    if output is not None:
        _check_output(output)
    run_demo(output=output, max_iter=args.max_iter)


def _check_output(
    path: str | Path, *, data: str | None = None, model: str | None = None
) -> None:
    """An output file can be written: checked before any work is done.

    It may not be the data file or the model file read by the command:
    writing it would destroy the input.
    """
    if str(path) == "-":
        return
    path = Path(path)
    for what, given in (("data", data), ("model", model)):
        if given is not None and str(given) != "-" and _same_file(path, given):
            raise CommandError(
                f"-o {path} is the {what} file {given}: writing it would "
                "destroy the input; choose another output file."
            )
    if path.is_dir():
        raise CommandError(f"{path} is a folder; give a file name to write.")
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(
            f"cannot write {path}: the folder {folder} does not exist; "
            "create it first (mkdir -p) or choose another path."
        )
    if not os.access(folder, os.W_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise CommandError(f"cannot write {path}: permission denied.")


def _same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (links and relative paths resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def _load_model(path: str) -> Any:
    from skvae.persistence import InvalidModelFileError, load

    try:
        return load(path)
    except InvalidModelFileError as exc:
        raise CommandError(f"{path}: {exc}") from None


def _read_input(
    args: argparse.Namespace, *, target: str | None, model: Any = None
) -> _Table:
    """The data file's columns; checked against the model's if given."""
    table = _read_table(
        args.data,
        header=args.header,
        delimiter=args.delimiter,
        target=target,
        drop=args.drop or (),
        fitted=False if model is None else _model_names(model),
    )
    if model is None:
        return table
    expected = getattr(model, "n_features_in_", None)
    fitted = _model_names(model)
    if expected is not None and table.X.shape[1] != expected:
        extra = [n for n in table.names or () if n not in (fitted or ())]
        if fitted is not None and set(fitted) <= set(table.names or ()):
            hint = f" (leave the others out: --drop {' '.join(map(_spelled, extra))})"
        elif target:
            hint = " (leave columns out with --drop COLUMN)"
        else:
            hint = (
                " (set a label column apart with --target COLUMN, leave others "
                "out with --drop COLUMN)"
            )
        raise CommandError(
            f"{args.data} has {table.X.shape[1]} data columns, but the model was "
            f"fitted on {expected}{hint}."
        )
    if fitted is not None and table.names is not None and table.names != fitted:
        raise CommandError(
            f"{args.data}: the columns {_listed(table.names)} are not those the "
            f"model was fitted on, {_listed(fitted)}; rename them (or give a file "
            "without a header: columns are then taken in the model's order)."
        )
    _check_missing(table, allowed=_allows_missing(model), model=model)
    return table


def _listed(names: list[str], at_most: int = 6) -> str:
    shown = ", ".join(map(repr, names[:at_most]))
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "")


def _allows_missing(model: Any) -> bool:
    return (
        model.__sklearn_tags__().input_tags.allow_nan
        or getattr(model, "missing", None) == "mask"
    )


def _is_imputer(model: Any) -> bool:
    return type(model).__name__ == "VAEImputer"


def _check_missing(
    table: _Table, *, allowed: bool, model: Any, masks: bool = True
) -> None:
    """A missing cell is refused, by its place, unless the model masks them.

    ``masks``: whether the model ``fit`` is to fit can take ``--missing
    mask`` (only then is it suggested).
    """
    missing = np.isnan(table.X)
    if allowed or not missing.any():
        return
    i, k = np.argwhere(missing)[0]
    if model is None and masks:
        what = (
            "fill it in, fit with --missing mask (the likelihood then leaves "
            "missing cells out), or fill the gaps with --model imputer"
        )
    elif model is None:
        what = "fill it in, or fill the gaps with --model imputer first"
    else:
        what = (
            "fill it in (e.g. with a model fitted with --model imputer), or use "
            "a model fitted with --missing mask"
        )
    raise CommandError(
        f"{table.where(i, k)}: the cell is missing (empty, or a marker such as "
        f"NA or nan); {what}."
    )


def _model_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _model_input(model: Any, table: _Table) -> Any:
    """The rows for the model: scaled as at fit, named as at fit."""
    X = _scaled(model, table.X)
    names = _model_names(model)
    return X if names is None else _frame(X, names)


def _frame(X: np.ndarray, names: list[str] | None) -> Any:
    """X as a DataFrame with the column names (as is without pandas or names).

    Fitted on a DataFrame, an estimator keeps the names as ``feature_names_in_``.
    """
    if names is None:
        return X
    try:
        import pandas as pd
    except ImportError:
        return X
    return pd.DataFrame(X, columns=names, copy=False)


def _x_names(n_columns: int) -> list[str]:
    return [f"x{i}" for i in range(n_columns)]


def _output_names(model: Any, n_columns: int) -> list[str]:
    try:
        return [str(n) for n in model.get_feature_names_out()]
    except (AttributeError, ValueError):
        return _x_names(n_columns)


def _label(model: Any, label: str) -> Any:
    """``label`` as one of the model's classes (matched by its text)."""
    for value in model.classes_:
        if str(value) == label:
            return value
    known = ", ".join(str(v) for v in model.classes_)
    raise CommandError(f"--label {label!r} is not a class of the model ({known}).")


# ------------------------------------------------------------------ parser
class _Parser(argparse.ArgumentParser):
    """argparse, with errors on one line that points to ``--help``."""

    def error(self, message: str) -> Any:
        if message.endswith("required: DATA.csv"):  # eaten by --drop COLUMN...?
            message += (
                "; where it is given, put it before --drop, which takes every "
                "value after it"
            )
        self.exit(_EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def _sizes(text: str) -> tuple[int, ...]:
    """``"64,32"`` -> ``(64, 32)`` (argparse type)."""
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas, got {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return sizes


def _delimiter_arg(text: str) -> str:
    """``--delimiter`` (argparse type)."""
    try:
        return _delimiter(text)
    except CommandError as exc:
        raise argparse.ArgumentTypeError(
            str(exc).removeprefix("--delimiter ")
        ) from None


def _input_options(parser: argparse.ArgumentParser, *, target_help: str) -> None:
    parser.add_argument(
        "data", metavar="DATA.csv", help="numeric CSV file ('-': stdin)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--header",
        dest="header",
        action="store_const",
        const=True,
        help="the first row holds column names (default: detected)",
    )
    group.add_argument(
        "--no-header",
        dest="header",
        action="store_const",
        const=False,
        help="the first row is data",
    )
    parser.add_argument(
        "--delimiter",
        default=",",
        type=_delimiter_arg,
        help="field separator, one character or 'tab' (default: ',')",
    )
    parser.add_argument("--target", metavar="COLUMN", help=target_help)
    parser.add_argument(
        "--drop",
        nargs="+",
        action="extend",
        metavar="COLUMN",
        help=(
            "columns to leave out (names or 0-based indices), such as row "
            "identifiers; give them after DATA.csv"
        ),
    )


def _output_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE.csv",
        help=f"where to write the {what} (default: standard output)",
    )


def _model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.skvae", help="a model saved by fit")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="skvae",
        description="Variational autoencoders from the command line.",
        epilog="Run 'skvae COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_fit(sub)
    _add_transform(sub)
    _add_predict(sub)
    _add_score(sub)
    _add_sample(sub)
    demo = sub.add_parser(
        "demo",
        help="fit VAEs on the bundled digits",
        description="Fit VAEs on scikit-learn's digits, print a table, save a figure.",
    )
    demo.add_argument(
        "-o",
        "--output",
        default="skvae_demo.png",
        help="figure path ('none': no figure)",
    )
    demo.add_argument("--max-iter", type=int, default=200, help="epochs at most")
    demo.set_defaults(func=_demo)
    return parser


def _add_fit(sub: Any) -> None:
    fit = sub.add_parser(
        "fit",
        help="fit a model to a CSV file and save it",
        description=(
            "Fit a model to the numeric columns of DATA.csv and save it to a "
            ".skvae file (with the column names of the header). The default "
            "Gaussian likelihood expects columns of unit scale: --standardize "
            "scales them, and the other commands apply the same scaling."
        ),
    )
    _input_options(
        fit,
        target_help=(
            "label column (name or 0-based index): the labels of --model "
            "conditional; dropped from the data for the other models"
        ),
    )
    fit.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="MODEL.skvae",
        help="model file to write",
    )
    fit.add_argument(
        "--model",
        choices=list(model_choices()),
        default="vae",
        metavar="MODEL",
        help=(
            "the estimator (default: vae): vae, vade (clusters), outlier "
            "(VAEOutlierDetector), imputer (VAEImputer), conditional, "
            "semisupervised, wae, aae, hierarchical, ladder, vq, vq2, or any "
            "model family's class name in lower case"
        ),
    )
    fit.add_argument(
        "--standardize",
        action="store_true",
        help=(
            "scale each column to mean 0 and variance 1 first (0/1 columns are "
            "left as they are); the scaling is saved in the model file and "
            "applied by transform, predict, score and sample"
        ),
    )
    fit.add_argument(
        "--n-components",
        type=_sizes,
        metavar="K",
        help="latent dimension (hierarchical, ladder: sizes of the layers, e.g. 16,8)",
    )
    fit.add_argument(
        "--hidden-layer-sizes",
        type=_sizes,
        metavar="N,N",
        help="hidden widths, e.g. 64,32",
    )
    fit.add_argument(
        "--n-clusters", type=int, metavar="K", help="vade: the number of clusters"
    )
    fit.add_argument(
        "--beta", type=float, help="weight of the KL term (default: the model's)"
    )
    fit.add_argument(
        "--missing",
        choices=["error", "mask"],
        help="'mask': empty cells are left out of the likelihood (default: error)",
    )
    fit.add_argument(
        "--likelihood",
        choices=["gaussian", "bernoulli", "auto"],
        help="observation model ('auto': column types read off the data)",
    )
    fit.add_argument("--max-iter", type=int, metavar="EPOCHS", help="epochs at most")
    fit.add_argument("--batch-size", type=int, metavar="N", help="rows per step")
    fit.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop when the loss on a held-out 10%% stops improving",
    )
    fit.add_argument(
        "--contamination",
        type=float,
        metavar="FRACTION",
        help="--model outlier: the expected share of outliers (default: 'auto')",
    )
    fit.add_argument("--random-state", type=int, metavar="SEED", help="random seed")
    fit.add_argument("--device", help="'auto' (default), 'cpu', 'cuda' or 'cuda:N'")
    fit.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show the fit: the device, a progress bar where interactive and a "
        "summary; twice (-vv) one line per epoch",
    )
    fit.set_defaults(func=_fit)


def _add_transform(sub: Any) -> None:
    transform = sub.add_parser(
        "transform",
        help="write the latent codes (or the imputed table) of a CSV file",
        description=(
            "Encode the rows of DATA.csv (posterior means) with a saved model; "
            "a model fitted with --model imputer writes DATA.csv with its empty "
            "cells filled."
        ),
    )
    _model_argument(transform)
    _input_options(transform, target_help="a column to drop (name or 0-based index)")
    _output_option(transform, "codes")
    transform.set_defaults(func=_transform)


def _add_predict(sub: Any) -> None:
    predict = sub.add_parser(
        "predict",
        help="write a label per row: outlier (-1) or not (1), cluster, class",
        description=(
            "Label each row of DATA.csv with a saved model: -1 for an outlier "
            "and 1 for an inlier (--model outlier), the cluster (vade), the "
            "class (semisupervised)."
        ),
    )
    _model_argument(predict)
    _input_options(predict, target_help="a column to drop (name or 0-based index)")
    _output_option(predict, "labels")
    predict.set_defaults(func=_predict)


def _add_score(sub: Any) -> None:
    score = sub.add_parser(
        "score",
        help="write a log-likelihood score per row of a CSV file",
        description=(
            "Score each row of DATA.csv with a saved model: its log-likelihood "
            "estimate (score_samples; low scores flag outliers)."
        ),
    )
    _model_argument(score)
    _input_options(score, target_help="a column to drop (name or 0-based index)")
    _output_option(score, "scores")
    score.set_defaults(func=_score)


def _add_sample(sub: Any) -> None:
    sample = sub.add_parser(
        "sample",
        help="write new rows generated by a model",
        description=(
            "Generate rows from a saved model's prior (decoder means), under "
            "the column names of its data."
        ),
    )
    _model_argument(sample)
    sample.add_argument(
        "-n", "--n-samples", type=int, default=10, help="number of rows (default: 10)"
    )
    sample.add_argument("--random-state", type=int, metavar="SEED", help="random seed")
    sample.add_argument(
        "--label",
        help=(
            "class of the rows (conditional models; default: drawn from the "
            "class prior); written as the last column, under the name of "
            "fit's --target column"
        ),
    )
    _output_option(sample, "rows")
    sample.set_defaults(func=_sample)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skvae`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 on an error of the input (reported
        in one line on stderr), 1 when the reader of standard output has
        gone (e.g. ``| head``).

    Examples
    --------
    >>> main(["demo", "--max-iter", "2", "--output", "none"])  # doctest: +ELLIPSIS
    n_components ...
    0
    """
    args = _parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            args.func(args)
        except BrokenPipeError:  # e.g. piped into head: stop quietly
            _silence_stdout()
            return 1
        except (CommandError, ValueError, OSError, MemoryError, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and not _out_of_memory(exc):
                raise  # a bug, not the input: keep the traceback
            _report(caught)
            print(f"skvae {args.command}: error: {_one_line(exc)}", file=sys.stderr)
            return _EXIT_ERROR
    _report(caught)
    return 0


def _silence_stdout() -> None:
    """Send what is left of stdout to /dev/null (its reader has gone)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file
        pass


def _out_of_memory(exc: BaseException) -> bool:
    """Whether torch failed to allocate (``OutOfMemoryError``, the CPU allocator)."""
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate" in text


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"no such file: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    if isinstance(exc, MemoryError) or _out_of_memory(exc):
        return (
            "not enough memory; try a smaller model (--hidden-layer-sizes), "
            "--batch-size, file or -n."
        )
    return " ".join(str(exc).split())


def _report(caught: list[warnings.WarningMessage]) -> None:
    """Print each distinct warning once, on one line."""
    seen = set()
    for w in caught:
        text = f"{w.category.__name__}: {_one_line(w.message)}"
        if text not in seen:
            seen.add(text)
            print(f"skvae: warning: {text}", file=sys.stderr)
