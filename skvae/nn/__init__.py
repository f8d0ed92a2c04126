"""Plain PyTorch building blocks: networks, likelihoods, priors and divergences.

Nothing in :mod:`skvae.nn` imports scikit-learn; the estimators in :mod:`skvae`
combine these parts.
"""

from skvae.nn.autoregressive import MaskedConv2d, PixelCNNPrior
from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conv import ConvDecoder, ConvEncoder
from skvae.nn.divergences import gaussian_kl, gaussian_log_prob
from skvae.nn.likelihoods import (
    BernoulliLikelihood,
    GaussianLikelihood,
    Likelihood,
    make_likelihood,
)
from skvae.nn.networks import MLP, make_activation
from skvae.nn.priors import GaussianMixturePrior, StandardNormalPrior
from skvae.nn.quantize import VectorQuantizer, nearest_codes

__all__ = [
    "MLP",
    "BernoulliLikelihood",
    "ConvDecoder",
    "ConvEncoder",
    "ELBOTerms",
    "GaussianLikelihood",
    "GaussianMixturePrior",
    "LatentModule",
    "Likelihood",
    "MaskedConv2d",
    "PixelCNNPrior",
    "StandardNormalPrior",
    "StepContext",
    "VectorQuantizer",
    "gaussian_kl",
    "gaussian_log_prob",
    "make_activation",
    "make_likelihood",
    "nearest_codes",
]
