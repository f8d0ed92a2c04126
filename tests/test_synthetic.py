"""Synthetic tables: ``sample(noise=True)`` draws from p(x | z) (issue 25, item 1)."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SPECIES, diabetes_table, iris_table, tiny
from sklearn.datasets import load_digits, load_iris

from skvae import VAE, ConditionalVAE, VaDE
from skvae._base import sample_in_blocks
from skvae.nn.likelihoods import drawing


@pytest.fixture(scope="module")
def iris_vae():
    return tiny(VAE, max_iter=20).fit(iris_table())


def test_draws_keep_types_and_differ_from_point_values(iris_vae):
    frame = iris_table()
    point = iris_vae.sample(200, random_state=1)
    drawn = iris_vae.sample(200, random_state=1, noise=True)
    assert drawn.dtypes.equals(frame.dtypes)
    assert list(drawn.columns) == list(frame.columns)
    assert list(drawn["species"].cat.categories) == SPECIES
    numbers = frame.columns[:4]
    assert not np.allclose(drawn[numbers], point[numbers])
    # the noise has the learned variance: draws spread more than the means
    assert (drawn[numbers].std() > point[numbers].std()).all()


def test_draws_are_reproducible(iris_vae):
    first = iris_vae.sample(50, random_state=3, noise=True)
    assert first.equals(iris_vae.sample(50, random_state=3, noise=True))
    assert not first.equals(iris_vae.sample(50, random_state=4, noise=True))


def test_category_draws_follow_the_model_probabilities(iris_vae):
    n = 4000
    drawn = iris_vae.sample(n, random_state=0, noise=True)
    freq = drawn["species"].value_counts(normalize=True).reindex(SPECIES)
    # the model's probabilities of the species, averaged over the prior
    module = iris_vae.module_
    gen = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        z = module.prior.sample(20000, gen)
        expected = module.likelihood.expectation(module.decoder(z)).mean(0)
    start, stop = iris_vae.table_encoder_._slices[4]
    expected = expected[start:stop].numpy()
    np.testing.assert_allclose(freq.to_numpy(), expected, atol=0.03)
    # the point values take the most probable species instead
    point = iris_vae.sample(n, random_state=0)["species"]
    point = point.value_counts(normalize=True).reindex(SPECIES).fillna(0)
    assert not np.allclose(point.to_numpy(), expected, atol=0.03)


def test_integer_and_string_columns_stay_in_range():
    frame = diabetes_table()
    vae = tiny(VAE, max_iter=5).fit(frame)
    rows = vae.sample(300, random_state=2, noise=True)
    assert rows.dtypes.equals(frame.dtypes)
    assert set(rows["sex"]) == {"female", "male"}
    assert rows["age"].between(frame["age"].min(), frame["age"].max()).all()
    assert rows["age"].nunique() > 5


def test_bernoulli_draws_are_zero_or_one():
    X = (load_digits().data[:200] > 7).astype(np.float32)
    vae = tiny(VAE, likelihood="bernoulli").fit(X)
    point = vae.sample(20, random_state=0)
    drawn = vae.sample(20, random_state=0, noise=True)
    assert ((point > 0) & (point < 1)).any()
    assert set(np.unique(drawn)) <= {0.0, 1.0}


def test_count_draws_are_counts():
    rng = np.random.RandomState(0)
    X = rng.poisson(3.0, size=(120, 3)).astype(float)
    vae = tiny(VAE, likelihood={"poisson": [0, 1], "negbin": [2]}).fit(X)
    drawn = vae.sample(200, random_state=0, noise=True)
    assert (drawn >= 0).all()
    assert np.array_equal(drawn, np.round(drawn))
    assert not np.array_equal(drawn, vae.sample(200, random_state=0))


def test_conditional_draws_of_a_chosen_class():
    frame = iris_table()
    X, y = frame.drop(columns="species"), frame["species"]
    model = tiny(ConditionalVAE, max_iter=10).fit(X, y)
    point = model.sample(100, random_state=0, y="virginica")
    drawn = model.sample(100, random_state=0, y="virginica", noise=True)
    assert drawn.dtypes.equals(X.dtypes)
    assert not np.allclose(drawn, point)
    assert drawn.equals(model.sample(100, random_state=0, y="virginica", noise=True))


def test_vade_draws_from_a_cluster():
    X = load_iris().data
    model = tiny(VaDE).fit(X)
    drawn = model.sample(30, random_state=0, cluster=1, noise=True)
    assert drawn.shape == (30, 4)
    assert not np.allclose(drawn, model.sample(30, random_state=0, cluster=1))


def test_blocks_give_the_rows_of_sample(iris_vae):
    parts = []
    sample_in_blocks(iris_vae, 30, parts.append, random_state=5, noise=True)
    expected = iris_vae.sample(30, random_state=5, noise=True)
    assert pd.concat(parts, ignore_index=True).equals(expected)


@pytest.mark.parametrize("noise", ["yes", 1, None])
def test_noise_must_be_a_boolean(iris_vae, noise):
    with pytest.raises(TypeError, match="noise must be True or False"):
        iris_vae.sample(3, noise=noise)


def test_drawing_is_undone_after_the_block(iris_vae):
    module = iris_vae.module_
    z = torch.zeros(2, module.n_latent)
    with torch.inference_mode():
        before = module.decode_mean(z)
        with drawing(torch.Generator().manual_seed(0)):
            module.decode_mean(z)
        assert torch.equal(before, module.decode_mean(z))
