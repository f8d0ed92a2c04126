"""VaDE's module: a Gaussian-latent VAE under a learnable Gaussian-mixture prior.

The torch part of :class:`skvae.VaDE` (Jiang et al. 2017): its training
step (the pretraining autoencoder's loss, the VaDE bound or the
importance-weighted bound), with the KL weighted as
:func:`mixture_kl_penalty` says, and the mixture's responsibilities. The
prior is :class:`skvae.nn.priors.GaussianMixturePrior`; draws and bounds are
those of :mod:`skvae.nn.gaussian`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch
from torch import nn

from skvae.nn.base import ELBOTerms, StepContext
from skvae.nn.divergences import kl_term, posterior_log_prob
from skvae.nn.gaussian import (
    GaussianVAEModule,
    elbo_terms,
    iwae_loss,
    training_draws,
)
from skvae.nn.likelihoods import GaussianLikelihood, Likelihood
from skvae.nn.networks import NetworkSpec
from skvae.nn.priors import GaussianMixturePrior

__all__ = ["SharedVarianceGaussian", "VaDEModule", "mixture_kl_penalty"]


class SharedVarianceGaussian(GaussianLikelihood):
    """A Gaussian likelihood whose features share one learned variance.

    As :class:`~skvae.nn.GaussianLikelihood`, but the variance is the mean of
    the per-feature moving averages, the same for every feature: the
    reconstruction term is then a squared error that weighs every feature
    alike. With a variance per feature, features that barely vary (the
    border pixels of an image) get a tiny variance and dominate the loss, and
    an autoencoder's codes then follow them rather than the data's clusters.

    Parameters
    ----------
    n_features : int
        Number of features.
    min_variance : float, default=1e-4
        Floor on the variance.
    momentum : float, default=0.1
        Weight of the newest batch in the moving average.

    Examples
    --------
    >>> import torch
    >>> lik = SharedVarianceGaussian(3).train()
    >>> _ = lik.log_prob(torch.zeros(4, 3), torch.tensor([[0.0, 1.0, 2.0]] * 4))
    >>> lik.variance
    tensor([1.6667, 1.6667, 1.6667])
    """

    @torch.no_grad()
    def _update(
        self, x: torch.Tensor, params: torch.Tensor, observed: torch.Tensor | None
    ) -> None:
        super()._update(x, params, observed)
        self.variance.copy_(self.variance.mean().expand_as(self.variance))


def mixture_kl_penalty(
    kl_per_dim: torch.Tensor, kl_cluster: torch.Tensor, ctx: StepContext
) -> torch.Tensor:
    """VaDE's KL part of the loss per row: beta times the KL, as the step asks.

    Free bits apply to each dimension of z (``kl_per_dim``), as in a VAE;
    the capacity applies to the whole KL, that of z plus that of the cluster
    assignment (``kl_cluster``), so that a large beta does not push the
    assignments towards the mixture weights.

    Parameters
    ----------
    kl_per_dim : torch.Tensor of shape (batch, d)
        Expected KL of q(z | x) against the components, per dimension.
    kl_cluster : torch.Tensor of shape (batch,)
        KL of the cluster assignment, KL(q(c | x) || pi).
    ctx : StepContext
        The step's beta, free bits and capacity.

    Returns
    -------
    torch.Tensor of shape (batch,)

    Examples
    --------
    >>> ctx = StepContext(beta=2.0, free_bits=0.0, generator=torch.Generator(),
    ...                   capacity=4.0)
    >>> mixture_kl_penalty(torch.ones(3, 2), torch.ones(3), ctx)
    tensor([2., 2., 2.])
    """
    z_term = kl_term(kl_per_dim, dataclasses.replace(ctx, capacity=None))
    # the whole KL as one column: kl_term then applies only the capacity
    whole = (z_term + kl_cluster)[:, None]
    return ctx.beta * kl_term(whole, dataclasses.replace(ctx, free_bits=0.0))


class VaDEModule(GaussianVAEModule):
    """A Gaussian-latent VAE whose prior is a learnable Gaussian mixture.

    With ``pretraining`` set, :meth:`forward` is a plain autoencoder's loss
    (decoding the posterior mean, no KL), the pretraining of Jiang et al.
    Otherwise it is the negative VaDE bound (eq. 10 of the paper) with the
    KL weighted as :func:`mixture_kl_penalty` says, or the importance-weighted
    bound under the mixture prior (``objective="iwae"``). The scores
    (``log_likelihood``) are :class:`~skvae.nn.gaussian.GaussianVAEModule`'s
    under the mixture prior.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_clusters : int
        Number of mixture components.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder widths; the decoder mirrors them.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model.
    input_shape : tuple of int or None, default=None
        (C, H, W) for convolutional networks.
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in ones.
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective after the pretraining.
    n_iwae_samples : int, default=5
        Draws per row of the "iwae" objective.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import GaussianLikelihood
    >>> m = VaDEModule(5, 3, 2, (8,), "relu", GaussianLikelihood(5))
    >>> m.cluster_log_proba(torch.zeros(4, 5)).shape
    torch.Size([4, 3])
    """

    # not checked under bfloat16 autocast: precision="bfloat16" is refused
    supports_autocast = False

    def __init__(
        self,
        n_features: int,
        n_clusters: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        input_shape: Sequence[int] | None = None,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
        objective: str = "elbo",
        n_iwae_samples: int = 5,
    ) -> None:
        super().__init__(
            n_features,
            n_components,
            hidden_layer_sizes,
            activation,
            likelihood,
            input_shape,
            objective=objective,
            n_iwae_samples=n_iwae_samples,
            prior=GaussianMixturePrior(n_clusters, n_components),
            encoder=encoder,
            decoder=decoder,
        )
        self.pretraining = False

    def forward(self, x: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample training loss and its parts (see the class docstring)."""
        mu, log_var = self.encode(x)
        if self.pretraining:
            # the decoder's output in float32 under autocast, as the others'
            log_px = self.likelihood.log_prob(x, self.decoder(mu).float())
            return elbo_terms(-log_px, log_px, torch.zeros_like(mu), mu)
        k = self.n_iwae_samples if self.objective == "iwae" else 1
        z, eps = training_draws(mu, log_var, ctx, k)
        log_px = self.likelihood.log_prob(x, self.decoder(z))  # (batch) or (k, batch)
        # q(c | x) is approximated by p(c | z) at a sampled z, as in the paper.
        gamma = self.prior.responsibilities(z if k == 1 else z[0])
        kl_per_dim, kl_cluster = self.prior.kl_terms(mu, log_var, gamma)
        if k > 1:
            log_ratio = self.prior.log_prob(z) - posterior_log_prob(eps, log_var)
            loss = iwae_loss(log_px, log_ratio, ctx)
        else:
            loss = -log_px + mixture_kl_penalty(kl_per_dim, kl_cluster, ctx)
        return elbo_terms(loss, log_px, kl_per_dim, mu, kl_per_dim.sum(-1) + kl_cluster)

    def start_posterior_variance(self, variance: float) -> None:
        """Make q(z | x) start at one variance for every row and dimension.

        Zeroes the weights of the encoder's log-variance outputs (those of
        its last linear layer) and sets their bias to ``log(variance)``; the
        means are left as they are.

        Parameters
        ----------
        variance : float
            The posterior variance to start from, > 0.

        Examples
        --------
        >>> from skvae.nn import GaussianLikelihood
        >>> m = VaDEModule(5, 3, 2, (8,), "relu", GaussianLikelihood(5))
        >>> m.start_posterior_variance(0.25)
        >>> m.encode(torch.randn(4, 5))[1].exp()
        tensor([[0.2500, 0.2500],
                [0.2500, 0.2500],
                [0.2500, 0.2500],
                [0.2500, 0.2500]], grad_fn=<ExpBackward0>)
        """
        last = [m for m in self.encoder.modules() if isinstance(m, nn.Linear)][-1]
        n = self.n_latent
        with torch.no_grad():
            last.weight[n:].zero_()
            last.bias[n:].fill_(math.log(variance))

    def cluster_log_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Log p(c | z = E[z | x]), ``(batch, n_clusters)``.

        Computed in float64: the squared distance of a far-away code (from
        a huge but representable input) overflows float32, and a softmax
        over all -inf would be NaN.
        """
        z = self.embed(x).double()
        return torch.log_softmax(self.prior.component_log_prob(z), dim=-1).float()

    def sample(
        self,
        n_samples: int,
        generator: torch.Generator,
        clusters: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decoder means of latents drawn from the mixture (or given components)."""
        return self.decode_mean(self.prior.sample(n_samples, generator, clusters))
