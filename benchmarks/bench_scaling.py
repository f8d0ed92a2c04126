"""Linear scaling: a VAE's fit time per row and peak memory from 10k to 1M rows.

Each size is fitted in a fresh Python process (so that the peak memory is that
fit's own): synthetic rows of 50 features with a known low-dimensional
structure, a linear-Gaussian model ``x = A z + e`` with ``z ~ N(0, I_5)``,
``e ~ N(0, 0.1^2 I)`` and a random ``A`` whose columns are scaled so that each
feature has variance about 1. Its exact log-density is known (a Gaussian with
covariance ``A A^T + 0.01 I``), so the quality of a fit is the gap, in nats
per row, between that log-density and the VAE's ELBO (``score_samples``) on
10,000 held-out rows: near 0 for a model that found the structure (the ELBO
is a lower bound, so the gap is positive up to noise).

Two budgets are fitted at each size: a fixed number of epochs (``--epochs``,
default 2) and the default budget (``max_iter="auto"``: epochs chosen from the
number of rows, see the user guide, "Training budgets"). Printed per size and
budget: epochs trained, seconds per 1,000 rows per epoch (the fit's wall time
over epochs and rows), the whole fit's seconds, the peak resident memory
above the level after importing torch and skvae (``ru_maxrss`` of the child
process, which also holds the data), the data's own size, and the held-out
gap.

Targets (issue #26): seconds per 1,000 rows per epoch at 1,000,000 rows within
1.3x of the figure at 100,000; peak memory at 1,000,000 rows no more than the
data's size plus 500 MB. Run from the repository root::

    python benchmarks/bench_scaling.py                 # 10k, 100k, 1M rows
    python benchmarks/bench_scaling.py --sizes 10000 100000 --budgets fixed

On a shared machine add ``--threads 1`` (the default): the figures are per
thread, and a busy core slows a multi-threaded epoch unevenly.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

N_FEATURES = 50
N_LATENT = 5
NOISE = 0.1
N_TEST = 10_000
CHUNK = 65_536
TARGET_TIME_RATIO = 1.3
TARGET_EXTRA_MB = 500.0


def _rss_mb() -> float:
    """The process's resident memory now, in MB (psutil, else /proc)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # Linux without psutil
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (``ru_maxrss``)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def structure(seed: int):
    """The mixing matrix ``A`` (features x latents) of the generating model."""
    import numpy as np

    rng = np.random.RandomState(seed)
    A = rng.normal(size=(N_FEATURES, N_LATENT))
    # each feature's variance: |A_i|^2 + NOISE^2 = 1
    A *= np.sqrt(1 - NOISE**2) / np.linalg.norm(A, axis=1, keepdims=True)
    return A


def make_rows(n_rows: int, A, seed: int, dtype):
    """``n_rows`` rows of ``x = A z + e``, written chunk by chunk.

    No temporary is the size of the data.
    """
    import numpy as np

    rng = np.random.RandomState(seed)
    X = np.empty((n_rows, N_FEATURES), dtype=dtype)
    for start in range(0, n_rows, CHUNK):
        m = min(CHUNK, n_rows - start)
        z = rng.normal(size=(m, N_LATENT))
        X[start : start + m] = z @ A.T + NOISE * rng.normal(size=(m, N_FEATURES))
    return X


def true_log_density(X, A):
    """Exact per-row log-density of the generating model."""
    import numpy as np

    cov = A @ A.T + NOISE**2 * np.eye(N_FEATURES)
    _, logdet = np.linalg.slogdet(cov)
    L = np.linalg.cholesky(cov)
    sol = np.linalg.solve(L, X.T)
    return -0.5 * (N_FEATURES * np.log(2 * np.pi) + logdet + (sol**2).sum(0))


def child(n_rows: int, budget: str, epochs: int, seed: int, dtype: str) -> dict:
    """One fit in this (fresh) process; returns its figures."""
    import numpy as np
    import torch  # noqa: F401  (the baseline is taken after importing it)

    import skvae

    base = _rss_mb()
    A = structure(seed)
    X = make_rows(n_rows, A, seed + 1, np.dtype(dtype))
    max_iter = epochs if budget == "fixed" else "auto"
    vae = skvae.VAE(max_iter=max_iter, random_state=seed)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of short fits
        start, cpu = time.perf_counter(), time.process_time()
        vae.fit(X)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    peak = _peak_mb() - base
    X_test = make_rows(N_TEST, A, seed + 2, np.float64)
    gap = float(np.mean(true_log_density(X_test, A) - vae.score_samples(X_test)))
    epochs_run = vae.n_iter_
    per_1k_epoch = max(epochs_run, 1) * n_rows / 1000
    return {
        "rows": n_rows,
        "budget": budget,
        "epochs": epochs_run,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "per_1k_epoch": seconds / per_1k_epoch,
        "cpu_per_1k_epoch": cpu / per_1k_epoch,
        "peak_mb": peak,
        "data_mb": X.nbytes / 2**20,
        "gap": gap,
    }


def run_child(args, n_rows: int, budget: str) -> dict:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(args.threads))
    env.setdefault("SKVAE_NUM_THREADS", str(args.threads))
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        str(n_rows),
        budget,
        "--epochs",
        str(args.epochs),
        "--seed",
        str(args.seed),
        "--dtype",
        args.dtype,
        "--threads",
        str(args.threads),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"the fit on {n_rows} rows ({budget}) failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(results: list[dict]) -> None:
    print(
        f"{'rows':>9s} {'budget':>6s} {'epochs':>6s} {'s/1k/ep':>8s} "
        f"{'cpu/1k/ep':>9s} {'fit s':>8s} {'peak MB':>8s} {'data MB':>8s} "
        f"{'gap':>7s}"
    )
    for r in results:
        print(
            f"{r['rows']:9d} {r['budget']:>6s} {r['epochs']:6d} "
            f"{r['per_1k_epoch']:8.4f} {r['cpu_per_1k_epoch']:9.4f} "
            f"{r['seconds']:8.1f} {r['peak_mb']:8.0f} {r['data_mb']:8.0f} "
            f"{r['gap']:7.2f}"
        )
    print(
        "s/1k/ep: the fit's wall seconds per 1,000 rows and epoch (cpu/1k/ep: its "
        "CPU seconds, steadier on a shared machine); gap: nats per held-out row "
        "between the true log-density and the ELBO"
    )
    for budget in ("fixed", "auto"):
        by = {r["rows"]: r for r in results if r["budget"] == budget}
        if 100_000 in by and 1_000_000 in by:
            for key, what in (("per_1k_epoch", "wall"), ("cpu_per_1k_epoch", "CPU")):
                ratio = by[1_000_000][key] / by[100_000][key]
                verdict = "PASS" if ratio <= TARGET_TIME_RATIO else "FAIL"
                print(
                    f"{budget}: {what} s/1k rows/epoch at 1M / at 100k = "
                    f"{ratio:.2f}x (target <= {TARGET_TIME_RATIO}x): {verdict}"
                )
        for rows, r in sorted(by.items()):
            extra = r["peak_mb"] - r["data_mb"]
            verdict = "PASS" if extra <= TARGET_EXTRA_MB else "FAIL"
            print(
                f"{budget}: peak at {rows} rows = data + {extra:.0f} MB "
                f"(target <= data + {TARGET_EXTRA_MB:.0f} MB): {verdict}"
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument(
        "--budgets", nargs="+", default=["fixed", "auto"], choices=["fixed", "auto"]
    )
    parser.add_argument(
        "--epochs", type=int, default=2, help="epochs of the fixed budget"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dtype", default="float64", choices=["float64", "float32"], help="of X"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--child", nargs=2, metavar=("ROWS", "BUDGET"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        import torch

        torch.set_num_threads(args.threads)
        result = child(
            int(args.child[0]), args.child[1], args.epochs, args.seed, args.dtype
        )
        print(json.dumps(result))
        return 0
    results = []
    for budget in args.budgets:
        for n_rows in args.sizes:
            r = run_child(args, n_rows, budget)
            print(
                f"  {n_rows} rows, {budget}: {r['epochs']} epochs, "
                f"{r['seconds']:.1f} s, peak +{r['peak_mb']:.0f} MB",
                flush=True,
            )
            results.append(r)
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
