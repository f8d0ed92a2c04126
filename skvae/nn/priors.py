"""Priors over the latent space."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

_LOG_2PI = math.log(2.0 * math.pi)


class StandardNormalPrior(nn.Module):
    """The isotropic standard normal prior N(0, I).

    Parameters
    ----------
    n_components : int
        The latent dimension.

    Examples
    --------
    >>> import torch
    >>> prior = StandardNormalPrior(3)
    >>> prior.sample(5, torch.Generator().manual_seed(0)).shape
    torch.Size([5, 3])
    """

    def __init__(self, n_components: int) -> None:
        super().__init__()
        self.n_components = n_components
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density summed over the last dimension."""
        return -0.5 * (z.square() + _LOG_2PI).sum(-1)

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n_samples`` latents on the module's device."""
        anchor = self._anchor
        return torch.randn(
            n_samples,
            self.n_components,
            generator=generator,
            device=anchor.device,
            dtype=anchor.dtype,
        )


class GaussianMixturePrior(nn.Module):
    """A learnable mixture of diagonal Gaussians, p(z) = sum_c pi_c N(mu_c, sigma_c^2).

    The prior of VaDE (Jiang et al. 2017). The weights are kept as logits and
    the variances as log-variances, so that every parameter is unconstrained.

    Parameters
    ----------
    n_clusters : int
        Number of mixture components.
    n_components : int
        The latent dimension.

    Examples
    --------
    >>> import torch
    >>> prior = GaussianMixturePrior(3, 2)
    >>> z = prior.sample(5, torch.Generator().manual_seed(0))
    >>> z.shape, prior.log_prob(z).shape, prior.responsibilities(z).shape
    (torch.Size([5, 2]), torch.Size([5]), torch.Size([5, 3]))
    """

    def __init__(self, n_clusters: int, n_components: int) -> None:
        super().__init__()
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.logits = nn.Parameter(torch.zeros(n_clusters))
        self.means = nn.Parameter(torch.zeros(n_clusters, n_components))
        self.log_vars = nn.Parameter(torch.zeros(n_clusters, n_components))

    @torch.no_grad()
    def set_parameters(
        self, weights: torch.Tensor, means: torch.Tensor, variances: torch.Tensor
    ) -> None:
        """Set the mixture, e.g. from a GaussianMixture fitted to encoded data."""
        self.logits.copy_(weights.clamp_min(1e-12).log())
        self.means.copy_(means)
        self.log_vars.copy_(variances.clamp_min(1e-12).log())

    def log_weights(self) -> torch.Tensor:
        """Log pi_c, ``(n_clusters,)``."""
        return torch.log_softmax(self.logits, dim=-1)

    def component_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log pi_c + log N(z; mu_c, sigma_c^2), shape ``(..., n_clusters)``."""
        z = z[..., None, :]
        log_n = -0.5 * (
            (z - self.means).square() * torch.exp(-self.log_vars)
            + self.log_vars
            + _LOG_2PI
        ).sum(-1)
        return log_n + self.log_weights()

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of the mixture, summed over the latent dimension."""
        return torch.logsumexp(self.component_log_prob(z), dim=-1)

    def responsibilities(self, z: torch.Tensor) -> torch.Tensor:
        """Posterior p(c | z) of the components, ``(..., n_clusters)``."""
        return torch.softmax(self.component_log_prob(z), dim=-1)

    def kl_terms(
        self, mu: torch.Tensor, log_var: torch.Tensor, gamma: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The two parts of KL(q(z, c | x) || p(z, c)) with q(c | x) = ``gamma``.

        With q(z | x) = N(mu, exp(log_var)) (each ``(batch, d)``) and ``gamma``
        ``(batch, n_clusters)``, returns the per-dimension expected KL of
        q(z | x) against the components, ``(batch, d)``, and the KL of the
        cluster assignment, KL(gamma || pi), ``(batch,)``; their sum is the
        VaDE KL term (Jiang et al. 2017, eq. 10), in closed form.
        """
        var_ratio = torch.exp(log_var[:, None, :] - self.log_vars)  # (b, c, d)
        sq = (mu[:, None, :] - self.means).square() * torch.exp(-self.log_vars)
        per_component = 0.5 * (self.log_vars - log_var[:, None, :] + var_ratio + sq - 1)
        per_dim = (gamma[..., None] * per_component).sum(1)
        log_gamma = gamma.clamp_min(1e-12).log()
        categorical = (gamma * (log_gamma - self.log_weights())).sum(-1)
        return per_dim, categorical

    def sample(
        self,
        n_samples: int,
        generator: torch.Generator,
        clusters: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw latents; ``clusters`` (``(n_samples,)`` ints) fixes the components."""
        if clusters is None:
            clusters = torch.multinomial(
                self.log_weights().exp(),
                n_samples,
                replacement=True,
                generator=generator,
            )
        eps = torch.randn(
            n_samples,
            self.n_components,
            generator=generator,
            device=self.means.device,
            dtype=self.means.dtype,
        )
        return self.means[clusters] + torch.exp(0.5 * self.log_vars[clusters]) * eps


class VampPrior(nn.Module):
    """The VampPrior (Tomczak & Welling 2018): a mixture of posteriors.

    p(z) = 1/K sum_k q(z | u_k), with K learnable pseudo-inputs u_k. The prior
    holds the pseudo-inputs and a reference to the model's ``encode``
    (:meth:`bind`), so that, like every prior, it has :meth:`log_prob` of
    ``z`` alone and :meth:`sample`. The encoder stays the model's: it is not
    a submodule of the prior.

    Parameters
    ----------
    pseudo_inputs : torch.Tensor of shape (K, n_features)
        Initial pseudo-inputs (e.g. random training rows).

    Examples
    --------
    >>> import torch
    >>> prior = VampPrior(torch.zeros(4, 6))
    >>> prior.bind(lambda x: (torch.zeros(x.shape[0], 2), torch.zeros(x.shape[0], 2)))
    >>> prior.log_prob(torch.zeros(5, 2)).shape
    torch.Size([5])
    >>> prior.sample(3, torch.Generator().manual_seed(0)).shape
    torch.Size([3, 2])
    """

    def __init__(self, pseudo_inputs: torch.Tensor) -> None:
        super().__init__()
        self.pseudo_inputs = nn.Parameter(pseudo_inputs.detach().clone())
        self._encode: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None

    def bind(self, encode: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Use ``encode`` (rows -> posterior means and log-variances)."""
        # a plain attribute, not a submodule: the encoder's weights stay the
        # model's own (one copy in the state dict)
        object.__setattr__(self, "_encode", encode)

    @property
    def n_pseudo_inputs(self) -> int:
        """K, the number of mixture components."""
        return self.pseudo_inputs.shape[0]

    def components(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and log-variances of the K pseudo-posteriors, ``(K, d)`` each."""
        if self._encode is None:
            raise RuntimeError("VampPrior.bind(encode) must be called first.")
        return self._encode(self.pseudo_inputs)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """The log-density of ``z`` ``(..., d)``, summed over the last dimension."""
        mu, log_var = self.components()
        log_n = -0.5 * (
            (z[..., None, :] - mu).square() * torch.exp(-log_var) + log_var + _LOG_2PI
        ).sum(-1)  # (..., K)
        return torch.logsumexp(log_n, dim=-1) - math.log(mu.shape[0])

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Draw latents: a pseudo-input at random, then its posterior."""
        mu, log_var = self.components()
        index = torch.randint(
            mu.shape[0], (n_samples,), generator=generator, device=mu.device
        )
        eps = torch.randn(
            n_samples,
            mu.shape[1],
            generator=generator,
            device=mu.device,
            dtype=mu.dtype,
        )
        return mu[index] + torch.exp(0.5 * log_var[index]) * eps
