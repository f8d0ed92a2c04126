"""
Clustering digits with VaDE
===========================

:class:`~skvae.VaDE` (Jiang et al. 2017) is a VAE whose prior is a Gaussian
mixture: each mixture component is a cluster, learnt together with the
networks. It is a scikit-learn clusterer (``fit_predict``, ``predict``,
``labels_``) and a generator: ``sample(n, cluster=k)`` draws new rows from one
cluster. It is compared here with k-means and a Gaussian mixture on the
pixels' principal components.
"""

# %%
# Fit VaDE and the baselines
# --------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline

from skvae import VaDE
from skvae.plotting import LatentSpaceDisplay, SamplesDisplay

# The test suite sets SKVAE_EXAMPLES_QUICK=1: a few rows, two epochs.
QUICK = os.environ.get("SKVAE_EXAMPLES_QUICK", "0") != "0"
max_iter = 2 if QUICK else 50

X, y = load_digits(return_X_y=True)
X = X / 16.0
if QUICK:
    X, y = X[:300], y[:300]

# %%
# ``fit`` pretrains the networks as an autoencoder, initialises the mixture
# from k-means on the directions of the codes (``init_params="spherical"``;
# ``"gmm"`` fits a :class:`~sklearn.mixture.GaussianMixture` to them, as the
# paper does), then maximises the VaDE bound.
vade = VaDE(
    n_clusters=10,
    likelihood="bernoulli",
    max_iter=max_iter,
    pretrain_max_iter=max_iter,
    random_state=0,
)
labels = {
    "VaDE": vade.fit_predict(X),
    "KMeans on pixels": KMeans(10, n_init=10, random_state=0).fit_predict(X),
    "GaussianMixture on PCA": make_pipeline(
        PCA(10, random_state=0), GaussianMixture(10, random_state=0)
    )
    .fit(X)
    .predict(X),
}
for name, predicted in labels.items():
    nmi = normalized_mutual_info_score(y, predicted)
    ari = adjusted_rand_score(y, predicted)
    print(f"{name:>22}: NMI {nmi:.3f}, ARI {ari:.3f}")

# %%
# The clusters in the latent space, and samples of each cluster
# -------------------------------------------------------------
# Left: the codes (their first two principal components) coloured by cluster.
# Right: eight samples from each of the ten mixture components, one row per
# cluster, drawn with ``sample(80, cluster=[0] * 8 + [1] * 8 + ...)``.
fig, axes = plt.subplots(1, 2, figsize=(12, 5))
LatentSpaceDisplay.from_estimator(vade, X, vade.labels_, ax=axes[0])
axes[0].get_legend().set_title("cluster")
SamplesDisplay.from_estimator(
    vade,
    80,
    image_shape=(8, 8),
    sample_params={"cluster": np.repeat(np.arange(10), 8)},
    n_cols=8,
    vmin=0,
    vmax=1,
    ax=axes[1],
)
axes[1].set_title("VaDE: 8 samples per cluster (one cluster per row)")
fig.tight_layout()
plt.show()
