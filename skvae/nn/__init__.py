"""Plain PyTorch building blocks: networks, likelihoods, priors and divergences.

Nothing in :mod:`skvae.nn` imports scikit-learn; the estimators in :mod:`skvae`
combine these parts.
"""

from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.divergences import gaussian_kl, gaussian_log_prob
from skvae.nn.likelihoods import (
    BernoulliLikelihood,
    GaussianLikelihood,
    Likelihood,
    make_likelihood,
)
from skvae.nn.networks import MLP, make_activation
from skvae.nn.priors import GaussianMixturePrior, StandardNormalPrior

__all__ = [
    "MLP",
    "BernoulliLikelihood",
    "ELBOTerms",
    "GaussianLikelihood",
    "GaussianMixturePrior",
    "LatentModule",
    "Likelihood",
    "StandardNormalPrior",
    "StepContext",
    "gaussian_kl",
    "gaussian_log_prob",
    "make_activation",
    "make_likelihood",
]
