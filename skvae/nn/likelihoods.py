"""Observation models p(x | z): each turns decoder outputs into log-densities."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_LOG_2PI = math.log(2.0 * math.pi)


class Likelihood(nn.Module):
    """Base class: a distribution over a row of features given decoder outputs.

    ``n_params`` is the width the decoder must output for ``n_features``.

    Examples
    --------
    >>> isinstance(BernoulliLikelihood(4), Likelihood)
    True
    """

    n_params: int

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Log-likelihood of rows ``x`` summed over features, ``x.shape[:-1]``.

        Likelihoods with statistics learnt in training mode update them unless
        ``update`` is false.
        """
        raise NotImplementedError

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of the distribution, shape ``(..., n_features)``."""
        raise NotImplementedError


class GaussianLikelihood(Likelihood):
    """Gaussian with a mean from the decoder and a learned per-feature variance.

    The variance of each feature is learned in closed form: in training mode
    every call moves it towards the batch's mean squared residual (its
    maximum-likelihood value given the decoder) by an exponential moving
    average, as the calibrated decoders of Rybkin et al. (2021) do. Learned by
    gradient steps it moves too slowly: a variance stuck near its initial value
    down-weights the reconstruction and lets the posterior collapse.

    Parameters
    ----------
    n_features : int
        Number of features.
    min_variance : float, default=1e-4
        Floor on the variance, so that constant features cannot drive the
        log-likelihood to infinity.
    momentum : float, default=0.1
        Weight of the newest batch in the moving average.

    Examples
    --------
    >>> import torch
    >>> lik = GaussianLikelihood(3)
    >>> lik.log_prob(torch.zeros(2, 3), torch.zeros(2, 3)).shape
    torch.Size([2])
    """

    def __init__(
        self, n_features: int, min_variance: float = 1e-4, momentum: float = 0.1
    ) -> None:
        super().__init__()
        self.n_params = n_features
        self.min_variance = min_variance
        self.momentum = momentum
        self.register_buffer("variance", torch.ones(n_features))
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def _update(self, x: torch.Tensor, params: torch.Tensor) -> None:
        mse = (x - params).square().reshape(-1, self.n_params).mean(0)
        # The first batch sets the variance; later ones are averaged in.
        weight = torch.where(self.n_updates > 0, self.momentum, 1.0)
        self.variance.lerp_(mse.clamp_min(self.min_variance), weight)
        self.n_updates += 1

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Log-likelihood of rows ``x``, summed over features.

        In training mode the variance moves towards this batch's residuals
        unless ``update`` is false (for decodings of hypothetical labels).
        """
        if self.training and update:
            self._update(x, params.detach())
        var = self.variance
        return -0.5 * ((x - params).square() / var + var.log() + _LOG_2PI).sum(-1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The decoder output is the mean."""
        return params


class BernoulliLikelihood(Likelihood):
    """Bernoulli for data in [0, 1] (binary, or pixel intensities); logits in.

    Parameters
    ----------
    n_features : int
        Number of features.

    Examples
    --------
    >>> import torch
    >>> lik = BernoulliLikelihood(3)
    >>> lik.mean(torch.zeros(2, 3))
    tensor([[0.5000, 0.5000, 0.5000],
            [0.5000, 0.5000, 0.5000]])
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.n_params = n_features

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Negative binary cross-entropy with logits, summed over features."""
        x = x.expand_as(params)
        return -F.binary_cross_entropy_with_logits(params, x, reduction="none").sum(-1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """Success probabilities."""
        return torch.sigmoid(params)


LIKELIHOODS = frozenset({"gaussian", "bernoulli"})


def make_likelihood(
    name: str, n_features: int, min_variance: float = 1e-4
) -> Likelihood:
    """Build a likelihood from its name.

    Parameters
    ----------
    name : {"gaussian", "bernoulli"}
        The observation model.
    n_features : int
        Number of features.
    min_variance : float, default=1e-4
        Variance floor of the Gaussian likelihood.

    Returns
    -------
    Likelihood

    Examples
    --------
    >>> make_likelihood("bernoulli", 4).n_params
    4
    """
    if name == "gaussian":
        return GaussianLikelihood(n_features, min_variance=min_variance)
    if name == "bernoulli":
        return BernoulliLikelihood(n_features)
    raise ValueError(
        f"Unknown likelihood {name!r}; expected one of {sorted(LIKELIHOODS)}."
    )
