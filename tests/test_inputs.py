"""Bad input gets a clear, scikit-learn style error; input is never modified."""

import numpy as np
import pytest
from conftest import tiny_vae
from sklearn.utils._param_validation import InvalidParameterError


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.array([[1.0, np.nan], [0.0, 1.0], [2.0, 3.0]]), "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0], [2.0, 3.0]]), "infinity"),
        (np.array([["a", "b"], ["c", "d"]]), "could not convert|dtype"),
        (np.empty((0, 3)), "0 sample"),
        (np.empty((3, 0)), "0 feature"),
        (np.arange(5.0), "Expected 2D array"),
        (np.ones((1, 3)), "1 sample"),
    ],
)
def test_bad_training_data(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_vae().fit(bad)


def test_wrong_feature_count_at_transform(small_X):
    vae = tiny_vae().fit(small_X)
    for method in (vae.transform, vae.score_samples, vae.score):
        with pytest.raises(
            ValueError, match="X has 5 features, but VAE is expecting 6"
        ):
            method(small_X[:, :5])
    with pytest.raises(ValueError, match="expecting 2 latent dimensions"):
        vae.inverse_transform(np.zeros((3, 5)))


def test_nan_and_one_dimensional_input_at_transform(small_X):
    vae = tiny_vae().fit(small_X)
    with pytest.raises(ValueError, match="NaN"):
        vae.transform(np.full((2, 6), np.nan))
    with pytest.raises(ValueError, match="Expected 2D array"):
        vae.transform(small_X[0])


@pytest.mark.parametrize(
    "params",
    [
        {"beta": -1.0},
        {"n_components": 0},
        {"max_iter": -1},
        {"batch_size": 0},
        {"learning_rate_init": 0.0},
        {"likelihood": "poisson"},
        {"activation": "swish-ish"},
        {"validation_fraction": 1.0},
        {"free_bits": -0.1},
        {"kl_warmup": 1.5},
        {"n_importance_samples": 0},
    ],
)
def test_invalid_parameters(small_X, params):
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        tiny_vae(**params).fit(small_X)


def test_hidden_layer_sizes_must_be_positive(small_X):
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        tiny_vae(hidden_layer_sizes=(8, 0)).fit(small_X)


def test_bernoulli_needs_data_in_unit_interval(small_X):
    with pytest.raises(ValueError, match="MinMaxScaler"):
        tiny_vae(likelihood="bernoulli").fit(small_X)


def test_unavailable_device_is_a_clear_error(small_X):
    with pytest.raises(ValueError, match="device="):
        tiny_vae(device="not-a-device").fit(small_X)


def test_early_stopping_needs_a_validation_row():
    X = np.random.RandomState(0).normal(size=(2, 3))
    with pytest.raises(ValueError, match="validation"):
        tiny_vae(early_stopping=True, validation_fraction=0.9).fit(X)


def test_input_is_never_modified(small_X):
    X = small_X.copy()
    X32 = small_X.astype(np.float32)
    X32_copy = X32.copy()
    vae = tiny_vae().fit(X)
    vae.partial_fit(X32)
    vae.transform(X)
    vae.score_samples(X32)
    Z = vae.transform(X)
    Z_copy = Z.copy()
    vae.inverse_transform(Z)
    np.testing.assert_array_equal(X, small_X)
    np.testing.assert_array_equal(X32, X32_copy)
    np.testing.assert_array_equal(Z, Z_copy)


def test_readonly_input_works(small_X):
    X = small_X.copy()
    X.setflags(write=False)
    assert tiny_vae().fit(X).transform(X).shape == (40, 2)


def test_huge_values_raise_the_non_finite_loss_error():
    X = np.random.RandomState(0).normal(size=(30, 4)) * 1e30
    with pytest.raises(ValueError, match="non-finite"):
        tiny_vae().fit(X)


def test_models_that_mask_missing_entries_say_they_take_nan(small_X):
    # the tag was False for missing="mask" too: scikit-learn's tools (feature
    # selectors, checks) refused the NaN the model reads as missing entries
    from sklearn.feature_selection import SequentialFeatureSelector
    from sklearn.utils import get_tags

    from skvae import VAE, ConditionalVAE

    assert get_tags(VAE(missing="mask")).input_tags.allow_nan
    assert get_tags(ConditionalVAE(missing="mask")).input_tags.allow_nan
    assert not get_tags(VAE()).input_tags.allow_nan
    X = small_X[:, :3].copy()
    X[::7, 1] = np.nan
    selector = SequentialFeatureSelector(
        tiny_vae(missing="mask", max_iter=1), n_features_to_select=2, cv=2
    )
    assert selector.fit(X).transform(X).shape == (len(X), 2)


def test_a_boolean_is_not_an_integer_argument(small_X):
    # True passed Integral checks as 1: a layer, a latent dimension, a
    # column count read from a flag
    from skvae import HierarchicalVAE
    from skvae.plotting import _check_n_cols

    h = HierarchicalVAE(n_components=(3, 2), max_iter=2, random_state=0)
    h.fit(small_X)
    with pytest.raises(ValueError, match="layer must be an integer"):
        h.inverse_transform(np.zeros((2, 2)), layer=True)
    assert h.inverse_transform(np.zeros((2, 2)), layer=np.int64(1)).shape == (
        2,
        small_X.shape[1],
    )
    model = tiny_vae().fit(small_X)
    with pytest.raises(ValueError, match="dim must be an integer"):
        model.traverse(small_X[:2], dim=True, values=[0.0, 1.0])
    with pytest.raises(ValueError, match="n_cols must be a positive integer"):
        _check_n_cols(True, 4)
