"""Closed-form divergences and log-densities for diagonal Gaussians."""

from __future__ import annotations

import math

import torch

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(log_var)) || N(0, 1)) for each dimension, not summed.

    Parameters
    ----------
    mu, log_var : torch.Tensor
        Means and log-variances of the posterior, shape ``(batch, d)``.

    Returns
    -------
    torch.Tensor
        Shape ``(batch, d)``; every entry is >= 0.

    Examples
    --------
    >>> import torch
    >>> gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)).shape
    torch.Size([2, 3])
    """
    # expm1 keeps exp(v) - 1 - v >= 0 in floating point for small v.
    return 0.5 * (mu.square() + torch.expm1(log_var) - log_var)


def gaussian_log_prob(
    x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """Log-density of a diagonal Gaussian, summed over the last dimension.

    Parameters
    ----------
    x, mu, log_var : torch.Tensor
        Broadcastable tensors whose last dimension is the event dimension.

    Returns
    -------
    torch.Tensor
        The log-density with the last dimension summed out.

    Examples
    --------
    >>> import torch
    >>> gaussian_log_prob(torch.zeros(4, 2), torch.zeros(2), torch.zeros(2)).shape
    torch.Size([4])
    """
    return -0.5 * ((x - mu).square() * torch.exp(-log_var) + log_var + _LOG_2PI).sum(-1)
