"""
Choosing beta and n_components with GridSearchCV
================================================

``VAE.score`` is the mean per-row evidence lower bound (ELBO) on the rows it
is given, so :class:`~sklearn.model_selection.GridSearchCV` selects a VAE by
its held-out likelihood with no ``scoring`` argument. Here the search covers
the KL weight ``beta`` and the latent dimension ``n_components`` on the
digits.
"""

# %%
# The search
# ----------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skvae import VAE
from skvae.plotting import LossCurveDisplay

# The test suite sets SKVAE_EXAMPLES_QUICK=1: a few rows, two epochs.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"
max_iter = 2 if QUICK else 30

X, _ = load_digits(return_X_y=True)
X = X / 16.0
if QUICK:
    X = X[:150]

betas, sizes = [0.5, 1.0, 4.0], [2, 8, 16]
search = GridSearchCV(
    VAE(likelihood="bernoulli", max_iter=max_iter, random_state=0),
    {"beta": betas, "n_components": sizes},
    cv=3,
)
search.fit(X)
print("best:", search.best_params_, f"held-out ELBO {search.best_score_:.2f} nats")

# %%
# Held-out ELBO over the grid
# ---------------------------
# The score is the ELBO with ``beta = 1`` whatever ``beta`` was trained with:
# a larger ``beta`` buys a smoother, more factorised latent space with
# likelihood, a smaller one gives the likelihood more weight.
scores = search.cv_results_["mean_test_score"].reshape(len(betas), len(sizes))
fig, ax = plt.subplots(figsize=(6, 4))
image = ax.imshow(scores, cmap="viridis")
for (i, j), value in np.ndenumerate(scores):
    ax.text(j, i, f"{value:.1f}", ha="center", va="center", color="w")
ax.set(
    xticks=range(len(sizes)),
    xticklabels=sizes,
    yticks=range(len(betas)),
    yticklabels=betas,
    xlabel="n_components",
    ylabel="beta",
    title="mean held-out ELBO (nats per digit)",
)
fig.colorbar(image, ax=ax)

# %%
# The best model was refitted on all rows (``refit=True``); its history holds
# the reconstruction and KL terms of the bound at each epoch.
LossCurveDisplay.from_estimator(
    search.best_estimator_, keys=["train_loss", "recon", "kl"]
)
plt.show()
