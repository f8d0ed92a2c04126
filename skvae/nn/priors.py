"""Priors over the latent space."""

from __future__ import annotations

import math

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
