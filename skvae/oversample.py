"""VAEOverSampler: imbalanced-learn's sampler API over a conditional VAE.

imbalanced-learn is not imported here: its pipeline recognises a sampler by
its ``fit_resample`` method alone, and ``sampling_strategy`` is resolved by
:func:`resolve_sampling_strategy` with imbalanced-learn's semantics.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from skvae._base import (
    check_float32_range,
    restored_on_failure,
    warn_ignored_params,
)
from skvae._data import epochs_for_steps
from skvae._frames import is_frame
from skvae._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from skvae._torch import Stream, draw_seed, make_generator
from skvae.models._labels import check_labels
from skvae.models.conditional import ConditionalVAE

_AUTO_STEP_MAX = 1.5
# step="auto": no column's moves spread more than this many times the
# class's own rows (see _cap_columns)
_COLUMN_SPREAD_MAX = 3.0
# step="auto": the fewest draws its spreads are measured on
_AUTO_DRAWS = 64
_DISCRETE_MAX_VALUES = 20
_STRATEGIES = ("auto", "minority", "not minority", "not majority", "all")


def _zero_draws(module, rows):
    """Zero draws: the bounds taken at the posterior means."""
    import torch

    return torch.zeros((1, module.n_latent), device=rows.device, dtype=rows.dtype)


def _drop_column(values, column: int):
    """``values`` without one column."""
    import torch

    return torch.cat([values[:, :column], values[:, column + 1 :]], dim=1)


def _snap_discrete(X_new: np.ndarray, X: np.ndarray) -> np.ndarray:
    """New rows within each column's range in X, discrete columns on their values.

    Every column of ``X_new`` is clipped to the range it has in ``X`` (a
    positive amount stays positive). A column with at most
    ``_DISCRETE_MAX_VALUES`` values takes, in each new row, the nearest value
    the column has in ``X`` (a flag stays 0 or 1, a count an observed count),
    when those values are whole numbers or repeat (at most half as many
    values as rows): on a few rows a measured column has few values too,
    each seen once, and is no code. A classifier could otherwise tell new
    rows from real ones by values no real row has.
    """
    X_new = np.clip(X_new, X.min(axis=0), X.max(axis=0))
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        if values.size > _DISCRETE_MAX_VALUES:
            continue
        whole = bool(np.all(values == np.round(values)))
        if not whole and 2 * values.size > X.shape[0]:
            continue
        if values.size == 1:
            X_new[:, j] = values[0]
            continue
        mid = (values[1:] + values[:-1]) / 2
        X_new[:, j] = values[np.searchsorted(mid, X_new[:, j])]
    return X_new


def _away_from(others: np.ndarray, base, move):
    """``move`` less its part toward each base point's nearest row of ``others``.

    The component along the unit vector from the base point to that row is
    dropped where it is positive (a move toward it); moves away from it or
    across are kept whole.
    """
    import torch
    from sklearn.neighbors import NearestNeighbors

    near = NearestNeighbors(n_neighbors=1).fit(others)
    idx = near.kneighbors(base.cpu().numpy(), return_distance=False)[:, 0]
    toward = torch.as_tensor(others[idx], device=base.device) - base
    toward = toward / toward.norm(dim=1, keepdim=True).clamp_min(1e-12)
    along = (move * toward).sum(dim=1, keepdim=True)
    return move - along.clamp_min(0.0) * toward


def _discriminant(own: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Unit normal of the linear boundary between ``own`` and ``others``.

    The weights of a logistic regression of ``own`` against ``others``,
    the two classes weighted equally (as a classifier fitted on resampled
    rows weighs them), scaled to length 1.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    X = np.concatenate([own, others])
    y = np.r_[np.ones(len(own)), np.zeros(len(others))]
    with warnings.catch_warnings():
        # a direction, not a classifier: an unfinished fit still gives one
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(max_iter=1000, class_weight="balanced").fit(X, y)
    w = clf.coef_[0].astype(own.dtype)
    return w / max(float(np.linalg.norm(w)), 1e-12)


def _cap_along(own, base, move, step: float, w):
    """``move`` with its part along ``w`` shrunk to the class's spread there.

    The new rows ``base + step * move``, seen along the unit vector ``w``,
    spread no more than the real rows ``own`` do (variance of the
    projections): where base points and steps together spread more, the
    part of each move along ``w`` is scaled by the factor that brings the
    variance back to the real rows' (``base`` and ``move`` taken as
    independent); the rest of each move is kept.
    """
    import torch

    w = torch.as_tensor(w, device=move.device, dtype=move.dtype)
    along = move @ w
    if len(move) < 2:  # one new row: no spread to cap
        return move
    target = float((own @ w).var())
    room = max(target - float((base @ w).var()), 0.0)
    spread = float((step * along).var())
    if spread <= room:
        return move
    factor = np.sqrt(room / spread)
    return move - (1.0 - factor) * along[:, None] * w


def _cap_columns(own, move, step: float, most: float = _COLUMN_SPREAD_MAX):
    """``move`` with each column shrunk to at most ``most`` times the class's spread.

    Where the moves ``step * move`` of a column spread (standard deviation)
    more than ``most`` times the real rows ``own`` do in it, that column of
    the moves is scaled down to that. The model's noise is learnt on every
    class, in units set by every class: a class far tighter than the others
    in a column (or a column whose scale an outlier of another class sets)
    would otherwise get moves of the others' size there. The cap is loose:
    a few rows measure a column's spread roughly, and capping the moves at
    the class's spread itself cost a classifier trained on the new rows
    accuracy (README, "per-column caps").
    """
    if len(move) < 2:  # one new row: no spread to cap
        return move
    spread = step * move.std(0, unbiased=False)
    limit = most * own.std(0, unbiased=False)
    factor = (limit / spread.clamp_min(1e-30)).clamp_max(1.0)
    return move * factor


def _of_dtype(values: np.ndarray, dtype, low=None, high=None) -> np.ndarray:
    """New values of columns as ``dtype``: booleans at 0.5, integers rounded.

    The values are already within the range of each column (see
    ``_snap_discrete``), in float64, whose bound may round past the
    integer type's largest value (2**63 - 1 to 2**63): an integer is set
    to the type's limit there, then within the columns' integer range
    ``low``, ``high`` (exactly) where given.

    Examples
    --------
    >>> top = np.iinfo(np.int64).max
    >>> _of_dtype(np.array([float(top)]), np.int64, [top - 5], [top]).tolist() == [top]
    True
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return values >= 0.5
    if dtype.kind not in "iu":
        return values.astype(dtype)
    info = np.iinfo(dtype)
    rounded = np.round(values)
    above, below = rounded >= float(info.max), rounded <= float(info.min)
    out = np.where(above | below, 0.0, rounded).astype(dtype)
    out[above], out[below] = info.max, info.min
    if low is not None:
        out = np.clip(out, np.asarray(low, dtype=dtype), np.asarray(high, dtype=dtype))
    return out


def _new_frame(X_new: np.ndarray, X):
    """The new rows as a frame of X's columns and dtypes."""
    import pandas as pd

    columns = []
    for j, dtype in enumerate(X.dtypes):
        kind = getattr(dtype, "kind", "f")
        as_numpy = {"b": np.bool_, "i": np.int64, "u": np.uint64}.get(kind, np.float64)
        bounds = (None, None)
        if kind in "iu":
            column = X.iloc[:, j]
            bounds = (column.min(), column.max())
        values = pd.Series(_of_dtype(X_new[:, j], as_numpy, *bounds), name=X.columns[j])
        columns.append(values.astype(dtype))
    return pd.concat(columns, axis=1)


def resolve_sampling_strategy(sampling_strategy, y) -> dict:
    """The number of rows to generate per class, as imbalanced-learn reads it.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable
        - a str: "minority" (the smallest class), "not minority" (all but
          it), "not majority" or "auto" (all but the largest class), "all"
          (every class), each brought up to the largest class's count;
        - a float in (0, 1], binary targets only: the wanted ratio of the
          minority class's count to the majority's after resampling;
        - a dict ``{class: n_rows_after}`` (classes left out get none);
        - a callable ``f(y)`` returning such a dict.
    y : array-like of shape (n_samples,)
        The class labels.

    Returns
    -------
    dict
        ``{class: n_rows_to_generate}``, classes in sorted order.

    Examples
    --------
    >>> from skvae.oversample import resolve_sampling_strategy
    >>> y = [0] * 10 + [1] * 4 + [2] * 2
    >>> resolve_sampling_strategy("auto", y)
    {1: 6, 2: 8}
    >>> resolve_sampling_strategy({2: 5}, y)
    {2: 3}
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(
            f"Oversampling needs at least 2 classes in y; y has {classes.size} class."
        )
    # Python scalars as keys (a label such as np.int64(0) prints as 0)
    stats = {c: int(n) for c, n in zip(classes.tolist(), counts, strict=True)}
    # np.argmax/argmin take the first of ties, in sorted order (as imblearn)
    majority = classes.tolist()[int(np.argmax(counts))]
    minority = classes.tolist()[int(np.argmin(counts))]
    top = int(counts.max())
    strategy = sampling_strategy
    if isinstance(strategy, str):
        if strategy == "majority":
            raise ValueError(
                "sampling_strategy='majority' cannot be used to oversample: "
                "the majority class is the one not to grow."
            )
        if strategy not in _STRATEGIES:
            raise ValueError(
                f"sampling_strategy must be one of {_STRATEGIES} when a string; "
                f"got {strategy!r}."
            )
        keep = {
            "minority": lambda c: c == minority,
            "not minority": lambda c: c != minority,
            "not majority": lambda c: c != majority,
            "auto": lambda c: c != majority,
            "all": lambda c: True,
        }[strategy]
        return {c: top - n for c, n in stats.items() if keep(c)}
    if isinstance(strategy, Real) and not isinstance(strategy, bool):
        if classes.size != 2:
            raise ValueError(
                "sampling_strategy can be a float only for a binary target "
                f"(2 classes); y has {classes.size}. Use a dict instead."
            )
        if not 0 < strategy <= 1:
            raise ValueError(
                "sampling_strategy as a float is the wanted ratio of the "
                f"minority to the majority count, in (0, 1]; got {strategy}."
            )
        out = {c: int(top * strategy - n) for c, n in stats.items() if c != majority}
        if any(v <= 0 for v in out.values()):
            raise ValueError(
                f"sampling_strategy={strategy} asks for {int(top * strategy)} "
                f"rows of the minority class, no more than the {stats[minority]} "
                "it has: oversampling only adds rows. Increase the ratio."
            )
        return out
    if callable(strategy) and not isinstance(strategy, Mapping):
        strategy = strategy(y)
        if not isinstance(strategy, Mapping):
            raise TypeError(
                "A callable sampling_strategy must return a dict "
                f"{{class: n_rows_after}}; it returned {type(strategy).__name__}."
            )
    if isinstance(strategy, Mapping):
        unknown = [k for k in strategy if k not in stats]
        if unknown:
            raise ValueError(
                f"sampling_strategy names classes not present in y: {unknown}; "
                f"y has {classes.tolist()}."
            )
        out = {}
        for c in sorted(strategy, key=lambda k: list(stats).index(k)):
            n = strategy[c]
            if not isinstance(n, Integral | np.integer) or isinstance(n, bool):
                raise TypeError(
                    f"sampling_strategy[{c!r}] must be an int (rows of the class "
                    f"after resampling); got {n!r}."
                )
            if n < stats[c]:
                raise ValueError(
                    f"sampling_strategy[{c!r}]={n} is below the {stats[c]} rows "
                    "the class has: oversampling cannot remove rows."
                )
            out[c] = int(n) - stats[c]
        return out
    raise TypeError(
        "sampling_strategy must be a str, a float, a dict or a callable; got "
        f"{type(sampling_strategy).__name__}."
    )


def default_oversampler_vae(
    n_samples: int, n_features: int, random_state=None
) -> ConditionalVAE:
    """The ConditionalVAE that :class:`VAEOverSampler` fits when given none.

    One model is fitted on the rows of every class, the label fed to the
    decoder: the encoder, the latent space and most of the decoder are
    shared, so a rare class borrows the structure learnt on the common
    ones, and only what the label changes is learnt from its few rows. Its
    size follows the data: the latent dimension grows with ``n_features``,
    the batch with ``n_samples``, and the epochs are chosen for about 3,000
    optimisation steps (30 to 500 epochs).

    Parameters
    ----------
    n_samples, n_features : int
        Shape of the training data.
    random_state : int, RandomState instance or None, default=None
        Passed to the model.

    Returns
    -------
    ConditionalVAE
        An unfitted model with a Gaussian likelihood (the sampler
        standardises the columns).

    Examples
    --------
    >>> from skvae.oversample import default_oversampler_vae
    >>> cvae = default_oversampler_vae(400, 30)
    >>> cvae.n_components, cvae.hidden_layer_sizes
    (7, (128, 128))
    """
    n_components = int(np.clip(n_features // 4, 2, 16))
    batch_size = int(np.clip(n_samples // 8, 16, 128))
    max_iter = epochs_for_steps(3000, n_samples, batch_size, 30, 500)
    return ConditionalVAE(
        n_components=n_components,
        hidden_layer_sizes=(128, 128),
        kl_warmup=10,
        batch_size=batch_size,
        max_iter=max_iter,
        random_state=random_state,
    )


class VAEOverSampler(BaseEstimator):
    """Oversample classes with rows drawn from a conditional VAE.

    A sampler with imbalanced-learn's API: ``fit_resample(X, y)`` returns the
    original rows followed by new rows of the classes that
    ``sampling_strategy`` asks to grow, so it works in an
    ``imblearn.pipeline.Pipeline`` (which applies it only while fitting).
    imbalanced-learn is not needed to use it.

    A :class:`~skvae.ConditionalVAE` is fitted on the standardised rows of
    every class, the label fed to its decoder: the rare classes share the
    encoder, the latent space and most of the decoder with the common ones.
    Each new row of class ``k`` (``latent="posterior"``) starts from a real
    row ``x`` of class ``k`` picked at random. A base point is drawn on the
    segment from ``x`` to one of its ``k_neighbors`` nearest rows of the
    class, as SMOTE does. The model then moves it: a code ``z'`` is drawn
    from the posterior q(z | x), decoded with the label ``k`` to a draw
    ``x'`` of p(x | z', k), and the new row is ``base + step * (x' - m)``,
    where ``m`` is the decoding of the posterior mean. The move is how the
    model says rows like ``x`` vary; interpolation alone stays on segments
    between real rows, and decoded rows alone lose the detail the decoder
    does not reproduce. ``step="auto"`` sizes the move per class so that
    the new rows spread as much as the real rows of the class do
    (interpolation shrinks the spread; the move gives it back), and no more
    than they do across the linear boundary between the class and the
    others (the model's noise is learnt on every class, and a class spread
    wider there than its real rows moves a classifier's boundary into the
    other classes), nor far more in any column (a class much tighter there
    than the others, or a column an outlier stretches). With
    ``avoid_others=True``, the part of a move that points toward the nearest
    row of another class is dropped. With ``keep_class=True``, where the
    model says a move takes the row to another class, the row stays at its
    base point: there the sampler falls back to SMOTE.
    ``latent="prior"`` decodes codes of the prior N(0, I) with the label
    ``k`` (rows of the class as the model imagines it, tied to no real row).
    Either way, every column of a new row stays within the range the column
    has in X (a positive amount stays positive), and a column with at most
    20 distinct values (a flag, a count, a code), whole numbers or values
    that repeat (at most half as many as rows), takes in each new row the
    nearest of the values it has in X, so that no classifier can tell new
    rows by values no real row has. The rows of X come back as given.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        Which classes to grow and to how many rows, as in imbalanced-learn:
        "auto" or "not majority" (every class but the largest),
        "minority", "not minority", "all" (each up to the largest class's
        count); a float in (0, 1] for a binary target (the wanted ratio of
        the minority count to the majority's); a dict
        ``{class: n_rows_after}``; or a callable ``f(y)`` returning such a
        dict.
    estimator : ConditionalVAE or None, default=None
        The model, cloned at ``fit``. ``None`` uses
        :func:`~skvae.oversample.default_oversampler_vae`, sized from the
        data. A given model is trained on the standardised columns, so its
        likelihood should be "gaussian".
    latent : {"posterior", "prior"}, default="posterior"
        Where the codes of new rows come from: the posterior of a random
        real row of the class, or the prior (then ``k_neighbors``, ``step``,
        ``avoid_others`` and ``keep_class`` must stay at their defaults:
        they shape moves from real rows).
    k_neighbors : int, default=5
        The base point of a new row lies between its real row and one of
        that row's ``k_neighbors`` nearest rows of the class (in the
        standardised columns; fewer when the class has fewer rows). 0 puts
        it on the real row itself.
    step : "auto" or float, default="auto"
        How far the model's draw moves the base point: the new row is
        ``base + step * (x' - m)`` (less the part ``avoid_others`` takes
        out). "auto" chooses it per class so that the moves, as drawn, give
        the new rows the spread of the class's real rows (at most 1.5; 1.5
        for a class of one row); it then shrinks the part of each move
        along the normal of the boundary that a logistic regression (classes
        weighted equally) draws between the class's real rows and the
        others', where the new rows would spread more than the real ones
        along it (the rest of each move is kept), and last each column of
        the moves that would spread more than three times the real rows do in
        it (a class far tighter than the others there, or a column an
        outlier stretches). The spreads are measured
        on the draws of the new rows, at least 64 (the first ones the new
        rows), so that a few rows asked for get the step that many would. A
        number is used as given, moves as drawn; 0 gives SMOTE's rows (or
        copies of real rows with ``k_neighbors=0``). Every column is kept
        within the range seen in it, and integer columns (of a DataFrame or
        an integer array) are rounded.
    noise : bool, default=True
        Draw ``x'`` from p(x | z', k), the decoder's noise included; False
        takes its mean.
    avoid_others : bool, default=False
        True takes out of each move the part that points toward the
        nearest row of another class (seen from the base point, in the
        standardised columns): a move may spread the class in every
        direction but toward its nearest neighbour of another class, where
        a classifier draws its boundary. False keeps the model's moves as
        drawn: the default, chosen on the tuning half of
        ``benchmarks/bench_oversample.py`` over fifteen seeds (the first
        five alone had favoured True; see the README for the figures).
    keep_class : bool, default=False
        True drops a move the model itself doubts: when the moved row is
        likelier under another class than under its own (by the model's
        bounds of log p(x | class), at the posterior means) and its base
        point was not, or is less so than the base point, the new row is
        the base point (SMOTE's row). False keeps every move: the default
        was chosen on the tuning half of ``benchmarks/bench_oversample.py``
        (see the README for its figures).
    random_state : int, RandomState instance or None, default=None
        Seed of the model (in place of a given estimator's own) and of the
        draws of new rows.

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows generated per class, from the last fit.
    step_ : dict
        The step used per class by the last ``fit_resample``
        (``latent="posterior"``; empty with ``latent="prior"``). With
        ``step="auto"`` the moves' columns and their part along the
        boundary's normal are shrunk too, which this step does not show:
        passing it as ``step``
        gives the moves as drawn. With three classes or more the boundary is
        the class's against all the others pooled, a single direction.
    n_moves_dropped_ : dict
        Per class, how many new rows of the last ``fit_resample`` are base
        points because ``keep_class`` dropped their move (empty when
        ``keep_class=False``).
    estimator_ : ConditionalVAE
        The fitted model (on standardised columns).
    mean_, scale_ : ndarray of shape (`n_features_in_`,)
        The standardisation of the columns.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.

    See Also
    --------
    skvae.ConditionalVAE : The model behind the sampler.

    Notes
    -----
    The rows of X come back unchanged, in the container and dtype they came
    in: a pandas DataFrame of number columns gives back a DataFrame with the
    same columns and dtypes (a fresh index; the new rows' integer columns
    rounded, boolean ones at 0.5), an integer or boolean array an array of
    its dtype, and a Series ``y`` a Series; other columns (strings,
    categories) must be encoded first, for example with a ``OneHotEncoder``
    earlier in the pipeline.
    A sparse matrix gives back a sparse matrix of the same format (the model
    is fitted on dense rows: mind the memory on wide data).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skvae import ConditionalVAE, VAEOverSampler
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> keep = np.r_[np.flatnonzero(y == 1), np.flatnonzero(y == 0)[:20]]
    >>> X, y = X[keep], y[keep]
    >>> np.bincount(y)
    array([ 20, 357])
    >>> sampler = VAEOverSampler(
    ...     estimator=ConditionalVAE(max_iter=5), random_state=0
    ... )
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> np.bincount(y_res)
    array([357, 357])
    >>> bool((X_res[: len(X)] == X).all())
    True
    """

    _parameter_constraints = {
        "sampling_strategy": [
            Interval(Real, 0, 1, closed="right"),
            StrOptions(set(_STRATEGIES)),
            dict,
            callable,
        ],
        "estimator": [HasMethods(["fit", "sample"]), None],
        "latent": [StrOptions({"posterior", "prior"})],
        "k_neighbors": [Interval(Integral, 0, None, closed="left")],
        "step": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "noise": ["boolean"],
        "avoid_others": ["boolean"],
        "keep_class": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        sampling_strategy="auto",
        *,
        estimator=None,
        latent="posterior",
        k_neighbors=5,
        step="auto",
        noise=True,
        avoid_others=False,
        keep_class=False,
        random_state=None,
    ):
        self.sampling_strategy = sampling_strategy
        self.estimator = estimator
        self.latent = latent
        self.k_neighbors = k_neighbors
        self.step = step
        self.noise = noise
        self.avoid_others = avoid_others
        self.keep_class = keep_class
        self.random_state = random_state

    # ------------------------------------------------------------- fitting
    def _check(self, X, y, reset: bool):
        if y is None:
            raise ValueError(
                "VAEOverSampler requires y to be passed, but the target y is None: "
                "call fit_resample(X, y) with the class labels."
            )
        if is_frame(X):
            bad = [c for c, t in X.dtypes.items() if t.kind not in "biuf"]
            if bad:
                raise TypeError(
                    "VAEOverSampler takes number columns only; encode these "
                    f"first (e.g. with a OneHotEncoder): {bad}."
                )
        X_arr, y_arr = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=True,
            dtype=[np.float64, np.float32],
            y_numeric=False,
        )
        if sp.issparse(X_arr):
            X_arr = X_arr.toarray()  # the model sees dense rows
        check_float32_range(X_arr, getattr(self, "feature_names_in_", None))
        return X_arr, check_labels(np.asarray(y_arr))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the conditional model on (X, y) and resolve the strategy.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows (numbers; NaN is not allowed).
        y : array-like of shape (n_samples,)
            Their class labels.

        Returns
        -------
        self : VAEOverSampler
            The fitted sampler.
        """
        with restored_on_failure(self):
            X_arr, y_arr = self._check(X, y, reset=True)
            self._fit_arrays(X_arr, y_arr)
        return self

    def _ignored_params(self) -> dict[str, str]:
        """The parameters the others leave unread (see ``warn_ignored_params``)."""
        if isinstance(self.step, str) or self.step != 0:
            return {}
        why = (
            "with step=0 (new rows are interpolations of real rows: the "
            "model's move, which it shapes, is not taken)"
        )
        return {name: why for name in ("noise", "avoid_others", "keep_class")}

    def _fit_arrays(self, X: np.ndarray, y: np.ndarray) -> None:
        warn_ignored_params(self)
        moved = (self.k_neighbors, self.step, self.avoid_others, self.keep_class)
        if self.latent == "prior" and moved != (5, "auto", False, False):
            raise ValueError(
                "k_neighbors, step, avoid_others and keep_class shape rows made "
                "from real rows (latent='posterior'); latent='prior' decodes "
                "codes of the prior and takes none of them: leave them at their "
                "defaults (5, 'auto', False, False)."
            )
        self.sampling_strategy_ = resolve_sampling_strategy(self.sampling_strategy, y)
        if self.estimator is None:
            model = default_oversampler_vae(*X.shape, random_state=self.random_state)
        else:
            if not isinstance(self.estimator, ConditionalVAE):
                raise TypeError(
                    "estimator must be a skvae ConditionalVAE (or None for the "
                    f"default); got {type(self.estimator).__name__}."
                )
            model = clone(self.estimator)
            if self.random_state is not None:
                model.set_params(random_state=self.random_state)
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        model.fit(((X - self.mean_) / self.scale_).astype(np.float32), y)
        self.estimator_ = model

    def fit_resample(self, X, y):
        """Fit on (X, y) and return them with the new rows appended.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows (numbers; a DataFrame gives back a DataFrame, a sparse
            matrix a sparse matrix).
        y : array-like of shape (n_samples,)
            Their class labels (a Series gives back a Series).

        Returns
        -------
        X_resampled : ndarray or DataFrame of shape (n_samples_new, n_features)
            The rows of X, then the generated rows.
        y_resampled : ndarray or Series of shape (n_samples_new,)
            The labels of y, then those of the generated rows.
        """
        self.fit(X, y)
        X_arr, y_arr = self._check(X, y, reset=False)
        X_new, y_new = self._generate(X_arr, y_arr)
        y_res = np.concatenate([y_arr, y_new])
        y_res = self._as_input(y, y_res)
        if sp.issparse(X):  # sparse in, sparse out (as imbalanced-learn's)
            X_res = sp.vstack([X, sp.csr_matrix(_of_dtype(X_new, X.dtype))])
            return X_res.asformat(X.format), y_res
        if is_frame(X):
            import pandas as pd

            # the rows of X as given (a float64 copy rounds integers past 2**53)
            new = _new_frame(X_new, X)
            return pd.concat([X.reset_index(drop=True), new], ignore_index=True), y_res
        given = np.asarray(X)
        if given.dtype.kind in "biu":  # whole numbers in, whole numbers out
            new = _of_dtype(X_new, given.dtype, given.min(axis=0), given.max(axis=0))
        elif given.dtype.kind == "f":  # float16 and byte orders kept too
            new = X_new.astype(given.dtype)
        else:
            return np.concatenate([X_arr, X_new.astype(X_arr.dtype)]), y_res
        return np.concatenate([given, new]).astype(given.dtype, copy=False), y_res

    # ---------------------------------------------------------- generating
    def _generate(self, X: np.ndarray, y: np.ndarray):
        """New rows and their labels, as ``sampling_strategy_`` asks."""
        import torch

        check_is_fitted(self, "estimator_")
        model = self.estimator_
        module = model.module_
        module.eval()
        device = model._device
        seed = draw_seed(self.random_state)
        Xs = ((X - self.mean_) / self.scale_).astype(np.float32)
        self.step_ = {}
        self.n_moves_dropped_ = {}
        rows, labels = [], []
        for i, (label, n) in enumerate(self.sampling_strategy_.items()):
            if n <= 0:
                continue
            gen = make_generator(seed, Stream.SAMPLE, i, device=device)
            Y = torch.as_tensor(model._one_hot(label, n, np.float32), device=device)
            with torch.inference_mode():
                if self.latent == "prior":
                    z = module.prior.sample(n, gen)
                    params = module.decode(z, Y)
                    out = (
                        module.likelihood.sample(params, gen)
                        if self.noise
                        else module.likelihood.mean(params)
                    )
                else:
                    out = self._from_rows(
                        module, Xs[y == label], Xs[y != label], Y, n, gen, label
                    )
            rows.append(out.float().cpu().numpy().astype(np.float64))
            labels.append(np.full(n, label, dtype=y.dtype))
        if not rows:
            return np.empty((0, X.shape[1])), np.empty(0, dtype=y.dtype)
        X_new = np.concatenate(rows) * self.scale_ + self.mean_
        return _snap_discrete(X_new, X), np.concatenate(labels)

    def _from_rows(self, module, own: np.ndarray, others, Y, n: int, gen, label):
        """``n`` new rows of one class from its real rows ``own``.

        A base point on the segment from a random row ``x`` to one of its
        ``k_neighbors`` nearest rows of the class (``x`` itself when
        ``k_neighbors=0`` or the class has one row), moved by ``step`` times
        a draw of the model around ``x``: ``x' - m``, with ``x'`` decoded
        from a code drawn from q(z | x) (with the decoder's noise when
        ``noise``) and ``m`` the decoding of the posterior mean. With
        ``avoid_others``, less its part toward the nearest row of ``others``
        (the rows of the other classes).
        """
        import torch

        device = Y.device
        # at least _AUTO_DRAWS draws, the first n_asked of them the new rows:
        # the spreads that set step="auto" then do not depend on how many
        # rows are asked for, and a numeric step moves the same draws
        n_asked, n = n, max(n, _AUTO_DRAWS)
        Y = Y[:1].expand(n, -1)
        pick = torch.randint(len(own), (n,), generator=gen, device=device).cpu()
        pick = pick.numpy()
        x = torch.as_tensor(own[pick], device=device)
        mu, log_var = module.encode(x, Y)
        eps = torch.randn(mu.shape, generator=gen, device=device, dtype=mu.dtype)
        params = module.decode(mu + (0.5 * log_var).exp() * eps, Y)
        # drawn with noise or not: the draws after it are the same either way
        draw = module.likelihood.sample(params, gen)
        if not self.noise:
            draw = module.likelihood.mean(params)
        move = draw - module.likelihood.mean(module.decode(mu, Y))
        k = min(self.k_neighbors, len(own) - 1)
        base = x
        if k > 0:
            from sklearn.neighbors import NearestNeighbors

            # the row itself is its first neighbour (duplicates aside)
            near = NearestNeighbors(n_neighbors=k + 1).fit(own)
            near = near.kneighbors(own, return_distance=False)[:, 1:]
            which = torch.randint(k, (n,), generator=gen, device=device).cpu()
            other = torch.as_tensor(own[near[pick, which.numpy()]], device=device)
            u = torch.rand((n, 1), generator=gen, device=device, dtype=x.dtype)
            base = x + u * (other - x)
        if self.step == "auto":
            own_t = torch.as_tensor(own, device=device)
            step = self._auto_step(own_t, base, move)
            if len(own) > 1 and len(others):
                move = _cap_along(own_t, base, move, step, _discriminant(own, others))
            if len(own) > 1:  # last: taking the part along the normal out
                # changes every column it has a part in
                move = _cap_columns(own_t, move, step)
        else:
            step = float(self.step)
        base, move = base[:n_asked], move[:n_asked]
        self.step_[label] = step
        if self.avoid_others:
            move = _away_from(others, base, move)
        new = base + step * move
        if self.keep_class and module.n_classes > 1:
            k_code = int(np.flatnonzero(self.estimator_.classes_ == label)[0])
            keep = self._margin(module, new, k_code) >= torch.clamp(
                self._margin(module, base, k_code), max=0.0
            )
            self.n_moves_dropped_[label] = int((~keep).sum())
            new = torch.where(keep[:, None], new, base)
        return new

    @staticmethod
    def _margin(module, rows, k_code: int):
        """Bound of log p(x | k) less the largest over the other classes."""
        eps = _zero_draws(module, rows)
        ll = module.class_log_likelihoods(rows, eps)
        others = _drop_column(ll, k_code)
        return ll[:, k_code] - others.max(dim=1).values

    @staticmethod
    def _auto_step(own, base, move) -> float:
        """The step that gives the new rows the spread of the real ones.

        The total variance of the real rows of the class, less that of the
        base points (interpolation shrinks it), is what the moves may add:
        ``step**2 * var(move)``; at most ``_AUTO_STEP_MAX``, which is also
        the step of a class of one row (no spread to measure).
        """
        if len(own) < 2:
            return _AUTO_STEP_MAX

        def spread(a):
            return float(((a - a.mean(0)) ** 2).sum(1).mean())

        room = max(0.0, spread(own) - spread(base))
        return float(min(_AUTO_STEP_MAX, np.sqrt(room / max(spread(move), 1e-12))))

    @staticmethod
    def _as_input(y, y_res: np.ndarray):
        """The resampled labels in the container y came in."""
        if type(y).__name__ == "Series" and hasattr(y, "name"):
            import pandas as pd

            y_res = pd.Series(y_res, name=y.name).astype(y.dtype)
        return y_res

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags
