"""An autoencoder whose codes a regulariser pushes towards a N(0, I) prior.

The torch part that the Wasserstein autoencoder (:mod:`skvae.models.wae`) and
the adversarial autoencoder (:mod:`skvae.models.aae`) share: a deterministic
or Gaussian encoder, a decoder with a likelihood, and the standard normal
prior. Each family adds its regulariser (the MMD, a discriminator) in its own
module's ``forward``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from skvae.nn.base import LatentModule, StepContext
from skvae.nn.conv import make_decoder, make_encoder
from skvae.nn.gaussian import shared_draws, split_gaussian, training_draws
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import NetworkSpec
from skvae.nn.priors import StandardNormalPrior

__all__ = ["ENCODER_TYPES", "AutoencoderModule"]

#: The encoders of a regularised autoencoder: z = f(x), or z ~ N(mu(x), sigma^2(x)).
ENCODER_TYPES = frozenset({"deterministic", "gaussian"})


class AutoencoderModule(LatentModule):
    """An autoencoder whose codes are regularised towards a N(0, I) prior.

    The shared part of the WAE's and the adversarial autoencoder's modules: a
    deterministic or Gaussian encoder, a decoder with a likelihood, and the
    standard normal prior. Subclasses add the regulariser in ``forward``,
    from the training codes of :meth:`code` and the reconstruction cost of
    :meth:`reconstruction_cost`, which are float32 even where the networks
    run under bfloat16 autocast.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder widths (conv channels with ``input_shape``); the decoder
        mirrors them.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model p(x | z).
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as rows: convolutional networks.
    encoder_type : {"deterministic", "gaussian"}, default="deterministic"
        A deterministic code z = f(x), or z ~ N(mu(x), diag(sigma^2(x))) drawn
        by reparameterisation in training.
    log_var_penalty : float, default=0.0
        Weight of ``sum_j |log sigma_j^2|`` per row (Gaussian encoder only),
        which keeps the encoder's variances from collapsing to zero.
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in ones
        (see :func:`skvae.nn.conv.make_encoder`).

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import GaussianLikelihood
    >>> m = AutoencoderModule(5, 2, (8,), "relu", GaussianLikelihood(5))
    >>> m.embed(torch.zeros(3, 5)).shape, m.sample(4, torch.Generator()).shape
    (torch.Size([3, 2]), torch.Size([4, 5]))
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        input_shape: Sequence[int] | None = None,
        *,
        encoder_type: str = "deterministic",
        log_var_penalty: float = 0.0,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
    ) -> None:
        super().__init__()
        if encoder_type not in ENCODER_TYPES:
            raise ValueError(
                f"Unknown encoder_type {encoder_type!r}; expected one of "
                f"{sorted(ENCODER_TYPES)}."
            )
        self.stochastic = encoder_type == "gaussian"
        self.log_var_penalty = float(log_var_penalty)
        self.activation = activation
        self.n_latent = n_components
        self.noise_dim = n_components if self.stochastic else 0
        n_out = 2 * n_components if self.stochastic else n_components
        self.encoder = make_encoder(
            n_features,
            hidden_layer_sizes,
            n_out,
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
        self.prior = StandardNormalPrior(n_components)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Code means and log-variances (None for a deterministic encoder).

        Both are float32: under mixed precision only the networks run in
        bfloat16, the regulariser and likelihood sums do not.
        """
        h = self.encoder(x)
        if not self.stochastic:
            return h.float(), None
        return split_gaussian(h)

    def code(
        self, x: torch.Tensor, ctx: StepContext
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training codes ``(batch, n_components)`` and the per-row penalty.

        The Gaussian encoder draws z by reparameterisation with the step's
        noise (``ctx``) and penalises ``log_var_penalty * sum_j |log sigma_j^2|``;
        the deterministic encoder's code is its output, with no penalty.
        """
        mu, log_var = self.encode(x)
        if log_var is None:
            return mu, mu.new_zeros(mu.shape[0])
        z, _ = training_draws(mu, log_var, ctx)
        return z, self.log_var_penalty * log_var.abs().sum(-1)

    def reconstruction_cost(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) per row ``(batch,)``, in float32."""
        return -self.likelihood.log_prob(x, self.decoder(z).float())

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The code (the encoder's mean)."""
        return self.encode(x)[0]

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x | z)."""
        return self.likelihood.mean(self.decoder(z))

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Log-joint at the code: log p(x | z) + log p(z), z = :meth:`embed` (x).

        Not a bound on log p(x): these models have no posterior to bound it
        with. ``eps`` is not used.
        """
        z = self.embed(x)
        return self.likelihood.log_prob(x, self.decoder(z)) + self.prior.log_prob(z)

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Log p(x | z) at the code, or its mean over ``eps`` draws of z ~ q(z | x).

        ``eps`` has shape ``(k, noise_dim)``; a deterministic encoder has
        ``noise_dim = 0`` and one code per row.
        """
        mu, log_var = self.encode(x)
        if log_var is None:
            return self.likelihood.log_prob(x, self.decoder(mu))
        z = shared_draws(mu, log_var, eps)  # (k, batch, n_components)
        return self.likelihood.log_prob(x, self.decoder(z)).mean(0)

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of latents drawn from the prior."""
        return self.decode_mean(self.prior.sample(n_samples, generator))
