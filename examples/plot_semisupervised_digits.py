"""
Semi-supervised classification of digits
========================================

:class:`~skvae.SemiSupervisedVAE` is the M2 model of Kingma et al. (2014): a
classifier q(y | x) trained together with a VAE whose decoder sees the label,
the classifier kept smooth around every row by virtual adversarial training,
in pixel space and along the decoder's manifold.
It takes scikit-learn's convention for partly labelled data: ``-1`` marks an
unlabelled row. Here 100 of the training digits keep their label; the model
is compared with classifiers that see the same 100 labels.
"""

# %%
# 100 labels among the training digits
# ------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading
from sklearn.svm import SVC

from skvae import SemiSupervisedVAE
from skvae.plotting import LatentSpaceDisplay, LossCurveDisplay

# The test suite sets SKVAE_EXAMPLES_QUICK=1: a few rows, two epochs.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"
max_iter = 2 if QUICK else 100

X, y = load_digits(return_X_y=True)
X = X / 16.0
if QUICK:
    X, y = X[:300], y[:300]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
rng = np.random.RandomState(0)
labelled = rng.choice(len(y_train), 100, replace=False)
y_partial = np.full_like(y_train, -1)
y_partial[labelled] = y_train[labelled]
print(f"{len(y_train)} training rows, {(y_partial >= 0).sum()} with a label")

# %%
# Fit M2 and two baselines
# ------------------------
# The VAE's pixels are modelled as Bernoulli variables (they lie in [0, 1]).
# The baselines: an SVC trained on the labelled rows only, and
# :class:`~sklearn.semi_supervised.LabelSpreading`, which spreads the labels
# over a nearest-neighbour graph of all training rows.
m2 = SemiSupervisedVAE(likelihood="bernoulli", max_iter=max_iter, random_state=0)
m2.fit(X_train, y_partial)
svc = SVC().fit(X_train[labelled], y_train[labelled])
spreading = LabelSpreading(kernel="knn", n_neighbors=10).fit(X_train, y_partial)

accuracies = {
    "SVC, 100 labels": svc.score(X_test, y_test),
    "LabelSpreading": spreading.score(X_test, y_test),
    "SemiSupervisedVAE": m2.score(X_test, y_test),
}
for name, accuracy in accuracies.items():
    print(f"{name:>18}: held-out accuracy {accuracy:.3f}")

# %%
# Accuracy, latent space and training curve
# -----------------------------------------
# ``transform`` gives the latent codes (averaged over q(y | x)); the style of a
# digit is coded there, while its class is carried by y, so the classes
# overlap in the latent space. The training loss is the negative bound of
# labelled and unlabelled rows; it rises over the first ``kl_warmup`` epochs
# (30), while the unlabelled rows' term is ramped in.
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
axes[0].barh(list(accuracies), list(accuracies.values()))
axes[0].set(xlim=(0, 1), xlabel="held-out accuracy")
LatentSpaceDisplay.from_estimator(m2, X_test, y_test, ax=axes[1])
LossCurveDisplay.from_estimator(m2, ax=axes[2])
fig.tight_layout()
plt.show()
