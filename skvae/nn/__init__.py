"""Plain PyTorch building blocks: networks, likelihoods, priors and divergences.

Nothing in :mod:`skvae.nn` imports scikit-learn; the estimators in :mod:`skvae`
combine these parts.
"""

from skvae.nn.autoencoder import AAEModule, AutoencoderModule, WAEModule
from skvae.nn.autoregressive import MaskedConv2d, PixelCNNPrior
from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conditional import ConditionalVAEModule, SemiSupervisedVAEModule
from skvae.nn.conv import ConvDecoder, ConvEncoder
from skvae.nn.divergences import (
    gaussian_kl,
    gaussian_kl_between,
    gaussian_log_prob,
    gaussian_log_prob_per_dim,
    kl_penalty,
    kl_term,
    posterior_log_prob_per_dim,
    precision_weighted_merge,
    total_correlation,
)
from skvae.nn.gaussian import GaussianVAEModule
from skvae.nn.hierarchical import HierarchicalVAEModule
from skvae.nn.likelihoods import (
    BernoulliLikelihood,
    GaussianLikelihood,
    Likelihood,
    make_likelihood,
)
from skvae.nn.mixture import VaDEModule, mixture_kl_penalty
from skvae.nn.networks import (
    MLP,
    CustomNetwork,
    FeatureBatchNorm,
    NetworkSpec,
    dense_layers,
    make_activation,
)
from skvae.nn.priors import GaussianMixturePrior, StandardNormalPrior, VampPrior
from skvae.nn.quantize import VectorQuantizer, nearest_codes
from skvae.nn.vqvae import VQVAEModule

__all__ = [
    "MLP",
    "AAEModule",
    "AutoencoderModule",
    "BernoulliLikelihood",
    "ConditionalVAEModule",
    "ConvDecoder",
    "ConvEncoder",
    "CustomNetwork",
    "ELBOTerms",
    "FeatureBatchNorm",
    "GaussianLikelihood",
    "GaussianMixturePrior",
    "GaussianVAEModule",
    "HierarchicalVAEModule",
    "LatentModule",
    "Likelihood",
    "MaskedConv2d",
    "NetworkSpec",
    "PixelCNNPrior",
    "SemiSupervisedVAEModule",
    "StandardNormalPrior",
    "StepContext",
    "VQVAEModule",
    "VaDEModule",
    "VampPrior",
    "VectorQuantizer",
    "WAEModule",
    "dense_layers",
    "gaussian_kl",
    "gaussian_kl_between",
    "gaussian_log_prob",
    "gaussian_log_prob_per_dim",
    "kl_penalty",
    "kl_term",
    "make_activation",
    "make_likelihood",
    "mixture_kl_penalty",
    "nearest_codes",
    "posterior_log_prob_per_dim",
    "precision_weighted_merge",
    "total_correlation",
]
