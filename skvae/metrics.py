"""Disentanglement metrics: how well a representation separates known factors.

Each metric takes ``factors``, the true generative factors of some data (one
column per factor, discrete values such as those of
:func:`skvae.datasets.make_sprites`), and ``codes``, a representation of the
same rows (``model.transform(X)``). Higher is better, and 1 is the best score.

- :func:`mutual_information_gap` (MIG, Chen et al. 2018);
- :func:`dci_scores` (disentanglement, completeness and informativeness,
  Eastwood & Williams 2018), and :func:`dci_disentanglement`, its first part.

:func:`make_disentanglement_scorer` turns a metric into a scorer for
``GridSearchCV`` and ``cross_val_score``, where the factor matrix plays the
part of ``y``; :data:`mig_scorer` and :data:`dci_scorer` are ready-made.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state

__all__ = [
    "DCIScores",
    "dci_disentanglement",
    "dci_scorer",
    "dci_scores",
    "make_disentanglement_scorer",
    "mig_scorer",
    "mutual_information_gap",
]


# ---------------------------------------------------------------- validation
def _check_factors_codes(factors, codes, *, min_samples=2):
    """Validated ``(factors, codes)``: 2-D, finite, as many rows, no constant factor.

    Factor columns are re-encoded as integer labels ``0..n_values - 1``.
    """
    codes = check_array(
        codes, dtype=[np.float64, np.float32], input_name="codes", ensure_min_samples=1
    )
    factors = check_array(
        factors,
        dtype=None,
        ensure_2d=False,
        allow_nd=True,
        input_name="factors",
        ensure_min_samples=1,
    )
    from skvae.models._labels import missing_label_rows

    missing = missing_label_rows(factors)
    if missing.size:
        raise ValueError(
            f"factors hold missing values (None, NaN or pd.NA) at rows "
            f"{missing[:5].tolist()}; leave those samples out."
        )
    if factors.ndim == 1:
        factors = factors[:, None]
    elif factors.ndim != 2:
        raise ValueError(
            f"factors must be 1-D or 2-D (n_samples, n_factors), got shape "
            f"{factors.shape}"
        )
    if factors.shape[0] != codes.shape[0]:
        raise ValueError(
            f"factors and codes must have one row per sample, got "
            f"{factors.shape[0]} rows of factors and {codes.shape[0]} rows of codes"
        )
    if codes.shape[0] < min_samples:
        raise ValueError(
            f"Expected at least {min_samples} samples, got n_samples={codes.shape[0]}"
        )
    if factors.shape[1] == 0 or codes.shape[1] == 0:
        raise ValueError(
            f"Expected at least one factor and one code dimension, got "
            f"factors of shape {factors.shape} and codes of shape {codes.shape}"
        )
    labels = np.empty(factors.shape, dtype=np.int64)
    for k in range(factors.shape[1]):
        values, labels[:, k] = np.unique(factors[:, k], return_inverse=True)
        if len(values) < 2:
            raise ValueError(
                f"Factor column {k} takes the single value {values[0]!r}; every "
                "factor must vary over the samples. Drop constant columns first."
            )
    return labels, codes


def _check_int(name, value, minimum):
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={value}")
    return int(value)


# ----------------------------------------------------------------------- MIG
def _discretize(codes, n_bins, strategy):
    """Bin index of each entry of ``codes``, per column, ``(n_samples, n_codes)``."""
    bins = np.zeros(codes.shape, dtype=np.int64)
    for j, column in enumerate(codes.T):
        if strategy == "uniform":
            lo, hi = column.min(), column.max()
            if hi > lo:
                scaled = (column - lo) / (hi - lo) * n_bins
                bins[:, j] = np.minimum(scaled.astype(np.int64), n_bins - 1)
        else:  # quantile: edges at the inner quantiles, ties share a bin
            edges = np.quantile(column, np.linspace(0, 1, n_bins + 1)[1:-1])
            bins[:, j] = np.searchsorted(edges, column, side="right")
    return bins


def _entropy(labels):
    """Plug-in entropy (nats) of a vector of integer labels."""
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mutual_information_gap(factors, codes, *, n_bins=20, strategy="uniform"):
    """Mutual information gap (MIG) between known factors and learnt codes.

    Each code dimension is discretised into ``n_bins`` bins, and the mutual
    information between every code dimension and every factor is estimated
    from the joint histogram. For each factor, the gap between the largest and
    the second largest mutual information, divided by the factor's entropy,
    measures how much one code dimension, and only one, captures it. MIG is
    the mean gap over the factors.

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors) or (n_samples,)
        The true factor values of each sample, treated as discrete labels
        (discretise continuous factors first). Every factor must vary.
    codes : array-like of shape (n_samples, n_codes)
        The representation of each sample, e.g. ``model.transform(X)``.
    n_bins : int, default=20
        Number of bins per code dimension (at least 2).
    strategy : {"uniform", "quantile"}, default="uniform"
        "uniform" bins have equal widths between a dimension's minimum and
        maximum, as in the reference implementation; "quantile" bins hold
        equal numbers of samples, which is robust to outlying codes.

    Returns
    -------
    score : float
        MIG, in [0, 1]. 1: each factor is captured by one code dimension and
        by no other; 0: no factor is captured more by one dimension than by
        another (including: no dimension carries information).

    See Also
    --------
    dci_scores : Disentanglement, completeness and informativeness.
    make_disentanglement_scorer : Use the metric in ``GridSearchCV``.

    Notes
    -----
    The plug-in mutual information estimate is biased upwards by about
    ``(n_bins - 1) (n_values - 1) / (2 n_samples)`` nats for a code dimension
    unrelated to a factor, so scores of uninformative codes are slightly above
    0 on small samples. A dimension that is constant over the samples carries
    no information.

    References
    ----------
    R. T. Q. Chen, X. Li, R. Grosse and D. Duvenaud. "Isolating Sources of
    Disentanglement in Variational Autoencoders", NeurIPS 2018.

    Warns
    -----
    UserWarning
        If a factor takes more distinct values than half the rows (and than
        ``n_bins``): a continuous factor, which should be discretised first.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.metrics import mutual_information_gap
    >>> rng = np.random.RandomState(0)
    >>> factors = rng.randint(4, size=(200, 2))
    >>> codes = np.column_stack([factors[:, 1], rng.normal(size=200), factors[:, 0]])
    >>> mutual_information_gap(factors, codes) > 0.8
    True
    >>> mutual_information_gap(factors, rng.normal(size=(200, 3))) < 0.2
    True
    """
    labels, codes = _check_factors_codes(factors, codes)
    n_bins = _check_int("n_bins", n_bins, 2)
    if strategy not in ("uniform", "quantile"):
        raise ValueError(
            f"strategy must be 'uniform' or 'quantile', got strategy={strategy!r}"
        )
    n_values = [len(np.unique(factor)) for factor in labels.T]
    continuous = [j for j, n in enumerate(n_values) if n > max(n_bins, len(labels) / 2)]
    if continuous:
        warnings.warn(
            f"Factors {continuous} take more distinct values than half the rows "
            "(continuous?): each value is then its own class and the gap means "
            "little. Discretise them first (e.g. np.digitize into a few bins).",
            UserWarning,
            stacklevel=2,
        )
    bins = _discretize(codes, n_bins, strategy)
    # mutual information of every (code dimension, factor) pair, in nats
    mi = np.array(
        [[mutual_info_score(factor, code) for factor in labels.T] for code in bins.T]
    )  # (n_codes, n_factors)
    entropy = np.array([_entropy(factor) for factor in labels.T])  # (n_factors,)
    top = np.sort(mi, axis=0)[::-1]  # descending, per factor
    second = top[1] if len(top) > 1 else np.zeros_like(top[0])
    gaps = np.clip((top[0] - second) / entropy, 0.0, 1.0)
    return float(gaps.mean())


# ----------------------------------------------------------------------- DCI
class DCIScores(NamedTuple):
    """The three scores of the DCI framework (Eastwood & Williams 2018).

    Attributes
    ----------
    disentanglement : float
        How much each code dimension is dedicated to a single factor, in
        [0, 1], weighted by each dimension's overall importance.
    completeness : float
        How much each factor is captured by a single code dimension, in
        [0, 1], averaged over the factors.
    informativeness : float
        Mean accuracy, over the factors, of predicting each factor from the
        codes on held-out samples.

    Examples
    --------
    >>> DCIScores(1.0, 0.5, 0.9).completeness
    0.5
    """

    disentanglement: float
    completeness: float
    informativeness: float


def _default_importance_estimator(random_state):
    # Bagged trees that consider every code at each split (max_features=None):
    # a split on the one informative code then beats any split on noise, so
    # uninformative codes get little importance. The leaf floor and depth
    # limit curb splits on noise once a node is pure enough, and keep it fast.
    return RandomForestClassifier(
        n_estimators=30,
        max_features=None,
        max_depth=12,
        min_samples_leaf=5,
        random_state=random_state,
        n_jobs=1,
    )


def _importances(fitted, n_codes):
    """Non-negative importance of each code for one fitted predictor."""
    if hasattr(fitted, "feature_importances_"):
        importance = np.asarray(fitted.feature_importances_, dtype=np.float64)
    elif hasattr(fitted, "coef_"):
        coef = np.atleast_2d(np.asarray(fitted.coef_, dtype=np.float64))
        importance = np.abs(coef).sum(axis=0)
    else:
        raise TypeError(
            f"The estimator {type(fitted).__name__} exposes neither "
            "feature_importances_ nor coef_ after fit; pass a tree ensemble or a "
            "linear classifier as estimator."
        )
    if importance.shape != (n_codes,):
        raise ValueError(
            f"Expected {n_codes} importances (one per code), got shape "
            f"{importance.shape} from {type(fitted).__name__}"
        )
    return np.abs(importance)


def _one_minus_entropy(p, axis):
    """``1 - H(p) / log(K)`` along ``axis`` (K = its length); 1 when K == 1."""
    k = p.shape[axis]
    if k == 1:
        return np.ones(p.shape[1 - axis])
    total = p.sum(axis=axis, keepdims=True)
    q = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    plogp = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
    score = 1.0 + plogp.sum(axis=axis) / np.log(k)
    # a dimension (or factor) with no importance at all scores 0
    return np.where(total.squeeze(axis) > 0, score, 0.0)


def dci_scores(factors, codes, *, estimator=None, test_size=0.25, random_state=None):
    """Disentanglement, completeness and informativeness (DCI) of codes.

    One classifier per factor predicts the factor from the codes; its feature
    importances fill one column of the importance matrix ``R`` of shape
    ``(n_codes, n_factors)``. From ``R``:

    - disentanglement: for each code dimension, one minus the entropy (base
      ``n_factors``) of its importances over the factors, averaged with
      weights proportional to the dimension's total importance;
    - completeness: for each factor, one minus the entropy (base ``n_codes``)
      of its importances over the code dimensions, averaged over factors;
    - informativeness: the classifiers' mean accuracy on held-out samples.

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors) or (n_samples,)
        The true factor values of each sample, treated as discrete labels.
        Every factor must vary.
    codes : array-like of shape (n_samples, n_codes)
        The representation of each sample, e.g. ``model.transform(X)``.
    estimator : classifier or None, default=None
        A scikit-learn classifier exposing ``feature_importances_`` or
        ``coef_`` after fit, cloned for each factor. None uses a random forest
        of 30 trees that considers every code at each split, and takes about a
        second on 2,000 samples with 10 codes and 4 factors.
    test_size : float, default=0.25
        Share of the samples held out to measure informativeness; the
        importances come from the classifiers fitted on the rest.
    random_state : int, RandomState instance or None, default=None
        Seeds the split and the default forest.

    Returns
    -------
    scores : DCIScores
        Named tuple ``(disentanglement, completeness, informativeness)``,
        each in [0, 1].

    See Also
    --------
    dci_disentanglement : The disentanglement score alone, for scorers.
    mutual_information_gap : An information-theoretic alternative.

    Notes
    -----
    With a single factor, disentanglement is 1 by convention (an entropy over
    one value is 0); likewise completeness with a single code dimension. A code
    dimension that no classifier uses does not count in disentanglement.
    Impurity-based importances give noise dimensions a little weight, so
    codes unrelated to the factors score slightly above 0.

    References
    ----------
    C. Eastwood and C. K. I. Williams. "A Framework for the Quantitative
    Evaluation of Disentangled Representations", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.metrics import dci_scores
    >>> rng = np.random.RandomState(0)
    >>> factors = rng.randint(4, size=(200, 2))
    >>> codes = np.column_stack([factors[:, 1], factors[:, 0]]) + 0.01 * rng.normal(
    ...     size=(200, 2)
    ... )
    >>> scores = dci_scores(factors, codes, random_state=0)
    >>> scores._fields
    ('disentanglement', 'completeness', 'informativeness')
    >>> all(score > 0.9 for score in scores)
    True
    """
    labels, codes = _check_factors_codes(factors, codes, min_samples=4)
    if not isinstance(test_size, Real) or not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got test_size={test_size!r}")
    rng = check_random_state(random_state)
    codes_train, codes_test, labels_train, labels_test = train_test_split(
        codes, labels, test_size=test_size, random_state=rng
    )
    if estimator is None:
        estimator = _default_importance_estimator(rng.randint(np.iinfo(np.int32).max))
    n_codes, n_factors = codes.shape[1], labels.shape[1]
    R = np.zeros((n_codes, n_factors))
    accuracy = np.zeros(n_factors)
    for k in range(n_factors):
        fitted = clone(estimator).fit(codes_train, labels_train[:, k])
        R[:, k] = _importances(fitted, n_codes)
        accuracy[k] = np.mean(fitted.predict(codes_test) == labels_test[:, k])
    per_code = _one_minus_entropy(R, axis=1)  # (n_codes,)
    weights = R.sum(axis=1)
    disentanglement = (
        float(per_code @ weights / weights.sum()) if weights.sum() > 0 else 0.0
    )
    completeness = float(_one_minus_entropy(R, axis=0).mean())
    return DCIScores(
        float(np.clip(disentanglement, 0.0, 1.0)),
        float(np.clip(completeness, 0.0, 1.0)),
        float(accuracy.mean()),
    )


def dci_disentanglement(
    factors, codes, *, estimator=None, test_size=0.25, random_state=None
):
    """The disentanglement part of :func:`dci_scores`.

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors) or (n_samples,)
        The true factor values of each sample, treated as discrete labels.
    codes : array-like of shape (n_samples, n_codes)
        The representation of each sample.
    estimator : classifier or None, default=None
        See :func:`dci_scores`.
    test_size : float, default=0.25
        See :func:`dci_scores`.
    random_state : int, RandomState instance or None, default=None
        See :func:`dci_scores`.

    Returns
    -------
    score : float
        DCI disentanglement, in [0, 1].

    See Also
    --------
    dci_scores : All three DCI scores.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.metrics import dci_disentanglement
    >>> rng = np.random.RandomState(0)
    >>> factors = rng.randint(4, size=(200, 2))
    >>> mixed = factors @ np.array([[1.0, 1.0], [1.0, -1.0]])
    >>> dci_disentanglement(factors, mixed, random_state=0) < 0.5
    True
    """
    return dci_scores(
        factors,
        codes,
        estimator=estimator,
        test_size=test_size,
        random_state=random_state,
    ).disentanglement


# ------------------------------------------------------------------- scorers
class _DisentanglementScorer:
    """Callable ``scorer(estimator, X, factors)`` scoring ``estimator.transform(X)``."""

    def __init__(self, metric: Callable[..., float], kwargs: dict[str, Any]) -> None:
        self._metric = metric
        self._kwargs = kwargs

    def __call__(self, estimator, X, y) -> float:
        if y is None:
            raise ValueError(
                "A disentanglement scorer needs the true factors as y, e.g. "
                "cross_val_score(model, X, factors, scoring=mig_scorer); got y=None."
            )
        tags = getattr(estimator, "__sklearn_tags__", None)
        if tags is not None and tags().target_tags.required:
            # a search gives the factors as y to fit too: a labelled model
            # was then conditioned on the factors its codes are rated on
            raise ValueError(
                f"{type(estimator).__name__} takes y in fit as its labels: "
                "searched with the factors as y, it was fitted conditioned on "
                "the factors that its codes are then rated on (its decoder "
                "is given them, so the codes need not hold them). Rate a model "
                "that fits X alone (e.g. VAE)."
            )
        return float(self._metric(y, estimator.transform(X), **self._kwargs))

    def __repr__(self) -> str:
        args = "".join(f", {key}={value!r}" for key, value in self._kwargs.items())
        name = getattr(self._metric, "__name__", repr(self._metric))
        return f"make_disentanglement_scorer({name}{args})"


def make_disentanglement_scorer(metric, **kwargs):
    """Make a scorer that rates a transformer's codes against the true factors.

    The scorer has scikit-learn's signature ``scorer(estimator, X, y)``: it
    computes ``codes = estimator.transform(X)`` and returns
    ``metric(y, codes, **kwargs)``, where ``y`` is the factor matrix. Pass it
    as ``scoring`` to ``GridSearchCV``, ``cross_val_score`` or
    ``cross_validate``, with the factors as ``y``: the models that fit X
    alone ignore ``y`` in ``fit``, and the default (unstratified) K-fold
    splitting accepts a 2-D ``y``. Each score is computed on the held-out
    fold's codes. A model that takes ``y`` as its labels (ConditionalVAE,
    SemiSupervisedVAE) is refused: it would be fitted conditioned on the
    factors it is rated on.

    Parameters
    ----------
    metric : callable
        ``metric(factors, codes, **kwargs) -> float``, higher is better, e.g.
        :func:`mutual_information_gap` or :func:`dci_disentanglement`.
    **kwargs
        Extra arguments passed to ``metric`` (e.g. ``n_bins=10``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    See Also
    --------
    mig_scorer : The mutual information gap with its defaults.
    dci_scorer : DCI disentanglement, with a fixed seed.

    Notes
    -----
    The folds must be large enough for the metric to be meaningful (a few
    hundred samples), and every factor must vary within each held-out fold.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.model_selection import cross_val_score
    >>> from skvae.metrics import make_disentanglement_scorer, mutual_information_gap
    >>> rng = np.random.RandomState(0)
    >>> factors = rng.randint(4, size=(300, 2))
    >>> X = np.column_stack([factors, rng.normal(size=(300, 3))])
    >>> scorer = make_disentanglement_scorer(mutual_information_gap, n_bins=10)
    >>> scorer
    make_disentanglement_scorer(mutual_information_gap, n_bins=10)
    >>> cross_val_score(PCA(2), X, factors, cv=3, scoring=scorer).shape
    (3,)
    """
    if not callable(metric):
        raise TypeError(f"metric must be callable, got {type(metric).__name__}")
    return _DisentanglementScorer(metric, kwargs)


#: Scorer of the mutual information gap: ``mig_scorer(estimator, X, factors)``.
mig_scorer = make_disentanglement_scorer(mutual_information_gap)
#: Scorer of DCI disentanglement (default forest, seed 0, so that the
#: candidates of a grid search are rated by the same procedure).
dci_scorer = make_disentanglement_scorer(dci_disentanglement, random_state=0)
