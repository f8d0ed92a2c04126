"""The command line: python -m skvae fit / transform / score / sample / demo."""

import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import skvae
from skvae.cli import CommandError, main, read_csv, run_demo
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
    # -o, as every other command spells its output
    assert main(["demo", "--max-iter", "2", "-o", "none"]) == 0
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


@pytest.fixture(params=["pandas", "numpy", "python"])
def engine(request):
    """Each CSV reader in turn (pandas' where it is installed)."""
    if request.param == "pandas":
        pytest.importorskip("pandas")
    return request.param


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
    # the command line passes the rows with their column names
    expected = vae.transform(pd_frame(DATA, ["a", "b", "c", "d"]))
    np.testing.assert_allclose(codes, expected, rtol=1e-12)


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
    expected = vae.score_samples(pd_frame(DATA, ["a", "b", "c", "d"]))
    np.testing.assert_allclose(np.array(lines[1:], float), expected)
    samples = folder / "samples.csv"
    assert main(["sample", model, "-n", "5", "-o", str(samples)]) == 0
    header, values = _read(samples)
    assert header == ["a", "b", "c", "d"]  # the data's column names
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
    assert lines[0] == "a,b,c,d,label"  # the class written as the last column
    rows = [line.split(",") for line in lines[1:]]
    assert [row[-1] for row in rows] == ["y"] * 3
    expected = cvae.sample(3, y="y")
    np.testing.assert_allclose(np.array([row[:-1] for row in rows], float), expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["transform", "{model}", "missing.csv"], "no such file: missing.csv"),
        (["transform", "{data}", "{data}"], "Not a skvae model file"),
        (
            ["transform", "{model}", "{data}"],
            "'x' is not a number; leave the column out with --drop label, or",
        ),
        (
            ["score", "{model}", "{wide}"],
            "has 5 data columns, but the model was fitted on 4 (set a label",
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


def test_a_header_of_missing_markers_and_a_marked_stdin_are_read_alike(
    tmp_path, engine, monkeypatch
):
    # a first row of markers alone was an all-NaN data row, which an
    # imputer then filled; a byte-order mark on standard input stuck to the
    # first number, whose row was then read as a header
    path = tmp_path / "na.csv"
    path.write_text("NA,None\n1,2\n3,4\n")
    names, X, _ = read_csv(path, engine=engine)
    assert names == ["NA", "None"]
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    path.write_text(",\n1,2\n")  # no names at all: refused, not a row of holes
    with pytest.raises(CommandError, match="names column '' twice"):
        read_csv(path, engine=engine)
    path.write_text("1,NA\n3,4\n")  # a number: data, as before
    assert read_csv(path, engine=engine)[0] is None
    for text, expected in (
        ("\ufeff1.5,2\n3,4\n", None),
        ("\ufeffa,b\n3,4\n", ["a", "b"]),
    ):
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
        names, X, _ = read_csv("-", engine=engine)
        assert names == expected
        assert X[-1].tolist() == [3, 4]
        assert X.shape[0] == (2 if expected is None else 1)


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


# ------------------------------------------------------- a command line at once
_AT_EXIT = """
import sys
import warnings
from skvae.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
print(status, "torch" in sys.modules, "sklearn" in sys.modules)
"""


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["--help"], 0),
        (["fit", "--help"], 0),
        (["sample", "--help"], 0),
        ([], 2),
        (["fit", "data.csv"], 2),  # no -o
        (["fit", "data.csv", "-o", "m.skvae", "--model", "nope"], 2),
        (["fit", "data.csv", "-o", "m.skvae", "--delimiter", ";;"], 2),
        (["sample", "m.skvae", "-n", "many"], 2),
    ],
)
def test_help_and_argument_errors_import_neither_torch_nor_sklearn(
    tmp_path, args, status
):
    out = subprocess.run(
        [sys.executable, "-c", _AT_EXIT, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": _PYTHONPATH},
    )
    assert out.stdout.splitlines()[-1] == f"{status} False False"
    if status == 2:  # one line, pointing to the help
        assert len(out.stderr.splitlines()) == 1
        assert "-h)" in out.stderr


def test_python_dash_m_help_imports_neither_torch_nor_sklearn(tmp_path):
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "skvae", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": _PYTHONPATH},
    )
    assert out.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
    assert "skvae.cli" in imported
    assert "numpy" in imported
    assert "torch" not in imported
    assert "sklearn" not in imported


def test_import_skvae_is_lazy_and_complete():
    code = (
        "import sys, skvae; before = 'torch' in sys.modules;"
        "from skvae import VAE; from skvae import nn;"
        "print(before, skvae.VAE is VAE, 'VAE' in dir(skvae), 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": _PYTHONPATH},
    )
    assert out.stdout.split() == ["False", "True", "True", "True"]
    assert list(skvae.__all__) == list(skvae._MODULES)
    for name in skvae.__all__:
        assert name in dir(skvae)
        assert getattr(skvae, name) is not None
    assert skvae.nn.__name__ == "skvae.nn"  # a submodule, imported on first use
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = skvae.nope


def test_model_choices_are_every_estimator_of_the_registry():
    from skvae.cli import model_choices
    from skvae.persistence import _registry

    # the oversampler resamples labelled rows (fit_resample): no table command
    assert set(model_choices().values()) == set(_registry()) - {"VAEOverSampler"}
    assert model_choices()["outlier"] == "VAEOutlierDetector"
    assert model_choices()["imputer"] == "VAEImputer"
    assert model_choices()["vade"] == "VaDE"


# ----------------------------------------------- names, scaling and the models
def test_column_names_are_kept_and_written_back(fitted, capsys):
    folder, _, model = fitted
    vae = load(model)
    assert vae.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    capsys.readouterr()
    # a file without a header is read in the model's column order
    plain = folder / "plain.csv"
    np.savetxt(plain, DATA, delimiter=",")
    assert main(["transform", model, str(plain)]) == 0
    lines = capsys.readouterr().out.split()
    assert lines[0] == ",".join(f"vae{i}" for i in range(vae.n_components))
    expected = vae.transform(pd_frame(DATA, ["a", "b", "c", "d"]))
    np.testing.assert_allclose(np.loadtxt(lines[1:], delimiter=","), expected)
    renamed = folder / "renamed.csv"
    renamed.write_text("a,b,c,e\n1,2,3,4\n")
    assert main(["transform", model, str(renamed)]) == 2
    err = capsys.readouterr().err
    assert "are not those the model was fitted on" in err


def test_standardize_is_saved_and_applied_by_every_command(tmp_path, capsys):
    data = tmp_path / "data.csv"
    X = DATA * [1.0, 10.0, 100.0, 0.1] + [0, 5, -50, 1]
    X[:, 3] = np.arange(40) % 2  # a 0/1 column is left as it is
    np.savetxt(data, X, delimiter=",", header="a,b,c,d", comments="")
    model = str(tmp_path / "m.skvae")
    assert main(["fit", str(data), "--standardize", *FAST, "-o", model]) == 0
    vae = load(model)
    mean, scale = vae.cli_scaler_["mean"], vae.cli_scaler_["scale"]
    np.testing.assert_allclose(mean[:3], X[:, :3].mean(axis=0))
    np.testing.assert_allclose(scale[:3], X[:, :3].std(axis=0))
    assert (mean[3], scale[3]) == (0.0, 1.0)
    Xs = pd_frame((X - mean) / scale, ["a", "b", "c", "d"])
    capsys.readouterr()
    assert main(["transform", model, str(data)]) == 0
    codes = np.loadtxt(capsys.readouterr().out.split()[1:], delimiter=",")
    np.testing.assert_allclose(codes, vae.transform(Xs))
    assert main(["score", model, str(data)]) == 0
    scores = np.array(capsys.readouterr().out.split()[1:], float)
    expected = vae.score_samples(Xs) - np.log(scale).sum()
    np.testing.assert_allclose(scores, expected)
    assert main(["sample", model, "-n", "3", "--random-state", "1"]) == 0
    rows = np.loadtxt(capsys.readouterr().out.split()[1:], delimiter=",")
    np.testing.assert_allclose(rows, vae.sample(3, random_state=1) * scale + mean)


@pytest.mark.parametrize("index", [False, True])
def test_a_first_row_counting_the_columns_is_a_header(tmp_path, engine, index):
    """pandas writes an unnamed array's labels 0, 1, 2... as its header: the
    row was read as data (a row of codes too many, every later one shifted),
    or with the index's empty name as a hole to fill."""
    pd = pytest.importorskip("pandas")
    path = tmp_path / "array.csv"
    pd.DataFrame(DATA[:5, :3]).to_csv(path, index=index)
    with pytest.warns(UserWarning, match="first row counts the columns"):
        names, X, _ = read_csv(path, engine=engine)
    assert names == ([""] if index else []) + ["0", "1", "2"]
    assert X.shape == (5, 4 if index else 3)
    np.testing.assert_allclose(X[:, -3:], DATA[:5, :3])
    if not index:  # a row of data that happens to count is kept, when asked
        _, X, _ = read_csv(path, engine=engine, header=False)
        assert X.shape == (6, 3)


def test_a_detector_scores_standardised_rows_against_its_offset(tmp_path, capsys):
    """score took the scaling's log-Jacobian off the detector's typicality,
    which is no density: every score moved by 4.1 below its offset_, and
    all 178 rows of wine read as outliers where predict flagged 18."""
    data = tmp_path / "data.csv"
    X = DATA * [1.0, 10.0, 100.0, 0.1] + [0, 5, -50, 1]
    np.savetxt(data, X, delimiter=",", header="a,b,c,d", comments="")
    model = str(tmp_path / "det.skvae")
    args = ["--standardize", "--model", "outlier", "--contamination", "0.1"]
    assert main(["fit", str(data), *args, "--random-state", "0", "-o", model]) == 0
    detector = load(model)
    capsys.readouterr()
    assert main(["score", model, str(data)]) == 0
    scores = np.array(capsys.readouterr().out.split()[1:], float)
    assert main(["predict", model, str(data)]) == 0
    flags = np.array(capsys.readouterr().out.split()[1:], float)
    np.testing.assert_array_equal(flags == -1, scores < detector.offset_)


def test_scores_of_rows_with_holes_leave_out_their_holes_units(tmp_path, capsys):
    # --standardize's log-Jacobian took every column's scale off every row:
    # rows without b moved by log(1000) when b was given in 1000 times its units
    scores = []
    for factor in (1.0, 1000.0):
        data = tmp_path / f"b{factor:g}.csv"
        lines = ["a,b"] + [
            f"{float(a)!r}," + ("" if i < 3 else repr(float(b) * factor))
            for i, (a, b) in enumerate(DATA[:, :2])
        ]
        data.write_text("\n".join(lines) + "\n")
        model = str(tmp_path / f"b{factor:g}.skvae")
        args = ["--missing", "mask", "--standardize", *FAST, "-o", model]
        assert main(["fit", str(data), *args]) == 0
        capsys.readouterr()
        assert main(["score", model, str(data)]) == 0
        scores.append(np.array(capsys.readouterr().out.split()[1:], float))
    # the same model on standardised rows: only b's Jacobian differs
    np.testing.assert_allclose(scores[0][:3], scores[1][:3], rtol=1e-6)
    np.testing.assert_allclose(scores[0][3:] - scores[1][3:], np.log(1000.0), rtol=1e-6)


def test_a_quoted_empty_cell_is_a_hole_in_every_reader(tmp_path, engine):
    # the CSV module's reader dropped it from a one-column file (how pandas'
    # to_csv writes a missing value there), and the rows after moved up one
    path = tmp_path / "one.csv"
    path.write_text('a\n1.0\n""\n3.0\n  \n4.0\n')  # a line of spaces is blank
    _, X, _ = read_csv(path, engine=engine)
    np.testing.assert_array_equal(X.ravel(), [1.0, np.nan, 3.0, 4.0])


def pd_frame(X, names):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(X, columns=names)


def test_beta_missing_and_batch_options_reach_the_model(tmp_path, capsys):
    holes = tmp_path / "holes.csv"
    X = DATA.copy()
    X[::5, 1] = np.nan
    np.savetxt(holes, X, delimiter=",", header="a,b,c,d", comments="")
    model = str(tmp_path / "m.skvae")
    args = ["--beta", "0.5", "--missing", "mask", "--batch-size", "16"]
    assert main(["fit", str(holes), *args, *FAST, "-o", model]) == 0
    vae = load(model)
    assert (vae.beta, vae.missing, vae.batch_size) == (0.5, "mask", 16)
    assert main(["fit", str(holes), *FAST, "-o", model]) == 2
    err = capsys.readouterr().err
    assert "line 2, column 2 ('b'): the cell is missing" in err  # "nan"
    assert "--missing mask" in err
    # a model that refuses --missing is not told to use it
    vade = ["--model", "vade", "--n-clusters", "2", *FAST, "-o", model]
    assert main(["fit", str(holes), *vade]) == 2
    err = capsys.readouterr().err
    assert "the cell is missing" in err
    assert "--missing" not in err
    assert "--model imputer" in err


def test_outlier_detector_predicts_and_scores(fitted, capsys):
    folder, data, _ = fitted
    model = str(folder / "outlier.skvae")
    args = ["--model", "outlier", "--contamination", "0.1", "--beta", "0.2"]
    assert main(["fit", data, "--target", "label", *args, *FAST, "-o", model]) == 0
    detector = load(model)
    assert detector.contamination == 0.1
    assert detector.estimator_.beta == 0.2
    X = pd_frame(DATA, ["a", "b", "c", "d"])
    capsys.readouterr()
    assert main(["predict", model, data, "--target", "label"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines[0] == "label"
    labels = np.array(lines[1:], int)
    np.testing.assert_array_equal(labels, detector.predict(X))
    assert set(labels) == {-1, 1}
    assert main(["score", model, data, "--target", "label"]) == 0
    scores = np.array(capsys.readouterr().out.split()[1:], float)
    np.testing.assert_allclose(scores, detector.score_samples(X))


def test_vade_writes_cluster_labels(fitted, capsys):
    folder, data, _ = fitted
    model = str(folder / "vade.skvae")
    args = ["--model", "vade", "--n-clusters", "3", *FAST]
    assert main(["fit", data, "--target", "label", *args, "-o", model]) == 0
    vade = load(model)
    assert vade.n_clusters == 3
    capsys.readouterr()
    assert main(["predict", model, data, "--target", "label"]) == 0
    labels = np.array(capsys.readouterr().out.split()[1:], int)
    expected = vade.predict(pd_frame(DATA, ["a", "b", "c", "d"]))
    np.testing.assert_array_equal(labels, expected)
    assert set(labels) <= {0, 1, 2}


def test_imputer_fills_the_empty_cells_of_a_csv(tmp_path):
    holes = tmp_path / "holes.csv"
    lines = ["a,b,c,d"] + [",".join(repr(float(v)) for v in row) for row in DATA]
    lines[3] = "1.5,,2.5,"  # row 2: two empty cells
    holes.write_text("\n".join(lines) + "\n")
    model = tmp_path / "imputer.skvae"
    assert main(["fit", str(holes), "--model", "imputer", *FAST, "-o", str(model)]) == 0
    filled = tmp_path / "filled.csv"
    assert main(["transform", str(model), str(holes), "-o", str(filled)]) == 0
    header, values = _read(filled)
    assert header == ["a", "b", "c", "d"]
    assert not np.isnan(values).any()
    assert (values[2, 0], values[2, 2]) == (1.5, 2.5)  # observed: unchanged
    np.testing.assert_array_equal(np.delete(values, 2, axis=0), np.delete(DATA, 2, 0))


def test_without_pandas_the_csv_reader_gives_the_same_model(fitted, monkeypatch):
    folder, data, model = fitted
    expected = load(model).transform(pd_frame(DATA, ["a", "b", "c", "d"]))
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas fails
    other = str(folder / "nopandas.skvae")
    assert main(["fit", data, "--target", "4", *FAST, "-o", other]) == 0
    vae = load(other)
    assert getattr(vae, "feature_names_in_", None) is None  # documented
    np.testing.assert_allclose(vae.transform(DATA), expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------ bad input: one line, 2
_BAD_FILES = {
    "ragged.csv": "a,b\n1,2\n3,4,5\n",
    "trailing.csv": "a,b\n1,2,\n3,4\n",  # pandas' reader dropped the field
    "short.csv": "a,b\n1,2\n3\n",
    "shortlabel.csv": "a,b,label\n1,2,x\n3,4\n",
    "header.csv": "a,b\n",
    "text.csv": "a,b\n1,2\n3,four\n",
    "semicolons.csv": "a;b\n1;2\n3;4\n",
    "infinite.csv": "a,b\n1,2\n3,1e999\n",
    "latin1.csv": "a,b\n1,2\n\xe9,3\n",
    "twice.csv": "a,a\n1,2\n",
    "huge.csv": "a,b\n1,2\n" + "7" * 200_000 + ",3\n",
    "hugetext.csv": "a,b\n1,2\n" + "z" * 200_000 + ",3\n",
}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ragged.csv", "ragged.csv, line 3: 3 fields, but the first row has 2"),
        ("trailing.csv", "trailing.csv, line 2: 3 fields, but the first row has 2"),
        ("short.csv", "short.csv, line 3: 1 fields, but the first row has 2"),
        ("shortlabel.csv", "line 3: 2 fields, but the first row has 3"),
        ("header.csv", "header.csv: no data rows (only a header)"),
        ("text.csv", "line 3, column 2 ('b'): 'four' is not a number"),
        ("semicolons.csv", "'1;2' is not a number; is the delimiter ';'?"),
        ("infinite.csv", "line 3, column 2 ('b'): the value is infinite"),
        ("latin1.csv", "latin1.csv: not UTF-8 text"),
        ("twice.csv", "the header names column 'a' twice"),
        ("huge.csv", "line 3: a field longer than 131,072 characters"),
        ("hugetext.csv", "line 3: a field longer than 131,072 characters"),
    ],
)
def test_both_readers_locate_bad_csv_alike(tmp_path, name, message, engine):
    path = tmp_path / name
    encoding = "latin-1" if name == "latin1.csv" else "utf-8"
    path.write_text(_BAD_FILES[name], encoding=encoding)
    target = "label" if name == "shortlabel.csv" else None
    with pytest.raises(CommandError) as error:
        read_csv(path, engine=engine, target=target)
    assert message in str(error.value)
    assert len(str(error.value)) < 300


def test_a_decimal_comma_is_named_beside_the_delimiter(tmp_path, engine):
    # the hint named ',' as the delimiter alone, where ';' was right
    path = tmp_path / "decimal.csv"
    path.write_text("a;b\n1,5;2\n")
    with pytest.raises(CommandError) as error:
        read_csv(path, delimiter=";", engine=engine)
    text = str(error.value)
    assert "is the delimiter ','?" in text
    assert "a decimal comma? Convert the file first: pandas.read_csv(" in text
    assert "sep=';', decimal=','" in text
    assert len(text) - len(str(path)) < 300
    path.write_text("a;b\n1,5,6;2\n")  # two commas: no number
    with pytest.raises(CommandError) as error:
        read_csv(path, delimiter=";", engine=engine)
    assert "decimal comma" not in str(error.value)


def test_both_readers_read_the_same_numbers(tmp_path, engine):
    path = tmp_path / "data.csv"
    path.write_text('a,"b,1",c\n1, 2 ,x\n\n3,NA,y\n-4e-3,nan, z\n')
    names, X, y = read_csv(path, target="c", engine=engine)
    assert names == ["a", "b,1"]
    np.testing.assert_array_equal(X, [[1, 2], [3, np.nan], [-4e-3, np.nan]])
    assert y.tolist() == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fit", "{bad}", "-o", "{m}"], "ragged.csv, line 3: 3 fields"),
        (["fit", "missing.csv", "-o", "{m}"], "no such file: missing.csv"),
        (["fit", "{data}", "-o", "{folder}/no/m.skvae"], "does not exist; create it"),
        (["fit", "{data}", "-o", "{folder}"], "is a folder; give a file name"),
        (["transform", "{model}", "{data}", "-o", "no/x.csv"], "does not exist"),
        (["sample", "{model}", "-n", "1000000000000"], "-n must be a positive"),
        (["fit", "{data}", "--contamination", "0.1", "-o", "{m}"], "outlier only"),
        (
            ["fit", "{data}", "--model", "vade", "--missing", "mask", "-o", "{m}"],
            "VaDE",
        ),
        (
            ["fit", "{data}", "--model", "imputer", "--missing", "error", "-o", "{m}"],
            "",
        ),
        (["predict", "{model}", "{data}"], "VAE does not predict; --model outlier"),
    ],
)
def test_bad_input_is_refused_before_any_fit(
    fitted, tmp_path, capsys, monkeypatch, args, message
):
    import skvae.cli

    def no_fit(*args, **kwargs):
        raise AssertionError("a fit started")

    monkeypatch.setattr(skvae.cli, "_build_model", no_fit)
    _, _, model = fitted
    bad = tmp_path / "ragged.csv"
    bad.write_text(_BAD_FILES["ragged.csv"])
    data = tmp_path / "data.csv"
    data.write_text("a,b,c,d\n1,2,3,4\n5,6,7,8\n")
    files = dict(bad=bad, data=data, model=model, folder=tmp_path, m=tmp_path / "m")
    assert main([a.format(**files) for a in args]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("skvae ")
    assert message in err
    assert not (tmp_path / "m").exists()


def test_the_entry_point_prints_no_traceback_for_bad_csv(tmp_path):
    for name, text in _BAD_FILES.items():
        encoding = "latin-1" if name == "latin1.csv" else "utf-8"
        (tmp_path / name).write_text(text, encoding=encoding)
    script = "import sys\nfrom skvae.cli import main\n" + "".join(
        f"main(['fit', {name!r}, '-o', 'm.skvae'])\n" for name in _BAD_FILES
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": _PYTHONPATH},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == len(_BAD_FILES)
    assert all(line.startswith("skvae fit: error: ") for line in lines)


def test_every_reader_reads_a_clean_file_exactly(tmp_path, engine):
    path = _write_data(tmp_path / "data.csv", labels=False)
    names, X, y = read_csv(path, engine=engine)
    assert names == ["a", "b", "c", "d"]
    assert y is None
    np.testing.assert_array_equal(X, DATA)


def test_running_out_of_memory_is_one_line(fitted, capsys, monkeypatch):
    import skvae.cli

    def no_room(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: 8 TB")

    monkeypatch.setattr(skvae.cli, "_write_samples", no_room)
    _, _, model = fitted
    assert main(["sample", model, "-n", "5"]) == 2
    assert "not enough memory" in capsys.readouterr().err

    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(skvae.cli, "_write_samples", bug)
    with pytest.raises(RuntimeError, match="a bug"):  # not hidden
        main(["sample", model, "-n", "5"])


# ------------------------------------------------------ hostile-user findings
def _labelled(path, labels):
    """The data file with its label column as given (None: an empty cell)."""
    with open(path, "w") as f:
        f.write("a,b,c,d,label\n")
        for row, label in zip(DATA, labels, strict=True):
            fields = [repr(float(v)) for v in row] + ["" if label is None else label]
            f.write(",".join(fields) + "\n")
    return str(path)


@pytest.mark.parametrize(
    ("labels", "classes"),
    [(["0", "1"], [0, 1]), (["x", "y"], ["x", "y"]), (["0", "01"], ["0", "01"])],
)
def test_an_empty_label_is_an_unlabelled_row_for_semisupervised(
    tmp_path, labels, classes
):
    column = [None if i % 3 == 0 else labels[i % 2] for i in range(len(DATA))]
    column[0] = "-1"  # the explicit mark, with the empty cells
    column[3] = "NA"  # and a missing-value marker (R's write.csv): no class
    data = _labelled(tmp_path / "semi.csv", column)
    model = str(tmp_path / "semi.skvae")
    args = ["fit", data, "--target", "label", "--model", "semisupervised", *FAST]
    assert main([*args, "-o", model]) == 0
    # no class "" (nor "-1"); integer labels stay numbers
    assert load(model).classes_.tolist() == classes


@pytest.mark.parametrize("model", ["conditional", "conditionalvae"])
def test_an_empty_label_is_refused_with_its_line(tmp_path, capsys, model):
    for hole in (None, "NA"):  # NA was read as a class
        column = [LABELS[i] if i != 6 else hole for i in range(len(DATA))]
        data = _labelled(tmp_path / "holes.csv", column)
        out = tmp_path / "m.skvae"
        args = ["fit", data, "--target", "label", "--model", model, *FAST]
        assert main([*args, "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert "line 8, column 'label': the label is missing" in err  # header + 6
        assert not out.exists()


def test_text_labels_given_by_index_leave_a_file_without_a_header(tmp_path, capsys):
    # the labels' text made the first data row a header: one row lost, and
    # every row's prediction written against the row after it
    path = tmp_path / "nohdr.csv"
    with open(path, "w") as f:
        for row, label in zip(DATA, LABELS, strict=True):
            f.write(",".join([*(repr(float(v)) for v in row), label]) + "\n")
    model = str(tmp_path / "c.skvae")
    args = ["fit", str(path), "--target", "4", "--model", "conditional", *FAST]
    assert main([*args, "-o", model]) == 0
    assert load(model).n_features_in_ == 4
    assert getattr(load(model), "feature_names_in_", None) is None
    capsys.readouterr()
    assert main(["transform", model, str(path), "--target", "4"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == len(DATA) + 1


def _demo_must_not_fit(monkeypatch):
    import sklearn.datasets

    def refused(*args, **kwargs):
        raise AssertionError("the demo loaded its data before checking its output")

    monkeypatch.setattr(sklearn.datasets, "load_digits", refused)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "{tmp}/d.xyz"], "'xyz' is not a figure format"),
        (["--output", "{tmp}/missing/d.png"], "does not exist; create it first"),
        (["--max-iter", "0"], "--max-iter must be at least 1"),
    ],
)
def test_demo_checks_its_options_before_fitting(
    tmp_path, capsys, monkeypatch, args, message
):
    _demo_must_not_fit(monkeypatch)
    assert main(["demo", *(a.format(tmp=tmp_path) for a in args)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()  # no folder is created


def test_run_demo_checks_its_arguments_before_fitting(tmp_path, monkeypatch):
    _demo_must_not_fit(monkeypatch)
    with pytest.raises(ValueError, match="max_iter must be at least 1"):
        run_demo(output=None, max_iter=0)
    with pytest.raises(ValueError, match="does not exist"):
        run_demo(output=tmp_path / "missing" / "d.png", max_iter=2)


@pytest.mark.parametrize(
    ("command", "output"),
    [
        (["fit", "{data}"], "{data}"),
        (["fit", "{data}"], "{relative_data}"),
        (["transform", "{model}", "{data}"], "{data}"),
        (["score", "{model}", "{data}"], "{model}"),
        (["predict", "{model}", "{data}"], "{relative_model}"),
        (["sample", "{model}"], "{model}"),
    ],
)
def test_an_output_that_is_an_input_is_refused(
    tmp_path, capsys, monkeypatch, command, output
):
    data = _write_data(tmp_path / "data.csv", labels=False)
    model = tmp_path / "model.skvae"
    assert main(["fit", str(data), *FAST, "-o", str(model)]) == 0
    before = {p: p.read_bytes() for p in (data, model)}
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    files = dict(
        data=data,
        model=model,
        relative_data="../data.csv",
        relative_model="./../model.skvae",
    )
    args = [a.format(**files) for a in [*command, "-o", output]]
    capsys.readouterr()
    assert main(args) == 2
    assert "would destroy the input" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before} == before


def test_a_row_index_saved_by_pandas_is_warned_of(tmp_path, capsys):
    lines = ["," + ",".join("abcd")]
    lines += [f"{i}," + ",".join(map(str, row.tolist())) for i, row in enumerate(DATA)]
    data = tmp_path / "indexed.csv"
    data.write_text("\n".join(lines) + "\n")
    model = tmp_path / "m.skvae"
    assert main(["fit", str(data), *FAST, "-o", str(model)]) == 0
    err = capsys.readouterr().err
    assert "the first column has no name and counts the rows" in err
    assert "index=False" in err
    assert load(model).n_features_in_ == 5  # warned of, not dropped
    plain = _write_data(tmp_path / "plain.csv", labels=False)
    assert main(["fit", str(plain), *FAST, "-o", str(model)]) == 0
    assert "counts the rows" not in capsys.readouterr().err


def test_a_detector_scores_alike_with_a_header_or_without(tmp_path, capsys):
    # with a header the rows reached the detector as a DataFrame, read as a
    # table (no centring of rows far from order 1): other scores and flags
    X = DATA * [1.0, 10.0, 100.0, 0.1] + [20, 5, -50, 1]
    scores = []
    for header in ("a,b,c,d", ""):
        data = tmp_path / f"data{len(header)}.csv"
        np.savetxt(data, X, delimiter=",", header=header, comments="")
        model = str(tmp_path / "det.skvae")
        args = ["--model", "outlier", "--random-state", "0", "-o", model]
        assert main(["fit", str(data), *args]) == 0
        capsys.readouterr()
        assert main(["score", model, str(data)]) == 0
        scores.append(np.array(capsys.readouterr().out.split()[1:], float))
    assert load(model).input_offset_ is not None  # rows far from order 1
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-6)


def test_a_target_not_found_in_a_file_of_another_delimiter_names_it(tmp_path, engine):
    # a tab-separated file read with commas has one column whose name holds
    # the tabs: the message listed it without a word about the delimiter
    path = tmp_path / "tabs.tsv"
    path.write_text("a\tb\tlabel\n1\t2\tx\n3\t4\ty\n")
    hint = r"Is the delimiter '\\t'\? Use --delimiter 'tab'"
    with pytest.raises(CommandError, match=hint):
        read_csv(path, target="label", engine=engine)
    names, _, y = read_csv(path, target="label", delimiter="\t", engine=engine)
    assert names == ["a", "b"]
    assert y.tolist() == ["x", "y"]


def test_a_european_csv_names_the_delimiter_then_the_decimal_comma(tmp_path, engine):
    # ';' between fields and a decimal comma: read with ',' the rows were
    # ragged, and the message named no delimiter although the header held ';'
    path = tmp_path / "excel.csv"
    path.write_text("x;y;z\n1,5;2,25;-3,0\n4,5;5,0;6,75\n")
    with pytest.raises(CommandError) as error:
        read_csv(path, engine=engine)
    text = str(error.value)
    assert "line 2: 4 fields, but the first row has 1" in text
    assert "is the delimiter ';'? Use --delimiter ';'" in text
    with pytest.raises(CommandError) as error:
        read_csv(path, delimiter=";", engine=engine)
    text = str(error.value)
    assert "'1,5' is not a number: a decimal comma? Convert the file first" in text
    assert text.index("decimal comma") < text.index("is the delimiter ','")
    # rows ragged for another reason: no delimiter named
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(CommandError) as error:
        read_csv(path, engine=engine)
    assert "is the delimiter" not in str(error.value)


def test_identifier_columns_are_warned_of_and_dropped(tmp_path, capsys):
    # a column of patient IDs was modelled as a feature, silently, and
    # sample then wrote IDs such as 1038.85
    rows = [
        f"{1000 + i},{x},{y},P-{i}" for i, (x, y) in enumerate(DATA[:, :2].tolist())
    ]
    data = tmp_path / "ids.csv"
    data.write_text("patient_id,x,y,code\n" + "\n".join(rows) + "\n")
    model = str(tmp_path / "m.skvae")
    assert main(["fit", str(data), "--drop", "code", *FAST, "-o", model]) == 0
    err = capsys.readouterr().err
    assert "column 'patient_id' looks like a row identifier (its name)" in err
    assert "leave it out with --drop patient_id" in err
    # by name or by index (a text column too), in any order
    for drop in (["patient_id", "code"], ["-1", "0"]):
        assert main(["fit", str(data), "--drop", *drop, *FAST, "-o", model]) == 0
        assert "identifier" not in capsys.readouterr().err
        assert load(model).feature_names_in_.tolist() == ["x", "y"]
    assert main(["sample", model, "-n", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "x,y"
    # the other commands leave the same columns out, and say so
    assert main(["score", model, str(data), "--drop", "code"]) == 2
    assert "(leave the others out: --drop patient_id)" in capsys.readouterr().err
    assert main(["score", model, str(data), "--drop", "code", "patient_id"]) == 0
    # no name: a column of distinct consecutive whole numbers, by its index
    headerless = tmp_path / "headerless.csv"
    headerless.write_text("\n".join(r.rsplit(",", 1)[0] for r in rows) + "\n")
    assert main(["fit", str(headerless), *FAST, "-o", model]) == 0
    err = capsys.readouterr().err
    assert "column 1 looks like a row identifier (the whole numbers 1000 to" in err
    assert "--drop 0 if it names rows" in err
    # months 1 to 12 and a grid's rows are features, named so
    for name in ("month", "row"):
        table = tmp_path / f"{name}.csv"
        values = DATA[:12, 0].tolist()
        body = "".join(f"{i + 1},{v}\n" for i, v in enumerate(values))
        table.write_text(f"{name},x\n" + body)
        assert main(["fit", str(table), *FAST, "-o", model]) == 0
        assert "identifier" not in capsys.readouterr().err
    # reset_index's column of a shuffled frame: by its name
    table = tmp_path / "shuffled.csv"
    ids = sorted(np.random.RandomState(0).choice(100, 12, replace=False).tolist())
    body = "".join(f"{i},{v}\n" for i, v in zip(ids, DATA[:12, 0], strict=True))
    table.write_text("index,x\n" + body)
    assert main(["fit", str(table), *FAST, "-o", model]) == 0
    assert "column 'index' looks like a row identifier (its name)" in (
        capsys.readouterr().err
    )


def test_drop_before_the_data_file_says_where_to_put_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--drop", "id", "data.csv", "-o", "m.skvae"])
    assert exit_info.value.code == 2
    assert "put it before --drop, which takes every value" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (["nope"], "no column named 'nope' (columns: a, b, label)"),
        (["label"], "--drop label is the --target column"),
        (["a", "b"], "--drop leaves no data column"),
    ],
)
def test_drop_refuses_what_it_cannot_leave_out(tmp_path, capsys, drop, message):
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n1,2,x\n3,4,y\n")
    args = ["fit", str(data), "--target", "label", "--drop", *drop, "-o", "m"]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_every_reader_leaves_dropped_columns_out(tmp_path, engine):
    path = tmp_path / "data.csv"
    path.write_text("id,a,b,label\nP-1,1,2,x\nP-2,3,,y\n")
    names, X, y = read_csv(path, target="label", drop=["id"], engine=engine)
    assert names == ["a", "b"]
    np.testing.assert_array_equal(X, [[1, 2], [3, np.nan]])
    assert y.tolist() == ["x", "y"]
    path.write_text("P-1,1,x\nP-2,3,y\n")  # a text column by index: no header
    names, X, y = read_csv(path, target="2", drop=["0"], engine=engine)
    assert names is None
    assert X.tolist() == [[1], [3]]
    # a bad cell is named by its column in the file
    path.write_text("id,a,b\nP-1,1,2\nP-2,3,four\n")
    with pytest.raises(CommandError, match=r"line 3, column 3 \('b'\): 'four'"):
        read_csv(path, drop=["id"], engine=engine)


def test_a_delimiter_ending_every_row_is_no_column(tmp_path, capsys, engine):
    # "a,b,c," over "1,2,3,": an empty last column without a name, which the
    # error then asked to fill or mask (both of which failed)
    path = tmp_path / "trail.csv"
    rows = [",".join(map(str, row.tolist())) + ",\n" for row in DATA]
    path.write_text("a,b,c,d,label,\n" + "".join(rows).replace(",\n", ",x,\n"))
    with pytest.warns(UserWarning, match="every row ends with the delimiter ','"):
        names, X, y = read_csv(path, target="-1", engine=engine)
    assert names == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(X, DATA)
    assert set(y.tolist()) == {"x"}  # -1: the last column that has values
    path.write_text("".join(rows))  # no header
    with pytest.warns(UserWarning, match="makes an empty last column: it is left"):
        names, X, _ = read_csv(path, engine=engine)
    assert names is None
    np.testing.assert_array_equal(X, DATA)
    model = str(tmp_path / "m.skvae")
    assert main(["fit", str(path), *FAST, "-o", model]) == 0
    assert "empty last column" in capsys.readouterr().err
    assert load(model).n_features_in_ == 4
    # one row only: the ragged row's message says so
    path.write_text("a,b\n1,2,\n3,4\n")
    with pytest.raises(CommandError, match="it ends with the delimiter ',': delete"):
        read_csv(path, engine=engine)


@pytest.mark.parametrize("model", ["vae", "imputer"])
def test_a_column_without_values_is_named_with_drop(tmp_path, capsys, model):
    path = tmp_path / "empty.csv"
    path.write_text("a,b,c\n1,,2\n3,NA,4\n")
    args = ["fit", str(path), "--model", model, "--missing", "mask", "-o", "m"]
    assert main(args if model == "vae" else args[:4] + args[6:]) == 2
    err = capsys.readouterr().err
    assert "column 2 ('b') has no value in any row" in err
    assert "leave it out with --drop b" in err


def test_a_header_of_years_is_a_header(tmp_path, capsys, engine):
    # years over values in [0, 1] were read as a data row: 41 rows without
    # names, and --standardize scaled by the years
    values = np.random.RandomState(1).uniform(size=(40, 3))
    body = "".join(",".join(f"{v:.3f}" for v in row) + "\n" for row in values)
    path = tmp_path / "years.csv"
    path.write_text("2019,2020,2021\n" + body)
    with pytest.warns(UserWarning, match=r"first row \(2019, 2020, 2021\) holds"):
        names, X, _ = read_csv(path, engine=engine)
    assert names == ["2019", "2020", "2021"]
    np.testing.assert_allclose(X, values, atol=5e-4)
    assert read_csv(path, header=False, engine=engine)[1].shape == (41, 3)
    model = str(tmp_path / "m.skvae")
    assert main(["fit", str(path), "--standardize", *FAST, "-o", model]) == 0
    assert "--no-header if that row is data" in capsys.readouterr().err
    fitted = load(model)
    assert fitted.feature_names_in_.tolist() == ["2019", "2020", "2021"]
    np.testing.assert_allclose(fitted.cli_scaler_["mean"], values.mean(0), atol=5e-4)
    # years over values of their own order: data, but --header is named
    path.write_text("2019,2020\n1500.5,1700.25\n1400.75,1800.5\n")  # outside
    with pytest.warns(UserWarning, match="read as data .pass --header if it names"):
        names, X, _ = read_csv(path, engine=engine)
    assert names is None
    assert X.shape == (3, 2)


def test_an_outlier_first_row_of_new_rows_is_data(tmp_path, capsys):
    # a few new rows whose first is an outlier of whole numbers looked like
    # a header of years: score dropped it, and wrote one score too few
    counts = np.random.RandomState(0).poisson(3, size=(200, 3))
    train = tmp_path / "counts.csv"
    np.savetxt(train, counts, fmt="%d", delimiter=",")
    model = str(tmp_path / "m.skvae")
    assert main(["fit", str(train), "--model", "outlier", *FAST, "-o", model]) == 0
    new = tmp_path / "new.csv"
    new.write_text("40,25,31\n3,2,4\n1,5,2\n")
    capsys.readouterr()
    assert main(["score", model, str(new)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # "score" and one a row
    assert float(lines[1]) < min(float(lines[2]), float(lines[3]))
    # and a fit's file of a few rows keeps it too, saying --header
    with pytest.warns(UserWarning, match="read as data .pass --header"):
        names, X, _ = read_csv(new)
    assert names is None
    assert X.shape == (3, 3)
    # pandas' header 0, 1, 2 is still a header for the model's rows; a row
    # of the same numbers in another order is data
    counted = tmp_path / "counted.csv"
    counted.write_text("0,1,2\n2,0,1\n3,2,4\n")
    capsys.readouterr()
    assert main(["score", model, str(counted)]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3
    assert "counts the columns 0, 1, 2" in captured.err
    named = str(tmp_path / "named.skvae")
    body = "".join(",".join(map(str, row)) + "\n" for row in counts)
    train.write_text("0,1,2\n" + body)
    assert main(["fit", str(train), "--model", "outlier", *FAST, "-o", named]) == 0
    new.write_text("2,0,1\n3,2,4\n")
    capsys.readouterr()
    assert main(["score", named, str(new)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


@pytest.mark.parametrize(
    "text",
    [
        "1,2\n3,4\n5,6\n",  # whole numbers below too
        "5,7\n5.5,8.25\n4.75,6.125\n",  # within the range of the values below
        "3,5\n2.5,4.5\n1.5,5.5\n",  # rounded data: within their ranges
        "2019,2019\n0.5,0.25\n0.75,0.125\n",  # not distinct
        "2019.0,2020.0\n0.5,0.25\n0.75,0.125\n",  # not written as integers
        "2019\n0.5\n0.75\n",  # one column: no telling
    ],
)
def test_a_first_row_of_numbers_stays_data_quietly(tmp_path, text, engine):
    path = tmp_path / "data.csv"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names, X, _ = read_csv(path, engine=engine)
    assert names is None
    assert len(X) == 3


@pytest.mark.parametrize("model", ["conditional", "semisupervised"])
def test_sample_writes_the_labels_it_draws(tmp_path, capsys, model):
    # drawn labels (no --label) were not written: the rows' classes unknown
    data = tmp_path / "data.csv"
    data.write_text(
        "a,b,species\n"
        + "".join(
            f"{x},{y},{k}\n"
            for (x, y), k in zip(DATA[:, :2].tolist(), LABELS, strict=True)
        )
    )
    path = str(tmp_path / "m.skvae")
    args = ["fit", str(data), "--model", model, "--target", "species", *FAST]
    assert main([*args, "-o", path]) == 0
    fitted = load(path)
    capsys.readouterr()
    assert main(["sample", path, "-n", "40", "--random-state", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "a,b,species"
    rows = [line.split(",") for line in out[1:]]
    labels = np.array([row[-1] for row in rows])
    assert set(labels) == {"x", "y"}  # drawn from the class prior (1/2 each)
    # the rows of those classes, as model.sample gives them
    values = np.array([row[:-1] for row in rows], dtype=float)
    np.testing.assert_allclose(values, fitted.sample(40, 3, y=labels), rtol=1e-6)
    assert main(["sample", path, "-n", "40", "--random-state", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == out  # the same seed, the same
