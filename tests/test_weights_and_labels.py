"""Row weights in the statistics learnt outside the gradient, and labels."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

from skvae import ConditionalVAE
from skvae.nn import FeatureBatchNorm, GaussianLikelihood
from skvae.nn.likelihoods import weighting
from tests.conftest import tiny


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_class_prior_is_weighted_by_sample_weight(iris):
    X, y = iris
    weight = np.where(y == 2, 0.5, 1.0)
    model = tiny(ConditionalVAE).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.class_prior_, [0.4, 0.4, 0.2])
    assert np.isfinite(model.score_samples(X)).all()
    # a weight of 2 is the row twice
    twice = tiny(ConditionalVAE).fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    np.testing.assert_allclose(twice.class_prior_, [0.5, 0.25, 0.25])
    assert not hasattr(model, "_label_rows")


def test_m2_class_prior_is_weighted_among_the_labelled_rows(iris):
    from skvae import SemiSupervisedVAE

    X, y = iris
    y = np.where(np.arange(len(y)) % 2 == 0, -1, y)  # half the rows unlabelled
    weight = np.where(y == 2, 0.5, 1.0)
    model = tiny(SemiSupervisedVAE, balance_weight=0.0)
    model.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.class_prior_, [0.4, 0.4, 0.2])


@pytest.mark.parametrize("continued", ["partial_fit", "warm_start"])
def test_class_prior_counts_every_chunk(continued, tmp_path):
    # the prior stayed at the first chunk's shares (10 to 1), in the
    # attribute and in the module's p(y), which the stream then reversed
    import torch

    import skvae

    rng = np.random.RandomState(0)

    def chunk(n0, n1):
        X = np.vstack([rng.normal(-2, 1, (n0, 4)), rng.normal(2, 1, (n1, 4))])
        return X, np.r_[np.zeros(n0, int), np.ones(n1, int)]

    model = tiny(ConditionalVAE, warm_start=continued == "warm_start")
    step = model.partial_fit if continued == "partial_fit" else model.fit
    step(*chunk(100, 10))
    np.testing.assert_allclose(model.class_prior_, [100 / 110, 10 / 110])
    X, y = chunk(10, 100)
    weight = np.where(y == 1, 2.0, 1.0)
    step(X, y, sample_weight=weight)  # weighted, to a mean of 1 a call
    share = weight / weight.mean()
    counts = [100 + share[y == 0].sum(), 10 + share[y == 1].sum()]
    np.testing.assert_allclose(model.class_count_, counts)
    np.testing.assert_allclose(model.class_prior_, np.divide(counts, 220))
    prior = model.module_.log_prior.exp().numpy()
    np.testing.assert_allclose(prior, model.class_prior_, rtol=1e-6)
    # a saved model goes on counting
    skvae.save(model, tmp_path / "m.skvae")
    loaded = skvae.load(tmp_path / "m.skvae")
    np.testing.assert_array_equal(loaded.class_count_, model.class_count_)
    if continued == "partial_fit":
        loaded.partial_fit(*chunk(30, 0))
        counts = np.add(counts, [30, 0])
        np.testing.assert_allclose(loaded.class_count_, counts)
        prior = torch.as_tensor(counts / counts.sum(), dtype=torch.float32)
        assert torch.allclose(loaded.module_.log_prior.exp(), prior)


def test_class_of_weight_zero_is_refused(iris):
    X, y = iris
    with pytest.raises(
        ValueError, match=r"Every row of class \[2\] has sample_weight 0"
    ):
        tiny(ConditionalVAE).fit(X, y, sample_weight=np.where(y == 2, 0.0, 1.0))


@pytest.mark.parametrize("missing", [np.nan, None])
def test_partial_fit_refuses_missing_classes(iris, missing):
    X, y = iris
    with pytest.raises(ValueError, match="classes must not hold a missing value"):
        tiny(ConditionalVAE).partial_fit(X, y, classes=[0, 1, 2, missing])


def test_partial_fit_names_labels_outside_classes(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"labels that are not in classes: \[2\]"):
        tiny(ConditionalVAE).partial_fit(X, y, classes=[0, 1])
    model = tiny(ConditionalVAE).partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"not in classes: \[3\]"):
        model.partial_fit(X[:3], [3, 3, 3], classes=[0, 1, 2])


def test_gaussian_variance_weighs_rows_like_the_loss():
    """A row of weight 0 is no row and one of weight 2 is two, in the
    variance learnt in closed form as in the loss; equal weights are none."""
    rng = np.random.RandomState(0)
    x = torch.as_tensor(rng.normal(size=(6, 3)), dtype=torch.float32)
    outliers = torch.cat([x, torch.full((2, 3), 30.0)])
    params = torch.zeros(8, 3)
    weight = torch.tensor([2.0, 1, 1, 1, 1, 1, 0, 0])
    weighted, dropped = GaussianLikelihood(3).train(), GaussianLikelihood(3).train()
    with weighting(weight):
        weighted.log_prob(outliers, params)
    dropped.log_prob(torch.cat([x[:1], x]), params[:7])
    torch.testing.assert_close(weighted.variance, dropped.variance)
    # the IWAE draws' axis before the rows is pooled, weighted the same
    draws = GaussianLikelihood(3).train()
    with weighting(weight):
        draws.log_prob(outliers, params.expand(4, 8, 3))
    torch.testing.assert_close(draws.variance, dropped.variance)
    plain, ones = GaussianLikelihood(3).train(), GaussianLikelihood(3).train()
    plain.log_prob(outliers, params)
    with weighting(torch.ones(8)):
        ones.log_prob(outliers, params)
    assert torch.equal(plain.variance, ones.variance)


def test_feature_batch_norm_weighs_rows_like_the_loss():
    rng = np.random.RandomState(0)
    x = torch.as_tensor(rng.normal(size=(5, 4)), dtype=torch.float32)
    outliers = torch.cat([x, torch.full((3, 4), 50.0)])
    torch.manual_seed(0)
    weighted, dropped = FeatureBatchNorm(4).train(), FeatureBatchNorm(4).train()
    with weighting(torch.tensor([1.0] * 5 + [0.0] * 3)):
        out = weighted(outliers)
    torch.testing.assert_close(out[:5], dropped(x))
    torch.testing.assert_close(weighted.running_mean, dropped.running_mean)
    torch.testing.assert_close(weighted.running_var, dropped.running_var)
    plain, ones = FeatureBatchNorm(4).train(), FeatureBatchNorm(4).train()
    with weighting(torch.ones(8)):
        assert torch.equal(ones(outliers), plain(outliers))


def test_rows_of_weight_zero_leave_the_learnt_variance_alone(iris):
    X, y = iris
    X = (X - X.mean(0)) / X.std(0)
    Xj, yj = np.r_[X, np.full((50, 4), 30.0)], np.r_[y, np.zeros(50, int)]
    w = np.r_[np.ones(150), np.zeros(50)]
    model = tiny(ConditionalVAE, batch_size=200).fit(Xj, yj, sample_weight=w)
    assert model.module_.likelihood.variance.max() < 5


def test_weighted_batch_norm_runs_under_bfloat16_autocast():
    """Its statistics are taken in float32 (as autocast runs batch norm) and
    its output has the dtype of its input, as without weights."""
    from skvae.nn.networks import dense_layers

    torch.manual_seed(0)
    net = dense_layers(4, (8,), "relu", batch_norm=True).train()
    x = torch.randn(6, 4)
    weight = torch.tensor([1.0, 2.0, 0.0, 1.0, 1.0, 1.0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        plain = net(x)
        with weighting(weight):
            weighted = net(x)
    assert weighted.dtype == plain.dtype
    assert torch.isfinite(weighted.float()).all()
