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
