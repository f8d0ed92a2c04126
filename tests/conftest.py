import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    """Scikit-learn's bundled 8x8 digits, pixels scaled to [0, 1]."""
    data = load_digits()
    return data.data / 16.0, data.target


@pytest.fixture
def small_X():
    return np.random.RandomState(0).normal(size=(40, 6))


def tiny_vae(cls=None, **params):
    """A VAE (or another skvae model) that fits in milliseconds, for contract tests."""
    from skvae import VAE

    cls = cls or VAE
    settings = dict(
        n_components=2,
        hidden_layer_sizes=(8,),
        max_iter=3,
        kl_warmup=0,
        random_state=0,
        device="cpu",
    )
    settings.update(params)
    return cls(**settings)
