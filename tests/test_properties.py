"""Hypothesis properties of the estimator contract."""

import numpy as np
from conftest import tiny_vae
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone

data = st.tuples(st.integers(2, 30), st.integers(1, 8), st.integers(0, 2**16)).map(
    lambda t: np.random.RandomState(t[2]).normal(size=t[:2]) * 3
)
fast = settings(deadline=None, max_examples=12)


@fast
@given(
    X=data,
    k=st.integers(1, 4),
    dtype=st.sampled_from([np.float32, np.float64]),
    likelihood=st.sampled_from(["gaussian", "bernoulli"]),
)
def test_shapes_dtypes_and_finiteness(X, k, dtype, likelihood):
    if likelihood == "bernoulli":
        X = 1 / (1 + np.exp(-X))
    X = X.astype(dtype)
    vae = tiny_vae(n_components=k, max_iter=2, likelihood=likelihood).fit(X)
    Z = vae.transform(X)
    assert Z.shape == (X.shape[0], k)
    assert Z.dtype == dtype
    X_back = vae.inverse_transform(Z)
    assert X_back.shape == X.shape
    assert X_back.dtype == dtype
    scores = vae.score_samples(X)
    assert scores.shape == (X.shape[0],)
    assert np.all(np.isfinite(scores))
    assert np.all(np.isfinite(Z))
    assert vae.score(X) == np.float64(np.mean(scores, dtype=np.float64)) or np.isclose(
        vae.score(X), np.mean(scores)
    )
    assert vae.sample(3).shape == (3, X.shape[1])


@fast
@given(X=data, seed=st.integers(0, 1000))
def test_same_random_state_gives_identical_transform(X, seed):
    a = tiny_vae(random_state=seed).fit(X).transform(X)
    b = tiny_vae(random_state=seed).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)


@fast
@given(
    n_components=st.integers(1, 5),
    beta=st.floats(0, 10),
    hidden=st.lists(st.integers(1, 16), min_size=0, max_size=3).map(tuple),
)
def test_clone_round_trips(n_components, beta, hidden):
    vae = tiny_vae(n_components=n_components, beta=beta, hidden_layer_sizes=hidden)
    assert clone(vae).get_params() == vae.get_params()


@fast
@given(X=data)
def test_inputs_are_never_modified(X):
    X_copy = X.copy()
    vae = tiny_vae(max_iter=1).fit(X)
    vae.transform(X)
    vae.score_samples(X)
    np.testing.assert_array_equal(X, X_copy)


@fast
@given(X=data, k=st.integers(1, 8))
def test_one_row_equals_its_row_among_many(X, k):
    vae = tiny_vae(max_iter=1, n_importance_samples=k).fit(X)
    i = X.shape[0] // 2
    np.testing.assert_allclose(
        vae.transform(X[i : i + 1])[0], vae.transform(X)[i], rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        vae.score_samples(X[i : i + 1])[0],
        vae.score_samples(X)[i],
        rtol=1e-6,
        atol=1e-5,
    )


@fast
@given(X=arrays(np.float64, (12, 3), elements=st.floats(-1e3, 1e3)))
def test_any_finite_input_gives_finite_outputs_or_a_clear_error(X):
    vae = tiny_vae(max_iter=1)
    try:
        vae.fit(X)
    except ValueError as exc:  # only the documented non-finite-loss error
        assert "non-finite" in str(exc)  # noqa: PT017
        return
    assert np.all(np.isfinite(vae.transform(X)))
