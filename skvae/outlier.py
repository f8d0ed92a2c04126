"""VAEOutlierDetector: scikit-learn's outlier-detector API over any skvae model."""

from __future__ import annotations

import hashlib
import itertools
import math
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import torch
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OutlierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skvae._base import (
    BaseVAE,
    RowOverflowError,
    check_float32_range,
    restore_attributes,
    warn_ignored_params,
    warn_replaced_draws,
)
from skvae._columns import column_moments
from skvae._data import FLOATS, check_sparse, epochs_for_steps, row_counts
from skvae._frames import TableEncoder, check_column_labels, is_frame
from skvae._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
)
from skvae._torch import draw_seed, torch_threads
from skvae.models._autoencoder import LogJointScoreMixin
from skvae.models.vae import VAE
from skvae.models.vq import VQVAE, VQVAE2

# Below this many features the default detector's VAE is faster on the CPU,
# where it trains with at most this many threads (more only add overhead).
_GPU_MIN_FEATURES = 1024
_SMALL_MODEL_THREADS = 4
# Neighbours of the distance that screens rows out before the (single) fit.
_SCREEN_NEIGHBORS = 5
# From this many features, neighbours are proposed by a float32 matrix product
# (below, by scikit-learn's tree), with this many more candidates than needed.
_PRODUCT_MIN_FEATURES = 16
_EXTRA_CANDIDATES = 2
# A reference row within this share of a row's norm is the row itself, where
# the two differ in precision (a float32 copy is within 2**-24 of the row in
# every entry); of one precision, only a row at distance 0 is
_SELF_TOLERANCE = 1e-6
# The candidates' exact distances are measured in blocks of about this many
# entries (rows x features, at least 16 rows): their differences stay in the
# cache.
_MEASURE_ENTRIES = 2**16
# The default CPU model scores rows in blocks of at most this many entries of
# the decoder's output (rows x draws x features): about 4 MB of float32 per
# temporary, which the allocator reuses instead of mapping fresh pages.
_SCORE_ENTRIES = 2**20
_MIN_SCORE_ROWS = 16
# At most this many training rows are the reference rows of the distance part
# (drawn at random beyond): the search costs rows x this x features. On wide
# rows, fewer: at most _REFERENCE_ENTRIES entries (reference rows x
# features), at least _MIN_REFERENCE rows, so that a row's search costs
# about as much from 1,024 features on.
_MAX_REFERENCE = 1024
_REFERENCE_ENTRIES = 2**20
_MIN_REFERENCE = 256
# The likelihood's upper tail counts as atypical from this many features
# (fully from twice as many): see _typicality_weight.
_TYPICAL_MIN_FEATURES = 32
# From this many features the default model reads a row's principal
# components that hold this share of the training rows' variance, and an
# isotropic Gaussian scores the rest of the row (see _principal_subspace).
_SUBSPACE_MIN_FEATURES = 32
_SUBSPACE_VARIANCE = 0.9
# The rest's variance is at least this share of the mean feature variance
# (the default model's own variance floor).
_SUBSPACE_MIN_NOISE = 0.01
# fit scores the rows the subspace is found on off the subspace of the
# others, in this many folds, found within the span of this many times its
# number of leading directions and one power step (see _crossed_rest). The
# subspace is found on at most _SUBSPACE_ROWS of the rows the model is
# fitted on (drawn at random beyond): its cost, and the folds', grow with them.
# On wide rows, fewer: at most _SUBSPACE_ENTRIES entries (rows x features),
# at least _MIN_SUBSPACE_ROWS rows.
_CROSS_FOLDS = 3
# A row scored later is recognised as one of the rows the subspace was found
# on (and scored off the other folds') when its float32 rounding is theirs;
# the first principal coordinates of the two are then within this share of
# the row's norm (float32 rounds to 2**-24 of it), which screens the rows
# before their bytes are hashed.
_KEY_TOLERANCE = 2.0**-20
# The default model's networks train well on codes of order 1 (their
# initialisation, the learning rate); codes whose root mean square lies
# beyond this factor of 1 are divided by the power of two nearest it. So are
# rows it reads as they are, less their mean, where their spread or their
# mean lies beyond it.
_CODE_BAND = 8.0
_SUBSPACE_ROWS = 2048
_SUBSPACE_ENTRIES = 2**21
_MIN_SUBSPACE_ROWS = 256
_CROSS_SPAN = 1.25
# A column whose standard deviation passes this many times the median
# column's draws a warning (see _units_warning)
_UNITS_RATIO = 30.0
# From this many features an eigendecomposition (cubic in the fewer of the
# rows and the features) would cost more than the rest of the fit: the
# leading directions are then found by randomized subspace iteration (see
# _leading_directions), first this many of them, more until they hold the
# variance's share with room for the cross-fit's span, at most
# _MAX_DIRECTIONS.
_EXACT_MAX = 1024
# From this many features and rows (below _EXACT_MAX), randomized subspace
# iteration is tried first, and given up for an eigendecomposition where
# its first block holds less than _RANDOM_SHARE of the variance or more than
# _RANDOM_MOST directions would be needed: on 2,048 rows of 784 MNIST
# pixels (the first 64 directions hold 89% of the variance; 70 hold 90%)
# 47 ms against 87 ms, where on 784 columns of noise it would take 293 ms
# against 104 ms.
_RANDOM_MIN = 512
_RANDOM_SHARE = 0.8
_RANDOM_MOST = 128
_FIRST_DIRECTIONS = 64
_MAX_DIRECTIONS = 512
_POWER_STEPS = 2
# The default detector's training budget (see _detector_steps): at most this
# many optimisation steps, and at most this many multiply-adds of the weights.
_MAX_STEPS = 200
_WORK = 4e8
# ... in at least 1 and at most 20 epochs (tiny data: each epoch has a cost of
# its own, and more passes learn the training rows themselves, which then
# score higher than new rows of their kind; many rows: one pass, of more steps than
# the budget, so that the fit grows no faster than the rows).
_MAX_EPOCHS = 20
# Batches of n_samples // _BATCH_DIV rows (within _MIN_BATCH and _MAX_BATCH).
_BATCH_DIV = 16
_MIN_BATCH = 32
_MAX_BATCH = 256


def default_detector_vae(n_samples: int, n_features: int, random_state=None) -> VAE:
    """The VAE that :class:`VAEOutlierDetector` fits when given no estimator.

    Its size and its training budget follow the data (``n``: rows, ``d``:
    features):

    - latent dimension ``clip(round(sqrt(d)), 2, 16)``; one hidden layer of
      ``clip(2 ** round(log2(2 d)), 32, 64)`` units; learning rate 0.01;
    - ``w = 2 d width + 3 width latent`` is the work (multiply-adds) of one
      row's pass, and the budget is at most 200 optimisation steps and at
      most 4e8 multiply-adds in all: batches of
      ``clip(min(n // 16, 4e8 // (200 w)), 32, 256)`` rows (all ``n`` below
      32; wide rows keep small batches, so that more rows do not mean fewer
      steps), then
      ``min(200, ceil(4e8 / (w * batch)))`` steps: narrow rows get 200 (their
      cost is the fixed cost of a step), wide rows as many as that much work
      allows (at least 121 steps of 32 rows for MNIST's 784 pixels, at any
      number of rows);
    - epochs: those steps over the rows, at least 1 and at most 20 (a
      single pass is more steps than the budget from 3,841 rows of 784
      pixels, 40,801 rows of 64 features);
    - from half of ``steps * batch`` rows (1,936 rows of 784 pixels,
      20,500 of 64 features), :class:`VAEOutlierDetector` fits it in one
      pass over exactly ``steps * batch`` rows (see :func:`_fit_rows`):
      beyond that many, rows drawn at random; below, every row and some
      drawn again. Its fit then stops growing with the rows (only the
      neighbour search and the scoring of every row still do), and a
      second pass of a few more rows than half the budget no longer nearly
      doubles it.

    A short fit is deliberate: a VAE trained to convergence on contaminated
    data learns its outliers too. The budget was chosen on the tuning half
    of ``benchmarks/suite_outliers.py``: with it the detector's fit plus
    ``score_samples`` takes a few times IsolationForest's time on every
    task, less than the former, larger default; batches that grow with the
    rows scored no better, and twice the steps changed the likelihood's
    ROC-AUC little (the README gives the figures). Wide rows' batches stay
    small because growing batches leave wide rows few, costly steps;
    ``score_samples`` of the training rows reuses the scores that ``fit``
    found. A longer fit also leaves blends of two digits likelier than the
    digits, which the detector's two-sided score handles instead. The
    Gaussian likelihood's variance floor is 1% of the mean feature variance
    (ten times the VAE's default), so that features which barely vary among
    inliers do not dominate the score.

    The KL weight ``beta`` is 0.1. A weak KL term lets the codes carry more
    of each row (sharper posteriors, codes spread wider than the N(0, I)
    prior), and the score, the importance-weighted bound of the model's
    density under that prior, then charges rows whose codes lie far out, not
    only rows the decoder reconstructs badly. This helps where outliers are
    extreme along the data's main directions of variation (malignant tumours
    among benign ones, where ``beta=1`` scored lower), and it does not hurt
    where they differ in detail (one-class digits).

    On arrays of 32 features or more :class:`VAEOutlierDetector` fits this
    VAE to the rows' leading principal components (see its
    ``subspace_components_``), sizing it and its budget by ``n_features``,
    the rows' own width, as here: the steps are the same, each cheaper on
    the narrower input; it then trains on the CPU.

    These networks are small, and a GPU spends more time launching their
    kernels than computing them: the VAE runs on the CPU below 1,024
    features, and on ``device="auto"`` (CUDA when present) from there (even
    a larger network gained from CUDA only on much larger data), which the
    detector keeps where the model reads the rows themselves (tables, sparse
    matrices and ``score_type="latent"``). Pass your own estimator to choose
    the device.
    :class:`VAEOutlierDetector` trains this CPU model with at most four torch
    threads: more only add overhead to such small networks.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of the training data.
    random_state : int, RandomState instance or None, default=None
        Passed to the VAE.

    Returns
    -------
    VAE
        An unfitted VAE.

    Examples
    --------
    >>> default_detector_vae(500, 64).n_components
    8
    """
    n_components = int(np.clip(round(math.sqrt(n_features)), 2, 16))
    width = int(np.clip(2 ** round(math.log2(max(n_features, 1) * 2)), 32, 64))
    weights = _row_weights(n_features, width, n_components)
    batch_size = int(
        np.clip(
            min(n_samples // _BATCH_DIV, _WORK // (_MAX_STEPS * weights)),
            _MIN_BATCH,
            _MAX_BATCH,
        )
    )
    steps = _detector_steps(n_features, width, n_components, batch_size)
    max_iter = epochs_for_steps(steps, n_samples, batch_size, 1, _MAX_EPOCHS)
    return VAE(
        n_components=n_components,
        hidden_layer_sizes=(width,),
        beta=0.1,
        min_variance=0.01,
        batch_size=batch_size,
        learning_rate_init=0.01,
        max_iter=max_iter,
        # the budget is the rule (above): no loss test ends it sooner
        n_iter_no_change=max_iter,
        kl_warmup=min(10, max_iter // 4),
        random_state=random_state,
        device="cpu" if n_features < _GPU_MIN_FEATURES else "auto",
    )


def _budget_rows(vae: VAE, n_features: int) -> int:
    """Rows the default detector's VAE is fitted on at most: one budget's pass.

    ``steps * batch_size`` (:func:`_detector_steps`) for ``vae`` made by
    :func:`default_detector_vae` for ``n_features`` features.

    Examples
    --------
    >>> _budget_rows(default_detector_vae(5_000, 784), 784)
    3872
    """
    (width,) = vae.hidden_layer_sizes
    steps = _detector_steps(n_features, width, vae.n_components, vae.batch_size)
    return steps * vae.batch_size


def _fit_rows(n_samples: int, limit: int, random_state: Any) -> np.ndarray:
    """Indices of the rows the default model is fitted on, in one pass or more.

    Below ``limit / 2`` rows, every row (the model takes as many passes as
    its budget of steps needs). From there, exactly ``limit`` rows, for
    one pass of the budget: beyond ``limit`` rows, that many drawn at
    random without replacement; below, every row, topped up with some
    drawn again (so that two passes of a few more rows than half the budget
    do not nearly double it). The caller has left out rows of weight 0, and
    the weights go with the rows. ``random_state`` seeds the draw (a
    stream of its own, apart from the reference rows'); None draws from
    fresh entropy.

    Examples
    --------
    >>> _fit_rows(5, 3, 0).tolist()
    [0, 2, 4]
    >>> _fit_rows(3, 4, 0).tolist()
    [0, 1, 2, 2]
    >>> len(_fit_rows(3, 8, 0))
    3
    """
    rows = np.arange(n_samples)
    if 2 * n_samples < limit:
        return rows
    if len(rows) == limit:
        return rows
    rng = np.random.default_rng([draw_seed(random_state), 1])
    if len(rows) > limit:
        return np.sort(rng.choice(rows, limit, replace=False))
    copies, extra = divmod(limit, len(rows))
    drawn = rng.choice(rows, extra, replace=False)
    return np.sort(np.concatenate([np.tile(rows, copies), drawn]))


def _row_weights(n_features, width, n_components):
    """Multiply-adds of one row's pass through the one-hidden-layer VAE."""
    return 2 * n_features * width + 3 * width * n_components


def _detector_steps(n_features, width, n_components, batch_size):
    """Optimisation steps of the default detector's fit: a budget of work.

    ``min(STEPS, ceil(WORK / (weights * batch_size)))`` with
    ``weights = 2 * n_features * width + 3 * width * n_components``, the
    multiply-adds of one row's pass through the one-hidden-layer VAE. Small
    rows are bounded by the number of steps (each costs about a millisecond of
    fixed overhead), wide rows by the work.

    Examples
    --------
    >>> _detector_steps(64, 64, 8, 32)
    200
    >>> _detector_steps(784, 64, 16, 32)
    121
    """
    weights = _row_weights(n_features, width, n_components)
    return int(min(_MAX_STEPS, math.ceil(_WORK / (weights * batch_size))))


def _principal_subspace(
    X: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    basis: bool = False,
    random_state: Any = None,
) -> tuple | None:
    """Mean, principal components and residual variance of the rows X.

    The fewest principal components (of the weighted covariance) that hold
    ``_SUBSPACE_VARIANCE`` of the variance, at most ``n_features - 1``; the
    residual variance is the mean variance of the other directions
    (probabilistic PCA's estimate, Tipping and Bishop, 1999), at least
    ``_SUBSPACE_MIN_NOISE`` of the mean feature variance. None when the
    rows do not vary. ``basis=True`` adds the principal directions found, as
    orthonormal rows, leading first, and their variances: from
    ``_EXACT_MAX`` features the leading ones, by randomized subspace
    iteration (:func:`_leading_directions`, seeded by ``random_state``; None
    draws from fresh entropy), and so from ``_RANDOM_MIN`` features and rows
    where a few directions hold most of the variance (see
    ``_RANDOM_SHARE``); else all of them, from one eigendecomposition of the
    covariance, or, when there are fewer rows than features, those of
    positive variance, from the rows' Gram matrix.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 40))
    >>> X += 0.01 * rng.normal(size=X.shape)
    >>> mean, components, noise = _principal_subspace(X)
    >>> components.shape, bool(np.allclose(components @ components.T, np.eye(2)))
    ((2, 40), True)
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if weight is None:
        mean, root = X.mean(axis=0), np.full(n, math.sqrt(1.0 / n))
    else:  # a constant column's mean is then exact, as without weights
        mean, root = weight @ X / weight.sum(), np.sqrt(weight / weight.sum())
    centred = X - mean
    centred *= root[:, None]
    found = None
    if d >= _EXACT_MAX:
        found = _leading_directions(centred, random_state)
    elif min(n, d) >= _RANDOM_MIN:  # at random where that is cheaper
        found = _leading_directions(centred, random_state, _RANDOM_MOST)
    if found is not None:
        values, vectors, total = found
    else:
        # every direction of positive variance (below 1,024 features about as
        # fast as the eigenvalues alone and then the leading vectors), from
        # the smaller of the weighted covariance and the rows' Gram matrix
        if n < d:
            values, vectors = np.linalg.eigh(centred @ centred.T)
            values, vectors = values[::-1], vectors[:, ::-1]
            kept = values > 1e-12 * max(float(values[0]), 1e-300)
            values, vectors = values[kept], vectors[:, kept]
            vectors = (centred.T @ (vectors / np.sqrt(values))).T
        else:
            values, vectors = np.linalg.eigh(centred.T @ centred)
            values, vectors = np.clip(values[::-1], 0.0, None), vectors[:, ::-1].T
        vectors = np.ascontiguousarray(vectors)  # for fast products
        total = float(values.sum())
    # rows that do not vary: no variance beyond the mean's rounding
    if not total > 1e-20 * float(mean @ mean):
        return None
    k = _held(values, total)
    k = min(k, d - 1, len(values))
    # the other d - k directions' mean variance (those not found have none)
    rest = max(total - float(values[:k].sum()), 0.0) / (d - k)
    noise = max(rest, _SUBSPACE_MIN_NOISE * total / d)
    found = (mean, np.ascontiguousarray(vectors[:k]), noise)
    return (*found, vectors, values) if basis else found


def _held(values: np.ndarray, total: float) -> int:
    """The fewest leading ``values`` that hold ``_SUBSPACE_VARIANCE`` of ``total``.

    ``len(values) + 1`` when they all hold less.

    Examples
    --------
    >>> _held(np.array([5.0, 4.0, 1.0]), 10.0), _held(np.array([5.0]), 10.0)
    (2, 2)
    """
    return int(np.searchsorted(np.cumsum(values), _SUBSPACE_VARIANCE * total)) + 1


def _leading_directions(
    centred: np.ndarray, random_state: Any = None, most: int | None = None
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Leading principal directions of centred rows, found at random.

    Randomized subspace iteration (Halko, Martinsson and Tropp, "Finding
    structure with randomness", 2011): ``_POWER_STEPS`` products of the
    rows' covariance with an orthonormalised Gaussian block of
    ``_FIRST_DIRECTIONS`` directions, then Rayleigh-Ritz in the block. When
    the directions that hold ``_SUBSPACE_VARIANCE`` of the variance, times
    ``_CROSS_SPAN`` (the cross-fit's span, :func:`_crossed_rest`), do not
    fit in the block with a direction to spare, fresh directions join it
    (as many as it holds where it held too little of the variance to tell,
    else enough for the span and a quarter of the first block more; at most
    ``_MAX_DIRECTIONS``, the rows and the features in all): the same power
    steps, each orthogonal to the directions found, then Rayleigh-Ritz in
    the whole block. The products are in float32; their cost grows with
    rows x features x directions, where an eigendecomposition's grows with
    the cube of the fewer of the rows and the features.

    Returns the variances along the directions, largest first (Ritz values:
    each at most the covariance's eigenvalue of its rank), the directions
    (orthonormal rows) and the total variance (the squared norm of
    ``centred``, whose rows are already weighted). With ``most``, None
    where the search would cost more than an eigendecomposition: where the
    first block holds less than ``_RANDOM_SHARE`` of the variance (a
    spectrum that falls slowly), or where more than ``most`` directions
    would be needed.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> Y = rng.normal(size=(300, 3)) @ (10 * rng.normal(size=(3, 1100)))
    >>> Y = Y + rng.normal(size=Y.shape)
    >>> Y -= Y.mean(0)
    >>> values, vectors, total = _leading_directions(Y / np.sqrt(300), 0)
    >>> vectors.shape, bool(values[:3].sum() > 0.9 * total)
    ((64, 1100), True)
    """
    n, d = centred.shape
    total = float(np.einsum("ij,ij->", centred, centred))
    # in float32 scaled by a power of two (exact) to a norm of about 1: the
    # products of rows of 1e17 would pass float32's largest number
    scale = _power_of_two(math.sqrt(total))
    rows32 = (centred / scale).astype(np.float32)
    rng = np.random.default_rng([draw_seed(random_state), 4])
    limit = min(n, d, _MAX_DIRECTIONS)
    found, products = np.empty((d, 0)), np.empty((n, 0))  # and the rows' on them
    size = min(_FIRST_DIRECTIONS, limit)
    while True:
        fresh = rng.standard_normal((d, size - found.shape[1]))
        for _ in range(_POWER_STEPS):
            fresh = _orthonormal_beyond(found, fresh).astype(np.float32)
            fresh = (rows32.T @ (rows32 @ fresh)).astype(np.float64)
        fresh = _orthonormal_beyond(found, fresh)
        on_fresh = (rows32 @ fresh.astype(np.float32)).astype(np.float64)
        block, products = np.hstack([found, fresh]), np.hstack([products, on_fresh])
        values, turn = np.linalg.eigh(products.T @ products)
        values, turn = np.clip(values[::-1], 0.0, None), turn[:, ::-1]
        found, products = block @ turn, products @ turn
        k = _held(values * scale**2, total)
        if size >= limit or (k <= size and int(_CROSS_SPAN * k) < size):
            return values * scale**2, np.ascontiguousarray(found.T), total
        if most is not None and float(values.sum()) * scale**2 < _RANDOM_SHARE * total:
            return None  # a spectrum that falls slowly
        # the span and a quarter of the first block to spare (more
        # directions only raise the Ritz values, so k cannot grow), or, where
        # the block held too little of the variance to tell, twice the block
        wanted = int(_CROSS_SPAN * k) + _FIRST_DIRECTIONS // 4
        size = min(wanted if k <= size else 2 * size, limit)
        if most is not None and size > most:
            return None  # more directions than an eigendecomposition is worth


def _power_of_two(x: float) -> float:
    """The power of two nearest ``x`` (1 for 0 or a number that is not finite).

    Dividing by it is exact in binary floating point, so that scaled values
    round to float32 as the unscaled ones would, where both are in range.

    Examples
    --------
    >>> _power_of_two(3e17) == 2.0**58, _power_of_two(0.0)
    (True, 1.0)
    """
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    return 2.0 ** round(math.log2(x))


def _orthonormal_beyond(found: np.ndarray, block: np.ndarray) -> np.ndarray:
    """An orthonormal basis of ``block``'s columns, orthogonal to ``found``'s.

    ``found``: orthonormal columns. The columns are projected off them twice
    (the second for the rounding of the first), then orthonormalised.

    Examples
    --------
    >>> found = np.eye(3)[:, :1]
    >>> basis = _orthonormal_beyond(found, np.ones((3, 1)))
    >>> bool(np.allclose(found.T @ basis, 0)), bool(np.isclose(basis.T @ basis, 1))
    (True, True)
    """
    block = np.asarray(block, dtype=np.float64)
    for _ in range(2 if found.shape[1] else 0):
        block = block - found @ (found.T @ block)
    return np.linalg.qr(block)[0]


def _rest_log_density(off: np.ndarray, noise: float, n_rest: int) -> np.ndarray:
    """Log-density of residuals of squared norm ``off`` in ``n_rest`` dimensions.

    The isotropic Gaussian of variance ``noise`` that scores a row's residual
    off the principal subspace (:meth:`VAEOutlierDetector._project`,
    :func:`_crossed_rest`).

    Examples
    --------
    >>> round(float(_rest_log_density(np.zeros(1), 1.0, 1)[0]), 4)  # N(0; 0, 1)
    -0.9189
    """
    log_norm = n_rest * math.log(2 * math.pi * noise)
    return -0.5 * (np.maximum(off, 0.0) / noise + log_norm)


def _code_scale(Z: np.ndarray) -> float:
    """The power of two the model's codes are divided by (1 within the band).

    1 where the codes' root mean square is within ``_CODE_BAND`` of 1 (the
    suite's images: 0.3 to 0.9), else the power of two nearest it, so that
    the model reads codes of order 1 in any units of X: codes of 4e4 left
    the default VAE's likelihood ranking outliers as the most typical rows.

    Examples
    --------
    >>> _code_scale(np.full((3, 2), 0.5)), _code_scale(np.full((3, 2), 3e4))
    (1.0, 32768.0)
    """
    return _order_one(math.sqrt(float(np.mean(np.square(Z)))) if Z.size else 1.0)


def _order_one(size: float) -> float:
    """1 for a size within ``_CODE_BAND`` of 1, else the power of two nearest it.

    Examples
    --------
    >>> _order_one(5.0), _order_one(100.0), _order_one(0.01)
    (1.0, 128.0, 0.0078125)
    """
    return 1.0 if 1.0 / _CODE_BAND <= size <= _CODE_BAND else _power_of_two(size)


def _input_standard(X: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The offset and power of two the default model reads raw rows through.

    ``(None, 1.0)``, the rows as they are, where the root mean square of the
    centred rows is within ``_CODE_BAND`` of 1 and that of their mean at most
    ``_CODE_BAND`` (standardised tables); else their mean and the power of
    two nearest that spread, so that the model reads rows of order 1 in any
    units: rows of 1e-4 or offset by 1e4 left its likelihood ranking
    outliers below chance.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [3.0, 0.0]])
    >>> _input_standard(X)
    (None, 1.0)
    >>> offset, scale = _input_standard(1e4 + 100 * X)
    >>> offset.tolist(), scale
    ([10200.0, 10100.0], 128.0)
    """
    rows = np.asarray(X, dtype=np.float64)
    mean = rows.mean(0)
    spread = math.sqrt(float(rows.var(0).mean()))
    offset = math.sqrt(float(np.mean(np.square(mean))))
    if _order_one(spread) == 1.0 and offset <= _CODE_BAND:
        return None, 1.0
    return mean, _power_of_two(spread)


def _row_keys(X: Any, precisions: tuple[str, ...] = ("<f8", "<f4")) -> np.ndarray:
    """128-bit fingerprints of each row, two int64 columns a precision.

    By default columns 0 and 1: SHA-1 of the row's values in float64, the
    row itself (a float32 row and its float64 copy share it); columns 2 and
    3: of the row rounded to float32, which a float64 row shares with its
    float32 copy (``precisions`` chooses, in order). -0.0 is read as 0.0.
    A scored float32 row is matched by the second pair
    (:meth:`VAEOutlierDetector._known_rest`; a float64 row by
    :func:`_grid_keys`), as the distance part recognises a training row
    within rounding (:func:`_measured`); the first groups equal rows into
    folds (:func:`_crossed_rest`).

    Examples
    --------
    >>> X = np.array([[0.1, -0.0], [0.1, 0.0], [0.1 + 1e-12, 0.0], [0.2, 0.0]])
    >>> keys = _row_keys(X)
    >>> keys.shape, keys.dtype.name
    ((4, 4), 'int64')
    >>> bool((keys[0] == keys[1]).all()), bool((keys[0] == keys[3]).all())
    (True, False)
    >>> (keys[0] == keys[2]).tolist()  # equal in float32 only
    [False, False, True, True]
    >>> bool((_row_keys(X.astype(np.float32), ("<f4",)) == keys[:, 2:]).all())
    True
    >>> Y = X.astype(np.float32)
    >>> bool((_row_keys(Y)[:, :2] == _row_keys(Y.astype(np.float64))[:, :2]).all())
    True
    """
    rows = X.toarray() if sp.issparse(X) else X
    found = []
    for dtype in precisions:
        values = np.asarray(rows, dtype=dtype)
        values = np.ascontiguousarray(values + values.dtype.type(0.0))
        digests = b"".join(hashlib.sha1(row).digest()[:16] for row in values)
        found.append(np.frombuffer(digests, dtype="<i8").reshape(len(values), 2))
    return np.hstack(found).astype(np.int64)


def _grid_keys(centred: np.ndarray, grid: float) -> np.ndarray:
    """128-bit fingerprints of rows rounded to multiples of ``grid``, two int64.

    Rows that differ by rounding (far below ``grid`` in every value) share
    their fingerprint, but for a value that straddles a multiple's midpoint
    (a chance of about the difference over ``grid``), whatever the rows'
    scale or offset, values near 0 included (where rounding to float32
    keeps a 1e-17 apart from a 0).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0 + 1e-14, 1e-17], [1.5, 0.0]])
    >>> keys = _grid_keys(X, 2.0**-20)
    >>> bool((keys[0] == keys[1]).all()), bool((keys[0] == keys[2]).all())
    (True, False)
    """
    steps = np.clip(
        np.round(np.asarray(centred, dtype=np.float64) / grid), -(2.0**62), 2.0**62
    )
    steps = np.ascontiguousarray(steps.astype(np.int64))
    digests = b"".join(hashlib.sha1(row).digest()[:16] for row in steps)
    return np.frombuffer(digests, dtype="<i8").reshape(len(steps), 2).astype(np.int64)


def _key_grid(noise: float, mean: np.ndarray) -> float:
    """The grid of :func:`_grid_keys`: ``_SELF_TOLERANCE`` of the rest's spread.

    (The rest's variance a dimension is at least a hundredth of the mean
    feature variance: the grid lies far below any column's typical spread.)
    At least ``2**-30`` of the largest mean: float64's rounding of values far
    from 0 (1e-8 at 1e6) stays far below the grid.
    """
    offset = float(np.max(np.abs(mean))) if np.size(mean) else 0.0
    return max(_SELF_TOLERANCE * math.sqrt(float(noise)), 2.0**-30 * offset)


def _crossed_rest(
    X: np.ndarray,
    weight: np.ndarray | None,
    subspace: tuple,
    random_state: Any,
    keys: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Log-density of each row's residual off a subspace not found on it.

    The rows are split at random into ``_CROSS_FOLDS`` folds (equal rows in
    the same fold: by ``keys``, their :func:`_row_keys`, found here when
    None); each fold's rows are scored off the k leading principal
    directions of the other folds' rows (weighted; at most their number less
    one), by the isotropic Gaussian with which
    :meth:`VAEOutlierDetector._project` scores a new row (``subspace``:
    :func:`_principal_subspace`'s, with every direction and variance). A
    subspace leaves the rows it was found on smaller residuals than new rows
    of the same kind; off the other folds', a training row is scored as a new
    row would be.

    Each fold's directions are found by Rayleigh-Ritz, in the span of the
    ``_CROSS_SPAN * k`` leading directions of all the rows and of the other
    folds' covariance applied to the k leading ones (one block power step,
    which turns the directions away from what the fold's rows pulled them
    to), so that each fold costs a small eigendecomposition and a few
    products with the rows and the directions instead of one of the whole
    covariance. The other folds' covariance is taken from their rows, so
    that the directions need not be all of them nor exact (those of
    :func:`_leading_directions`). None below ``2 * _CROSS_FOLDS`` rows.
    ``random_state`` seeds the folds (a stream of its own); None draws from
    fresh entropy. Also returns the rows' principal components, found on
    the way (in one float32 product, as the model reads them).

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 40))
    >>> X += 0.1 * rng.normal(size=X.shape)
    >>> found = _principal_subspace(X, basis=True)
    >>> rest, components = _crossed_rest(X, None, found, 0)
    >>> rest.shape, components.shape
    ((200,), (200, 3))
    """
    mean, components, noise, vectors, _ = subspace
    n, d = X.shape
    if n < 2 * _CROSS_FOLDS:
        return None
    k = len(components)
    m = min(len(vectors), int(_CROSS_SPAN * k))
    span = vectors[:m]
    Y = np.asarray(X, dtype=np.float64) - mean
    squares = np.einsum("ij,ij->i", Y, Y)
    # scaled by a power of two (exact) to rows of norm about 1, so that the
    # float32 products stay in range (those of rows of 1e17 would not);
    # the residuals and the codes are scaled back
    scale = _power_of_two(math.sqrt(float(squares.sum()) / n))
    Y /= scale
    squares /= scale**2
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    # the products with the rows in float32 (as the model reads them), each
    # a small share of the rows' norm
    Y32 = Y.astype(np.float32)
    Z = (Y32 @ span.T.astype(np.float32)).astype(np.float64)
    rng = np.random.default_rng([draw_seed(random_state), 2])
    # equal rows share a fold: a copy of a row would otherwise help find the
    # directions the row is scored off. Grouped by the rows' own values: not
    # centred (the mean's last bit, which weights of 1 and None may round
    # differently, would reorder the groups and so redraw the folds), nor in
    # float32 (distinct rows far from 0 would share a key)
    keys = _row_keys(X) if keys is None else keys
    raw = np.ascontiguousarray(keys[:, :2]).view(np.dtype((np.void, 16))).ravel()
    _, group = np.unique(raw, return_inverse=True)
    fold = (rng.permutation(group.max() + 1) % _CROSS_FOLDS)[group]
    rest = np.empty(n)
    for f in range(_CROSS_FOLDS):
        own, other = np.flatnonzero(fold == f), np.flatnonzero(fold != f)
        if len(own) == 0:
            continue
        w_o = w[other]
        others = float(w_o.sum())
        if not others > 0:  # the other folds hold no weight
            return None
        Z_o = Z[other]
        # the other folds' mean, less the mean; their covariance is
        # C_o = Y_o' W_o Y_o / others - shift shift'
        shift = (w_o @ Y[other]) / others
        span_shift = span @ shift
        H = Z_o.T @ (w_o[:, None] * Z_o) / others - np.outer(span_shift, span_shift)
        coords = Z[own] - span_shift
        # (directions beyond the span: among those found, or, found at
        # random, beyond them)
        if m < len(vectors) or d >= _EXACT_MAX:
            # one power step C_o V_k of the k leading directions, beyond the
            # span: the fold's rows pulled the directions toward themselves
            weighted = (w_o[:, None] * Z_o[:, :k]).astype(np.float32)
            step = (Y32[other].T @ weighted).astype(np.float64) / others
            step -= np.outer(shift, span_shift[:k])
            for _ in range(2):  # twice, for the rounding of the first
                step -= span.T @ (span @ step)
            Q, R, _ = scipy.linalg.qr(step, mode="economic", pivoting=True)
            size = np.abs(np.diag(R))
            Q = Q[:, size > 1e-10 * max(float(size.max(initial=0.0)), 1e-300)]
            if Q.shape[1]:
                YQ = (Y32 @ Q.astype(np.float32)).astype(np.float64)
                YQ_o, Q_shift = YQ[other], Q.T @ shift
                cross = Z_o.T @ (w_o[:, None] * YQ_o) / others
                cross -= np.outer(span_shift, Q_shift)
                corner = YQ_o.T @ (w_o[:, None] * YQ_o) / others
                corner -= np.outer(Q_shift, Q_shift)
                H = np.block([[H, cross], [cross.T, corner]])
                coords = np.hstack([coords, YQ[own] - Q_shift])
        # at most k directions, and none the other folds' rows do not vary
        # along (duplicated rows span fewer): those would be any direction
        # of the basis, the fold's own rows' among them. Their variance is
        # the float32 products' rounding, within 1e-6 of the largest.
        spread, ritz = np.linalg.eigh((H + H.T) / 2)
        spread, ritz = spread[::-1][:k], ritz[:, ::-1][:, :k]
        ritz = ritz[:, spread > 1e-6 * max(float(spread[0]), 1e-300)]
        inside = coords @ ritz
        centred = squares[own] - 2 * (Y[own] @ shift) + float(shift @ shift)
        off = centred - np.einsum("ij,ij->i", inside, inside)
        rest[own] = _rest_log_density(off * scale**2, noise, d - k)
    return rest, Z[:, :k] * scale


def _typicality_weight(n_features: int) -> float:
    """Weight of the model score's upper tail in the combined score.

    ``clip(log2(n_features / 32), 0, 1)``: 0 up to 32 features, 1 from 64.
    In many dimensions the log-density of typical rows concentrates in a
    band (for a Gaussian, around minus the entropy, within about
    ``sqrt(d / 2)``), and a row far *above* that band is as atypical as one
    far below: a blend of two digit images is smoother than any digit, and
    a VAE gives it a higher likelihood than the digits themselves
    (Nalisnick et al., "Detecting out-of-distribution inputs to deep
    generative models using typicality", 2019). In few dimensions a high
    density is only a row near a mode.

    Examples
    --------
    >>> _typicality_weight(30), _typicality_weight(64), _typicality_weight(784)
    (0.0, 1.0, 1.0)
    """
    return float(np.clip(math.log2(max(n_features, 1) / _TYPICAL_MIN_FEATURES), 0, 1))


def _subspace_rows(n_features: int) -> int:
    """The most rows the principal subspace is found on, for rows this wide.

    ``_SUBSPACE_ROWS``, fewer on rows of over 1,024 features: at most
    ``_SUBSPACE_ENTRIES`` entries (rows x features), so that the search for
    the directions and the cross-fit cost about as much per feature up to
    8,192 features; at least ``_MIN_SUBSPACE_ROWS`` rows, so that the
    subspace and the folds still have rows to be found on.

    Examples
    --------
    >>> _subspace_rows(784), _subspace_rows(1568), _subspace_rows(100_000)
    (2048, 1337, 256)
    """
    return _rows_for_width(
        n_features, _SUBSPACE_ROWS, _SUBSPACE_ENTRIES, _MIN_SUBSPACE_ROWS
    )


def _refuse_holes(frame: Any) -> None:
    """Refuse a DataFrame with missing values, naming their columns."""
    holes = [c for c in frame.columns if frame[c].isna().any()]
    if holes:
        raise ValueError(
            f"Input X contains NaN: columns {holes[:10]} hold missing "
            "values (NaN, pd.NA or None). Fill them first, e.g. "
            "make_pipeline(VAEImputer(), VAEOutlierDetector())"
            ".set_output(transform='pandas'). A model that "
            "masks them, VAEOutlierDetector(VAE(missing='mask'), "
            "n_neighbors=0, trim_fraction=0), scores a row by its observed "
            "values alone: rows with more holes score higher and are "
            "flagged less, so compare rows with the same holes only."
        )


def _reference_limit(X: Any) -> int:
    """The most reference rows of the distance part, for the rows X.

    ``_MAX_REFERENCE`` rows; on dense arrays of over 1,024 features fewer:
    at most ``_REFERENCE_ENTRIES`` entries, at least ``_MIN_REFERENCE`` rows
    (so that a row's search costs about as much up to 4,096 features, and
    256 reference rows' worth from there). Tables and sparse matrices keep
    ``_MAX_REFERENCE``: sparse rows are searched by their nonzeros
    (scikit-learn's tree), whose cost the width does not set.

    Examples
    --------
    >>> [_reference_limit(np.empty((1, d))) for d in (784, 1500, 10_000)]
    [1024, 699, 256]
    """
    if is_frame(X) or sp.issparse(X):
        return _MAX_REFERENCE
    return _rows_for_width(
        X.shape[1], _MAX_REFERENCE, _REFERENCE_ENTRIES, _MIN_REFERENCE
    )


def _rows_for_width(n_features: int, most: int, entries: int, least: int) -> int:
    """``most`` rows, or ``entries // n_features`` if fewer, but ``least``.

    Examples
    --------
    >>> _rows_for_width(100, 50, 2_000, 10), _rows_for_width(1_000, 50, 2_000, 10)
    (20, 10)
    """
    return int(min(most, max(least, entries // max(n_features, 1))))


def _reference_rows(
    n_samples: int, weight: np.ndarray | None, random_state: Any, limit: int
) -> np.ndarray:
    """Indices of the training rows the distance part measures to.

    The rows of positive weight; beyond ``limit`` of them
    (:func:`_reference_limit`), that many drawn without replacement (with
    probability proportional to the weight); ``random_state=None`` draws
    from fresh entropy, leaving numpy's global state untouched
    (:func:`~skvae._torch.draw_seed`).
    """
    rows = np.arange(n_samples) if weight is None else np.flatnonzero(weight > 0)
    if len(rows) <= limit:
        return rows
    p = None if weight is None else weight[rows] / weight[rows].sum()
    rng = check_random_state(draw_seed(None) if random_state is None else random_state)
    return np.sort(rng.choice(rows, limit, replace=False, p=p))


def _digest(X: np.ndarray) -> str:
    """An exact fingerprint of an array: SHA-1 of its dtype, shape and bytes.

    ``fit`` and ``score_samples`` of the training rows each read every byte
    of the array through it, so it is the fastest of the standard library's
    160-bit hashes on current CPUs (which compute SHA-1 in hardware; it is
    here to recognise an array, not to resist a forger). The name of the
    hash leads the fingerprint, so that one made by another hash (an older
    version's, in a saved model) matches no array.

    Examples
    --------
    >>> _digest(np.zeros((2, 3)))[:5]
    'sha1:'
    """
    h = hashlib.sha1()
    h.update(f"{X.dtype.str}{X.shape}".encode())
    h.update(np.ascontiguousarray(X).view(np.uint8).ravel())
    return "sha1:" + h.hexdigest()


def _tukey_fence(scores: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Tukey's lower fence Q1 - 1.5 IQR: below it, a score is an outlier."""
    q1, q3 = _percentiles(scores, [25.0, 75.0], weight)
    return float(q1 - 1.5 * (q3 - q1))


def _percentiles(
    scores: np.ndarray, q: list[float], weight: np.ndarray | None = None
) -> list[float]:
    """Percentiles ``q`` of the finite scores, weighted by the rows' weights.

    Weights count rows: those of the rows as given, divided by the least
    positive one, make each row that many copies, and the percentile is
    ``np.percentile``'s (linear) of the copies: a row of weight 2 is the
    row twice, of weight 0 no row, and equal weights are none. Non-integer
    counts extend it: a row of count ``c`` holds ``c - 1`` of rank, and
    between rows the value runs linearly (the least and largest scores are
    the 0th and 100th percentiles).
    """
    finite = _finite_scores(scores)
    w = None if weight is None else weight[np.isfinite(scores)]
    if w is not None and np.all((w == 0) | (w == w.max())):
        # rows of weight 0 are as if removed, and equal weights are as none
        finite, w = finite[w > 0], None
    if w is None:
        return [float(v) for v in np.percentile(finite, q)]
    order = np.argsort(finite, kind="stable")
    values, counts = finite[order], row_counts(w[order])
    values, counts = values[counts > 0], counts[counts > 0]
    # a row of count c holds the ranks from its start to c - 1 past it; the
    # value between two rows' ranks runs linearly from one to the next
    ends = np.cumsum(counts)
    ranks = np.column_stack([ends - counts, ends - 1]).ravel()
    held = np.repeat(values, 2)
    return [float(np.interp(p / 100 * (ends[-1] - 1), ranks, held)) for p in q]


def _finite_scores(scores: np.ndarray) -> np.ndarray:
    """The finite scores, on which thresholds are computed.

    A score of -inf (a row the model finds impossible) is below any
    threshold, and NaN is never an inlier's score; neither may move a
    percentile.
    """
    finite = scores[np.isfinite(scores)]
    if finite.size == 0:
        raise ValueError(
            "The model gave no training row a finite score; scale the data "
            "(e.g. with StandardScaler) or check the estimator's parameters."
        )
    return finite


def _neighbor_scores(reference: np.ndarray, X: np.ndarray, k: int) -> np.ndarray:
    """Minus the mean distance of each row of X to its k nearest reference rows.

    A row of X equal to a reference row is not its own neighbour: one
    neighbour at distance 0 is passed over, so that a training row scores as
    it did in ``fit`` (leave-one-out), whichever call scores it.
    """
    return -_neighbor_distances(reference, X, k).mean(1)


def _neighbor_distances(reference: Any, X: Any, k: int) -> np.ndarray:
    """Distances of each row of X to its k nearest reference rows, nearest first.

    One search gives every smaller k as well: the first k' columns are the
    distances of :func:`_neighbor_scores` with k'. Every reference row is
    compared: below 16 features through scikit-learn's tree, from there (on
    dense rows) by one float32 matrix product per block of rows (both
    centred on the reference rows' mean), which proposes a few more
    candidates than needed. The distances of the
    candidates are then computed again directly, in float64, as the norm of
    the difference: distances from dot products can put a row at a small
    positive distance from itself, which would then count as its nearest
    neighbour.
    """
    m = min(k + 1 + _EXTRA_CANDIDATES, reference.shape[0])
    spread = None
    if not sp.issparse(reference):
        spread = np.asarray(reference, dtype=np.float64).std(axis=0)
        spread = spread + 1e-3 * spread.mean()  # columns of one value too
    if sp.issparse(reference) or reference.shape[1] < _PRODUCT_MIN_FEATURES:
        found = NearestNeighbors(n_neighbors=k + 1).fit(reference)
        propose = lambda rows: found.kneighbors(rows)[1]  # noqa: E731
    else:
        # centred on the reference rows' mean: a large common offset would
        # otherwise swamp the differences in float32's 24 bits; and scaled
        # by a power of two (exactly: the same candidates) to rows of norm
        # about 1, whose products neither overflow nor underflow float32
        centred = np.asarray(reference, dtype=np.float64)
        centre = centred.mean(0)
        centred = centred - centre
        size = math.sqrt(float(np.einsum("ij,ij->", centred, centred)) / len(centred))
        scale = _power_of_two(size)
        ref32 = (centred / scale).astype(np.float32)
        del centred
        norms = np.einsum("ij,ij->i", ref32, ref32)

        def propose(rows):
            rows32 = ((np.asarray(rows, dtype=np.float64) - centre) / scale).astype(
                np.float32
            )
            products = torch.from_numpy(norms - 2 * (rows32 @ ref32.T))
            # the m least of each row, in any order (torch's selection is
            # several times numpy's argpartition on rows of 1,024)
            found = torch.topk(products, m, dim=1, largest=False, sorted=False)
            return found.indices.numpy()

    # blocks of rows: at most about 2**18 products (or a sparse block) at once,
    # and about _SCORE_ENTRIES entries of rows (10,000 features: 104 rows),
    # small enough to stay in the cache and to reuse the same memory
    step = min(BaseVAE._BATCH_ROWS, 2**18 // max(reference.shape[0], 1))
    step = max(1, min(step, _SCORE_ENTRIES // max(reference.shape[1], 1)))
    blocks = []
    for i in range(0, X.shape[0], step):
        rows = X[i : i + step]
        if sp.issparse(rows) and not sp.issparse(reference):
            rows = rows.toarray()
        blocks.append(_measured(reference, rows, propose(rows), k, spread))
    return np.concatenate(blocks) if blocks else np.empty((0, k))


def _measured(
    reference: Any, X: Any, index: np.ndarray, k: int, spread: np.ndarray | None = None
) -> np.ndarray:
    """The k nearest of the candidate reference rows ``index``, measured exactly.

    The nearest candidate is the row itself, passed over, at distance 0,
    and, on dense rows, where each of its values lies within
    ``_SELF_TOLERANCE`` of the column's ``spread`` of the row's: a copy of
    a training row up to rounding (a pipeline's ``transform`` of the rows
    its ``fit_transform`` gave, 1e-14 off, or a float32 step's, 1e-7 off)
    is recognised. (Column by column, in the column's own spread: a row
    with one 0/1 flag flipped is another row beside a column of seconds in
    a year, and a new row's true nearest neighbour is not passed over on
    rows with a large common offset.) Where the rows and the reference rows
    differ in precision (float32 and float64), so is one within float32's
    rounding of each value (sparse rows: of the row's norm), so that a
    float32 copy of a training row is recognised as well. Dense rows
    are measured in blocks of about ``_MEASURE_ENTRIES`` entries, one column
    of candidates after another, so that the differences stay in the cache.
    """
    dist = np.empty(index.shape)
    step = max(16, _MEASURE_ENTRIES // max(X.shape[1], 1))
    step = index.shape[0] if sp.issparse(X) else step
    for i in range(0, index.shape[0], step):
        rows, near = X[i : i + step], index[i : i + step]
        for j in range(index.shape[1]):  # one column of candidates at a time
            diff = rows - reference[near[:, j]]
            if sp.issparse(diff):
                squares = np.asarray(diff.multiply(diff).sum(1)).ravel()
            else:
                squares = np.einsum("ij,ij->i", diff, diff)
            dist[i : i + step, j] = np.sqrt(squares)
    order = np.argsort(dist, axis=1, kind="stable")
    dist = np.take_along_axis(dist, order, axis=1)
    itself = dist[:, 0] == 0
    mixed = X.dtype != reference.dtype
    if spread is None or sp.issparse(X):
        if mixed:
            itself |= dist[:, 0] <= _SELF_TOLERANCE * _norms(X)
        return np.where(itself[:, None], dist[:, 1 : k + 1], dist[:, :k])
    # screened by distance, then column by column
    tolerance = _SELF_TOLERANCE * spread
    reach = np.full(X.shape[0], np.linalg.norm(tolerance))
    if mixed:  # and float32's rounding of each value
        reach += _SELF_TOLERANCE * _norms(X)
    near = np.flatnonzero(~itself & (dist[:, 0] <= reach))
    if len(near):
        nearest = reference[index[near, order[near, 0]]]
        allowed = tolerance
        if mixed:
            allowed = np.maximum(tolerance, 2.0**-23 * np.abs(nearest))
        gap = np.abs(np.asarray(X[near], dtype=np.float64) - nearest)
        itself[near] = np.all(gap <= allowed, axis=1)
    return np.where(itself[:, None], dist[:, 1 : k + 1], dist[:, :k])


def _norms(X: Any) -> np.ndarray:
    """Euclidean norm of each row of X (dense or sparse), float64.

    Examples
    --------
    >>> _norms(np.array([[3.0, 4.0], [1.0, 0.0]]))
    array([5., 1.])
    """
    if sp.issparse(X):
        return np.sqrt(np.asarray(X.multiply(X).sum(1), dtype=np.float64).ravel())
    return np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))


def _robust_scale(
    scores: np.ndarray, weight: np.ndarray | None = None
) -> tuple[float, float]:
    """Median and interquartile range (standard deviation if 0, else 1)."""
    finite = _finite_scores(scores)
    q1, median, q3 = _percentiles(scores, [25.0, 50.0, 75.0], weight)
    spread = q3 - q1 if q3 > q1 else finite.std()
    return float(median), float(spread) if spread > 0 else 1.0


def _score_rows(estimator: BaseVAE, k: int, n_features: int) -> int:
    """Rows a CPU model scores at once with ``k`` draws: ``_SCORE_ENTRIES``.

    ``k`` draws of a block of rows make temporaries of ``k * rows *
    n_features`` entries (the decoder's output, the residuals): with
    1,500 features, blocks of 1,024 rows (the models' own) make temporaries
    of 24 MB, freshly mapped and filled at every block, which took longer
    than the scoring's arithmetic. Blocks of at most ``_SCORE_ENTRIES``
    entries (at least ``_MIN_SCORE_ROWS`` rows) stay small enough to be
    reused. A model on another device scores in its own blocks (the
    returned number is then its ``_BATCH_ROWS``). The scores are the same:
    every row is scored with the same ``k`` draws.

    Examples
    --------
    >>> from skvae import VAE
    >>> _score_rows(VAE(device="cpu"), 4, 1500)
    174
    """
    device = getattr(estimator, "_device", None)
    rows = int(estimator._BATCH_ROWS)
    if device is not None and torch.device(device).type != "cpu":
        return rows
    fan_out = k * max(n_features, 1)
    return max(_MIN_SCORE_ROWS, min(rows // max(k, 1), _SCORE_ENTRIES // fan_out))


def _distinct_rows(
    X: Any, weight: np.ndarray | None, least: int = 2
) -> tuple[Any, np.ndarray | None, np.ndarray | None, bool]:
    """X's distinct rows, each of the summed weight of its copies.

    Returns the distinct rows (in the order of their first copies), their
    weights (None when X has no equal rows and no weights were given), the
    index of each row of X among them (None when X has no equal rows), and
    whether the weights only count the copies (no weights were given). An
    array's rows (dense or sparse) are equal when their values are (-0.0 as
    0.0, a stored 0 as one left out), a table's when each column's are
    (missing values as one value); X with fewer than ``least`` distinct
    rows of positive weight (too few for the neighbours asked for) is taken
    as it is.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0]])
    >>> rows, weight, inverse, copies = _distinct_rows(X, None)
    >>> rows.tolist(), weight.tolist(), inverse.tolist(), copies
    ([[0.0, 1.0], [2.0, 3.0]], [2.0, 1.0], [0, 1, 0], True)
    >>> _distinct_rows(X[:2], None)[1:]
    (None, None, False)
    """
    if sp.issparse(X):
        rows = X.tocsr(copy=True)
        rows.sum_duplicates()
        rows.data = rows.data + rows.data.dtype.type(0.0)  # -0.0 as 0.0
        rows.eliminate_zeros()  # a stored 0 is the entry left out
        rows.sort_indices()
        ends = rows.indptr
        digests = b"".join(
            hashlib.sha1(
                rows.indices[a:b].tobytes() + rows.data[a:b].tobytes()
            ).digest()[:16]
            for a, b in itertools.pairwise(ends)
        )
        keys = np.frombuffer(digests, dtype=np.dtype((np.void, 16)))
    elif is_frame(X):
        # exact groups (a hash of an object column reads 1 and "1" as one)
        keys = X.groupby(list(X.columns), dropna=False, sort=False).ngroup()
        keys = keys.to_numpy()
    else:
        # 16-byte fingerprints of the rows, a block at a time: no copy of X
        # (np.unique on the rows themselves sorts a copy, several times X)
        step = max(1, 2**16 // max(X.shape[1], 1))  # blocks of 512 kB
        keys = np.empty(X.shape[0], dtype=np.dtype((np.void, 16)))
        for i in range(0, X.shape[0], step):
            block = np.ascontiguousarray(X[i : i + step] + X.dtype.type(0.0))
            found = b"".join(hashlib.sha1(row).digest()[:16] for row in block)
            keys[i : i + len(block)] = np.frombuffer(found, dtype=keys.dtype)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if len(first) == X.shape[0]:
        return X, weight, None, False
    # distinct rows in the order of their first copies
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    inverse = rank[inverse.ravel()]
    summed = np.bincount(
        inverse, weights=None if weight is None else weight, minlength=len(first)
    ).astype(np.float64)
    if np.count_nonzero(summed) < least:
        return X, weight, None, False
    return _take(X, first[order]), summed, inverse, weight is None


def _units_warning(
    X: Any, names: list | None = None, weight: np.ndarray | None = None
) -> str | None:
    """A warning where one column varies far more than the median column.

    Of the columns that vary (a table's number columns; booleans and
    categories are 0/1 columns of spread at most one half), the one of the
    largest standard deviation, where it passes ``_UNITS_RATIO`` times the
    median's: columns in different units (a price beside rates), of which
    that one decides the neighbour distances and the default model's fit
    alone. Images and standardised tables pass (the largest spread of
    MNIST's pixels, of digits', of standardised columns is within 3 times
    the median's; raw wine's is 388 times). Sparse matrices pass: counts of
    words spread so, and are compared as they are (``names``: an array's
    column names, a frame of floats'; ``weight``: rows of weight 0 are left
    out).

    Examples
    --------
    >>> X = np.random.RandomState(0).normal(size=(50, 3)) * [1.0, 1.0, 500.0]
    >>> print(_units_warning(X)[:45])
    Column 2 of X varies 4.5e+02 times as much as
    """
    if sp.issparse(X):
        return None
    # (spreads of at most about 1,024 rows, evenly spaced: a 30-fold
    # difference does not need more, and fit's time should not grow by it)
    rows = np.arange(0, X.shape[0], max(1, X.shape[0] // 1024))
    if weight is not None:
        rows = rows[weight[rows] > 0]
    table = is_frame(X)
    if table:
        numbers = X.iloc[rows].select_dtypes(include="number", exclude="bool")
        names = [str(c) for c in numbers.columns]
        spread = numbers.astype(np.float64).std(ddof=0).to_numpy()
    else:
        spread = np.sqrt(np.maximum(column_moments(X[rows])[1], 0.0))
    varies = np.flatnonzero(np.isfinite(spread) & (spread > 0))
    if varies.size < 2:
        return None
    median = float(np.median(spread[varies]))
    top = int(varies[np.argmax(spread[varies])])
    ratio = float(spread[top]) / median
    if ratio <= _UNITS_RATIO:
        return None
    name = repr(str(names[top])) if names is not None else str(top)
    how = (
        "make_pipeline(ColumnTransformer([('scale', StandardScaler(), "
        "make_column_selector(dtype_include='number'))], "
        "remainder='passthrough'), VAEOutlierDetector())"
        ".set_output(transform='pandas') for a table with other columns"
        if table and len(names) < X.shape[1]
        else "make_pipeline(StandardScaler(), VAEOutlierDetector())"
    )
    return (
        f"Column {name} of X varies {ratio:.2g} times as much as the median "
        f"column (standard deviation {spread[top]:.3g} against {median:.3g}): "
        "the detector's neighbour distances and its default model weigh each "
        "column by its spread, so that column decides the scores nearly alone "
        f"(columns in different units). Standardise them first, e.g. {how}, "
        "unless their units are meant to weigh so."
    )


def _take(X: Any, rows: np.ndarray) -> Any:
    """Rows of an array, a sparse matrix or a table."""
    return X.iloc[rows] if is_frame(X) else X[rows]


def _ranked(scores: np.ndarray) -> np.ndarray:
    """Scores for ranking rows: NaN ranks lowest, as an outlier."""
    return np.where(np.isnan(scores), -np.inf, scores)


class VAEOutlierDetector(OutlierMixin, MetaEstimatorMixin, BaseEstimator):
    """Outlier detection with a variational autoencoder, sklearn's outlier API.

    Fits a skvae model to X and scores rows by how typical the model finds
    them (higher = more normal, as ``IsolationForest.score_samples``).
    Works in both settings: unsupervised (fit on contaminated data, score
    the same rows) and novelty detection (fit on clean data, score new rows).

    By default the score has two parts, each standardised robustly on the
    training rows (minus their median, over their interquartile range) and
    combined by a soft minimum, ``-log(exp(-a) + exp(-b))``: the model's
    score chosen by ``score_type``, and minus the mean distance of the row
    to its ``n_neighbors`` nearest reference rows (the training rows; beyond
    1,024 of them, 1,024 drawn at random, so that the search grows linearly
    with the rows; fewer on rows of over 1,024 features, see
    ``n_neighbors``). A row is then about as typical as its less typical
    part: the model sees how features depend on each other, the distance
    sees rows that lie apart from the others, and neither part's "typical"
    hides the other's "outlier". On wide rows (from 32 features, fully from
    64) a model score far *above* the training rows' band counts as
    atypical too: the standardised model part ``a`` enters the soft minimum
    as ``a`` and as ``-a`` (for "likelihood" and "reconstruction"). In many
    dimensions typical rows have log-densities in a band, and a blend of two
    digit images, smoother than any digit, is likelier to a VAE than the
    digits themselves (Nalisnick et al., 2019); with the one-sided score
    such blends ranked as the most typical rows.

    On wide arrays (from 32 features) the default model reads each row's
    principal components: those of the rows it is fitted on (at most 2,048
    of them, drawn at random beyond; on rows of over 1,024 features at most
    2**21 entries' worth) that hold 90% of their variance
    (``subspace_components_``; from 1,024 features found by randomized
    subspace iteration, whose cost grows with the features where an
    eigendecomposition's grows with their cube). The rest of the row, its
    residual off that subspace, is scored by an isotropic Gaussian whose
    variance is the mean of the other directions' (probabilistic PCA's
    estimate, at least 1% of the mean feature variance); the likelihood is
    the VAE's log-likelihood of the components plus the Gaussian's of the
    rest, a density of the whole row (the subspace is orthonormal). A
    briefly trained VAE leaves much of a wide row unexplained, so that rows
    which break the features' dependence (half of one image's pixels with
    half of another's) hide in its error; the subspace explains the typical
    rows' detail and the Gaussian charges what lies off it, while the VAE
    models the components' nonlinear structure; it reads them over a power
    of two where they are far from order 1 (``subspace_scale_``), so that
    rows in large or small units train it as rows in units of order 1 do.
    Tables (DataFrames with a column of another type than numpy's floats;
    a DataFrame of float columns is the array of its values, its column
    names kept), sparse matrices,
    narrower arrays, ``score_type="latent"`` and a model passed as
    ``estimator`` (which takes any DataFrame as a table) read the rows as
    they are; the default model reads narrower
    arrays (and any array with ``score_type="latent"``) less their mean and
    over a power of two where they are far from order 1 (``input_offset_``,
    ``input_scale_``). The distance part reads every row in its units:
    standardise columns of different units first (a ``StandardScaler``
    before the detector in a pipeline), as for LOF. A
    subspace leaves the rows it was found on smaller residuals than new
    rows of the same kind, and a threshold set on such residuals flags
    too many new rows; so ``fit`` scores each of those rows off the subspace
    of the others (in three folds drawn with ``random_state``, equal rows in
    one fold), as a new row would be scored, as the distance part passes
    over a training row itself. Such a row keeps that score in any array
    that holds it (reordered, a few rows, a float32 copy, a copy off by
    rounding as a pipeline's ``transform`` gives), as do its copies:
    its fingerprint (``subspace_keys_``) is recognised, as the distance part
    recognises a training row, so that its residual is never the smaller
    one the two-sided score would flag.

    The two-sided score, the 1,024 reference rows and the default model were
    chosen on the tuning half of ``benchmarks/suite_outliers.py``; the
    README gives the detector's ROC-AUC, rank and time against seven other
    detectors on both halves, and the user guide the tasks where a simple
    detector does better.

    Parameters
    ----------
    estimator : skvae estimator or None, default=None
        The model to fit, cloned at ``fit``. ``None`` uses
        :func:`default_detector_vae`, whose size and number of epochs adapt
        to the data, and which trains on the CPU (at most four threads)
        below 1,024 features, and on every dense array it reads the
        principal components of, where its small networks run faster there
        than on a GPU.
    contamination : "auto" or float in (0, 0.5], default="auto"
        Share of outliers expected in the training data; ``offset_`` is that
        percentile of the training scores. "auto" sets ``offset_`` to Tukey's
        lower fence of the training scores, Q1 - 1.5 IQR, which adapts to the
        spread of the scores without assuming a share.
    score_type : {"likelihood", "reconstruction", "latent"}, default="likelihood"
        - "likelihood": the importance-weighted log-likelihood bound (IWAE)
          with ``n_importance_samples`` draws: a proper density score, and
          the default.
        - "reconstruction": the expected reconstruction log-likelihood
          E_q[log p(x|z)], which ignores where a row lands in the latent
          space; helps when outliers look like no training row in detail
          but encode to typical latent codes.
        - "latent": the Gaussian log-density (up to a constant) of the
          posterior mean under a Gaussian fitted to the training rows' codes;
          helps when outliers are unusual combinations of normal features.
    n_importance_samples : int, default=2
        Draws per row for the "likelihood" and "reconstruction" scores. Each
        draw is one pass of the decoder over every scored row, the largest
        cost of scoring wide rows; two drew as good a ranking as four on the
        tuning half of ``benchmarks/suite_outliers.py`` (the README gives
        the figures). A model whose encoder draws no codes (WAE and
        AdversarialAE with ``encoder_type="deterministic"``, VQVAE, VQVAE2)
        takes one, as do WAE and AdversarialAE scored by "likelihood" (their
        log-joint score reads the code's mean); a value set for them is
        warned about, as unread.
    n_neighbors : int >= 0, default=5
        Neighbours of the distance part of the score: the mean distance (in
        the input space) to the ``n_neighbors`` nearest training rows. 0
        leaves the distance out: the score is then the model's own, in nats.
        Must be below the number of reference rows: the training rows (of
        positive weight), or, beyond 1,024 of them, 1,024 drawn at random
        (seeded by ``random_state``, in proportion to the weights), which are
        kept for it; on dense rows of over 1,024 features, at most 2**20
        entries' worth (699 rows of 1,500 features; at least 256 rows). The
        search among them is exact: its time grows with the number of rows
        times at most 1,024 times the number of features, about 2**20 on
        dense rows of 1,024 to 4,096 features and 256 times the features
        beyond (``fit`` searches once, for this part and the screening by
        ``trim_fraction``).
    trim_fraction : "auto" or float in [0, 1), default="auto"
        Robust fit: before the model is fitted, the training rows farthest
        from the others (by the mean distance to their 5 nearest rows) are
        left out, so that outliers in the training data shape the model
        less; every row is still scored. "auto" leaves out the rows above
        Tukey's upper fence of those distances, Q3 + 1.5 IQR (none, when the
        data hold no clear outlier); a float leaves out that share of the
        rows (with ``sample_weight``, the least typical rows that hold that
        share of the weight); 0 leaves out none.
    random_state : int, RandomState instance or None, default=None
        Seed of the model: of the default estimator, and, when not None, in
        place of a given estimator's own ``random_state`` (None keeps it);
        it (or a given estimator's own integer seed) also draws the
        reference rows of ``n_neighbors``.

    Attributes
    ----------
    estimator_ : skvae estimator
        The fitted model.
    offset_ : float
        Threshold on ``score_samples``: ``decision_function = score_samples -
        offset_``, negative for outliers.
    neighbor_rows_ : ndarray of shape (n_reference, n_features) or None
        The reference rows, to which the distance part of the score is
        measured (a copy of at most 1,024 training rows of positive weight,
        fewer on rows of over 1,024 features); None when ``n_neighbors=0``.
    training_scores_ : ndarray of shape (n_samples,)
        ``score_samples`` of the training rows, found in ``fit`` (which sets
        ``offset_`` from them). ``score_samples`` returns them again, without
        a second pass, when given an array equal to the training rows (as in
        ``fit_predict``; see ``training_digest_``). On a principal subspace
        the rows it was found on are scored off the subspace of the other
        folds' rows (see above), in this array and in any other that holds
        them (see ``subspace_keys_``).
    training_digest_ : str or None
        A fingerprint (SHA-1 of the dtype, shape and bytes, after
        ``"sha1:"``) of the training array, by which ``score_samples``
        recognises it; None for a table or a sparse matrix.
    subspace_components_ : ndarray of shape (n_subspace, n_features) or None
        The orthonormal principal directions the default model reads on wide
        arrays (see above): ``estimator_`` is then fitted on ``(X -
        subspace_mean_) @ subspace_components_.T / subspace_scale_``. None
        where the model reads the rows as they are.
    subspace_mean_ : ndarray of shape (n_features,) or None
        The mean row of the rows the subspace was found on.
    subspace_noise_ : float or None
        Variance of each direction of a row's residual off the subspace.
    input_offset_ : ndarray of shape (n_features,) or None
        Where the default model reads the rows as they are (see above), the
        mean it subtracts from them when they are far from order 1 (their
        spread beyond a factor of 8 from 1, or their mean beyond 8): it then
        reads ``(X - input_offset_) / input_scale_``, and its density of the
        rows is that of what it read less ``n_features * log(input_scale_)``.
        None where it reads them unchanged.
    input_scale_ : float or None
        The power of two nearest the spread (root mean square) of those
        rows about their mean, by which they are divided; None with
        ``input_offset_``.
    subspace_scale_ : float or None
        The power of two the principal components are divided by before the
        model reads them: 1 where their root mean square is within a factor
        of 8 of 1, else the power of two nearest it, so that the model
        reads codes of order 1 in any units of X (its log-density of the
        codes is that of what it read, less ``n_subspace * log(scale)``).
    subspace_keys_ : ndarray of shape (n_found_on, 6) or None
        Three fingerprints of each row the subspace was found on (128 bits
        of the SHA-1 of its values in float64, then rounded to float32, then
        less ``subspace_mean_`` and rounded to a grid of a millionth of the
        rest's spread, each as two int64), in the order of
        ``subspace_first_``; a scored float32 row is recognised as one of
        them by the second, a float64 row by the third (a copy off by
        rounding is the row, whatever the rows' offset).
        None where the model reads the rows as they are.
    subspace_first_ : ndarray of shape (n_found_on,) or None
        Those rows' first principal coordinates, sorted: only a scored row
        with one of them (within float32's rounding) is fingerprinted.
    subspace_rest_ : ndarray of shape (n_found_on,) or None
        Those rows' residuals' log-densities off the other folds' subspace,
        which score them in place of their residuals off the whole one.
    score_scales_ : dict
        For each part of the score (``score_type`` and, with neighbours,
        "neighbors"), its median and spread (interquartile range) on the
        training rows, which standardise it.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.
    skvae.VAE : The default model.

    References
    ----------
    .. [1] J. An and S. Cho, "Variational Autoencoder based Anomaly Detection
       using Reconstruction Probability", SNU Data Mining Center, 2015.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
       Autoencoders", ICLR 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAE, VAEOutlierDetector
    >>> X = np.random.RandomState(0).normal(size=(20, 4))
    >>> det = VAEOutlierDetector(VAE(max_iter=2, random_state=0), contamination=0.1)
    >>> det.fit(X).predict(X).shape
    (20,)
    >>> int((det.predict(X) == -1).sum())
    2
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "score_samples", "transform"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "score_type": [StrOptions({"likelihood", "reconstruction", "latent"})],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 0, None, closed="left")],
        "trim_fraction": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        contamination="auto",
        score_type="likelihood",
        n_importance_samples=2,
        n_neighbors=5,
        trim_fraction="auto",
        random_state=None,
    ):
        self.estimator = estimator
        self.contamination = contamination
        self.score_type = score_type
        self.n_importance_samples = n_importance_samples
        self.n_neighbors = n_neighbors
        self.trim_fraction = trim_fraction
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the model and set the threshold ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (may contain outliers).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows, passed on to the model's
            ``fit``; the screening, the threshold, the scales of the score's
            parts and the latent Gaussian are weighted too, and rows of weight
            0 are not neighbours of any row. Rows given more than once count
            as one row of their summed weight: equal rows of X (of an array,
            dense or sparse, or a table) are fitted as one row, so that a row
            given twice is the row of weight 2, not its own neighbour at
            distance 0, which made the training rows look more typical than
            new rows (a model that refuses weights is fitted on the copies as
            given; X with no more distinct rows than ``n_neighbors`` is taken
            as given).

        Returns
        -------
        self : object
            The fitted detector.
        """
        saved = dict(vars(self))
        X_valid = w = None
        found: dict = {}  # what _fit_model found, also when interrupted
        try:
            given = self._validate(X, reset=True)
            warn_ignored_params(self)
            if "n_importance_samples" not in self._ignored_params():
                warn_replaced_draws(self, self.estimator)
            if sample_weight is not None:
                w = _check_sample_weight(sample_weight, given, ensure_non_negative=True)
            # equal rows are one row of their summed weight (see fit's notes)
            named = X if is_frame(X) and not is_frame(given) else None
            X, w, inverse, found["copies"] = _distinct_rows(
                given, w, least=max(2, self.n_neighbors + 1)
            )
            units = None
            if self.estimator is None or self.n_neighbors > 0:
                # of the rows that count: each once, none of weight 0
                names = None if named is None else list(named.columns)
                units = _units_warning(X, names, w)
                if units is not None:
                    warnings.warn(units, UserWarning, stacklevel=2)
            found["units"] = units is not None
            X_valid = X
            n_reference = X.shape[0] if w is None else int(np.count_nonzero(w))
            limit = _reference_limit(X)
            n_reference = min(n_reference, limit)
            if self.n_neighbors >= n_reference:
                raise ValueError(
                    f"n_neighbors={self.n_neighbors} must be below the number "
                    f"of training rows (of positive weight, at most "
                    f"{limit}), {n_reference}."
                )
            reference = _reference_rows(X.shape[0], w, self._reference_seed(), limit)
            keep, distances = self._screened(X, w, reference)
            self._fit_model(X, w, keep, found)
            self._set_offset(X, w, distances, reference, found.get("crossed"))
            self._of_given_rows(given, inverse)
        except KeyboardInterrupt:
            # Ctrl-C: the model of this call, as far as it got, with its
            # threshold (one press stops both fits); else as before the call
            fitted = vars(self).get("estimator_")
            if X_valid is None or fitted is None or fitted is saved.get("estimator_"):
                restore_attributes(self, saved)
            else:
                self._set_offset(X_valid, w, crossed=found.get("crossed"))
                self._of_given_rows(given, inverse)
            raise
        except BaseException:
            restore_attributes(self, saved)  # no half-set attributes
            raise
        return self

    def _of_given_rows(self, given: Any, inverse: np.ndarray | None) -> None:
        """``training_scores_`` and the digest of the rows as given to ``fit``.

        ``inverse``: the distinct row each given row is (None: they were
        all distinct, and ``fit`` scored them as given).
        """
        if inverse is None:
            return
        self.training_scores_ = self.training_scores_[inverse]
        self.training_digest_ = (
            _digest(given) if isinstance(given, np.ndarray) else None
        )

    def _ignored_params(self) -> dict[str, str]:
        """The parameters the others leave unread (see ``warn_ignored_params``)."""
        if self.score_type == "latent":
            return {
                "n_importance_samples": "with score_type='latent' (it sets the "
                "draws of the likelihood and reconstruction scores)"
            }
        model = self.estimator
        if isinstance(model, VQVAE | VQVAE2) or (
            isinstance(model, BaseVAE)
            and model.get_params(deep=False).get("encoder_type") == "deterministic"
        ):
            return {
                "n_importance_samples": f"with a {type(model).__name__} whose "
                "encoder draws no codes (one code a row: every draw is the same)"
            }
        if isinstance(model, LogJointScoreMixin) and self.score_type == "likelihood":
            return {
                "n_importance_samples": f"with a {type(model).__name__} and "
                "score_type='likelihood' (its log-joint score takes the code's "
                "mean, no draws)"
            }
        return {}

    def _reference_seed(self) -> Any:
        """Seed of the reference rows' draw: the model's seed (see ``random_state``).

        ``random_state``, else a given estimator's own integer seed, so that a
        seeded model gives the same reference rows at every fit.
        """
        if self.random_state is None and isinstance(self.estimator, BaseVAE):
            own = self.estimator.get_params(deep=False)["random_state"]
            return own if isinstance(own, Integral) else None
        return self.random_state

    def _validate(self, X, reset: bool, check_range: bool = True) -> Any:
        """X checked as ``fit`` (``reset``) or a scoring method takes it.

        ``check_range=False`` leaves the float32 range to the caller (an
        array equal to the training rows has passed it in ``fit``).
        """
        if reset:
            self._frame_labels = None
        if self._reads_table(X, reset):
            # a table goes to the model as it is: the model encodes its columns
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] < (2 if reset else 1):
                raise ValueError(
                    f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) "
                    f"while a minimum of {2 if reset else 1} is required."
                )
            model = self.estimator if reset else self.estimator_
            # (not a skvae model: refused with its reason when it is fitted)
            masks = model is not None and (
                not isinstance(model, BaseVAE) or model._masks_missing()
            )
            if not masks:  # the model's own message would name its parameter
                _refuse_holes(X)
            return X
        if is_frame(X):  # float columns, read as their array
            _refuse_holes(X)
            # integer labels (pd.DataFrame(X)'s) scikit-learn does not check
            # (only all-string names): swapped columns would be read by place
            labels = X.columns.tolist()
            if reset:
                numbered = all(type(v) is int for v in labels)
                self._frame_labels = labels if numbered else None
            elif vars(self).get("_frame_labels") is not None:
                check_column_labels(self._frame_labels, X)
        encoder = None if reset else vars(self.estimator_).get("table_encoder_")
        if encoder is not None:
            encoder.check_not_array(X, type(self).__name__)
        X = validate_data(
            self,
            X,
            dtype=FLOATS,
            reset=reset,
            ensure_min_samples=2 if reset else 1,
            accept_sparse="csr",
        )
        if sp.issparse(X):
            X = check_sparse(X)
        if check_range:
            check_float32_range(X, getattr(self, "feature_names_in_", None))
        return X

    def _reads_table(self, X: Any, reset: bool) -> bool:
        """Whether the DataFrame X goes to the model as a table.

        A frame of plain float columns (numpy's float dtypes) is, for the
        default model, the array of its values (its column names kept as
        ``feature_names_in_``): the same numbers read from a CSV file with a
        header or without one are scored alike. Other frames, and every
        frame for a model passed as ``estimator``, are tables. Later calls
        follow the fitted model: a table where it was fitted on one.
        """
        if not is_frame(X):
            return False
        if not reset:
            return "table_encoder_" in vars(self.estimator_)
        floats = all(
            isinstance(t, np.dtype) and t.kind == "f" for t in X.dtypes.tolist()
        )
        return self.estimator is not None or not floats

    def _numeric_rows(self, X: Any, encoder: Any = None) -> Any:
        """X as the numbers neighbours are measured in (a table: its encoding).

        A table is encoded by the model's encoder (before the model exists,
        by ``encoder``): one 0/1 column per category, numbers as they are.
        Rows with holes have no distances: ``n_neighbors=0`` scores them.
        """
        if not is_frame(X):
            return X
        if encoder is None:
            return self.estimator_._validate_X(X)
        rows = encoder.transform(X)
        if np.isnan(rows).any():
            raise ValueError(
                "The neighbour distance needs rows without holes (NaN, pd.NA, "
                "None); set n_neighbors=0 and trim_fraction=0 to score a table "
                "with holes by the model alone."
            )
        return rows

    def _screened(
        self,
        X: Any,
        weight: np.ndarray | None = None,
        reference: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Indices of the rows the model is fitted on (``trim_fraction``).

        The distances are measured to the ``reference`` rows of the distance
        part (:func:`_reference_rows`: those of positive weight, at most
        :func:`_reference_limit`), or to every row when they are all (or
        None).
        Also returns the training rows' distances to their nearest
        reference rows when the distance part of the score can reuse them
        (the same reference rows, on an array), else None: one neighbour
        search then serves the screening and the score.
        """
        if self.trim_fraction == 0:
            return np.arange(X.shape[0]), None
        rows = self._numeric_rows(X, TableEncoder().fit(X) if is_frame(X) else None)
        partial = reference is not None and len(reference) < X.shape[0]
        k = min(_SCREEN_NEIGHBORS, (len(reference) if partial else X.shape[0]) - 1)
        reuse = (
            self.n_neighbors > 0
            and not is_frame(X)
            and (partial or weight is None or bool(np.all(weight > 0)))
        )
        distances = _neighbor_distances(
            _take(rows, reference) if partial else rows,
            rows,
            max(k, self.n_neighbors) if reuse else k,
        )
        scores = -distances[:, :k].mean(1)
        if self.trim_fraction == "auto":
            keep = np.flatnonzero(scores >= _tukey_fence(scores, weight))
        else:
            order = np.argsort(scores, kind="stable")
            if weight is None:
                n_trim = int(self.trim_fraction * X.shape[0])
            else:
                # the least typical rows that hold trim_fraction of the
                # weight (a row of weight 0 as no row, of weight 2 as two)
                held = np.cumsum(row_counts(weight[order]))  # equal: 1, 2, ...
                n_trim = int(
                    np.searchsorted(held, self.trim_fraction * held[-1], "right")
                )
            keep = np.sort(order[n_trim:])
        keep = keep if len(keep) >= 2 else np.arange(X.shape[0])
        return keep, distances if reuse else None

    def _set_offset(
        self,
        X: Any,
        weight: np.ndarray | None = None,
        distances: np.ndarray | None = None,
        reference: np.ndarray | None = None,
        crossed: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """The parts' scales, then ``offset_``, from the training rows' scores.

        ``distances``: the training rows' distances to their nearest reference
        rows (:meth:`_screened`'s), when already found; ``reference``: the
        indices of the reference rows (:func:`_reference_rows`; None: every
        row of positive weight); ``crossed``: the rows the principal subspace
        was found on and their residuals' log-densities off the other folds'
        subspace (:meth:`_fit_model`'s), which they are scored by.
        """
        self.neighbor_rows_ = None
        if self.n_neighbors:
            rows = self._numeric_rows(X)
            # an array was refused with NaN already; a table's encoding may hold it
            if is_frame(X) and np.isnan(rows.data if sp.issparse(rows) else rows).any():
                raise ValueError(
                    "The neighbour distance needs rows without holes; set "
                    "n_neighbors=0 to score rows with holes by the model alone."
                )
            # a copy (the user's array may change after fit); sparse rows stay
            # sparse; rows of weight 0 are no one's neighbours
            if reference is None:
                limit = _reference_limit(X)
                reference = _reference_rows(
                    X.shape[0], weight, self._reference_seed(), limit
                )
            rows = rows[reference] if len(reference) < rows.shape[0] else rows
            self.neighbor_rows_ = rows.copy() if sp.issparse(rows) else np.array(rows)
        self.training_digest_ = _digest(X) if isinstance(X, np.ndarray) else None
        # the neighbour part's scale and the threshold are of this many
        self._fitted_neighbors = self.n_neighbors
        parts = self._score_parts(X, distances, crossed)
        self.score_scales_ = {
            name: list(_robust_scale(part, weight)) for name, part in parts.items()
        }
        self.training_scores_ = self._combined(parts)
        scores = _ranked(self.training_scores_)
        if self.contamination == "auto":
            self.offset_ = _tukey_fence(scores, weight)
        else:
            self.offset_ = _percentiles(scores, [100.0 * self.contamination], weight)[0]

    def _fit_model(
        self,
        X: Any,
        weight: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        found: dict | None = None,
    ) -> None:
        """Fit a fresh copy of the model (and the latent Gaussian) to X[rows].

        ``rows``: the indices of the rows kept by the screening (None: all);
        the default model takes one pass of its budget from half a budget's
        rows (:func:`_fit_rows`). X is copied once, to the rows it is fitted
        on, and not at all when they are all its rows.

        Where the model reads a principal subspace, ``found["crossed"]`` is
        set, before the model is fitted, to the indices of the rows the
        subspace was found on and their residuals' log-densities off the
        other folds' subspace (:func:`_crossed_rest`), by which ``fit``
        scores them.
        """
        rows = np.arange(X.shape[0]) if rows is None else rows
        # weights that only count equal rows (see _distinct_rows)
        copies = bool(found is not None and found.get("copies"))
        if weight is not None and self.estimator is None:
            # a row of weight 0 is as if it were not there: it neither takes
            # a share of the budget's steps nor counts toward its size
            positive = rows[weight[rows] > 0]
            rows = positive if len(positive) > 1 else rows
        if self.estimator is None:
            estimator = default_detector_vae(
                len(rows), X.shape[1], random_state=self.random_state
            )
        else:
            estimator = clone(self.estimator)
        if not isinstance(estimator, BaseVAE):
            raise TypeError(
                f"estimator must be a skvae model, got {type(estimator).__name__}."
            )
        if estimator.__sklearn_tags__().target_tags.required:
            raise TypeError(
                f"estimator must model X alone (e.g. VAE): "
                f"{type(estimator).__name__} needs labels y, which "
                f"{type(self).__name__} does not give it."
            )
        if self.estimator is not None and self.random_state is not None:
            # as scikit-learn's ensembles do: the meta-estimator's seed wins
            estimator.set_params(random_state=self.random_state)
        if self.estimator is None:  # from half a budget's rows, one pass of it
            limit = _budget_rows(estimator, X.shape[1])
            if 2 * len(rows) >= limit:
                rows = rows[_fit_rows(len(rows), limit, self.random_state)]
                estimator.set_params(max_iter=1, kl_warmup=0)
        # the latent Gaussian and the principal subspace take each row once,
        # without the budget's repeats
        distinct = np.unique(rows)
        if len(distinct) < len(rows) and self.score_type == "latent":
            latent = (_take(X, distinct), None if weight is None else weight[distinct])
        else:
            latent = None
        subspace = crossed = codes = known = None
        if self._reads_subspace(X):
            on_rows = distinct
            most = _subspace_rows(X.shape[1])
            if len(on_rows) > most:  # a random share of them
                rng = np.random.default_rng([draw_seed(self.random_state), 3])
                on_rows = np.sort(rng.choice(on_rows, most, replace=False))
            on = X if len(on_rows) == X.shape[0] else X[on_rows]
            on = on, None if weight is None else weight[on_rows]
            subspace = _principal_subspace(
                *on, basis=True, random_state=self.random_state
            )
            if subspace is not None:
                keys = _row_keys(on[0])
                crossed = _crossed_rest(*on, subspace, self.random_state, keys)
                if crossed is not None:
                    # and of the rows less the mean, rounded to a grid far
                    # below their spread: a float64 copy off by rounding is
                    # the row, whatever the rows' offset (see _known_rest)
                    centred = np.asarray(on[0], dtype=np.float64) - subspace[0]
                    grid = _key_grid(subspace[2], subspace[0])
                    keys = np.hstack([keys, _grid_keys(centred, grid)])
                    known = on[0], keys, crossed[0]
                    crossed, codes = (on_rows, crossed[0]), crossed[1]
                    # the model's rows' components, found already
                    codes = codes if len(on_rows) == len(distinct) else None
                    if found is not None:
                        found["crossed"] = crossed
                subspace = subspace[:3]
        subset = len(rows) != X.shape[0] or np.any(rows != np.arange(X.shape[0]))
        if subset and weight is not None:
            weight = weight[rows]
        if codes is not None:
            X = codes[np.searchsorted(distinct, rows)]
        elif subset:
            X = _take(X, rows)
        latent = (X, weight) if latent is None else latent
        self.subspace_mean_ = self.subspace_components_ = self.subspace_noise_ = None
        self.subspace_keys_ = self.subspace_first_ = self.subspace_rest_ = None
        self.subspace_scale_ = None
        if subspace is not None:
            self.subspace_mean_, self.subspace_components_, noise = subspace
            self.subspace_noise_ = noise
            if known is not None:
                self._set_known(*known)
            if codes is None:
                X = self._project(X)[0]
            self.subspace_scale_ = _code_scale(X)
            X = X / self.subspace_scale_  # exact: a power of two
            # codes no wider than the components they encode; a network this
            # narrow runs faster on the CPU (see default_detector_vae)
            estimator.set_params(
                n_components=min(estimator.n_components, X.shape[1]), device="cpu"
            )
        self.input_offset_ = self.input_scale_ = None
        if (
            subspace is None
            and self.estimator is None
            and not is_frame(X)
            and not sp.issparse(X)
        ):
            offset, scale = _input_standard(X)
            if offset is not None:
                self.input_offset_, self.input_scale_ = offset, scale
                X = self._model_rows(X)
                if self.score_type == "latent":  # (only it reads them)
                    latent = (self._model_rows(latent[0]), latent[1])
        threads = None
        if self.estimator is None and estimator.device == "cpu":
            threads = min(torch.get_num_threads(), _SMALL_MODEL_THREADS)
        try:
            with warnings.catch_warnings(), torch_threads(threads):
                if self.estimator is None:  # the default's epochs are a budget
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    # and its rows, read over one scale (input_scale_), are
                    # the detector's to scale, not the user's; a table's, read
                    # as given, the user's (unless warned of its units)
                    if not is_frame(X) or (found or {}).get("units"):
                        warnings.filterwarnings(
                            "ignore", ".*far from order 1", UserWarning
                        )
                    # and its batch, which no user set, is every row below 32
                    warnings.filterwarnings(
                        "ignore", "Got batch_size=", UserWarning, "skvae"
                    )
                    # and its settings, which no user set either (min_variance
                    # on a table of category columns only)
                    warnings.filterwarnings(
                        "ignore", r"VAE\(.*has no effect", UserWarning
                    )
                if weight is None:
                    estimator.fit(X)
                elif copies and estimator._sample_weight_refusal() is not None:
                    # a model that takes no weights fits the copies
                    counts = np.rint(row_counts(weight)).astype(np.intp)
                    estimator.fit(_take(X, np.repeat(np.arange(X.shape[0]), counts)))
                else:
                    estimator.fit(X, sample_weight=weight)
        except KeyboardInterrupt:
            if hasattr(estimator, "module_"):  # trained until the interrupt
                self._set_model(estimator, *latent)
            raise
        self._set_model(estimator, *latent)

    def _reads_subspace(self, X: Any) -> bool:
        """Whether the default model reads X's principal components.

        Wide dense arrays (from 32 features) scored by "likelihood" or
        "reconstruction"; a table, a sparse matrix, the "latent" score and a
        model passed as ``estimator`` read the rows as they are.
        """
        return (
            self.estimator is None
            and self.score_type != "latent"
            and not is_frame(X)
            and not sp.issparse(X)
            and X.shape[1] >= _SUBSPACE_MIN_FEATURES
        )

    def _project(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows' principal components, the rest's Gaussian log-density, squares.

        The rest of a row, its residual off the principal subspace, has
        ``n_features - k`` dimensions, each of variance ``subspace_noise_``;
        the subspace is orthonormal, so the two log-densities add up to the
        row's. Also returns the squared norms of the centred rows. Rows are
        taken in blocks of about ``_SCORE_ENTRIES`` entries.
        """
        mean, components = self.subspace_mean_, self.subspace_components_
        noise = self.subspace_noise_
        k, d = components.shape
        Z = np.empty((X.shape[0], k))
        rest = np.empty(X.shape[0])
        squares = np.empty(X.shape[0])
        step = max(1, _SCORE_ENTRIES // d)
        for i in range(0, X.shape[0], step):
            block = X[i : i + step]
            block = block.toarray() if sp.issparse(block) else block
            centred = np.asarray(block, dtype=np.float64) - mean
            z = centred @ components.T
            squares[i : i + step] = np.einsum("ij,ij->i", centred, centred)
            # the residual's squared norm, by Pythagoras (orthonormal rows)
            off = squares[i : i + step] - np.einsum("ij,ij->i", z, z)
            Z[i : i + step] = z
            rest[i : i + step] = _rest_log_density(off, noise, d - k)
        return Z, rest, squares

    def _model_rows(self, X: Any) -> Any:
        """X as the default model reads raw rows (``input_offset_``, ``input_scale_``).

        X itself where no offset was set (rows of order 1, tables, sparse
        matrices, a model passed as ``estimator``). A table or a sparse
        matrix scored by a detector fitted on a dense array is read as that
        array would be. Keeps X's dtype.
        """
        offset = getattr(self, "input_offset_", None)
        if offset is None:
            return X
        if is_frame(X):  # a table of the training array's columns
            X = self.estimator_._validate_X(X)
        if sp.issparse(X):  # narrow rows (or "latent"): dense, less the offset
            X = X.toarray()
        rows = (np.asarray(X, dtype=np.float64) - offset) / self.input_scale_
        return rows.astype(X.dtype, copy=False)

    def _set_known(self, X: np.ndarray, keys: np.ndarray, rest: np.ndarray) -> None:
        """Remember the rows the subspace was found on, and their crossed rests.

        ``X``: those rows, ``keys`` their :func:`_row_keys`, ``rest`` the
        log-densities of their residuals off the other folds' subspace
        (:func:`_crossed_rest`). Kept sorted by the rows' first principal
        coordinate, by which :meth:`_known_rest` screens the rows it scores.
        """
        centred = np.asarray(X, dtype=np.float64) - self.subspace_mean_
        first = centred @ self.subspace_components_[0]
        order = np.argsort(first, kind="stable")
        self.subspace_first_ = first[order]
        self.subspace_keys_ = np.ascontiguousarray(keys[order])
        self.subspace_rest_ = np.asarray(rest, dtype=np.float64)[order]

    def _known_rest(
        self,
        X: Any,
        Z: np.ndarray,
        squares: np.ndarray,
        rest: np.ndarray,
        skip: np.ndarray | None = None,
    ) -> None:
        """Give the rows of X the subspace was found on their crossed rests.

        A row of X equal to one of them to rounding (float32 rows: once
        both are rounded to float32; float64 rows: once both, less the mean,
        are rounded to a fine grid; see :func:`_grid_keys`) is that training
        row, in whatever
        array it comes, and its residual's log-density off the whole
        subspace, which was found on it and so leaves it too small a
        residual, is replaced in ``rest`` by the one ``fit`` scored it by,
        off the other folds' subspace. Only rows whose first principal
        coordinate (``Z[:, 0]``) is that of such a row, within float32's
        rounding of the row's norm, are hashed; and none of ``skip`` (rows
        given their crossed rests already).
        """
        first = getattr(self, "subspace_first_", None)
        if first is None or X.shape[0] == 0:
            return
        norm = np.sqrt(squares) + float(np.linalg.norm(self.subspace_mean_))
        reach = _KEY_TOLERANCE * norm
        low = np.searchsorted(first, Z[:, 0] - reach, side="left")
        high = np.searchsorted(first, Z[:, 0] + reach, side="right")
        screened = high > low
        if skip is not None:
            screened[skip] = False
        near = np.flatnonzero(screened)
        if len(near) == 0:
            return
        known = self.subspace_keys_
        rows = _take(X, near)
        if known.shape[1] == 6 and X.dtype != np.float32:
            # a float64 row equal to a training row once both, less the
            # mean, are rounded to the grid is that row (a pipeline's
            # transform of the rows its fit_transform gave, 1e-14 off), as
            # the distance part recognises it within rounding
            grid = _key_grid(self.subspace_noise_, self.subspace_mean_)
            centred = np.asarray(rows, dtype=np.float64) - self.subspace_mean_
            pair, keys = slice(4, 6), _grid_keys(centred, grid)
        elif X.dtype == np.float32 or known.shape[1] == 2:
            # float32 rows by their values rounded to float32 (a file of the
            # first keys holds those only); float64 rows of a file of four
            # keys, before the grid's, only where equal
            pair = slice(0, 2) if known.shape[1] == 2 else slice(2, 4)
            keys = _row_keys(rows, ("<f4",))
        else:
            pair, keys = slice(0, 2), _row_keys(rows, ("<f8",))
        void = np.dtype((np.void, 16))
        table = np.ascontiguousarray(known[:, pair]).view(void).ravel()
        index = {key: i for i, key in enumerate(table.tolist())}
        keys = np.ascontiguousarray(keys).view(void).ravel().tolist()
        at = np.array([index.get(key, -1) for key in keys], dtype=np.intp)
        rest[near[at >= 0]] = self.subspace_rest_[at[at >= 0]]

    def _set_model(
        self, estimator: BaseVAE, X: Any, weight: np.ndarray | None = None
    ) -> None:
        """Make ``estimator`` the fitted model, with its (weighted) latent Gaussian."""
        self.estimator_ = estimator
        if self.score_type == "latent":
            Z = estimator._latents(X)
            self._latent_mean = np.average(Z, axis=0, weights=weight)
            cov = np.atleast_2d(np.cov(Z, rowvar=False, aweights=weight))
            ridge = 1e-6 * max(np.trace(cov) / cov.shape[0], 1e-12)
            self._latent_precision = np.linalg.pinv(cov + ridge * np.eye(cov.shape[0]))

    def _scores(self, X: np.ndarray) -> np.ndarray:
        return self._combined(self._score_parts(X))

    def _combined(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        """The parts' scores, standardised on the training rows, soft minimum.

        ``-log(sum(exp(-z)))`` over the standardised parts ``z``: a row is
        about as typical as its least typical part (within log 2 of it).
        """
        if len(parts) == 1:
            return parts[self.score_type]
        z = [
            (part - self.score_scales_[name][0]) / self.score_scales_[name][1]
            for name, part in parts.items()
        ]
        upper = 0.0 if self.score_type == "latent" else self._typicality()
        if upper > 0:  # the model's score far above its typical band
            z.append(-upper * z[0])
        with np.errstate(invalid="ignore"):
            return -logsumexp(-np.array(z), axis=0)

    def _typicality(self) -> float:
        """:func:`_typicality_weight` of the rows the model reads."""
        encoder = getattr(self.estimator_, "table_encoder_", None)
        width = self.n_features_in_ if encoder is None else encoder.n_encoded_
        return _typicality_weight(width)

    def _score_parts(
        self,
        X: np.ndarray,
        distances: np.ndarray | None = None,
        crossed: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Each part of the score on its own, raw: ``score_type``, "neighbors".

        ``distances``: X's distances to its nearest training rows, when
        already found (at least ``n_neighbors`` of them, nearest first);
        ``crossed``: indices of rows of X and the log-densities of their
        residuals, which replace those off the subspace (see
        :meth:`_fit_model`).
        """
        parts = {self.score_type: self._model_scores(X, crossed)}
        if self.n_neighbors:
            if distances is None:
                rows = self._numeric_rows(X)
                found = _neighbor_scores(self.neighbor_rows_, rows, self.n_neighbors)
            else:
                found = -distances[:, : self.n_neighbors].mean(1)
            parts["neighbors"] = found
        return parts

    def _model_scores(
        self, X: Any, crossed: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        est = self.estimator_
        k = self.n_importance_samples
        if getattr(self, "subspace_components_", None) is not None:
            Z, rest, squares = self._project(X)
            # training rows, in this array or another (copies of them too,
            # such as a row of weight 0): scored as in fit
            skip = None if crossed is None else crossed[0]
            self._known_rest(X, Z, squares, rest, skip)
            if crossed is not None:
                rest[crossed[0]] = crossed[1]
            # the model reads the codes over a power of two: its density of
            # them is that of the codes it read, less k log(scale)
            scale = getattr(self, "subspace_scale_", None) or 1.0
            model = self._vae_scores(est, Z / scale, k)
            return model - Z.shape[1] * math.log(scale) + rest
        if self.score_type != "latent" and is_frame(X):
            X = est._validate_X(X)  # the model's encoding of the table
        elif self.score_type != "latent":
            est._check_columns(X)  # values the fitted columns cannot take
        X = self._model_rows(X)
        if self.score_type != "latent":
            # over a power of two: the density of the rows themselves is
            # that of what the model read, less n_features log(scale)
            scale = getattr(self, "input_scale_", None) or 1.0
            return self._vae_scores(est, X, k) - X.shape[1] * math.log(scale)
        # rows whose codes overflowed in the encoder have no code: -inf (an
        # outlier), as the other scores give them NaN; the rest as usual
        scores, rest = np.full(X.shape[0], -np.inf), np.arange(X.shape[0])
        try:
            codes = est._latents(X)
        except RowOverflowError as error:
            rest = np.setdiff1d(rest, error.rows)
            codes = est._latents(_take(X, rest)) if rest.size else None
        if codes is not None:
            d = codes - self._latent_mean
            scores[rest] = -0.5 * np.einsum("ij,jk,ik->i", d, self._latent_precision, d)
        return scores

    def _vae_scores(self, est: BaseVAE, X: Any, k: int) -> np.ndarray:
        """The model's "likelihood" or "reconstruction" score, ``k`` draws a row."""
        method = (
            "log_likelihood"
            if self.score_type == "likelihood"
            else "reconstruction_log_likelihood"
        )
        step = _score_rows(est, k, X.shape[1])
        # a row whose score overflowed (NaN) is kept, and called an outlier;
        # every row scored with the same k draws (common random numbers: the
        # draws' error moves every score alike, and the ranking not at all),
        # whichever block holds it
        if step >= X.shape[0]:
            return est._row_scores(X, method, k, shared=True, overflow=None)
        return np.concatenate(
            [
                est._row_scores(X[i : i + step], method, k, shared=True, overflow=None)
                for i in range(0, X.shape[0], step)
            ]
        )

    def score_samples(self, X):
        """Typicality of each row: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            With ``n_neighbors=0``, the score chosen by ``score_type``, in
            nats; otherwise the soft minimum ``-log(exp(-a) + exp(-b))`` of
            that score and minus the mean distance to the nearest training
            rows, each less its median on the training rows, over their
            interquartile range (from 32 features, with the model's score
            counted two-sided: see the class description). A training row is
            not its own neighbour, and the rows a principal subspace was
            found on are scored off the other folds' subspace, in any array
            (``training_scores_``, ``subspace_keys_``).

        Raises
        ------
        ValueError
            If ``score_type`` or ``n_neighbors`` were set after ``fit`` to
            values that change the score's parts (fit the detector again).
        """
        check_is_fitted(self)
        self._check_parts()
        X = self._validate(X, reset=False, check_range=False)
        if self._training_rows(X):  # e.g. fit_predict: scored in fit already
            return self.training_scores_.copy()
        if not is_frame(X):
            check_float32_range(X, getattr(self, "feature_names_in_", None))
        return self._scores(X)

    def _check_parts(self) -> None:
        """Refuse to score with other parts than ``fit`` scaled and thresholded.

        ``score_type`` and ``n_neighbors`` set after ``fit`` (``set_params``
        without a refit) would score rows by parts whose scales and
        threshold ``fit`` never set: new rows were then all flagged (with
        ``n_neighbors=0``), or judged by a distance to more or fewer
        neighbours than the threshold was set on.
        """
        fitted = set(self.score_scales_)
        asked = {self.score_type} | ({"neighbors"} if self.n_neighbors else set())
        rows = getattr(self, "neighbor_rows_", None)
        # files saved before the count was kept: the parts alone
        k = vars(self).get("_fitted_neighbors", self.n_neighbors)
        if (
            fitted != asked
            or k != self.n_neighbors
            or (rows is not None and self.n_neighbors >= rows.shape[0])
        ):
            raise ValueError(
                f"score_type={self.score_type!r} and n_neighbors={self.n_neighbors} "
                f"are not what this detector was fitted with (its score's parts: "
                f"{sorted(fitted)}, of {k} neighbours); fit it again after "
                "set_params."
            )

    def _training_rows(self, X: Any) -> bool:
        """Whether X is an array equal to the training rows (same dtype, bytes)."""
        digest = getattr(self, "training_digest_", None)
        scores = getattr(self, "training_scores_", None)
        return (
            isinstance(X, np.ndarray)
            and isinstance(digest, str)
            and scores is not None
            and len(scores) == X.shape[0]
            and _digest(X) == digest
        )

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Shifted scores; below 0 means outlier.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label rows +1 (inlier) or -1 (outlier).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers. A row whose score is not finite
            (NaN, or -inf: a row the model finds impossible) is an outlier,
            never an inlier.
        """
        decision = self.decision_function(X)
        return np.where(np.isfinite(decision) & (decision >= 0), 1, -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags
