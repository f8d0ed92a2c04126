"""The label-conditioned Gaussian VAE: a decoder p(x | z, y) that takes a one-hot y.

The module of :class:`skvae.ConditionalVAE`, and the generative part of the
semi-supervised model M2 (:class:`skvae.SemiSupervisedVAE`), whose module
adds a classifier q(y | x). Its draws and bounds are those of
:mod:`skvae.nn.gaussian`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conv import make_decoder, make_encoder
from skvae.nn.divergences import gaussian_kl, posterior_log_prob
from skvae.nn.gaussian import (
    bound,
    elbo_loss,
    elbo_terms,
    iwae_loss,
    shared_draws,
    split_gaussian,
    training_draws,
)
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import NetworkSpec
from skvae.nn.priors import StandardNormalPrior


class ConditionalVAEModule(LatentModule):
    """A Gaussian-latent VAE whose decoder p(x | z, y) takes a one-hot label.

    The encoder q(z | x) sees only ``x`` unless ``encode_label`` is true, in
    which case it is q(z | x, y). Methods without a label marginalise it over
    the class prior ``log_prior`` (a buffer: log p(y) of each class).

    Its training step is safe under bfloat16 autocast
    (``supports_autocast``): the encoder's and decoder's outputs are cast to
    float32 before the KL and likelihood terms.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_classes : int
        Number of labels.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder widths; the decoder mirrors them.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model.
    log_prior : torch.Tensor of shape (n_classes,)
        Log-probabilities of the classes.
    encode_label : bool, default=False
        Whether the encoder also takes the label.
    input_shape : tuple of int or None, default=None
        (C, H, W) for convolutional networks (a label given to the encoder
        joins the convolutional features at its linear layer).
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in ones; the encoder receives
        the row (and the one-hot label, appended, if it takes it) and the
        decoder the code with the one-hot label appended.
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective: the ELBO of (x, y), or the importance-weighted
        bound of log p(x | y) with ``n_iwae_samples`` draws.
    n_iwae_samples : int, default=5
        Draws per row of the "iwae" objective.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> m = ConditionalVAEModule(5, 3, 2, (8,), "relu", BernoulliLikelihood(5),
    ...                          torch.full((3,), -1.0986))
    >>> m.decode_mean(torch.zeros(4, 2), torch.eye(3)[[0, 1, 2, 0]]).shape
    torch.Size([4, 5])
    """

    supports_autocast = True

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        log_prior: torch.Tensor,
        encode_label: bool = False,
        input_shape: Sequence[int] | None = None,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
        objective: str = "elbo",
        n_iwae_samples: int = 5,
    ) -> None:
        super().__init__()
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.n_latent = n_components
        self.noise_dim = n_components
        self.n_classes = n_classes
        self.rows_per_input = n_classes  # label-free scores decode every class
        self.encode_label = encode_label
        self.encoder = make_encoder(
            n_features + (n_classes if encode_label else 0),
            hidden_layer_sizes,
            2 * n_components,
            activation,
            input_shape,
            custom=encoder,
        )
        self.decoder = make_decoder(
            n_components + n_classes,
            hidden_layer_sizes,
            likelihood.n_params,
            activation,
            input_shape,
            custom=decoder,
        )
        self.likelihood = likelihood
        self.prior = StandardNormalPrior(n_components)
        self.register_buffer("log_prior", log_prior.clone())

    # ------------------------------------------------------------- pieces
    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and log-variances; ``y`` one-hot if the encoder uses it."""
        if self.encode_label:
            x = torch.cat([x, y], dim=-1)
        return split_gaussian(self.encoder(x))

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Decoder outputs (float32) for latents ``z`` and one-hot labels ``y``."""
        y = y.expand(*z.shape[:-1], y.shape[-1])
        return self.decoder(torch.cat([z, y], dim=-1)).float()

    def _all_classes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row repeated once per class, with the matching one-hot labels."""
        n, k = x.shape[0], self.n_classes
        eye = torch.eye(k, device=x.device, dtype=x.dtype)
        return x.repeat_interleave(k, dim=0), eye.repeat(n, 1)

    def class_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Weights of the classes for label-free inference, ``(batch, n_classes)``.

        The prior p(y) here; the semi-supervised model uses its classifier.
        """
        return self.log_prior.exp().expand(x.shape[0], -1)

    # ----------------------------------------------------------- training
    def elbo_parts(
        self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One-draw terms of the ELBO of (x, y): ``log_px``, ``kl_per_dim``, ``mu``.

        ``update=False`` keeps the likelihood's running statistics unchanged
        (rows whose label is only a guess).
        """
        mu, log_var = self.encode(x, y)
        z, _ = training_draws(mu, log_var, ctx)
        log_px = self.likelihood.log_prob(x, self.decode(z, y), update=update)
        return log_px, gaussian_kl(mu, log_var), mu

    def forward(self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample negative beta-ELBO of (x, y) (or IWAE bound) and its parts."""
        if self.objective == "iwae" and self.n_iwae_samples > 1:
            return self._iwae_terms(x, y, ctx)
        log_px, kl_per_dim, mu = self.elbo_parts(x, y, ctx)
        return elbo_terms(elbo_loss(log_px, kl_per_dim, ctx), log_px, kl_per_dim, mu)

    def _iwae_terms(
        self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
    ) -> ELBOTerms:
        """Negative importance-weighted bound of log p(x | y), k draws per row."""
        mu, log_var = self.encode(x, y)
        z, eps = training_draws(mu, log_var, ctx, self.n_iwae_samples)
        log_px = self.likelihood.log_prob(x, self.decode(z, y))  # (k, batch)
        log_ratio = self.prior.log_prob(z) - posterior_log_prob(eps, log_var)
        loss = iwae_loss(log_px, log_ratio, ctx)
        return elbo_terms(loss, log_px, gaussian_kl(mu, log_var), mu)

    # ---------------------------------------------------------- inference
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean (over ``class_weights`` if the encoder takes labels)."""
        if not self.encode_label:
            return self.encode(x)[0]
        weights = self.class_weights(x)
        eye = torch.eye(self.n_classes, device=x.device, dtype=x.dtype)
        out = torch.zeros(x.shape[0], self.n_latent, device=x.device, dtype=x.dtype)
        for c in range(self.n_classes):  # a loop keeps each matmul (batch, .)
            out += (
                weights[:, c, None] * self.encode(x, eye[c].expand(x.shape[0], -1))[0]
            )
        return out

    def decode_mean(
        self, z: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean of p(x | z, y); without ``y``, of p(x | z) = sum_y p(y) p(x | z, y)."""
        if y is not None:
            return self.likelihood.mean(self.decode(z, y))
        zs, ys = self._all_classes(z)
        means = self.likelihood.mean(self.decode(zs, ys)).view(
            z.shape[0], self.n_classes, -1
        )
        return (self.log_prior.exp()[None, :, None] * means).sum(1)

    def conditional_log_likelihood(
        self, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """ELBO (one draw) or importance-weighted bound of log p(x | y) per row."""
        mu, log_var = self.encode(x, y)
        z = shared_draws(mu, log_var, eps)  # (k, batch, n_components)
        log_px = self.likelihood.log_prob(x, self.decode(z, y))  # (k, batch)
        if eps.shape[0] == 1:
            return log_px[0] - gaussian_kl(mu, log_var).sum(-1)
        return bound(log_px, self.prior.log_prob(z), eps, log_var)

    def class_log_likelihoods(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Bounds of log p(x | y = c) for every class c, ``(batch, n_classes)``."""
        xs, ys = self._all_classes(x)
        return self.conditional_log_likelihood(xs, ys, eps).view(
            x.shape[0], self.n_classes
        )

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Bound of log p(x) = log sum_y p(y) p(x | y) per row."""
        return torch.logsumexp(
            self.class_log_likelihoods(x, eps) + self.log_prior, dim=-1
        )

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Mean over draws of log sum_y p(y) p(x | z, y), z ~ q(z | x, .)."""
        xs, ys = self._all_classes(x)
        z = shared_draws(*self.encode(xs, ys), eps)  # (k, batch * n_classes, d)
        log_px = self.likelihood.log_prob(xs, self.decode(z, ys))
        log_px = log_px.view(eps.shape[0], x.shape[0], self.n_classes)
        weights = self.class_weights(x).clamp_min(1e-30).log()
        return torch.logsumexp(log_px + weights, dim=-1).mean(0)

    def sample(
        self, n_samples: int, generator: torch.Generator, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Decoder means of prior latents; labels ``y`` (one-hot) or drawn from p(y)."""
        z = self.prior.sample(n_samples, generator)
        if y is None:
            codes = torch.multinomial(
                self.log_prior.exp(), n_samples, replacement=True, generator=generator
            )
            y = torch.eye(self.n_classes, device=z.device, dtype=z.dtype)[codes]
        return self.decode_mean(z, y)
