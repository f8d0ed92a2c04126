"""The documentation: gallery scripts run, the Sphinx build passes with -W.

The gallery scripts run with ``SKVAE_EXAMPLES_QUICK=1`` (tiny fits), in one
subprocess for all of them (importing torch once), and again inside the Sphinx
build, which copies ``docs/`` and ``examples/`` to a temporary folder so that
nothing is written into the source tree.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
GENERATED = ("_build", "generated", "auto_examples", "sg_execution_times.rst")

# Runs every script given on the command line in this one process, in a fresh
# namespace each (as sphinx-gallery does), and writes one JSON record per
# script: the error's traceback or None, and the number of figures it made.
_RUNNER = """
import json, runpy, sys, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

results = {}
for path in sys.argv[2:]:
    try:
        runpy.run_path(path, run_name="__main__")
        error = None
    except BaseException:
        error = traceback.format_exc()
    results[path] = {"error": error, "n_figures": len(plt.get_fignums())}
    plt.close("all")
with open(sys.argv[1], "w") as f:
    json.dump(results, f)
"""


def _quick_env():
    env = dict(os.environ)
    env["SKVAE_EXAMPLES_QUICK"] = "1"
    env["MPLBACKEND"] = "Agg"
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH")) if p
    )
    return env


def test_gallery_has_the_examples():
    names = {p.stem for p in EXAMPLES}
    assert len(names) >= 7
    assert (ROOT / "examples" / "GALLERY_HEADER.rst").exists()
    for path in EXAMPLES:
        text = path.read_text()
        # the sphinx-gallery header: a docstring opening with an underlined title
        assert re.match(r'"""\n(.+)\n(=+)\n', text), path.name
        assert "SKVAE_EXAMPLES_QUICK" in text, path.name


@pytest.fixture(scope="module")
def gallery_results(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("gallery") / "results.json"
    cmd = [sys.executable, "-c", _RUNNER, str(out), *map(str, EXAMPLES)]
    proc = subprocess.run(
        cmd,
        env=_quick_env(),
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_quickly(gallery_results, script):
    result = gallery_results[str(script)]
    assert result["error"] is None, result["error"]
    assert result["n_figures"] >= 1


def _public_names():
    import inspect

    import skvae
    import skvae.plotting
    from skvae import datasets, metrics, nn

    # submodules in skvae.__all__ are documented by their own sections
    names = [n for n in skvae.__all__ if not inspect.ismodule(getattr(skvae, n))]
    for module in (skvae.plotting, metrics, datasets, nn):
        names += module.__all__
    return names


def test_api_reference_lists_every_public_name():
    text = (DOCS / "api.rst").read_text()
    listed = set(re.findall(r"^   (\w+)$", text, flags=re.M))
    listed |= set(re.findall(r"^\.\. autodata:: (\w+)$", text, flags=re.M))
    missing = [n for n in _public_names() if n not in listed]
    assert not missing, f"add to docs/api.rst: {missing}"


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("matplotlib")
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns(*GENERATED))
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    out = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q"]
    cmd += ["-b", "html", str(src), str(out)]
    proc = subprocess.run(
        cmd,
        env=_quick_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert (out / "generated" / "skvae.VAE.html").exists()
    assert (out / "generated" / "skvae.plotting.SamplesDisplay.html").exists()
    for script in EXAMPLES:
        assert (out / "auto_examples" / f"{script.stem}.html").exists()
        assert list((out / "_images").glob(f"sphx_glr_{script.stem}_*.png"))
    page = (out / "generated" / "skvae.VAE.html").read_text()
    assert 'id="skvae.VAE.transform"' in page  # inherited from BaseVAE


def test_api_estimators_section_is_the_estimator_list():
    # skvae.__all__ is the one list of estimators (persistence, the command
    # line and the common checks read it); the API page's first section
    # lists exactly those estimators.
    from skvae.persistence import _registry

    text = (DOCS / "api.rst").read_text()
    section = text.split("Estimators\n==========")[1].split("Default models")[0]
    listed = set(re.findall(r"^   (\w+)$", section, flags=re.M))
    assert listed == set(_registry())


def test_the_tests_the_readme_names_exist():
    # The README's Reliability section backs each promise with a named test.
    text = (ROOT / "README.md").read_text()
    named = re.findall(r"`(tests/\w+\.py)?::(\w+)`", text)
    assert len(named) >= 10
    current = None
    for path, name in named:
        current = path or current
        source = (ROOT / current).read_text()
        assert f"def {name}(" in source, f"{current}::{name}"
