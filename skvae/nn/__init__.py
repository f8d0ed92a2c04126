"""Plain PyTorch building blocks: networks, likelihoods, priors and divergences.

Nothing in :mod:`skvae.nn` imports scikit-learn; the estimators in :mod:`skvae`
combine these parts.
"""

from skvae.nn.autoregressive import MaskedConv2d, PixelCNNPrior
from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conv import ConvDecoder, ConvEncoder
from skvae.nn.divergences import (
    gaussian_kl,
    gaussian_log_prob,
    kl_penalty,
    kl_term,
    total_correlation,
)
from skvae.nn.likelihoods import (
    BernoulliLikelihood,
    GaussianLikelihood,
    Likelihood,
    make_likelihood,
)
from skvae.nn.networks import MLP, CustomNetwork, NetworkSpec, make_activation
from skvae.nn.priors import GaussianMixturePrior, StandardNormalPrior, VampPrior
from skvae.nn.quantize import VectorQuantizer, nearest_codes

__all__ = [
    "MLP",
    "BernoulliLikelihood",
    "ConvDecoder",
    "ConvEncoder",
    "CustomNetwork",
    "ELBOTerms",
    "GaussianLikelihood",
    "GaussianMixturePrior",
    "LatentModule",
    "Likelihood",
    "MaskedConv2d",
    "NetworkSpec",
    "PixelCNNPrior",
    "StandardNormalPrior",
    "StepContext",
    "VampPrior",
    "VectorQuantizer",
    "gaussian_kl",
    "gaussian_log_prob",
    "kl_penalty",
    "kl_term",
    "make_activation",
    "make_likelihood",
    "nearest_codes",
    "total_correlation",
]
