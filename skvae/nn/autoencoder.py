"""Autoencoders whose codes a regulariser pushes towards a N(0, I) prior.

:class:`AutoencoderModule` is the part that the Wasserstein autoencoder
(:class:`skvae.WAE`) and the adversarial autoencoder
(:class:`skvae.AdversarialAE`) share: a deterministic or Gaussian encoder, a
decoder with a likelihood, and the standard normal prior. Their modules add
the regulariser in ``forward``: :class:`WAEModule` the MMD between the
batch's codes and prior draws, :class:`AAEModule` a discriminator on the
latent space.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch.func import functional_call

from skvae.nn.base import LatentModule, StepContext
from skvae.nn.conv import make_decoder, make_encoder
from skvae.nn.divergences import KERNELS, mmd
from skvae.nn.gaussian import shared_draws, split_gaussian, training_draws
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import MLP, NetworkSpec
from skvae.nn.priors import StandardNormalPrior

__all__ = [
    "ENCODER_TYPES",
    "AAEModule",
    "AAETerms",
    "AutoencoderModule",
    "WAEModule",
    "WAETerms",
]

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
        return self.likelihood.output(self.decoder(z))

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

        ``eps`` has shape ``(k, noise_dim)`` or ``(k, batch, noise_dim)`` (each
        row's own draws); a deterministic encoder has
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


class WAETerms(NamedTuple):
    """Per-row terms of the WAE-MMD objective (batch first, not reduced)."""

    loss: torch.Tensor  # (batch,) recon + beta * mmd (+ log-variance penalty)
    recon: torch.Tensor  # (batch,) -log p(x | z)
    mmd: torch.Tensor  # (batch,) the batch's MMD^2 estimate, repeated per row


class WAEModule(AutoencoderModule):
    """WAE-MMD: an autoencoder with an MMD penalty between codes and prior.

    Its training step is safe under bfloat16 autocast
    (``supports_autocast``): the networks' outputs are cast to float32, and
    the MMD, a difference of nearly equal kernel means, is computed in
    float32 with autocast off. The MMD is a U-statistic over pairs of the
    batch's codes, so an epoch's last batch of one row joins the batch
    before it (``min_batch_rows``, read by the trainer).

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`skvae.nn.autoencoder.AutoencoderModule`.
    kernel : {"imq", "rbf"}, default="imq"
        Kernel of the MMD, see :func:`skvae.nn.divergences.mmd`.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> from skvae.nn.base import StepContext
    >>> m = WAEModule(5, 2, (8,), "relu", BernoulliLikelihood(5))
    >>> ctx = StepContext(beta=10.0, free_bits=0.0, generator=torch.Generator())
    >>> m(torch.rand(6, 5), ctx=ctx).loss.shape
    torch.Size([6])
    """

    supports_autocast = True
    min_batch_rows = 2

    def __init__(self, *args: Any, kernel: str = "imq", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kernel not in KERNELS:
            raise ValueError(
                f"Unknown kernel {kernel!r}; expected one of {sorted(KERNELS)}."
            )
        self.kernel = kernel

    def forward(self, x: torch.Tensor, ctx: StepContext) -> WAETerms:
        """Reconstruction cost, and beta times the batch MMD^2 for every row.

        The MMD compares the batch's codes with as many prior draws; it is a
        batch-level quantity, repeated on every row so that the batch mean
        of ``loss`` is mean(recon) + beta * MMD^2.
        """
        z, penalty = self.code(x, ctx)
        recon = self.reconstruction_cost(x, z)  # (batch,)
        n = z.shape[0]
        if n >= 2:
            z_prior = self.prior.sample(n, ctx.generator)
            # autocast would run the pairwise distances' matmuls in bfloat16
            with torch.autocast(z.device.type, enabled=False):
                divergence = mmd(z, z_prior, self.kernel).expand(n)
        else:  # a U-statistic needs two rows: a 1-row batch only reconstructs
            divergence = z.new_zeros(n)
        return WAETerms(recon + ctx.beta * divergence + penalty, recon, divergence)


# Adam's betas for both networks: beta1 = 0.5, as usual in adversarial training
# (Radford et al. 2016); with 0.9 the codes drift together and match worse.
_ADAM_BETAS = (0.5, 0.999)


class AAETerms(NamedTuple):
    """Per-row terms of the adversarial autoencoder (batch first, not reduced).

    ``loss`` trains the encoder and decoder, ``disc_loss`` the discriminator;
    each one's gradient reaches only its own parameters.
    """

    loss: torch.Tensor  # (batch,) recon + beta * adversarial (+ log-var penalty)
    disc_loss: torch.Tensor  # (batch,) BCE of the discriminator, prior vs codes
    recon: torch.Tensor  # (batch,) -log p(x | z)
    adversarial: torch.Tensor  # (batch,) -log D(z): the encoder's generator loss
    disc_acc: torch.Tensor  # (batch,) share of the row's prior draw and code told apart


class AAEModule(AutoencoderModule):
    """An autoencoder and a discriminator that tells prior draws from codes.

    One forward pass gives both objectives (``loss_fields``): the
    discriminator's binary cross-entropy ``disc_loss`` on prior draws
    (label 1) against the detached codes (label 0), and the autoencoder's
    ``loss``, the reconstruction cost plus ``beta`` times the non-saturating
    generator loss -log D(z). The generator loss runs the discriminator with
    detached parameters, so the sum of the two fields can be backpropagated
    at once: ``loss`` moves only the encoder and decoder, ``disc_loss`` only
    the discriminator. :meth:`parameter_groups` gives each its optimiser.

    Its training step is safe under bfloat16 autocast
    (``supports_autocast``): the networks' outputs, the discriminator's
    logits included, are cast to float32 before the losses.

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`skvae.nn.autoencoder.AutoencoderModule`.
    discriminator_hidden_layer_sizes : sequence of int, default=(64, 64)
        Widths of the discriminator's hidden layers.
    discriminator_lr_scale : float, default=1.0
        The discriminator's learning rate relative to the autoencoder's.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> from skvae.nn.base import StepContext
    >>> m = AAEModule(5, 2, (8,), "relu", BernoulliLikelihood(5))
    >>> ctx = StepContext(beta=1.0, free_bits=0.0, generator=torch.Generator())
    >>> terms = m(torch.rand(6, 5), ctx=ctx)
    >>> terms.loss.shape, terms.disc_loss.shape, m.loss_fields
    (torch.Size([6]), torch.Size([6]), ('loss', 'disc_loss'))
    """

    loss_fields = ("loss", "disc_loss")
    supports_autocast = True

    def __init__(
        self,
        *args: Any,
        discriminator_hidden_layer_sizes: Sequence[int] = (64, 64),
        discriminator_lr_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.discriminator = MLP(
            self.n_latent, tuple(discriminator_hidden_layer_sizes), 1, self.activation
        )
        self.discriminator_lr_scale = float(discriminator_lr_scale)

    def parameter_groups(self) -> list[dict[str, Any]]:
        """The autoencoder's parameters and the discriminator's, one optimiser each.

        Returns
        -------
        list of dict
            ``{"params", "lr_scale", "betas"}`` for the encoder, decoder and
            likelihood, then for the discriminator; both with Adam betas
            (0.5, 0.999), as usual for adversarial training.
        """
        disc = list(self.discriminator.parameters())
        disc_ids = {id(p) for p in disc}
        autoencoder = [p for p in self.parameters() if id(p) not in disc_ids]
        return [
            {"params": autoencoder, "lr_scale": 1.0, "betas": _ADAM_BETAS},
            {
                "params": disc,
                "lr_scale": self.discriminator_lr_scale,
                "betas": _ADAM_BETAS,
            },
        ]

    def discriminate(self, z: torch.Tensor, *, frozen: bool = False) -> torch.Tensor:
        """Logits of "drawn from the prior", ``(batch,)``, in float32.

        With ``frozen`` the discriminator's parameters are detached: the
        gradient reaches ``z`` but not the discriminator.
        """
        if not frozen:
            return self.discriminator(z).squeeze(-1).float()
        params = {n: p.detach() for n, p in self.discriminator.named_parameters()}
        return functional_call(self.discriminator, params, (z,)).squeeze(-1).float()

    def forward(self, x: torch.Tensor, ctx: StepContext) -> AAETerms:
        """Both objectives of one step, with prior draws from ``ctx.generator``."""
        z, penalty = self.code(x, ctx)  # (batch, n_components)
        recon = self.reconstruction_cost(x, z)  # (batch,)
        real = self.discriminate(self.prior.sample(z.shape[0], ctx.generator))
        fake = self.discriminate(z.detach())
        # BCE: -log D(prior draw) - log(1 - D(code)), with D = sigmoid(logit).
        disc_loss = F.softplus(-real) + F.softplus(fake)
        adversarial = F.softplus(-self.discriminate(z, frozen=True))  # -log D(z)
        disc_acc = 0.5 * ((real > 0).to(z.dtype) + (fake < 0).to(z.dtype))
        return AAETerms(
            recon + ctx.beta * adversarial + penalty,
            disc_loss,
            recon,
            adversarial,
            disc_acc,
        )
