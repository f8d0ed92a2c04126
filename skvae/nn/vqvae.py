"""The VQ-VAE module: one or two quantised code maps and PixelCNN priors.

:class:`VQVAEModule` is the network of ``skvae.VQVAE`` (one code map, van den
Oord et al. 2017) and ``skvae.VQVAE2`` (a top map at half the resolution,
Razavi et al. 2019).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from skvae.nn.autoregressive import PixelCNNPrior
from skvae.nn.base import LatentModule, StepContext
from skvae.nn.conv import ConvDecoder, ConvEncoder, make_decoder, make_encoder
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import MLP, NetworkSpec
from skvae.nn.quantize import Quantized, VectorQuantizer

__all__ = ["VQTerms", "VQVAEModule"]


class VQTerms(NamedTuple):
    """Per-row terms of the VQ-VAE objective (batch first, not reduced)."""

    loss: torch.Tensor  # recon + commitment_cost * commitment + codebook loss
    recon: torch.Tensor  # -log p(x | z_q)
    commitment: torch.Tensor  # ||z_e - sg(z_q)||^2 over all levels
    code_counts: torch.Tensor  # (batch, n_levels * n_codes): codes used by the row


class _ToMap(nn.Module):
    """Apply a network and read its output as a (C, h, w) map.

    The input is flattened first unless ``flatten=False`` (convolutions).
    """

    def __init__(self, net: nn.Module, shape: Sequence[int], flatten: bool = True):
        super().__init__()
        self.net = net
        self.shape = tuple(shape)
        self.flatten = flatten

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x.flatten(1) if self.flatten else x)
        return out.reshape(x.shape[0], *self.shape)


class _FromMap(nn.Module):
    """Apply a network to flattened (C, h, w) maps."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.flatten(1))


class VQVAEModule(LatentModule):
    """A one- or two-level VQ-VAE with PixelCNN priors over its code maps.

    With ``input_shape`` the encoder and decoder are convolutional and the code
    maps spatial; without it they are MLPs and the bottom map is a row of
    ``n_positions`` codes. With two levels (VQ-VAE-2), a top map at half the
    resolution is quantised from the bottom features; the bottom codes are
    quantised from the bottom features and the decoded top map, and the
    decoder sees both. The priors (``prior_bottom`` conditioned on the top
    codes, and ``prior_top``) are trained separately on the codes.

    Parameters
    ----------
    n_features : int
        Width of the data.
    input_shape : tuple of int or None
        (C, H, W) of images passed as flattened rows, or None for tabular data.
    hidden : sequence of int
        Channels of the stride-2 convolutions, or the MLP widths.
    n_positions : int
        Codes per row of the bottom map without ``input_shape``.
    code_dim, n_codes : int
        Dimension and number of the codebook vectors (every level).
    n_levels : {1, 2}
        One level (VQ-VAE) or two (VQ-VAE-2).
    commitment_cost : float
        Weight of the commitment loss.
    ema : bool
        EMA codebook updates (else the codebook loss).
    decay, dead_code_threshold : float
        See :class:`skvae.nn.VectorQuantizer`.
    likelihood : Likelihood
        The observation model.
    activation : str
        Activation name.
    prior_channels, prior_layers : int
        Width and depth of the PixelCNN priors.
    encoder, decoder : NetworkSpec or None, default=None
        User networks. With either, the code map is a row of ``n_positions``
        codes (as without ``input_shape``): the encoder maps rows to
        features, the decoder maps the flattened quantised row to features,
        each followed by a linear layer to the width needed.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> m = VQVAEModule(64, input_shape=(1, 8, 8), hidden=(16,), n_positions=4,
    ...                 code_dim=4, n_codes=8, n_levels=2, commitment_cost=0.25,
    ...                 ema=True, decay=0.99, dead_code_threshold=0.1,
    ...                 likelihood=BernoulliLikelihood(64), activation="relu",
    ...                 prior_channels=8, prior_layers=1)
    >>> m.eval().embed(torch.rand(3, 64)).shape
    torch.Size([3, 80])
    """

    def __init__(
        self,
        n_features: int,
        *,
        input_shape: Sequence[int] | None,
        hidden: Sequence[int],
        n_positions: int,
        code_dim: int,
        n_codes: int,
        n_levels: int,
        commitment_cost: float,
        ema: bool,
        decay: float,
        dead_code_threshold: float,
        likelihood: Likelihood,
        activation: str,
        prior_channels: int,
        prior_layers: int,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
    ) -> None:
        super().__init__()
        self.n_levels = n_levels
        self.commitment_cost = commitment_cost
        self.n_codes = n_codes
        self.noise_dim = 0
        self.likelihood = likelihood
        two = n_levels == 2
        dec_in = 2 * code_dim if two else code_dim
        if input_shape is not None and encoder is None and decoder is None:
            width = hidden[-1] if two else code_dim
            self.encoder = ConvEncoder(input_shape, hidden, width, activation)
            c, h, w = self.encoder.output_shape
            self.decoder = ConvDecoder(dec_in, hidden, input_shape, activation)
            if two:
                top = ConvEncoder((c, h, w), (c,), code_dim, activation)
                th, tw = top.output_shape[1:]
                self.top_encoder = _FromMap(top)
                self.top_decoder = _ToMap(
                    ConvDecoder(code_dim, (c,), (c, h, w), activation),
                    (c, h, w),
                    flatten=False,
                )
        else:
            width = hidden[-1] if two else code_dim
            c, h, w = width, 1, n_positions
            self.encoder = _ToMap(
                make_encoder(n_features, hidden, c * w, activation, custom=encoder),
                (c, h, w),
            )
            self.decoder = _FromMap(
                make_decoder(dec_in * w, hidden, n_features, activation, custom=decoder)
            )
            if two:
                th, tw = 1, max(1, n_positions // 2)
                self.top_encoder = _ToMap(
                    MLP(c * w, (), code_dim * tw, activation), (code_dim, th, tw)
                )
                self.top_decoder = _ToMap(
                    MLP(code_dim * tw, (), c * w, activation), (c, h, w)
                )
        self.shapes = [(h, w)] + ([(th, tw)] if two else [])
        self.n_latent = code_dim * sum(a * b for a, b in self.shapes)
        self.code_dim = code_dim
        if two:
            self.mix = nn.Conv2d(2 * c, code_dim, 1)
        self.quantizers = nn.ModuleList(
            VectorQuantizer(n_codes, code_dim, ema, decay, dead_code_threshold)
            for _ in range(n_levels)
        )
        self.prior_bottom = PixelCNNPrior(
            n_codes, (h, w), prior_channels, prior_layers, n_codes if two else 0
        )
        self.prior_top = (
            PixelCNNPrior(n_codes, (th, tw), prior_channels, prior_layers)
            if two
            else None
        )

    # ---------------------------------------------------------------- codes
    def quantize(self, x: torch.Tensor) -> list[Quantized]:
        """Quantised maps, bottom first."""
        h_b = self.encoder(x)
        if self.n_levels == 1:
            return [self.quantizers[0](h_b)]
        top = self.quantizers[1](self.top_encoder(h_b))
        z_b = self.mix(torch.cat([h_b, self.top_decoder(top.z_q)], dim=1))
        return [self.quantizers[0](z_b), top]

    def decode_maps(self, maps: Sequence[torch.Tensor]) -> torch.Tensor:
        """Decoder outputs from quantised maps, bottom first."""
        z = maps[0]
        if self.n_levels == 2:
            up = F.interpolate(maps[1], size=z.shape[-2:], mode="nearest")
            z = torch.cat([z, up], dim=1)
        return self.decoder(z)

    def lookup(self, codes: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Code vectors of integer maps, bottom first."""
        return [q.lookup(c) for q, c in zip(self.quantizers, codes, strict=True)]

    def split_latent(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Flat latents ``(batch, n_latent)`` back to maps, bottom first."""
        maps, start = [], 0
        for h, w in self.shapes:
            size = self.code_dim * h * w
            maps.append(z[:, start : start + size].reshape(-1, self.code_dim, h, w))
            start += size
        return maps

    # ------------------------------------------------------------- training
    def forward(self, x: torch.Tensor, ctx: StepContext) -> VQTerms:
        """Per-row loss: reconstruction + commitment (+ codebook loss)."""
        for q in self.quantizers:
            q.generator = ctx.generator
        try:
            levels = self.quantize(x)
        finally:  # no generator is kept on the module (pickling, devices)
            for q in self.quantizers:
                q.generator = None
        recon = -self.likelihood.log_prob(x, self.decode_maps([q.z_q for q in levels]))
        commitment = sum(q.commitment for q in levels)
        codebook = sum(q.codebook for q in levels)
        counts = torch.cat(
            [
                F.one_hot(q.codes.flatten(1), self.n_codes).sum(1).to(x.dtype)
                for q in levels
            ],
            dim=1,
        )
        return VQTerms(
            recon + self.commitment_cost * commitment + codebook,
            recon,
            commitment,
            counts,
        )

    # ------------------------------------------------------------ inference
    def codes(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Integer code maps ``(batch, h, w)``, bottom first."""
        return [q.codes for q in self.quantize(x)]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Quantised latents flattened, bottom then top: ``(batch, n_latent)``."""
        return torch.cat([q.z_q.flatten(1) for q in self.quantize(x)], dim=1)

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder means of flat latents (the output of :meth:`embed`)."""
        return self.likelihood.output(self.decode_maps(self.split_latent(z)))

    def decode_codes(self, codes: Sequence[torch.Tensor]) -> torch.Tensor:
        """Decoder means of integer code maps, bottom first."""
        return self.likelihood.output(self.decode_maps(self.lookup(codes)))

    def prior_log_prob(self, codes: Sequence[torch.Tensor]) -> torch.Tensor:
        """Log p(codes) under the PixelCNN prior(s), per row."""
        if self.n_levels == 1:
            return self.prior_bottom.log_prob(codes[0])
        return self.prior_bottom.log_prob(codes[0], codes[1]) + self.prior_top.log_prob(
            codes[1]
        )

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Log p(x | z_q(x)) + log p(codes(x)): the VQ-VAE bound (``eps`` unused).

        The posterior is a point mass on the codes, so the bound has no
        entropy term.
        """
        levels = self.quantize(x)
        log_px = self.likelihood.log_prob(x, self.decode_maps([q.z_q for q in levels]))
        return log_px + self.prior_log_prob([q.codes for q in levels])

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Log p(x | z_q(x)) per row."""
        levels = self.quantize(x)
        return self.likelihood.log_prob(x, self.decode_maps([q.z_q for q in levels]))

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of code maps drawn from the prior(s)."""
        if self.n_levels == 1:
            codes = [self.prior_bottom.sample(n_samples, generator)]
        else:
            top = self.prior_top.sample(n_samples, generator)
            codes = [self.prior_bottom.sample(n_samples, generator, top), top]
        return self.decode_codes(codes)
