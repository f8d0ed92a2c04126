"""An autoregressive prior over maps of discrete codes (a small PixelCNN)."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only positions before the centre in raster order.

    Mask "A" also hides the centre (the first layer: a position must not see
    itself); mask "B" lets it through (later layers).

    Examples
    --------
    >>> conv = MaskedConv2d("A", 1, 1, 3, padding=1)
    >>> conv.mask[0, 0].tolist()
    [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, mask_type: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        mask = torch.ones_like(self.weight)
        mask[:, :, kh // 2, kw // 2 + (mask_type == "B") :] = 0
        mask[:, :, kh // 2 + 1 :] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve with the masked kernel."""
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class PriorTerms(NamedTuple):
    """Per-row terms of the code prior's training objective."""

    loss: torch.Tensor  # (batch,) negative log-likelihood of the code map, nats


class PixelCNNPrior(nn.Module):
    """p(codes) = prod_i p(code_i | codes before i), in raster order.

    Codes are embedded, passed through one mask-A and ``n_layers`` mask-B
    residual convolutions, and mapped to logits over the codebook. An optional
    conditioning map (e.g. an upsampled top-level code map in VQ-VAE-2) is
    added after the first layer.

    Parameters
    ----------
    n_codes : int
        Size of the codebook.
    shape : tuple of int
        (h, w) of the code maps.
    channels : int, default=64
        Hidden channels.
    n_layers : int, default=4
        Mask-B layers.
    n_cond_codes : int, default=0
        Codebook size of the conditioning map (0: unconditional).

    Examples
    --------
    >>> import torch
    >>> prior = PixelCNNPrior(8, (3, 3))
    >>> codes = prior.sample(2, torch.Generator().manual_seed(0))
    >>> codes.shape, prior.log_prob(codes).shape
    (torch.Size([2, 3, 3]), torch.Size([2]))
    """

    def __init__(
        self,
        n_codes: int,
        shape: tuple[int, int],
        channels: int = 64,
        n_layers: int = 4,
        n_cond_codes: int = 0,
    ) -> None:
        super().__init__()
        self.n_codes = n_codes
        self.shape = tuple(shape)
        self.embed = nn.Embedding(n_codes, channels)
        self.first = MaskedConv2d("A", channels, channels, 5, padding=2)
        self.layers = nn.ModuleList(
            MaskedConv2d("B", channels, channels, 3, padding=1) for _ in range(n_layers)
        )
        self.cond = nn.Embedding(n_cond_codes, channels) if n_cond_codes else None
        self.out = nn.Conv2d(channels, n_codes, 1)

    def logits(
        self, codes: torch.Tensor, cond: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits ``(batch, n_codes, h, w)`` of each position given those before."""
        h = self.embed(codes).movedim(-1, 1)
        h = F.relu(self.first(h))
        if self.cond is not None and cond is not None:
            c = self.cond(cond).movedim(-1, 1)
            h = h + F.interpolate(c, size=h.shape[-2:], mode="nearest")
        for layer in self.layers:
            h = h + F.relu(layer(h))
        return self.out(h)

    def log_prob(
        self, codes: torch.Tensor, cond: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Log p(codes) per row (summed over positions)."""
        nll = F.cross_entropy(self.logits(codes, cond), codes, reduction="none")
        return -nll.flatten(1).sum(1)

    def forward(
        self, codes: torch.Tensor, cond: torch.Tensor | None = None, ctx=None
    ) -> PriorTerms:
        """Training terms: the negative log-likelihood of each code map."""
        return PriorTerms(-self.log_prob(codes, cond))

    @torch.no_grad()
    def sample(
        self,
        n_samples: int,
        generator: torch.Generator,
        cond: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw code maps position by position, ``(n_samples, h, w)``."""
        device = self.out.weight.device
        codes = torch.zeros(n_samples, *self.shape, dtype=torch.long, device=device)
        for i in range(self.shape[0]):
            for j in range(self.shape[1]):
                probs = torch.softmax(self.logits(codes, cond)[:, :, i, j], dim=-1)
                codes[:, i, j] = torch.multinomial(probs, 1, generator=generator)[:, 0]
        return codes
