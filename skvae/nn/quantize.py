"""Vector quantisation (van den Oord et al. 2017) with EMA codebooks and restarts."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class Quantized(NamedTuple):
    """What :meth:`VectorQuantizer.forward` returns."""

    z_q: torch.Tensor  # (batch, dim, *spatial), straight-through to z_e
    codes: torch.Tensor  # (batch, *spatial), long
    commitment: torch.Tensor  # (batch,) ||z_e - sg(z_q)||^2 summed per row
    codebook: torch.Tensor  # (batch,) ||sg(z_e) - z_q||^2 (0 with EMA updates)


def nearest_codes(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the nearest codebook row (squared Euclidean) for each row of ``z``.

    Parameters
    ----------
    z : torch.Tensor of shape (n, dim)
    codebook : torch.Tensor of shape (n_codes, dim)

    Returns
    -------
    torch.Tensor of shape (n,), long

    Examples
    --------
    >>> import torch
    >>> nearest_codes(torch.tensor([[0.9, 0.0], [0.0, -1.2]]),
    ...               torch.tensor([[0.0, -1.0], [1.0, 0.0]]))
    tensor([1, 0])
    """
    distances = (
        z.square().sum(1, keepdim=True)
        - 2 * z @ codebook.T
        + codebook.square().sum(1)[None, :]
    )
    return distances.argmin(1)


class VectorQuantizer(nn.Module):
    """Replace each vector of an encoder map by its nearest codebook entry.

    The gradient passes straight through to the encoder. The codebook learns
    either by exponential moving averages of the vectors assigned to each code
    (``ema=True``, van den Oord et al. 2017, appendix) or by the codebook loss.
    In training mode, a code whose average usage falls below
    ``dead_code_threshold`` rows per batch is restarted at a random encoder
    vector of the batch, so that no code stays unused.

    Parameters
    ----------
    n_codes : int
        Size of the codebook.
    dim : int
        Dimension of each code.
    ema : bool, default=True
        Learn the codebook by moving averages rather than by gradients.
    decay : float, default=0.99
        Decay of the moving averages.
    dead_code_threshold : float, default=0.01
        Average assignments per batch below which a code is restarted.
    eps : float, default=1e-5
        Laplace smoothing of the code counts.

    Examples
    --------
    >>> import torch
    >>> vq = VectorQuantizer(8, 4)
    >>> out = vq(torch.randn(2, 4, 3, 3))
    >>> out.z_q.shape, out.codes.shape
    (torch.Size([2, 4, 3, 3]), torch.Size([2, 3, 3]))
    """

    def __init__(
        self,
        n_codes: int,
        dim: int,
        ema: bool = True,
        decay: float = 0.99,
        dead_code_threshold: float = 0.01,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.n_codes = n_codes
        self.dim = dim
        self.ema = ema
        self.decay = decay
        self.dead_code_threshold = dead_code_threshold
        self.eps = eps
        init = torch.randn(n_codes, dim) / dim**0.5
        if ema:
            self.register_buffer("codebook", init)
            self.register_buffer("cluster_size", torch.zeros(n_codes))
            self.register_buffer("embed_sum", init.clone())
        else:
            self.codebook = nn.Parameter(init)
            self.register_buffer("cluster_size", torch.zeros(n_codes))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))
        self.generator: torch.Generator | None = None  # set by the caller per step

    @staticmethod
    def _flatten(z_e: torch.Tensor) -> torch.Tensor:
        """(batch, dim, *spatial) -> (batch * prod(spatial), dim)."""
        return z_e.movedim(1, -1).reshape(-1, z_e.shape[1])

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Code vectors of a code map.

        ``(batch, *spatial)`` integer codes to ``(batch, dim, *spatial)``.
        """
        return F.embedding(codes, self.codebook).movedim(-1, 1)

    @torch.no_grad()
    def _init_from(self, flat: torch.Tensor) -> None:
        """Start the codebook at encoder vectors of the first batch (k-means++-free)."""
        idx = torch.randint(
            flat.shape[0],
            (self.n_codes,),
            generator=self.generator,
            device=flat.device,
        )
        self.codebook.data.copy_(flat[idx])
        self.cluster_size.fill_(1.0)
        if self.ema:
            self.embed_sum.copy_(flat[idx])
        self.initialized.fill_(True)

    @torch.no_grad()
    def _update(self, flat: torch.Tensor, codes: torch.Tensor) -> None:
        one_hot = F.one_hot(codes, self.n_codes).to(flat.dtype)  # (n, n_codes)
        counts = one_hot.sum(0)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        if self.ema:
            self.embed_sum.mul_(self.decay).add_(one_hot.T @ flat, alpha=1 - self.decay)
            n = self.cluster_size.sum()
            smoothed = (
                (self.cluster_size + self.eps) / (n + self.n_codes * self.eps) * n
            )
            self.codebook.copy_(self.embed_sum / smoothed[:, None])
        # Only codes unused in this batch restart, so no row assigned here
        # is decoded from a moved code.
        dead = (self.cluster_size < self.dead_code_threshold) & (counts == 0)
        n_dead = int(dead.sum())
        if n_dead:
            idx = torch.randint(
                flat.shape[0], (n_dead,), generator=self.generator, device=flat.device
            )
            self.codebook.data[dead] = flat[idx]
            self.cluster_size[dead] = 1.0
            if self.ema:
                self.embed_sum[dead] = flat[idx]

    def forward(self, z_e: torch.Tensor) -> Quantized:
        """Quantise an encoder map ``(batch, dim, *spatial)``."""
        flat = self._flatten(z_e)
        if self.training and not bool(self.initialized):
            self._init_from(flat.detach())
        codes = nearest_codes(flat.detach(), self.codebook.detach())
        if self.training:
            self._update(flat.detach(), codes)
        spatial = z_e.shape[2:]
        codes = codes.view(z_e.shape[0], *spatial)
        z_q = self.lookup(codes)
        per_row = tuple(range(1, z_e.dim()))
        commitment = (z_e - z_q.detach()).square().sum(per_row)
        if self.ema:
            codebook = torch.zeros_like(commitment)
        else:
            codebook = (z_e.detach() - z_q).square().sum(per_row)
        z_q = z_e + (z_q - z_e).detach()  # straight-through estimator
        return Quantized(z_q, codes, commitment, codebook)
