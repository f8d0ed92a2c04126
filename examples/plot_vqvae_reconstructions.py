"""
Discrete codes: VQ-VAE reconstructions
======================================

:class:`~skvae.VQVAE` encodes an image into a small map of discrete codes,
each one of ``n_codes`` learnt vectors (van den Oord et al. 2017). With
``input_shape=(1, 8, 8)`` the networks are convolutional and an 8x8 digit
becomes a 2x2 map of codes. ``fit`` then trains a small PixelCNN over the code
maps, which gives ``score_samples`` and ``sample``.
"""

# %%
# Fit a VQ-VAE and compare with PCA
# ---------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skvae import VQVAE
from skvae.plotting import ReconstructionDisplay, SamplesDisplay

# The test suite sets SKVAE_EXAMPLES_QUICK=1: a few rows, two epochs.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"
max_iter = 2 if QUICK else 100

X, _ = load_digits(return_X_y=True)
X = X / 16.0
if QUICK:
    X = X[:200]
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

vq = VQVAE(
    n_codes=32,
    input_shape=(1, 8, 8),
    likelihood="bernoulli",
    max_iter=max_iter,
    prior_max_iter=max(2, max_iter // 2),
    random_state=0,
).fit(X_train)

codes = vq.encode_codes(X_test)
print("code map of a digit:", codes.shape[1:], "codes out of", vq.n_codes)
X_hat = vq.inverse_transform(vq.transform(X_test))
# PCA with as many numbers per digit as the code map has positions
pca = PCA(n_components=int(np.prod(codes.shape[1:]))).fit(X_train)
X_pca = pca.inverse_transform(pca.transform(X_test))
print(
    f"held-out MSE per pixel: VQVAE {np.mean((X_hat - X_test) ** 2):.4f}, "
    f"PCA {np.mean((X_pca - X_test) ** 2):.4f}"
)

# %%
# Reconstructions, codebook use and samples from the prior
# --------------------------------------------------------
# ``codebook_usage_`` is the share of code positions assigned to each code on
# the training rows: a codebook used evenly wastes no capacity.
fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
ReconstructionDisplay.from_estimator(vq, X_test[:20], vmin=0, vmax=1, ax=axes[0])
axes[1].bar(np.arange(vq.n_codes), np.sort(vq.codebook_usage_)[::-1])
axes[1].set(
    xlabel="code (sorted by use)", ylabel="share of positions", title="codebook usage"
)
SamplesDisplay.from_estimator(vq, 36, vmin=0, vmax=1, random_state=0, ax=axes[2])
fig.tight_layout()
plt.show()
