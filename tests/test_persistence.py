"""skvae.save / skvae.load: the safe one-file format (skvae/persistence.py)."""

import copy
import hashlib
import io
import json
import pickle
import struct
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal, assert_equal

import skvae
from skvae.persistence import FORMAT_VERSION, InvalidModelFileError, load, save

try:
    from skvae.models.hierarchical import HierarchicalVAE, LadderVAE
except ImportError:  # pragma: no cover - not in every version
    HierarchicalVAE = LadderVAE = None

RNG = np.random.RandomState(0)
X = RNG.normal(size=(30, 4))
Y = np.repeat(["a", "b", "c"], 10)
Y_SEMI = np.where(np.arange(30) % 3 == 0, Y, "-1")
X_MIXED = np.c_[
    10 * RNG.normal(size=30),  # a floor of 1e-3 x its variance, from the data
    RNG.randint(0, 2, 30),
    np.eye(3)[RNG.randint(0, 3, 30)],
    RNG.poisson(2, 30),
]
X_IMAGES = RNG.uniform(size=(20, 16))
X_HOLES = np.where(RNG.uniform(size=X_MIXED.shape) < 0.1, np.nan, X_MIXED)
TINY = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
SKIPPED = {"_optimizer", "_optimizer_state", "_device", "_extra_params", "module_"}


def _cases():
    vq = dict(n_codes=8, code_dim=4, prior_max_iter=1, **TINY)
    cases = [
        ("vae", lambda: skvae.VAE(n_components=2, **TINY), X, None),
        (
            "vae-vamp",
            lambda: skvae.VAE(n_components=2, prior="vamp", n_pseudo_inputs=50, **TINY),
            X,
            None,
        ),
        (
            "vae-conv",
            lambda: skvae.VAE(
                n_components=2,
                input_shape=(1, 4, 4),
                hidden_layer_sizes=(4,),
                max_iter=2,
                random_state=0,
            ),
            X_IMAGES,
            None,
        ),
        (
            "vae-mixed",
            lambda: skvae.VAE(n_components=2, likelihood={"poisson": [5]}, **TINY),
            X_MIXED,
            None,
        ),
        ("cvae", lambda: skvae.ConditionalVAE(n_components=2, **TINY), X, Y),
        ("ssvae", lambda: skvae.SemiSupervisedVAE(n_components=2, **TINY), X, Y_SEMI),
        (
            "vade",
            lambda: skvae.VaDE(
                n_clusters=2, n_components=2, pretrain_max_iter=1, **TINY
            ),
            X,
            None,
        ),
        ("vq", lambda: skvae.VQVAE(**vq), X, None),
        ("vq2", lambda: skvae.VQVAE2(**vq), X, None),
        ("wae", lambda: skvae.WAE(n_components=2, **TINY), X, None),
        ("aae", lambda: skvae.AdversarialAE(n_components=2, **TINY), X, None),
        (
            "outlier",
            lambda: skvae.VAEOutlierDetector(
                skvae.VAE(n_components=2, **TINY), score_type="latent"
            ),
            X,
            None,
        ),
        (
            "imputer",
            lambda: skvae.VAEImputer(
                skvae.VAE(n_components=2, likelihood="auto", **TINY),
                n_importance_samples=4,
            ),
            X_HOLES,
            None,
        ),
    ]
    if HierarchicalVAE is not None:
        cases += [
            ("hvae", lambda: HierarchicalVAE(n_components=(4, 2), **TINY), X, None),
            ("ladder", lambda: LadderVAE(n_components=(4, 2), **TINY), X, None),
        ]
    return [pytest.param(make, data, y, id=name) for name, make, data, y in cases]


def _fit(est, data, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data) if y is None else est.fit(data, y)


def _round_trip(est):
    buffer = io.BytesIO()
    save(est, buffer)
    buffer.seek(0)
    return load(buffer)


def _params(est):
    """Parameters, with estimators replaced by their class and parameters."""
    out = {}
    for key, value in est.get_params(deep=False).items():
        if hasattr(value, "get_params"):
            value = (type(value).__name__, _params(value))
        out[key] = value
    return out


def _assert_same_fit(a, b):
    """Fitted attributes, module settings and weights are equal."""
    assert type(a) is type(b)
    assert _params(a) == _params(b)
    params = a.get_params(deep=False)
    fitted = {k for k in vars(a) if k not in params and k not in SKIPPED}
    assert fitted == {k for k in vars(b) if k not in params and k not in SKIPPED}
    for key in fitted:
        va, vb = getattr(a, key), getattr(b, key)
        if hasattr(va, "get_params"):
            _assert_same_fit(va, vb)
        elif key == "_label_encoder":
            assert_array_equal(va.classes_, vb.classes_)
        else:
            assert type(va) is type(vb), key
            assert_equal(vb, va, err_msg=key)
    if hasattr(a, "module_"):
        _assert_same_module(a.module_, b.module_)


def _assert_same_module(a, b):
    for (name, sa), (_, sb) in zip(a.named_modules(), b.named_modules(), strict=True):
        assert type(sa) is type(sb), name
        plain = {k: v for k, v in vars(sa).items() if isinstance(v, (int, float, str))}
        assert plain == {k: vars(sb)[k] for k in plain}, name
    state_a, state_b = a.state_dict(), b.state_dict()
    assert list(state_a) == list(state_b)
    for key, tensor in state_a.items():
        assert torch.equal(tensor, state_b[key]), key


def _assert_same_outputs(a, b, data):
    for method in ("transform", "score_samples", "predict", "predict_proba"):
        if hasattr(a, method):
            assert_array_equal(getattr(b, method)(data), getattr(a, method)(data))
    if hasattr(a, "inverse_transform") and not isinstance(a, skvae.VAEImputer):
        Z = a.transform(data)
        assert_array_equal(b.inverse_transform(Z), a.inverse_transform(Z))
    if hasattr(a, "sample"):
        assert_array_equal(b.sample(3), a.sample(3))
    if hasattr(a, "decision_function"):
        assert_array_equal(b.decision_function(data), a.decision_function(data))


@pytest.mark.parametrize(("make", "data", "y"), _cases())
def test_round_trip_gives_the_same_model(make, data, y, tmp_path):
    est = _fit(make(), data, y)
    path = tmp_path / "model.skvae"
    save(est, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a WAE warned of one-row batches)
        loaded = load(path)
    _assert_same_fit(est, loaded)
    _assert_same_outputs(est, loaded, data)


def test_vade_of_a_table_round_trips_with_its_shared_variance():
    """VaDE shares the variance of a table's Gaussian columns: the loader
    built a variance per column there and refused the file."""
    import pandas as pd

    from skvae.nn.mixture import SharedVarianceGaussian

    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {
            "f": rng.normal(size=60),
            "g": rng.normal(size=60),
            "c": pd.Categorical(rng.choice(list("xyz"), 60)),
        }
    )
    est = _fit(
        skvae.VaDE(n_clusters=2, n_components=2, pretrain_max_iter=2, **TINY), table
    )
    loaded = _round_trip(est)
    shared = [type(b) for b in loaded.module_.likelihood.blocks]
    assert SharedVarianceGaussian in shared
    assert_array_equal(loaded.score_samples(table), est.score_samples(table))


def test_data_dependent_settings_are_restored():
    # the Gaussian column's variance floor is 1e-3 x its variance (~100)
    est = _fit(skvae.VAE(n_components=2, likelihood="auto", **TINY), X_MIXED)
    loaded = _round_trip(est)
    kinds = est.module_.likelihood.kinds
    gaussian = kinds.index("gaussian")
    floor = est.module_.likelihood.blocks[gaussian].min_variance
    assert floor > 0.01
    assert loaded.module_.likelihood.blocks[gaussian].min_variance == floor
    assert loaded.module_.likelihood.kinds == kinds
    assert loaded.column_types_ == est.column_types_


def test_float32_data_and_feature_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X.astype(np.float32), columns=["a", "b", "c", "d"])
    est = _fit(skvae.VAE(n_components=2, **TINY), frame)
    loaded = _round_trip(est)
    assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    assert loaded._dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning
        Z = loaded.transform(frame)
    assert Z.dtype == np.float32
    assert_array_equal(Z, est.transform(frame))


def test_unfitted_models_and_random_states_round_trip():
    for random_state in (None, 3, np.random.RandomState(5)):
        est = skvae.VAEOutlierDetector(
            skvae.VAE(hidden_layer_sizes=(8, 4), random_state=random_state),
            contamination=0.1,
        )
        loaded = _round_trip(est)
        assert not hasattr(loaded, "estimator_")
        inner = loaded.estimator
        assert inner.hidden_layer_sizes == (8, 4)
        if isinstance(random_state, np.random.RandomState):
            assert inner.random_state.randint(1000) == random_state.randint(1000)
        else:
            assert inner.random_state == random_state


def test_a_loaded_model_keeps_training():
    est = _fit(skvae.VAE(n_components=2, **TINY), X)
    loaded = _round_trip(est)
    loaded.partial_fit(X)
    assert loaded.n_iter_ == est.n_iter_ + 1
    _fit(loaded.set_params(warm_start=True), X)
    assert loaded.n_iter_ == est.n_iter_ + 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_model_for_cuda_loads_on_the_cpu():
    est = _fit(skvae.VAE(n_components=2, device="cpu", **TINY), X)
    data = io.BytesIO()
    save(est.set_params(device="cuda"), data)
    data.seek(0)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = load(data)
    assert loaded._device.type == "cpu"
    assert_array_equal(loaded.transform(X), est.transform(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_model_fitted_on_cuda_loads_without_cuda(monkeypatch):
    est = _fit(skvae.VAE(n_components=2, device="cuda", **TINY), X)
    assert_array_equal(_round_trip(est).transform(X), est.transform(X))
    data = io.BytesIO()
    save(est, data)
    data.seek(0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = load(data)
    assert loaded._device.type == "cpu"
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), atol=1e-5)


def test_callbacks_are_not_saved():
    from skvae import PrintLog

    est = _fit(skvae.VAE(n_components=2, callbacks=[PrintLog()], **TINY), X)
    loaded = _round_trip(est)
    assert loaded.callbacks is None
    assert_array_equal(loaded.transform(X), est.transform(X))


def test_models_that_hold_code_cannot_be_saved():

    class Encoder(torch.nn.Module):
        def __init__(self, n_inputs):
            super().__init__()
            self.layer = torch.nn.Linear(n_inputs, 8)

        def forward(self, x):
            return self.layer(x)

    with pytest.raises(TypeError, match="user networks"):
        save(skvae.VAE(encoder=Encoder), io.BytesIO())

    class MyVAE(skvae.VAE):
        pass

    with pytest.raises(TypeError, match="skvae's own estimators"):
        save(MyVAE(), io.BytesIO())


@pytest.fixture(scope="module")
def valid_file():
    est = _fit(skvae.VAE(n_components=2, hidden_layer_sizes=(4,), max_iter=1), X)
    data = io.BytesIO()
    save(est, data)
    return data.getvalue()


def _rewrite_header(data, change):
    """A file whose header JSON is changed by ``change``, with valid checksums."""
    magic, version, n_header, _ = struct.unpack_from("<8sIQ32s", data)
    header = json.loads(data[52 : 52 + n_header])
    change(header)
    text = json.dumps(header).encode()
    digest = hashlib.sha256(text).digest()
    preamble = struct.pack("<8sIQ32s", magic, version, len(text), digest)
    return preamble + text + data[52 + n_header :]


def test_a_newer_format_version_is_refused(valid_file):
    newer = bytearray(valid_file)
    newer[8:12] = struct.pack("<I", FORMAT_VERSION + 1)
    with pytest.raises(InvalidModelFileError, match="upgrade skvae"):
        load(io.BytesIO(bytes(newer)))

    def bump(header):
        header["format_version"] = FORMAT_VERSION + 1

    with pytest.raises(InvalidModelFileError, match="upgrade skvae"):
        load(io.BytesIO(_rewrite_header(valid_file, bump)))


def test_a_file_of_a_newer_skvae_in_this_format_loads_with_a_warning(valid_file):
    """The docstring said a newer skvae's file raises; only a newer format
    does. One of a newer release in this format loads, now with a warning."""

    def newer(header):
        header["skvae_version"] = "99.0.0"

    with pytest.warns(UserWarning, match="written by skvae 99.0.0, newer"):
        est = load(io.BytesIO(_rewrite_header(valid_file, newer)))
    assert_array_equal(est.transform(X), load(io.BytesIO(valid_file)).transform(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(io.BytesIO(valid_file))  # this version's: no word


def test_a_version_1_file_is_read(valid_file):
    """Version 2 marks detectors that read rows through fitted offsets and
    scales (a version-1 reader would ignore them); version 1's files, whose
    detectors have none, are read as before."""

    def back_to_1(header):
        header["format_version"] = 1

    older = bytearray(_rewrite_header(valid_file, back_to_1))
    older[8:12] = struct.pack("<I", 1)
    est = load(io.BytesIO(bytes(older)))
    assert_array_equal(est.transform(X), load(io.BytesIO(valid_file)).transform(X))
    for version in (0, 3):
        bad = bytearray(valid_file)
        bad[8:12] = struct.pack("<I", version)
        with pytest.raises(InvalidModelFileError, match="format version"):
            load(io.BytesIO(bytes(bad)))


def test_a_truncated_file_is_refused(valid_file):
    for size in (0, 10, 60, len(valid_file) - 1):
        with pytest.raises(InvalidModelFileError, match=r"truncated|Not a skvae"):
            load(io.BytesIO(valid_file[:size]))


def test_a_changed_byte_is_refused(valid_file):
    for position in (30, 100, len(valid_file) - 5):  # digest, header, weights
        changed = bytearray(valid_file)
        changed[position] ^= 0x01
        with pytest.raises(InvalidModelFileError, match="corrupted"):
            load(io.BytesIO(bytes(changed)))


def test_other_files_are_refused(tmp_path):
    path = tmp_path / "model.pkl"
    joblib.dump(skvae.VAE(), path)
    with pytest.raises(InvalidModelFileError, match="pickle"):
        load(path)
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidModelFileError, match="Not a skvae model file"):
        load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h: h["model"].update({"class": "os.system"}), "unknown estimator"),
        (lambda h: h["model"]["params"].update({"bogus": 1}), "no parameters"),
        (lambda h: h["model"]["attributes"].update({"transform": 1}), "Unexpected"),
        (lambda h: h["model"]["module"].update({"prefix": "nothing."}), "no weights"),
        (lambda h: h["model"].pop("params"), "rebuilt"),
        # a fitted model without its weights loaded, then failed in transform
        (lambda h: h["model"].update({"module": None}), "no module_"),
        (lambda h: h["model"].update({"class": "WAE"}), "the file was edited"),
    ],
)
def test_well_formed_files_with_bad_content_are_refused(valid_file, change, message):
    with pytest.raises(InvalidModelFileError, match=message):
        load(io.BytesIO(_rewrite_header(valid_file, change)))


@pytest.mark.parametrize("gone", ["offset_", "estimator_"])
def test_a_detector_file_without_what_it_scores_with_is_refused(gone):
    """Loaded without offset_, a detector failed in predict (AttributeError);
    without its model, the error blamed the version."""
    detector = skvae.VAEOutlierDetector(skvae.VAE(**TINY), random_state=0).fit(X)
    data = io.BytesIO()
    save(detector, data)

    def drop(header):
        del header["model"]["attributes"][gone]

    with pytest.raises(InvalidModelFileError, match=f"has no {gone}"):
        load(io.BytesIO(_rewrite_header(data.getvalue(), drop)))


def test_a_header_that_is_not_json_is_refused(valid_file):
    for text in (b"{not json", b"[1, 2]", b'{"weights": 3}'):
        digest = hashlib.sha256(text).digest()
        preamble = struct.pack("<8sIQ32s", valid_file[:8], 1, len(text), digest)
        with pytest.raises(InvalidModelFileError, match="header is not valid"):
            load(io.BytesIO(preamble + text))


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_damaged_files_raise_only_invalid_model_file_error(valid_file, data):
    n = len(valid_file)
    damaged = bytearray(valid_file)
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[: data.draw(st.integers(0, n - 1), label="size")]
    else:
        position = st.one_of(st.integers(0, 63), st.integers(0, n - 1))
        flips = st.lists(
            st.tuples(position, st.integers(1, 255)),
            min_size=1,
            unique_by=lambda flip: flip[0],  # a byte flipped twice may be intact
        )
        for i, mask in data.draw(flips, label="flips"):
            damaged[i] ^= mask
    with pytest.raises(InvalidModelFileError):
        load(io.BytesIO(bytes(damaged)))


def test_loading_never_unpickles(valid_file, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("load must not unpickle")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    assert load(io.BytesIO(valid_file)).n_features_in_ == 4


def test_joblib_still_works(tmp_path):
    est = _fit(skvae.VAE(n_components=2, **TINY), X)
    joblib.dump(est, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert_array_equal(loaded.transform(X), est.transform(X))


# ------------------------------------------------------------ older versions
# Files written by skvae 0.1.0 (before the model families were flattened):
# a VAE and a ConditionalVAE fitted on standardised iris for 3 epochs, with
# their outputs on the first five rows as that version computed them.
_LEGACY = Path(__file__).parent / "data"
# codes, scores as skvae 0.1.0 gave them (one noise draw shared by every row),
# and scores with each row's own draw (since 2026-12-07)
_LEGACY_OUTPUTS = {
    "vae_0.1.0.skvae": (
        [[0.307936, 0.455861], [0.287118, 0.327909], [0.334957, 0.431029]],
        [-7.211413, -6.817002, -7.359509],
        [-7.370242, -7.022734, -7.343783],
    ),
    "conditional_vae_0.1.0.skvae": (
        [[0.300777, 0.459871], [0.284855, 0.332275], [0.329331, 0.435306]],
        [-5.965441, -6.143283, -6.446486],
        [-6.000199, -6.136989, -6.418114],
    ),
}


def _iris_standardised():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


@pytest.mark.parametrize("name", sorted(_LEGACY_OUTPUTS))
def test_files_of_skvae_0_1_0_load_and_give_the_same_outputs(name):
    X, y = _iris_standardised()
    model = skvae.load(_LEGACY / name)
    codes, shared_scores, scores = _LEGACY_OUTPUTS[name]
    labels = (y[:3],) if "conditional" in name else ()
    np.testing.assert_allclose(model.transform(X[:3], *labels), codes, atol=1e-5)
    np.testing.assert_allclose(model.score_samples(X[:3], *labels), scores, atol=1e-4)
    rows = model._validate_X(X[:3])
    extra = (model._one_hot(y[:3], 3, rows.dtype),) if labels else ()
    method = "conditional_log_likelihood" if labels else "log_likelihood"
    old = model._row_scores(rows, method, 1, extra=extra, shared=True)
    np.testing.assert_allclose(old, shared_scores, atol=1e-4)


def test_an_old_file_with_a_parameter_since_removed_names_both_versions():
    data = (_LEGACY / "conditional_vae_0.1.0.skvae").read_bytes()

    def use_tc(header):  # a value that version refused, and this one lacks
        header["model"]["params"]["tc_weight"] = 1.0

    with pytest.raises(InvalidModelFileError, match=r"skvae 0\.1\.0.*skvae 0\.2"):
        load(io.BytesIO(_rewrite_header(data, use_tc)))


# ------------------------------------------------------------- pipelines
def _readme_pipeline():
    """The README's first example, on bundled data, at a tiny size."""
    from sklearn.cluster import KMeans
    from sklearn.datasets import load_digits
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X_digits = load_digits().data[:200]
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("vae", skvae.VAE(n_components=8, **TINY)),
            ("kmeans", KMeans(10, n_init=1, random_state=0)),
        ]
    )
    pipe.fit_predict(X_digits)
    return pipe, X_digits


def _column_pipeline():
    """A ColumnTransformer (scaled numbers, one-hot categories) before a detector."""
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import load_diabetes
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = load_diabetes().data
    table = np.c_[data[:, [0, 2, 3]], (data[:, 1] > 0).astype(float)]
    columns = ColumnTransformer(
        [("num", StandardScaler(), [0, 1, 2]), ("sex", OneHotEncoder(), [3])]
    )
    detector = skvae.VAEOutlierDetector(estimator=skvae.VAE(**TINY), random_state=0)
    pipe = make_pipeline(columns, detector).fit(table)
    return pipe, table


def _pipeline_trip(obj, **kwargs):
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer, **kwargs), buffer.getvalue()


def test_readme_pipeline_round_trip(tmp_path):
    pipe, X_digits = _readme_pipeline()
    path = tmp_path / "pipe.skvae"
    save(pipe, path)
    loaded = load(path)
    assert type(loaded) is type(pipe)
    assert [name for name, _ in loaded.steps] == ["scale", "vae", "kmeans"]
    assert type(loaded.named_steps["vae"]) is skvae.VAE
    assert_array_equal(loaded.predict(X_digits), pipe.predict(X_digits))
    assert_array_equal(loaded.transform(X_digits), pipe.transform(X_digits))
    vae, vae_loaded = pipe.named_steps["vae"], loaded.named_steps["vae"]
    Z = pipe[:2].transform(X_digits)
    assert_array_equal(vae_loaded.inverse_transform(Z), vae.inverse_transform(Z))


def test_column_transformer_pipeline_round_trip():
    pipe, table = _column_pipeline()
    loaded, _ = _pipeline_trip(pipe)
    assert_array_equal(loaded.score_samples(table), pipe.score_samples(table))
    assert_array_equal(loaded.predict(table), pipe.predict(table))
    assert loaded[-1].offset_ == pipe[-1].offset_


def test_unfitted_pipeline_round_trip():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), skvae.VAE(n_components=3))
    loaded, _ = _pipeline_trip(pipe)
    assert loaded[-1].get_params() == pipe[-1].get_params()
    loaded.fit(X)  # and it trains
    assert loaded.transform(X).shape == (30, 3)


def _container(data):
    """The header and tensors of a file written by save."""
    from safetensors.torch import load as load_tensors

    n_header = struct.unpack_from("<Q", data, 12)[0]
    header = json.loads(data[52 : 52 + n_header])
    return header, load_tensors(data[52 + n_header :])


def _pack(header, tensors):
    """A file with valid checksums: what a hostile author can write."""
    from safetensors.torch import save as save_tensors

    blob = save_tensors(tensors)
    header = {
        **header,
        "weights": {"nbytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()},
    }
    text = json.dumps(header).encode()
    preamble = struct.pack(
        "<8sIQ32s",
        b"\x89SKVAE\r\n",
        FORMAT_VERSION,
        len(text),
        hashlib.sha256(text).digest(),
    )
    return preamble + text + blob


def _bytes_tensor(data):
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def test_changed_bytes_in_a_pipeline_file_are_refused():
    pipe, _ = _readme_pipeline()
    _, data = _pipeline_trip(pipe)
    for where in (30, len(data) // 2, len(data) - 5):
        bad = bytearray(data)
        bad[where] ^= 0xFF
        with pytest.raises(InvalidModelFileError):
            load(io.BytesIO(bytes(bad)))


_BUILT = []


class _Hostile:
    """Stands for a type an attacker slips into a file; records being built."""

    def __init__(self):
        self.payload = "rm -rf ~"

    def __setstate__(self, state):
        _BUILT.append(self)
        vars(self).update(state)


def test_untrusted_type_injected_is_refused():
    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe, _ = _readme_pipeline()
    header, tensors = _container(_pipeline_trip(pipe)[1])
    # the skops payload swapped for one that builds another type, checksums
    # recomputed: only the trusted-types list stands in the way
    payload = sio.dumps(make_pipeline(StandardScaler(), _Hostile()))
    tensors["skops"] = _bytes_tensor(payload)
    _BUILT.clear()
    with pytest.raises(InvalidModelFileError, match=r"not trusted.*_Hostile"):
        load(io.BytesIO(_pack(header, tensors)))
    assert not _BUILT
    # what the check prevented: trusting everything would build it
    sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    assert len(_BUILT) == 1


def test_a_function_in_a_pipeline_is_refused_unless_trusted():
    import os

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(os.system), skvae.VAE(**TINY))
    buffer = io.BytesIO()
    save(pipe, buffer)
    with pytest.raises(InvalidModelFileError, match=r"not trusted: \['(posix|nt)"):
        load(io.BytesIO(buffer.getvalue()))
    with pytest.raises(TypeError, match="sequence of type names"):
        load(io.BytesIO(buffer.getvalue()), trusted=True)


def test_trusted_names_extend_what_loads():
    import numpy
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(numpy.sqrt), skvae.VAE(**TINY))
    pipe.fit(np.abs(X))
    loaded, _ = _pipeline_trip(pipe)  # numpy ufuncs: trusted by skops
    assert_array_equal(loaded.transform(np.abs(X)), pipe.transform(np.abs(X)))


def test_placeholders_must_match_the_parts():
    pipe, _ = _readme_pipeline()
    header, tensors = _container(_pipeline_trip(pipe)[1])
    header["pipeline"]["parts"] = []  # a placeholder with no part
    with pytest.raises(InvalidModelFileError, match="placeholders"):
        load(io.BytesIO(_pack(header, tensors)))


def test_a_part_must_be_a_valid_model_file():
    pipe, _ = _readme_pipeline()
    header, tensors = _container(_pipeline_trip(pipe)[1])
    part = bytearray(tensors["part0"].numpy().tobytes())
    part[100] ^= 0xFF  # inside the part's own header: its checksum fails
    tensors["part0"] = _bytes_tensor(bytes(part))
    with pytest.raises(InvalidModelFileError, match="SHA-256"):
        load(io.BytesIO(_pack(header, tensors)))


def test_a_compressed_skops_payload_is_refused():
    import skops.io as sio

    pipe, _ = _readme_pipeline()
    header, tensors = _container(_pipeline_trip(pipe)[1])
    skeleton = sio.loads(
        tensors["skops"].numpy().tobytes(),
        trusted=["skvae.persistence._SkvaePart"],
    )
    packed = sio.dumps(skeleton, compression=8)  # zipfile.ZIP_DEFLATED
    tensors["skops"] = _bytes_tensor(packed)
    with pytest.raises(InvalidModelFileError, match="compressed"):
        load(io.BytesIO(_pack(header, tensors)))


def test_pipeline_with_a_foreign_skvae_subclass_is_refused():
    from sklearn.pipeline import make_pipeline

    class MyVAE(skvae.VAE):
        pass

    with pytest.raises(TypeError, match="Only skvae's own estimators"):
        save(make_pipeline(MyVAE()), io.BytesIO())


def test_pipeline_without_skops_names_the_extra(monkeypatch):
    import sys

    from sklearn.pipeline import make_pipeline

    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=r"skvae\[pipeline\]"):
        save(make_pipeline(skvae.VAE()), io.BytesIO())


def test_pandas_output_imputer_pipeline_round_trip(tmp_path):
    """set_output(transform="pandas") is saved with the model and honoured."""
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.pipeline import make_pipeline

    iris = load_iris(as_frame=True).frame
    table = iris.drop(columns="target").assign(
        species=pd.Categorical(iris["target"].map({0: "a", 1: "b", 2: "c"}))
    )
    table.loc[::7, "species"] = np.nan
    table.loc[::5, "sepal width (cm)"] = np.nan
    imputer = skvae.VAEImputer(skvae.VAE(max_iter=2), random_state=0)
    pipe = make_pipeline(imputer).set_output(transform="pandas")
    filled = pipe.fit_transform(table)
    save(pipe, tmp_path / "pipe.skvae")
    back = load(tmp_path / "pipe.skvae")
    again = back.transform(table)
    assert isinstance(again, pd.DataFrame)
    pd.testing.assert_frame_equal(again, filled)
    # a file whose output choice is not one of scikit-learn's is refused
    bad = skvae.VAEImputer(skvae.VAE(max_iter=2), random_state=0).fit(table)
    bad._sklearn_output_config = {"transform": "pickle"}
    save(bad, tmp_path / "bad.skvae")
    with pytest.raises(InvalidModelFileError, match="set_output choice"):
        load(tmp_path / "bad.skvae")


def test_sparse_detector_keeps_sparse_neighbours_and_checks_them(tmp_path):
    """A detector fitted on CSR rows saves them as CSR; a broken one is refused."""
    import scipy.sparse as sp
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import OneHotEncoder

    X = OneHotEncoder().fit_transform(load_digits().data[:200]).tocsr()
    det = skvae.VAEOutlierDetector(skvae.VAE(max_iter=2), random_state=0).fit(X)
    assert sp.issparse(det.neighbor_rows_)
    save(det, tmp_path / "det.skvae")
    back = load(tmp_path / "det.skvae")
    assert sp.issparse(back.neighbor_rows_)
    assert_array_equal(back.score_samples(X), det.score_samples(X))
    # the neighbours' count the threshold was set on comes back with it
    with pytest.raises(ValueError, match="of 5 neighbours"):
        back.set_params(n_neighbors=6).score_samples(X[:3])
    det.neighbor_rows_ = det.neighbor_rows_.copy()
    det.neighbor_rows_.indices[0] = X.shape[1] + 5  # past the last column
    save(det, tmp_path / "bad.skvae")
    with pytest.raises(InvalidModelFileError, match="sparse matrix"):
        load(tmp_path / "bad.skvae")


def test_a_detector_on_a_principal_subspace_round_trips(tmp_path):
    """The default model on wide rows reads their principal components: the
    subspace is saved with it, and one that does not fit the rows is refused."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3)) @ rng.normal(size=(3, 40))
    X += 0.1 * rng.normal(size=X.shape)
    det = skvae.VAEOutlierDetector(random_state=0).fit(X)
    assert det.subspace_components_.shape[1] == 40
    save(det, tmp_path / "det.skvae")
    back = load(tmp_path / "det.skvae")
    assert_array_equal(back.subspace_components_, det.subspace_components_)
    assert back.subspace_noise_ == det.subspace_noise_
    assert_array_equal(back.score_samples(X + 0.1), det.score_samples(X + 0.1))
    # the training rows it was found on keep their scores in any array
    assert_array_equal(back.subspace_keys_, det.subspace_keys_)
    # (to float rounding: the blocks of rows differ, and so may the BLAS kernel)
    np.testing.assert_allclose(
        back.score_samples(X[::-1]), det.training_scores_[::-1], rtol=1e-10
    )
    # files of the first fingerprints (float32 rows only) and of the first
    # two (before the grid's) still match rows
    for kept in (slice(2, 4), slice(0, 4)):
        first = copy.deepcopy(det)
        first.subspace_keys_ = np.ascontiguousarray(first.subspace_keys_[:, kept])
        save(first, tmp_path / "first.skvae")
        back = load(tmp_path / "first.skvae")
        # (to float rounding: the blocks of rows differ, and so may the BLAS)
        np.testing.assert_allclose(
            back.score_samples(X[::-1]), det.training_scores_[::-1], rtol=1e-10
        )
    short = copy.deepcopy(det)
    short.subspace_rest_ = short.subspace_rest_[:-1]
    save(short, tmp_path / "short.skvae")
    with pytest.raises(InvalidModelFileError, match="subspace_keys_"):
        load(tmp_path / "short.skvae")
    det.subspace_mean_ = det.subspace_mean_[:-1]
    save(det, tmp_path / "bad.skvae")
    with pytest.raises(InvalidModelFileError, match="subspace_"):
        load(tmp_path / "bad.skvae")


def test_a_detector_of_rows_in_large_units_round_trips(tmp_path):
    """The default model reads narrow rows far from order 1 less their mean
    and over a power of two: both are saved, and checked at load."""
    rng = np.random.RandomState(0)
    X = 1e4 + 300 * rng.normal(size=(120, 5))
    det = skvae.VAEOutlierDetector(random_state=0).fit(X)
    assert det.input_scale_ == 256.0
    save(det, tmp_path / "det.skvae")
    back = load(tmp_path / "det.skvae")
    assert_array_equal(back.input_offset_, det.input_offset_)
    assert_array_equal(back.score_samples(X[::-1]), det.score_samples(X[::-1]))
    det.input_offset_ = det.input_offset_[:-1]
    save(det, tmp_path / "bad.skvae")
    with pytest.raises(InvalidModelFileError, match="input_offset_"):
        load(tmp_path / "bad.skvae")


@pytest.mark.parametrize("labels", [np.array([0, 1]), np.array(["common", "rare"])])
def test_a_fitted_oversampler_round_trips(labels):
    """Its per-class attributes are dicts keyed by the labels (ints too)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = labels[np.r_[np.zeros(50, int), np.ones(10, int)]]
    est = skvae.VAEOverSampler(estimator=skvae.ConditionalVAE(**TINY), random_state=0)
    est.fit_resample(X, y)
    loaded = _round_trip(est)
    assert loaded.sampling_strategy_ == est.sampling_strategy_ == {labels[1]: 40}
    assert loaded.step_ == est.step_
    assert loaded.n_moves_dropped_ == est.n_moves_dropped_
    Xs = ((X - est.mean_) / est.scale_).astype(np.float32)
    assert_array_equal(loaded.estimator_.transform(Xs), est.estimator_.transform(Xs))


def test_save_refuses_what_load_would_refuse():
    """save never writes a file that load refuses: an unknown private
    attribute is refused when saving, naming it."""
    est = _fit(skvae.VAE(**TINY), X)
    est._scratch = 1
    with pytest.raises(TypeError, match="_scratch"):
        save(est, io.BytesIO())


@pytest.mark.parametrize(
    ("cls", "param", "value"),
    [
        ("VAE", "objective", "iwae"),
        ("VAE", "n_components", 3),
        ("VaDE", "n_clusters", 5),
    ],
)
def test_save_refuses_network_parameters_set_after_the_fit(tmp_path, cls, param, value):
    """set_params after fit left the model working but made save write a
    file that load refused as edited, over a good file: a lost model."""
    path = tmp_path / "model.skvae"
    est = _fit(getattr(skvae, cls)(**TINY), X)
    save(est, path)
    before = est.get_params()[param]
    est.set_params(**{param: value})
    with pytest.raises(ValueError, match=f"{param}={value!r} was set after the fit"):
        save(est, path)
    assert_array_equal(load(path).transform(X), est.transform(X))  # kept
    est.set_params(**{param: before}, max_iter=7)  # not a network parameter
    save(est, path)
    assert load(path).max_iter == 7


def test_a_model_with_a_metadata_request_saves():
    """set_fit_request's routing is a meta-estimator's setting: not saved."""
    import sklearn

    with sklearn.config_context(enable_metadata_routing=True):
        est = _fit(skvae.VAE(**TINY), X).set_fit_request(sample_weight=True)
    loaded = _round_trip(est)
    assert_array_equal(loaded.transform(X), est.transform(X))


def test_a_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    """save writes a new file and then swaps it in: an error while writing
    (a full disk, Ctrl-C) leaves the file that was there, and no stray file."""
    path = tmp_path / "model.skvae"
    first = _fit(skvae.VAE(**TINY), X)
    save(first, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("skvae.persistence.os.replace", fail)
    with pytest.raises(OSError, match="No space"):
        save(_fit(skvae.VAE(**{**TINY, "random_state": 1}), X), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.skvae"]
    monkeypatch.undo()
    save(first, path)
    assert_array_equal(load(path).transform(X), first.transform(X))


def test_save_through_a_link_replaces_the_file_it_points_to(tmp_path):
    """A link stays a link (a Checkpoint's "best" link keeps pointing at the
    newest model); the file it points to is replaced."""
    target = tmp_path / "v1.skvae"
    link = tmp_path / "best.skvae"
    first = _fit(skvae.VAE(**TINY), X)
    save(first, target)
    link.symlink_to(target)
    second = _fit(skvae.VAE(**{**TINY, "random_state": 1}), X)
    save(second, link)
    assert link.is_symlink()
    assert_array_equal(load(target).transform(X), second.transform(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.skvae", "v1.skvae"]


@pytest.mark.parametrize("cls", [skvae.WAE, skvae.VQVAE])
def test_input_shape_given_as_an_array_loads(tmp_path, cls):
    """clone, pickle and ONNX take a numpy array for input_shape; so does load."""
    model = cls(input_shape=np.array([1, 4, 4]), max_iter=1, random_state=0)
    model.fit(X_IMAGES)
    save(model, tmp_path / "model.skvae")
    loaded = load(tmp_path / "model.skvae")
    assert_array_equal(loaded.input_shape, [1, 4, 4])
    assert_array_equal(loaded.transform(X_IMAGES), model.transform(X_IMAGES))
