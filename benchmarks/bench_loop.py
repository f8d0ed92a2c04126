"""Time skvae's training loop against a lean loop on small tables.

On small tables an epoch is one or two steps of a few milliseconds, so the
loop's fixed cost per epoch (the restore point for a non-finite loss, the
finiteness check, the history record, the callbacks) and per step (the
step's context, the running sums, the optimiser's call) is a large share
of a fit. This benchmark trains a model on a small table, twice,
interleaved:

* **skvae**: the estimator's ``fit`` with a fixed number of epochs (no
  stopping rule), timed from one epoch's ``on_epoch_begin`` to the next
  one's;
* **lean**: a hand-written loop over the same module, data, batch size and
  fused Adam: ``randperm``, index, ``module(*batch, ctx)``, mean loss,
  ``zero_grad``, ``backward``, ``step``, one read of the loss per epoch.

Models (``--model``): ``imputer``, the VAE that ``VAEImputer`` fits
(``default_imputer_vae``, 10% of the entries missing), or ``vae``, a
default ``VAE`` on the complete table. Tables (``--tables``): ``wine``
(178 x 13), ``iris`` (150 x 4), ``gauss_150x4`` (correlated Gaussian
rows), ``gauss_120x4`` (``bench_impute.py``'s equicorrelated table).

It prints the steps of an epoch, the median CPU time
(``time.process_time``) of a step of each loop (an epoch's time over its
steps) and their ratio, and the same in wall time. Run it single-threaded;
``PYTHONPATH`` picks the skvae that is timed (another checkout's, for a
before/after comparison with the same script)::

    export SKVAE_NUM_THREADS=1 OMP_NUM_THREADS=1
    PYTHONPATH=. python benchmarks/bench_loop.py --model imputer vae
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_iris, load_wine

import skvae
from skvae._torch import adam
from skvae.impute import default_imputer_vae
from skvae.nn.base import StepContext

TABLES = ("wine", "iris", "gauss_150x4", "gauss_120x4")


def table(name: str, seed: int, missing: float = 0.1) -> np.ndarray:
    """A small standardised table, ``missing`` of its entries NaN."""
    rng = np.random.default_rng(seed)
    if name == "wine":
        X = load_wine().data
    elif name == "iris":
        X = load_iris().data
    elif name == "gauss_120x4":  # as bench_impute.py's
        gen = np.random.default_rng(11)
        X = gen.multivariate_normal(np.zeros(4), 0.5 * np.eye(4) + 0.5, size=120)
    elif name == "gauss_150x4":  # correlated Gaussian rows
        A = rng.normal(size=(4, 4))
        X = rng.normal(size=(150, 4)) @ A
    else:
        raise ValueError(f"Unknown table {name!r}; one of {TABLES}.")
    X = (X - X.mean(0)) / X.std(0)
    X = X.copy()
    if missing:
        X[rng.random(X.shape) < missing] = np.nan
    return X


class Clock(skvae.Callback):
    """CPU and wall time from each epoch's start to the next one's."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, float]] = []

    def on_epoch_begin(self, trainer: Any, **kwargs: Any) -> None:
        self.marks.append((time.process_time(), time.perf_counter()))

    def on_train_end(self, trainer: Any, **kwargs: Any) -> None:
        self.marks.append((time.process_time(), time.perf_counter()))

    def epochs(self) -> list[tuple[float, float]]:
        return [
            (c1 - c0, w1 - w0)
            for (c0, w0), (c1, w1) in zip(self.marks, self.marks[1:], strict=False)
        ]


def build(model: str, X: np.ndarray, seed: int) -> Any:
    """The unfitted estimator of ``--model``."""
    if model == "imputer":
        return default_imputer_vae(*X.shape, random_state=seed)
    if model == "vae":
        return skvae.VAE(random_state=seed)
    raise ValueError(f"Unknown model {model!r}; 'imputer' or 'vae'.")


def run_skvae(
    X: np.ndarray, epochs: int, seed: int, model_name: str = "imputer"
) -> tuple[list, Any, tuple[list, int]]:
    """Fit the model for ``epochs`` epochs: epoch times, model, (data, batch)."""
    captured: list = []
    fit = skvae._training.Trainer.fit

    def capture(self: Any, train: Sequence[torch.Tensor], *args: Any, **kw: Any):
        captured.append((train, self.batch_size))
        return fit(self, train, *args, **kw)

    clock = Clock()
    model = build(model_name, X, seed)
    model.set_params(max_iter=epochs, n_iter_no_change=epochs + 1, callbacks=[clock])
    skvae._training.Trainer.fit = capture  # type: ignore[method-assign]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X)
    finally:
        skvae._training.Trainer.fit = fit  # type: ignore[method-assign]
    # the first epoch warms up; (data, batch size) of the last training phase
    return clock.epochs()[1:], model, captured[-1]


def run_lean(
    module: torch.nn.Module, data: Sequence[torch.Tensor], batch: int, epochs: int
) -> list[tuple[float, float]]:
    """The lean loop over ``module`` and ``data``; CPU and wall time per epoch."""
    module.train()
    optimizer = adam([p for p in module.parameters() if p.requires_grad], 0.01)
    gen = torch.Generator().manual_seed(0)
    n = data[0].shape[0]
    timed = []
    for _ in range(epochs + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        total = torch.zeros(())
        for lo in range(0, n, batch):
            idx = perm[lo : lo + batch]
            ctx = StepContext(beta=1.0, free_bits=0.0, generator=gen, n_train=n)
            loss = module(*[t[idx] for t in data], ctx=ctx).loss.mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
        float(total)
        timed.append((time.process_time() - c0, time.perf_counter() - w0))
    return timed[1:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["wine", "gauss_120x4"])
    parser.add_argument(
        "--model", nargs="+", default=["imputer"], choices=["imputer", "vae"]
    )
    parser.add_argument("--epochs", type=int, default=200, help="epochs per fit")
    parser.add_argument("--repeats", type=int, default=3, help="fits per method")
    args = parser.parse_args(argv)
    print(
        f"skvae {skvae.__version__} from {skvae.__path__[0]}; torch "
        f"{torch.__version__}, {torch.get_num_threads()} thread(s)"
    )
    print(
        f"{'model':8s} {'table':12s} {'steps':>5s} {'skvae ms':>9s} {'lean ms':>8s} "
        f"{'ratio':>6s}  (a step, CPU; wall)"
    )
    for model_name in args.model:
        for name in args.tables:
            X = table(name, 0, missing=0.1 if model_name == "imputer" else 0.0)
            ours: list[tuple[float, float]] = []
            lean: list[tuple[float, float]] = []
            for r in range(args.repeats):
                timed, model, (data, batch) = run_skvae(X, args.epochs, r, model_name)
                ours += timed
                module = copy.deepcopy(model.module_)
                lean += run_lean(module, data, batch, args.epochs)
            steps = -(-data[0].shape[0] // batch)
            cpu = [statistics.median(t[i] for t in ours) * 1e3 / steps for i in (0, 1)]
            ref = [statistics.median(t[i] for t in lean) * 1e3 / steps for i in (0, 1)]
            print(
                f"{model_name:8s} {name:12s} {steps:5d} {cpu[0]:9.3f} {ref[0]:8.3f} "
                f"{cpu[0] / ref[0]:5.2f}x  (wall {cpu[1]:.3f} / {ref[1]:.3f} "
                f"= {cpu[1] / ref[1]:.2f}x)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
