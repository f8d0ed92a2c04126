"""ONNX export of a fitted model's encoder (``transform``) or decoder.

The exported graphs run without Python, PyTorch or skvae, e.g. with
onnxruntime. Export needs the ``onnx`` and ``onnxscript`` packages
(``pip install skvae[onnx]``): it uses PyTorch's ``torch.export``-based
exporter, with a dynamic batch dimension.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import warnings
from numbers import Integral
from pathlib import Path

import torch
from sklearn.utils.validation import check_is_fitted

__all__ = ["to_onnx"]

_PARTS = {
    # part: (the module's method, input name, output name)
    "encoder": ("embed", "X", "Z"),
    "decoder": ("decode_mean", "Z", "X"),
}


class _Part(torch.nn.Module):
    """One inference method of a skvae module as a module's ``forward``."""

    def __init__(self, module: torch.nn.Module, method: str) -> None:
        super().__init__()
        self.module = module
        self.method = method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self.module, self.method)(x)


def to_onnx(model, path=None, *, part="encoder", opset_version=None):
    """Export a fitted model's encoder or decoder as an ONNX graph.

    The encoder maps rows ``X`` of shape ``(batch, n_features_in_)`` to what
    :meth:`~skvae.VAE.transform` returns (the posterior mean, or the
    quantised latents of the VQ models); the decoder maps latent vectors
    ``Z`` to what :meth:`~skvae.VAE.inverse_transform` returns (the
    decoder's mean; for labelled models, averaged over the class
    frequencies). For a model fitted on a pandas DataFrame, the graph reads
    and writes the encoded columns (``model.table_encoder_.transform(frame)``
    in, ``model.table_encoder_.decode(rows)`` back to a table), as the
    module does. The graph takes and returns float32, with a dynamic batch
    dimension named ``"batch"``; its input is named ``"X"`` (encoder) or
    ``"Z"`` (decoder), and its output the other.

    Parameters
    ----------
    model : skvae estimator
        A fitted skvae model (``VAE``, ``WAE``, ``ConditionalVAE``...). The
        meta-estimators are exported through their model:
        ``to_onnx(detector.estimator_)``. A detector whose default model
        reads a principal subspace (``subspace_components_`` not None)
        exports a model of the rows' components: feed it ``(X -
        subspace_mean_) @ subspace_components_.T / subspace_scale_``, and
        map the decoder's output back with ``Z * subspace_scale_ @
        subspace_components_ + subspace_mean_``; one that reads rows less an
        offset (``input_offset_`` not None), ``(X - input_offset_) /
        input_scale_``, and back with ``Z * input_scale_ + input_offset_``.
    path : str or path-like, default=None
        Where to write the ``.onnx`` file; None writes nothing.
    part : {"encoder", "decoder"}, default="encoder"
        The network to export.
    opset_version : int, default=None
        The ONNX opset; None uses the exporter's default.

    Returns
    -------
    onnx_model : bytes
        The serialized ONNX model (what ``path`` holds), which
        ``onnxruntime.InferenceSession`` accepts directly.

    Raises
    ------
    ImportError
        If ``onnx`` or ``onnxscript`` is not installed.
    TypeError
        If the model is not a fitted skvae model with a torch module.
    RuntimeError
        If PyTorch cannot export the network.

    See Also
    --------
    skvae.save : Save a whole model (to load it with skvae).

    Examples
    --------
    >>> import numpy as np
    >>> import onnx
    >>> from skvae import VAE
    >>> X = np.random.RandomState(0).normal(size=(20, 4))
    >>> vae = VAE(n_components=2, hidden_layer_sizes=(8,), max_iter=2).fit(X)
    >>> graph = onnx.load_from_string(to_onnx(vae, part="encoder")).graph
    >>> [graph.input[0].name, graph.output[0].name]
    ['X', 'Z']
    """
    if not isinstance(part, str) or part not in _PARTS:
        raise ValueError(f"part must be 'encoder' or 'decoder', got part={part!r}.")
    if opset_version is not None and (
        not isinstance(opset_version, Integral) or isinstance(opset_version, bool)
    ):
        raise TypeError(f"opset_version must be an int or None, got {opset_version!r}.")
    module = _fitted_module(model)
    _check_exporter()
    method, input_name, output_name = _PARTS[part]
    # a model fitted on a DataFrame reads its encoded columns (table_encoder_)
    width = model._n_model_features() if part == "encoder" else module.n_latent
    network = _Part(copy.deepcopy(module).to("cpu").float(), method).eval()
    example = torch.zeros(2, int(width))  # batch 2: 1 would be specialised
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            program = torch.onnx.export(
                network,
                (example,),
                dynamo=True,
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                input_names=[input_name],
                output_names=[output_name],
                opset_version=opset_version,
                verbose=False,
            )
        except (RuntimeError, ValueError, TypeError, NotImplementedError) as exc:
            raise RuntimeError(
                f"PyTorch could not export the {part} of {type(model).__name__} "
                f"to ONNX: {exc}"
            ) from exc
    proto = program.model_proto
    if opset_version is not None:
        got = {o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")}
        if got != {int(opset_version)}:
            raise RuntimeError(
                f"PyTorch exported opset {sorted(got)} where opset_version="
                f"{opset_version} was asked (it cannot convert to that opset); "
                f"leave opset_version=None, or ask for {sorted(got)[-1]}."
            )
    data = proto.SerializeToString()
    if path is not None:
        Path(os.fspath(path)).write_bytes(data)
    return data


def _fitted_module(model) -> torch.nn.Module:
    """The model's torch module, or an error saying what to export instead."""
    from skvae._base import BaseVAE

    if not isinstance(model, BaseVAE):
        inner = getattr(model, "estimator_", None)
        if isinstance(inner, BaseVAE):
            raise TypeError(
                f"{type(model).__name__} is a meta-estimator; export its fitted "
                "model instead: to_onnx(model.estimator_, ...)."
            )
        raise TypeError(
            f"Only skvae models can be exported to ONNX, got {type(model).__name__}."
        )
    check_is_fitted(model)
    return model.module_


def _check_exporter() -> None:
    missing = [
        name
        for name in ("onnx", "onnxscript")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ImportError(
            f"ONNX export needs {' and '.join(missing)}: pip install skvae[onnx]."
        )
