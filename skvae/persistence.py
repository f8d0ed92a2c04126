r"""Safe persistence: one file, parameters as JSON and weights as safetensors.

:func:`save` writes a fitted (or unfitted) skvae estimator to one file and
:func:`load` reads it back. Loading never unpickles, never calls
``torch.load`` and never imports a class named by the file: the estimator's
class is looked up among skvae's own estimators, built from its parameters,
and its torch module is rebuilt the way ``fit`` builds it before the saved
weights are copied in. A file that is truncated, altered or written by a
newer skvae raises :class:`InvalidModelFileError`.

Notes
-----
The file format, version 1 (integers are unsigned little-endian):

======  ======  ==============================================================
offset  size    content
======  ======  ==============================================================
0       8       magic bytes ``b"\x89SKVAE\r\n"``
8       4       format version (1)
12      8       header length ``N``
20      32      SHA-256 of the header
52      ``N``   header: UTF-8 JSON (below)
52+N    rest    weights: a safetensors blob, whose length and SHA-256 are in
                the header
======  ======  ==============================================================

The header is ``{"format": "skvae", "format_version": 1, "skvae_version",
"torch_version", "weights": {"nbytes", "sha256"}, "model": record}``. A
record is ``{"class": name, "params": {...}, "attributes": {...}, "module":
{"prefix", "layout"} or null}``: the estimator's parameters, its fitted
attributes (those ending in ``_`` and the private ``_seed``, ``_dtype``...)
and, for a fitted model, its torch module's tensor-key prefix (``"module_."``;
``"estimator_/module_."`` for a meta-estimator's model) and layout: each
submodule's class and plain public attributes (e.g. a likelihood's variance
floor, computed from the training data). Values are JSON; tuples, non-finite
floats, dtypes, devices, random states, string arrays, label encoders and
nested estimators (a meta-estimator's ``estimator_`` in full, its
``estimator`` parameter by its parameters) are tagged objects such as
``{"__tuple__": [...]}``. Numeric arrays (``{"__ndarray__": key}``) and the
module's ``state_dict`` (parameters and buffers, saved from CPU copies) are
tensors of the safetensors blob.

Only skvae's own estimators with JSON-able parameters can be saved: a model
with ``callbacks`` or user networks (``encoder=``/``decoder=`` classes) raises
``TypeError`` at save, since storing them would mean storing code. Pickle and
joblib still work for such models (and only for trusted files).

The optimiser state is not saved: a loaded model transforms, scores, samples
and predicts exactly as the saved one, and ``warm_start=True`` or
``partial_fit`` continue training from its weights with a fresh optimiser.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder

from skvae._version import __version__

__all__ = ["FORMAT_VERSION", "InvalidModelFileError", "load", "save"]

#: Version of the file format that :func:`save` writes and :func:`load` reads.
FORMAT_VERSION = 1

_MAGIC = b"\x89SKVAE\r\n"
_PREAMBLE = struct.Struct("<8sIQ32s")  # magic, version, header length, sha256
# Fitted state that is rebuilt at load rather than stored.
_NOT_SAVED = frozenset(
    {"_extra_params", "_optimizer", "_optimizer_state", "_device", "module_"}
)
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class InvalidModelFileError(ValueError):
    """The file is not a valid skvae model file (corrupted, truncated, newer).

    Examples
    --------
    >>> issubclass(InvalidModelFileError, ValueError)
    True
    """


# ------------------------------------------------------------------ public API
def save(model, path):
    """Save a skvae estimator to one file, without pickle.

    The parameters and fitted attributes are stored as JSON and the weights
    and arrays as safetensors, with SHA-256 checksums (see the module
    docstring for the format). The file loads on any machine, with or
    without a GPU, and loading it never runs code from it.

    Parameters
    ----------
    model : skvae estimator
        A skvae estimator (``VAE``, ``VAEOutlierDetector``...), fitted or
        not. Subclasses defined elsewhere cannot be saved this way.
    path : str, path-like or binary file object
        Where to write.

    Raises
    ------
    TypeError
        If the model is not one of skvae's estimators, or a parameter or
        fitted attribute cannot be stored as data (``callbacks``, user
        network classes); the message names it and the fix.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> import skvae
    >>> X = np.random.RandomState(0).normal(size=(20, 4))
    >>> vae = skvae.VAE(n_components=2, max_iter=2, random_state=0).fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.skvae")
    ...     save(vae, path)
    ...     loaded = load(path)
    >>> np.allclose(loaded.transform(X), vae.transform(X))
    True
    """
    data = _to_bytes(model)
    if hasattr(path, "write"):
        path.write(data)
    else:
        Path(os.fspath(path)).write_bytes(data)


def load(path):
    """Load an estimator saved by :func:`save`.

    The estimator's class is one of skvae's own, looked up by name; nothing
    from the file is unpickled, imported or executed. A model fitted on a
    GPU is loaded on the CPU when CUDA is not available (with a warning if
    its ``device`` asked for CUDA).

    Parameters
    ----------
    path : str, path-like or binary file object
        The file to read.

    Returns
    -------
    model : skvae estimator
        The estimator, fitted if it was when saved. It has no optimiser
        state: it predicts as the saved model, and further training
        (``warm_start``, ``partial_fit``) starts a fresh optimiser.

    Raises
    ------
    InvalidModelFileError
        If the file is not a skvae model file, is truncated or corrupted
        (checksum mismatch), or was written by a newer skvae.

    See Also
    --------
    save : Write a model.

    Examples
    --------
    >>> import io
    >>> import skvae
    >>> buffer = io.BytesIO()
    >>> save(skvae.VAE(n_components=3), buffer)
    >>> _ = buffer.seek(0)
    >>> load(buffer).n_components
    3
    """
    readable = hasattr(path, "read")
    data = path.read() if readable else Path(os.fspath(path)).read_bytes()
    return _from_bytes(bytes(data))


# ------------------------------------------------------------------ container
def _to_bytes(model: Any) -> bytes:
    from safetensors.torch import save as save_tensors

    writer = _Writer()
    record = writer.estimator(model, "", fitted=True)
    blob = save_tensors(writer.tensors)
    header = {
        "format": "skvae",
        "format_version": FORMAT_VERSION,
        "skvae_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        "weights": {"nbytes": len(blob), "sha256": _sha256(blob)},
        "model": record,
    }
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    digest = hashlib.sha256(text).digest()
    preamble = _PREAMBLE.pack(_MAGIC, FORMAT_VERSION, len(text), digest)
    return preamble + text + blob


def _from_bytes(data: bytes) -> Any:
    header, blob = _split_file(data)
    tensors = _read_tensors(blob)
    try:
        version = str(header.get("skvae_version", "?"))
        return _Reader(tensors, version).estimator(header["model"])
    except InvalidModelFileError:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,
        RuntimeError,
        RecursionError,
        OverflowError,
        MemoryError,  # e.g. sizes in an edited header that ask for too much
    ) as exc:
        raise InvalidModelFileError(
            f"The model file is valid but its content cannot be rebuilt by this "
            f"skvae version: {type(exc).__name__}: {exc}"
        ) from exc


def _split_file(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The checked header and the weights blob of a file's bytes."""
    if not data.startswith(_MAGIC):
        hint = ""
        if data[:1] == b"\x80":
            hint = " It looks like a pickle: use joblib.load, on trusted files only."
        raise InvalidModelFileError(
            f"Not a skvae model file (it does not start with {_MAGIC!r}).{hint}"
        )
    if len(data) < _PREAMBLE.size:
        raise InvalidModelFileError("The model file is truncated (no header).")
    _, version, n_header, digest = _PREAMBLE.unpack_from(data)
    _check_version(version)
    end = _PREAMBLE.size + n_header
    if end > len(data):
        raise InvalidModelFileError(
            f"The model file is truncated or corrupted: its header needs {end} "
            f"bytes, the file has {len(data)}."
        )
    text = data[_PREAMBLE.size : end]
    if hashlib.sha256(text).digest() != digest:
        raise InvalidModelFileError(
            "The model file is corrupted: the header's SHA-256 does not match."
        )
    try:
        header = json.loads(text)  # as written: checked above
        version = header.get("format_version")
        nbytes, sha256 = header["weights"]["nbytes"], header["weights"]["sha256"]
    except (ValueError, AttributeError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidModelFileError(
            f"The model file's header is not valid: {type(exc).__name__}: {exc}"
        ) from exc
    _check_version(version)
    blob = data[end:]
    if len(blob) != nbytes or _sha256(blob) != sha256:
        raise InvalidModelFileError(
            "The model file is truncated or corrupted: the weights' size or "
            "SHA-256 does not match the header."
        )
    return header, blob


def _check_version(version: Any) -> None:
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise InvalidModelFileError(
            f"The model file has format version {version}, but this skvae reads "
            f"version {FORMAT_VERSION}"
            + (": upgrade skvae to load it." if newer else ".")
        )


def _read_tensors(blob: bytes) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    try:
        return load_tensors(blob)
    except SafetensorError as exc:
        raise InvalidModelFileError(
            f"The model file's weights are invalid: {exc}"
        ) from exc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _registry() -> dict[str, type]:
    """The estimators of skvae by class name: the only classes a file can name.

    Derived from ``skvae.__all__``, the one list of the public estimators.
    """
    from sklearn.base import BaseEstimator

    import skvae

    classes = (getattr(skvae, name) for name in skvae.__all__)
    return {
        cls.__name__: cls
        for cls in classes
        if isinstance(cls, type)
        and issubclass(cls, BaseEstimator)
        and not inspect.isabstract(cls)
    }


#: Parameters an estimator no longer takes, with the value that files written
#: before the change hold when they used it in the only way it was honoured
#: (ConditionalVAE refused any other prior or tc_weight, and had no use for
#: n_pseudo_inputs). A file with another value is refused, naming its version.
_REMOVED_PARAMS: dict[str, dict[str, Any]] = {
    "ConditionalVAE": {"prior": "normal", "tc_weight": 0.0, "n_pseudo_inputs": 100},
}


# ---------------------------------------------------------------------- write
class _Writer:
    """Turns estimators into JSON records, collecting their tensors."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self._registry = _registry()

    def estimator(self, est: Any, prefix: str, *, fitted: bool) -> dict[str, Any]:
        """The record of ``est``; ``fitted=False`` keeps only its parameters.

        ``prefix`` starts the keys of its module's tensors.
        """
        name = type(est).__name__
        if self._registry.get(name) is not type(est):
            raise TypeError(
                f"Only skvae's own estimators can be saved, got {type(est)!r}; "
                "use joblib or pickle for other objects (trusted files only)."
            )
        params = est.get_params(deep=False)
        record: dict[str, Any] = {
            "class": name,
            "params": {k: self.value(v, f"{name}({k}=...)") for k, v in params.items()},
            "attributes": {},
            "module": None,
        }
        if not fitted:
            return record
        for key, value in vars(est).items():
            if key not in params and key not in _NOT_SAVED:
                record["attributes"][key] = self.value(
                    value, f"{name}.{key}", prefix=f"{prefix}{key}/"
                )
        module = vars(est).get("module_")
        if module is not None:
            record["module"] = self.module(module, f"{prefix}module_.")
        return record

    def module(self, module: torch.nn.Module, prefix: str) -> dict[str, Any]:
        """Store the state_dict (CPU copies); return the prefix and the layout.

        The layout holds each submodule's class and plain public attributes
        (settings, some computed from the training data).
        """
        for key, tensor in module.state_dict().items():
            self.tensors[prefix + key] = tensor.detach().to("cpu").contiguous().clone()
        layout = {}
        for name, sub in module.named_modules():
            plain = {
                k: self.value(v, f"module_.{name}.{k}")
                for k, v in vars(sub).items()
                if not k.startswith("_") and _is_plain(v)
            }
            layout[name] = {"class": type(sub).__name__, "attributes": plain}
        return {"prefix": prefix, "layout": layout}

    def value(self, obj: Any, where: str, prefix: str | None = None) -> Any:
        """The JSON form of one value (arrays go to the tensors).

        A skvae estimator is stored in full (a fitted ``estimator_``) when
        ``prefix`` (its tensors' key prefix) is given, else by its parameters
        (a parameter: a template that ``fit`` clones). ``where`` names the
        value in error messages.
        """
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
            return int(obj)
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, (float, np.floating)):
            x = float(obj)
            return x if math.isfinite(x) else {"__float__": repr(x)}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.value(v, where) for v in obj]}
        if isinstance(obj, list):
            return [self.value(v, where) for v in obj]
        if isinstance(obj, dict):
            return self._dict(obj, where)
        if isinstance(obj, np.ndarray):
            return self._array(obj, where)
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.str}
        if isinstance(obj, torch.device):
            return {"__device__": str(obj)}
        if isinstance(obj, np.random.RandomState):
            return {"__random_state__": self.value(obj.get_state(), where)}
        if isinstance(obj, LabelEncoder) and hasattr(obj, "classes_"):
            return {"__label_encoder__": self._array(obj.classes_, where)}
        if type(obj).__name__ in self._registry:
            record = self.estimator(obj, prefix or "", fitted=prefix is not None)
            return {"__estimator__": record}
        raise TypeError(_unsaveable(obj, where))

    def _dict(self, obj: dict, where: str) -> dict[str, Any]:
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(
                f"Cannot save {where}: a dict with keys that are not strings."
            )
        out = {k: self.value(v, f"{where}[{k!r}]") for k, v in obj.items()}
        return {"__dict__": out} if len(out) == 1 and _is_tag(next(iter(out))) else out

    def _array(self, a: np.ndarray, where: str) -> dict[str, Any]:
        if a.dtype.kind in "biuf":
            key = f"array.{len(self.tensors)}"
            native = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))
            self.tensors[key] = torch.from_numpy(native.copy())
            return {"__ndarray__": key}
        scalars = (str, bool, int, float, np.generic)
        if a.dtype.kind in "UO" and all(isinstance(v, scalars) for v in a.flat):
            data = [self.value(v, where) for v in a.ravel().tolist()]
            return {
                "__array__": {
                    "dtype": a.dtype.str,
                    "shape": list(a.shape),
                    "data": data,
                }
            }
        raise TypeError(f"Cannot save {where}: an array of dtype {a.dtype}.")


def _is_tag(key: str) -> bool:
    return key.startswith("__") and key.endswith("__")


def _is_plain(v: Any) -> bool:
    """Scalars and (nested) lists/tuples of scalars: a module's settings."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, (list, tuple)) and all(_is_plain(x) for x in v)


def _unsaveable(obj: Any, where: str) -> str:
    from skvae._training import Callback

    kind = type(obj).__name__
    if isinstance(obj, (type, torch.nn.Module)):
        fix = (
            "user networks are code, which the safe format never stores; "
            "use joblib or pickle for this model (trusted files only)"
        )
    elif isinstance(obj, Callback) or "callbacks" in where:
        fix = (
            "callbacks are only used in training: set_params(callbacks=None) "
            "before saving"
        )
    else:
        fix = "only numbers, strings, lists, dicts, arrays and skvae models are stored"
    return f"Cannot save {where}: a value of type {kind}; {fix}."


# ----------------------------------------------------------------------- read
class _Reader:
    """Rebuilds estimators from records and the file's tensors."""

    def __init__(self, tensors: dict[str, torch.Tensor], version: str = "?") -> None:
        self.tensors = tensors
        self.version = version
        self._registry = _registry()
        self._tags: dict[str, Callable[[Any], Any]] = {
            "__tuple__": lambda body: tuple(self.value(body)),
            "__dict__": lambda body: {k: self.value(v) for k, v in body.items()},
            "__float__": lambda body: _NON_FINITE[body],
            "__ndarray__": lambda body: self.tensors[body].numpy(),
            "__array__": _string_array,
            "__dtype__": _dtype,
            "__device__": lambda body: torch.device(str(body)),
            "__random_state__": self._random_state,
            "__label_encoder__": self._label_encoder,
            "__estimator__": self.estimator,
        }

    def value(self, obj: Any) -> Any:
        """The Python value of a JSON form written by :meth:`_Writer.value`."""
        if isinstance(obj, list):
            return [self.value(v) for v in obj]
        if isinstance(obj, dict):
            if len(obj) == 1:
                ((key, body),) = obj.items()
                if key in self._tags:
                    return self._tags[key](body)
            return {k: self.value(v) for k, v in obj.items()}
        return obj

    def estimator(self, record: dict[str, Any]) -> Any:
        """A new estimator from its record (fitted if the record has state)."""
        cls = self._registry.get(record["class"])
        if cls is None:
            raise InvalidModelFileError(
                f"The model file names an unknown estimator {record['class']!r}; "
                f"this skvae knows {sorted(self._registry)}."
            )
        params = self.value(record["params"])
        removed = _REMOVED_PARAMS.get(cls.__name__, {})
        for key in set(params) & set(removed):
            if params[key] == removed[key]:
                del params[key]
        unknown = set(params) - set(cls().get_params(deep=False))
        if unknown:
            raise InvalidModelFileError(
                f"{cls.__name__} has no parameters {sorted(unknown)}: the file was "
                f"written by skvae {self.version}, this is skvae {__version__}."
            )
        est = cls(**params)
        for key, value in record["attributes"].items():
            _check_attribute_name(cls, key)
            setattr(est, key, self.value(value))
        if record["module"] is not None:
            self._rebuild_module(est, record["module"])
        return est

    def _rebuild_module(self, est: Any, saved: dict[str, Any]) -> None:
        """Build ``module_`` as fit does, then copy the saved weights in."""
        prefix = str(saved["prefix"])
        layout = self.value(saved["layout"])
        state = {
            k[len(prefix) :]: v for k, v in self.tensors.items() if k.startswith(prefix)
        }
        module = _build_like_fit(est, state, layout)
        _restore_layout(module, layout)
        module.load_state_dict(state, strict=True)
        est._attach_module(module)

    def _random_state(self, body: Any) -> np.random.RandomState:
        rs = np.random.RandomState()
        rs.set_state(tuple(self.value(body)))
        return rs

    def _label_encoder(self, body: Any) -> LabelEncoder:
        encoder = LabelEncoder()
        encoder.classes_ = self.value(body)
        return encoder


def _string_array(body: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(body["dtype"])
    if dtype.kind not in "UO":
        raise InvalidModelFileError(f"Unexpected array dtype {dtype}.")
    shape = tuple(int(n) for n in body["shape"])
    data = [
        _NON_FINITE[v["__float__"]] if isinstance(v, dict) else v for v in body["data"]
    ]
    out = np.empty(len(data), dtype=dtype)
    out[:] = data
    return out.reshape(shape)


def _dtype(body: Any) -> np.dtype:
    dtype = np.dtype(str(body))
    if dtype.kind not in "biufU":
        raise InvalidModelFileError(f"Unexpected dtype {dtype}.")
    return dtype


def _check_attribute_name(cls: type, key: str) -> None:
    """Fitted attributes only: never a method, property or dunder of the class."""
    if not (
        isinstance(key, str)
        and key.isidentifier()
        and not _is_tag(key)
        and not hasattr(cls, key)
        and (key.endswith("_") or key.startswith("_"))
    ):
        raise InvalidModelFileError(f"Unexpected attribute {key!r} in the model file.")


# ------------------------------------------------------------- module rebuild
def _build_like_fit(
    est: Any, state: dict[str, torch.Tensor], layout: dict[str, Any]
) -> torch.nn.Module:
    """A new module for ``est``, through the method ``fit`` builds it with.

    What the build takes from the data is given to it: a mixed likelihood's
    column blocks (from the saved layout) and the number of VampPrior
    pseudo-inputs (from the saved tensor's shape); the values in the layout
    and the weights are restored after it.
    """
    n_rows = max(
        [2] + [int(t.shape[0]) for k, t in state.items() if k.endswith("pseudo_inputs")]
    )
    mixed = [e for e in layout.values() if e["class"] == "MixedLikelihood"]
    likelihood = None
    if mixed:  # the column types were read off the training data
        blocks = mixed[0]["attributes"]
        likelihood = _mixed_likelihood(est, blocks, int(est.n_features_in_))
    return est._rebuild_module(n_rows, likelihood)


def _mixed_likelihood(est: Any, blocks: dict[str, Any], n_features: int) -> Any:
    """The MixedLikelihood of the saved column blocks (floors restored later)."""
    from skvae.nn.likelihoods import MixedLikelihood, make_likelihood

    missing = est._masks_missing()
    parts = [
        (make_likelihood(kind, len(cols), missing=missing), [int(c) for c in cols])
        for kind, cols in zip(blocks["kinds"], blocks["columns"], strict=True)
    ]
    return MixedLikelihood(parts, n_features)


def _restore_layout(module: torch.nn.Module, layout: dict[str, Any]) -> None:
    """Give each submodule its saved plain attributes (e.g. variance floors)."""
    modules = dict(module.named_modules())
    for name, saved in layout.items():
        sub = modules.get(name)
        if sub is None or type(sub).__name__ != saved["class"]:
            raise InvalidModelFileError(
                f"The saved network has a {saved['class']} at {name!r}, which this "
                "skvae version does not build from the saved parameters."
            )
        for key, value in saved["attributes"].items():
            current = vars(sub).get(key)
            if (
                key in vars(sub)
                and not key.startswith("_")
                and type(current) is type(value)
                and current != value
            ):
                setattr(sub, key, value)
