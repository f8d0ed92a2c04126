"""skvae.to_onnx: encoders and decoders as ONNX graphs, run with onnxruntime."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

import skvae
from skvae.export import to_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

RNG = np.random.RandomState(0)
X = RNG.normal(size=(30, 6)).astype(np.float32)
IMAGES = RNG.uniform(size=(30, 16)).astype(np.float32)
Y = np.repeat(["a", "b", "c"], 10)
TINY = dict(max_iter=2, random_state=0, device="cpu")


def _fit(est, data, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data) if y is None else est.fit(data, y)


def _run(model_bytes, inputs):
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: inputs})[0]


def _check(model_bytes, inputs, expected):
    """The graph matches on every row and on one row (dynamic batch)."""
    assert_allclose(_run(model_bytes, inputs), expected, atol=1e-5)
    assert_allclose(_run(model_bytes, inputs[:1]), expected[:1], atol=1e-5)


@pytest.mark.parametrize(
    ("make", "data", "y", "parts"),
    [
        pytest.param(
            lambda: skvae.VAE(n_components=2, hidden_layer_sizes=(8,), **TINY),
            X,
            None,
            ("encoder", "decoder"),
            id="vae",
        ),
        pytest.param(
            lambda: skvae.VAE(
                n_components=2,
                input_shape=(1, 4, 4),
                hidden_layer_sizes=(4,),
                likelihood="bernoulli",
                **TINY,
            ),
            IMAGES,
            None,
            ("encoder", "decoder"),
            id="vae-conv",
        ),
        pytest.param(
            lambda: skvae.WAE(n_components=2, hidden_layer_sizes=(8,), **TINY),
            X,
            None,
            ("encoder",),
            id="wae",
        ),
        pytest.param(
            lambda: skvae.ConditionalVAE(
                n_components=2, hidden_layer_sizes=(8,), **TINY
            ),
            X,
            Y,
            ("encoder",),
            id="cvae",
        ),
    ],
)
def test_graphs_match_transform_and_inverse_transform(make, data, y, parts, tmp_path):
    model = _fit(make(), data, y)
    Z = model.transform(data)
    for part in parts:
        path = tmp_path / f"{part}.onnx"
        graph = to_onnx(model, path, part=part)
        assert path.read_bytes() == graph
        inputs, expected = (
            (data, Z) if part == "encoder" else (Z, model.inverse_transform(Z))
        )
        _check(graph, inputs, expected)
        proto = onnx.load_from_string(graph).graph
        names = [proto.input[0].name, proto.output[0].name]
        assert names == (["X", "Z"] if part == "encoder" else ["Z", "X"])
        batch, width = proto.input[0].type.tensor_type.shape.dim
        assert batch.dim_param  # symbolic
        assert width.dim_value == inputs.shape[1]


def test_models_that_cannot_be_exported_say_why():
    detector = _fit(
        skvae.VAEOutlierDetector(skvae.VAE(n_components=2, **TINY)), X.astype(float)
    )
    with pytest.raises(TypeError, match=r"estimator_"):
        to_onnx(detector)
    with pytest.raises(NotFittedError):
        to_onnx(skvae.VAE())
    with pytest.raises(TypeError, match="Only skvae models"):
        to_onnx(object())
    with pytest.raises(ValueError, match="part must be"):
        to_onnx(detector.estimator_, part="prior")
    with pytest.raises(ValueError, match="part must be"):  # (was unhashable)
        to_onnx(detector.estimator_, part=["encoder"])
    with pytest.raises(TypeError, match="opset_version must be an int"):
        to_onnx(detector.estimator_, opset_version="17")


def test_an_opset_the_exporter_cannot_give_is_refused():
    """torch falls back to its own opset (with a log line) where it cannot
    convert: the asked one is checked, so the file is what was asked for."""
    vae = _fit(skvae.VAE(n_components=2, **TINY), X)
    proto = onnx.load_from_string(to_onnx(vae, opset_version=17))
    assert {o.version for o in proto.opset_import if o.domain == ""} == {17}
    with pytest.raises(RuntimeError, match="opset_version=3 was asked"):
        to_onnx(vae, opset_version=3)
    # too new an opset is named as such (it said "ask for a newer one")
    with pytest.raises(RuntimeError, match=r"opset_version=99 .* or ask for \d+\."):
        to_onnx(vae, opset_version=99)
