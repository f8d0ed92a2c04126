"""skvae: variational autoencoders as scikit-learn estimators."""

from skvae import datasets, metrics
from skvae._base import BaseVAE, PosteriorCollapseWarning
from skvae._training import Callback, PrintLog
from skvae._version import __version__ as __version__
from skvae.export import to_onnx
from skvae.impute import VAEImputer, default_imputer_vae
from skvae.models.aae import AdversarialAE
from skvae.models.conditional import ConditionalVAE
from skvae.models.hierarchical import HierarchicalVAE, LadderVAE
from skvae.models.semisupervised import SemiSupervisedVAE
from skvae.models.vade import VaDE
from skvae.models.vae import VAE
from skvae.models.vq import VQVAE, VQVAE2
from skvae.models.wae import WAE
from skvae.outlier import VAEOutlierDetector, default_detector_vae
from skvae.persistence import load, save

__all__ = [
    "VAE",
    "VQVAE",
    "VQVAE2",
    "WAE",
    "AdversarialAE",
    "BaseVAE",
    "Callback",
    "ConditionalVAE",
    "HierarchicalVAE",
    "LadderVAE",
    "PosteriorCollapseWarning",
    "PrintLog",
    "SemiSupervisedVAE",
    "VAEImputer",
    "VAEOutlierDetector",
    "VaDE",
    "datasets",
    "default_detector_vae",
    "default_imputer_vae",
    "load",
    "metrics",
    "save",
    "to_onnx",
]
