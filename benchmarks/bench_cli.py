"""The command line's start-up time and its CSV reader against pandas.

Two figures:

- the wall time of ``skvae --help`` in a fresh Python process (the console
  script's entry point, ``skvae.cli:main``), median of ``--runs`` runs, next
  to a bare ``python -c pass`` for scale;
- the CLI's CSV reader (:func:`skvae.cli.read_csv`, both engines) against
  ``pandas.read_csv`` on a 200,000 x 20 file of random floats (shortest
  exact form, as the CLI writes them), median of ``--repeats``, with the
  ratio; and the readers used without pandas.

Run with::

    python benchmarks/bench_cli.py              # --rows 200000 --runs 7

Target (issue #24): ``skvae --help`` under half a second; the reader close
to ``pandas.read_csv`` (it is ``pandas.read_csv`` plus a header pass).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_ENTRY = "import sys; from skvae.cli import main; sys.exit(main(sys.argv[1:]))"


def run_time(args: list[str], runs: int) -> float:
    """Median wall time of ``python args`` in a fresh process, in seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, *args], env=env, check=True, capture_output=True
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7, help="start-up runs")
    parser.add_argument("--repeats", type=int, default=3, help="reads of the file")
    args = parser.parse_args()

    bare = run_time(["-c", "pass"], args.runs)
    help_time = run_time(["-c", _ENTRY, "--help"], args.runs)
    module_time = run_time(["-m", "skvae", "--help"], args.runs)
    print(f"python -c pass        {bare:6.3f} s (median of {args.runs})")
    print(f"skvae --help          {help_time:6.3f} s (target < 0.5 s)")
    print(f"python -m skvae --help {module_time:5.3f} s")

    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from skvae.cli import read_csv

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.columns))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        with open(path, "w") as f:
            f.write(",".join(f"x{j}" for j in range(args.columns)) + "\n")
            for row in X.tolist():
                f.write(",".join(map(repr, row)) + "\n")
        size = path.stat().st_size / 1e6
        print(
            f"\nreading {args.rows:,} x {args.columns} ({size:.0f} MB), "
            f"median of {args.repeats}:"
        )
        t_pandas = median_time(lambda: pd.read_csv(path), args.repeats)
        t_cli = median_time(lambda: read_csv(path), args.repeats)
        t_numpy = median_time(lambda: read_csv(path, engine="numpy"), 1)
        t_python = median_time(lambda: read_csv(path, engine="python"), 1)
        _, read, _ = read_csv(path)
        assert np.array_equal(read, X)
    print(f"pandas.read_csv       {t_pandas:6.2f} s")
    print(f"skvae read_csv        {t_cli:6.2f} s  ratio {t_cli / t_pandas:.2f}x pandas")
    print("without pandas (one run each):")
    print(
        f"skvae read_csv, numpy {t_numpy:6.2f} s  ratio {t_numpy / t_pandas:.2f}x "
        "pandas (engine='numpy': numpy.loadtxt, files with no empty cell)"
    )
    print(
        f"skvae read_csv, csv   {t_python:6.2f} s  ratio {t_python / t_pandas:.2f}x "
        "pandas (engine='python': empty cells, a target, bad input)"
    )


if __name__ == "__main__":
    main()
