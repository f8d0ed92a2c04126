"""
Generating digits of a chosen class with a ConditionalVAE
=========================================================

:class:`~skvae.ConditionalVAE` conditions the decoder on the label:
``fit(X, y)`` learns p(x | z, y), and ``sample(n, y=k)`` draws rows of class
k. Its encoder does not see the label, so the latent code describes what
varies within a class (the style of the handwriting), and a code can be
decoded with any label.
"""

# %%
# Fit on labelled digits
# ----------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skvae import ConditionalVAE
from skvae.plotting import SamplesDisplay

# The test suite sets SKVAE_EXAMPLES_QUICK=1: a few rows, two epochs.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"
max_iter = 2 if QUICK else 100

X, y = load_digits(return_X_y=True)
X = X / 16.0
if QUICK:
    X, y = X[:200], y[:200]
cvae = ConditionalVAE(
    n_components=4, likelihood="bernoulli", max_iter=max_iter, random_state=0
).fit(X, y)

# %%
# Eight samples of each digit
# ---------------------------
# One label per row of the grid: ``sample_params={"y": [0] * 8 + [1] * 8 + ...}``
# with eight images per row.
digits = np.repeat(np.arange(10), 8)
fig, ax = plt.subplots(figsize=(5, 6))
SamplesDisplay.from_estimator(
    cvae,
    80,
    image_shape=(8, 8),
    sample_params={"y": digits},
    n_cols=8,
    vmin=0,
    vmax=1,
    ax=ax,
)
ax.set_title("sample(80, y=...): one digit per row")

# %%
# One style, every digit
# ----------------------
# The codes of eight handwritten digits (``transform``) are decoded with each
# of the ten labels (``inverse_transform(Z, y)``): each column keeps the style
# of one writer's digit, each row is one class.
Z = cvae.transform(X[:8])
codes = np.tile(Z, (10, 1))
styled = cvae.inverse_transform(codes, digits)
fig, ax = plt.subplots(figsize=(5, 6))
SamplesDisplay(styled, image_shape=(8, 8)).plot(n_cols=8, vmin=0, vmax=1, ax=ax)
ax.set_title("codes of 8 digits (columns)\ndecoded as each class (rows)")
plt.show()
