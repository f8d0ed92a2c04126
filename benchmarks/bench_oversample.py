"""Oversampling a rare class: VAEOverSampler against imbalanced-learn's samplers.

Imbalanced binary tasks made from bundled data, the rare class cut (at random,
per seed) to a few percent, at least 10 rows (fewer would leave SMOTE's 5
neighbours too few rows after the split):

- breast_cancer: malignant against benign cut to 2, 3, 5 and 10%, and benign
  against malignant cut to 5%;
- digits: each digit against the other nine, cut to 5%;
- wine: each cultivar against the other two, cut to 8%;
- iris: each species against the other two, cut to 10%;
- diabetes: the top 10% of the target against the rest, and the top 25% cut
  to 5%;
- generated: ``make_classification`` tables (two clusters per class, some
  redundant and useless columns), positives cut to 3 to 10%.

Each task belongs to the tuning or the reporting half by
``_suites.half_of(name)`` (from the name alone): VAEOverSampler's defaults
were chosen on the tuning half; the README reports the reporting half.

For each task and seed, a stratified 70/30 split; the 70% is standardised and
resampled by: nothing, RandomOverSampler, SMOTE, ADASYN and VAEOverSampler
(SMOTE's and ADASYN's neighbours: min(5, minority rows - 1)); each
resampled set trains LogisticRegression(max_iter=1000) and
HistGradientBoostingClassifier. This is what the imbalanced-learn pipeline
StandardScaler -> sampler -> classifier does while fitting, with the sampler
run once for both classifiers. Reported on the 30%: balanced accuracy and
average precision (of the rare class), mean ± standard error over the seeds,
per task and the mean over the tasks, and the sampler's mean seconds. Then
the target check per classifier: VAEOverSampler minus SMOTE on each task,
with the standard error of that paired difference over the seeds; a task is
flagged when the difference is below minus one standard error. Run with::

    SKVAE_NUM_THREADS=1 python benchmarks/bench_oversample.py --half reporting

``--seeds 10 --first-seed 5`` runs seeds 5 to 14: a default chosen on the
first five seeds of the tuning half checked on seeds it was not chosen on.

``--crossing`` also prints, per task and sampler, the share of the new rows
that a class-weighted logistic regression fitted on the real training rows
(standardised, before resampling) puts in the other class: how many new rows
land across the linear boundary the real rows draw (SMOTE's segments between
two rows of the class rarely do; a move may).

``--rates`` also prints, per classifier, task and sampler, the mean recall of
the rare class (sensitivity) and of the common class (specificity) on the 30%:
which of the two a sampler trades when its balanced accuracy moves.

Target (issue #25): the best mean balanced accuracy over the tasks for at
least one of the two classifiers, and never below SMOTE by more than one
standard error on any task.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
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
)
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _suites import select

from skvae import VAEOverSampler

MIN_POSITIVES = 10


def _task(X, positive, rate):
    """(X, y) with ``positive`` rows as class 1, cut to ``rate`` of the rows."""
    X = np.asarray(X, dtype=float)
    positive = np.asarray(positive, dtype=bool)

    def make(seed):
        rng = np.random.default_rng(seed)
        pos, neg = np.flatnonzero(positive), np.flatnonzero(~positive)
        n_pos = max(MIN_POSITIVES, round(rate / (1 - rate) * len(neg)))
        keep = np.r_[neg, rng.choice(pos, min(n_pos, len(pos)), replace=False)]
        return X[keep], positive[keep].astype(int)

    return make


def _generated(n_features, seed):
    X, y = make_classification(
        n_samples=1200,
        n_features=n_features,
        n_informative=max(2, n_features // 3),
        n_redundant=n_features // 4,
        n_clusters_per_class=2,
        class_sep=1.0,
        random_state=seed,
    )
    return X, y == 1


def tasks() -> dict:
    """Every task: its name and a function of the seed giving (X, y)."""
    bc, dg, wn, ir = load_breast_cancer(), load_digits(), load_wine(), load_iris()
    db = load_diabetes()
    out = {}
    for rate in (2, 3, 5, 10):
        out[f"breast_cancer malignant {rate}%"] = _task(
            bc.data, bc.target == 0, rate / 100
        )
    out["breast_cancer benign 5%"] = _task(bc.data, bc.target == 1, 0.05)
    for d in range(10):
        out[f"digits {d} vs rest 5%"] = _task(dg.data, dg.target == d, 0.05)
    for c in range(3):
        out[f"wine {c} vs rest 8%"] = _task(wn.data, wn.target == c, 0.08)
    for c in range(3):
        out[f"iris {c} vs rest 10%"] = _task(ir.data, ir.target == c, 0.10)
    out["diabetes top 10%"] = _task(
        db.data, db.target > np.quantile(db.target, 0.9), 0.10
    )
    out["diabetes top 25% cut to 5%"] = _task(
        db.data, db.target > np.quantile(db.target, 0.75), 0.05
    )
    for n_features, rate, seed in ((8, 3, 0), (5, 5, 1), (10, 5, 2), (20, 5, 3)):
        out[f"generated {n_features} features {rate}%"] = _task(
            *_generated(n_features, seed), rate / 100
        )
    out["generated 40 features 10%"] = _task(*_generated(40, 4), 0.10)
    return out


def samplers(seed, n_minority, **vae_params):
    """The competitors, fresh for one run (None: no resampling)."""
    from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler

    k = max(1, min(5, n_minority - 1))
    return {
        "none": None,
        "RandomOverSampler": RandomOverSampler(random_state=seed),
        "SMOTE": SMOTE(k_neighbors=k, random_state=seed),
        "ADASYN": ADASYN(n_neighbors=k, random_state=seed),
        "VAEOverSampler": VAEOverSampler(random_state=seed, **vae_params),
    }


def classifiers(seed):
    return {
        "logistic": LogisticRegression(max_iter=1000),
        "hist_gb": HistGradientBoostingClassifier(random_state=seed),
    }


def split(make, seed):
    """The standardised 70% and 30% of one task at one seed."""
    X, y = make(seed)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def score(X_res, y_res, X_te, y_te, seed):
    """Per classifier, the four scores on the 30%.

    Balanced accuracy, average precision, sensitivity, specificity.
    """
    out = {}
    for c_name, clf in classifiers(seed).items():
        clf.fit(X_res, y_res)
        pred = clf.predict(X_te)
        out[c_name] = (
            balanced_accuracy_score(y_te, pred),
            average_precision_score(y_te, clf.predict_proba(X_te)[:, 1]),
            float(np.mean(pred[y_te == 1] == 1)),
            float(np.mean(pred[y_te == 0] == 0)),
        )
    return out


def crossing(reference, X_new, y_new):
    """Share of the new rows that ``reference`` puts in another class."""
    if len(y_new) == 0:
        return np.nan
    return float(np.mean(reference.predict(X_new) != y_new))


def run(task_names, n_seeds, vae_params, first_seed=0):
    # (task, sampler, clf, seed, bacc, ap, seconds, crossing, sens., spec.)
    rows = []
    all_tasks = tasks()
    for task in task_names:
        for seed in range(first_seed, first_seed + n_seeds):
            X_tr, X_te, y_tr, y_te = split(all_tasks[task], seed)
            n_min = int(y_tr.sum())
            reference = LogisticRegression(max_iter=1000, class_weight="balanced")
            reference.fit(X_tr, y_tr)
            for s_name, sampler in samplers(seed, n_min, **vae_params).items():
                t0 = time.perf_counter()
                try:
                    X_res, y_res = (
                        (X_tr, y_tr)
                        if sampler is None
                        else sampler.fit_resample(X_tr, y_tr)
                    )
                except (ValueError, RuntimeError) as exc:  # ADASYN may refuse
                    print(f"  {task} {s_name} seed {seed}: {exc}")
                    failed = (np.nan, np.nan, 0, np.nan, np.nan, np.nan)
                    for c_name in classifiers(seed):
                        rows.append((task, s_name, c_name, seed, *failed))
                    continue
                sec = time.perf_counter() - t0
                # imbalanced-learn's samplers and ours append the new rows
                cross = crossing(reference, X_res[len(X_tr) :], y_res[len(y_tr) :])
                for c_name, (b, a, tp, tn) in score(
                    X_res, y_res, X_te, y_te, seed
                ).items():
                    rows.append((task, s_name, c_name, seed, b, a, sec, cross, tp, tn))
        print(f"done {task}", flush=True)
    return rows


def _mean_se(v):
    v = np.asarray(v, float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.nan, np.nan
    se = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan
    return v.mean(), se


def _scores(rows, task, s_name, c_name, col):
    """One method's scores on one task, by seed (NaN where it failed)."""
    by_seed = {r[3]: r[col] for r in rows if r[:3] == (task, s_name, c_name)}
    return np.array([by_seed[s] for s in sorted(by_seed)], float)


def check_against(rows, c_name, ours="VAEOverSampler", ref="SMOTE", col=4):
    """Per task: ours - ref, and whether it is more than one se below.

    Two standard errors, both over the seeds: the larger of the two
    methods' own (the figures the tables print) and that of the paired
    difference (same split per seed; smaller when the two move together, so
    a near tie can be flagged). Returns ``{task: (mean difference, se,
    paired se, below by se, below by paired se)}``.
    """
    out = {}
    for task in dict.fromkeys(r[0] for r in rows):
        a = _scores(rows, task, ours, c_name, col)
        b = _scores(rows, task, ref, c_name, col)
        mean, paired = _mean_se(a - b)
        se = np.nanmax([_mean_se(a)[1], _mean_se(b)[1]])
        tie = 1e-9  # a tie is not below
        out[task] = (mean, se, paired, mean < -se - tie, mean < -paired - tie)
    return out


def report_crossing(rows):
    """Per task and sampler: the mean share of new rows across the boundary."""
    task_names = list(dict.fromkeys(r[0] for r in rows))
    s_names = [s for s in dict.fromkeys(r[1] for r in rows) if s != "none"]
    c_name = rows[0][2]  # the share does not depend on the classifier
    width = max(len(t) for t in task_names) + 2
    print(
        "\n### new rows across the boundary of a class-weighted logistic "
        "regression\n### fitted on the real rows, mean ± se over the seeds\n"
    )
    print("task".ljust(width) + "".join(s.rjust(20) for s in s_names))
    for t in task_names:
        cells = []
        for s in s_names:
            m, se = _mean_se(_scores(rows, t, s, c_name, 7))
            cells.append(f"{m:.3f}±{se:.3f}")
        print(t.ljust(width) + "".join(c.rjust(20) for c in cells))


def report_rates(rows):
    """Per classifier, task and sampler: mean sensitivity / specificity."""
    task_names = list(dict.fromkeys(r[0] for r in rows))
    s_names = list(dict.fromkeys(r[1] for r in rows))
    width = max(len(t) for t in task_names) + 2
    for c_name in dict.fromkeys(r[2] for r in rows):
        print(
            f"\n### {c_name}: recall of the rare class / of the common class "
            "(sensitivity / specificity), mean over the seeds\n"
        )
        print("task".ljust(width) + "".join(s.rjust(20) for s in s_names))
        for t in task_names:
            cells = []
            for s in s_names:
                tp = _mean_se(_scores(rows, t, s, c_name, 8))[0]
                tn = _mean_se(_scores(rows, t, s, c_name, 9))[0]
                cells.append(f"{tp:.3f} / {tn:.3f}")
            print(t.ljust(width) + "".join(c.rjust(20) for c in cells))


def report(rows, ours="VAEOverSampler"):
    task_names = list(dict.fromkeys(r[0] for r in rows))
    s_names = list(dict.fromkeys(r[1] for r in rows))
    width = max(len(t) for t in task_names) + 2
    for c_name in dict.fromkeys(r[2] for r in rows):
        print(f"\n### {c_name}: balanced accuracy / average precision, mean ± se\n")
        print("task".ljust(width) + "".join(s.rjust(30) for s in s_names))
        means = {s: ([], []) for s in s_names}
        for t in task_names:
            cells = []
            for s in s_names:
                b = _mean_se(_scores(rows, t, s, c_name, 4))
                a = _mean_se(_scores(rows, t, s, c_name, 5))
                means[s][0].append(b[0])
                means[s][1].append(a[0])
                cells.append(f"{b[0]:.3f}±{b[1]:.3f} / {a[0]:.3f}±{a[1]:.3f}")
            print(t.ljust(width) + "".join(c.rjust(30) for c in cells))
        print(
            "mean over tasks".ljust(width)
            + "".join(
                f"{np.nanmean(means[s][0]):.3f} / {np.nanmean(means[s][1]):.3f}".rjust(
                    30
                )
                for s in s_names
            )
        )
        secs = [np.mean([r[6] for r in rows if r[1] == s]) for s in s_names]
        print("sampler s".ljust(width) + "".join(f"{v:.2f}".rjust(30) for v in secs))
        best = max(s_names, key=lambda s: np.nanmean(means[s][0]))
        print(f"best mean balanced accuracy: {best}")
        if "SMOTE" in s_names and ours in s_names:
            check = check_against(rows, c_name, ours)
            print(f"\n{ours} - SMOTE, balanced accuracy (se: the larger of the two")
            print("methods' standard errors; paired se: of the per-seed difference)")
            for t, (m, se, pse, bad, pbad) in check.items():
                flag = (
                    "  BELOW by se" if bad else ("  below by paired se" if pbad else "")
                )
                z = m / se if se > 0 else 0.0
                ses = f"se {se:.3f} (z {z:+.1f})  paired se {pse:.3f}"
                print(f"  {t.ljust(width)} {m:+.3f}  {ses}{flag}")
            for i, kind in ((3, "se"), (4, "paired se")):
                flagged = [t for t, v in check.items() if v[i]]
                print(
                    f"{c_name}: below SMOTE by more than 1 {kind}: {len(flagged)} of "
                    f"{len(check)} tasks {flagged}"
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds run are first-seed, ..., first-seed + seeds - 1 (fresh seeds "
        "check a choice made on the first five)",
    )
    parser.add_argument(
        "--half", default="reporting", choices=["tuning", "reporting", "all"]
    )
    parser.add_argument(
        "--tasks", nargs="*", help="task names to run (default: all of the half)"
    )
    parser.add_argument(
        "--crossing",
        action="store_true",
        help="also print the share of new rows across the linear boundary of "
        "the real rows (a class-weighted logistic regression)",
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="VAEOverSampler parameters, e.g. --set step=0.5",
    )
    parser.add_argument(
        "--rates",
        action="store_true",
        help="also print the recall of the rare and of the common class "
        "(sensitivity / specificity) per classifier, task and sampler",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    vae_params = {}
    for item in args.set:
        name, value = item.split("=", 1)
        try:
            vae_params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            vae_params[name] = value
    names = args.tasks or select(tasks(), args.half)
    print(f"{len(names)} tasks ({args.half}): " + ", ".join(names))
    rows = run(names, args.seeds, vae_params, args.first_seed)
    report(rows)
    if args.crossing:
        report_crossing(rows)
    if args.rates:
        report_rates(rows)


if __name__ == "__main__":
    main()
