"""What the task suites share: the tuning/reporting split and the summary tables.

Each suite (``suite_clustering.py``, ``suite_outliers.py``,
``suite_semisupervised.py``) builds its tasks from bundled data and gives each
task a stable name. The split into a tuning half and a reporting half is
decided here, once, from that name alone: the first byte of the SHA-256 of the
name, even for tuning and odd for reporting. Defaults are chosen on the tuning
half; the README's figures come from the reporting half. The rule does not
depend on seeds, task order or results, so adding a task never moves another.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

HALVES = ("tuning", "reporting")


def half_of(name: str) -> str:
    """The half a task belongs to, from its name alone."""
    return HALVES[hashlib.sha256(name.encode("utf-8")).digest()[0] % 2]


def select(names: Iterable[str], half: str) -> list[str]:
    """The names of ``names`` in ``half`` ("tuning", "reporting" or "all")."""
    if half not in (*HALVES, "all"):
        raise ValueError(f"half must be one of {(*HALVES, 'all')}, got {half!r}")
    return [n for n in names if half == "all" or half_of(n) == half]


def ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of each method (columns) on each task (rows), 1 = best (highest).

    Ties share the mean of their ranks.
    """
    from scipy.stats import rankdata

    return np.vstack([rankdata(-row, method="average") for row in scores])


def summary_table(
    methods: Sequence[str],
    tasks: Sequence[str],
    scores: np.ndarray,
    seconds: np.ndarray | None = None,
    metric: str = "score",
) -> str:
    """A plain-text table: per task scores, then mean score and mean rank.

    ``scores`` has one row per task and one column per method (already
    averaged over seeds); ``seconds`` (same shape) adds a mean fit time row.
    """
    width = max(12, *(len(m) + 2 for m in methods))
    name_w = max(24, *(len(t) + 2 for t in tasks))
    lines = ["task".ljust(name_w) + "".join(m.rjust(width) for m in methods)]
    for task, row in zip(tasks, scores, strict=True):
        best = np.nanmax(row)
        cells = [(f"{v:.3f}" + ("*" if v == best else " ")).rjust(width) for v in row]
        lines.append(task.ljust(name_w) + "".join(cells))
    lines.append(
        f"mean {metric}".ljust(name_w)
        + "".join(f"{v:.3f} ".rjust(width) for v in np.nanmean(scores, axis=0))
    )
    lines.append(
        "mean rank".ljust(name_w)
        + "".join(f"{v:.2f} ".rjust(width) for v in ranks(scores).mean(axis=0))
    )
    if seconds is not None:
        lines.append(
            "mean fit s".ljust(name_w)
            + "".join(f"{v:.2f} ".rjust(width) for v in np.nanmean(seconds, axis=0))
        )
    return "\n".join(lines)


def parameter(text):
    """("name", value) of a NAME=VALUE argument; the value a Python literal."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value  # a string such as "gmm"


def add_vade_params(parser, help):
    """``--vade-params NAME=VALUE ...``: VaDE parameters in place of its defaults."""
    parser.add_argument(
        "--vade-params",
        type=parameter,
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help=help,
    )
