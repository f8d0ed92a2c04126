"""
Synthetic tables with the tabular synthesis recipe
==================================================

:func:`~skvae.tabular_synthesizer` configures a :class:`~skvae.VAE` for a
pandas DataFrame: every number column is scaled inside the model by its own
marginal (a ``"quantile"`` column: normal scores in, the column's own values
back), categories get a softmax. ``sample(n, noise=True)`` then draws every
column from p(x | z). The synthetic table has the columns, dtypes and
categories of the real one; here we compare their marginals and their
correlations, and check that no synthetic row copies a training row.
"""

# %%
# Fit on the wine table
# ---------------------
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.neighbors import NearestNeighbors

from skvae import tabular_synthesizer

# The test suite sets SKVAE_EXAMPLES_QUICK=1: two epochs.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"

wine = load_wine(as_frame=True).frame
wine["class"] = pd.Categorical.from_codes(
    wine.pop("target"), ["class_0", "class_1", "class_2"]
)
wine["magnesium"] = wine["magnesium"].astype("int64")
train = wine.sample(frac=0.8, random_state=0)  # 80% to fit, 20% held out
held_out = wine.drop(train.index)

synth = tabular_synthesizer(train, random_state=0, **({"max_iter": 2} if QUICK else {}))
synth.fit(train)
rows = synth.sample(len(train), random_state=0, noise=True)
print(rows.dtypes.equals(train.dtypes), rows["class"].value_counts().to_dict())

# %%
# Column shapes
# -------------
# Proline is in the thousands and skewed, malic acid is skewed, magnesium is
# an integer column: each synthetic column follows the real histogram and
# stays inside the range seen in fit.
columns = ["proline", "malic_acid", "magnesium", "color_intensity"]
fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, column in zip(axes, columns, strict=True):
    bins = np.histogram_bin_edges(train[column], bins=15)
    ax.hist(train[column], bins=bins, alpha=0.6, density=True, label="real")
    ax.hist(rows[column], bins=bins, alpha=0.6, density=True, label="synthetic")
    ax.set_title(column)
axes[0].legend()
fig.tight_layout()

# %%
# Dependencies between columns
# ----------------------------
# The network learns the dependencies: the correlation matrices of the real
# and the synthetic number columns side by side.
numbers = train.columns.drop("class")
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (title, frame) in zip(
    axes, [("real", train), ("synthetic", rows)], strict=True
):
    ax.imshow(frame[numbers].corr(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_title(f"{title}: correlations")
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %%
# No copying
# ----------
# The distance from each synthetic row to its closest training row should be
# no smaller than that of real rows held out of the fit.
scale = train[numbers].std()
near = NearestNeighbors(n_neighbors=1).fit(train[numbers] / scale)
synthetic = near.kneighbors(rows[numbers] / scale)[0][:, 0]
real = near.kneighbors(held_out[numbers] / scale)[0][:, 0]
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(real, bins=20, alpha=0.6, density=True, label="held-out real rows")
ax.hist(synthetic, bins=20, alpha=0.6, density=True, label="synthetic rows")
ax.set_xlabel("distance to the closest training row")
ax.legend()
print(
    f"median distance: synthetic {np.median(synthetic):.2f}, "
    f"held out {np.median(real):.2f}"
)
