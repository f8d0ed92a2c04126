"""Mixed column types, missing values and the VAEImputer."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_wine
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler

from skvae import VAE, VAEImputer
from skvae._columns import infer_column_types, resolve_column_types
from skvae.nn.likelihoods import (
    BernoulliLikelihood,
    CategoricalLikelihood,
    GaussianLikelihood,
    MixedLikelihood,
    NegativeBinomialLikelihood,
    PoissonLikelihood,
)

FAST = dict(
    n_components=3, hidden_layer_sizes=(32,), batch_size=64, max_iter=40, random_state=0
)


def _mixed_table(n=400, seed=0):
    """Gaussian, binary, one-hot and count columns driven by two factors."""
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n, 2))
    cont = z @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(n, 3))
    binary = (z[:, :1] + 0.3 * rng.normal(size=(n, 1)) > 0).astype(float)
    onehot = np.eye(3)[np.digitize(z[:, 1], [-0.5, 0.5])]
    counts = rng.poisson(np.exp(0.5 * z[:, :1] + 1.0)).astype(float)
    return np.column_stack([cont, binary, onehot, counts])


# ------------------------------------------------------------- likelihoods
@pytest.mark.parametrize(
    "likelihood",
    [
        GaussianLikelihood(4, missing=True),
        BernoulliLikelihood(4, missing=True),
        PoissonLikelihood(4, missing=True),
        NegativeBinomialLikelihood(4, missing=True),
    ],
    ids=lambda lik: type(lik).__name__,
)
def test_masked_entries_do_not_change_the_loss_or_its_gradient(likelihood):
    likelihood.eval()
    x = torch.tensor([[1.0, 0.0, 2.0, 1.0], [0.0, 1.0, 1.0, 3.0]])
    holes = x.clone()
    holes[0, 1] = holes[1, 3] = float("nan")
    params = torch.randn(2, 4, requires_grad=True)
    loss = likelihood.log_prob(holes, params).sum()
    loss.backward()
    assert params.grad[0, 1] == 0
    assert params.grad[1, 3] == 0
    assert torch.isfinite(params.grad).all()
    # the same as the likelihood of the observed entries alone
    kept = likelihood.log_prob_elements(x, params.detach())
    kept[0, 1] = kept[1, 3] = 0
    torch.testing.assert_close(loss.detach(), kept.sum())


def test_a_categorical_group_is_scored_by_its_observed_columns():
    lik = CategoricalLikelihood(3, missing=True)
    nan = float("nan")
    x = torch.tensor(
        [[0.0, 1.0, 0.0], [nan, 0.0, 1.0], [0.0, nan, nan], [nan, nan, nan]]
    )
    params = torch.randn(4, 3, requires_grad=True)
    out = lik.log_prob(x, params)
    log_p = torch.log_softmax(params.detach(), -1)
    # a column observed 1 says the category; columns observed 0 rule theirs
    # out; a group wholly missing counts 0
    torch.testing.assert_close(out[0].detach(), log_p[0, 1])
    torch.testing.assert_close(out[1].detach(), log_p[1, 2])
    torch.testing.assert_close(out[2].detach(), torch.logsumexp(log_p[2, 1:], 0))
    assert out[3] == 0
    out.sum().backward()
    assert torch.isfinite(params.grad).all()
    assert (params.grad[3] == 0).all()
    # imputation reads the categories left: the missing columns', renormalised
    probs = lik.mean(lik.given(x, params.detach()))
    torch.testing.assert_close(probs[1], torch.tensor([0.0, 0.0, 1.0]))
    torch.testing.assert_close(probs[2, 1:], torch.softmax(params.detach()[2, 1:], 0))
    assert probs[2, 0] == 0
    torch.testing.assert_close(
        probs[[0, 3]], torch.softmax(params.detach()[[0, 3]], -1)
    )
    # a group wholly missing counts 0 whatever the decoder says (0, not 0 * -inf)
    worst = torch.tensor([[0.0, -torch.inf, 1.0]]).expand(4, 3)
    assert lik.log_prob(x, worst)[3] == 0


def test_imputer_fills_a_partly_observed_one_hot_group_consistently():
    # a one-hot group (read as one categorical by likelihood="auto") with one
    # column missing: where another is observed 1, the only fill is 0; where
    # the others are observed 0, the fills are the missing columns' shares
    rng = np.random.RandomState(0)
    n = 300
    g = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    A = np.c_[g + 0.3 * rng.randn(n), np.eye(3)[g]]
    is_b = np.flatnonzero(g == 1)[:20]
    A[is_b, 1] = np.nan  # is_a missing, is_b observed 1
    two = np.flatnonzero(g == 0)[:20]
    A[two, 1:3] = np.nan  # is_a and is_b missing, is_c observed 0
    given = A.copy()
    imp = VAEImputer(random_state=0)
    F = imp.fit_transform(A)
    np.testing.assert_array_equal(A, given, strict=True)
    assert imp.estimator_.column_types_[-1] == ("categorical", [1, 2, 3])
    assert (F[is_b, 1] == 0).all()
    np.testing.assert_allclose(F[np.r_[is_b, two], 1:].sum(1), 1.0, rtol=1e-6)
    assert (F[two, 3] == 0).all()
    assert (F[two, 1:3] > 0).all()
    # draws: one-hot, of the categories left
    D = VAEImputer(random_state=0, sample_posterior=True).fit_transform(A)
    assert (D[is_b, 1] == 0).all()
    assert (D[two, 3] == 0).all()
    assert set(np.unique(D[two, 1:3])) <= {0.0, 1.0}
    np.testing.assert_array_equal(D[np.r_[is_b, two], 1:].sum(1), 1.0)


def test_typed_values_of_a_mixed_likelihood():
    lik = MixedLikelihood(
        [
            (GaussianLikelihood(1), [0]),
            (BernoulliLikelihood(1), [1]),
            (CategoricalLikelihood(3), [2, 3, 4]),
            (PoissonLikelihood(1), [5]),
        ],
        6,
    )
    params = torch.randn(50, 6)
    point = lik.mean(params)
    assert set(point[:, 1].tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(point[:, 2:5].sum(1), torch.ones(50))
    assert set(point[:, 2:5].flatten().tolist()) <= {0.0, 1.0}
    assert (point[:, 5] >= 0).all()
    assert (point[:, 5] == point[:, 5].round()).all()
    draws = lik.sample(params, torch.Generator().manual_seed(0))
    torch.testing.assert_close(draws[:, 2:5].sum(1), torch.ones(50))
    expected = lik.expectation(params)
    assert ((expected[:, 1] > 0) & (expected[:, 1] < 1)).all()


# -------------------------------------------------------------- column types
def test_inference_finds_one_hot_groups_and_binary_columns():
    X = _mixed_table()
    assert infer_column_types(X) == [
        ("gaussian", [0, 1, 2, 7]),
        ("bernoulli", [3]),
        ("categorical", [4, 5, 6]),
    ]


def test_a_skip_pattern_of_two_binary_columns_is_no_one_hot_group():
    # independent 0/1 columns, one answered per row: three complete rows
    # with one 1 each (1 in 8 for fair coins) made them one categorical,
    # and every hole a certain 0 or 1
    rng = np.random.default_rng(23)
    n = 300
    b = (rng.uniform(size=(2, n)) < 0.5).astype(float)
    X = np.c_[rng.normal(size=n), b.T]
    X[np.arange(n), 1 + rng.integers(0, 2, n)] = np.nan
    rows = np.flatnonzero(b.sum(0) == 1)[:3]
    X[rows, 1:] = b.T[rows]
    assert infer_column_types(X) == [("gaussian", [0]), ("bernoulli", [1, 2])]
    holes = np.isnan(X)
    F = VAEImputer(random_state=0).fit_transform(X)
    assert ((F[holes] > 0.2) & (F[holes] < 0.8)).all()
    # a real group with holes, five complete rows or more: still one
    g = rng.integers(0, 3, n)
    Y = np.c_[rng.normal(size=n), np.eye(3)[g]]
    Y[rng.uniform(size=(n, 4)) < 0.3] = np.nan
    Y[:5, 1:] = np.eye(3)[g[:5]]
    assert ("categorical", [1, 2, 3]) in infer_column_types(Y)
    # ... and no group where a row holds two 1s among its holes
    Y[5, 1:] = [1.0, 1.0, np.nan]
    assert ("bernoulli", [1, 2, 3]) in infer_column_types(Y)


def test_the_imputer_refuses_rows_that_break_a_one_hot_group():
    rng = np.random.default_rng(0)
    n = 200
    g = rng.integers(0, 3, n)
    X = np.c_[rng.normal(size=n) + g, np.eye(3)[g]]
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    imp = VAEImputer(random_state=0).fit(X)
    assert imp.estimator_.column_types_[-1] == ("categorical", [1, 2, 3])
    for row in ([0.0, np.nan, 3.0, np.nan], [0.0, -1.0, np.nan, np.nan]):
        with pytest.raises(ValueError, match="other than 0 and 1"):
            imp.transform(np.array([row]))
    with pytest.raises(ValueError, match="at most one"):
        imp.transform(np.array([[0.0, 1.0, 1.0, np.nan]]))
    filled = imp.transform(np.array([[0.0, np.nan, 0.0, np.nan]]))
    np.testing.assert_allclose(filled[0, 1:].sum(), 1.0, rtol=1e-6)
    # float rounding of a 1 is a 1, as in a 0/1 column
    filled = imp.transform(np.array([[0.5, np.nan, 0.9999999, 0.0]]))
    np.testing.assert_allclose(filled[0, 1:], [0.0, 0.9999999, 0.0], atol=1e-6)


def test_a_specification_overrides_inference_and_takes_names():
    X = _mixed_table()
    names = np.array([f"c{j}" for j in range(8)])
    blocks = resolve_column_types({"poisson": ["c7"]}, X, names)
    assert blocks[0] == ("poisson", [7])
    assert ("categorical", [4, 5, 6]) in blocks
    with pytest.raises(ValueError, match="non-integer"):
        resolve_column_types({"poisson": [0]}, X)
    with pytest.raises(ValueError, match="one-hot"):
        resolve_column_types({"categorical": [[3, 4]]}, X)
    with pytest.raises(ValueError, match="more than once"):
        resolve_column_types({"poisson": [7], "negbin": [7]}, X)
    with pytest.raises(ValueError, match="list of groups"):
        resolve_column_types({"categorical": [4, 5, 6]}, X)
    with pytest.raises(ValueError, match="Unknown column types"):
        resolve_column_types({"beta": [0]}, X)
    # a boolean is no column index (True was read as column 1)
    with pytest.raises(ValueError, match=r"Column True .* not a column index"):
        resolve_column_types({"poisson": [True]}, X)


def test_mixed_vae_decodes_and_samples_values_of_each_type():
    X = _mixed_table()
    model = VAE(**FAST, likelihood={"poisson": [7]}).fit(X)
    for out in (model.inverse_transform(model.transform(X)), model.sample(100)):
        assert set(np.unique(out[:, 3])) <= {0.0, 1.0}
        np.testing.assert_array_equal(out[:, 4:7].sum(1), 1.0)
        assert set(np.unique(out[:, 4:7])) <= {0.0, 1.0}
        assert (out[:, 7] >= 0).all()
        np.testing.assert_array_equal(out[:, 7], np.round(out[:, 7]))
    assert np.isfinite(model.score_samples(X)).all()
    # the one-hot group is modelled: its decoded category matches most rows
    decoded = model.inverse_transform(model.transform(X))
    agreement = np.mean(decoded[:, 4:7].argmax(1) == X[:, 4:7].argmax(1))
    assert agreement > 0.6


def test_column_transformer_output_of_a_real_mixed_table():
    data = load_diabetes(as_frame=True, scaled=False).frame.drop(columns="target")
    data["sex"] = data["sex"].map({1.0: "female", 2.0: "male"})
    numeric = [c for c in data.columns if c not in ("sex", "age")]
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            ("sex", OneHotEncoder(sparse_output=False), ["sex"]),
            (
                "age",
                KBinsDiscretizer(
                    n_bins=4,
                    encode="onehot-dense",
                    quantile_method="averaged_inverted_cdf",
                ),
                ["age"],
            ),
        ]
    )
    pipe = make_pipeline(prep, VAE(likelihood="auto", **FAST)).fit(data)
    vae = pipe[-1]
    kinds = [kind for kind, _ in vae.column_types_]
    assert kinds.count("categorical") == 2
    rows = vae.sample(20, random_state=0)
    n_num = len(numeric)
    np.testing.assert_array_equal(rows[:, n_num : n_num + 2].sum(1), 1.0)
    np.testing.assert_array_equal(rows[:, n_num + 2 :].sum(1), 1.0)
    assert pipe.transform(data).shape == (len(data), 3)


# ----------------------------------------------------------- missing values
def test_nan_is_rejected_unless_masked():
    X = _mixed_table()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        VAE(**FAST).fit(X)
    model = VAE(**FAST, missing="mask").fit(X)
    assert np.isfinite(model.transform(X)).all()
    assert np.isfinite(model.score_samples(X)).all()
    with pytest.raises(ValueError, match="infinity"):
        model.transform(np.full((1, 8), np.inf))


def test_rows_and_columns_without_observed_values():
    X = _mixed_table()
    X[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"Columns \[2\] have no observed value"):
        VAE(**FAST, missing="mask").fit(X)
    X = _mixed_table()
    X[5] = np.nan  # documented: an empty row is encoded from zeros
    model = VAE(**FAST, missing="mask").fit(X)
    assert np.isfinite(model.transform(X[5:6])).all()
    assert np.isfinite(model.score_samples(X[5:6])).all()


def test_masked_training_ignores_what_is_behind_the_mask():
    X = _mixed_table()
    rng = np.random.RandomState(1)
    holes = X.copy()
    holes[rng.uniform(size=X.shape) < 0.3] = np.nan
    other = holes.copy()
    filled = np.where(np.isnan(holes), 0.0, holes)
    # the encoder sees 0 where a value is missing: filling with 0 by hand and
    # masking nothing gives another model; masking gives the same one twice
    a = VAE(**FAST, missing="mask").fit(holes)
    b = VAE(**FAST, missing="mask").fit(other)
    np.testing.assert_allclose(a.transform(holes), b.transform(other))
    c = VAE(**FAST).fit(filled)
    assert not np.allclose(a.transform(holes), c.transform(filled))


# ------------------------------------------------------------------ imputer
@pytest.fixture(scope="module")
def wine_holes():
    X = load_wine().data
    rng = np.random.RandomState(0)
    mask = rng.uniform(size=X.shape) < 0.3
    holes = X.copy()
    holes[mask] = np.nan
    return X, holes, mask


def test_imputer_fills_holes_better_than_the_mean_and_keeps_observed(wine_holes):
    X, holes, mask = wine_holes
    before = holes.copy()
    imputer = VAEImputer(random_state=0).fit(holes)
    filled = imputer.transform(holes)
    np.testing.assert_array_equal(holes, before)  # input untouched
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[~mask], X[~mask])
    scale = X.std(axis=0)
    rmse = np.sqrt(np.mean((((filled - X) / scale)[mask]) ** 2))
    mean_fill = SimpleImputer().fit_transform(holes)
    baseline = np.sqrt(np.mean((((mean_fill - X) / scale)[mask]) ** 2))
    assert rmse < 0.9 * baseline


def test_multiple_imputation_draws_are_reproducible(wine_holes):
    _, holes, mask = wine_holes
    vae = VAE(**FAST)
    one = VAEImputer(vae, sample_posterior=True, random_state=1).fit(holes)
    again = VAEImputer(vae, sample_posterior=True, random_state=1).fit(holes)
    other = VAEImputer(vae, sample_posterior=True, random_state=2).fit(holes)
    np.testing.assert_allclose(one.transform(holes), again.transform(holes))
    assert not np.allclose(one.transform(holes)[mask], other.transform(holes)[mask])
    np.testing.assert_allclose(one.transform(holes), one.transform(holes))


def test_imputer_in_a_pipeline_and_its_errors(wine_holes):
    _, holes, _ = wine_holes
    y = load_wine().target
    pipe = Pipeline(
        [
            ("impute", VAEImputer(VAE(**FAST))),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    ).fit(holes, y)
    assert pipe.score(holes, y) > 0.8
    empty = holes.copy()
    empty[:, 0] = np.nan
    with pytest.raises(ValueError, match="no observed value"):
        VAEImputer(VAE(**FAST)).fit(empty)
    with pytest.raises(TypeError, match="missing"):
        VAEImputer(SimpleImputer()).fit(holes)
    imputer = VAEImputer(VAE(**FAST)).fit(holes)
    with pytest.raises(ValueError, match="features"):
        imputer.transform(holes[:, :5])
    with pytest.raises(ValueError, match="infinity"):
        imputer.transform(np.where(np.isnan(holes), np.inf, holes))


def test_imputer_takes_a_dataframe_with_names():
    X = _mixed_table()
    frame = pd.DataFrame(X, columns=[f"c{j}" for j in range(8)])
    frame.iloc[::7, 0] = np.nan
    vae = VAE(**FAST, likelihood={"poisson": ["c7"]})
    filled = VAEImputer(vae).fit(frame).transform(frame)
    assert not np.isnan(filled).any()


def test_later_data_must_suit_the_fitted_column_types():
    X = _mixed_table()
    model = VAE(**FAST, likelihood={"poisson": [7]}).fit(X)
    bad = X[:5].copy()
    bad[0, 7] = 2.5
    with pytest.raises(ValueError, match="counts"):
        model.score_samples(bad)
    with pytest.raises(ValueError, match="counts"):
        model.partial_fit(bad)
    refit = model.set_params(likelihood="gaussian").fit(X)
    assert not hasattr(refit, "column_types_")
    assert np.isfinite(refit.score_samples(bad)).all()
