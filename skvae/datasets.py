"""Synthetic data with known generative factors, for measuring disentanglement.

:func:`make_sprites` draws small greyscale images of one sprite each, in the
spirit of dSprites (Matthey et al. 2017) but generated with numpy in a few
milliseconds: every image is a deterministic function of four independent,
discrete factors of variation, listed in :data:`SPRITE_FACTORS`.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "SPRITE_FACTORS",
    "SPRITE_FACTOR_SIZES",
    "SPRITE_SHAPES",
    "make_sprites",
]

#: Names of the columns of the factor matrix returned by :func:`make_sprites`.
SPRITE_FACTORS = ("shape", "scale", "pos_x", "pos_y")
#: Number of values each factor takes, in the order of :data:`SPRITE_FACTORS`.
SPRITE_FACTOR_SIZES = (3, 4, 8, 8)
#: The shapes, in the order of the ``shape`` factor's indices.
SPRITE_SHAPES = ("square", "disc", "triangle")

_SUPERSAMPLING = 4  # sub-pixels per pixel side, for anti-aliased edges
_HALF_SIZES = np.linspace(0.12, 0.22, SPRITE_FACTOR_SIZES[1])  # x image_size
_MIN_IMAGE_SIZE = 8


def make_sprites(n_samples=1000, *, image_size=16, random_state=None):
    """Generate images of sprites whose generative factors are known.

    Each image shows one white sprite on a black background. It is fully
    determined by four factors, drawn independently and uniformly:

    - ``shape``: square, disc or triangle (3 values, see :data:`SPRITE_SHAPES`);
    - ``scale``: the sprite's half-size, from 12% to 22% of the image side
      (4 values);
    - ``pos_x``, ``pos_y``: the sprite's centre, on a regular grid that keeps
      every sprite inside the image (8 values each, left to right and top to
      bottom).

    Edges are anti-aliased (each pixel is the share of its area the sprite
    covers), so pixels lie in [0, 1] and suit ``likelihood="bernoulli"``.

    Parameters
    ----------
    n_samples : int or None, default=1000
        Number of images. None returns every combination of the factors once
        (768 images), in lexicographic order of the factor indices.
    image_size : int, default=16
        Side of the square images, in pixels (at least 8).
    random_state : int, RandomState instance or None, default=None
        Seeds the draw of the factors. Ignored when ``n_samples=None``.

    Returns
    -------
    X : ndarray of shape (n_samples, image_size * image_size)
        The images, flattened row by row, as float64 in [0, 1]. Pass
        ``input_shape=(1, image_size, image_size)`` to a skvae model for
        convolutional networks.
    factors : ndarray of shape (n_samples, 4)
        Integer index of each factor's value, columns in the order of
        :data:`SPRITE_FACTORS`; column ``j`` takes values in
        ``range(SPRITE_FACTOR_SIZES[j])``.

    See Also
    --------
    skvae.metrics.mutual_information_gap : Scores how well codes separate
        these factors.

    References
    ----------
    L. Matthey, I. Higgins, D. Hassabis and A. Lerchner. "dSprites:
    Disentanglement testing Sprites dataset", 2017.
    https://github.com/deepmind/dsprites-dataset

    Examples
    --------
    >>> from skvae.datasets import SPRITE_FACTORS, make_sprites
    >>> X, factors = make_sprites(20, random_state=0)
    >>> X.shape, factors.shape
    ((20, 256), (20, 4))
    >>> SPRITE_FACTORS
    ('shape', 'scale', 'pos_x', 'pos_y')
    >>> X_all, factors_all = make_sprites(None, image_size=8)
    >>> X_all.shape
    (768, 64)
    """
    n_samples = _check_n_samples(n_samples)
    image_size = _check_image_size(image_size)
    sizes = SPRITE_FACTOR_SIZES
    if n_samples is None:
        factors = np.indices(sizes).reshape(len(sizes), -1).T
    else:
        rng = check_random_state(random_state)
        factors = np.column_stack([rng.randint(size, size=n_samples) for size in sizes])
    # each distinct combination drawn once, then copied to its rows
    combinations, rows = np.unique(factors, axis=0, return_inverse=True)
    X = _render(combinations, image_size)[rows.ravel()]
    return X, factors.astype(np.int64)


def _check_n_samples(n_samples):
    if n_samples is None:
        return None
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool):
        raise TypeError(
            f"n_samples must be an int or None, got {type(n_samples).__name__}"
        )
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1 or None, got n_samples={n_samples}")
    return int(n_samples)


def _check_image_size(image_size):
    if not isinstance(image_size, Integral) or isinstance(image_size, bool):
        raise TypeError(f"image_size must be an int, got {type(image_size).__name__}")
    if image_size < _MIN_IMAGE_SIZE:
        raise ValueError(
            f"image_size must be >= {_MIN_IMAGE_SIZE} pixels, "
            f"got image_size={image_size}"
        )
    return int(image_size)


def _render(combinations, image_size):
    """The images of factor combinations ``(n, 4)``, ``(n, image_size**2)``.

    Only the combinations asked for are drawn, so a few large images cost
    a few renders, not all of them.
    """
    n_x = SPRITE_FACTOR_SIZES[2]
    half_sizes = _HALF_SIZES * image_size  # (n_scales,), in pixels
    margin = half_sizes.max() + 0.5
    centres = np.linspace(margin, image_size - margin, n_x)  # same grid for y
    s = _SUPERSAMPLING
    sub = (np.arange(image_size * s) + 0.5) / s  # sub-pixel centres, in pixels
    offsets = sub - centres[:, None]  # (n_x, image_size * s)
    images = np.empty((len(combinations), image_size * image_size))
    for row, (shape, scale, x, y) in enumerate(combinations):
        # sprite-local coordinates in half-sizes: x along columns, y along rows
        u = (offsets[x] / half_sizes[scale])[None, :]
        v = (offsets[y] / half_sizes[scale])[:, None]
        if shape == 0:  # square
            mask = np.maximum(np.abs(u), np.abs(v)) <= 1.0
        elif shape == 1:  # disc
            mask = u**2 + v**2 <= 1.0
        else:  # triangle, apex up
            mask = (v <= 1.0) & (np.abs(u) <= 0.5 * (v + 1.0))
        # average each s-by-s block of sub-pixels into one pixel
        blocks = mask.reshape(image_size, s, image_size, s)
        images[row] = blocks.mean(axis=(1, 3)).ravel()
    return images
