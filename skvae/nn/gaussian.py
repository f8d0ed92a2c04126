"""The Gaussian latent, written once: encoding, draws, ELBO and IWAE terms.

Every model with a diagonal Gaussian posterior q(z | x) (VAE, the labelled
models, VaDE, the hierarchical VAEs) encodes, draws and assembles its bounds
with these functions; :class:`GaussianVAEModule` is the plain VAE built from
them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conv import make_decoder, make_encoder
from skvae.nn.divergences import (
    gaussian_kl,
    gaussian_log_prob,
    importance_bound,
    kl_penalty,
    posterior_log_prob,
    total_correlation,
)
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import NetworkSpec
from skvae.nn.priors import StandardNormalPrior, VampPrior

#: Bounds of the posterior log-variances: keeps exp() finite in float32.
LOG_VAR_MIN, LOG_VAR_MAX = -12.0, 8.0


def split_gaussian(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """An encoder's output ``(..., 2 d)`` as means and clamped log-variances.

    Both are float32: under mixed precision only the networks run in
    bfloat16, the KL and likelihood sums do not.

    Examples
    --------
    >>> mu, log_var = split_gaussian(torch.zeros(3, 4))
    >>> mu.shape, log_var.shape
    (torch.Size([3, 2]), torch.Size([3, 2]))
    """
    mu, log_var = h.float().chunk(2, dim=-1)
    return mu, log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX)


def reparameterize(
    mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor
) -> torch.Tensor:
    """Draws z = mu + exp(log_var / 2) * eps (Kingma & Welling 2014).

    Parameters
    ----------
    mu, log_var : torch.Tensor of shape (batch, d)
        The posterior.
    eps : torch.Tensor of shape (batch, d) or (k, batch, d)
        Standard normal noise (for the same draws for every row, see
        :func:`shared_draws`).

    Returns
    -------
    torch.Tensor
        ``(batch, d)`` or ``(k, batch, d)``.

    Examples
    --------
    >>> reparameterize(torch.zeros(4, 2), torch.zeros(4, 2), torch.ones(3, 4, 2)).shape
    torch.Size([3, 4, 2])
    """
    return mu + torch.exp(0.5 * log_var) * eps


def shared_draws(
    mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor
) -> torch.Tensor:
    """Scoring draws ``(k, batch, d)`` from fixed noise ``eps``.

    ``eps`` is ``(k, d)``, the same draws for every row, or ``(k, batch, d)``,
    each row's own (:func:`skvae._torch.row_noise`). Either way a row's score
    does not depend on the other rows.

    Examples
    --------
    >>> shared_draws(torch.zeros(4, 2), torch.zeros(4, 2), torch.ones(1, 2)).shape
    torch.Size([1, 4, 2])
    >>> shared_draws(torch.zeros(4, 2), torch.zeros(4, 2), torch.ones(3, 4, 2)).shape
    torch.Size([3, 4, 2])
    """
    return reparameterize(mu, log_var, per_row(eps))


def per_row(eps: torch.Tensor) -> torch.Tensor:
    """Scoring noise as ``(k, batch or 1, d)``: shared ``(k, d)`` draws broadcast.

    Examples
    --------
    >>> per_row(torch.ones(3, 2)).shape, per_row(torch.ones(3, 5, 2)).shape
    (torch.Size([3, 1, 2]), torch.Size([3, 5, 2]))
    """
    return eps[:, None, :] if eps.ndim == 2 else eps


def training_draws(
    mu: torch.Tensor, log_var: torch.Tensor, ctx: StepContext, k: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """``k`` draws per row from the step's generator: ``(z, eps)``.

    One draw stays 2-D ``(batch, d)`` (the fast path); ``k > 1`` draws are
    ``(k, batch, d)``.

    Examples
    --------
    >>> ctx = StepContext(beta=1.0, free_bits=0.0, generator=torch.Generator())
    >>> training_draws(torch.zeros(4, 2), torch.zeros(4, 2), ctx, k=3)[0].shape
    torch.Size([3, 4, 2])
    """
    if k == 1:
        eps = ctx.randn(mu.shape, like=mu)
    else:
        eps = ctx.randn((k, *mu.shape), like=mu, batch_dim=1)
    return reparameterize(mu, log_var, eps), eps


def elbo_terms(
    loss: torch.Tensor,
    log_px: torch.Tensor,
    kl_per_dim: torch.Tensor,
    mu: torch.Tensor,
    kl: torch.Tensor | None = None,
) -> ELBOTerms:
    """The per-row record of a step: loss, reconstruction, KL and latent moments.

    Parameters
    ----------
    loss : torch.Tensor of shape (batch,)
        What is minimised.
    log_px : torch.Tensor of shape (batch,) or (k, batch)
        log p(x | z) of the draws (averaged over ``k``).
    kl_per_dim : torch.Tensor of shape (batch, d)
        KL of each latent dimension.
    mu : torch.Tensor of shape (batch, d)
        Posterior means (detached here).
    kl : torch.Tensor of shape (batch,), optional
        The total KL, when it is not the sum of ``kl_per_dim``.

    Returns
    -------
    ELBOTerms

    Examples
    --------
    >>> z = torch.zeros(3)
    >>> elbo_terms(z, z, torch.zeros(3, 2), torch.zeros(3, 2)).kl.shape
    torch.Size([3])
    """
    recon = -(log_px if log_px.ndim == 1 else log_px.mean(0))
    mu_d = mu.detach()
    total = kl_per_dim.sum(-1) if kl is None else kl
    return ELBOTerms(loss, recon, total, kl_per_dim, mu_d, mu_d.square())


def elbo_loss(
    log_px: torch.Tensor, kl_per_dim: torch.Tensor, ctx: StepContext
) -> torch.Tensor:
    """Negative beta-ELBO per row, with the step's KL weight, free bits, capacity.

    Examples
    --------
    >>> ctx = StepContext(beta=2.0, free_bits=0.0, generator=torch.Generator())
    >>> elbo_loss(torch.zeros(3), torch.ones(3, 2), ctx)
    tensor([4., 4., 4.])
    """
    return -log_px + kl_penalty(kl_per_dim, ctx)


def iwae_loss(
    log_px: torch.Tensor, log_ratio: torch.Tensor, ctx: StepContext
) -> torch.Tensor:
    """Negative importance-weighted bound per row (Burda et al. 2016).

    ``log_ratio`` = log p(z) - log q(z | x) of each draw; the step's beta
    weighs it (a beta-IWAE).

    Examples
    --------
    >>> ctx = StepContext(beta=1.0, free_bits=0.0, generator=torch.Generator())
    >>> iwae_loss(torch.zeros(5, 3), torch.zeros(5, 3), ctx)
    tensor([-0., -0., -0.])
    """
    return -importance_bound(log_px + ctx.beta * log_ratio)


def bound(
    log_px: torch.Tensor,
    log_pz: torch.Tensor,
    eps: torch.Tensor,
    log_var: torch.Tensor,
) -> torch.Tensor:
    """The importance-weighted bound of log p(x) per row from ``k`` draws.

    Parameters
    ----------
    log_px, log_pz : torch.Tensor of shape (k, batch)
        log p(x | z) and log p(z) of the draws.
    eps : torch.Tensor of shape (k, d) or (k, batch, d)
        The draws' standard normal noise.
    log_var : torch.Tensor of shape (batch, d)
        The posterior log-variances.

    Returns
    -------
    torch.Tensor of shape (batch,)
        With ``k = 1``, a one-draw estimate of the ELBO.

    Examples
    --------
    >>> bound(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 4),
    ...       torch.zeros(3, 4)).shape
    torch.Size([3])
    """
    return importance_bound(log_px + log_pz - posterior_log_prob(eps, log_var))


class GaussianVAEModule(LatentModule):
    """A VAE with a diagonal Gaussian posterior.

    Its training step is safe under bfloat16 autocast
    (``supports_autocast``): the networks' outputs are cast to float32 before
    the KL and likelihood terms.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder widths; the decoder mirrors them.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as rows: convolutional networks, with
        ``hidden_layer_sizes`` the channels of the stride-2 layers.
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective: the (beta-)ELBO with one draw, or the
        importance-weighted bound of Burda et al. (2016) with
        ``n_iwae_samples`` draws.
    n_iwae_samples : int, default=5
        Draws per row of the "iwae" objective.
    prior : torch.nn.Module or None, default=None
        The prior: None for N(0, I), or a :class:`skvae.nn.VampPrior` (bound
        to this module's encoder here).
    tc_weight : float, default=0.0
        Extra weight on the total correlation of q(z) (beta-TCVAE).
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in ones
        (see :func:`skvae.nn.make_encoder`).

    Examples
    --------
    >>> from skvae.nn import GaussianLikelihood
    >>> m = GaussianVAEModule(5, 2, (8,), "relu", GaussianLikelihood(5))
    >>> m.embed(torch.zeros(3, 5)).shape
    torch.Size([3, 2])
    """

    supports_autocast = True

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        input_shape: Sequence[int] | None = None,
        *,
        objective: str = "elbo",
        n_iwae_samples: int = 5,
        prior: nn.Module | None = None,
        tc_weight: float = 0.0,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
    ) -> None:
        super().__init__()
        self.n_latent = n_components
        self.noise_dim = n_components
        self.encoder = make_encoder(
            n_features,
            hidden_layer_sizes,
            2 * n_components,
            activation,
            input_shape,
            custom=encoder,
        )
        self.decoder = make_decoder(
            n_components,
            hidden_layer_sizes,
            likelihood.n_params,
            activation,
            input_shape,
            custom=decoder,
        )
        self.likelihood = likelihood
        self.prior = StandardNormalPrior(n_components) if prior is None else prior
        if isinstance(self.prior, VampPrior):
            self.prior.bind(self.encode)
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.tc_weight = tc_weight

    @property
    def closed_form_kl(self) -> bool:
        """Whether KL(q(z | x) || p(z)) has a closed form (the N(0, I) prior)."""
        return isinstance(self.prior, StandardNormalPrior)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and log-variances, each ``(batch, n_components)``."""
        return split_gaussian(self.encoder(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean."""
        return self.encode(x)[0]

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x | z)."""
        return self.likelihood.output(self.decoder(z))

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """The log-density log p(z), summed over the last dimension."""
        return self.prior.log_prob(z)

    def forward(self, x: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample training loss (negative beta-ELBO or IWAE bound) and parts."""
        mu, log_var = self.encode(x)
        k = self.n_iwae_samples if self.objective == "iwae" else 1
        z, _ = training_draws(mu, log_var, ctx, k)
        log_px = self.likelihood.log_prob(x, self.decoder(z).float())
        if k == 1:
            z, log_px = z[None], log_px[None]
        kl = None
        if not self.closed_form_kl or k > 1:
            log_qz = gaussian_log_prob(z, mu, log_var)  # (k, batch)
            log_ratio = self.log_prior(z) - log_qz  # log p(z) - log q(z | x)
            kl = -log_ratio.mean(0)  # a one-sample estimate per draw
        if self.closed_form_kl:
            kl_per_dim = gaussian_kl(mu, log_var)  # (batch, n_components)
            kl = kl_per_dim.sum(-1)
        else:  # no closed form: the estimate, spread over dimensions
            kl_per_dim = (kl / self.n_latent)[:, None].expand(-1, self.n_latent)
        if k > 1:  # importance-weighted bound, beta on the prior/posterior ratio
            loss = iwae_loss(log_px, log_ratio, ctx)
        else:
            loss = elbo_loss(log_px[0], kl_per_dim, ctx)
        if self.tc_weight > 0:
            tc = total_correlation(z[0], mu, log_var, ctx.n_train)
            loss = loss + ctx.warmup * self.tc_weight * tc
        return elbo_terms(loss, log_px, kl_per_dim, mu, kl)

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """ELBO (one draw) or importance-weighted bound (``k`` draws) per row.

        ``eps`` has shape ``(k, n_components)`` (the same draws for every
        row) or ``(k, batch, n_components)`` (each row's own).
        """
        mu, log_var = self.encode(x)  # (batch, n_components)
        z = shared_draws(mu, log_var, eps)  # (k, batch, n_components)
        log_px = self.likelihood.log_prob(x, self.decoder(z))  # (k, batch)
        if eps.shape[0] == 1 and self.closed_form_kl:
            return log_px[0] - gaussian_kl(mu, log_var).sum(-1)
        return bound(log_px, self.log_prior(z), eps, log_var)

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Mean over the ``k`` draws in ``eps`` of log p(x | z), z ~ q(z | x)."""
        z = shared_draws(*self.encode(x), eps)  # (k, batch, n_components)
        return self.likelihood.log_prob(x, self.decoder(z)).mean(0)

    def impute(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Rows ``x`` with their NaN entries filled from p(x_missing | x_observed).

        With draws z_k = mu + sigma * eps_k of q(z | x_observed) and
        self-normalised importance weights w_k proportional to
        p(x_observed | z_k) p(z_k) / q(z_k | x_observed) (Mattei & Frellsen
        2019): without ``generator``, the weighted mean of the decoders'
        expected values (the single imputation that minimises squared error);
        with it, one draw of x_missing from p(x | z_k), z_k chosen with
        probability w_k (sampling importance resampling: multiple imputation).
        """
        observed = ~torch.isnan(x)
        mu, log_var = self.encode(x)
        z = shared_draws(mu, log_var, eps)  # (k, batch, d)
        params = self.decoder(z)
        log_q = posterior_log_prob(eps, log_var)
        log_w = self.likelihood.log_prob(x, params, update=False)
        log_w = log_w + self.log_prior(z) - log_q  # (k, batch)
        weights = torch.softmax(log_w, dim=0)
        # what the observed entries rule out (a one-hot group's other columns)
        params = self.likelihood.given(x, params)
        if generator is None:
            fill = (weights[..., None] * self.likelihood.expectation(params)).sum(0)
        else:
            pick = torch.multinomial(weights.T, 1, generator=generator)[:, 0]
            chosen = params[pick, torch.arange(x.shape[0], device=x.device)]
            fill = self.likelihood.sample(chosen, generator)
        return torch.where(observed, x, fill)

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of latents drawn from the prior."""
        return self.decode_mean(self.prior.sample(n_samples, generator))
