"""Outlier detection: skvae's VAEOutlierDetector against IsolationForest, PCA, PyOD.

Tasks from data that ships in scikit-learn:

- digits one-class: each digit in turn is the inlier class, plus 5% rows of
  other digits as outliers (pixels / 16);
- breast cancer: benign rows as inliers plus 10% malignant rows (standardised).

Every method is fitted on all rows of a task and scores the same rows
(unsupervised setting). Reported: mean ROC-AUC over tasks and 3 seeds, and the
mean fit time. Run with::

    pip install -e ".[bench]"
    python benchmarks/bench_outliers.py            # --seeds 3 --quick
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from skvae import VAEOutlierDetector


def one_class_task(X, y, inlier, share, rng):
    """Inliers of one class plus ``share`` of the result drawn from the others."""
    inliers = X[y == inlier]
    others = X[y != inlier]
    n_out = math.ceil(share / (1 - share) * len(inliers))
    outliers = others[rng.choice(len(others), n_out, replace=False)]
    X_task = np.vstack([inliers, outliers])
    is_outlier = np.r_[np.zeros(len(inliers)), np.ones(n_out)]
    order = rng.permutation(len(X_task))
    return X_task[order], is_outlier[order]


def tasks(seed, quick=False):
    """Yield (family, name, X, is_outlier) for one seed."""
    rng = np.random.RandomState(seed)
    digits = load_digits()
    cancer_rng = np.random.RandomState(1000 + seed)  # same tasks with --quick
    for d in range(3 if quick else 10):
        X, out = one_class_task(digits.data / 16.0, digits.target, d, 0.05, rng)
        yield "digits", f"digit {d}", X, out
    cancer = load_breast_cancer()  # target 1 = benign
    X, out = one_class_task(cancer.data, cancer.target, 1, 0.10, cancer_rng)
    yield "breast_cancer", "benign", StandardScaler().fit_transform(X), out


class PCAReconstruction:
    """PCA reconstruction error, keeping 90% of the variance."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X):
        self.pca_ = PCA(n_components=0.9, random_state=self.random_state).fit(X)
        return self

    def score_samples(self, X):
        recon = self.pca_.inverse_transform(self.pca_.transform(X))
        return -((X - recon) ** 2).sum(1)


class PyODAdapter:
    """A PyOD detector with its defaults; PyOD's scores are higher = abnormal."""

    def __init__(self, name, random_state=None):
        self.name = name
        self.random_state = random_state

    def fit(self, X):
        if self.name == "vae":
            from pyod.models.vae import VAE
        else:
            from pyod.models.auto_encoder import AutoEncoder as VAE
        self.model_ = VAE(random_state=self.random_state, verbose=0)
        self.model_.fit(X)
        return self

    def score_samples(self, X):
        return -self.model_.decision_function(X)


def methods(seed):
    """The detectors to compare, by name, built for one seed."""
    found = {
        "skvae VAEOutlierDetector": lambda: VAEOutlierDetector(random_state=seed),
        "skvae (reconstruction)": lambda: VAEOutlierDetector(
            score_type="reconstruction", random_state=seed
        ),
        "skvae (latent)": lambda: VAEOutlierDetector(
            score_type="latent", random_state=seed
        ),
        "skvae (no robust refit)": lambda: VAEOutlierDetector(
            trim_fraction=0.0, random_state=seed
        ),
        "IsolationForest": lambda: IsolationForest(random_state=seed),
        "PCA reconstruction": lambda: PCAReconstruction(random_state=seed),
    }
    try:
        import pyod  # noqa: F401

        found["PyOD VAE"] = lambda: PyODAdapter("vae", random_state=seed)
        found["PyOD AutoEncoder"] = lambda: PyODAdapter("ae", random_state=seed)
    except ImportError:
        print("PyOD is not installed (pip install -e '.[bench]'): skipped.")
    return found


def run(seeds, quick=False, only=None):
    """Return {(family, method): (list of AUCs, list of fit times)}."""
    results = {}
    for seed in seeds:
        for family, _, X, is_outlier in tasks(seed, quick):
            for name, make in methods(seed).items():
                if only and not any(o in name for o in only):
                    continue
                det = make()
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    det.fit(X)
                fit_time = time.perf_counter() - start
                auc = roc_auc_score(is_outlier, -det.score_samples(X))
                aucs, times = results.setdefault((family, name), ([], []))
                aucs.append(auc)
                times.append(fit_time)
    return results


def report(results):
    """Print the table and the targets."""
    families = sorted({f for f, _ in results})
    for family in families:
        rows = {m: r for (f, m), r in results.items() if f == family}
        print(f"\n== {family} ({len(next(iter(rows.values()))[0])} fits per method)")
        print(f"{'method':<28} {'ROC-AUC':>8} {'min':>6} {'fit s':>8}")
        ranked = sorted(rows.items(), key=lambda kv: -np.mean(kv[1][0]))
        for m, (aucs, times) in ranked:
            auc, worst, fit_s = np.mean(aucs), np.min(aucs), np.mean(times)
            print(f"{m:<28} {auc:>8.4f} {worst:>6.3f} {fit_s:>8.3f}")
        ours = rows.get("skvae VAEOutlierDetector")
        if ours is None:
            continue
        others = {
            m: np.mean(a) for m, (a, _) in rows.items() if not m.startswith("skvae")
        }
        best_other = max(others, key=others.get)
        ok = np.mean(ours[0]) > others[best_other]
        print(
            f"target best ROC-AUC: {'PASS' if ok else 'FAIL'} "
            f"(skvae {np.mean(ours[0]):.4f} vs {best_other} {others[best_other]:.4f})"
        )
        if "IsolationForest" in rows:
            ratio = np.mean(ours[1]) / np.mean(rows["IsolationForest"][1])
            verdict = "PASS" if ratio <= 10 or family != "digits" else "FAIL"
            print(
                f"fit time / IsolationForest: {ratio:.1f}x ({verdict}, target <= 10x)"
            )


def main():
    """Parse arguments, run the tasks, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 digits only")
    parser.add_argument("--only", nargs="*", help="substrings of method names")
    args = parser.parse_args()
    report(run(range(args.seeds), quick=args.quick, only=args.only))


if __name__ == "__main__":
    main()
