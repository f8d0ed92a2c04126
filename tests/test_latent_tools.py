"""Latent-space tools on every model: interpolation and traversal."""

import numpy as np
import pytest
from conftest import tiny_vae

from skvae import VAE, VQVAE, ConditionalVAE, SemiSupervisedVAE, VaDE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fitted(cls, X, y):
    params = {"VaDE": dict(n_clusters=3, pretrain_max_iter=2)}.get(cls.__name__, {})
    if cls is VQVAE:
        model = VQVAE(
            n_codes=8,
            code_dim=2,
            hidden_layer_sizes=(8,),
            max_iter=3,
            prior_max_iter=1,
            prior_channels=4,
            random_state=0,
            device="cpu",
        )
    else:
        model = tiny_vae(cls, max_iter=10, **params)
    return (
        model.fit(X, y) if cls in (ConditionalVAE, SemiSupervisedVAE) else model.fit(X)
    )


@pytest.mark.parametrize("cls", [VAE, ConditionalVAE, SemiSupervisedVAE, VaDE, VQVAE])
@pytest.mark.parametrize("spherical", [False, True])
def test_interpolation_ends_decode_to_the_reconstructions(cls, spherical, digits):
    X, y = digits
    X, y = X[:200], y[:200]
    model = _fitted(cls, X, y)
    path = model.interpolate(X[0], X[1], n_steps=6, spherical=spherical)
    assert path.shape == (6, X.shape[1])
    recon = model.inverse_transform(model.transform(X[:2]))
    np.testing.assert_allclose(path[0], recon[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], recon[1], atol=1e-5)
    pairs = model.interpolate(X[:3], X[3:6], n_steps=4, spherical=spherical)
    assert pairs.shape == (3, 4, X.shape[1])


def test_traversal_moves_one_latent_dimension(digits):
    X, _ = digits
    model = VAE(n_components=4, max_iter=20, random_state=0, device="cpu").fit(X[:300])
    z = model.transform(X[:1])[0]
    values = [z[2] - 2.0, z[2], z[2] + 2.0]
    rows = model.traverse(X[0], dim=2, values=values)
    assert rows.shape == (3, 64)
    np.testing.assert_allclose(
        rows[1], model.inverse_transform(model.transform(X[:1]))[0], atol=1e-5
    )
    assert not np.allclose(rows[0], rows[2])
    assert model.traverse(X[:5], dim=0, values=[0.0, 1.0]).shape == (5, 2, 64)
    with pytest.raises(ValueError, match="dim must be"):
        model.traverse(X[0], dim=4, values=[0.0])


def test_interpolation_input_errors(digits):
    X, _ = digits
    model = tiny_vae().fit(X[:50])
    with pytest.raises(ValueError, match="n_steps"):
        model.interpolate(X[0], X[1], n_steps=1)
    with pytest.raises(ValueError, match="same shape"):
        model.interpolate(X[:2], X[:3])
