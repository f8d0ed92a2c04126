"""
Outlier detection on digits
===========================

:class:`~skvae.VAEOutlierDetector` follows scikit-learn's outlier-detector API:
``fit``, ``predict`` (+1 for inliers, -1 for outliers), ``decision_function``
and ``score_samples`` (higher means more normal). Here the inliers are the
digits 0 to 4 of scikit-learn's 8x8 digits and 5% of the rows are digits 5
to 9. The detector is fitted on all rows without labels and scores the same
rows, as :class:`~sklearn.ensemble.IsolationForest` would.
"""

# %%
# Digits 0 to 4, contaminated by digits 5 to 9
# ---------------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skvae import VAEOutlierDetector
from skvae.plotting import LossCurveDisplay, ReconstructionDisplay

# The test suite sets SKVAE_EXAMPLES_QUICK=1: a fifth of the rows.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"

digits = load_digits()
X_all, y_all = digits.data / 16.0, digits.target
rng = np.random.RandomState(0)
inliers = X_all[y_all <= 4]
others = X_all[y_all > 4]
n_outliers = int(0.05 / 0.95 * len(inliers))
outliers = others[rng.choice(len(others), n_outliers, replace=False)]
X = np.vstack([inliers, outliers])
is_outlier = np.r_[np.zeros(len(inliers)), np.ones(n_outliers)]
if QUICK:
    X, is_outlier = X[::5], is_outlier[::5]
print(f"{len(X)} rows, {int(is_outlier.sum())} outliers")

# %%
# Three scores, and IsolationForest
# ---------------------------------
# With no ``estimator``, the detector fits a VAE sized from the data, once,
# on the rows left after those farthest from their neighbours are screened
# out (Tukey's upper fence of their distances). ``score_type`` chooses the
# score: the importance-weighted log-likelihood
# (the default), the expected reconstruction log-likelihood, or the density
# of the row's code under a Gaussian fitted to the training codes. The ROC AUC
# measures how well each score ranks the outliers below the inliers.
detectors = {
    score_type: VAEOutlierDetector(score_type=score_type, random_state=0).fit(X)
    for score_type in ("likelihood", "reconstruction", "latent")
}
for score_type, detector in detectors.items():
    auc = roc_auc_score(is_outlier, -detector.score_samples(X))
    print(f"VAEOutlierDetector, {score_type:>14}: ROC AUC {auc:.3f}")
forest = IsolationForest(random_state=0).fit(X)
auc = roc_auc_score(is_outlier, -forest.score_samples(X))
print(f"IsolationForest:                    ROC AUC {auc:.3f}")

# %%
# Scores of inliers and outliers
# ------------------------------
# ``offset_`` is the threshold of ``predict``: rows that score below it are
# flagged as outliers (with ``contamination="auto"``, Tukey's lower fence of
# the training scores).
detector = detectors["likelihood"]
scores = detector.score_samples(X)
print(f"rows flagged: {int((detector.predict(X) == -1).sum())}")
fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(scores.min(), scores.max(), 40)
ax.hist(scores[is_outlier == 0], bins=bins, alpha=0.6, label="digits 0-4 (inliers)")
ax.hist(scores[is_outlier == 1], bins=bins, alpha=0.6, label="digits 5-9")
ax.axvline(detector.offset_, color="k", linestyle="--", label="offset_")
ax.set(xlabel="score_samples (nats)", ylabel="rows")
ax.legend()

# %%
# The least typical rows, and the detector's model
# ------------------------------------------------
# The eight rows with the lowest scores, over their reconstructions by the
# fitted VAE (``detector.estimator_``), and the training curve of that VAE:
# the detector deliberately trains on a short budget, since a VAE trained to
# convergence on contaminated data learns its outliers too. On rows of 32
# features or more the VAE reads each row's principal components
# (``subspace_components_``, over ``subspace_scale_``, a power of two that
# brings them to order 1), so its reconstructions are mapped back to pixels
# through them.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
lowest = X[np.argsort(scores)[:8]]
model = detector.estimator_
if detector.subspace_components_ is None:  # the model reads the pixels
    # (less input_offset_, over input_scale_, where they are far from order 1)
    offset, scale = detector.input_offset_, detector.input_scale_
    rows = lowest if offset is None else (lowest - offset) / scale
    rebuilt = model.inverse_transform(model.transform(rows))
    rebuilt = rebuilt if offset is None else rebuilt * scale + offset
else:
    mean, components = detector.subspace_mean_, detector.subspace_components_
    scale = detector.subspace_scale_
    codes = (lowest - mean) @ components.T / scale
    rebuilt = model.inverse_transform(model.transform(codes)) * scale
    rebuilt = rebuilt @ components + mean
ReconstructionDisplay(lowest, rebuilt, image_shape=(8, 8), estimator_name="VAE").plot(
    ax=axes[0]
)
LossCurveDisplay.from_estimator(detector, ax=axes[1])
fig.tight_layout()
plt.show()
