"""Command-line entry point: ``python -m skvae demo`` (or ``skvae demo``)."""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def run_demo(output: str | Path = "skvae_demo.png", max_iter: int = 200) -> dict:
    """Fit VAEs on the bundled digits, print a table and save a figure.

    Fits a VAE with a 2-D latent space (for the scatter plot) and one with 10
    latent dimensions on 80% of scikit-learn's 8x8 digits, then reports on the
    held-out 20%: the ELBO, the reconstruction error against PCA with the same
    number of components, and the fit time.

    Parameters
    ----------
    output : str or Path, default="skvae_demo.png"
        Where the figure is written (needs matplotlib; skipped without it).
    max_iter : int, default=200
        Maximum epochs of each fit (early stopping usually ends sooner).

    Returns
    -------
    results : dict
        ``{n_components: {"elbo", "vae_mse", "pca_mse", "fit_time"}}`` and the
        figure's path under ``"figure"`` (None when it was not written).

    Examples
    --------
    >>> results = run_demo(output=None, max_iter=2)  # doctest: +ELLIPSIS
    n_components ...
    >>> list(results)
    [2, 10, 'figure']
    """
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    from skvae import VAE

    digits = load_digits()
    X = digits.data / 16.0
    X_train, X_test, _, y_test = train_test_split(
        X, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    models, results = {}, {}
    print(
        f"{'n_components':>12} {'held-out ELBO':>14} {'VAE MSE':>9} "
        f"{'PCA MSE':>9} {'PCA/VAE':>8} {'epochs':>7} {'fit time':>9}"
    )
    for k in (2, 10):
        vae = VAE(
            n_components=k,
            early_stopping=True,
            n_iter_no_change=20,
            max_iter=max_iter,
            random_state=0,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vae.fit(X_train)
        fit_time = time.perf_counter() - start
        vae_mse = np.mean((vae.inverse_transform(vae.transform(X_test)) - X_test) ** 2)
        pca = PCA(n_components=k).fit(X_train)
        pca_mse = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
        elbo = vae.score(X_test)
        models[k] = vae
        results[k] = {
            "elbo": elbo,
            "vae_mse": vae_mse,
            "pca_mse": pca_mse,
            "fit_time": fit_time,
        }
        print(
            f"{k:>12d} {elbo:>14.2f} {vae_mse:>9.4f} {pca_mse:>9.4f} "
            f"{pca_mse / vae_mse:>7.2f}x {vae.n_iter_:>7d} {fit_time:>8.1f}s"
        )
    print(
        "ELBO: nats per held-out digit (Gaussian log-density of pixels / 16, "
        "higher is better); MSE per pixel."
    )
    results["figure"] = None
    if output is not None:
        results["figure"] = _save_figure(models, X_test, y_test, Path(output))
    return results


def _save_figure(models: dict, X_test, y_test, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install skvae[plot]).")
        return None
    fig, axes = plt.subplots(
        2, 2, figsize=(13, 8.5), gridspec_kw={"height_ratios": [1, 1.7]}
    )
    vae2, vae10 = models[2], models[10]
    originals = X_test[:12]
    recon = vae10.inverse_transform(vae10.transform(originals))
    shown = {"cmap": "gray_r", "vmin": 0.0, "vmax": 1.0}
    axes[0, 0].imshow(_grid(np.vstack([originals, recon]), n_cols=12), **shown)
    axes[0, 0].set_title("Held-out digits (top) and reconstructions (10-D VAE)")
    samples = vae10.sample(36, random_state=1)
    axes[0, 1].imshow(_grid(samples, n_cols=12), **shown)
    axes[0, 1].set_title("Samples from the prior (10-D VAE)")
    for ax in axes[0]:
        ax.set_axis_off()
    Z = vae2.transform(X_test)
    scatter = axes[1, 0].scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=12)
    axes[1, 0].legend(*scatter.legend_elements(), title="digit", fontsize=7, ncol=2)
    axes[1, 0].set(title="2-D latent space (posterior means, held-out digits)")
    axes[1, 0].set(xlabel="z1", ylabel="z2")
    for k, vae in models.items():
        epochs = [r["epoch"] for r in vae.history_]
        axes[1, 1].plot(epochs, vae.loss_curve_, label=f"train, {k}-D")
        valid = [r["valid_loss"] for r in vae.history_]
        axes[1, 1].plot(epochs, valid, "--", label=f"validation, {k}-D")
    axes[1, 1].set(title="Loss curves", xlabel="epoch", ylabel="negative ELBO (nats)")
    axes[1, 1].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"Figure written to {path}")
    return path


def _grid(images: np.ndarray, n_cols: int, side: int = 8) -> np.ndarray:
    """Tile flattened square images into one array, ``n_cols`` per row."""
    n_rows = int(np.ceil(len(images) / n_cols))
    grid = np.zeros((n_rows * (side + 1), n_cols * (side + 1)))
    images = np.clip(images, 0.0, 1.0)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        grid[
            r * (side + 1) : r * (side + 1) + side,
            c * (side + 1) : c * (side + 1) + side,
        ] = image.reshape(side, side)
    return grid


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skvae`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.

    Examples
    --------
    >>> main(["demo", "--max-iter", "2", "--output", "none"])  # doctest: +ELLIPSIS
    n_components ...
    0
    """
    parser = argparse.ArgumentParser(prog="skvae", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit a VAE on the bundled digits")
    demo.add_argument(
        "--output", default="skvae_demo.png", help="figure path ('none': no figure)"
    )
    demo.add_argument("--max-iter", type=int, default=200, help="epochs at most")
    args = parser.parse_args(argv)
    if args.command == "demo":
        output = None if args.output.lower() == "none" else args.output
        run_demo(output=output, max_iter=args.max_iter)
    return 0
