"""Hostile model files: ``skvae.load`` bounds what a file can make it do (issue 21).

A file whose hashes were rewritten is data the attacker controls. ``load``
must check the signature before reading the rest, bound every size by what
the file holds (header, string arrays, widths), validate the parameters with
the estimator's own constraints, take from the saved network layout only the
values a fit derives from data, and refuse non-regular files unread.
"""

import copy
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skvae
from skvae.persistence import InvalidModelFileError, load, save

X = np.random.RandomState(0).normal(size=(30, 4))
X_MIXED = np.c_[X[:, :2], np.random.RandomState(1).randint(0, 2, (30, 1))]
TINY = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=1, random_state=0)
PREAMBLE = struct.Struct("<8sIQ32s")


def _fit(est, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data)


def _bytes(est):
    buffer = io.BytesIO()
    save(est, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def vae_file():
    return _bytes(_fit(skvae.VAE(**TINY), X))


def _split(data):
    n = PREAMBLE.unpack_from(data)[2]
    return json.loads(data[52 : 52 + n]), data[52 + n :]


def _join(header, blob, *, rehash_blob=False):
    """A file of ``header`` and ``blob`` with valid checksums (as an attacker)."""
    if rehash_blob:
        header["weights"] = {
            "nbytes": len(blob),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    text = json.dumps(header).encode()
    magic = b"\x89SKVAE\r\n"
    # the preamble states the header's version, as save writes it
    version = header.get("format_version") if isinstance(header, dict) else None
    version = version if type(version) is int and 0 <= version < 2**32 else 2
    return PREAMBLE.pack(magic, version, len(text), hashlib.sha256(text).digest()) + (
        text + blob
    )


def _edit(data, change):
    header, blob = _split(data)
    change(header)
    return _join(header, blob)


def _refused(data, match=None):
    with pytest.raises(InvalidModelFileError, match=match):
        load(io.BytesIO(data))


class _Source(io.RawIOBase):
    """A non-seekable stream: ``prefix``, then zeros without end; counts reads."""

    def __init__(self, prefix, limit):
        self.prefix, self.limit, self.given = prefix, limit, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = len(buffer)
        if self.given + n > self.limit:
            raise AssertionError(f"load asked for {self.given + n} bytes")
        chunk = self.prefix[self.given : self.given + n]
        buffer[: len(chunk)] = chunk
        buffer[len(chunk) : n] = bytes(n - len(chunk))
        self.given += n
        return n


# ------------------------------------------------------------ the container
def test_the_signature_is_checked_before_the_rest_is_read():
    stream = _Source(b"PK\x03\x04 not a model", limit=4096)
    with pytest.raises(InvalidModelFileError, match="Not a skvae model file"):
        load(stream)
    assert stream.given <= 4096


def test_a_declared_header_length_is_capped_not_allocated(vae_file):
    for n_header in (2**40, 2**63):
        preamble = PREAMBLE.pack(vae_file[:8], 1, n_header, bytes(32))
        stream = _Source(preamble, limit=2**20)
        with pytest.raises(InvalidModelFileError, match="header"):
            load(stream)


def test_a_file_whose_size_does_not_match_its_preamble_is_refused_unread(
    vae_file, tmp_path
):
    header, blob = _split(vae_file)
    path = tmp_path / "model.skvae"
    path.write_bytes(vae_file + bytes(2**20))  # trailing megabyte
    with pytest.raises(InvalidModelFileError, match="the file has"):
        load(path)
    short = _join(header, blob)[:-10]
    with pytest.raises(InvalidModelFileError, match="truncated"):
        load(io.BytesIO(short))
    # a seekable stream is sized before the weights are read
    stream = io.BytesIO(vae_file + bytes(2**20))
    with pytest.raises(InvalidModelFileError, match="the file has"):
        load(stream)
    assert stream.tell() < len(vae_file)


def test_non_regular_files_are_refused_quickly(tmp_path):
    directory = tmp_path / "folder"
    directory.mkdir()
    with pytest.raises(InvalidModelFileError, match="a directory"):
        load(directory)
    if os.path.exists("/dev/zero"):
        link = tmp_path / "zero.skvae"
        link.symlink_to("/dev/zero")
        with pytest.raises(InvalidModelFileError, match="not a regular file"):
            load(link)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.skvae"
        os.mkfifo(fifo)
        writer = threading.Thread(target=_feed_fifo, args=(fifo, 2.0), daemon=True)
        writer.start()
        start = time.monotonic()
        with pytest.raises(InvalidModelFileError, match="not a regular file"):
            load(fifo)
        assert time.monotonic() - start < 1.0, "load waited on the FIFO"
        writer.join()
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.skvae")


def _feed_fifo(path, after):
    """Open the FIFO for writing after ``after`` s (unblocks an old ``load``)."""
    deadline = time.monotonic() + after + 1.0
    time.sleep(after)
    while time.monotonic() < deadline:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader (anymore): nothing to unblock
            time.sleep(0.05)
            continue
        os.write(fd, b"junk")
        os.close(fd)
        return


# --------------------------------------------------------------- the sizes
def test_string_arrays_are_bounded_by_the_header(vae_file):
    def wide(header):  # a few kB declaring 20 x 4 MB of text
        header["model"]["attributes"]["junk_"] = {
            "__array__": {"dtype": "<U1000000", "shape": [20], "data": ["a"] * 20}
        }

    _refused(_edit(vae_file, wide), "larger than its header")

    def many(header):  # each small, together far more than the header
        for i in range(50):
            header["model"]["attributes"][f"junk{i}_"] = {
                "__array__": {"dtype": "<U4000", "shape": [4], "data": ["a"] * 4}
            }

    _refused(_edit(vae_file, many), "larger than its header")

    def shape(header):
        header["model"]["attributes"]["junk_"] = {
            "__array__": {"dtype": "<U1", "shape": [2**40], "data": ["a"]}
        }

    _refused(_edit(vae_file, shape), "shape does not match")


@pytest.fixture
def real_builds(monkeypatch):
    """The networks built on a real device (not "meta") while loading."""
    built = []
    original = skvae.VAE._rebuild_module

    def spy(self, n_rows, likelihood):
        device = torch.empty(0).device.type
        if device != "meta":
            built.append((n_rows, int(self.n_features_in_), self.hidden_layer_sizes))
        return original(self, n_rows, likelihood)

    monkeypatch.setattr(skvae.VAE, "_rebuild_module", spy)
    return built


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda h: h["model"]["params"].update(
                {"hidden_layer_sizes": {"__tuple__": [3000, 3000]}}
            ),
            "do not match",
        ),
        (
            lambda h: h["model"]["params"].update(
                {"hidden_layer_sizes": {"__tuple__": [20000]}}
            ),
            "shape",
        ),
        (lambda h: h["model"]["attributes"].update({"n_features_in_": 10**7}), "back"),
        (lambda h: h["model"]["attributes"].update({"n_features_in_": 400}), "shape"),
        (
            lambda h: h["model"]["attributes"].update(
                {"_dtype": {"__dtype__": "<U100000"}}
            ),
            "float32",
        ),
    ],
    ids=["layers", "widths", "huge-width", "width", "dtype"],
)
def test_network_sizes_are_checked_before_a_real_build(
    vae_file, real_builds, change, message
):
    _refused(_edit(vae_file, change), message)
    assert real_builds == []


def test_weights_that_are_not_finite_are_refused(vae_file):
    from safetensors.torch import load as load_tensors
    from safetensors.torch import save as save_tensors

    header, blob = _split(vae_file)
    tensors = load_tensors(blob)
    key = next(k for k in tensors if k.endswith("weight"))
    tensors[key] = torch.full_like(tensors[key], float("nan"))
    _refused(_join(header, save_tensors(tensors), rehash_blob=True), "NaN")


# ---------------------------------------------------------- the parameters
@pytest.mark.parametrize(
    "params",
    [
        {"beta": -5},
        {"activation": "nope"},
        {"callbacks": [{"on_epoch_end": 1}]},
        {"hidden_layer_sizes": {"__tuple__": [0]}},
        {"input_shape": {"__tuple__": [0, 3, 3]}},
    ],
    ids=["beta", "activation", "callbacks", "hidden-zero", "input-shape"],
)
@pytest.mark.parametrize("fitted", [True, False], ids=["fitted", "unfitted"])
def test_parameters_pass_the_estimators_constraints(vae_file, params, fitted):
    data = vae_file if fitted else _bytes(skvae.VAE(**TINY))
    _refused(_edit(data, lambda h: h["model"]["params"].update(params)), "refuses")


def test_nested_estimators_are_validated_too():
    data = _bytes(skvae.VAEOutlierDetector(skvae.VAE(**TINY)))

    def bad(header):
        header["model"]["params"]["estimator"]["__estimator__"]["params"]["beta"] = -1

    _refused(_edit(data, bad), "refuses")

    def deep(header):  # an estimator where no parameter takes one
        header["model"]["params"]["contamination"] = [
            copy.deepcopy(header["model"]["params"]["estimator"])
        ]

    _refused(_edit(data, deep), "only a parameter")


@pytest.mark.parametrize(
    "name", ["_extra_params", "_optimizer", "module_", "_private", "_device"]
)
def test_attributes_that_save_never_writes_are_refused(vae_file, name):
    def inject(header):
        header["model"]["attributes"][name] = {"__tuple__": ["fit", "module_"]}

    _refused(_edit(vae_file, inject), "Unexpected attribute")


def test_a_loaded_model_keeps_its_parameters(vae_file):
    model = load(io.BytesIO(vae_file))
    assert set(model.get_params()) == set(skvae.VAE().get_params())


# -------------------------------------------------------------- the layout
@pytest.mark.parametrize(
    ("module", "key", "value"),
    [
        ("encoder.0", "in_features", 400),
        ("", "n_iwae_samples", 10**6),
        ("likelihood", "missing", True),
        ("likelihood", "min_variance", 0.0),
        ("likelihood", "min_variance", {"__float__": "nan"}),
    ],
)
def test_the_layout_gives_only_data_derived_values(vae_file, module, key, value):
    def change(header):
        header["model"]["module"]["layout"][module]["attributes"][key] = value

    _refused(_edit(vae_file, change))


def test_data_derived_layout_values_are_restored(vae_file):
    def floor(header):
        header["model"]["module"]["layout"]["likelihood"]["attributes"][
            "min_variance"
        ] = 0.25

    model = load(io.BytesIO(_edit(vae_file, floor)))
    assert model.module_.likelihood.min_variance == 0.25


def test_a_module_cannot_reuse_the_weights_of_another():
    data = _bytes(_fit(skvae.VAEOutlierDetector(skvae.VAE(**TINY)), X))

    def twice(header):  # a second fitted copy of the same estimator
        header["model"]["attributes"]["copy_"] = copy.deepcopy(
            header["model"]["attributes"]["estimator_"]
        )

    _refused(_edit(data, twice), "no weights of its own")


# --------------------------------------------------------------- the fuzz
_WORKER = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    import skvae
    from skvae.persistence import InvalidModelFileError

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024

    # a hard stop well above the bound, so that a runaway load fails fast
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = status("VmSize:") + 1536 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    def out_of_memory(exc):
        while exc is not None:
            if isinstance(exc, MemoryError) or "allocate" in str(exc):
                return True
            exc = exc.__cause__ or exc.__context__
        return False

    def use(model, data):
        try:  # a file of an unfitted model (all its attributes gone) is one
            check_is_fitted(model)
        except NotFittedError:
            return None
        for method in ("transform", "score_samples", "decision_function"):
            if hasattr(model, method):
                out = np.asarray(getattr(model, method)(data))
                if out.shape[0] != 3 or np.isnan(out).any():
                    return f"{method} gave shape {out.shape}, NaN {np.isnan(out).any()}"
        return None

    print("ready", flush=True)
    for line in sys.stdin:
        path, rows = json.loads(line)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS (VmHWM) to the current RSS
        base = status("VmRSS:")
        reply = {"outcome": "loaded", "detail": ""}
        try:
            model = skvae.load(path)
        except InvalidModelFileError as exc:
            reply = {"outcome": "refused", "detail": str(exc)[:300]}
            if out_of_memory(exc):
                reply["outcome"] = "memory"
        except BaseException as exc:
            reply = {"outcome": "error", "detail": f"{type(exc).__name__}: {exc}"}
        reply["peak_mb"] = (status("VmHWM:") - base) / 2**20
        if reply["outcome"] == "loaded" and rows is not None:
            try:
                problem = use(model, np.asarray(rows, dtype=float))
            except BaseException as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                reply.update(outcome="unusable", detail=problem[:300])
        print(json.dumps(reply), flush=True)
    """
)


@pytest.fixture(scope="module")
def worker():
    """One subprocess that loads every fuzzed file, under a memory cap."""
    if not sys.platform.startswith("linux"):
        pytest.skip("measures memory through /proc (Linux)")
    env = dict(os.environ, SKVAE_NUM_THREADS="1", OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, "-c", _WORKER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout.readline().strip() == "ready"

    def ask(path, rows=None):
        """Load ``path``; then, if ``rows`` are given, use the model on them."""
        process.stdin.write(json.dumps([str(path), rows]) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        assert line, "the loading process died"
        return json.loads(line)

    yield ask
    process.stdin.close()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def fuzz_files():
    """Small files (a VAE, a mixed likelihood, a detector) and data for each."""
    return [
        (_bytes(_fit(skvae.VAE(**TINY), X)), X[:3].tolist()),
        (
            _bytes(_fit(skvae.VAE(likelihood="auto", **TINY), X_MIXED)),
            X_MIXED[:3].tolist(),
        ),
        (
            _bytes(
                _fit(
                    skvae.VAEOutlierDetector(
                        skvae.VAE(**TINY), score_type="latent", n_importance_samples=2
                    ),
                    X,
                )
            ),
            X[:3].tolist(),
        ),
    ]


def _paths(node, path=()):
    """Every place in a JSON tree (dict keys and list items)."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


_HOSTILE = [
    {"__float__": "nan"},
    {"__float__": "inf"},
    {"__tuple__": [20000, 20000]},
    {"__tuple__": [1, 300, 300]},
    {"__array__": {"dtype": "<U100000000", "shape": [3], "data": ["a", "b", "c"]}},
    {"__array__": {"dtype": "<U8", "shape": [2**40], "data": ["a"]}},
    {"__dtype__": "<U100000000"},
    {"__dtype__": "int8"},
    {"__device__": "meta"},
    {"__ndarray__": "module_.encoder.0.weight"},
    {"__estimator__": {"class": "VAE", "params": {}, "attributes": {}, "module": None}},
    {"__random_state__": []},
    {"__label_encoder__": {"__float__": "nan"}},
    "relu",
    "nope",
    "<U400000000",
]
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 40),
    st.sampled_from([2**31, 2**63, 10**30, 10**7]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
    st.sampled_from(_HOSTILE),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)


@st.composite
def _mutants(draw, files):
    """A damaged or edited model file; the kind says how."""
    data, rows = files[draw(st.integers(0, len(files) - 1), label="file")]
    kind = draw(
        st.sampled_from(["bytes", "header-bytes", "json", "json", "inject", "weights"]),
        label="kind",
    )
    if kind == "bytes":  # no checksum rewritten: always refused
        damaged = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(damaged)))
            if draw(st.booleans()):
                damaged[i:i] = draw(st.binary(min_size=1, max_size=8))
            elif i < len(damaged):
                damaged[i] ^= draw(st.integers(1, 255))
        if bytes(damaged) == data:  # a byte flipped back
            kind = "intact"
        return kind, bytes(damaged), rows
    header, blob = _split(data)
    if kind == "header-bytes":  # JSON text damaged, checksum rewritten
        text = bytearray(json.dumps(header).encode())
        i = draw(st.integers(0, len(text) - 1))
        text[i] = draw(st.integers(32, 126))
        digest = hashlib.sha256(bytes(text)).digest()
        version = PREAMBLE.unpack_from(data)[1]
        preamble = PREAMBLE.pack(data[:8], version, len(text), digest)
        return kind, preamble + bytes(text) + blob, rows
    if kind == "weights":  # the weights damaged, their checksum rewritten
        damaged = bytearray(blob)
        start = 8 + struct.unpack_from("<Q", blob)[0]  # the tensors' bytes
        if draw(st.booleans(), label="in the safetensors header"):
            start = 0
        i = draw(st.integers(start, len(damaged) - 1))
        damaged[i] ^= draw(st.integers(1, 255))
        return kind, _join(header, bytes(damaged), rehash_blob=True), rows
    if kind == "inject":  # a fitted attribute that save never wrote
        name = draw(st.sampled_from(["junk_", "classes_", "_dtype", "offset_"]))
        header["model"]["attributes"][name] = draw(st.sampled_from(_HOSTILE[:9]))
        return kind, _join(header, blob), rows
    places = list(_paths(header["model"]))[1:]
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(places))
        node = _get(header["model"], path[:-1])
        if isinstance(node, (dict, list)) and _get(node, path[-1:]) is not _GONE:
            node[path[-1]] = draw(_VALUES, label="value")
    return kind, _join(header, blob), rows


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutated_files_load_into_working_models_or_are_refused(
    worker, fuzz_files, tmp_path_factory, data
):
    kind, mutant, rows = data.draw(_mutants(fuzz_files))
    path = tmp_path_factory.mktemp("fuzz") / "model.skvae"
    path.write_bytes(mutant)
    header_ints = [
        v
        for v in _numbers(mutant)
        if isinstance(v, int) and not isinstance(v, bool) and v > 10**4
    ]
    # a legal but expensive setting (n_importance_samples=2**31) is not load's
    # to refuse: such a model is only loaded, not used
    reply = worker(path, None if header_ints else rows)
    assert reply["outcome"] in ("loaded", "refused"), (kind, reply)
    assert reply["peak_mb"] < 64, (kind, reply)
    if kind == "bytes":
        assert reply["outcome"] == "refused", reply


def _numbers(data):
    """The numbers in a file's header, if it is JSON."""
    try:
        n = PREAMBLE.unpack_from(data)[2]
        header = json.loads(data[52 : 52 + n])
    except (struct.error, ValueError):
        return []
    model = header.get("model") if isinstance(header, dict) else None
    return [_get(model, path) for path in _paths(model)]


_GONE = object()


def _get(node, path):
    """The value at ``path`` in a JSON tree, or ``_GONE`` (an earlier edit)."""
    for step in path:
        present = (
            step in node
            if isinstance(node, dict)
            else isinstance(node, list) and isinstance(step, int) and step < len(node)
        )
        if present:
            node = node[step]
        else:
            return _GONE
    return node


def test_the_worker_sees_a_large_allocation(worker, tmp_path):
    """The memory measure works: a legal file with a 100 MB array is seen."""
    est = _fit(skvae.VAE(**TINY), X)
    est.junk_ = np.ones(25 * 2**20, dtype=np.float32)
    path = tmp_path / "big.skvae"
    save(est, path)
    reply = worker(path)
    assert reply["outcome"] == "loaded", reply
    assert reply["peak_mb"] > 64, reply


def test_a_record_whose_attributes_are_not_a_mapping_is_refused(tmp_path):
    # a detector's attributes edited to [] loaded as an unfitted detector
    # (a fuzzed file): the format's objects must be objects
    X = np.random.RandomState(0).normal(size=(40, 4))
    model = skvae.VAE(hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    det = _fit(skvae.VAEOutlierDetector(model, random_state=0), X)
    path = tmp_path / "det.skvae"
    save(det, path)
    header, blob = _split(path.read_bytes())
    for part in ("attributes", "params"):
        edited = copy.deepcopy(header)
        edited["model"][part] = []
        path.write_bytes(_join(edited, blob))
        with pytest.raises(InvalidModelFileError, match=f"VAEOutlierDetector {part}"):
            load(path)
    # no attributes at all: the file of an unfitted detector, as save writes
    header["model"]["attributes"] = {}
    path.write_bytes(_join(header, blob))
    assert not hasattr(load(path), "offset_")


def test_a_preamble_version_other_than_the_headers_is_refused(tmp_path):
    # the preamble's version is outside the header's checksum: a byte flipped
    # there (2 to 1, a version this skvae reads) let a damaged file load
    path = tmp_path / "m.skvae"
    save(_fit(skvae.VAE(hidden_layer_sizes=(8,), max_iter=1), np.eye(4)), path)
    data = bytearray(path.read_bytes())
    magic, version, n, digest = PREAMBLE.unpack_from(data)
    assert version == 2
    PREAMBLE.pack_into(data, 0, magic, 1, n, digest)
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidModelFileError, match="preamble says format version 1"):
        load(path)
