r"""Safe persistence: one file, parameters as JSON and weights as safetensors.

:func:`save` writes a fitted (or unfitted) skvae estimator to one file and
:func:`load` reads it back. Loading never unpickles, never calls
``torch.load`` and never imports a class named by the file: the estimator's
class is looked up among skvae's own estimators, built from its parameters,
and its torch module is rebuilt the way ``fit`` builds it before the saved
weights are copied in. A file that is truncated, altered or written in a
newer format raises :class:`InvalidModelFileError`.

Notes
-----
The file format, version 2 (integers are unsigned little-endian; version 1
is the same layout, and this skvae reads it too):

======  ======  ==============================================================
offset  size    content
======  ======  ==============================================================
0       8       magic bytes ``b"\x89SKVAE\r\n"``
8       4       format version (2)
12      8       header length ``N``
20      32      SHA-256 of the header
52      ``N``   header: UTF-8 JSON (below)
52+N    rest    weights: a safetensors blob, whose length and SHA-256 are in
                the header
======  ======  ==============================================================

Version 2 marks the files of detectors whose model may read its rows
through fitted offsets and scales (``input_offset_``, ``subspace_scale_``):
a version-1 reader would load them without those, and score wrongly, so it
refuses them by their version.

The header is ``{"format": "skvae", "format_version": 2, "skvae_version",
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
with user networks (``encoder=``/``decoder=`` classes) raises ``TypeError``
at save, since storing them would mean storing code. Pickle and joblib still
work for such models (and only for trusted files). Callbacks are used in
training only and are not part of the model: a model fitted with
``callbacks`` is saved with ``callbacks=None``, and loads so. The device is
not saved either: a loaded model's ``device_`` is where it was loaded.

A file is treated as hostile data: :func:`load` checks the magic bytes and
version before reading further, refuses anything but a regular file unread,
checks each declared size against the file's size before reading it (the
header is capped), bounds string arrays by the header's length and the
network's width by the saved tensors, validates the parameters with the
estimator's own constraints, builds the network on the meta device and
compares its shapes with the saved tensors before allocating it, and takes
from the layout only the values a fit computes from the data (variance
floors, the VAT radius, train/eval mode). The checksums detect accidents;
they are not a signature: a file rewritten with valid checksums can hold
any weights, but not code.

The optimiser state is not saved: a loaded model transforms, scores, samples
and predicts exactly as the saved one, and ``warm_start=True`` or
``partial_fit`` continue training from its weights with a fresh optimiser.

A scikit-learn ``Pipeline``, ``ColumnTransformer`` (or any scikit-learn
estimator) whose parts include skvae estimators is saved in the same
container, its header holding ``"pipeline": {"class", "skops",
"skops_version", "parts"}`` instead of ``"model"``. Its tensors are bytes
(``uint8``): ``skops`` is the object with each skvae estimator replaced by a
placeholder, in skops' safe format (written with ``skops.io.dumps``, stored
uncompressed), and each of ``parts`` is a complete skvae model file of the
format above, read back with every check of a model file. At load the skops
payload's types are checked with ``skops.io.get_untrusted_types`` before
anything is built: besides skops' defaults (scikit-learn's estimators, numpy
and scipy types) only the placeholder and the type names the caller passes
as ``trusted`` are accepted; any other type refuses the file unread.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import inspect
import io
import json
import math
import os
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.preprocessing import LabelEncoder

from skvae._frames import TableEncoder
from skvae._version import __version__

__all__ = ["FORMAT_VERSION", "InvalidModelFileError", "load", "save"]

#: Version of the file format that :func:`save` writes and :func:`load` reads.
FORMAT_VERSION = 2
# The versions this skvae reads: version 1's files are read as they were
# written (a detector's model then reads no fitted offset or scale).
_READ_VERSIONS = (1, 2)

_MAGIC = b"\x89SKVAE\r\n"
_PREAMBLE = struct.Struct("<8sIQ32s")  # magic, version, header length, sha256
# Fitted state that is rebuilt at load rather than stored.
_NOT_SAVED = frozenset(
    {
        "_extra_params",
        "_optimizer",
        "_optimizer_state",
        "_device",
        "device_",
        "module_",
        "_built_with",  # the saved parameters give it back (_attach_module)
    }
)
# What scikit-learn's callback support sets on an estimator during a fit run by
# a meta-estimator (a Pipeline, a search): a file written mid-fit (a
# Checkpoint) leaves it out.
_TRANSIENT = frozenset(
    {
        "_parent_callback_ctx",
        "_callback_fit_ctx",
        "_skl_callbacks",
        "_skl_callbacks_to_teardown",
        # set_fit_request's routing choice: a meta-estimator's setting, not
        # part of the model (a loaded model routes nothing until asked again)
        "_metadata_request",
    }
)
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# The longest header read (JSON): far above any model's (histories, names).
_MAX_HEADER = 256 * 2**20
_CHUNK = 2**20  # bytes read at once, so that a declared size is never allocated
# The private fitted attributes that save writes; a file with another is refused.
_PRIVATE_SAVED = frozenset(
    {
        "_dtype",
        "_seed",
        "_label_encoder",
        "_prior_histories",
        "_shift",
        "_scale_",
        "_constant",  # VAEImputer's columns of one value
        "_latent_mean",
        "_latent_precision",
        "_fitted_neighbors",  # the detector's n_neighbors at fit
        "_frame_labels",  # the integer column labels of the frame it was fitted on
        "_sklearn_output_config",  # set_output's choice (VAEImputer)
    }
)
# The dtypes of the data a model is fitted on (``_validate_X``'s FLOATS).
_DATA_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
# Plain module attributes that a fit computes from the training data, by
# submodule class: the only layout values that may differ from a new build.
# ``training`` (train/eval mode) is restored on every submodule.
_LAYOUT_FROM_DATA: dict[str, frozenset[str]] = {
    "GaussianLikelihood": frozenset({"min_variance"}),  # a floor from the variance
    "SharedVarianceGaussian": frozenset({"min_variance"}),  # VaDE's, the same
    # "auto"'s radius; the share of labelled visits trained and the balance
    # term's weight (from the labelled rows)
    "SemiSupervisedVAEModule": frozenset(
        {"vat_epsilon", "labelled_share", "balance_weight"}
    ),
}
# Zeros a rebuild may allocate beyond what the tensors hold (rows x features).
_MIN_BUILD_CELLS = 2**20
_BUILD_CELLS_PER_WEIGHT = 16
# Bytes of string arrays per byte of header (fixed-width strings of JSON text).
_STRING_BYTES_PER_HEADER_BYTE = 16


class InvalidModelFileError(ValueError):
    """The file is not a valid skvae model file (corrupted, truncated, newer).

    Examples
    --------
    >>> issubclass(InvalidModelFileError, ValueError)
    True
    """


# ------------------------------------------------------------------ public API
def save(model, path):
    """Save a skvae estimator, or a pipeline holding some, to one file, without pickle.

    The parameters and fitted attributes are stored as JSON and the weights
    and arrays as safetensors, with SHA-256 checksums (see the module
    docstring for the format). The file loads on any machine, with or
    without a GPU, and loading it never runs code from it.

    A scikit-learn ``Pipeline`` (``make_pipeline``), ``ColumnTransformer``
    or other scikit-learn estimator is saved too: its skvae estimators in
    skvae's format, the rest through skops' safe format (the ``pipeline``
    extra: ``pip install "skvae[pipeline]"``), all in the one file.

    Parameters
    ----------
    model : skvae estimator or scikit-learn estimator
        A skvae estimator (``VAE``, ``VAEOutlierDetector``...), fitted or
        not, or a scikit-learn estimator (a pipeline) whose steps may be
        skvae estimators. Subclasses of skvae's estimators defined elsewhere
        cannot be saved this way.
    path : str, path-like or binary file object
        Where to write.

    Raises
    ------
    TypeError
        If the model is not one of skvae's estimators or a scikit-learn
        estimator, or a parameter or fitted attribute cannot be stored as
        data (user network classes); the message names it and the fix.
        ``callbacks`` are not saved: the file holds ``callbacks=None``.
    ImportError
        For a pipeline, when skops is not installed.

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
        _write_whole(Path(os.fspath(path)), data)


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all, where that can be done.

    For a regular file (or a new one) whose folder is writable, the bytes go
    to a new file beside it (created as ``open`` would, with the umask's
    permissions), which then replaces it in one step: an interrupted save
    (Ctrl-C, a full disk) leaves the previous file as it was, and two
    threads saving to one path leave one whole file. A link is followed (the
    file it points to is replaced); anything else (a device, a FIFO, a
    read-only file, a folder that is not writable) is written in place, as
    ``open(path, "wb")`` would.
    """
    import secrets

    real = Path(os.path.realpath(path))
    in_place = (real.exists() and not real.is_file()) or not os.access(
        real.parent, os.W_OK | os.X_OK
    )
    if real.exists() and not os.access(real, os.W_OK):
        in_place = True  # refused as a read-only file is
    if in_place:
        with open(real, "wb") as f:
            f.write(data)
        return
    temporary = real.with_name(f".skvae-{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    handle = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        if real.exists():  # keep the permissions of the file replaced
            os.chmod(temporary, stat.S_IMODE(real.stat().st_mode))
        os.replace(temporary, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def load(path, *, trusted=None):
    """Load an estimator (or a pipeline) saved by :func:`save`.

    The estimator's class is one of skvae's own, looked up by name; nothing
    from the file is unpickled, imported or executed. A model fitted on a
    GPU is loaded on the CPU when CUDA is not available (with a warning if
    its ``device`` asked for CUDA). A pipeline's scikit-learn parts are read
    with skops, which builds only types it trusts: scikit-learn's
    estimators, numpy and scipy types, and the ``trusted`` ones.

    Parameters
    ----------
    path : str, path-like or binary file object
        The file to read.
    trusted : sequence of str, default=None
        For a pipeline file: more type names (as
        ``skops.io.get_untrusted_types`` lists them, e.g.
        ``"mypackage.MyTransformer"``) that may be built from it. Name only
        types you know to be safe, from a file you trust; ``True`` is
        refused.

    Returns
    -------
    model : skvae estimator
        The estimator, fitted if it was when saved. It has no optimiser
        state: it predicts as the saved model, and further training
        (``warm_start``, ``partial_fit``) starts a fresh optimiser.

    Raises
    ------
    InvalidModelFileError
        If the file is not a skvae model file (its first bytes are checked
        before anything else is read; a directory, device or FIFO is refused
        unread), is truncated or corrupted (size or checksum mismatch), is
        of a newer file format, or holds values that its estimator's
        constraints refuse or sizes that its weights do not back; for a
        pipeline, also if it holds a type that is not trusted.

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
    extra = _trusted_names(trusted)
    if hasattr(path, "read"):
        parts = _read_model_file(path, _remaining_size(path))
    else:
        parts = _read_model_path(os.fspath(path))
    return _from_parts(*parts, trusted=extra)


# ------------------------------------------------------------------ container
def _to_bytes(model: Any) -> bytes:
    if _is_composite(model):
        return _pipeline_to_bytes(model)
    writer = _Writer()
    record = writer.estimator(model, "", fitted=True)
    return _pack({"model": record}, writer.tensors)


def _pack(body: dict[str, Any], tensors: dict[str, torch.Tensor]) -> bytes:
    """The file: preamble, header (``body`` and the blob's size and checksum), blob."""
    from safetensors.torch import save as save_tensors

    blob = save_tensors(tensors)
    header = {
        "format": "skvae",
        "format_version": FORMAT_VERSION,
        "skvae_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        "weights": {"nbytes": len(blob), "sha256": _sha256(blob)},
        **body,
    }
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    digest = hashlib.sha256(text).digest()
    preamble = _PREAMBLE.pack(_MAGIC, FORMAT_VERSION, len(text), digest)
    return preamble + text + blob


def _from_parts(
    header: dict[str, Any],
    blob: bytes,
    n_header: int,
    *,
    trusted: tuple[str, ...] = (),
    nested: bool = False,
) -> Any:
    """The estimator of a checked file; ``nested``: a part of a pipeline file."""
    tensors = _read_tensors(blob)
    try:
        if "pipeline" in header and not nested:
            return _pipeline_from(header["pipeline"], tensors, trusted)
        version = str(header.get("skvae_version", "?"))
        _warn_if_newer(version)
        budget = _STRING_BYTES_PER_HEADER_BYTE * n_header
        return _Reader(tensors, version, budget).estimator(header["model"])
    except InvalidModelFileError:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,
        RuntimeError,
        NotImplementedError,
        RecursionError,
        OverflowError,
        MemoryError,  # e.g. sizes in an edited header that ask for too much
        zipfile.BadZipFile,  # a pipeline's skops payload
    ) as exc:
        raise InvalidModelFileError(
            f"The model file is valid but its content cannot be rebuilt by this "
            f"skvae version: {type(exc).__name__}: {exc}"
        ) from exc


def _read_model_path(name: str) -> tuple[dict[str, Any], bytes, int]:
    """The header and blob of the file at ``name``: a regular file, checked first.

    A directory, device (``/dev/zero``), FIFO or socket is refused before it is
    read (a FIFO is opened without blocking); a missing path raises
    ``FileNotFoundError``.
    """
    _check_regular(os.stat(name), name)
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        _check_regular(info, name)
        return _read_model_file(stream, info.st_size)


def _check_regular(info: os.stat_result, name: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise InvalidModelFileError(
            f"{name!r} is {kind} (a model file is a regular file written by "
            "skvae.save)."
        )


def _remaining_size(stream: Any) -> int | None:
    """The bytes left in a seekable binary file object, else None."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        size = stream.seek(0, os.SEEK_END) - here
        stream.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return size


def _read_upto(stream: Any, n: int) -> bytes:
    """At most ``n`` bytes of ``stream``, read in chunks (never ``n`` at once)."""
    parts, left = [], n
    while left > 0:
        part = stream.read(min(left, _CHUNK))
        if not part:
            break
        parts.append(bytes(part))
        left -= len(part)
    return b"".join(parts)


def _read_model_file(
    stream: Any, size: int | None
) -> tuple[dict[str, Any], bytes, int]:
    """The checked header, weights blob and header length, read piece by piece.

    The magic bytes and version are checked before anything else is read,
    and each size the file declares is checked against ``size`` (the bytes
    left in the file, None if unknown) before it is read; reads are chunked,
    so that a declared size is never allocated up front.
    """
    preamble = _read_upto(stream, _PREAMBLE.size)
    if not preamble.startswith(_MAGIC):
        if _MAGIC.startswith(preamble):  # a prefix of a model file
            raise InvalidModelFileError("The model file is truncated (no header).")
        hint = ""
        if preamble[:1] == b"\x80":
            hint = " It looks like a pickle: use joblib.load, on trusted files only."
        raise InvalidModelFileError(
            f"Not a skvae model file (it does not start with {_MAGIC!r}).{hint}"
        )
    if len(preamble) < _PREAMBLE.size:
        raise InvalidModelFileError("The model file is truncated (no header).")
    _, version, n_header, digest = _PREAMBLE.unpack(preamble)
    _check_version(version)
    stated = version  # the preamble's, outside the header's checksum
    if n_header > _MAX_HEADER:
        raise InvalidModelFileError(
            f"The model file is corrupted: it declares a header of {n_header} "
            f"bytes, above the limit of {_MAX_HEADER}."
        )
    end = _PREAMBLE.size + n_header
    if size is not None and size < end:
        raise InvalidModelFileError(
            f"The model file is truncated or corrupted: its header needs {end} "
            f"bytes, the file has {size}."
        )
    text = _read_upto(stream, n_header)
    if len(text) < n_header:
        raise InvalidModelFileError(
            f"The model file is truncated or corrupted: its header needs {end} "
            f"bytes, the file has {_PREAMBLE.size + len(text)}."
        )
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
    if version != stated:  # save writes one version in both
        raise InvalidModelFileError(
            f"The model file is corrupted: its preamble says format version "
            f"{stated}, its header {version}."
        )
    if type(nbytes) is not int or nbytes < 0 or not isinstance(sha256, str):
        raise InvalidModelFileError(
            "The model file's header is not valid: the weights' size and SHA-256 "
            "are not a byte count and a string."
        )
    if size is not None and size != end + nbytes:
        raise InvalidModelFileError(
            f"The model file is truncated or corrupted: its header and weights "
            f"take {end + nbytes} bytes, the file has {size}."
        )
    blob = _read_upto(stream, nbytes)
    if len(blob) != nbytes or _read_upto(stream, 1) or _sha256(blob) != sha256:
        raise InvalidModelFileError(
            "The model file is truncated or corrupted: the weights' size or "
            "SHA-256 does not match the header."
        )
    return header, blob, n_header


def _check_version(version: Any) -> None:
    if type(version) is not int or version not in _READ_VERSIONS:
        newer = type(version) is int and version > FORMAT_VERSION
        raise InvalidModelFileError(
            f"The model file has format version {version}, but this skvae reads "
            f"versions {', '.join(map(str, _READ_VERSIONS))}"
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


def _release(version: str) -> tuple[int, ...] | None:
    """The numbers of a release ``"1.2.3"`` (None for anything else)."""
    parts = version.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _warn_if_newer(version: str) -> None:
    """Warn when a file was written by a newer skvae (its format still read).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _warn_if_newer("99.0.0")
    >>> "newer" in str(caught[0].message)
    True
    """
    from skvae._base import _caller_level

    theirs, ours = _release(version), _release(__version__)
    if theirs is not None and ours is not None and theirs > ours:
        warnings.warn(
            f"The model file was written by skvae {version}, newer than this "
            f"skvae {__version__}: it is read as this version reads its format "
            "(a private attribute the newer version added is refused, a public "
            "one left unread). Upgrade skvae if its results differ from the "
            "writer's.",
            UserWarning,
            stacklevel=_caller_level(),
        )


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


# ------------------------------------------------------------------ pipelines
class _SkvaePart:
    """Where a skvae estimator sits in a saved pipeline: its index among the parts.

    The skops payload of a pipeline file holds one of these wherever the
    pipeline held a skvae estimator; :func:`load` puts the estimator back.
    """

    def __init__(self, index: int) -> None:
        self.index = index


#: The placeholder's type name, as skops names it: trusted at load.
_PART_TYPE = f"{_SkvaePart.__module__}.{_SkvaePart.__qualname__}"


def _skops() -> Any:
    """``skops.io``, or an ImportError that names the extra to install."""
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "Saving or loading a scikit-learn pipeline needs skops: "
            "pip install 'skvae[pipeline]' (or pip install skops)."
        ) from exc
    return skops.io


def _trusted_names(trusted: Any) -> tuple[str, ...]:
    """``load``'s ``trusted``: a sequence of type names (never ``True``)."""
    if trusted is None:
        return ()
    if isinstance(trusted, (str, bool)) or not all(
        isinstance(name, str) for name in trusted
    ):
        raise TypeError(
            "trusted must be a sequence of type names (e.g. "
            f"['mypackage.MyTransformer']), got {trusted!r}."
        )
    return tuple(trusted)


def _is_composite(model: Any) -> bool:
    """Whether ``model`` is a scikit-learn estimator rather than a skvae one."""
    from sklearn.base import BaseEstimator

    return (
        isinstance(model, BaseEstimator)
        and type(model).__module__.split(".")[0] == "sklearn"
    )


def _children(obj: Any) -> list[Any]:
    """The objects that ``obj`` holds, where skvae estimators may be."""
    from sklearn.base import BaseEstimator

    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, BaseEstimator):
        return list(vars(obj).values())
    return []


def _skvae_parts(model: Any) -> list[Any]:
    """The skvae estimators held anywhere in ``model``, each once, in order.

    A subclass of a skvae estimator (not one of skvae's own) raises
    ``TypeError``, as :func:`save` does for it alone.
    """
    own = set(_registry().values())
    found: list[Any] = []
    seen: set[int] = set()
    stack = [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if type(obj) in own:
            found.append(obj)
            continue
        if isinstance(obj, tuple(own)) or type(obj).__module__.startswith("skvae."):
            raise TypeError(
                f"Only skvae's own estimators can be saved, got {type(obj)!r} "
                "in the pipeline; use joblib or pickle (trusted files only)."
            )
        stack.extend(reversed(_children(obj)))
    return found


def _pipeline_to_bytes(model: Any) -> bytes:
    """A pipeline file: the skops payload with placeholders, and the parts."""
    sio = _skops()
    import skops

    parts = _skvae_parts(model)
    # deepcopy takes the placeholders from the memo instead of copying parts
    memo: dict[int, Any] = {id(p): _SkvaePart(i) for i, p in enumerate(parts)}
    skeleton = copy.deepcopy(model, memo)
    tensors = {"skops": _byte_tensor(sio.dumps(skeleton))}  # stored, not zipped
    names = []
    for i, part in enumerate(parts):
        names.append(f"part{i}")
        tensors[names[-1]] = _byte_tensor(_to_bytes(part))
    body = {
        "class": type(model).__name__,
        "skops": "skops",
        "skops_version": skops.__version__,
        "parts": names,
    }
    return _pack({"pipeline": body}, tensors)


def _byte_tensor(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def _tensor_bytes(tensors: dict[str, torch.Tensor], key: Any) -> bytes:
    """The bytes stored under ``key``: a 1-D uint8 tensor of the blob."""
    tensor = tensors.get(key) if isinstance(key, str) else None
    if tensor is None or tensor.dtype != torch.uint8 or tensor.ndim != 1:
        raise InvalidModelFileError(
            f"The pipeline file is corrupted: {key!r} is not a byte string of "
            "its weights."
        )
    return tensor.numpy().tobytes()


def _check_stored_zip(data: bytes) -> None:
    """A skops payload may only hold stored (uncompressed) members.

    So that its size bounds what reading it allocates: a compressed member
    could declare far more bytes than the file holds.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(data):
                raise InvalidModelFileError(
                    "The pipeline file is corrupted: its skops payload has a "
                    f"compressed or oversized member {info.filename!r}."
                )


def _pipeline_from(
    spec: Any, tensors: dict[str, torch.Tensor], trusted: tuple[str, ...]
) -> Any:
    """The pipeline of a checked file: its types checked before it is built."""
    sio = _skops()
    names = spec.get("parts") if isinstance(spec, dict) else None
    if not isinstance(names, list) or len(set(map(str, names))) != len(names):
        raise InvalidModelFileError(
            "The pipeline file's header is not valid: 'parts' is not a list of "
            "distinct names."
        )
    payload = _tensor_bytes(tensors, spec.get("skops"))
    _check_stored_zip(payload)
    untrusted = sio.get_untrusted_types(data=payload)
    refused = sorted(set(untrusted) - {_PART_TYPE, *trusted})
    if refused:
        raise InvalidModelFileError(
            f"The pipeline file holds types that are not trusted: {refused}. "
            "Nothing was built. If you trust the file and these types, load it "
            "with skvae.load(path, trusted=[...]) naming them."
        )
    skeleton = sio.loads(payload, trusted=sorted(untrusted))
    parts = [_part_from(_tensor_bytes(tensors, name)) for name in names]
    holders = [
        obj for obj in _walk(skeleton) if type(obj) is _SkvaePart
    ]  # the placeholders, as skops built them
    indices = [h.index for h in holders]
    if any(type(i) is not int for i in indices) or set(indices) != set(
        range(len(parts))
    ):
        raise InvalidModelFileError(
            "The pipeline file is corrupted: its placeholders do not match its "
            f"{len(parts)} skvae part(s)."
        )
    return copy.deepcopy(skeleton, {id(h): parts[h.index] for h in holders})


def _walk(obj: Any) -> list[Any]:
    """Every object held in ``obj`` (as :func:`_children` sees them), once."""
    out, seen, stack = [], set(), [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        out.append(item)
        stack.extend(_children(item))
    return out


def _part_from(data: bytes) -> Any:
    """A skvae estimator from a part of a pipeline file: a model file's checks."""
    header, blob, n_header = _read_model_file(io.BytesIO(data), len(data))
    if "model" not in header:
        raise InvalidModelFileError(
            "The pipeline file is corrupted: one of its parts is not a model."
        )
    return _from_parts(header, blob, n_header, nested=True)


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
        if "callbacks" in params:  # used in training only: never saved
            params["callbacks"] = None
        record: dict[str, Any] = {
            "class": name,
            "params": {k: self.value(v, f"{name}({k}=...)") for k, v in params.items()},
            "attributes": {},
            "module": None,
        }
        if not fitted:
            return record
        changed = getattr(est, "_changed_network_setting", lambda: None)()
        if changed is not None:
            key, before, after = changed
            raise ValueError(
                f"Cannot save {name}: {key}={after!r} was set after the fit, "
                f"whose network was built with {key}={before!r}, and a file "
                f"of them could not be loaded. Set it back (set_params({key}="
                f"{before!r})) before saving, or fit again."
            )
        for key, value in vars(est).items():
            if key not in params and key not in _NOT_SAVED | _TRANSIENT:
                if key.startswith("_") and key not in _PRIVATE_SAVED:
                    # load would refuse the file: never write one
                    raise TypeError(
                        f"Cannot save {name}.{key}: a private attribute that "
                        "skvae does not know how to load (a bug: please report it)."
                    )
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
        if isinstance(obj, TableEncoder):
            return {"__table__": obj.to_record()}
        if sp.issparse(obj) and obj.format == "csr":
            parts = {k: getattr(obj, k) for k in ("data", "indices", "indptr")}
            body = {k: self._array(np.asarray(v), where) for k, v in parts.items()}
            return {"__csr__": {**body, "shape": [int(n) for n in obj.shape]}}
        if type(obj).__name__ in self._registry:
            record = self.estimator(obj, prefix or "", fitted=prefix is not None)
            return {"__estimator__": record}
        raise TypeError(_unsaveable(obj, where))

    def _dict(self, obj: dict, where: str) -> dict[str, Any]:
        if not all(isinstance(k, str) for k in obj):
            # e.g. a dict keyed by class labels: stored as its items
            scalars = (bool, int, float, str, np.bool_, np.integer, np.floating)
            if not all(isinstance(k, scalars) for k in obj):
                raise TypeError(
                    f"Cannot save {where}: a dict with keys that are not "
                    "strings or numbers."
                )
            return {
                "__items__": [
                    [self.value(k, where), self.value(v, f"{where}[{k!r}]")]
                    for k, v in obj.items()
                ]
            }
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
    """Rebuilds estimators from records and the file's tensors.

    Every size it builds is bounded by what the file holds: string arrays
    by the header's length (``string_budget``, in bytes, for all of them),
    networks by the saved tensors (each feeds one module only), checked on
    the meta device before anything is allocated.
    """

    def __init__(
        self,
        tensors: dict[str, torch.Tensor],
        version: str = "?",
        string_budget: int = 2**20,
    ) -> None:
        self.tensors = tensors
        self.version = version
        self.string_budget = string_budget
        self._used: set[str] = set()  # tensor keys given to a module
        self._registry = _registry()
        self._tags: dict[str, Callable[[Any], Any]] = {
            "__tuple__": lambda body: tuple(self.value(body)),
            "__dict__": lambda body: {k: self.value(v) for k, v in body.items()},
            "__items__": self._items,
            "__float__": lambda body: _NON_FINITE[body],
            "__ndarray__": lambda body: self.tensors[body].numpy(),
            "__array__": self._string_array,
            "__dtype__": _dtype,
            "__device__": lambda body: torch.device(str(body)),
            "__random_state__": self._random_state,
            "__label_encoder__": self._label_encoder,
            "__table__": _table_encoder,
            "__csr__": self._csr_matrix,
            "__estimator__": _nested_estimator,
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

    def _items(self, body: Any) -> dict[Any, Any]:
        """A dict keyed by numbers (class labels), stored as its items."""
        scalars = (bool, int, float, str)
        if not isinstance(body, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in body
        ):
            raise InvalidModelFileError("Malformed dict items in the model file.")
        keys = [self.value(k) for k, _ in body]
        if not all(isinstance(k, scalars) for k in keys):
            raise InvalidModelFileError("A dict key in the model file is not a number.")
        return {k: self.value(v) for k, (_, v) in zip(keys, body, strict=True)}

    def _field(self, obj: Any) -> Any:
        """A parameter's or attribute's value: the one place for an estimator."""
        if isinstance(obj, dict) and list(obj) == ["__estimator__"]:
            return self.estimator(obj["__estimator__"])
        return self.value(obj)

    def estimator(self, record: dict[str, Any]) -> Any:
        """A new estimator from its record (fitted if the record has state).

        Its parameters pass the estimator's own constraints before anything
        is built; its fitted attributes are those :func:`save` writes.
        """
        cls = self._registry.get(record["class"])
        if cls is None:
            raise InvalidModelFileError(
                f"The model file names an unknown estimator {record['class']!r}; "
                f"this skvae knows {sorted(self._registry)}."
            )
        for part in ("params", "attributes"):  # JSON objects, as save writes
            if not isinstance(record[part], dict):
                raise InvalidModelFileError(
                    f"The model file's {record['class']} {part} are not a mapping "
                    f"of names to values (got {type(record[part]).__name__})."
                )
        params = {k: self._field(v) for k, v in record["params"].items()}
        removed = _REMOVED_PARAMS.get(cls.__name__, {})
        for key in set(params) & set(removed):
            if params[key] == removed[key]:
                del params[key]
        unknown = set(params) - set(cls().get_params(deep=False))
        if unknown:
            why = (
                f"the file was written by skvae {self.version}, this is skvae "
                f"{__version__}"
                if self.version != __version__
                else "the file was edited (written by this version of skvae, "
                "its parameters are another class's)"
            )
            raise InvalidModelFileError(
                f"{cls.__name__} has no parameters {sorted(unknown)}: {why}."
            )
        est = cls(**params)
        _check_params(est)
        for key, value in record["attributes"].items():
            _check_attribute_name(cls, key)
            setattr(est, key, self._field(value))
        if record["module"] is not None:
            self._rebuild_module(est, record["module"])
        if record["attributes"]:  # fitted: what its methods read is there
            lacking = [a for a in _needed_attributes(est) if a not in vars(est)]
            if lacking:
                record_of = " (its weights' record)" if lacking[0] == "module_" else ""
                raise InvalidModelFileError(
                    f"The model file's fitted {cls.__name__} has no {lacking[0]}"
                    f"{record_of}: the file was edited."
                )
        _check_attributes(est)
        return est

    def _rebuild_module(self, est: Any, saved: dict[str, Any]) -> None:
        """Build ``module_`` as fit does, then copy the saved weights in.

        The sizes are checked first: the build's input rows against the
        saved tensors, then the module built on the meta device (no memory)
        against the saved tensors' names and shapes.
        """
        prefix = saved["prefix"]
        if not isinstance(prefix, str):
            raise InvalidModelFileError("The model file's module prefix is not text.")
        layout = self.value(saved["layout"])
        keys = [k for k in self.tensors if k.startswith(prefix)]
        if not keys or self._used.intersection(keys):
            raise InvalidModelFileError(
                f"The model file's module {prefix!r} has no weights of its own."
            )
        self._used.update(keys)
        state = {k[len(prefix) :]: self.tensors[k] for k in keys}
        _check_fitted(est, state)
        _check_layout(layout)
        with torch.device("meta"):
            shadow = _build_like_fit(est, state, layout)
        _check_shapes(shadow.state_dict(), state)
        del shadow
        module = _build_like_fit(est, state, layout)
        _restore_layout(module, layout)
        module.load_state_dict(state, strict=True)
        est._attach_module(module)

    def _string_array(self, body: dict[str, Any]) -> np.ndarray:
        """A str/object array; its bytes count against the header's length."""
        dtype = np.dtype(str(body["dtype"]))
        if dtype.kind not in "UO":
            raise InvalidModelFileError(f"Unexpected array dtype {dtype}.")
        data, shape = body["data"], body["shape"]
        if not (
            isinstance(data, list)
            and isinstance(shape, list)
            and len(shape) <= 32
            and all(type(n) is int and n >= 0 for n in shape)
            and math.prod(shape) == len(data)
        ):
            raise InvalidModelFileError(
                "The model file holds a string array whose shape does not match "
                "its data."
            )
        self.string_budget -= dtype.itemsize * len(data)
        if self.string_budget < 0:
            raise InvalidModelFileError(
                f"The model file holds string arrays (the last of dtype {dtype}) "
                "larger than its header can hold: it was edited."
            )
        values = [_string_array_item(v) for v in data]
        out = np.empty(len(data), dtype=dtype)
        out[:] = values
        return out.reshape(shape)

    def _random_state(self, body: Any) -> np.random.RandomState:
        rs = np.random.RandomState()
        rs.set_state(tuple(self.value(body)))
        return rs

    def _csr_matrix(self, body: Any) -> Any:
        """A CSR matrix, its structure checked as ``fit`` checks sparse input."""
        from skvae._data import check_sparse

        try:
            shape = tuple(body["shape"])
            if len(shape) != 2 or not all(_is_int(n) and n >= 0 for n in shape):
                raise ValueError("its shape is not two sizes")
            arrays = [self.value(body[k]) for k in ("data", "indices", "indptr")]
            if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in arrays):
                raise ValueError("its parts are not 1-D arrays")
            data, indices, indptr = arrays
            if data.dtype.kind != "f" or indices.dtype.kind not in "iu":
                raise ValueError("its parts have the wrong dtypes")
            if indices.size != data.size or indptr.size != shape[0] + 1:
                raise ValueError("its parts do not match its shape")
            matrix = sp.csr_matrix((data, indices, indptr), shape=shape)
            check_sparse(matrix)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidModelFileError(
                f"The model file's sparse matrix is not one skvae writes: {exc}"
            ) from exc
        return matrix

    def _label_encoder(self, body: Any) -> LabelEncoder:
        encoder = LabelEncoder()
        encoder.classes_ = self.value(body)
        return encoder


def _table_encoder(body: Any) -> TableEncoder:
    try:
        return TableEncoder.from_record(body)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidModelFileError(
            f"The model file's table encoder is not one skvae writes: {exc}"
        ) from exc


def _nested_estimator(body: Any) -> Any:
    raise InvalidModelFileError(
        "The model file holds an estimator where only a parameter or fitted "
        "attribute can hold one."
    )


def _string_array_item(v: Any) -> Any:
    if isinstance(v, dict) and list(v) == ["__float__"]:
        return _NON_FINITE[v["__float__"]]
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    raise InvalidModelFileError(
        f"The model file holds a string array with a {type(v).__name__} in it."
    )


def _dtype(body: Any) -> np.dtype:
    dtype = np.dtype(str(body))
    if dtype.kind not in "biufU":
        raise InvalidModelFileError(f"Unexpected dtype {dtype}.")
    return dtype


def _check_attribute_name(cls: type, key: str) -> None:
    """Fitted attributes only: never a method, property or dunder of the class.

    Public ones end with ``_``; private ones are those :func:`save` writes.
    """
    if not (
        isinstance(key, str)
        and key.isidentifier()
        and not _is_tag(key)
        and not hasattr(cls, key)
        and key not in _NOT_SAVED
        and (key in _PRIVATE_SAVED or (key.endswith("_") and key[0] != "_"))
    ):
        raise InvalidModelFileError(f"Unexpected attribute {key!r} in the model file.")


def _check_params(est: Any) -> None:
    """The estimator's own constraints on its parameters, as ``fit`` checks them.

    The checks that span several parameters (``_check_params``) run on a
    zero-stride row of zeros: the width is ``n_features_in_`` when fitted,
    else the one ``input_shape`` implies.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        est._validate_params()
        if getattr(est, "callbacks", None):
            raise ValueError(
                "callbacks=... (save never stores callbacks: they are code)"
            )
        check = getattr(est, "_check_params", None)
        if check is None:
            return
        n_features = _model_width(est)
        if n_features is None:
            shape = getattr(est, "input_shape", None)
            n_features = 1 if shape is None else math.prod(int(n) for n in shape)
        if type(n_features) is not int or not 1 <= n_features <= 2**31:
            raise ValueError(f"n_features_in_={n_features!r} is not a width.")
        with warnings.catch_warnings():  # warnings of a fit's data (WAE's one
            warnings.simplefilter("ignore")  # row a batch) say nothing here
            check(np.broadcast_to(np.zeros((1, 1)), (1, n_features)))
    except (InvalidParameterError, ValueError, TypeError) as exc:
        raise InvalidModelFileError(
            f"The model file's {type(est).__name__} has parameters it refuses: {exc}"
        ) from exc


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, (float, np.floating))) and not math.isnan(v)


def _is_sizes(v: Any) -> bool:
    """A tuple of positive ints, or (VQVAE2's code maps) a tuple of those."""
    return isinstance(v, tuple) and all(
        (_is_int(n) and n >= 1) or (isinstance(n, tuple) and _is_sizes(n)) for n in v
    )


def _is_power_of_two(v: Any) -> bool:
    return _is_real(v) and v > 0 and math.isfinite(v) and math.frexp(v)[0] == 0.5


def _is_floats(v: Any, ndim: int) -> bool:
    return (
        isinstance(v, np.ndarray)
        and v.dtype.kind == "f"
        and v.ndim == ndim
        and bool(np.isfinite(v).all())
    )


# What each fitted attribute that ``save`` writes must be, to be used.
_ATTRIBUTE_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "n_features_in_": ("a positive int", lambda v: _is_int(v) and v >= 1),
    "n_iter_": ("a count", lambda v: _is_int(v) and v >= 0),
    "_fitted_neighbors": ("a count", lambda v: _is_int(v) and v >= 0),
    "_frame_labels": (
        "a list of integers",
        lambda v: v is None or (isinstance(v, list) and all(_is_int(i) for i in v)),
    ),
    "best_loss_": ("a number", lambda v: _is_real(v) or v is None),
    "offset_": ("a number", _is_real),
    "history_": ("a list", lambda v: isinstance(v, list)),
    "loss_curve_": ("a list", lambda v: isinstance(v, list)),
    "pretrain_history_": ("a list", lambda v: isinstance(v, list)),
    "prior_history_": ("a list", lambda v: isinstance(v, list)),
    "_prior_histories": ("a list", lambda v: isinstance(v, list)),
    "column_types_": ("a list", lambda v: isinstance(v, list)),
    "classes_": (
        "a 1-D array of at least one label",
        lambda v: isinstance(v, np.ndarray) and v.ndim == 1 and v.size >= 1,
    ),
    "feature_names_in_": (
        "a 1-D array",
        lambda v: isinstance(v, np.ndarray) and v.ndim == 1,
    ),
    "class_prior_": ("a 1-D float array", lambda v: _is_floats(v, 1)),
    "_latent_mean": ("a 1-D float array", lambda v: _is_floats(v, 1)),
    "_latent_precision": ("a 2-D float array", lambda v: _is_floats(v, 2)),
    "_shift": ("a 1-D float array", lambda v: _is_floats(v, 1)),
    "_scale_": ("a 1-D float array", lambda v: _is_floats(v, 1)),
    "_constant": (  # NaN where a column is not of one value
        "a 1-D float array",
        lambda v: (
            isinstance(v, np.ndarray)
            and v.dtype.kind == "f"
            and v.ndim == 1
            and not np.isinf(v).any()
        ),
    ),
    "observed_range_": (  # (-inf, inf) where a column was seen at weight 0 only
        "a float array of (low, high) rows",
        lambda v: (
            isinstance(v, np.ndarray)
            and v.dtype.kind == "f"
            and v.ndim == 2
            and v.shape[1] == 2
            and not np.isnan(v).any()
            and not np.isposinf(v[:, 0]).any()
            and not np.isneginf(v[:, 1]).any()
            and bool(np.all(v[:, 0] <= v[:, 1]))
        ),
    ),
    "_label_encoder": (
        "a fitted LabelEncoder",
        lambda v: isinstance(v, LabelEncoder) and hasattr(v, "classes_"),
    ),
    "code_shape_": ("a tuple of sizes (or of such tuples)", lambda v: _is_sizes(v)),
    "table_encoder_": ("a table encoder", lambda v: isinstance(v, TableEncoder)),
    "neighbor_rows_": (
        "a 2-D float array or CSR matrix",
        lambda v: v is None or (sp.issparse(v) and v.ndim == 2) or _is_floats(v, 2),
    ),
    "subspace_mean_": ("a 1-D float array", lambda v: v is None or _is_floats(v, 1)),
    "subspace_components_": (
        "a 2-D float array",
        lambda v: v is None or (_is_floats(v, 2) and v.shape[0] >= 1),
    ),
    "subspace_noise_": (
        "a positive number",
        lambda v: v is None or (_is_real(v) and v > 0),
    ),
    "input_offset_": ("a 1-D float array", lambda v: v is None or _is_floats(v, 1)),
    "input_scale_": (
        "a positive power of two",
        lambda v: v is None or _is_power_of_two(v),
    ),
    "subspace_scale_": (
        "a positive power of two",
        lambda v: v is None or _is_power_of_two(v),
    ),
    "subspace_keys_": (
        "a 2-D int64 array of six (or four, or two) columns",
        lambda v: (
            v is None
            or (
                isinstance(v, np.ndarray)
                and v.dtype == np.int64
                and v.ndim == 2
                and v.shape[1] in (2, 4, 6)
            )
        ),
    ),
    "subspace_first_": (
        "a sorted 1-D float array",
        lambda v: v is None or (_is_floats(v, 1) and bool(np.all(np.diff(v) >= 0))),
    ),
    "subspace_rest_": ("a 1-D float array", lambda v: v is None or _is_floats(v, 1)),
    "score_scales_": (
        "a dict of score parts' (median, spread > 0)",
        lambda v: (
            isinstance(v, dict)
            and all(
                isinstance(k, str)
                and isinstance(p, list)
                and len(p) == 2
                and all(isinstance(x, float) and math.isfinite(x) for x in p)
                and p[1] > 0
                for k, p in v.items()
            )
        ),
    ),
    "_sklearn_output_config": (
        "a set_output choice",
        lambda v: (
            isinstance(v, dict)
            and set(v) <= {"transform"}
            and all(c in ("default", "pandas", "polars") for c in v.values())
        ),
    ),
}


def _model_width(est: Any) -> Any:
    """Width of the rows the model reads: ``n_features_in_``, or a table's encoding."""
    encoder = vars(est).get("table_encoder_")
    if isinstance(encoder, TableEncoder):
        return encoder.n_encoded_
    return getattr(est, "n_features_in_", None)


def _needed_attributes(est: Any) -> tuple[str, ...]:
    """The fitted attributes that a fitted ``est``'s methods cannot do without."""
    from skvae import BaseVAE, VAEImputer, VAEOutlierDetector, VAEOverSampler

    if isinstance(est, BaseVAE):
        return ("module_", "n_features_in_")
    if isinstance(est, VAEOutlierDetector):
        return ("estimator_", "offset_", "n_features_in_")
    if isinstance(est, VAEImputer):
        return ("estimator_", "gaussian_weights_", "gaussian_columns_")
    if isinstance(est, VAEOverSampler):
        return ("estimator_",)
    return ()


def _check_attributes(est: Any) -> None:
    """Each fitted attribute of the kind a fit sets, and consistent with the rest."""
    fitted = vars(est)
    name = type(est).__name__
    for key, value in fitted.items():
        what, ok = _ATTRIBUTE_CHECKS.get(key, (None, None))
        if ok is not None and not ok(value):
            raise InvalidModelFileError(f"The model file's {name}.{key} is not {what}.")
    width = fitted.get("n_features_in_")
    encoder = fitted.get("table_encoder_")
    if encoder is not None and len(encoder.columns_) != width:
        raise InvalidModelFileError(
            f"The model file's {name}.table_encoder_ has {len(encoder.columns_)} "
            f"columns, not {width}."
        )
    model_width = _model_width(est)
    inner = fitted.get("estimator_")
    # a detector's default model may read the rows' principal components
    components = fitted.get("subspace_components_")
    subspace = (fitted.get("subspace_mean_"), components, fitted.get("subspace_noise_"))
    if any(v is not None for v in subspace) and (
        any(v is None for v in subspace)
        or components.shape[1] != model_width
        or subspace[0].shape != (model_width,)
    ):
        raise InvalidModelFileError(
            f"The model file's {name}.subspace_ attributes do not match its width."
        )
    # the rows the subspace was found on: a fingerprint, a coordinate and a
    # residual's log-density each, or none (or no subspace)
    names = ("subspace_keys_", "subspace_first_", "subspace_rest_")
    known = [fitted.get(k) for k in names]
    if any(v is not None for v in known) and (
        components is None
        or any(v is None for v in known)
        or not len(known[0]) == len(known[1]) == len(known[2])
    ):
        raise InvalidModelFileError(
            f"The model file's {name}.subspace_keys_, subspace_first_ and "
            "subspace_rest_ do not match each other or its subspace."
        )
    offset, scale = fitted.get("input_offset_"), fitted.get("input_scale_")
    if (offset is None) != (scale is None) or (
        offset is not None
        and (components is not None or offset.shape != (model_width,))
    ):
        raise InvalidModelFileError(
            f"The model file's {name}.input_offset_ and input_scale_ do not "
            "match each other or its width."
        )
    if components is None and fitted.get("subspace_scale_") is not None:
        raise InvalidModelFileError(
            f"The model file's {name}.subspace_scale_ has no subspace to scale."
        )
    inner_width = model_width if components is None else components.shape[0]
    if "estimator_" in fitted and not (
        hasattr(inner, "module_") and vars(inner).get("n_features_in_") == inner_width
    ):
        raise InvalidModelFileError(
            f"The model file's {name}.estimator_ is not a fitted model of its width."
        )
    rows = fitted.get("neighbor_rows_")
    # the distance part measures rows as the model reads them, or as given
    # where the model reads their principal components
    if rows is not None and (
        rows.shape[1]
        != (model_width if components is not None else _model_width(inner))
        or rows.shape[0] < 2
    ):
        raise InvalidModelFileError(
            f"The model file's {name}.neighbor_rows_ do not match its model."
        )
    sizes = {
        "feature_names_in_": width,
        "_frame_labels": width,
        "_shift": model_width,
        "_scale_": model_width,
        "_constant": model_width,
        "observed_range_": model_width,
        "class_prior_": len(fitted.get("classes_", ())) or None,
        "_label_encoder": len(fitted.get("classes_", ())) or None,
    }
    for key, size in sizes.items():
        value = fitted.get(key)
        if key == "_label_encoder" and value is not None:
            value = value.classes_
        if value is not None and size is not None and len(value) != size:
            raise InvalidModelFileError(
                f"The model file's {name}.{key} has {len(value)} entries, not {size}."
            )
    if "_latent_mean" in fitted or "_latent_precision" in fitted:
        mean, precision = fitted.get("_latent_mean"), fitted.get("_latent_precision")
        latent = getattr(inner, "n_components", None)
        n = len(mean) if mean is not None else -1
        if (
            precision is None
            or precision.shape != (n, n)
            or (_is_int(latent) and latent != n)
        ):
            raise InvalidModelFileError(
                f"The model file's {name} latent mean and precision do not match."
            )


def _check_fitted(est: Any, state: dict[str, torch.Tensor]) -> None:
    """The fitted attributes a rebuild reads, and the rows x width it allocates.

    ``n_features_in_`` (with the VampPrior's rows) must be backed by the
    saved weights: a model's first layer holds at least its width.
    """
    n_features, seed = _model_width(est), vars(est).get("_seed")
    dtype = vars(est).get("_dtype")
    if type(n_features) is not int or n_features < 1:
        raise InvalidModelFileError(f"n_features_in_={n_features!r} is not a width.")
    if type(seed) is not int or not 0 <= seed < 2**64:
        raise InvalidModelFileError(f"_seed={seed!r} is not a seed.")
    if not isinstance(dtype, np.dtype) or dtype not in _DATA_DTYPES:
        raise InvalidModelFileError(f"_dtype={dtype!r} is not float32 or float64.")
    weights = sum(t.numel() for t in state.values())
    cells = _build_rows(state) * n_features
    if cells > max(_MIN_BUILD_CELLS, _BUILD_CELLS_PER_WEIGHT * weights):
        raise InvalidModelFileError(
            f"n_features_in_={n_features} is not backed by the saved weights "
            f"({weights} values): the file was edited."
        )
    _check_params(est)  # now with the fitted width
    for key, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise InvalidModelFileError(
                f"The saved weight {key!r} holds NaN or infinity; a fitted model "
                "never does: the file was edited or corrupted."
            )


def _check_shapes(built: dict[str, Any], state: dict[str, torch.Tensor]) -> None:
    """The module the parameters build has the saved tensors' names and shapes."""
    if set(built) != set(state):
        missing, unexpected = (
            sorted(set(built) - set(state)),
            sorted(set(state) - set(built)),
        )
        raise InvalidModelFileError(
            "The saved weights do not match the network the saved parameters "
            f"build (missing {missing[:5]}, unexpected {unexpected[:5]})."
        )
    for key, tensor in built.items():
        if tuple(tensor.shape) != tuple(state[key].shape):
            raise InvalidModelFileError(
                f"The saved weight {key!r} has shape {tuple(state[key].shape)}, "
                f"but the saved parameters build {tuple(tensor.shape)}."
            )


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
    n_rows = _build_rows(state)
    mixed = [n for n, e in layout.items() if e["class"] == "MixedLikelihood"]
    likelihood = None
    if mixed:  # the column types were read off the training data
        blocks = layout[mixed[0]]["attributes"]
        likelihood = _mixed_likelihood(est, blocks, int(_model_width(est)))
        # VaDE's shared variance of a table's Gaussian columns (files written
        # before it shared them keep a variance per column)
        if getattr(est, "shared_variance", False):
            from skvae.models.vade import _shared
            from skvae.nn.likelihoods import GaussianLikelihood

            for i, block in enumerate(likelihood.blocks):
                saved = layout.get(f"{mixed[0]}.blocks.{i}", {}).get("class")
                if type(block) is GaussianLikelihood and saved == (
                    "SharedVarianceGaussian"
                ):
                    likelihood.blocks[i] = _shared(block)
    return est._rebuild_module(n_rows, likelihood)


def _build_rows(state: dict[str, torch.Tensor]) -> int:
    """Rows of zeros a rebuild takes: 2, or the VampPrior's pseudo-inputs."""
    return max(
        [2] + [int(t.shape[0]) for k, t in state.items() if k.endswith("pseudo_inputs")]
    )


def _mixed_likelihood(est: Any, blocks: dict[str, Any], n_features: int) -> Any:
    """The MixedLikelihood of the saved column blocks (floors restored later)."""
    from skvae.nn.likelihoods import MixedLikelihood, make_likelihood

    missing = est._masks_missing()
    parts = [
        (make_likelihood(kind, len(cols), missing=missing), [int(c) for c in cols])
        for kind, cols in zip(blocks["kinds"], blocks["columns"], strict=True)
    ]
    return MixedLikelihood(parts, n_features)


def _check_layout(layout: Any) -> None:
    """The saved layout's form, and its data-derived values in their range."""
    if not isinstance(layout, dict):
        raise InvalidModelFileError("The model file's network layout is not a table.")
    for name, saved in layout.items():
        if not (
            isinstance(saved, dict)
            and isinstance(saved.get("class"), str)
            and isinstance(saved.get("attributes"), dict)
        ):
            raise InvalidModelFileError(
                f"The model file's layout entry {name!r} is not valid."
            )
        for key in _LAYOUT_FROM_DATA.get(saved["class"], ()):
            value = saved["attributes"].get(key, 1.0)
            if not (
                type(value) is float
                and math.isfinite(value)
                and (value > 0 if key == "min_variance" else value >= 0)
            ):
                raise InvalidModelFileError(
                    f"The model file's {saved['class']}.{key}={value!r} at "
                    f"{name!r} is out of range."
                )


def _restore_layout(module: torch.nn.Module, layout: dict[str, Any]) -> None:
    """Give each submodule its saved data-derived values (e.g. variance floors).

    Only the values in :data:`_LAYOUT_FROM_DATA` and the train/eval mode are
    taken from the file; every other saved setting must be the one the
    parameters build, else the file is refused.
    """
    modules = dict(module.named_modules())
    for name, saved in layout.items():
        sub = modules.get(name)
        if sub is None or type(sub).__name__ != saved["class"]:
            raise InvalidModelFileError(
                f"The saved network has a {saved['class']} at {name!r}, which this "
                "skvae version does not build from the saved parameters."
            )
        from_data = _LAYOUT_FROM_DATA.get(saved["class"], frozenset())
        for key, value in saved["attributes"].items():
            current = vars(sub).get(key)
            if key not in vars(sub) or key.startswith("_") or current == value:
                continue
            if key == "training" and type(value) is bool:
                sub.training = value
            elif key in from_data and type(current) is type(value):
                setattr(sub, key, value)
            else:
                raise InvalidModelFileError(
                    f"The saved network's {saved['class']} at {name!r} has "
                    f"{key}={value!r}, but the saved parameters build "
                    f"{key}={current!r}: the file was edited."
                )
