"""The command line: python -m skvae fit / transform / score / sample / demo."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import skvae
from skvae.cli import main, read_csv, run_demo
from skvae.persistence import load


def test_demo_reports_and_writes_a_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo.png"
    results = run_demo(output=out, max_iter=15)
    text = capsys.readouterr().out
    assert "held-out ELBO" in text
    assert "PCA" in text
    assert out.stat().st_size > 10_000
    assert results["figure"] == out
    for k in (2, 10):
        assert set(results[k]) == {"elbo", "vae_mse", "pca_mse", "fit_time"}
        # Even a 15-epoch VAE reconstructs far better than the mean digit (~0.07).
        assert results[k]["vae_mse"] < 0.06


def test_main_runs_the_demo_without_a_figure(capsys):
    assert main(["demo", "--max-iter", "2", "--output", "none"]) == 0
    assert "n_components" in capsys.readouterr().out


def test_python_dash_m_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "skvae", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "demo" in out.stdout


# ------------------------------------------------ fit, transform, score, sample
RNG = np.random.RandomState(0)
DATA = RNG.normal(size=(40, 4))
LABELS = np.repeat(["x", "y"], 20)
# the skvae under test, also from another working directory
_PYTHONPATH = os.pathsep.join(
    [str(Path(skvae.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
)
FAST = ["--hidden-layer-sizes", "8", "--max-iter", "2", "--random-state", "0"]


def _write_data(path, header=True, labels=True):
    with open(path, "w") as f:
        if header:
            f.write("a,b,c,d" + (",label" if labels else "") + "\n")
        for row, label in zip(DATA, LABELS, strict=True):
            fields = [repr(float(v)) for v in row] + ([label] if labels else [])
            f.write(",".join(fields) + "\n")
    return path


def _skvae(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "skvae", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": _PYTHONPATH},
    )


def _read(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def test_fit_and_transform_through_the_entry_point(tmp_path):
    data = _write_data(tmp_path / "data.csv")
    model = tmp_path / "model.skvae"
    args = ["--target", "label", "--n-components", "2", *FAST, "-o", model]
    out = _skvae("fit", data, *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "VAE fitted on 40 rows x 4 columns" in out.stdout
    vae = load(model)
    assert (vae.n_components, vae.max_iter, vae.random_state) == (2, 2, 0)

    args = ["--target", "label", "-o", "codes.csv"]
    out = _skvae("transform", model, data, *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    header, codes = _read(tmp_path / "codes.csv")
    assert header == ["vae0", "vae1"]
    np.testing.assert_allclose(codes, vae.transform(DATA), rtol=1e-12)


def test_errors_are_one_line_without_traceback(tmp_path):
    (tmp_path / "model.skvae").write_text("not a model")
    data = _write_data(tmp_path / "data.csv", labels=False)
    out = _skvae("transform", "model.skvae", data, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr
    assert "Not a skvae model file" in out.stderr


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A data file (4 columns and labels) and a VAE fitted to it."""
    folder = tmp_path_factory.mktemp("cli")
    data = _write_data(folder / "data.csv")
    model = folder / "model.skvae"
    assert main(["fit", str(data), "--target", "4", *FAST, "-o", str(model)]) == 0
    return folder, str(data), str(model)


def test_score_and_sample(fitted, capsys):
    folder, data, model = fitted
    vae = load(model)
    assert main(["score", model, data, "--target", "label"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines[0] == "score"
    np.testing.assert_allclose(np.array(lines[1:], float), vae.score_samples(DATA))
    samples = folder / "samples.csv"
    assert main(["sample", model, "-n", "5", "-o", str(samples)]) == 0
    header, values = _read(samples)
    assert header == ["x0", "x1", "x2", "x3"]
    np.testing.assert_allclose(values, vae.sample(5))


def test_conditional_models_sample_a_label(fitted, capsys):
    folder, data, _ = fitted
    model = str(folder / "cvae.skvae")
    args = ["fit", data, "--model", "conditional", "--target", "label", *FAST]
    assert main([*args, "-o", model]) == 0
    cvae = load(model)
    assert cvae.classes_.tolist() == ["x", "y"]
    capsys.readouterr()
    assert main(["sample", model, "-n", "3", "--label", "y"]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == 4
    expected = cvae.sample(3, y="y")
    np.testing.assert_allclose(np.loadtxt(lines[1:], delimiter=","), expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["transform", "{model}", "missing.csv"], "no such file: missing.csv"),
        (["transform", "{data}", "{data}"], "Not a skvae model file"),
        (["transform", "{model}", "{data}"], "'x' is not a number; a label column"),
        (
            ["score", "{model}", "{wide}"],
            "has 5 data columns, but the model was fitted on 4 (drop",
        ),
        (["score", "{model}", "{narrow}"], "has 2 data columns, but the model was"),
        (["fit", "{data}", "--model", "conditional", "-o", "m"], "is not a number"),
        (["fit", "{narrow}", "--model", "conditional", "-o", "m"], "needs the label"),
        (
            ["fit", "{narrow}", "--model", "vq", "--n-components", "2", "-o", "m"],
            "--n-components does not apply to VQVAE",
        ),
        (["fit", "{narrow}", "--target", "z", "-o", "m"], "no column named 'z'"),
        (["fit", "{ragged}", "-o", "m"], "line 3: 3 fields, but the first row has 2"),
        (["sample", "{model}", "--label", "x"], "--label needs a conditional model"),
        (["sample", "{model}", "-n", "0"], "-n must be a positive integer"),
    ],
)
def test_input_errors_exit_with_status_2(fitted, capsys, args, message):
    folder, data, model = fitted
    narrow = folder / "narrow.csv"
    narrow.write_text("a,b\n1,2\n3,4\n5,6\n")
    ragged = folder / "ragged.csv"
    ragged.write_text("1,2\n3,4\n5,6,7\n")
    wide = folder / "wide.csv"
    wide.write_text("1,2,3,4,5\n6,7,8,9,0\n")
    files = dict(data=data, model=model, narrow=narrow, ragged=ragged, wide=wide)
    assert main([a.format(**files) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]
    assert err[-1].startswith("skvae ")


@pytest.mark.parametrize("command", ["fit", "transform", "score", "sample", "demo"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: skvae {command}" in capsys.readouterr().out


def test_headers_are_detected_or_declared(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("1,2\n3,\n")
    names, X, y = read_csv(path)
    assert names is None
    assert y is None
    np.testing.assert_array_equal(X, [[1, 2], [3, np.nan]])
    names, X, _ = read_csv(path, header=True)
    assert names == ["1", "2"]
    assert X.shape == (1, 2)
    path.write_text("a;b;c\n1;2;u\n")
    names, X, y = read_csv(path, delimiter=";", target="-1")
    assert names == ["a", "b"]
    assert y.tolist() == ["u"]


@pytest.mark.parametrize("command", ["fit", "transform", "score"])
def test_values_past_float32_exit_2_with_one_line(fitted, tmp_path, capsys, command):
    _, _, model = fitted
    big = tmp_path / "big.csv"
    big.write_text("a,b,c,d\n1,2,3,4\n3,4,5,6\n1e39,1,2,3\n")
    args = {
        "fit": ["fit", str(big), *FAST, "-o", str(tmp_path / "m.skvae")],
        "transform": ["transform", model, str(big)],
        "score": ["score", model, str(big)],
    }[command]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "float32" in err
    assert "[0]" in err
