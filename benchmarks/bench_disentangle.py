"""Does a larger beta disentangle more? beta-VAE on sprites with known factors.

Data: ``skvae.datasets.make_sprites`` (16x16, four independent factors: shape,
scale, x and y position; 768 combinations). Each model is trained on
``--n-samples`` sprites drawn with seed 0 and evaluated on the full grid of
combinations (each exactly once, so the factors there are exactly uniform and
independent).

Rows: ``VAE(n_components=10, beta=b, likelihood="bernoulli")`` for each beta,
over several seeds (mean ± std); PCA with as many components; and the true
factors themselves as codes (the ceiling). Columns: mutual information gap
(MIG), DCI disentanglement, completeness and informativeness (held-out
accuracy of predicting the factors from the codes), reconstruction MSE on the
grid, active latent dimensions (variance of the posterior mean > 0.01), epochs
trained (``max_iter``, or fewer when the training loss stops improving) and
fit time. Run with::

    OMP_NUM_THREADS=1 python benchmarks/bench_disentangle.py   # about 6 minutes
    python benchmarks/bench_disentangle.py --quick             # seconds

The point is to measure the effect of beta on these scores, not to assume it.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA

from skvae import VAE
from skvae.datasets import SPRITE_FACTORS, make_sprites
from skvae.metrics import dci_scores, mutual_information_gap

COLUMNS = ("MIG", "DCI-D", "DCI-C", "DCI-I", "MSE", "active", "epochs", "fit s")
COUNTS = ("active", "epochs", "fit s")  # printed as means only


def evaluate(codes, factors, X, X_recon, seed, n_iter, elapsed):
    """One row of scores for codes of the grid and its reconstruction."""
    dci = dci_scores(factors, codes, random_state=seed)
    return [
        mutual_information_gap(factors, codes),
        dci.disentanglement,
        dci.completeness,
        dci.informativeness,
        float(np.mean((X_recon - X) ** 2)) if X_recon is not None else np.nan,
        float(np.sum(codes.var(axis=0) > 0.01)),
        n_iter,
        elapsed,
    ]


def run_vae(beta, seed, X_train, X_grid, factors, args):
    model = VAE(
        n_components=args.n_components,
        beta=beta,
        likelihood="bernoulli",
        hidden_layer_sizes=(256, 128),
        max_iter=args.epochs,
        batch_size=args.batch_size,
        random_state=seed,
        device="cpu",
    )
    start = time.perf_counter()
    model.fit(X_train)
    elapsed = time.perf_counter() - start
    codes = model.transform(X_grid)
    recon = model.inverse_transform(codes)
    return evaluate(codes, factors, X_grid, recon, seed, model.n_iter_, elapsed)


def run_pca(seed, X_train, X_grid, factors, args):
    model = PCA(args.n_components, random_state=seed)
    start = time.perf_counter()
    model.fit(X_train)
    elapsed = time.perf_counter() - start
    codes = model.transform(X_grid)
    recon = model.inverse_transform(codes)
    return evaluate(codes, factors, X_grid, recon, seed, np.nan, elapsed)


def run_oracle(seed, X_grid, factors):
    codes = factors.astype(np.float64)
    return evaluate(codes, factors, X_grid, None, seed, np.nan, 0.0)


def report(results, args):
    print(
        f"\nsprites 16x16, {args.n_samples} training images, metrics on the "
        f"{len(SPRITE_FACTORS)}-factor grid; {args.n_components} latents, "
        f"{args.epochs} epochs; mean ± std over {len(args.seeds)} seed(s)"
    )
    widths = [16 if c not in COUNTS else 8 for c in COLUMNS]
    header = f"{'model':14s}" + "".join(
        f"{c:>{w}s}" for c, w in zip(COLUMNS, widths, strict=True)
    )
    print(header)
    print("-" * len(header))
    for label, rows in results.items():
        rows = np.array(rows)
        cells = []
        for j, column in enumerate(COLUMNS):
            mean, std = rows[:, j].mean(), rows[:, j].std()
            if np.isnan(mean):
                cell = "-"
            elif column in COUNTS:
                cell = f"{mean:.1f}"
            elif column == "MSE":
                cell = f"{mean:.4f} ± {std:.4f}"
            else:
                cell = f"{mean:.3f} ± {std:.3f}"
            cells.append(f"{cell:>{widths[j]}s}")
        print(f"{label:14s}" + "".join(cells))
    verdict(results, args)


def verdict(results, args):
    """Print, per metric, whether it rises with beta, and by how many standard errors.

    The change from the smallest to the largest beta is divided by its standard
    error over the seeds, to tell a trend from seed-to-seed noise.
    """
    vae = [np.array(results[f"VAE beta={b:g}"]) for b in args.betas]
    lo, hi = args.betas[0], args.betas[-1]
    print()
    for j, column in enumerate(COLUMNS[:3]):
        means = np.array([rows[:, j].mean() for rows in vae])
        trend = "rises" if np.all(np.diff(means) > 0) else "is not monotone"
        diff = means[-1] - means[0]
        n = len(args.seeds)
        se = np.sqrt((vae[-1][:, j].var(ddof=1) + vae[0][:, j].var(ddof=1)) / n)
        ratio = f"{diff / se:+.1f} standard errors" if n > 1 and se > 0 else "n/a"
        print(
            f"{column:6s} {trend} in beta; beta={hi:g} - beta={lo:g}: "
            f"{diff:+.3f} ({ratio})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 4.0, 8.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--n-components", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--quick", action="store_true", help="1 seed, 1000 images, 5 epochs"
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.n_samples, args.epochs = [0], 1000, 5
    warnings.filterwarnings("ignore")  # ConvergenceWarning
    X_train, _ = make_sprites(args.n_samples, random_state=0)
    X_grid, factors = make_sprites(None)
    results = {}
    for beta in args.betas:
        results[f"VAE beta={beta:g}"] = [
            run_vae(beta, seed, X_train, X_grid, factors, args) for seed in args.seeds
        ]
    results[f"PCA({args.n_components})"] = [
        run_pca(seed, X_train, X_grid, factors, args) for seed in args.seeds
    ]
    results["true factors"] = [run_oracle(seed, X_grid, factors) for seed in args.seeds]
    report(results, args)


if __name__ == "__main__":
    main()
