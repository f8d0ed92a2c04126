"""Plots of fitted skvae models, as scikit-learn's Display objects.

Each display holds the data of one figure. ``plot(ax=None, ...)`` draws it on
the given matplotlib axes (or a new figure) and returns the display, with the
axes in ``ax_``, the figure in ``figure_`` and the drawn artists in other
attributes ending in ``_``. The classmethod ``from_estimator`` computes the
data from a fitted model and plots it, as ``sklearn.metrics.RocCurveDisplay``
does.

Images are shown as one mosaic per axes (one ``AxesImage``), rows of X being
flattened images in channels-first order: ``image_shape=(H, W)`` for grey
images, ``(C, H, W)`` with C in {1, 3, 4} for colour. Models fitted with
``input_shape`` need no ``image_shape``.

matplotlib is an optional dependency (``pip install "skvae[plot]"``); it is
imported when a plot is drawn, not when this module is imported.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "InterpolationDisplay",
    "KLPerDimensionDisplay",
    "LatentSpaceDisplay",
    "LossCurveDisplay",
    "ReconstructionDisplay",
    "SamplesDisplay",
    "TraversalDisplay",
]

_MAX_LEGEND_CLASSES = 20
_LOSS_LABELS = {
    "train_loss": "training loss",
    "valid_loss": "validation loss",
    "recon": "reconstruction term",
    "kl": "KL term",
}


# ----------------------------------------------------------------- matplotlib
def _pyplot(caller: str) -> Any:
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, which is not installed. Install it with "
            "pip install 'skvae[plot]' (or pip install matplotlib)."
        ) from exc
    return plt


def _get_axes(ax: Any, caller: str, figsize: tuple[float, float] | None = None):
    """The axes to draw on: ``ax``, or those of a new figure."""
    plt = _pyplot(caller)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(
            f"{caller} draws on one matplotlib Axes, got ax of type "
            f"{type(ax).__name__}; pass one of them (e.g. axes[0]) or None."
        )
    return ax


def _name(estimator: Any) -> str:
    return type(estimator).__name__


# ----------------------------------------------------------------- validation
def _check_rows(X: Any, name: str, caller: str) -> np.ndarray:
    """X as a 2-D float array, or a ValueError naming the caller and the fix."""
    X = np.asarray(X)
    if X.ndim != 2:
        hint = " Use X.reshape(1, -1) for a single row." if X.ndim == 1 else ""
        raise ValueError(
            f"{caller} expects {name} of shape (n_samples, n_features), got an "
            f"array of shape {X.shape}.{hint}"
        )
    if X.shape[0] < 1:
        raise ValueError(f"{caller} got an empty {name} (shape {X.shape}).")
    return X.astype(float, copy=False)


def _check_model_rows(X: Any, caller: str) -> None:
    """Rows a model reads (an array, a sparse matrix, a table): 2-D, not empty.

    The model's ``transform`` checks the rest (a table's columns, a sparse
    matrix's entries); an array of numbers is checked as :func:`_check_rows`.
    """
    if sp.issparse(X) or hasattr(X, "iloc"):
        if X.shape[0] < 1:
            raise ValueError(f"{caller} got an empty X (shape {X.shape}).")
        return
    _check_rows(X, "X", caller)


def _check_fitted_model(estimator: Any, method: str, caller: str) -> None:
    if not hasattr(estimator, method):
        raise TypeError(
            f"{caller} needs an estimator with a {method}() method, got "
            f"{_name(estimator)}."
        )
    check_is_fitted(estimator)


def _image_shape(
    image_shape: Any, n_features: int, caller: str, estimator: Any = None
) -> tuple[int, int, int]:
    """(C, H, W) from ``image_shape`` or the estimator's ``input_shape``."""
    given = image_shape
    if given is None and estimator is not None:
        given = getattr(estimator, "input_shape", None)
    if given is None:
        raise ValueError(
            f"{caller} shows rows as images and needs their shape: pass "
            "image_shape=(height, width) or (channels, height, width) with as "
            f"many pixels as the {n_features} features (or fit the model with "
            "input_shape)."
        )
    try:
        if isinstance(given, str):
            raise TypeError
        shape = tuple(int(s) for s in given)
    except (TypeError, ValueError):
        raise ValueError(
            f"image_shape must be a tuple of ints, got {given!r}."
        ) from None
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            "image_shape must be (height, width) or (channels, height, width) "
            f"with positive sizes, got {given!r}."
        )
    if shape[0] not in (1, 3, 4):
        raise ValueError(
            f"image_shape={given!r} has {shape[0]} channels; images need 1 "
            "(grey), 3 (RGB) or 4 (RGBA), channels first."
        )
    if math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={given!r} holds {math.prod(shape)} values but the rows "
            f"have {n_features} features."
        )
    return shape  # type: ignore[return-value]


def _check_n_cols(n_cols: Any, default: int) -> int:
    if n_cols is None:
        return default
    if isinstance(n_cols, bool) or not isinstance(n_cols, Integral) or n_cols < 1:
        raise ValueError(f"n_cols must be a positive integer, got {n_cols!r}.")
    return int(n_cols)


# --------------------------------------------------------------------- mosaic
def _value_range(images: np.ndarray, vmin: Any, vmax: Any) -> tuple[float, float]:
    """Colour limits: the given ones, else the finite range of ``images``.

    Limits given both must be in order (a limit found in the images that is
    not above the other is moved one unit up).
    """
    if vmin is not None and vmax is not None and not float(vmax) > float(vmin):
        raise ValueError(
            f"vmax must be greater than vmin, got vmin={vmin!r} and vmax={vmax!r}."
        )
    finite = images[np.isfinite(images)]
    lo = float(finite.min()) if vmin is None and finite.size else vmin
    hi = float(finite.max()) if vmax is None and finite.size else vmax
    lo = 0.0 if lo is None else float(lo)
    hi = 1.0 if hi is None else float(hi)
    return lo, (hi if hi > lo else lo + 1.0)


def _mosaic(
    images: np.ndarray,
    cells: Sequence[tuple[int, int]],
    grid: tuple[int, int],
    shape: tuple[int, int, int],
    value_range: tuple[float, float],
) -> tuple[np.ndarray, int]:
    """Tile flattened images into one array, image ``i`` in cell ``cells[i]``.

    Returns the array, (H', W') for grey images (NaN between tiles, drawn
    transparent) or (H', W', 4) RGBA in [0, 1] for colour, and the gap between
    tiles in pixels.
    """
    c, h, w = shape
    gap = max(1, min(h, w) // 8)
    n_rows, n_cols = grid
    size = (n_rows * (h + gap) - gap, n_cols * (w + gap) - gap)
    lo, hi = value_range
    out = np.full(size, np.nan) if c == 1 else np.zeros((*size, 4))
    for image, (r, col) in zip(images, cells, strict=True):
        top, left = r * (h + gap), col * (w + gap)
        tile = image.reshape(shape)
        if c == 1:
            out[top : top + h, left : left + w] = tile[0]
        else:
            rgba = np.clip((np.moveaxis(tile, 0, -1) - lo) / (hi - lo), 0.0, 1.0)
            if c == 3:
                rgba = np.concatenate([rgba, np.ones((h, w, 1))], axis=-1)
            out[top : top + h, left : left + w] = rgba
    return out, gap


def _show(
    ax: Any,
    mosaic: np.ndarray,
    value_range: tuple[float, float],
    cmap: Any,
    imshow_kw: Mapping[str, Any] | None,
) -> Any:
    """``ax.imshow`` of a mosaic with skvae's defaults, updated by ``imshow_kw``."""
    kwargs: dict[str, Any] = {"interpolation": "nearest"}
    if mosaic.ndim == 2:
        kwargs.update(cmap=cmap, vmin=value_range[0], vmax=value_range[1])
    kwargs.update(imshow_kw or {})
    return ax.imshow(mosaic, **kwargs)


def _centres(n: int, size: int, gap: int) -> np.ndarray:
    """Pixel centres of ``n`` tiles of ``size`` pixels separated by ``gap``."""
    return np.arange(n) * (size + gap) + (size - 1) / 2


def _frameless(ax: Any) -> None:
    """Hide the frame around a mosaic (its tiles are separated by blank gaps)."""
    for spine in ax.spines.values():
        spine.set_visible(False)


def _finish(display: Any, ax: Any, what: str) -> Any:
    """End of an image display's ``plot``: frame, title, ``ax_`` and ``figure_``."""
    _frameless(ax)
    name = display.estimator_name
    ax.set_title(what.capitalize() if name is None else f"{name}: {what}")
    display.ax_ = ax
    display.figure_ = ax.figure
    return display


# ------------------------------------------------------------- latent space
class LatentSpaceDisplay:
    """Scatter plot of latent codes, coloured by labels.

    Build it with :meth:`from_estimator` (which encodes X with the model's
    ``transform``) or from 2-D points you computed. All parameters are stored
    as attributes.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, 2)
        The points to draw, e.g. two latent dimensions of
        ``model.transform(X)``.
    y : array-like of shape (n_samples,) or None, default=None
        Labels colouring the points. Class labels (``type_of_target`` is
        "binary" or "multiclass") get one colour each and a legend (up to 20
        classes); continuous values get a colour map and a colour bar.
    xlabel, ylabel : str, default="z[0]", "z[1]"
        Axis labels.
    estimator_name : str or None, default=None
        Name of the model, shown in the title.

    Attributes
    ----------
    scatter_ : matplotlib PathCollection
        The points.
    legend_ : matplotlib Legend or None
        The class legend, when ``y`` holds at most 20 classes.
    colorbar_ : matplotlib Colorbar or None
        The colour bar, when ``y`` is continuous.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    LatentSpaceDisplay.from_estimator : Encode X with a fitted model and plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae.plotting import LatentSpaceDisplay
    >>> rng = np.random.RandomState(0)
    >>> disp = LatentSpaceDisplay(rng.normal(size=(20, 2)), y=rng.randint(3, size=20))
    >>> disp = disp.plot()
    >>> len(disp.legend_.get_texts())
    3
    """

    def __init__(
        self, embedding, *, y=None, xlabel="z[0]", ylabel="z[1]", estimator_name=None
    ):
        self.embedding = embedding
        self.y = y
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, cmap=None, legend=True, scatter_kw=None):
        """Draw the scatter plot.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        cmap : str, matplotlib Colormap or None, default=None
            Colours of the labels. ``None``: "tab10" or "tab20" for classes
            (by their number), "viridis" for continuous values. For classes,
            a qualitative map (of 20 colours at most) gives its colours in
            order (warned about where it has fewer than the classes), and a
            continuous one is sampled evenly across its range.
        legend : bool, default=True
            Add a legend of the classes (or a colour bar for continuous
            ``y``).
        scatter_kw : dict or None, default=None
            Keyword arguments of ``Axes.scatter``, e.g. ``{"s": 5}``.

        Returns
        -------
        display : LatentSpaceDisplay
            This display, with ``scatter_``, ``legend_``, ``colorbar_``,
            ``ax_`` and ``figure_`` set.
        """
        caller = "LatentSpaceDisplay.plot"
        points = _check_rows(self.embedding, "embedding", caller)
        if points.shape[1] != 2:
            raise ValueError(
                f"{caller} draws 2-D points; embedding has {points.shape[1]} "
                "columns. Use LatentSpaceDisplay.from_estimator(..., dims=...) "
                "to choose two dimensions or a PCA of the codes."
            )
        ax = _get_axes(ax, caller)
        kwargs: dict[str, Any] = {"s": 12}
        self.legend_ = self.colorbar_ = None
        if self.y is None:
            kwargs.update(scatter_kw or {})
            self.scatter_ = ax.scatter(points[:, 0], points[:, 1], **kwargs)
        else:
            self._scatter_labelled(ax, points, cmap, legend, kwargs, scatter_kw)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)
        if self.estimator_name is not None:
            ax.set_title(f"{self.estimator_name}: latent space")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _scatter_labelled(self, ax, points, cmap, legend, kwargs, scatter_kw):
        from matplotlib import colormaps
        from matplotlib.colors import BoundaryNorm, ListedColormap

        y = np.asarray(self.y)
        if y.ndim != 1 or y.shape[0] != points.shape[0]:
            raise ValueError(
                f"y must have shape ({points.shape[0]},), one label per point; "
                f"got shape {y.shape}."
            )
        from skvae.models._labels import missing_label_rows

        missing = missing_label_rows(y)
        if missing.size:
            raise ValueError(
                f"y holds missing labels (None, NaN or pd.NA) at rows "
                f"{missing[:5].tolist()}; give every point a label, or leave "
                "those points out."
            )
        kind = type_of_target(y)
        if kind == "continuous":
            kwargs.update(c=y, cmap=cmap or "viridis")
            kwargs.update(scatter_kw or {})
            self.scatter_ = ax.scatter(points[:, 0], points[:, 1], **kwargs)
            if legend:
                self.colorbar_ = ax.figure.colorbar(self.scatter_, ax=ax)
            return
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"y must hold class labels or continuous values, got a target of "
                f"type {kind!r}."
            )
        classes, codes = np.unique(y, return_inverse=True)
        k = len(classes)
        name = cmap or ("tab10" if k <= 10 else "tab20" if k <= 20 else "viridis")
        base = colormaps[name] if isinstance(name, str) else name
        # a qualitative map (a few listed colours) gives its first k; a
        # continuous one is sampled across its range (its first k entries
        # of 256 are one colour)
        qualitative = base.N <= 20
        if qualitative and k > base.N:
            warnings.warn(
                f"cmap {getattr(base, 'name', name)!r} has {base.N} colours for {k} "
                "classes: some classes share a colour. Pass a map of as many "
                "colours, or a continuous one (e.g. 'viridis').",
                UserWarning,
                stacklevel=3,
            )
        positions = range(k) if qualitative and k <= base.N else np.linspace(0, 1, k)
        colours = ListedColormap(base(positions))
        kwargs.update(
            c=codes, cmap=colours, norm=BoundaryNorm(np.arange(k + 1) - 0.5, k)
        )
        kwargs.update(scatter_kw or {})
        self.scatter_ = ax.scatter(points[:, 0], points[:, 1], **kwargs)
        if legend and k <= _MAX_LEGEND_CLASSES:
            handles, _ = self.scatter_.legend_elements(num=list(range(k)))
            self.legend_ = ax.legend(
                handles,
                [str(c) for c in classes],
                fontsize="small",
                ncol=2 if k > 5 else 1,
            )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        dims=None,
        ax=None,
        cmap=None,
        legend=True,
        scatter_kw=None,
    ):
        """Encode X with a fitted model and plot the codes.

        Parameters
        ----------
        estimator : fitted skvae estimator
            Any model with ``transform`` (the posterior mean).
        X : array-like of shape (n_samples, n_features)
            Rows to encode.
        y : array-like of shape (n_samples,) or None, default=None
            Labels colouring the points.
        dims : (int, int), "pca" or None, default=None
            What to draw: two latent dimensions by index, or "pca" for the
            first two principal components of the codes (the plane in which
            they vary most). ``None`` is ``(0, 1)`` for a 2-D latent space and
            "pca" for a larger one.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        cmap : str, matplotlib Colormap or None, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.
        scatter_kw : dict or None, default=None
            Keyword arguments of ``Axes.scatter``.

        Returns
        -------
        display : LatentSpaceDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAE
        >>> from skvae.plotting import LatentSpaceDisplay
        >>> X, y = load_digits(return_X_y=True)
        >>> X, y = X[:20] / 16, y[:20]
        >>> vae = VAE(n_components=4, max_iter=2, random_state=0).fit(X)
        >>> disp = LatentSpaceDisplay.from_estimator(vae, X, y)
        >>> disp.embedding.shape, disp.xlabel
        ((20, 2), 'PC1 of the codes')
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_fitted_model(estimator, "transform", caller)
        _check_model_rows(X, caller)
        Z = np.asarray(estimator.transform(X), dtype=float)
        points, xlabel, ylabel = _project(Z, dims, caller)
        display = cls(
            points,
            y=y,
            xlabel=xlabel,
            ylabel=ylabel,
            estimator_name=_name(estimator),
        )
        return display.plot(ax=ax, cmap=cmap, legend=legend, scatter_kw=scatter_kw)


def _project(Z: np.ndarray, dims: Any, caller: str) -> tuple[np.ndarray, str, str]:
    """Two columns of the codes ``Z`` (or their PCA) and the axis labels."""
    n_latent = Z.shape[1]
    if n_latent < 2:
        raise ValueError(
            f"{caller} needs at least 2 latent dimensions; the model has {n_latent}."
        )
    if dims is None:
        dims = (0, 1) if n_latent == 2 else "pca"
    if isinstance(dims, str) and dims == "pca":
        if Z.shape[0] < 2:
            raise ValueError(f"{caller} needs at least 2 rows for dims='pca'.")
        from sklearn.decomposition import PCA

        points = PCA(n_components=2, svd_solver="full").fit_transform(Z)
        return points, "PC1 of the codes", "PC2 of the codes"
    if isinstance(dims, np.ndarray) and dims.ndim == 1:
        dims = dims.tolist()  # an array of two, as TraversalDisplay takes
    valid = (
        isinstance(dims, Sequence)
        and not isinstance(dims, str)
        and len(dims) == 2
        and all(
            isinstance(d, Integral) and not isinstance(d, bool) and 0 <= d < n_latent
            for d in dims
        )
        and dims[0] != dims[1]
    )
    if not valid:
        raise ValueError(
            f"dims must be 'pca', None or two different integers in "
            f"[0, {n_latent}), got {dims!r}."
        )
    i, j = int(dims[0]), int(dims[1])
    return Z[:, [i, j]], f"z[{i}]", f"z[{j}]"


# ------------------------------------------------------------ reconstructions
class ReconstructionDisplay:
    """Images next to their reconstructions, as one mosaic.

    Rows of the mosaic alternate: ``n_cols`` inputs, then their
    reconstructions ``inverse_transform(transform(X))`` below them. Both are
    drawn with the same colour limits (by default, the range of the inputs),
    so the reconstructions are compared on the inputs' scale.

    Parameters
    ----------
    X : array-like of shape (n_images, n_features)
        The input images, flattened.
    X_reconstructed : array-like of shape (n_images, n_features)
        Their reconstructions.
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``, channels first
        as in ``input_shape``, with ``channels`` 1, 3 or 4.
    estimator_name : str or None, default=None
        Name of the model, shown in the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The mosaic.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    ReconstructionDisplay.from_estimator : Reconstruct X with a model and plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae.plotting import ReconstructionDisplay
    >>> X = np.random.RandomState(0).uniform(size=(6, 16))
    >>> disp = ReconstructionDisplay(X, 0.5 * X, image_shape=(4, 4)).plot(n_cols=3)
    >>> disp.im_.get_array().shape  # 4 rows of tiles: inputs, recon., twice
    (19, 14)
    """

    def __init__(self, X, X_reconstructed, *, image_shape, estimator_name=None):
        self.X = X
        self.X_reconstructed = X_reconstructed
        self.image_shape = image_shape
        self.estimator_name = estimator_name

    def plot(
        self,
        ax=None,
        *,
        n_cols=None,
        cmap="gray_r",
        vmin=None,
        vmax=None,
        imshow_kw=None,
    ):
        """Draw inputs and reconstructions.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        n_cols : int or None, default=None
            Images per row; ``None`` is ``min(n_images, 10)``.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images (ignored for colour images).
        vmin, vmax : float or None, default=None
            Colour limits; ``None`` takes the range of the inputs.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.

        Returns
        -------
        display : ReconstructionDisplay
            This display, with ``im_``, ``ax_`` and ``figure_`` set.
        """
        caller = "ReconstructionDisplay.plot"
        X = _check_rows(self.X, "X", caller)
        X_hat = _check_rows(self.X_reconstructed, "X_reconstructed", caller)
        if X.shape != X_hat.shape:
            raise ValueError(
                f"X and X_reconstructed must have the same shape, got {X.shape} "
                f"and {X_hat.shape}."
            )
        shape = _image_shape(self.image_shape, X.shape[1], caller)
        n = X.shape[0]
        n_cols = _check_n_cols(n_cols, min(n, 10))
        n_pairs = math.ceil(n / n_cols)
        cells = [
            (2 * (i // n_cols) + part, i % n_cols) for part in (0, 1) for i in range(n)
        ]
        value_range = _value_range(X, vmin, vmax)
        mosaic, gap = _mosaic(
            np.vstack([X, X_hat]), cells, (2 * n_pairs, n_cols), shape, value_range
        )
        ax = _get_axes(ax, caller)
        self.im_ = _show(ax, mosaic, value_range, cmap, imshow_kw)
        ax.set_xticks([])
        ax.set_yticks(_centres(2 * n_pairs, shape[1], gap))
        ax.set_yticklabels(["input", "recon."] * n_pairs, fontsize="small")
        ax.tick_params(axis="y", length=0)
        return _finish(self, ax, "inputs and reconstructions")

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        image_shape=None,
        ax=None,
        n_cols=None,
        cmap="gray_r",
        vmin=None,
        vmax=None,
        imshow_kw=None,
    ):
        """Reconstruct X with a fitted model and plot inputs and reconstructions.

        The reconstruction of a row is ``inverse_transform(transform(X))``,
        the decoder's mean at the posterior mean.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A model with ``transform`` and ``inverse_transform``.
        X : array-like of shape (n_images, n_features)
            The images to reconstruct, flattened (a few: each is drawn).
        image_shape : tuple of int or None, default=None
            ``(height, width)`` or ``(channels, height, width)``; ``None``
            takes the model's ``input_shape``.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        n_cols : int or None, default=None
            Images per row; ``None`` is ``min(n_images, 10)``.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images.
        vmin, vmax : float or None, default=None
            Colour limits; ``None`` takes the range of X.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.

        Returns
        -------
        display : ReconstructionDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAE
        >>> from skvae.plotting import ReconstructionDisplay
        >>> X = load_digits().data[:20] / 16
        >>> vae = VAE(n_components=2, max_iter=2, random_state=0).fit(X)
        >>> disp = ReconstructionDisplay.from_estimator(vae, X[:5], image_shape=(8, 8))
        >>> disp.X_reconstructed.shape
        (5, 64)
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_fitted_model(estimator, "inverse_transform", caller)
        # the images shown are rows of numbers: a sparse matrix's, dense
        rows = _check_rows(X.toarray() if sp.issparse(X) else X, "X", caller)
        shape = _image_shape(image_shape, rows.shape[1], caller, estimator)
        X_hat = estimator.inverse_transform(np.asarray(estimator.transform(X)))
        display = cls(rows, X_hat, image_shape=shape, estimator_name=_name(estimator))
        return display.plot(
            ax=ax, n_cols=n_cols, cmap=cmap, vmin=vmin, vmax=vmax, imshow_kw=imshow_kw
        )


# -------------------------------------------------------------------- samples
class SamplesDisplay:
    """A grid of images generated by a model.

    Parameters
    ----------
    samples : array-like of shape (n_images, n_features)
        Generated rows, e.g. ``model.sample(16)``.
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``, channels first.
    estimator_name : str or None, default=None
        Name of the model, shown in the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The mosaic.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    SamplesDisplay.from_estimator : Draw rows from a model and plot them.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae.plotting import SamplesDisplay
    >>> images = np.random.RandomState(0).uniform(size=(9, 3 * 4 * 4))
    >>> disp = SamplesDisplay(images, image_shape=(3, 4, 4)).plot()
    >>> disp.im_.get_array().shape  # a 3 x 3 grid of RGBA tiles
    (14, 14, 4)
    """

    def __init__(self, samples, *, image_shape, estimator_name=None):
        self.samples = samples
        self.image_shape = image_shape
        self.estimator_name = estimator_name

    def plot(
        self,
        ax=None,
        *,
        n_cols=None,
        cmap="gray_r",
        vmin=None,
        vmax=None,
        imshow_kw=None,
    ):
        """Draw the images in a grid.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        n_cols : int or None, default=None
            Images per row; ``None`` makes a square grid.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images (ignored for colour images).
        vmin, vmax : float or None, default=None
            Colour limits; ``None`` takes the range of the samples.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.

        Returns
        -------
        display : SamplesDisplay
            This display, with ``im_``, ``ax_`` and ``figure_`` set.
        """
        caller = "SamplesDisplay.plot"
        samples = _check_rows(self.samples, "samples", caller)
        shape = _image_shape(self.image_shape, samples.shape[1], caller)
        n = samples.shape[0]
        n_cols = _check_n_cols(n_cols, math.ceil(math.sqrt(n)))
        cells = [divmod(i, n_cols) for i in range(n)]
        value_range = _value_range(samples, vmin, vmax)
        mosaic, _ = _mosaic(
            samples, cells, (math.ceil(n / n_cols), n_cols), shape, value_range
        )
        ax = _get_axes(ax, caller)
        self.im_ = _show(ax, mosaic, value_range, cmap, imshow_kw)
        ax.set_xticks([])
        ax.set_yticks([])
        return _finish(self, ax, "samples")

    @classmethod
    def from_estimator(
        cls,
        estimator,
        n_samples=16,
        *,
        image_shape=None,
        random_state=None,
        sample_params=None,
        ax=None,
        n_cols=None,
        cmap="gray_r",
        vmin=None,
        vmax=None,
        imshow_kw=None,
    ):
        """Draw rows with ``estimator.sample`` and plot them as images.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A model with ``sample``.
        n_samples : int, default=16
            Number of images.
        image_shape : tuple of int or None, default=None
            ``(height, width)`` or ``(channels, height, width)``; ``None``
            takes the model's ``input_shape``.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw, passed to ``sample``.
        sample_params : dict or None, default=None
            Other keyword arguments of ``sample``, e.g. ``{"y": 7}`` for a
            :class:`~skvae.ConditionalVAE` or ``{"cluster": 2}`` for
            :class:`~skvae.VaDE` (one value per row gives a row of images per
            class with a matching ``n_cols``).
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        n_cols : int or None, default=None
            Images per row; ``None`` makes a square grid.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images.
        vmin, vmax : float or None, default=None
            Colour limits; ``None`` takes the range of the samples.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.

        Returns
        -------
        display : SamplesDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAE
        >>> from skvae.plotting import SamplesDisplay
        >>> X = load_digits().data[:20] / 16
        >>> vae = VAE(n_components=2, max_iter=2, random_state=0).fit(X)
        >>> disp = SamplesDisplay.from_estimator(vae, 9, image_shape=(8, 8))
        >>> disp.samples.shape
        (9, 64)
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_fitted_model(estimator, "sample", caller)
        samples = estimator.sample(
            n_samples, random_state=random_state, **(sample_params or {})
        )
        shape = _image_shape(image_shape, samples.shape[1], caller, estimator)
        display = cls(samples, image_shape=shape, estimator_name=_name(estimator))
        return display.plot(
            ax=ax, n_cols=n_cols, cmap=cmap, vmin=vmin, vmax=vmax, imshow_kw=imshow_kw
        )


# -------------------------------------------------------------- interpolation
class InterpolationDisplay:
    """Decoded points on latent paths between rows, one strip per path.

    Parameters
    ----------
    path : array-like of shape (n_steps, n_features) or \
(n_pairs, n_steps, n_features)
        Decoded points along each path, as returned by the models'
        ``interpolate``.
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``, channels first.
    t : array-like of shape (n_steps,) or None, default=None
        Position of each step on the path, shown under the strip; ``None``
        is evenly spaced from 0 to 1 (as ``interpolate`` steps).
    estimator_name : str or None, default=None
        Name of the model, shown in the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The mosaic: one row per path, one column per step.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    InterpolationDisplay.from_estimator : Interpolate with a model and plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae.plotting import InterpolationDisplay
    >>> path = np.linspace(0, 1, 5)[:, None] * np.ones((1, 16))
    >>> disp = InterpolationDisplay(path, image_shape=(4, 4)).plot()
    >>> disp.im_.get_array().shape
    (4, 24)
    """

    def __init__(self, path, *, image_shape, t=None, estimator_name=None):
        self.path = path
        self.image_shape = image_shape
        self.t = t
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, cmap="gray_r", vmin=None, vmax=None, imshow_kw=None):
        """Draw the paths, one row of images each.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images (ignored for colour images).
        vmin, vmax : float or None, default=None
            Colour limits; ``None`` takes the range of the path.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.

        Returns
        -------
        display : InterpolationDisplay
            This display, with ``im_``, ``ax_`` and ``figure_`` set.
        """
        caller = "InterpolationDisplay.plot"
        path = np.asarray(self.path, dtype=float)
        if path.ndim == 2:
            path = path[None]
        if path.ndim != 3 or path.shape[1] < 1:
            raise ValueError(
                f"{caller} expects path of shape (n_steps, n_features) or "
                f"(n_pairs, n_steps, n_features), got shape {np.shape(self.path)}."
            )
        n_pairs, n_steps, n_features = path.shape
        shape = _image_shape(self.image_shape, n_features, caller)
        t = np.linspace(0, 1, n_steps) if self.t is None else np.ravel(self.t)
        if t.shape[0] != n_steps:
            raise ValueError(
                f"t must have one value per step ({n_steps}), got {t.shape[0]}."
            )
        cells = [divmod(i, n_steps) for i in range(n_pairs * n_steps)]
        images = path.reshape(-1, n_features)
        value_range = _value_range(images, vmin, vmax)
        mosaic, gap = _mosaic(images, cells, (n_pairs, n_steps), shape, value_range)
        ax = _get_axes(ax, caller, figsize=(max(4.0, 0.8 * n_steps), 1.0 + n_pairs))
        self.im_ = _show(ax, mosaic, value_range, cmap, imshow_kw)
        ax.set_yticks([])
        ax.set_xticks(_centres(n_steps, shape[2], gap))
        ax.set_xticklabels([f"{v:.2g}" for v in t], fontsize="small")
        ax.tick_params(axis="x", length=0)
        ax.set_xlabel("position on the latent path")
        return _finish(self, ax, "latent interpolation")

    @classmethod
    def from_estimator(
        cls,
        estimator,
        x_start,
        x_end,
        *,
        n_steps=8,
        spherical=False,
        image_shape=None,
        ax=None,
        cmap="gray_r",
        vmin=None,
        vmax=None,
        imshow_kw=None,
    ):
        """Interpolate between rows with ``estimator.interpolate`` and plot.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A model with ``interpolate`` (every skvae model).
        x_start, x_end : array-like of shape (n_features,) or \
(n_pairs, n_features)
            The rows (or row pairs) to interpolate between.
        n_steps : int, default=8
            Points on each path, ends included.
        spherical : bool, default=False
            Interpolate along the great circle between the codes (slerp).
        image_shape : tuple of int or None, default=None
            ``(height, width)`` or ``(channels, height, width)``; ``None``
            takes the model's ``input_shape``.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images.
        vmin, vmax : float or None, default=None
            Colour limits; ``None`` takes the range of the path.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.

        Returns
        -------
        display : InterpolationDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAE
        >>> from skvae.plotting import InterpolationDisplay
        >>> X = load_digits().data[:20] / 16
        >>> vae = VAE(n_components=2, max_iter=2, random_state=0).fit(X)
        >>> disp = InterpolationDisplay.from_estimator(
        ...     vae, X[0], X[1], n_steps=6, image_shape=(8, 8)
        ... )
        >>> disp.path.shape
        (6, 64)
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_fitted_model(estimator, "interpolate", caller)
        starts = np.asarray(x_start)
        if starts.ndim not in (1, 2):
            raise ValueError(
                f"{caller} expects x_start and x_end of shape (n_features,) or "
                f"(n_pairs, n_features), got shape {starts.shape}."
            )
        n_features = starts.shape[-1]
        shape = _image_shape(image_shape, n_features, caller, estimator)
        path = estimator.interpolate(
            x_start, x_end, n_steps=n_steps, spherical=spherical
        )
        display = cls(path, image_shape=shape, estimator_name=_name(estimator))
        return display.plot(ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, imshow_kw=imshow_kw)


# ---------------------------------------------------------------- loss curves
class LossCurveDisplay:
    """Per-epoch training curves from a model's ``history_``.

    Parameters
    ----------
    history : list of dict
        One record per epoch, as the models' ``history_``: numbers under keys
        such as ``"train_loss"``, ``"valid_loss"`` (with early stopping),
        ``"recon"`` and ``"kl"``, and the epoch under ``"epoch"``.
    estimator_name : str or None, default=None
        Name of the model, shown in the title.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        One line per plotted key.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    LossCurveDisplay.from_estimator : Plot a fitted model's history.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skvae.plotting import LossCurveDisplay
    >>> history = [{"epoch": 1, "train_loss": 3.0, "recon": 2.5, "kl": 0.5},
    ...            {"epoch": 2, "train_loss": 2.0, "recon": 1.2, "kl": 0.8}]
    >>> disp = LossCurveDisplay(history).plot(keys=["train_loss", "recon", "kl"])
    >>> sorted(disp.lines_)
    ['kl', 'recon', 'train_loss']
    """

    def __init__(self, history, *, estimator_name=None):
        self.history = history
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, keys=None, line_kw=None):
        """Draw one curve per key against the epoch.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        keys : list of str or None, default=None
            History keys to draw, e.g. ``["train_loss", "recon", "kl"]``.
            ``None`` draws ``"train_loss"``, and ``"valid_loss"`` when the
            history has it.
        line_kw : dict or None, default=None
            Keyword arguments of ``Axes.plot``, for every line.

        Returns
        -------
        display : LossCurveDisplay
            This display, with ``lines_``, ``ax_`` and ``figure_`` set.
        """
        caller = "LossCurveDisplay.plot"
        history = self.history
        if (
            isinstance(history, (str, Mapping))
            or not isinstance(history, Sequence)
            or len(history) == 0
            or not all(isinstance(r, Mapping) for r in history)
        ):
            raise ValueError(
                f"{caller} expects history as a non-empty list of dicts, one per "
                "epoch (a fitted model's history_)."
            )
        keys = self._keys(keys, caller)
        epochs = [r.get("epoch", i + 1) for i, r in enumerate(history)]
        ax = _get_axes(ax, caller)
        self.lines_ = {}
        for key in keys:
            values = [_number(r.get(key), key, caller) for r in history]
            style = {"linestyle": "--"} if key == "valid_loss" else {}
            style.update(line_kw or {})
            (line,) = ax.plot(epochs, values, label=_LOSS_LABELS.get(key, key), **style)
            self.lines_[key] = line
        _integer_epochs(ax)
        ax.set_xlabel("epoch")
        loss_keys = {"train_loss", "valid_loss", "recon", "kl"}
        ax.set_ylabel("nats per row" if set(keys) <= loss_keys else "value")
        ax.legend()
        title = "Training curves"
        if self.estimator_name is not None:
            title = f"{self.estimator_name}: training curves"
        ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _keys(self, keys: Any, caller: str) -> list[str]:
        present = {k for r in self.history for k, v in r.items() if v is not None}
        if keys is None:
            return [k for k in ("train_loss", "valid_loss") if k in present]
        if isinstance(keys, str):
            keys = [keys]
        missing = [k for k in keys if k not in present]
        if missing or not keys:
            raise ValueError(
                f"{caller}: keys {missing or keys!r} are not in the history; "
                f"it has {sorted(present)}."
            )
        return list(keys)

    @classmethod
    def from_estimator(cls, estimator, *, keys=None, ax=None, line_kw=None):
        """Plot the training curves of a fitted model.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A model with ``history_``, or a meta-estimator such as
            :class:`~skvae.VAEOutlierDetector` whose ``estimator_`` has one.
        keys : list of str or None, default=None
            History keys to draw; ``None`` draws the training loss and, with
            early stopping, the validation loss.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        line_kw : dict or None, default=None
            Keyword arguments of ``Axes.plot``.

        Returns
        -------
        display : LossCurveDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skvae import VAE
        >>> from skvae.plotting import LossCurveDisplay
        >>> X = np.random.RandomState(0).normal(size=(20, 4))
        >>> vae = VAE(n_components=2, max_iter=2, kl_warmup=0, early_stopping=True)
        >>> vae = vae.fit(X)
        >>> disp = LossCurveDisplay.from_estimator(vae)
        >>> sorted(disp.lines_)
        ['train_loss', 'valid_loss']
        """
        caller = f"{cls.__name__}.from_estimator"
        model, history = _history_of(estimator, caller)
        display = cls(history, estimator_name=_name(model))
        return display.plot(ax=ax, keys=keys, line_kw=line_kw)


def _integer_epochs(ax: Any) -> None:
    """Ticks of the epoch axis at whole epochs (no 1.5 on short runs)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _history_of(estimator: Any, caller: str) -> tuple[Any, list]:
    """The fitted model holding ``history_`` (a meta-estimator's ``estimator_``)."""
    check_is_fitted(estimator)
    model = estimator
    if not hasattr(model, "history_") and hasattr(model, "estimator_"):
        model = model.estimator_
    if not hasattr(model, "history_"):
        raise TypeError(
            f"{caller} needs a fitted model with history_, got {_name(estimator)}."
        )
    return model, list(model.history_)


# ------------------------------------------------------------ KL per dimension
class KLPerDimensionDisplay:
    """KL divergence of each latent dimension over the epochs, active ones marked.

    The first plot to look at for posterior collapse: a dimension whose KL
    stays near zero carries no information about the rows (its posterior is
    the prior), while the active ones stand out. Each line is one dimension's
    epoch mean of KL(q(z_d | x) || p(z_d)), as recorded in ``history_`` under
    ``"kl_per_dim"``; dimensions whose KL at the last epoch exceeds
    ``threshold`` are drawn in colour and named in the legend, the others in
    grey.

    Parameters
    ----------
    kl_per_dim : array-like of shape (n_epochs, n_dims)
        KL of each dimension (nats per row) at each epoch.
    epochs : array-like of shape (n_epochs,) or None, default=None
        The epoch of each row; ``None`` numbers them from 1.
    threshold : float, default=0.005
        A dimension is active when its KL at the last epoch exceeds this many
        nats. ``history_``'s ``"active_units"`` counts the dimensions whose
        E[z | x] varies over the data by more than 0.01 (Burda et al. 2016);
        under an N(0, I) prior a dimension's KL is at least half that
        variance, so with the default every dimension counted there is
        marked here too (a few more may be).
    estimator_name : str or None, default=None
        Name of the model, shown in the title.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One line per dimension, in order.
    active_ : ndarray of bool of shape (n_dims,)
        Which dimensions are active (KL at the last epoch above ``threshold``).
    threshold_line_ : matplotlib Line2D
        The horizontal line at ``threshold``.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    KLPerDimensionDisplay.from_estimator : Plot a fitted model's history.
    LossCurveDisplay : The training curves.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skvae.plotting import KLPerDimensionDisplay
    >>> kl = [[0.5, 0.2, 0.01], [1.5, 0.1, 0.002], [2.0, 0.05, 0.001]]
    >>> disp = KLPerDimensionDisplay(kl).plot()
    >>> disp.active_
    array([ True,  True, False])
    >>> len(disp.lines_)
    3
    """

    def __init__(
        self, kl_per_dim, *, epochs=None, threshold=0.005, estimator_name=None
    ):
        self.kl_per_dim = kl_per_dim
        self.epochs = epochs
        self.threshold = threshold
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, cmap="tab10", line_kw=None):
        """Draw one line per latent dimension against the epoch.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        cmap : str or matplotlib Colormap, default="tab10"
            Colours of the active dimensions (inactive ones are grey).
        line_kw : dict or None, default=None
            Keyword arguments of ``Axes.plot``, for every line.

        Returns
        -------
        display : KLPerDimensionDisplay
            This display, with ``lines_``, ``active_``, ``threshold_line_``,
            ``ax_`` and ``figure_`` set.
        """
        caller = "KLPerDimensionDisplay.plot"
        kl = np.asarray(self.kl_per_dim, dtype=float)
        if kl.ndim != 2 or kl.shape[0] < 1 or kl.shape[1] < 1:
            raise ValueError(
                f"{caller} expects kl_per_dim of shape (n_epochs, n_dims), got "
                f"shape {kl.shape}."
            )
        n_epochs, n_dims = kl.shape
        epochs = (
            np.arange(1, n_epochs + 1) if self.epochs is None else np.ravel(self.epochs)
        )
        if epochs.shape[0] != n_epochs:
            raise ValueError(
                f"epochs must have one value per row of kl_per_dim ({n_epochs}), "
                f"got {epochs.shape[0]}."
            )
        threshold = self.threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float, np.number))
            or not threshold >= 0
        ):
            raise ValueError(
                f"threshold must be a non-negative number, got {threshold!r}."
            )
        plt = _pyplot(caller)
        ax = _get_axes(ax, caller)
        last = kl[-1]
        self.active_ = last > threshold
        colours = plt.get_cmap(cmap)
        n_active = int(self.active_.sum())
        named = n_active <= 12  # name each active dimension in the legend
        self.lines_ = []
        for d in range(n_dims):
            if self.active_[d]:
                rank = int(self.active_[:d].sum())
                # a qualitative map's colours in turn; a continuous map's
                # spread over its range (its first entries are one colour)
                spread = colours.N > 20 or n_active > colours.N
                at = rank / max(n_active - 1, 1) if spread else rank
                style = {"color": colours(at), "linewidth": 1.8}
                label = f"z[{d}]" if named else ("active" if rank == 0 else None)
            else:
                first = d == int(np.argmin(self.active_))  # the first inactive one
                style = {"color": "0.6", "linewidth": 1.0, "linestyle": "--"}
                label = f"inactive ({n_dims - n_active})" if first else None
            style.update(line_kw or {})
            (line,) = ax.plot(epochs, kl[:, d], label=label, **style)
            self.lines_.append(line)
        self.threshold_line_ = ax.axhline(
            threshold,
            color="black",
            linestyle=":",
            linewidth=1.0,
            label=f"threshold ({threshold:g} nats)",
        )
        _integer_epochs(ax)
        ax.set_xlabel("epoch")
        ax.set_ylabel("KL per latent dimension (nats per row)")
        ax.legend(fontsize="small", ncol=2 if n_active > 6 else 1)
        what = f"KL per latent dimension, {n_active} of {n_dims} active"
        name = self.estimator_name
        ax.set_title(what if name is None else f"{name}: {what}")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, *, threshold=0.005, ax=None, cmap="tab10", line_kw=None
    ):
        """Plot the KL of each latent dimension recorded while a model was fitted.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A model whose ``history_`` records ``"kl_per_dim"`` (the models
            with a Gaussian latent: VAE, ConditionalVAE, SemiSupervisedVAE,
            VaDE, HierarchicalVAE and LadderVAE, whose dimensions are every
            layer's, bottom first), or a meta-estimator such as
            :class:`~skvae.VAEOutlierDetector` whose ``estimator_`` is one.
        threshold : float, default=0.005
            A dimension is active when its KL at the last epoch exceeds this
            many nats (see the class description).
        ax : matplotlib Axes or None, default=None
            Axes to draw on; ``None`` makes a new figure.
        cmap : str or matplotlib Colormap, default="tab10"
            Colours of the active dimensions.
        line_kw : dict or None, default=None
            Keyword arguments of ``Axes.plot``.

        Returns
        -------
        display : KLPerDimensionDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAE
        >>> from skvae.plotting import KLPerDimensionDisplay
        >>> X = load_digits().data[:100] / 16
        >>> vae = VAE(n_components=4, max_iter=3, random_state=0).fit(X)
        >>> disp = KLPerDimensionDisplay.from_estimator(vae)
        >>> disp.kl_per_dim.shape
        (3, 4)
        """
        caller = f"{cls.__name__}.from_estimator"
        model, history = _history_of(estimator, caller)
        from skvae.nn.priors import VampPrior

        prior = getattr(getattr(model, "module_", None), "prior", None)
        if isinstance(prior, VampPrior):
            raise ValueError(
                f"{caller}: {_name(model)} with this prior has no KL per latent "
                "dimension (the VampPrior's KL does not split over dimensions)."
            )
        rows = [r.get("kl_per_dim") for r in history]
        if not history or all(r is None for r in rows):
            raise ValueError(
                f"{caller}: {_name(model)}'s history_ records no KL per latent "
                "dimension (kl_per_dim); models without a Gaussian latent "
                "(VQVAE, WAE, AdversarialAE) have none."
            )
        width = max(len(r) for r in rows if r is not None)
        kl = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            if r is not None:
                kl[i, : len(r)] = r
        epochs = np.array([r.get("epoch", i + 1) for i, r in enumerate(history)])
        display = cls(
            kl, epochs=epochs, threshold=threshold, estimator_name=_name(model)
        )
        return display.plot(ax=ax, cmap=cmap, line_kw=line_kw)


# ----------------------------------------------------------------- traversals
class TraversalDisplay:
    """Decoded rows as one latent dimension at a time is moved, from one row.

    The picture of :meth:`~skvae.VAE.traverse`: what each latent dimension
    encodes. For images, one mosaic: a row of decoded images per latent
    dimension, a column per value given to it. For tabular data, one small
    line plot per dimension: each feature's decoded value against the value
    of the dimension.

    Parameters
    ----------
    traversals : array-like of shape (n_dims, n_values, n_features)
        ``traversals[i, j]`` is the decoded row with dimension ``dims[i]`` set
        to ``values[j]``.
    values : array-like of shape (n_values,)
        The values given to each dimension.
    dims : array-like of int of shape (n_dims,) or None, default=None
        The latent dimension of each row of the grid; ``None`` is
        ``0, 1, ..., n_dims - 1``.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)`` draws images;
        ``None`` draws line plots.
    feature_names : array-like of str or None, default=None
        Names of the features in the line plots' legend; ``None`` is
        ``x[0], x[1], ...``.
    estimator_name : str or None, default=None
        Name of the model, shown in the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage or None
        The mosaic (images), else None.
    lines_ : ndarray of matplotlib Line2D of shape (n_dims, n_features) or None
        The lines (tabular data), else None.
    axes_ : ndarray of matplotlib Axes
        The axes drawn on: one for images, one per dimension for line plots.
    ax_ : matplotlib Axes
        The first of ``axes_`` (the only one for images).
    figure_ : matplotlib Figure
        The figure holding the axes.

    See Also
    --------
    TraversalDisplay.from_estimator : Traverse with a fitted model and plot.
    InterpolationDisplay : Decoded points between two rows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae.plotting import TraversalDisplay
    >>> traversals = np.random.RandomState(0).rand(2, 5, 16)   # 2 dims, 5 values
    >>> disp = TraversalDisplay(traversals, np.linspace(-2, 2, 5), image_shape=(4, 4))
    >>> disp = disp.plot()
    >>> disp.im_.get_array().shape                   # 2 rows, 5 columns of 4x4
    (9, 24)
    >>> disp = TraversalDisplay(traversals, np.linspace(-2, 2, 5)).plot()
    >>> disp.lines_.shape, disp.axes_.shape
    ((2, 16), (2,))
    """

    def __init__(
        self,
        traversals,
        values,
        *,
        dims=None,
        image_shape=None,
        feature_names=None,
        estimator_name=None,
    ):
        self.traversals = traversals
        self.values = values
        self.dims = dims
        self.image_shape = image_shape
        self.feature_names = feature_names
        self.estimator_name = estimator_name

    def plot(
        self,
        ax=None,
        *,
        n_cols=None,
        cmap="gray_r",
        vmin=None,
        vmax=None,
        imshow_kw=None,
        line_kw=None,
    ):
        """Draw the traversals: a mosaic of images, or one line plot per dimension.

        Parameters
        ----------
        ax : matplotlib Axes, array-like of Axes or None, default=None
            Where to draw: for images one Axes; for line plots one Axes per
            dimension (a single Axes when there is one dimension). ``None``
            makes a new figure.
        n_cols : int or None, default=None
            Line plots per row of a new figure; ``None`` is up to 4.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images.
        vmin, vmax : float or None, default=None
            Colour limits of the images; ``None`` takes the range of the
            traversals.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.
        line_kw : dict or None, default=None
            Keyword arguments of ``Axes.plot``, for every line.

        Returns
        -------
        display : TraversalDisplay
            This display, with ``axes_``, ``ax_``, ``figure_`` and ``im_`` or
            ``lines_`` set.
        """
        caller = "TraversalDisplay.plot"
        traversals = np.asarray(self.traversals, dtype=float)
        if traversals.ndim == 2:
            traversals = traversals[None]
        if traversals.ndim != 3 or min(traversals.shape) < 1:
            raise ValueError(
                f"{caller} expects traversals of shape (n_dims, n_values, "
                f"n_features), got shape {np.shape(self.traversals)}."
            )
        n_dims, n_values, _ = traversals.shape
        values = np.ravel(np.asarray(self.values, dtype=float))
        if values.shape[0] != n_values:
            raise ValueError(
                f"values must have one value per column of the traversals "
                f"({n_values}), got {values.shape[0]}."
            )
        dims = np.arange(n_dims) if self.dims is None else np.ravel(self.dims)
        if dims.shape[0] != n_dims:
            raise ValueError(
                f"dims must name one latent dimension per traversal ({n_dims}), "
                f"got {dims.shape[0]}."
            )
        self.im_, self.lines_ = None, None
        if self.image_shape is not None:
            self._plot_images(ax, traversals, values, dims, cmap, vmin, vmax, imshow_kw)
        else:
            self._plot_lines(ax, traversals, values, dims, n_cols, line_kw, caller)
        self.ax_ = self.axes_.flat[0]
        self.figure_ = self.ax_.figure
        return self

    def _plot_images(self, ax, traversals, values, dims, cmap, vmin, vmax, imshow_kw):
        caller = "TraversalDisplay.plot"
        n_dims, n_values, n_features = traversals.shape
        shape = _image_shape(self.image_shape, n_features, caller)
        cells = [divmod(i, n_values) for i in range(n_dims * n_values)]
        images = traversals.reshape(-1, n_features)
        value_range = _value_range(images, vmin, vmax)
        mosaic, gap = _mosaic(images, cells, (n_dims, n_values), shape, value_range)
        figsize = (max(4.0, 0.7 * n_values + 1.0), max(2.0, 0.7 * n_dims + 1.0))
        ax = _get_axes(ax, caller, figsize=figsize)
        self.im_ = _show(ax, mosaic, value_range, cmap, imshow_kw)
        ax.set_yticks(_centres(n_dims, shape[1], gap))
        ax.set_yticklabels([f"z[{d}]" for d in dims], fontsize="small")
        ax.set_xticks(_centres(n_values, shape[2], gap))
        ax.set_xticklabels([f"{v:.2g}" for v in values], fontsize="small")
        ax.tick_params(length=0)
        ax.set_xlabel("value of the latent dimension")
        self.axes_ = np.array([ax], dtype=object)
        _finish(self, ax, "latent traversals")

    def _plot_lines(self, ax, traversals, values, dims, n_cols, line_kw, caller):
        n_dims, _, n_features = traversals.shape
        names = self.feature_names
        if names is None:
            names = [f"x[{j}]" for j in range(n_features)]
        names = [str(n) for n in names]
        if len(names) != n_features:
            raise ValueError(
                f"feature_names must have one name per feature ({n_features}), "
                f"got {len(names)}."
            )
        if ax is None:
            plt = _pyplot(caller)
            n_cols = _check_n_cols(n_cols, min(n_dims, 4))
            n_rows = math.ceil(n_dims / n_cols)
            _, grid = plt.subplots(
                n_rows,
                n_cols,
                figsize=(3.2 * n_cols, 2.6 * n_rows + 0.6),
                sharey=True,
                squeeze=False,
            )
            for extra in grid.flat[n_dims:]:
                extra.set_visible(False)
            axes = grid.flat[:n_dims]
        else:
            axes = np.ravel(np.asarray(ax, dtype=object))
            if axes.shape[0] != n_dims:
                raise ValueError(
                    f"{caller} draws one line plot per latent dimension: ax must "
                    f"hold {n_dims} Axes, got {axes.shape[0]}."
                )
        self.axes_ = np.array(list(axes), dtype=object)
        self.lines_ = np.empty((n_dims, n_features), dtype=object)
        for i, (axis, d) in enumerate(zip(self.axes_, dims, strict=True)):
            for j in range(n_features):
                (line,) = axis.plot(
                    values, traversals[i, :, j], label=names[j], **(line_kw or {})
                )
                self.lines_[i, j] = line
            axis.set_title(f"z[{d}]", fontsize="medium")
            axis.set_xlabel(f"value of z[{d}]")
        self.axes_[0].set_ylabel("decoded value")
        if n_features <= 10:
            self.axes_[0].legend(fontsize="small")
        title = "Latent traversals"
        if self.estimator_name is not None:
            title = f"{self.estimator_name}: latent traversals"
        figure = self.axes_[0].figure
        figure.suptitle(title)
        if ax is None:
            figure.tight_layout()

    @classmethod
    def from_estimator(
        cls,
        estimator,
        x,
        *,
        dims=None,
        values=None,
        image_shape=None,
        feature_names=None,
        ax=None,
        n_cols=None,
        cmap="gray_r",
        vmin=None,
        vmax=None,
        imshow_kw=None,
        line_kw=None,
    ):
        """Traverse latent dimensions from a row with ``estimator.traverse`` and plot.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A model with ``traverse`` (every skvae model).
        x : array-like of shape (n_features,) or (1, n_features)
            The row whose code is the starting point.
        dims : array-like of int or None, default=None
            The latent dimensions to traverse; ``None`` is every one.
        values : array-like of float or None, default=None
            The values given to each dimension; ``None`` is 7 values evenly
            spaced from -3 to 3 (prior standard deviations).
        image_shape : tuple of int or None, default=None
            ``(height, width)`` or ``(channels, height, width)`` draws
            images; ``None`` takes the model's ``input_shape``, and draws
            line plots when the model has none.
        feature_names : array-like of str or None, default=None
            Names in the line plots' legend; ``None`` takes the model's
            ``feature_names_in_`` when it has them.
        ax : matplotlib Axes, array-like of Axes or None, default=None
            Where to draw (see :meth:`plot`); ``None`` makes a new figure.
        n_cols : int or None, default=None
            Line plots per row of a new figure.
        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of grey images.
        vmin, vmax : float or None, default=None
            Colour limits of the images.
        imshow_kw : dict or None, default=None
            Keyword arguments of ``Axes.imshow``.
        line_kw : dict or None, default=None
            Keyword arguments of ``Axes.plot``.

        Returns
        -------
        display : TraversalDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAE
        >>> from skvae.plotting import TraversalDisplay
        >>> X = load_digits().data[:100] / 16
        >>> vae = VAE(n_components=3, max_iter=2, random_state=0).fit(X)
        >>> disp = TraversalDisplay.from_estimator(vae, X[0], image_shape=(8, 8))
        >>> disp.traversals.shape                     # 3 dimensions, 7 values
        (3, 7, 64)
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_fitted_model(estimator, "traverse", caller)
        if hasattr(x, "to_frame"):  # a pandas Series: a one-row frame keeps names
            x = x.to_frame().T
        if np.ndim(x) == 1:
            x = np.asarray(x)[None]
        if np.ndim(x) != 2 or np.shape(x)[0] != 1:
            raise ValueError(
                f"{caller} traverses from one row: x must have shape "
                f"(n_features,) or (1, n_features), got {np.shape(x)}."
            )
        n_features = np.shape(x)[1]
        n_latent = int(np.shape(estimator.transform(x))[1])
        dims = np.arange(n_latent) if dims is None else np.ravel(dims)
        if dims.size == 0:
            raise ValueError(f"{caller}: dims must name at least one dimension.")
        values = np.linspace(-3.0, 3.0, 7) if values is None else np.ravel(values)
        if image_shape is None:
            image_shape = getattr(estimator, "input_shape", None)
        if image_shape is not None:
            image_shape = _image_shape(image_shape, n_features, caller)
        parts = [estimator.traverse(x, dim=d, values=values) for d in dims]
        if hasattr(parts[0], "select_dtypes"):
            # a model fitted on a table decodes typed rows: plot its number
            # and boolean columns (categories have no axis to draw on)
            numeric = parts[0].select_dtypes(include=["number", "bool"]).columns
            if len(numeric) == 0:
                raise ValueError(
                    f"{caller}: the model's table has no number or boolean "
                    "column to plot."
                )
            if feature_names is None:
                feature_names = np.asarray(numeric, dtype=object)
            traversals = np.stack([p[numeric].to_numpy(dtype=float) for p in parts])
        else:
            traversals = np.stack([p[0] for p in parts])
        if feature_names is None and image_shape is None:
            feature_names = getattr(estimator, "feature_names_in_", None)
        display = cls(
            traversals,
            values,
            dims=dims,
            image_shape=image_shape,
            feature_names=feature_names,
            estimator_name=_name(estimator),
        )
        return display.plot(
            ax=ax,
            n_cols=n_cols,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            imshow_kw=imshow_kw,
            line_kw=line_kw,
        )


def _number(value: Any, key: str, caller: str) -> float:
    """A history value as a float (NaN where an epoch has none)."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{caller}: history key {key!r} holds {type(value).__name__} values, "
            "not one number per epoch."
        ) from None
