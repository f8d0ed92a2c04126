"""The plain-torch layer: divergences, likelihoods, priors, the VAE module."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skvae.nn import (
    BernoulliLikelihood,
    GaussianLikelihood,
    GaussianMixturePrior,
    StandardNormalPrior,
    StepContext,
    gaussian_kl,
    gaussian_log_prob,
    make_likelihood,
)
from skvae.nn.gaussian import GaussianVAEModule

floats = st.floats(-3, 3, allow_nan=False, width=32)


@settings(deadline=None, max_examples=30)
@given(st.lists(floats, min_size=2, max_size=2), st.integers(1, 5))
def test_kl_is_nonnegative_and_zero_at_prior(pair, d):
    mu = torch.full((1, d), pair[0])
    log_var = torch.full((1, d), pair[1])
    assert (gaussian_kl(mu, log_var) >= 0).all()
    assert torch.allclose(
        gaussian_kl(torch.zeros(1, d), torch.zeros(1, d)), torch.zeros(1, d)
    )


def test_closed_form_kl_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.7, -1.2, 0.1]])
    log_var = torch.tensor([[-0.5, 0.3, -2.0]])
    z = mu + torch.exp(0.5 * log_var) * torch.randn(200_000, 3, generator=gen)
    log_q = gaussian_log_prob(z, mu, log_var)
    log_p = StandardNormalPrior(3).log_prob(z)
    mc = (log_q - log_p).mean()
    exact = gaussian_kl(mu, log_var).sum()
    assert abs(float(mc - exact)) < 0.02


def test_gaussian_log_prob_matches_scipy():
    from scipy.stats import norm

    x = torch.tensor([[0.3, -1.0]])
    mu = torch.tensor([0.1, 0.5])
    log_var = torch.tensor([0.2, -0.7])
    expected = norm.logpdf([0.3, -1.0], [0.1, 0.5], np.exp(0.5 * np.array([0.2, -0.7])))
    assert float(gaussian_log_prob(x, mu, log_var)) == pytest.approx(
        expected.sum(), 1e-5
    )


def test_gaussian_likelihood_learns_the_residual_variance():
    lik = GaussianLikelihood(2, momentum=0.5)
    x = torch.zeros(1000, 2)
    params = torch.randn(
        1000, 2, generator=torch.Generator().manual_seed(0)
    ) * torch.tensor([0.1, 2.0])
    for _ in range(20):
        lik.log_prob(x, params)
    assert lik.variance.numpy() == pytest.approx([0.01, 4.0], rel=0.1)
    lik.eval()
    before = lik.variance.clone()
    lik.log_prob(x, params * 3)
    assert torch.equal(before, lik.variance)  # no update outside training


def test_gaussian_likelihood_scores_without_gradients_as_with_them():
    # without gradients the residuals are weighted by one matrix-vector
    # product: the per-entry formula's value, to float rounding
    gen = torch.Generator().manual_seed(0)
    lik = GaussianLikelihood(5).eval()
    lik.variance.copy_(torch.rand(5, generator=gen) + 0.1)
    x = torch.randn(7, 5, generator=gen)
    params = torch.randn(3, 7, 5, generator=gen)
    expected = lik.log_prob_elements(x, params).sum(-1)
    with torch.no_grad():
        torch.testing.assert_close(lik.log_prob(x, params), expected)
        # float64 rows against the float32 variance: the per-entry formula
        wide = lik.log_prob(x.double(), params.double())
        assert wide.dtype == torch.float64
        torch.testing.assert_close(wide, expected.double(), rtol=1e-5, atol=1e-5)
    params.requires_grad_(True)
    with_grad = lik.log_prob(x, params)
    assert with_grad.requires_grad
    torch.testing.assert_close(with_grad.detach(), expected)


def test_gaussian_likelihood_variance_floor_keeps_constant_features_finite():
    lik = GaussianLikelihood(1)
    x = torch.zeros(10, 1)
    for _ in range(5):
        lp = lik.log_prob(x, x.clone())
    assert torch.isfinite(lp).all()
    assert float(lik.variance) == pytest.approx(lik.min_variance)


def test_bernoulli_matches_closed_form():
    lik = BernoulliLikelihood(1)
    logits = torch.tensor([[0.4]])
    p = 1 / (1 + math.exp(-0.4))
    assert float(lik.log_prob(torch.tensor([[1.0]]), logits)) == pytest.approx(
        math.log(p)
    )
    assert float(lik.log_prob(torch.tensor([[0.0]]), logits)) == pytest.approx(
        math.log(1 - p)
    )


def test_unknown_likelihood_is_rejected():
    with pytest.raises(ValueError, match="Unknown likelihood"):
        make_likelihood("poisson-ish", 3)


def _module(n_features=5, k=3):
    torch.manual_seed(0)
    return GaussianVAEModule(
        n_features, k, (16,), "relu", GaussianLikelihood(n_features)
    ).eval()


def test_free_bits_floor_the_penalty_and_stop_its_gradient():
    module = _module()
    x = torch.randn(32, 5, generator=torch.Generator().manual_seed(1))
    ctx = StepContext(
        beta=1.0, free_bits=100.0, generator=torch.Generator().manual_seed(2)
    )
    terms = module(x, ctx=ctx)
    # Every dimension is below 100 nats: the penalty is the constant floor.
    assert torch.allclose(terms.loss - terms.recon, torch.full((32,), 300.0))
    terms.loss.mean().backward()
    ctx0 = StepContext(
        beta=1.0, free_bits=0.0, generator=torch.Generator().manual_seed(2)
    )
    terms0 = module(x, ctx=ctx0)
    assert torch.allclose(terms0.loss, terms0.recon + terms0.kl)


def test_importance_weighted_bound_is_tighter_than_the_elbo():
    module = _module()
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        elbo = module.log_likelihood(x, torch.randn(1, 3, generator=gen))
        iwae = module.log_likelihood(x, torch.randn(200, 3, generator=gen))
    assert float(iwae.mean().detach()) > float(elbo.mean().detach())


def test_nn_imports_only_torch_numpy_and_itself():
    import ast

    import skvae.nn

    root = Path(skvae.nn.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith("sklearn"), (path.name, name)
                if name.startswith("skvae"):
                    assert name.startswith("skvae.nn"), (path.name, name)


def _random_mixture(seed, n_clusters=3, d=2):
    gen = torch.Generator().manual_seed(seed)
    prior = GaussianMixturePrior(n_clusters, d)
    weights = torch.rand(n_clusters, generator=gen) + 0.1
    prior.set_parameters(
        weights / weights.sum(),
        torch.randn(n_clusters, d, generator=gen) * 2,
        torch.rand(n_clusters, d, generator=gen) + 0.2,
    )
    return prior


def test_mixture_log_prob_matches_scipy():
    from scipy.stats import multivariate_normal

    prior = _random_mixture(0)
    z = torch.randn(7, 2, generator=torch.Generator().manual_seed(1))
    weights = prior.log_weights().exp().detach().numpy()
    means = prior.means.detach().numpy()
    variances = prior.log_vars.exp().detach().numpy()
    expected = np.log(
        sum(
            w * multivariate_normal(m, np.diag(v)).pdf(z.numpy())
            for w, m, v in zip(weights, means, variances, strict=True)
        )
    )
    np.testing.assert_allclose(prior.log_prob(z).detach().numpy(), expected, rtol=1e-5)
    resp = prior.responsibilities(z)
    np.testing.assert_allclose(resp.sum(-1).detach().numpy(), 1.0, rtol=1e-6)


def test_mixture_kl_terms_match_monte_carlo():
    # E_q[log q(z|x) - log p(z|c)] under gamma, plus KL(gamma || pi), estimated
    # by sampling, equals the closed form of kl_terms.
    prior = _random_mixture(2)
    gen = torch.Generator().manual_seed(3)
    mu = torch.randn(4, 2, generator=gen)
    log_var = torch.randn(4, 2, generator=gen) * 0.3 - 0.5
    gamma = torch.softmax(torch.randn(4, 3, generator=gen), -1)
    per_dim, categorical = prior.kl_terms(mu, log_var, gamma)
    z = mu + torch.exp(0.5 * log_var) * torch.randn(200_000, 4, 2, generator=gen)
    log_q = gaussian_log_prob(z, mu, log_var)
    log_pzc = prior.component_log_prob(z) - prior.log_weights()  # (n, 4, c)
    mc = (gamma * (log_q[..., None] - log_pzc)).sum(-1).mean(0)
    with torch.no_grad():
        np.testing.assert_allclose(per_dim.sum(-1).numpy(), mc.numpy(), atol=0.02)
        expected_cat = (gamma * (gamma.log() - prior.log_weights())).sum(-1)
        np.testing.assert_allclose(categorical.numpy(), expected_cat.numpy(), rtol=1e-5)
        assert torch.all(categorical >= -1e-6)


def test_mixture_samples_follow_the_components():
    prior = _random_mixture(4)
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        z = prior.sample(20_000, gen, clusters=torch.full((20_000,), 1))
        np.testing.assert_allclose(z.mean(0).numpy(), prior.means[1].numpy(), atol=0.05)
        np.testing.assert_allclose(
            z.var(0).numpy(), prior.log_vars[1].exp().numpy(), rtol=0.05
        )
        # Drawn without fixed clusters, the average responsibility of each
        # component is its weight (E_z[p(c | z)] = pi_c).
        mean_resp = prior.responsibilities(prior.sample(20_000, gen)).mean(0)
        np.testing.assert_allclose(
            mean_resp.numpy(), prior.log_weights().exp().numpy(), atol=0.02
        )
