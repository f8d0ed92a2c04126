"""The README's demo: python -m skvae demo."""

import subprocess
import sys

import pytest

from skvae.cli import main, run_demo


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
