"""
Walking the latent space: interpolations and traversals
=======================================================

Every skvae model has ``interpolate(x_start, x_end, n_steps)``, which encodes
two rows, walks the straight line (or, with ``spherical=True``, the great
circle) between their codes, and decodes each step; and ``traverse(x, dim,
values)``, which varies one latent dimension of a row's code.
:class:`~skvae.plotting.InterpolationDisplay` shows both.
"""

# %%
# Fit a VAE on the digits
# -----------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skvae import VAE
from skvae.plotting import InterpolationDisplay

# The test suite sets SKVAE_EXAMPLES_QUICK=1: a few rows, two epochs.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"
max_iter = 2 if QUICK else 100

X, y = load_digits(return_X_y=True)
X = X / 16.0
if QUICK:
    X, y = X[:200], y[:200]
vae = VAE(
    n_components=8, likelihood="bernoulli", max_iter=max_iter, random_state=0
).fit(X)

# %%
# From one digit to another
# -------------------------
# Three pairs (a 0 to a 1, a 3 to an 8, a 4 to a 9), one row each. The ends
# are the reconstructions of the two digits, not the digits themselves.
first = {d: np.flatnonzero(y == d)[0] for d in range(10)}
starts = X[[first[0], first[3], first[4]]]
ends = X[[first[1], first[8], first[9]]]
fig, axes = plt.subplots(2, 1, figsize=(8, 6))
InterpolationDisplay.from_estimator(
    vae, starts, ends, n_steps=10, image_shape=(8, 8), vmin=0, vmax=1, ax=axes[0]
)
axes[0].set_title("linear interpolation")
InterpolationDisplay.from_estimator(
    vae,
    starts,
    ends,
    n_steps=10,
    spherical=True,
    image_shape=(8, 8),
    vmin=0,
    vmax=1,
    ax=axes[1],
)
axes[1].set_title("spherical interpolation (slerp)")
fig.tight_layout()

# %%
# One latent dimension at a time
# ------------------------------
# ``traverse`` sets one dimension of a digit's code to each of the given
# values and decodes; the rows below are the four dimensions with the largest
# KL (the ones the model uses most), for the same digit.
kl = np.asarray(vae.history_[-1]["kl_per_dim"])
dims = np.argsort(kl)[::-1][:4]
values = np.linspace(-3, 3, 9)
rows = np.stack([vae.traverse(X[first[2]], dim=int(d), values=values) for d in dims])
disp = InterpolationDisplay(rows, image_shape=(8, 8), t=values).plot(vmin=0, vmax=1)
disp.ax_.set_yticks(np.arange(len(dims)) * 9 + 3.5)
disp.ax_.set_yticklabels([f"z[{d}]" for d in dims])
disp.ax_.set(xlabel="value of the latent dimension", title="latent traversals")
plt.show()
