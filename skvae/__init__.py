"""skvae: variational autoencoders as scikit-learn estimators.

The public names are imported when first used (PEP 562): ``import skvae``
and ``skvae --help`` do not import torch or scikit-learn, and ``skvae.VAE``
or ``from skvae import VAE`` imports what ``VAE`` needs at that point.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from skvae._version import __version__ as __version__

if TYPE_CHECKING:  # what static tools see; at run time see __getattr__
    from skvae import datasets, metrics
    from skvae._base import BaseVAE, PosteriorCollapseWarning
    from skvae._training import Callback, PrintLog
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
    from skvae.oversample import VAEOverSampler, default_oversampler_vae
    from skvae.persistence import load, save
    from skvae.synthesis import tabular_synthesizer

#: Each public name and the module that defines it (a submodule: itself).
#: A public name goes here, in ``__all__`` and in docs/api.rst (a test checks).
_MODULES = {
    "VAE": "skvae.models.vae",
    "VQVAE": "skvae.models.vq",
    "VQVAE2": "skvae.models.vq",
    "WAE": "skvae.models.wae",
    "AdversarialAE": "skvae.models.aae",
    "BaseVAE": "skvae._base",
    "Callback": "skvae._training",
    "ConditionalVAE": "skvae.models.conditional",
    "HierarchicalVAE": "skvae.models.hierarchical",
    "LadderVAE": "skvae.models.hierarchical",
    "PosteriorCollapseWarning": "skvae._base",
    "PrintLog": "skvae._training",
    "SemiSupervisedVAE": "skvae.models.semisupervised",
    "VAEImputer": "skvae.impute",
    "VAEOutlierDetector": "skvae.outlier",
    "VAEOverSampler": "skvae.oversample",
    "VaDE": "skvae.models.vade",
    "datasets": "skvae.datasets",
    "default_detector_vae": "skvae.outlier",
    "default_imputer_vae": "skvae.impute",
    "default_oversampler_vae": "skvae.oversample",
    "load": "skvae.persistence",
    "metrics": "skvae.metrics",
    "save": "skvae.persistence",
    "tabular_synthesizer": "skvae.synthesis",
    "to_onnx": "skvae.export",
}

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
    "VAEOverSampler",
    "VaDE",
    "datasets",
    "default_detector_vae",
    "default_imputer_vae",
    "default_oversampler_vae",
    "load",
    "metrics",
    "save",
    "tabular_synthesizer",
    "to_onnx",
]


def __getattr__(name: str) -> Any:
    """Import a public name, or a submodule (``skvae.nn``), on first use (PEP 562)."""
    module_name = _MODULES.get(name)
    if module_name is None and not name.startswith("_"):
        spec = importlib.util.find_spec(f"skvae.{name}")
        module_name = None if spec is None else spec.name
    if module_name is None:
        raise AttributeError(f"module 'skvae' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name == f"skvae.{name}" else getattr(module, name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The names of the module, imported or not."""
    return sorted(set(globals()) | set(__all__))
