"""The ``skvae`` command line: fit, transform, score, sample, demo.

``skvae fit DATA.csv --model vae -o model.skvae`` fits a model to the numeric
columns of a CSV file and saves it with :func:`skvae.save` (a safe format:
loading never runs code from the file); ``skvae transform``, ``skvae score``
and ``skvae sample`` load it and write CSV files; ``skvae demo`` fits VAEs on
scikit-learn's digits. ``python -m skvae`` is the same command. Errors
(a missing file, a non-numeric value, a wrong number of columns, a file that
is not a skvae model) print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
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
}


def model_choices() -> dict[str, str]:
    """``--model`` choices and the estimator each one fits.

    Derived from the one list of skvae's estimators (``skvae.__all__``, read
    by :func:`skvae.persistence._registry`): every model family, that is
    every estimator built on :class:`skvae.BaseVAE`.

    Examples
    --------
    >>> model_choices()["vae"], model_choices()["vq"]
    ('VAE', 'VQVAE')
    """
    from skvae._base import BaseVAE
    from skvae.persistence import _registry

    families = sorted(n for n, c in _registry().items() if issubclass(c, BaseVAE))
    choices = {name.lower(): name for name in families}
    choices.update({a: n for a, n in ALIASES.items() if n in families})
    return choices


_EXIT_ERROR = 2


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
    output : str or Path, default="skvae_demo.png"
        Where the figure is written (needs matplotlib; skipped without it).
    max_iter : int, default=200
        Maximum epochs of each fit (early stopping usually ends sooner).

    Returns
    -------
    results : dict
        ``{n_components: {"elbo", "vae_mse", "pca_mse", "fit_time"}}`` and the
        figure's path under ``"figure"`` (None when it was not written).

    Examples
    --------
    >>> results = run_demo(output=None, max_iter=2)  # doctest: +ELLIPSIS
    n_components ...
    >>> list(results)
    [2, 10, 'figure']
    """
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
        print("matplotlib is not installed: no figure (pip install skvae[plot]).")
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"Figure written to {path}")
    results["figure"] = path
    return results


# ---------------------------------------------------------------- CSV files
def read_csv(
    path: str | Path,
    *,
    header: bool | None = None,
    delimiter: str = ",",
    target: str | None = None,
) -> tuple[list[str] | None, np.ndarray, np.ndarray | None]:
    r"""Read a numeric CSV file, with an optional header and target column.

    Parameters
    ----------
    path : str or Path
        The file; ``"-"`` reads standard input.
    header : bool or None, default=None
        Whether the first row holds column names; None decides from the row
        itself (a header has a field that is not a number).
    delimiter : str, default=","
        The field separator.
    target : str or None, default=None
        A column to return apart: its name (with a header) or its 0-based
        index (negative counts from the end).

    Returns
    -------
    names : list of str or None
        The names of the columns of ``X`` (None without a header).
    X : ndarray of shape (n_rows, n_columns)
        The other columns as floats (empty fields are NaN).
    y : ndarray of shape (n_rows,) or None
        The target column as strings (None without ``target``).

    Raises
    ------
    CommandError
        If a field is not a number, rows have different lengths, the file
        has no data row, or the target column does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "data.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("a,b,label\n1,2,x\n3,4,y\n")
    ...     names, X, y = read_csv(path, target="label")
    >>> names, X.shape, y.tolist()
    (['a', 'b'], (2, 2), ['x', 'y'])
    """
    rows = _read_rows(path, delimiter)
    if header is None:
        header = not all(_is_number(v) for v in rows[0])
    names = [v.strip() for v in rows[0]] if header else None
    data = rows[1:] if header else rows
    if not data:
        raise CommandError(f"{path}: no data rows.")
    width = len(rows[0])
    for i, row in enumerate(data):
        if len(row) != width:
            line = i + 1 + int(header)
            raise CommandError(
                f"{path}, line {line}: {len(row)} fields, but the first row "
                f"has {width}."
            )
    columns = list(range(width))
    y = None
    if target is not None:
        j = _column(target, names, width, path)
        y = np.array([row[j].strip() for row in data])
        columns.remove(j)
    X = np.empty((len(data), len(columns)))
    for i, row in enumerate(data):
        for k, j in enumerate(columns):
            X[i, k] = _number(row[j], path, i + 1 + int(header), j, names)
    if names is not None:
        names = [names[j] for j in columns]
    return names, X, y


def _read_rows(path: str | Path, delimiter: str) -> list[list[str]]:
    if str(path) == "-":
        rows = list(csv.reader(sys.stdin, delimiter=delimiter))
    else:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    rows = [row for row in rows if row and any(v.strip() for v in row)]
    if not rows:
        raise CommandError(f"{path}: the file is empty.")
    return rows


def _is_number(value: str) -> bool:
    value = value.strip()
    if not value:
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _number(
    value: str, path: Any, line: int, column: int, names: list[str] | None
) -> float:
    """A field as a float (empty: NaN), or an error naming its place."""
    value = value.strip()
    if not value:
        return math.nan
    try:
        return float(value)
    except ValueError:
        where = f"column {column + 1}"
        hint = ""
        if names is not None:
            where += f" ({names[column]!r})"
            hint = f"; a label column can be dropped with --target {names[column]}"
        raise CommandError(
            f"{path}, line {line}, {where}: {value!r} is not a number{hint}."
        ) from None


def _column(target: str, names: list[str] | None, width: int, path: Any) -> int:
    """The index of the target column, from its name or its index."""
    if names is not None and target in names:
        return names.index(target)
    try:
        index = int(target)
    except ValueError:
        raise CommandError(
            f"{path}: no column named {target!r}"
            + (
                f" (columns: {', '.join(names)})."
                if names
                else "; the file has no header."
            )
        ) from None
    if not -width <= index < width:
        raise CommandError(f"{path}: no column {index} (the file has {width}).")
    return index % width


def write_csv(path: str | Path, names: Sequence[str], values: np.ndarray) -> None:
    """Write rows of numbers under a header row (``"-"``: standard output).

    Parameters
    ----------
    path : str or Path
        The file, or ``"-"`` for standard output.
    names : sequence of str
        The column names.
    values : ndarray of shape (n_rows,) or (n_rows, n_columns)
        The numbers, written in their shortest exact form.

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
    from skvae.persistence import _registry, save

    name = model_choices()[args.model]
    cls = _registry()[name]
    _, X, y = _read_input(args, target=args.target)
    model = cls(**_model_params(args, cls))
    if model.__sklearn_tags__().target_tags.required:
        if y is None:
            raise CommandError(
                f"--model {args.model} needs the label column: --target COLUMN."
            )
        model.fit(X, y)
    else:
        model.fit(X)
    save(model, args.output)
    loss = f", final loss {model.loss_curve_[-1]:.4g}" if model.loss_curve_ else ""
    print(
        f"{name} fitted on {X.shape[0]} rows x {X.shape[1]} columns "
        f"({model.n_iter_} epochs{loss}); saved to {args.output}"
    )


def _model_params(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """Estimator parameters from the options given, checked against ``cls``."""
    given = {
        "n_components": ("--n-components", args.n_components),
        "hidden_layer_sizes": ("--hidden-layer-sizes", args.hidden_layer_sizes),
        "likelihood": ("--likelihood", args.likelihood),
        "max_iter": ("--max-iter", args.max_iter),
        "random_state": ("--random-state", args.random_state),
        "device": ("--device", args.device),
        "verbose": ("--verbose", args.verbose or None),
    }
    accepted = cls().get_params(deep=False)
    params = {}
    for param, (option, value) in given.items():
        if value is None:
            continue
        if param not in accepted:
            raise CommandError(f"{option} does not apply to {cls.__name__}.")
        params[param] = value
    sizes = params.get("n_components")
    if sizes is not None and len(sizes) == 1:
        params["n_components"] = sizes[0]
    elif sizes is not None and not isinstance(accepted["n_components"], tuple):
        raise CommandError(
            f"--n-components takes one number for {cls.__name__}, got "
            f"{','.join(map(str, sizes))}."
        )
    return params


def _transform(args: argparse.Namespace) -> None:
    model = _load_model(args.model)
    if not hasattr(model, "transform"):
        raise CommandError(f"{type(model).__name__} has no transform.")
    _, X, _ = _read_input(args, target=args.target, model=model)
    Z = model.transform(X)
    names = _output_names(model, Z.shape[1])
    write_csv(args.output, names, Z)


def _score(args: argparse.Namespace) -> None:
    model = _load_model(args.model)
    if not hasattr(model, "score_samples"):
        raise CommandError(f"{type(model).__name__} has no score_samples.")
    _, X, _ = _read_input(args, target=args.target, model=model)
    write_csv(args.output, ["score"], model.score_samples(X))


def _sample(args: argparse.Namespace) -> None:
    model = _load_model(args.model)
    if not hasattr(model, "sample"):
        raise CommandError(f"{type(model).__name__} cannot sample.")
    if args.n_samples < 1:
        raise CommandError(f"-n must be a positive integer, got {args.n_samples}.")
    kwargs = {}
    if args.label is not None:
        if not hasattr(model, "classes_"):
            raise CommandError(
                f"--label needs a conditional model, not {type(model).__name__}."
            )
        kwargs["y"] = _label(model, args.label)
    _write_samples(model, args.n_samples, args.output, args.random_state, kwargs)


def _write_samples(
    model: Any, n_samples: int, output: str, random_state: Any, kwargs: dict
) -> None:
    """Write ``model.sample(n_samples)`` block by block as the rows are decoded.

    Memory stays bounded whatever ``n_samples`` is; a file left half written
    by an error is removed.
    """
    from skvae._base import sample_in_blocks

    to_stdout = str(output) == "-"
    header = True
    with contextlib.ExitStack() as stack:
        f = (
            sys.stdout
            if to_stdout
            else stack.enter_context(open(output, "w", newline="", encoding="utf-8"))
        )
        writer = csv.writer(f, lineterminator="\n")

        def write(block: np.ndarray) -> None:
            nonlocal header
            block = block.reshape(len(block), -1)
            if header:
                writer.writerow([f"x{i}" for i in range(block.shape[1])])
                header = False
            writer.writerows(block.tolist())

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
    output = None if args.output.lower() == "none" else args.output
    run_demo(output=output, max_iter=args.max_iter)


def _load_model(path: str) -> Any:
    from skvae.persistence import InvalidModelFileError, load

    try:
        return load(path)
    except InvalidModelFileError as exc:
        raise CommandError(f"{path}: {exc}") from None


def _read_input(
    args: argparse.Namespace, *, target: str | None, model: Any = None
) -> tuple[list[str] | None, np.ndarray, np.ndarray | None]:
    """The data file's columns; checked against the model's width if given."""
    names, X, y = read_csv(
        args.data, header=args.header, delimiter=args.delimiter, target=target
    )
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and X.shape[1] != expected:
        hint = "" if target else " (drop a label column with --target COLUMN)"
        raise CommandError(
            f"{args.data} has {X.shape[1]} data columns, but the model was fitted "
            f"on {expected}{hint}."
        )
    return names, X, y


def _output_names(model: Any, n_columns: int) -> list[str]:
    try:
        return [str(n) for n in model.get_feature_names_out()]
    except (AttributeError, ValueError):
        return [f"x{i}" for i in range(n_columns)]


def _label(model: Any, label: str) -> Any:
    """``label`` as one of the model's classes (matched by its text)."""
    for value in model.classes_:
        if str(value) == label:
            return value
    known = ", ".join(str(v) for v in model.classes_)
    raise CommandError(f"--label {label!r} is not a class of the model ({known}).")


# ------------------------------------------------------------------ parser
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
        "--delimiter", default=",", help="field separator (default: ',')"
    )
    parser.add_argument("--target", metavar="COLUMN", help=target_help)


def _output_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE.csv",
        help=f"where to write the {what} (default: standard output)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skvae",
        description="Variational autoencoders from the command line.",
        epilog="Run 'skvae COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_fit(sub)
    _add_transform(sub)
    _add_score(sub)
    _add_sample(sub)
    demo = sub.add_parser(
        "demo",
        help="fit VAEs on the bundled digits",
        description="Fit VAEs on scikit-learn's digits, print a table, save a figure.",
    )
    demo.add_argument(
        "--output", default="skvae_demo.png", help="figure path ('none': no figure)"
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
            ".skvae file. Standardise real-valued columns first (the default "
            "Gaussian likelihood expects data of unit scale)."
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
        help="model family (default: vae)",
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
    fit.add_argument("--max-iter", type=int, metavar="EPOCHS", help="epochs at most")
    fit.add_argument(
        "--likelihood",
        choices=["gaussian", "bernoulli", "auto"],
        help="observation model ('auto': column types read off the data)",
    )
    fit.add_argument("--random-state", type=int, metavar="SEED", help="random seed")
    fit.add_argument("--device", help="'auto' (default), 'cpu', 'cuda' or 'cuda:N'")
    fit.add_argument("--verbose", action="store_true", help="print one line per epoch")
    fit.set_defaults(func=_fit)


def _add_transform(sub: Any) -> None:
    transform = sub.add_parser(
        "transform",
        help="write the latent codes of the rows of a CSV file",
        description="Encode the rows of DATA.csv (posterior means) with a saved model.",
    )
    transform.add_argument("model", metavar="MODEL.skvae", help="a model saved by fit")
    _input_options(transform, target_help="a column to drop (name or 0-based index)")
    _output_option(transform, "codes")
    transform.set_defaults(func=_transform)


def _add_score(sub: Any) -> None:
    score = sub.add_parser(
        "score",
        help="write a log-likelihood score per row of a CSV file",
        description=(
            "Score each row of DATA.csv with a saved model: its log-likelihood "
            "estimate (score_samples; low scores flag outliers)."
        ),
    )
    score.add_argument("model", metavar="MODEL.skvae", help="a model saved by fit")
    _input_options(score, target_help="a column to drop (name or 0-based index)")
    _output_option(score, "scores")
    score.set_defaults(func=_score)


def _add_sample(sub: Any) -> None:
    sample = sub.add_parser(
        "sample",
        help="write new rows generated by a model",
        description="Generate rows from a saved model's prior (decoder means).",
    )
    sample.add_argument("model", metavar="MODEL.skvae", help="a model saved by fit")
    sample.add_argument(
        "-n", "--n-samples", type=int, default=10, help="number of rows (default: 10)"
    )
    sample.add_argument("--random-state", type=int, metavar="SEED", help="random seed")
    sample.add_argument(
        "--label", help="class of the rows (conditional models; default: drawn)"
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
        except (CommandError, ValueError, OSError) as exc:
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


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"no such file: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split())


def _report(caught: list[warnings.WarningMessage]) -> None:
    """Print each distinct warning once, on one line."""
    seen = set()
    for w in caught:
        text = f"{w.category.__name__}: {_one_line(w.message)}"
        if text not in seen:
            seen.add(text)
            print(f"skvae: warning: {text}", file=sys.stderr)
