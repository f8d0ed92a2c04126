"""Hierarchical VAE module: a stack of diagonal Gaussian latent layers.

The generative model is p(x | z_1) p(z_1 | z_2) ... p(z_{L-1} | z_L) p(z_L)
with p(z_L) = N(0, I). :class:`HierarchicalVAEModule` infers the layers
bottom-up, or top-down as the ladder VAE of Sønderby et al. (2016)
(``top_down=True``); the estimators ``skvae.HierarchicalVAE`` and
``skvae.LadderVAE`` build it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.divergences import (
    gaussian_kl_between,
    gaussian_log_prob_per_dim,
    importance_bound,
    posterior_log_prob_per_dim,
    precision_weighted_merge,
)
from skvae.nn.gaussian import (
    elbo_loss,
    elbo_terms,
    iwae_loss,
    per_row,
    reparameterize,
    split_gaussian,
)
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import CustomNetwork, NetworkSpec, dense_layers

__all__ = ["HierarchicalVAEModule"]


class _GaussianNet(nn.Module):
    """A dense body and a linear head giving a mean and a clamped log-variance."""

    def __init__(
        self,
        n_inputs: int,
        widths: Sequence[int],
        n_outputs: int,
        activation: str,
        batch_norm: bool,
    ) -> None:
        super().__init__()
        self.body = dense_layers(n_inputs, widths, activation, batch_norm)
        self.head = nn.Linear(widths[-1] if widths else n_inputs, 2 * n_outputs)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_gaussian(self.head(self.body(h)))


class _Layer(NamedTuple):
    """One stochastic layer of a posterior pass; tensors broadcast to (k, batch, d)."""

    z: torch.Tensor  # the draw
    eps: torch.Tensor  # its standard normal noise
    mu_q: torch.Tensor  # posterior mean
    log_var_q: torch.Tensor  # posterior log-variance
    mu_p: torch.Tensor  # prior mean given the layer above (0 for the top layer)
    log_var_p: torch.Tensor  # prior log-variance (0 for the top layer)


class HierarchicalVAEModule(LatentModule):
    """A VAE with a hierarchy of diagonal Gaussian latent layers.

    The generative model is p(x | z_1) prod_l p(z_l | z_{l+1}) p(z_L), with
    p(z_L) = N(0, I). With ``top_down=False`` the posterior is bottom-up,
    q(z_1 | x) q(z_2 | z_1) ...; with ``top_down=True`` it is the ladder
    posterior of Sønderby et al. (2016): a deterministic bottom-up pass gives
    (mu_hat_l, var_hat_l) per layer, q(z_L | x) = N(mu_hat_L, var_hat_L) and,
    top-down, q(z_l | x, z_{l+1}) is the precision-weighted merge of
    (mu_hat_l, var_hat_l) with p(z_l | z_{l+1}).

    ``noise_dim`` is ``sum(n_components)``: the noise of :meth:`log_likelihood`
    is split into the layers' blocks, bottom first.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_components : sequence of int
        Width of each latent layer, bottom (next to the data) to top.
    hidden_layer_sizes : sequence of int
        Hidden widths between x and z_1 (the decoder mirrors them).
    latent_hidden_layer_sizes : sequence of int
        Hidden widths of the MLPs between consecutive latent layers (the
        generative ones mirror them); for the ladder, the deterministic
        bottom-up pass goes through them too.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model p(x | z_1).
    top_down : bool, default=False
        Ladder (top-down) inference instead of bottom-up.
    batch_norm : bool, default=True
        Batch normalisation after each hidden linear layer.
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in data-side ones: x to the
        features of the first layer's head, and z_1 to the likelihood's
        parameters.
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective: the (beta-)ELBO with one draw, or the
        importance-weighted bound of Burda et al. (2016) with
        ``n_iwae_samples`` draws of the whole hierarchy.
    n_iwae_samples : int, default=5
        Draws per row of the "iwae" objective.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> m = HierarchicalVAEModule(6, (4, 2), (8,), (8,), "relu",
    ...                           BernoulliLikelihood(6), top_down=True)
    >>> m.eval().embed(torch.rand(3, 6)).shape, m.noise_dim
    (torch.Size([3, 2]), 6)
    """

    def __init__(
        self,
        n_features: int,
        n_components: Sequence[int],
        hidden_layer_sizes: Sequence[int],
        latent_hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        *,
        top_down: bool = False,
        batch_norm: bool = True,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
        objective: str = "elbo",
        n_iwae_samples: int = 5,
    ) -> None:
        super().__init__()
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        sizes = [int(d) for d in n_components]
        hidden, between = list(hidden_layer_sizes), list(latent_hidden_layer_sizes)
        self.sizes = sizes
        self.top_down = top_down
        self.n_latent = sizes[-1]
        self.noise_dim = sum(sizes)
        self.likelihood = likelihood
        # Bottom-up: up[l] maps x (l = 0) or the layer below (its draw, or for
        # the ladder its deterministic features) to a body, heads[l] to
        # (mu, log_var) of layer l.
        self.up = nn.ModuleList()
        self.heads = nn.ModuleList()
        width = n_features
        for level, size in enumerate(sizes):
            widths = hidden if level == 0 else between
            body_width = widths[-1] if widths else width
            if level == 0 and encoder is not None:  # the user's x -> features
                self.up.append(CustomNetwork(encoder, width, body_width))
            else:
                self.up.append(dense_layers(width, widths, activation, batch_norm))
            self.heads.append(nn.Linear(body_width, 2 * size))
            width = body_width if top_down else size
        # Top-down generative conditionals p(z_l | z_{l+1}) for l < L.
        self.down = nn.ModuleList(
            _GaussianNet(
                sizes[level + 1], between[::-1], sizes[level], activation, batch_norm
            )
            for level in range(len(sizes) - 1)
        )
        if decoder is not None:  # the user's z_1 -> features, then the head
            self.decoder = CustomNetwork(decoder, sizes[0], likelihood.n_params)
        else:
            self.decoder = nn.Sequential(
                dense_layers(sizes[0], hidden[::-1], activation, batch_norm),
                nn.Linear(hidden[0] if hidden else sizes[0], likelihood.n_params),
            )

    # ------------------------------------------------------------ passes
    def _head(self, level: int, h: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Body output of the bottom-up net at ``level`` and its (mu, log_var)."""
        h = self.up[level](h)
        return (h, *split_gaussian(self.heads[level](h)))

    def _layers(self, x: torch.Tensor, eps: torch.Tensor) -> list[_Layer]:
        """Draw every layer from the posterior, bottom first.

        ``eps`` ``(k, batch or 1, noise_dim)`` holds the layers' noise blocks,
        bottom first.
        """
        noise = eps.split(self.sizes, dim=-1)
        if self.top_down:
            return self._top_down_layers(x, noise)
        draws, h = [], x
        for level, eps_l in enumerate(noise):
            _, mu, log_var = self._head(level, h)
            h = reparameterize(mu, log_var, eps_l)  # (k, batch, d_l)
            draws.append((h, eps_l, mu, log_var))
        zero = h.new_zeros(())  # the top's prior: N(0, I)
        layers = []
        for level, draw in enumerate(draws):  # priors from the draws above
            if level + 1 < len(draws):
                prior = self.down[level](draws[level + 1][0])
            else:
                prior = (zero, zero)
            layers.append(_Layer(*draw, *prior))
        return layers

    def _top_down_layers(
        self, x: torch.Tensor, noise: Sequence[torch.Tensor]
    ) -> list[_Layer]:
        h, hats = x, []
        for level in range(len(self.sizes)):  # deterministic bottom-up pass
            h, mu_hat, log_var_hat = self._head(level, h)
            hats.append((mu_hat, log_var_hat))  # (batch, d_l)
        mu, log_var = hats[-1]
        z = reparameterize(mu, log_var, noise[-1])
        zero = mu.new_zeros(())  # the top's prior: N(0, I)
        layers = [_Layer(z, noise[-1], mu, log_var, zero, zero)]
        for level in range(len(self.sizes) - 2, -1, -1):
            mu_p, log_var_p = self.down[level](z)  # (k, batch, d_l)
            mu, log_var = precision_weighted_merge(*hats[level], mu_p, log_var_p)
            z = reparameterize(mu, log_var, noise[level])
            layers.insert(0, _Layer(z, noise[level], mu, log_var, mu_p, log_var_p))
        return layers

    def _terms(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[_Layer]]:
        """Terms of each draw: log p(x | z_1) (k, b), KL (k, b, D), log p/q (k, b).

        The last, log p(z) - log q(z | x) over the whole hierarchy, makes the
        importance weights. The KL of a layer is analytic where its prior does
        not depend on its own draw: the top layer, and every layer of the
        ladder (given the draw above). For bottom-up inference the layers
        below the top use the one-draw estimate
        log q(z_l | .) - log p(z_l | z_{l+1}).
        """
        layers = self._layers(x, eps)
        log_px = self.likelihood.log_prob(x, self.decoder(layers[0].z))  # (k, b)
        top = len(layers) - 1
        log_ratio = 0.0
        kl_dims = []
        for level, layer in enumerate(layers):
            log_q = posterior_log_prob_per_dim(layer.eps, layer.log_var_q)
            log_p = gaussian_log_prob_per_dim(layer.z, layer.mu_p, layer.log_var_p)
            if self.top_down or level == top:
                kl = gaussian_kl_between(
                    layer.mu_q, layer.log_var_q, layer.mu_p, layer.log_var_p
                )
            else:
                kl = log_q - log_p
            log_ratio = log_ratio + (log_p - log_q).sum(-1)
            kl_dims.append(kl.expand(*log_px.shape, kl.shape[-1]))
        return log_px, torch.cat(kl_dims, dim=-1), log_ratio, layers

    # ----------------------------------------------------------- protocol
    def forward(self, x: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample training loss and its parts.

        The negative beta-ELBO with one reparameterised draw, or with
        ``objective="iwae"`` the negative importance-weighted bound over
        ``n_iwae_samples`` draws (beta weighting the prior/posterior ratio).
        """
        k = self.n_iwae_samples if self.objective == "iwae" else 1
        eps = ctx.randn((k, x.shape[0], self.noise_dim), like=x, batch_dim=1)
        log_px, kl_dims, log_ratio, layers = self._terms(x, eps)
        if k > 1:
            loss = iwae_loss(log_px, log_ratio, ctx)
            kl_per_dim = kl_dims.mean(0)
        else:
            kl_per_dim = kl_dims[0]  # (b, D)
            loss = elbo_loss(log_px[0], kl_per_dim, ctx)  # beta, free bits, capacity
        mu = layers[-1].mu_q  # bottom-up: (k, b, d_L), given the draws below
        return elbo_terms(loss, log_px, kl_per_dim, mu[0] if mu.ndim == 3 else mu)

    def embed_layers(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior means of every layer, concatenated bottom first (b, D).

        Each layer's mean is taken given the means of the layers it is
        conditioned on (below for bottom-up inference, above for the ladder).
        """
        layers = self._layers(x, x.new_zeros(1, 1, self.noise_dim))
        return torch.cat(
            [layer.mu_q.expand(1, x.shape[0], -1)[0] for layer in layers], dim=-1
        )

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The top layer's posterior mean (b, d_L)."""
        if self.top_down:  # q(z_L | x) needs only the bottom-up pass
            h = x
            for level in range(len(self.sizes)):
                h, mu, _ = self._head(level, h)
            return mu
        return self.embed_layers(x)[:, -self.n_latent :]

    def decode_mean(self, z: torch.Tensor, level: int = -1) -> torch.Tensor:
        """The mean of p(x | z_1) for a code of layer ``level`` (default: the top).

        The code is passed down through the means of p(z_l | z_{l+1}).
        """
        for below in range(level % len(self.sizes) - 1, -1, -1):
            z = self.down[below](z)[0]
        return self.likelihood.output(self.decoder(z))

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """ELBO (one draw) or importance-weighted bound (``k`` draws) per row.

        ``eps`` has shape ``(k, noise_dim)`` (the same draws for every row) or
        ``(k, batch, noise_dim)`` (each row's own).
        The ELBO uses the analytic KL terms where there are.
        """
        log_px, kl_dims, log_ratio, _ = self._terms(x, per_row(eps))
        if eps.shape[0] == 1:
            return log_px[0] - kl_dims[0].sum(-1)
        return importance_bound(log_px + log_ratio)

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Mean over the ``k`` draws in ``eps`` of log p(x | z_1), z ~ q(z | x)."""
        layers = self._layers(x, per_row(eps))
        return self.likelihood.log_prob(x, self.decoder(layers[0].z)).mean(0)

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of latents drawn ancestrally from the prior."""
        weight = self.heads[0].weight

        def randn(size: int) -> torch.Tensor:
            return torch.randn(
                n_samples,
                size,
                generator=generator,
                device=weight.device,
                dtype=weight.dtype,
            )

        z = randn(self.sizes[-1])
        for level in range(len(self.sizes) - 2, -1, -1):
            z = reparameterize(*self.down[level](z), randn(self.sizes[level]))
        return self.likelihood.output(self.decoder(z))
