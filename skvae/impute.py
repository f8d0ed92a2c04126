"""VAEImputer: scikit-learn's imputer API over a VAE trained on incomplete rows."""

from __future__ import annotations

import hashlib
import inspect
import math
import warnings
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import nan_euclidean_distances
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_array, check_is_fitted

from skvae._base import (
    BaseVAE,
    _caller_level,
    check_float32_range,
    restored_on_failure,
    warn_replaced_draws,
)
from skvae._columns import check_column_values, resolve_column_types
from skvae._data import epochs_for_steps
from skvae._frames import TableEncoder, is_frame
from skvae._sklearn_compat import (
    HasMethods,
    Interval,
    _check_sample_weight,
    _fit_context,
    validate_data,
)
from skvae._torch import (
    Stream,
    draw_seed,
    make_generator,
    spawn,
    to_numpy,
    to_tensor,
)
from skvae._training import Callback
from skvae.models.vae import VAE
from skvae.nn.divergences import gaussian_log_prob
from skvae.nn.gaussian import GaussianVAEModule, shared_draws

# The default model's budget (default_imputer_vae and _HeldOutStop).
HOLDOUT_FRACTION = 0.1  # share of the observed entries held out to stop on
HOLDOUT_ENTRIES = 1000  # ... or less, down to HOLDOUT_MIN_FRACTION, above this
HOLDOUT_MIN_FRACTION = 0.05  # many held-out entries: the rest go to training
# (steps: of BATCH rows, whatever the model's batch)
PATIENCE_STEPS = 20  # steps without a better held-out error
PATIENCE_SHARE = 0.1  # or this share of the steps so far, if more
CHECK_STEPS = 10  # held-out error checked after the epoch that reaches this
# many steps since the last check (every epoch if larger)
MAX_STEPS = 3000  # the cap on the steps
TRAIN_ROWS = 4096  # the rows it trains on, at most: a random draw of larger
# tables (every row still holds out entries, fits the Gaussian, is filled)
STEPS_PER_ENTRY = 0.25  # ... and this many per observed training entry
MIN_STEPS = 50  # ... but at least these
TRIAL_SHARE = 0.25  # share of the step budget (at least TRIAL_STEPS) after
# which the VAE must have shown that it adds to the Gaussian model
TRIAL_Z = 1.0  # ... by this many standard errors of the blend's gain
TRIAL_STEPS = 50  # the trial's earliest step
TRIAL_EARLY = 10  # ... or this step (the first check) where the nearest
# neighbours' fill adds nothing to the Gaussian's either (close to
# linear-Gaussian)
TRIAL_EARLY_Z = 2.0  # ... and then by this many (a gain after so few steps,
# on such a table, is more likely noise)
NEIGHBOURS = 5  # neighbours of that fill
NEIGHBOUR_ROWS = 1000  # rows that the neighbours are sought among, at most,
NEIGHBOUR_WORK = 5 * 10**7  # ... and fewer where held-out rows x those rows x
# columns would pass this (but at least 20 per neighbour)
N_CUTS = 1  # learning-rate cuts on a plateau before stopping
REFINE_Z = 3.0  # ... made only where the VAE's blend gain is this many
# standard errors (where the Gaussian model covers every column)
CUT = 0.5  # factor of each cut
BATCH = 128  # the largest batch where the VAE fills alone (the batches of
# an epoch of about one size); also the unit of every count of steps
EPOCH_STEPS = 8  # batches an epoch, where a Gaussian model covers every
MAX_BATCH = 512  # column, on tables of over BATCH * EPOCH_STEPS rows, of up
# to this many rows (a step's cost on the default's small networks is
# mostly fixed, whatever its rows)
WIDTH = 8  # hidden units per feature
MAX_WIDTH = 64  # ... up to this many (at least 32)
ACTIVATION = "tanh"
LEARNING_RATE = 0.01
# The default's Gaussian model, blended with the VAE (VAEImputer._fit_gaussian)
RIDGES = (0.3, 0.1, 0.03, 0.01, 0.003)  # shrinkages, times the mean variance
EM_TOL = 1e-3  # relative change of the covariance that ends EM at one ridge
EM_HELD_TOL = 3e-3  # ... or relative fall of the held-out error in a cycle
EM_MAX_ITER = 10  # E steps at one ridge, at most
REFIT_MAX_ITER = 7  # E steps of the refit on all rows, at most
EM_MAX_JUMP = 10  # SQUAREM's longest jump, in lengths of two EM steps
BLEND_PRIOR = 30  # entries that the common blend weight counts as, at least
SMALL_SOLVE = 2**20  # rows times k^3 (k: the most holes of a row) under which
# the rows are solved in one group, padded (cheaper than several small groups)
SEARCH_ROWS = 2000  # EM's rows for the shrinkage search, at most (a random
SEARCH_ROWS_PER_COLUMN = 50  # draw), or this many a column if more; the
# refit at the chosen shrinkage (scaled to the rows) is on all of EM's rows
KEPT_INDEX = 2**22  # entries (int64) of a plan's block positions it keeps
EM_WORK = 2e8  # sum of k^3 over rows (k: a row's holes) above which rows are
# subsampled for EM


#: How far past a column's range in fit a mean fill may go (of a row inside
#: the ranges), in ranges: a sample's range falls short of its column's
#: values (50 rows of near-copied N(0, 1) columns: clipped at the range,
#: new rows' fills were worse, 0.492 against 0.486)
CLIP_MARGIN = 0.1


def default_imputer_vae(n_samples: int, n_features: int, random_state=None) -> VAE:
    """The VAE that :class:`VAEImputer` fits when given no estimator.

    A VAE trained on the ELBO of the observed entries (missing entries
    masked out of the likelihood), with column types read off the data
    (``likelihood="auto"``). :class:`VAEImputer` then fills holes by
    importance sampling, as MIWAE does (Mattei & Frellsen 2019), with a
    second proposal at the encoding of the row as first filled. Training on
    the ELBO rather than MIWAE's importance-weighted bound gives the better
    encoder, which is the proposal of that importance sampling: imputation
    error was lower on breast_cancer, wine and diabetes with 30% missing
    (Rainforth et al. 2018 explain why tighter bounds train weaker
    encoders). Its size follows the table (``n`` rows, ``d`` columns):

    - latent dimension ``clip(d // 2, 2, 16)``, two tanh hidden layers of
      ``clip(8 * d, 32, 64)`` units;
    - batches of at most 128 rows, those of an epoch of about one size:
      ``ceil(n / ceil(n / 128))`` rows (a short last batch would take a
      full step on the noisy gradient of a few rows), Adam's learning rate
      0.01;
    - ``max_iter``: the epochs of about 3,000 optimisation steps, a cap.

    Where the Gaussian model below is fitted and covers every column
    (every column reads as real-valued, and there are at most a few
    hundred), :class:`VAEImputer` gives tables of over 1,024 rows
    larger batches: ``ceil(n / ceil(n / b))`` rows with ``b = clip(ceil(n
    / 8), 128, 512)``, 8 batches an epoch up to 4,096 rows. A step's cost
    on such small networks is mostly fixed (a batch of 512 rows costs far
    less than four of 128), so larger tables pay for fewer, larger steps;
    there the VAE is tried against and blended with that Gaussian model,
    which bounds the loss of fill quality (a few percent of RMSE on
    nonlinear tables, where the VAE does most of the filling). Elsewhere
    the VAE fills alone, and fewer steps an epoch cost it quality, so
    batches stay at 128 rows at most. Every count of steps below (the
    budget, the checks, the patience, the trial) is of steps of 128 rows,
    whatever the batch: an epoch of ``n`` rows counts ``ceil(n / 128)``
    steps, so the rules stop after the same rows seen in larger batches.

    Pass ``n_samples`` as the rows it trains on: :class:`VAEImputer` trains
    it on at most 4,096 rows, a random draw of a larger table among its
    rows of positive weight (plus a row for any column that the draw leaves
    with no observed entry), and a smaller table on its rows of positive
    weight, with the column types read off the whole table; its every row
    still holds out entries to stop on, fits the
    Gaussian model below and is filled. An epoch then counts about 32
    steps, so the held-out checks below come as often on a large table as
    on a table of 4,096 rows, and the training steps (and the step budget
    below, counted on the drawn rows) stop growing with the rows: fit and
    fill grow linearly, as ``IterativeImputer``'s do.

    :class:`VAEImputer` stops it by the data: 10% of the observed entries
    (never a row's or a column's last one; a one-hot group as one entry), or
    1,000 of them where that is less, but never under 5%, are hidden from
    training (its column types stay those of the whole table: hiding the
    one row of a rare level does not split its one-hot group), and the
    model fills them after each epoch, or, where epochs
    are under 10 steps, after the first epoch that completes
    10 steps since the last check. When their error has not improved for
    20 steps or a tenth of the steps so far, whichever is more
    (and at least two checks), the weights go back to the best ones and the
    learning rate is halved; at the second such plateau training stops,
    keeping the weights with the lowest error. Small tables get fewer
    steps: training also stops after ``max(50, observed training entries /
    4)`` steps (300 rows of 4 columns: 300 steps at most). The error of
    each check is in the model's ``history_`` as ``"holdout_error"``. The
    same held-out entries then weigh the VAE against a Gaussian model of the
    table (see :class:`VAEImputer`), fitted before the VAE. Where that model
    covers every column, the VAE is also put on trial: at the first check
    after a quarter of the steps it can take (those steps, or ``max_iter``'s
    where fewer; at least 50), its best fill so
    far is blended with the Gaussian's by one least-squares weight in
    [0, 1], and if the blend removes a share ``G`` of the Gaussian's
    held-out squared error with ``n * G < 1`` (``n`` held-out entries: under
    one standard error, less than a weight fitted to noise removes on
    average), training stops there, and the Gaussian alone fills every
    hole (each column's weight ``a`` is 1; the VAE's fill is not computed).
    On tables whose columns are close to linear in each other the VAE adds
    nothing to the Gaussian, and longer training would cost time for no
    better fill; ``n * G`` is in ``history_`` as ``"gain_z2"``. The trial
    comes at the first check instead (after 10 steps, or after the first
    epoch where epochs are longer), where a nearest-neighbour fill of the
    same
    held-out entries (the mean of the 5 nearest rows, among at most 1,000)
    adds nothing to the Gaussian's either by the same test (its ``n * G``
    is ``"neighbour_z2"``): such a table is close to linear-Gaussian, and
    a VAE that learns a nonlinear table needs the longer trial to show its
    gain. That early trial asks for two standard errors (``n * G < 4``
    fails it): after so few steps, on such a table, a gain is more likely a
    weight fitted to noise than what the VAE learnt. With that model, the
    first plateau's refinement (the halved learning rate) is made only
    where the VAE has shown what it adds: where
    its best fill (its ``n * G``: ``"refine_z2"`` in ``history_``) does not
    add three standard errors to the Gaussian's (``n * G < 9``), that
    plateau ends training: a VAE that has not shown its gain by then gains
    little from a smaller step, even where the neighbours' fill shows
    structure that the Gaussian misses. Where every column reads as
    real-valued, :class:`VAEImputer` sets the VAE's likelihood to
    ``"gaussian"``, the one block that ``"auto"`` finds (the same model,
    without the blocks' dispatch at every step). A
    model passed as ``estimator`` (this
    one included) trains as its own parameters say, on every observed entry,
    and fills the holes alone.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of the training data.
    random_state : int, RandomState instance or None, default=None
        Passed to the VAE.

    Returns
    -------
    VAE
        An unfitted VAE with ``missing="mask"``.

    Examples
    --------
    >>> vae = default_imputer_vae(500, 30)
    >>> vae.missing, vae.likelihood, vae.objective
    ('mask', 'auto', 'elbo')
    """
    n_components = int(np.clip(n_features // 2, 2, 16))
    width = int(np.clip(WIDTH * n_features, 32, MAX_WIDTH))
    # batches of about equal size: no short last batch
    batch_size = _equal_batches(n_samples, BATCH)
    max_iter = epochs_for_steps(MAX_STEPS, n_samples, batch_size, 1)
    return VAE(
        n_components=n_components,
        hidden_layer_sizes=(width, width),
        activation=ACTIVATION,
        likelihood="auto",
        missing="mask",
        kl_warmup=0,
        batch_size=batch_size,
        learning_rate_init=LEARNING_RATE,
        max_iter=max_iter,
        n_iter_no_change=max_iter,
        random_state=random_state,
    )


class VAEImputer(
    OneToOneFeatureMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator
):
    """Fill missing values (NaN) with a VAE trained on the incomplete rows.

    The VAE is fitted with the missing entries left out of its likelihood
    (MIWAE, Mattei & Frellsen 2019). ``transform`` fills each row's missing
    entries from their distribution given the row's observed entries,
    estimated with importance sampling (MIWAE's, with a second proposal:
    the posterior of the row as first filled, mixed with the first, which
    lowered the error on every table of ``benchmarks/bench_impute.py`` at
    twice the samples' cost): by default its mean (the single
    imputation that minimises squared error), or with
    ``sample_posterior=True`` one draw (multiple imputation: one imputer per
    ``random_state``, as with ``IterativeImputer``). Observed entries are
    returned unchanged.

    With the default model, the Gaussian (real-valued) columns are also
    modelled by a multivariate Gaussian fitted by EM to the incomplete rows
    (its covariance shrunk towards a multiple of the identity by the amount,
    of 0.3, 0.1, 0.03, 0.01, 0.003 times the observed entries' mean variance,
    that fills the held-out entries best, searched from 0.03 (or the first
    of them at most the columns over the rows, where that is less) towards
    the side where the error falls, on a random draw of at most 2,000 rows
    (or 50 a column) and then refitted on all at that amount scaled by the
    draw's share of the rows; EM accelerated by SQUAREM and stopped where the
    held-out error stops falling), whose conditional mean given a row's
    observed entries is the best linear fill. Each such column's fill is
    ``a * gaussian + (1 - a) * vae``, with ``a`` in [0, 1] the least-squares
    weight on that column's held-out entries (shrunk towards the weight of all
    columns together, the more so where a column has under 30 held-out
    entries): the VAE wins where the table's structure is not linear, the
    Gaussian where it is. With ``sample_posterior=True`` each hole is drawn
    from the Gaussian's conditional distribution with probability ``a``, else
    from the VAE (a draw from the mixture whose mean is the blended fill).
    Where the VAE fails its trial (it adds nothing to the Gaussian's fill of
    the held-out entries; see :func:`default_imputer_vae`), every weight is 1:
    the Gaussian alone fills the table, and the VAE's fill is not computed.
    Above a cost of about ``2e8`` (the sum over rows of the cube of their hole
    count) EM fits on a random subset of rows of that cost; above about 460
    Gaussian columns there is no Gaussian model (the VAE alone).

    Columns are standardised inside the imputer (with the observed entries'
    mean and standard deviation) for the Gaussian columns of the model, so
    raw tables can be passed. A column observed at one value (of any type)
    has its holes filled with that value, as scikit-learn's imputers do.

    Parameters
    ----------
    estimator : skvae VAE or None, default=None
        The model, cloned at ``fit`` with ``missing="mask"``. ``None`` uses
        :func:`default_imputer_vae`, sized to the data and stopped when its
        imputation of held-out observed entries stops improving, or early
        where it adds nothing to the Gaussian model's (see there), and
        blended with that Gaussian model (above).
    sample_posterior : bool, default=False
        Draw each missing entry instead of taking its expected value.
    n_importance_samples : int, default=25
        Importance samples per row in ``transform``, from each of the two
        proposals of a Gaussian VAE (twice this number in all); more did not
        lower the error on ``benchmarks/bench_impute.py``'s tables, and each
        sample costs time. Unused where the Gaussian model fills every column
        alone (see ``gaussian_weights_``).
    random_state : int, RandomState instance or None, default=None
        Seed of the model (of the default estimator, and, when not None, in
        place of a given estimator's own ``random_state``) and of
        ``sample_posterior`` draws; an int gives the same imputation of
        the same rows at every call (the draws are seeded by the rows
        passed, in their order: rows passed a call at a time get draws of
        their own, and a row's draw depends on the rows passed with it).

    Attributes
    ----------
    estimator_ : VAE
        The fitted model.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    gaussian_columns_ : ndarray of int
        The model's Gaussian columns (standardised inside the imputer).
    gaussian_model_columns_ : ndarray of int
        The columns the default model's Gaussian model covers: the
        real-valued, 0/1 and one-hot columns (an array's; of a DataFrame,
        all but its one-hot groups of three or more columns, a category's
        or booleans read as one, which stay the VAE's), those as their
        values, which then predict and are predicted by the others; with
        ``sample_posterior=True`` or a model passed as ``estimator``, the
        Gaussian columns.
    gaussian_mean_, gaussian_covariance_ : ndarray or None
        The Gaussian model of those columns, on the standardised scale (of
        the encoded table after a fit on a DataFrame); None when a model is
        passed as ``estimator`` or no entry could be held out.
    observed_range_ : ndarray of shape (n_model_columns, 2)
        Each column's lowest and highest value in fit (on the encoded table
        after a fit on a DataFrame; rows of positive weight; -inf and inf
        for a column seen only at weight 0).
    gaussian_weights_ : ndarray of shape (n_model_columns,)
        Each column's weight ``a`` of the Gaussian's fill against the VAE's:
        zero for the other columns and without a Gaussian model; one for
        every column where the VAE failed its trial.
    table_encoder_ : TableEncoder
        Only after a fit on a pandas DataFrame: how its columns are encoded
        for the model and decoded back (``types_``, ``kinds_``, ``dtypes_``,
        ``categories_``); see the user guide, "Tables (pandas DataFrames)".

    See Also
    --------
    sklearn.impute.IterativeImputer : Imputation by chained regressions.
    sklearn.impute.KNNImputer : Imputation from the nearest rows.

    Notes
    -----
    In arrays, binary and one-hot columns are filled with probabilities by
    default (the expected value); ``sample_posterior=True`` fills them with
    0/1 and one-hot draws. In a pandas DataFrame, category, string, boolean
    and integer holes are filled with values of their column's type (see
    :meth:`transform`). A column with no observed value cannot be imputed (an
    error); a row with no observed value is filled from the model's prior
    predictive mean (the Gaussian's mean where it fills every column alone).

    References
    ----------
    .. [1] P.-A. Mattei and J. Frellsen, "MIWAE: Deep Generative Modelling and
       Imputation of Incomplete Data Sets", ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAE, VAEImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 3))
    >>> X[rng.uniform(size=X.shape) < 0.2] = np.nan
    >>> imputer = VAEImputer(VAE(max_iter=2, random_state=0)).fit(X)
    >>> filled = imputer.transform(X)
    >>> bool(np.isnan(filled).any()), bool(np.allclose(filled[~np.isnan(X)],
    ...                                                 X[~np.isnan(X)]))
    (False, True)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "transform"]), None],
        "sample_posterior": ["boolean"],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        sample_posterior=False,
        n_importance_samples=25,
        random_state=None,
    ):
        self.estimator = estimator
        self.sample_posterior = sample_posterior
        self.n_importance_samples = n_importance_samples
        self.random_state = random_state

    def _validate(self, X, reset: bool, sample_weight=None) -> np.ndarray:
        """X as the model's float rows (a table encoded by ``table_encoder_``).

        A fit's ``sample_weight`` weighs the table's encoding (its integer
        columns' ranges, to which their fills are clipped).
        """
        encoder = None
        if reset:
            vars(self).pop("table_encoder_", None)  # from an earlier fit
        if is_frame(X) if reset else "table_encoder_" in vars(self):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if reset:
                spec = getattr(self.estimator, "likelihood", "auto")
                if sample_weight is not None:
                    sample_weight = _check_sample_weight(
                        sample_weight, X, dtype=np.float64, ensure_non_negative=True
                    )
                encoder = TableEncoder("auto" if spec is None else spec)
                encoder.fit(X, sample_weight=sample_weight)
            else:
                encoder = self.table_encoder_
                if not is_frame(X):
                    import pandas as pd

                    X = pd.DataFrame(np.asarray(X), columns=encoder._labels)
            X = check_array(
                encoder.transform(X),
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan",
                ensure_min_samples=2 if reset else 1,
            )
            names = encoder.encoded_names()
        else:
            X = validate_data(
                self,
                X,
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan",
                reset=reset,
                ensure_min_samples=2 if reset else 1,
            )
            names = getattr(self, "feature_names_in_", None)
        if np.isinf(X).any():
            raise ValueError(
                "Input X contains infinity; only NaN marks a missing value."
            )
        check_float32_range(X, names)
        if not reset:
            # values the fitted columns cannot take (3 in a boolean column, -1
            # in a count), refused as the model refuses them; the columns the
            # imputer scales as Gaussian take any number
            scaled = set(self.gaussian_columns_.tolist())
            types = self.estimator_._fitted_column_types(X.shape[1]) or []
            check_column_values(
                [
                    (kind, kept)
                    for kind, cols in types
                    if kind in ("bernoulli", "poisson", "negbin", "categorical")
                    for kept in [[c for c in cols if c not in scaled]]
                    if kept
                ],
                X,
                names,
            )
        if encoder is not None and reset:
            self.table_encoder_ = encoder
        return X

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the VAE to the observed entries of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN for missing values.
        y : None
            Ignored.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the rows (a float: every row's), passed
            on to the model's ``fit``; each column's standardisation and the
            default's held-out entries and Gaussian model weigh them too (a
            row of weight 0 as no row, of weight 2 as the row twice).

        Returns
        -------
        self : object
            The fitted imputer.
        """
        with restored_on_failure(self):
            return self._fit(X, sample_weight)

    def _fit(self, X, sample_weight=None) -> VAEImputer:
        X = self._validate(X, reset=True, sample_weight=sample_weight)
        encoder = vars(self).get("table_encoder_")
        empty = np.flatnonzero(np.isnan(X).all(axis=0)).tolist()
        if encoder is not None:
            empty = encoder.hole_columns(X, how="all")
        if empty:
            raise ValueError(
                f"Columns {empty} have no observed value (all NaN) and "
                "cannot be imputed; drop them first."
            )
        if self.estimator is None:
            estimator = default_imputer_vae(*X.shape, random_state=self.random_state)
        else:
            warn_replaced_draws(self, self.estimator)
            estimator = clone(self.estimator)
            if not isinstance(estimator, BaseVAE) or "missing" not in (
                estimator.get_params()
            ):
                raise TypeError(
                    "estimator must be a skvae model with a 'missing' parameter "
                    f"(e.g. VAE), got {type(estimator).__name__}."
                )
            if estimator.__sklearn_tags__().target_tags.required:
                raise TypeError(
                    f"estimator must model X alone (e.g. VAE): "
                    f"{type(estimator).__name__} needs labels y, which "
                    f"{type(self).__name__} does not give it."
                )
            estimator.set_params(missing="mask")
            if self.random_state is not None:
                # as scikit-learn's ensembles do: the meta-estimator's seed wins
                estimator.set_params(random_state=self.random_state)
        names = getattr(self, "feature_names_in_", None)
        if encoder is not None:  # the model sees the encoded table
            estimator.set_params(likelihood=encoder.spec_)
        elif isinstance(estimator.likelihood, dict) and names is not None:
            # the model sees arrays: name the columns by their indices
            estimator.set_params(likelihood=_by_index(estimator.likelihood, names))
        # checked once, for the scaling, the held-out entries, the Gaussian
        # and the draw (a scalar: every row's); the model checks them again
        weight = estimator._check_weights(sample_weight, X)
        self._set_scaling(X, estimator, weight)
        if (
            self.estimator is None
            and encoder is None
            and self.gaussian_columns_.size == X.shape[1]
        ):
            # what "auto" finds, the one block without its dispatch: the same
            # model and fit, a few percent faster a step
            estimator.set_params(likelihood="gaussian")
        # the columns the default's Gaussian model covers: the real, 0/1 and
        # (in an array) one-hot columns, those as their values, conditioned
        # on and predicting the others; unless the fills are draws, which a
        # Gaussian cannot give 0/1 values; else the Gaussian columns. (A
        # table's categories of three levels or more stay the VAE's: each
        # hole takes its most probable level, which the conditional mean
        # ranked poorly, 0.75 of iris's species right against the VAE's
        # 0.96; the levels' posterior, _level_posteriors, gave 0.96, but a
        # worse fill of the sepal width on 4 of 4 seeds: not measured
        # further. Of two levels, a boolean's pair, the conditional mean
        # ranks them as a boolean's: 0.98 of a linear one's holes right,
        # against the VAE's 0.61)
        self.gaussian_model_columns_ = self.gaussian_columns_
        if (
            self.estimator is None
            and not self.sample_posterior
            and X.shape[1] ** 3 <= EM_WORK / 2  # (as _gaussian_path's limit)
        ):
            # a table's one-hot groups of three or more columns (its
            # categories') stay the VAE's; the other columns are
            # conditioned on each other (a table's boolean beside such a
            # category was the VAE's alone: 0.58 of a linear flag's holes
            # right, against 0.99)
            self.gaussian_model_columns_ = _gaussian_cover_of(
                estimator.likelihood, X, one_hot=encoder is None
            )
        Z = self._scale(X)
        stop = path = None
        if self.estimator is None:  # stopped on held-out observed entries
            # the model's checks of the weights (finite, non-negative, ...)
            # before the held-out entries and the Gaussian use them
            groups = _column_groups(estimator.likelihood, Z)
            seed = draw_seed(self.random_state)
            stop = _HeldOutStop(Z, groups, seed, weight)
            path = self._gaussian_path(Z, stop, weight, estimator.likelihood)
            if path is not None and self.gaussian_model_columns_.size == Z.shape[1]:
                err = np.average((path["guess"] - path["truth"]) ** 2,
                                 weights=path["held_w"])  # fmt: skip
                stop.versus = (path["guess"], float(err), path["held_w"])
            rows = stop.training_rows(TRAIN_ROWS, groups)
            spec = estimator.likelihood
            if spec not in ("gaussian", "bernoulli"):
                # the column types of the whole table (its held-out entries
                # included, as the groups above), not re-read off what the
                # model trains on: hiding the one row of a rare level (held
                # out, or outside a draw) would split its one-hot group, and
                # the group's fills would no longer sum to one
                whole = resolve_column_types(spec, Z)
                if rows is not None or whole != resolve_column_types(spec, stop.train):
                    estimator.set_params(likelihood=_spec_of(whole))
            Z = stop.train
            if rows is not None:  # a large table: the VAE learns from a draw
                Z = Z[rows]
                if sample_weight is not None:  # as given (a scalar: every row's)
                    given = np.asarray(sample_weight, dtype=float)
                    sample_weight = np.broadcast_to(given, weight.shape)[rows]
                sized = default_imputer_vae(*Z.shape)  # ... sized by the draw
                estimator.set_params(
                    batch_size=sized.batch_size,
                    max_iter=sized.max_iter,
                    n_iter_no_change=sized.n_iter_no_change,
                )
            if stop.versus is not None and self.gaussian_columns_.size == Z.shape[1]:
                # blended with (and tried against) a Gaussian model of every
                # column, all real: larger batches on larger tables, the
                # budget's steps still of BATCH rows (elsewhere the VAE fills
                # alone, or learns 0/1 columns, and fewer optimiser steps an
                # epoch cost it fill quality)
                estimator.set_params(batch_size=_large_batch(Z.shape[0]))
            estimator.set_params(callbacks=[stop])
        try:
            with warnings.catch_warnings():
                if self.estimator is None:  # the default's epochs are a budget
                    warnings.simplefilter("ignore", ConvergenceWarning)
                if sample_weight is None:
                    estimator.fit(Z)
                else:
                    estimator.fit(Z, sample_weight=sample_weight)
        except KeyboardInterrupt:
            # Ctrl-C: keep the model trained until then, if it can impute
            if hasattr(estimator, "module_") and hasattr(estimator.module_, "impute"):
                self.estimator_ = estimator
                self.gaussian_weights_ = np.zeros(X.shape[1])  # the VAE alone
                self.gaussian_mean_ = self.gaussian_covariance_ = None
            raise
        finally:
            if stop is not None:
                estimator.set_params(callbacks=None)
        if not hasattr(estimator.module_, "impute"):
            raise TypeError(f"{type(estimator).__name__} cannot impute.")
        self.estimator_ = estimator
        self._fit_gaussian(self._scale(X), stop, path)
        if (
            self.n_importance_samples
            != inspect.signature(VAEImputer).parameters["n_importance_samples"].default
            and self.gaussian_model_columns_.size == X.shape[1]  # as _fill reads it
            and np.all(self.gaussian_weights_ == 1)
        ):
            warnings.warn(
                f"VAEImputer(n_importance_samples={self.n_importance_samples}) "
                "has no effect on this fit: the Gaussian model fills every "
                "column alone (the VAE added nothing on held-out entries; see "
                "gaussian_weights_), and takes no draws.",
                UserWarning,
                stacklevel=_caller_level(),
            )
        return self

    def _gaussian_path(
        self, Z: np.ndarray, stop, sample_weight, spec: Any = "gaussian"
    ) -> dict | None:
        """The default's Gaussian model, fitted before the VAE.

        A Gaussian over the columns it covers (``gaussian_model_columns_``,
        on the model's scale, the held-out entries hidden; its fills of 0/1
        and one-hot columns, of the column types of ``spec``, made values
        of their columns as :func:`_within_types` makes them), fitted by EM
        at the shrinkages of ``RIDGES``, each fit started from the last: from
        the middle one towards less shrinkage while the error on the held-out
        entries falls, else from the middle towards more, stopped where the
        error stops falling. At each shrinkage EM stops when a SQUAREM cycle lowered the
        held-out error by less than ``EM_HELD_TOL`` of it (the E step fills
        the held-out entries, so this costs nothing), after ``EM_MAX_ITER``
        E steps, or at convergence. Returns what
        the blend needs, or None where nothing of those columns is held out
        or where they are so many that inverting their covariance would cost
        more than half of ``EM_WORK`` (above about 460 columns; ``_fit``
        covers only the Gaussian columns of a table that wide).
        """
        cols = self.gaussian_model_columns_
        if stop.rows.size == 0 or cols.size == 0 or cols.size**3 > EM_WORK / 2:
            return None  # nothing held out, or a covariance too costly
        held = stop.pick[:, cols]
        w = np.ones(Z.shape[0]) if sample_weight is None else sample_weight
        w = np.asarray(w, dtype=np.float64)
        held_w = np.broadcast_to(w[stop.rows, None], held.shape)[held]
        if not held.any() or held_w.sum() <= 0:
            return None
        rows = _em_rows(stop.train[:, cols], w, stop.seed)
        # the refit's rows (all of EM's), and a draw of them for the search
        all_rows, all_w = rows, w[rows] / w[rows].sum()
        most = max(SEARCH_ROWS, SEARCH_ROWS_PER_COLUMN * cols.size)
        if rows.size > most:
            rng = np.random.default_rng(stop.seed + 1)
            rows = np.sort(rng.choice(rows, size=most, replace=False))
        w = w[rows] / w[rows].sum()
        train = stop.train[np.ix_(rows, cols)].astype(np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(train, axis=0))
            var = np.nanvar(train, axis=0)
        cov = np.diag(np.where(var > 0, var, 1.0))
        queries = stop.train[np.ix_(stop.rows, cols)]
        truth = Z[np.ix_(stop.rows, cols)][held]
        # covering 0/1 and one-hot columns (every column): their fills made
        # values of their columns, as transform makes them (_within_types)
        types = None
        if cols.size > self.gaussian_columns_.size:
            types = _types_within(resolve_column_types(spec, Z), cols)
        # the held-out rows among EM's: EM's E step fills them
        inside = np.isin(stop.rows, rows)
        pos = np.searchsorted(rows, stop.rows[inside])
        outside = _Holes(queries[~inside]) if not inside.all() else None
        train = _Holes(train)  # the same rows at every shrinkage
        scale = _observed_variance(train.array, w)
        best, last = None, [np.inf, None]

        def held_out(mean, cov, X) -> bool:
            """Record the held-out error; True where it stopped falling."""
            filled = np.empty((inside.size, X.shape[1]))
            filled[inside] = X[pos]
            if outside is not None:
                filled[~inside] = _conditional(outside, mean, cov)[0]
            if types is not None:
                filled = _within_types(filled, queries, types)
            guess = filled[held]
            err = np.average((guess - truth) ** 2, weights=held_w)
            done = err >= last[0] * (1 - EM_HELD_TOL)
            last[:] = err, guess
            return done

        def fit(ridge, start):
            last[0] = np.inf
            mean, cov, e_step = _gaussian_em(
                train, ridge, *start[:2], w, EM_MAX_ITER, held_out, start[2], scale
            )
            return last[0], ridge, mean, cov, last[1], e_step

        # from the middle of the path (or lower, where the rows are many for
        # the columns) towards less shrinkage while the held-out error falls,
        # else from there towards more
        mid = len(RIDGES) // 2
        low = np.flatnonzero(np.asarray(RIDGES) <= cols.size / rows.size)
        mid = max(mid, low[0]) if low.size else len(RIDGES) - 1
        best = fit(RIDGES[mid], (mean, cov, None))
        for way in (RIDGES[mid + 1 :], RIDGES[:mid][::-1]):
            moved = False
            for ridge in way:
                trial = fit(ridge, best[2:4] + best[5:])
                if trial[0] >= best[0]:
                    break
                best, moved = trial, True
            if moved:
                break
        _, ridge, mean, cov, guess, _ = best
        if types is not None and any(
            kind == "categorical" and len(c) > 2 for kind, c in types
        ):
            # the held-out groups (each hidden whole) as transform fills them:
            # by their levels' posterior (the search above, many fills, read
            # the conditional mean, which ranks shrinkages alike)
            filled = _conditional(queries, mean, cov)[0]
            filled = _level_posteriors(filled, queries, types, mean, cov)
            guess = _within_types(filled, queries, types)[held]
        return dict(
            # the shrinkage's best amount falls as the rows grow: the refit's
            ridge=ridge * rows.size / all_rows.size,
            mean=mean, cov=cov, rows=all_rows, w=all_w, held=held,
            held_w=held_w, truth=truth, guess=guess,
            column=np.nonzero(held)[1],  # the position in cols of each entry
        )  # fmt: skip

    def _fit_gaussian(self, Z: np.ndarray, stop, path: dict | None) -> None:
        """The Gaussian's share in each column's fill, and its final fit.

        For each Gaussian column, the weight in [0, 1] of the Gaussian's
        conditional mean against the VAE's fill that minimises the squared
        error of the held-out entries, shrunk towards the weight of all
        columns together. The Gaussian is then refitted on every observed
        entry at the chosen shrinkage.
        """
        d = Z.shape[1]
        self.gaussian_weights_ = np.zeros(d)
        self.gaussian_mean_ = self.gaussian_covariance_ = None
        if path is None:
            return
        cols = self.gaussian_model_columns_
        if stop.failed:  # the VAE added nothing at its trial: the Gaussian alone
            weights = np.ones(d)
        else:
            vae = _impute_rows(
                self.estimator_, stop.train[stop.rows], self.n_importance_samples, None
            )[:, cols][path["held"]]
            weights = np.zeros(d)
            weights[cols] = _blend_weights(
                path["guess"], vae, path["truth"], path["column"], cols.size,
                path["held_w"],
            )  # fmt: skip
        full = Z[np.ix_(path["rows"], cols)].astype(np.float64)
        mean, cov, _ = _gaussian_em(
            full, path["ridge"], path["mean"], path["cov"], path["w"], REFIT_MAX_ITER
        )
        self.gaussian_mean_, self.gaussian_covariance_ = mean, cov
        self.gaussian_weights_ = weights  # last: the blend is whole or absent

    def _set_scaling(
        self, X: np.ndarray, estimator: BaseVAE, weight: np.ndarray | None = None
    ) -> None:
        """Mean and scale of the Gaussian columns (others: 0 and 1).

        A constant column gets scale 0: its holes are filled with its value,
        as scikit-learn's imputers fill them; the model sees it as 0. With
        ``weight``, the weighted mean and standard deviation of each column's
        observed entries (a row of weight 0 as no row, of weight 2 as two);
        a column observed only in rows of weight 0 takes theirs unweighted.
        """
        spec = estimator.likelihood
        if isinstance(spec, str) and spec == "gaussian":
            gaussian = list(range(X.shape[1]))
        elif isinstance(spec, str) and spec == "bernoulli":
            gaussian = []
        else:
            gaussian = [
                c
                for kind, cols in resolve_column_types(spec, X)
                if kind == "gaussian"
                for c in cols
            ]
        self.gaussian_columns_ = np.sort(np.asarray(gaussian, dtype=int))
        self._shift = np.zeros(X.shape[1])
        self._scale_ = np.ones(X.shape[1])
        # a column of one value (in the rows that count), of any type: its
        # holes take that value, exactly (a Gaussian's mean rounds, and leaves
        # a spread of 1e-16; 0/1 columns are Bernoulli or one-hot under
        # "auto", whose fills were 0.0005 and 0.9995); NaN elsewhere
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
            counted = X
            if weight is not None and np.any(weight > 0):
                counted = np.where(weight[:, None] > 0, X, np.nan)
            low, high = np.nanmin(counted, axis=0), np.nanmax(counted, axis=0)
        constant = np.where(low == high, low, np.nan).astype(np.float64)
        # kept only where some column is of one value (other files stay
        # readable by the versions before it)
        vars(self).pop("_constant", None)
        if not np.isnan(constant).all():
            self._constant = constant
        # the observed range of each column (a column seen only at weight
        # 0: unbounded), within which a row inside it is filled
        bounds = np.column_stack([low, high]).astype(np.float64)
        self.observed_range_ = np.where(
            np.isnan(bounds), np.array([-np.inf, np.inf]), bounds
        )
        if gaussian:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                # in float64: a float32 table's squares under- or overflow
                columns = X[:, gaussian].astype(np.float64)
                std = np.nanstd(columns, axis=0)
                mean = np.nanmean(columns, axis=0)
                if weight is not None:
                    seen = ~np.isnan(columns)
                    w = np.where(seen, weight[:, None], 0.0)
                    total = w.sum(axis=0)
                    has = total > 0
                    values = np.where(seen, columns, 0.0)
                    mean[has] = (w * values).sum(axis=0)[has] / total[has]
                    spread = np.where(seen, columns - mean, 0.0)[:, has]
                    wvar = (w[:, has] * spread**2).sum(axis=0) / total[has]
                    std[has] = np.sqrt(wvar)
                one = ~np.isnan(constant[gaussian])  # (above)
                mean[one], std[one] = constant[gaussian][one], 0.0
            self._shift[gaussian] = mean
            # a constant column: scale 0 fills its holes with the constant
            self._scale_[gaussian] = np.where(std > 0, std, 0.0)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        scale = np.where(self._scale_ > 0, self._scale_, 1.0)
        return ((X - self._shift) / scale).astype(X.dtype, copy=False)

    def transform(self, X):
        """Fill the missing entries of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN for missing values.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features) or DataFrame
            A copy of X with every hole filled; observed entries unchanged.
            In a row whose observed entries lie within their columns'
            ``observed_range_``, each fill (not a draw of
            ``sample_posterior=True``) lies within its column's, widened by
            10% of it: a linear model's extrapolation is clipped there.
            After a fit on a DataFrame: with ``set_output(transform="pandas")``
            a DataFrame of the fitted columns and dtypes (named as
            scikit-learn names a transformer's columns: by their labels where
            all are strings, else ``x0``, ``x1``... in their order; category holes
            filled with categories, integer holes rounded and clipped to the
            range seen in fit, boolean holes with booleans); else the same
            values as a float array (booleans as 0 and 1), or an object array
            where the table has category or string columns.
        """
        check_is_fitted(self)
        encoder = vars(self).get("table_encoder_")
        given = X if encoder is not None and is_frame(X) else None
        index = None if given is None else given.index
        X = self._validate(X, reset=False)
        out = self._fill(X)
        if encoder is None:
            return out
        decoded = encoder.decode(out, index=index, clip=np.isnan(X))
        if given is not None:
            _keep_observed(given, decoded, encoder.kinds_)
        if _get_output_config("transform", self)["dense"] == "pandas":
            return decoded
        if "category" not in encoder.kinds_:  # numbers: as the table decodes them
            return decoded.to_numpy(dtype=out.dtype, copy=True)
        return decoded.to_numpy(dtype=object, copy=True)

    def _fill(self, X: np.ndarray) -> np.ndarray:
        """A copy of the model's rows X with every NaN filled."""
        out = X.copy()
        rows = np.flatnonzero(np.isnan(X).any(axis=1))
        if rows.size == 0:
            return out
        given = X[rows]  # the rows to fill, as passed
        seed = None
        if self.sample_posterior:
            # the draws of these rows: the same rows (with their holes, in
            # their order) give the same draws at every call, other rows
            # others (rows passed a call at a time drew the same noise each)
            digest = hashlib.sha1(np.ascontiguousarray(given).tobytes()).digest()
            rows_key = int.from_bytes(digest[:8], "little")
            seed = spawn(draw_seed(self.random_state), Stream.IMPUTE, rows_key)
        scaled = self._scale(given)  # the rows as the models read them
        cover = self._gaussian_cover()
        # (draws of 0/1 and one-hot columns are the VAE's: sample_posterior
        # may be set after a fit whose Gaussian covers them)
        wide = cover.size > self.gaussian_columns_.size
        if (
            cover.size == X.shape[1]
            and np.all(self.gaussian_weights_ == 1)
            and (seed is None or not wide)
        ):  # the Gaussian fills every column alone: the VAE's fill would weigh 0
            filled = self._blend(scaled, None, seed)
        else:
            filled = _impute_rows(
                self.estimator_, scaled, self.n_importance_samples, seed
            )
            if np.any(self.gaussian_weights_):
                filled = self._blend(scaled, filled, seed)
        if wide and seed is None and np.any(self.gaussian_weights_):
            # the Gaussian's share of 0/1 and one-hot columns' fills
            types = self.estimator_._fitted_column_types(X.shape[1]) or []
            filled = _within_types(filled, scaled, types)
        # in the output's type: a fill past float32's range is not finite
        with np.errstate(over="ignore"):
            imputed = filled * self._scale_ + self._shift
            constant = vars(self).get("_constant")  # (files before it: none)
            if constant is not None:
                one = ~np.isnan(constant)
                imputed[:, one] = constant[one]
            imputed = imputed.astype(out.dtype, copy=False)
        missing = np.isnan(given)
        failed = np.flatnonzero((missing & ~np.isfinite(imputed)).any(axis=1))
        if failed.size:
            raise ValueError(
                f"Rows {rows[failed][:10].tolist()} could not be imputed: the model "
                "finds their observed values impossible (they lie far outside "
                "the range of the training data; the computation overflows "
                "float32). Check those values, or clip them to the training range."
            )
        bounds = vars(self).get("observed_range_")  # (files before it: none)
        if seed is None and bounds is not None:
            # a row whose observed entries lie within the values seen in fit
            # has its mean fills there too: a linear model's extrapolation
            # from large observed counts gave a N(0, 1) column fills of
            # -15.8; a row beyond them (new data, shifted) is extrapolated
            low, high = bounds[:, 0], bounds[:, 1]
            inside = ~((given < low) | (given > high)).any(axis=1)  # (NaN: in)
            margin = CLIP_MARGIN * (high - low)  # (an unbounded side: inf)
            imputed[inside] = np.clip(imputed[inside], low - margin, high + margin)
        out[rows] = np.where(missing, imputed, given)
        return out

    def _blend(self, X: np.ndarray, filled: np.ndarray | None, seed) -> np.ndarray:
        """The VAE's fill of rows X blended with the Gaussian's.

        X: the rows scaled (``_scale``), as the models read them.

        ``filled`` None: every column is the Gaussian's alone (weight 1).
        Draws (``seed``) of the columns that are not real-valued are the
        VAE's (``filled``).
        """
        cols = self._gaussian_cover()
        weight = self.gaussian_weights_[cols]
        gen = None if seed is None else make_generator(seed, Stream.IMPUTE, 1)
        gauss = _conditional(
            X[:, cols],
            self.gaussian_mean_,
            self.gaussian_covariance_,
            generator=gen,
        )[0]
        if gen is None and cols.size > self.gaussian_columns_.size:
            types = self.estimator_._fitted_column_types(X.shape[1]) or []
            gauss = _level_posteriors(
                gauss, X[:, cols], _types_within(types, cols),
                self.gaussian_mean_, self.gaussian_covariance_,
            )  # fmt: skip
        if filled is None:
            return gauss.astype(X.dtype, copy=False)
        out = filled.copy()
        if gen is None:  # the mean of the mixture of both predictions
            out[:, cols] = weight * gauss + (1 - weight) * filled[:, cols]
        else:  # a draw from it: each hole from the Gaussian with its weight
            # (of the real columns: a Gaussian draws no 0/1 values)
            weight = np.where(np.isin(cols, self.gaussian_columns_), weight, 0.0)
            pick = torch.rand(gauss.shape, generator=gen, dtype=torch.float64)
            out[:, cols] = np.where(pick.numpy() < weight, gauss, filled[:, cols])
        return out

    def _gaussian_cover(self) -> np.ndarray:
        """The columns the Gaussian model covers (files before it: the Gaussian's)."""
        return vars(self).get("gaussian_model_columns_", self.gaussian_columns_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _keep_observed(given, decoded, kinds: list[str]) -> None:
    """Put the observed cells of the table ``given`` back into ``decoded``.

    Decoding maps every cell back from the model's scale: a quantile
    column's values through its map (clipped to the fitted range, moved
    between its knots), integers through float64 (which rounds past 2**53).
    Each column's observed cells are taken as given, in the fitted dtype; a
    value that dtype cannot hold (3.7 in an integer column, 0.5 in a
    boolean one) is an error rather than a rounding.
    """
    import pandas as pd

    for j, kind in enumerate(kinds):
        column, filled = given.iloc[:, j], decoded.iloc[:, j]
        seen = column.notna().to_numpy()
        if not seen.any():
            continue
        if kind == "float":  # the fitted precision; no objects (a hot path)
            values = filled.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            values[seen] = column.to_numpy(dtype=np.float64, na_value=np.nan)[seen]
            values = pd.Series(values, index=filled.index, name=filled.name)
            decoded.isetitem(j, values.astype(filled.dtype))
            continue
        exact = filled.astype(object).where(~seen, column.astype(object))
        try:
            kept = exact.astype(filled.dtype)
        except (TypeError, ValueError, OverflowError):
            kept = None
        # integers, booleans, categories: exactly, or refused
        wanted = column[seen].astype(object).to_numpy()
        held = None if kept is None else kept[seen].astype(object).to_numpy()
        wrong = np.ones(len(wanted), bool) if held is None else held != wanted
        if wrong.any():
            at = np.flatnonzero(wrong)[0]
            raise ValueError(
                f"Column {given.columns[j]!r} was fitted as {kind} values, "
                f"but holds {wanted[at]!r} (row {np.flatnonzero(seen)[at]} of X), "
                f"which its dtype {filled.dtype} cannot hold."
            )
        decoded.isetitem(j, kept)


def _impute_rows(estimator, X: np.ndarray, k: int, seed) -> np.ndarray:
    """Rows of X (on the model's scale) with their NaN entries filled.

    For a Gaussian-posterior VAE, importance sampling with two proposals: the
    encoder's posterior for the row with its holes left empty, and for the
    row filled by that first proposal's estimate, ``k`` draws of each,
    weighted by the mixture of both (defensive importance sampling). The
    second proposal sits where the filled row puts the latent code; the
    first keeps the estimate safe where that fill was wrong. Other models
    impute with their own ``k`` draws.
    """
    module = estimator.module_
    if not _plain_gaussian(module):
        return estimator._impute_rows(X, k, seed)
    device = estimator._device
    gen = make_generator(estimator._seed, Stream.SCORE, device=device)
    eps = torch.randn(2, k, module.noise_dim, generator=gen, device=device)
    draws = None
    if seed is not None:
        draws = make_generator(seed, Stream.IMPUTE, device=device)
    module.eval()
    rows = max(1, 8192 // (2 * k))
    out = []
    with torch.inference_mode():
        for start in range(0, X.shape[0], rows):
            x = to_tensor(X[start : start + rows], device)
            out.append(to_numpy(_two_proposals(module, x, eps, draws), X.dtype))
    return np.concatenate(out)


def _plain_gaussian(module) -> bool:
    """Whether ``module`` encodes and imputes as :class:`GaussianVAEModule` does."""
    return (
        isinstance(module, GaussianVAEModule)
        and type(module).impute is GaussianVAEModule.impute
        and type(module).encode is GaussianVAEModule.encode
    )


def _two_proposals(module, x, eps, generator=None) -> torch.Tensor:
    """Rows ``x`` filled by importance sampling with two proposals.

    ``eps`` ``(2, k, d)``: the noise of the draws from each proposal. Without
    ``generator``, the weighted mean of the decoders' expected values; with
    it, one draw from p(x | z_k), z_k chosen with probability w_k.
    """
    observed = ~torch.isnan(x)
    lik = module.likelihood
    params, log_w, proposals = [], [], []
    fill = x
    for i in range(2):
        mu, log_var = module.encode(fill)
        z = shared_draws(mu, log_var, eps[i])  # (k, batch, d)
        p = module.decoder(z)
        params.append(p)
        log_w.append(lik.log_prob(x, p, update=False) + module.log_prior(z))
        proposals.append((mu, log_var, z))
        if i == 0:
            w = torch.softmax(log_w[0] - gaussian_log_prob(z, mu, log_var), 0)
            mean = (w[..., None] * lik.expectation(lik.given(x, p))).sum(0)
            fill = torch.where(observed, x, mean)
    z = torch.cat([prop[2] for prop in proposals])
    log_q = torch.logaddexp(
        *(gaussian_log_prob(z, mu, lv) for mu, lv, _ in proposals)
    ) - math.log(2)
    weights = torch.softmax(torch.cat(log_w) - log_q, dim=0)
    # what the observed entries rule out (a one-hot group's other columns)
    params = lik.given(x, torch.cat(params))
    if generator is None:
        fill = (weights[..., None] * lik.expectation(params)).sum(0)
    else:
        pick = torch.multinomial(weights.T, 1, generator=generator)[:, 0]
        chosen = params[pick, torch.arange(x.shape[0], device=x.device)]
        fill = lik.sample(chosen, generator)
    return torch.where(observed, x, fill)


def _gaussian_cover_of(spec: Any, X: np.ndarray, one_hot: bool = True) -> np.ndarray:
    """The columns a Gaussian model covers under ``spec``.

    Real-valued and 0/1 columns, and one-hot groups: every group of an
    array (``one_hot``), a table's of two levels (a boolean's pair) only.

    Examples
    --------
    >>> X = np.array([[0.5, 1.0, 3.0], [-1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    >>> _gaussian_cover_of("auto", X).tolist()
    [0, 1, 2]
    >>> _gaussian_cover_of({"poisson": [2]}, X).tolist()
    [0, 1]
    """
    if isinstance(spec, str) and spec in ("gaussian", "bernoulli"):
        return np.arange(X.shape[1])
    cols = [
        c
        for kind, block in resolve_column_types(spec, X)
        if kind in ("gaussian", "bernoulli")
        or (kind == "categorical" and (one_hot or len(block) == 2))
        for c in block
    ]
    return np.sort(np.asarray(cols, dtype=int))


def _level_posteriors(
    filled: np.ndarray, X: np.ndarray, types: list, mean: np.ndarray, cov: np.ndarray
) -> np.ndarray:
    """A missing one-hot group's fill: its levels' posterior, not a linear fit.

    The Gaussian N(mean, cov) over every column predicts a group of three or
    more levels poorly by its conditional mean (a linear fit of the one-hot
    columns masks the middle levels). Where a row's group has two or more
    missing entries and no observed 1 (its level is one of those), each
    such level k is scored as a discriminant would score it: its share
    (``mean``) times the density of the row's observed entries given the
    group at e_k, which is the Gaussian's conditional density of the group
    at e_k over its marginal density there; the fills are the levels'
    posterior probabilities. Modifies and returns ``filled``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = rng.integers(0, 3, 300)
    >>> Z = np.c_[g + 0.2 * rng.normal(size=300), np.eye(3)[g]]
    >>> mean, cov = Z.mean(0), np.cov(Z.T) + 1e-3 * np.eye(4)
    >>> X = np.array([[1.0, np.nan, np.nan, np.nan]])
    >>> fill = _level_posteriors(np.zeros((1, 4)), X, [("categorical", [1, 2, 3])],
    ...                          mean, cov)
    >>> int(fill[0, 1:].argmax()), bool(abs(fill[0, 1:].sum() - 1) < 1e-9)
    (1, True)
    """
    groups = [cols for kind, cols in types if kind == "categorical" and len(cols) > 2]
    if not groups:
        return filled
    holes = np.isnan(X)
    precision = None
    for group in groups:
        # rows whose level is one of the group's missing columns (none of its
        # observed entries is 1), more than one of them
        seen_one = (X[:, group] == 1).any(axis=1)
        rows = np.flatnonzero((holes[:, group].sum(axis=1) > 1) & ~seen_one)
        if rows.size == 0:
            continue
        if precision is None:
            precision = np.linalg.inv(cov)
        g = np.asarray(group)
        levels = np.eye(len(g))
        with np.errstate(divide="ignore"):  # a level never seen: no share
            share = np.where(mean[g] > 0, np.log(np.maximum(mean[g], 1e-300)), -np.inf)
        prior = np.linalg.inv(cov[np.ix_(g, g)])
        gap = levels - mean[g]
        marginal = -0.5 * np.einsum("ki,ij,kj->k", gap, prior, gap)
        in_group = np.zeros(X.shape[1], dtype=bool)
        in_group[g] = True
        # the group's observed 0s say only which levels are left: it is read
        # through its level, given the row's other observed entries; rows
        # with as many such entries solved together, in blocks
        hidden = holes[rows] | in_group
        sizes = hidden.sum(axis=1)
        for m in np.unique(sizes):
            for chunk in np.array_split(
                np.flatnonzero(sizes == m), max(1, int(np.sum(sizes == m)) // 2048)
            ):
                i, hid = rows[chunk], hidden[chunk]
                h = np.nonzero(hid)[1].reshape(len(i), m)  # ascending a row
                o = np.nonzero(~hid)[1].reshape(len(i), X.shape[1] - m)
                inner = np.linalg.inv(precision[h[:, :, None], h[:, None, :]])
                lean = np.einsum(
                    "nij,nj->ni",
                    precision[h[:, :, None], o[:, None, :]],
                    X[i[:, None], o] - mean[o],
                )
                centre = mean[h] - np.einsum("nij,nj->ni", inner, lean)
                at = (h[:, :, None] == g[None, None, :]).argmax(axis=1)
                c_g = np.take_along_axis(
                    np.take_along_axis(inner, at[:, :, None], axis=1),
                    at[:, None, :],
                    axis=2,
                )
                off = levels[None, :, :] - np.take_along_axis(centre, at, 1)[:, None]
                given = -0.5 * np.einsum(
                    "nki,nij,nkj->nk", off, np.linalg.inv(c_g), off
                )
                score = share + given - marginal
                open_ = holes[i[:, None], g[None, :]]  # an observed 0: not it
                score = np.where(open_, score, -np.inf)
                best = score.max(axis=1, keepdims=True)
                # levels all unseen in fit: the open ones alike
                score = np.where(np.isfinite(best), score - best, 0.0)
                score = np.where(open_, np.exp(score), 0.0)
                filled[i[:, None], g[None, :]] = score / score.sum(1, keepdims=True)
    return filled


def _types_within(types: list, cols: np.ndarray) -> list:
    """The blocks of ``types`` inside ``cols``, by their places in ``cols``.

    Examples
    --------
    >>> _types_within([("gaussian", [0, 2]), ("bernoulli", [3]),
    ...                ("categorical", [4, 5])], np.array([0, 2, 3]))
    [('gaussian', [0, 1]), ('bernoulli', [2])]
    """
    place = {int(c): i for i, c in enumerate(cols)}
    return [
        (kind, [place[c] for c in block])
        for kind, block in types
        if all(c in place for c in block)
    ]


def _within_types(filled: np.ndarray, X: np.ndarray, types: list) -> np.ndarray:
    """Fills of rows X (model scale) made values their columns can take.

    ``types``: the fitted model's column types. A 0/1 column's fills are
    clipped to [0, 1] and a count's to at least 0; a one-hot group's missing
    entries are clipped to [0, 1] and shared out so that the group sums to
    one (evenly where all are clipped to 0), all 0 where one of its observed
    entries is 1 (a Gaussian's fill holds neither by itself). Modifies and
    returns ``filled``.

    Examples
    --------
    >>> X = np.array([[np.nan, np.nan, 0.0], [np.nan, 1.0, np.nan]])
    >>> filled = np.array([[0.9, 0.4, 0.0], [0.2, 1.0, -0.1]])
    >>> _within_types(filled, X, [("categorical", [0, 1, 2])]).round(3).tolist()
    [[0.692, 0.308, 0.0], [0.0, 1.0, 0.0]]
    """
    for kind, cols in types:
        if kind == "bernoulli":
            filled[:, cols] = np.clip(filled[:, cols], 0.0, 1.0)
        elif kind in ("poisson", "negbin"):
            filled[:, cols] = np.maximum(filled[:, cols], 0.0)
        elif kind == "categorical":
            given = X[:, cols]
            missing = np.isnan(given)
            share = np.where(missing, np.clip(filled[:, cols], 0.0, 1.0), 0.0)
            left = np.clip(1.0 - np.where(missing, 0.0, given).sum(axis=1), 0.0, 1.0)
            left[(given == 1).any(axis=1)] = 0.0
            total = share.sum(axis=1)
            spread = np.where(
                total[:, None] > 0,
                share * (left / np.where(total > 0, total, 1.0))[:, None],
                missing * (left / np.maximum(missing.sum(axis=1), 1))[:, None],
            )
            filled[:, cols] = np.where(missing, spread, given)
    return filled


def _column_groups(spec, X: np.ndarray) -> list[list[int]]:
    """The columns of X, one-hot groups together, the others one by one."""
    if isinstance(spec, str) and spec in ("gaussian", "bernoulli"):
        return [[j] for j in range(X.shape[1])]
    groups = []
    for kind, cols in resolve_column_types(spec, X):
        groups += [list(cols)] if kind == "categorical" else [[c] for c in cols]
    return groups


def _equal_batches(n_samples: int, most: int) -> int:
    """The batch size of an epoch of batches of at most ``most`` rows, of one size."""
    return -(-n_samples // -(-n_samples // most))


def _large_batch(n_samples: int) -> int:
    """The batch of an all-real table: ``EPOCH_STEPS`` an epoch, up to ``MAX_BATCH``."""
    most = min(MAX_BATCH, max(BATCH, -(-n_samples // EPOCH_STEPS)))
    return _equal_batches(n_samples, most)


def _step_budget(entries: int) -> int:
    """The default model's most steps: ``STEPS_PER_ENTRY`` per training entry."""
    return max(MIN_STEPS, math.ceil(STEPS_PER_ENTRY * entries))


def _spec_of(blocks: list) -> dict:
    """The likelihood specification (a dict) of resolved column blocks."""
    spec: dict = {}
    for kind, cols in blocks:
        if kind == "categorical":
            spec.setdefault(kind, []).append([int(c) for c in cols])
        else:
            spec.setdefault(kind, []).extend(int(c) for c in cols)
    return spec


def _by_index(spec: dict, names: np.ndarray) -> dict:
    """A likelihood specification with feature names replaced by column indices."""
    position = {name: i for i, name in enumerate(names)}

    def index(column):
        return position.get(column, column) if isinstance(column, str) else column

    out = {}
    for kind, columns in spec.items():
        if kind == "categorical" and all(
            isinstance(group, (list, tuple, np.ndarray)) for group in columns
        ):
            out[kind] = [[index(c) for c in group] for group in columns]
        elif isinstance(columns, (str, Integral)):
            out[kind] = [index(columns)]
        else:
            out[kind] = [index(c) for c in columns]
    return out


class _HeldOutStop(Callback):
    """Early stopping of the default model on held-out observed entries.

    ``HOLDOUT_FRACTION`` of the observed entries (a one-hot group counts as
    one entry; never a row's or a column's last one), or ``HOLDOUT_ENTRIES``
    where that is less but no less than ``HOLDOUT_MIN_FRACTION`` of them
    (a stable stopping signal needs a count, not a share; the rest train the
    model), are hidden from training
    (``train``). Steps are counted in batches of ``BATCH`` rows, whatever
    the model's batch (``per_epoch`` an epoch): the rules below stop after
    the same rows seen in larger batches. After each epoch that completes
    ``CHECK_STEPS`` steps since the last check (every epoch, where epochs
    are longer) the model fills them (the decoder's mean at the posterior
    mean) and their error is measured (squared, each column's divided by
    its observed variance). When it has not improved for ``PATIENCE_STEPS``
    steps or ``PATIENCE_SHARE`` of the steps so far, whichever
    is more (and at least two checks), the weights go back to the best ones
    and the learning rate is cut by ``CUT``; at the plateau after ``N_CUTS``
    cuts training stops. Training also stops after ``budget`` steps:
    ``STEPS_PER_ENTRY`` per observed training entry, at least ``MIN_STEPS``
    (few entries cannot use many steps; it ends small tables' fits early).
    With ``versus`` set (the Gaussian model's fill of the held-out entries,
    where it covers every column), the first check after ``TRIAL_SHARE`` of
    the budget (at least ``TRIAL_STEPS``) is a trial: training stops there
    unless blending the VAE's best fill with the Gaussian's lowers the
    held-out error by ``TRIAL_Z`` standard errors (:meth:`gain_z2`). Where
    a nearest-neighbour fill does not pass that test either
    (:meth:`neighbour_gain`, decided before training), the trial is the
    first check (after ``TRIAL_EARLY`` steps), and the VAE must pass it by
    ``TRIAL_EARLY_Z`` standard errors. A VAE that fails its trial
    is ``failed``: the Gaussian alone fills the table.
    With ``versus`` set, a plateau also ends training, without the cut,
    where the VAE's gain (:meth:`gain_z2`) does not reach ``REFINE_Z``
    standard errors. The best weights are kept.
    """

    def __init__(self, X: np.ndarray, groups: list, seed: int, sample_weight=None):
        self.seed = seed
        rng = np.random.default_rng(seed)
        # a group is observed where all its columns are (an "auto" one-hot
        # group of an array may have holes in some of its columns only)
        observed = np.column_stack(
            [~np.isnan(X[:, g]).any(axis=1) for g in groups]
        ).reshape(X.shape[0], len(groups))
        share = np.clip(
            HOLDOUT_ENTRIES / max(1, observed.sum()),
            HOLDOUT_MIN_FRACTION,
            HOLDOUT_FRACTION,
        )
        pick = observed & (rng.uniform(size=observed.shape) < share)
        # keep an observed entry in every row and every column
        for i in np.flatnonzero(pick.any(axis=1) & ~(observed & ~pick).any(axis=1)):
            pick[i, rng.choice(np.flatnonzero(observed[i]))] = False
        for j in np.flatnonzero(pick.any(axis=0) & ~(observed & ~pick).any(axis=0)):
            pick[rng.choice(np.flatnonzero(observed[:, j])), j] = False
        full = np.zeros(X.shape, dtype=bool)
        for j, group in enumerate(groups):
            full[:, group] = pick[:, [j]]
        self.rows = np.flatnonzero(full.any(axis=1))
        self.pick = full[self.rows]
        self.truth = X[self.rows][self.pick]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            var = np.nanvar(X, axis=0)
        var = np.where(var > 0, var, 1.0)
        self.scale = 1.0 / var
        self.inv_var = self.scale[np.nonzero(self.pick)[1]]
        self.rng = rng
        self.weight = self.absent = None
        if sample_weight is not None:
            # rows of weight 0 are as if absent: never a neighbour
            self.absent = np.asarray(sample_weight, dtype=float) == 0
            w = np.asarray(sample_weight, dtype=float)[self.rows]
            w = np.broadcast_to(w[:, None], self.pick.shape)[self.pick]
            self.weight = w if w.sum() > 0 else None
        self.train = X.copy()
        self.train[full] = np.nan
        self.n_train = X.shape[0]  # the rows the model trains on
        # (the Gaussian's held-out fill, its error, the entries' weights):
        # set by VAEImputer where the Gaussian covers every column
        self.versus = None
        # a failed trial (reset at each fit): the Gaussian alone fills
        self.failed = False
        # few entries to learn from: fewer steps
        self.entries = (observed & ~pick).sum(axis=1)  # a row's, for training
        self.budget = _step_budget(self.entries.sum())

    def training_rows(self, most: int, groups: list) -> np.ndarray | None:
        """Rows of ``train`` for the model, drawn at random; None: all of them.

        Tables of more than ``most`` rows give ``most`` rows drawn without
        replacement among those of positive weight, plus, for each column
        group whose observed training entries all fall outside the draw, one
        such row where it is observed, of weight 0 where no other is (the
        model then sees every column).
        Smaller tables with rows of weight 0 give their other rows: a row of
        weight 0 is as if absent, as from a draw (unless fewer than two rows
        remain, or a column group is observed only in rows of weight 0: then
        every row). The held-out entries stay in every row; the step budget
        becomes that of the rows' entries.
        """
        n = self.train.shape[0]
        allowed = np.ones(n, dtype=bool) if self.absent is None else ~self.absent
        if n <= most:
            if allowed.all() or allowed.sum() < 2:
                return None
            # every row, where a column group is observed only at weight 0
            for group in groups:
                seen = ~np.isnan(self.train[:, group]).any(axis=1)
                if seen.any() and not (seen & allowed).any():
                    return None
            keep = allowed.copy()
        else:
            pool = np.flatnonzero(allowed)
            keep = np.zeros(n, dtype=bool)
            keep[self.rng.choice(pool, min(most, pool.size), replace=False)] = True
        for group in groups:
            observed = ~np.isnan(self.train[:, group]).any(axis=1)
            seen = observed & allowed
            if not seen.any():  # observed at weight 0 only: one such row
                seen = observed  # (as every row trains on a smaller table)
            if seen.any() and not (seen & keep).any():
                keep[self.rng.choice(np.flatnonzero(seen))] = True
        rows = np.flatnonzero(keep)
        self.n_train = rows.size
        self.budget = _step_budget(self.entries[rows].sum())
        return rows

    def on_train_begin(self, trainer, **kwargs):
        self.x = to_tensor(self.train[self.rows], trainer.device)
        # the decoder's mean at the posterior mean: one cheap pass
        self.eps = torch.zeros(1, trainer.module.noise_dim, device=trainer.device)
        self.best, self.best_state, self.cuts = np.inf, None, 0
        self.best_fill, self.tried = None, self.versus is None
        self.failed = False
        # close to linear-Gaussian (neighbours add nothing): an early trial
        self.neighbour_z2 = None if self.versus is None else self.neighbour_gain()
        early = self.neighbour_z2 is not None and self.neighbour_z2 < TRIAL_Z**2
        self.early = early
        # steps counted in batches of BATCH rows, whatever the batch: the
        # rules below are in rows seen, the same for larger batches
        self.per_epoch = max(1, -(-self.n_train // BATCH))
        # the trial's share is of the steps training can take: the budget,
        # or fewer where the model's max_iter ends training first
        n_epochs = kwargs.get("n_epochs", trainer.n_epochs)
        steps = min(self.budget, max(1, n_epochs) * self.per_epoch)
        if early:  # the first check
            self.trial = TRIAL_EARLY
        else:
            self.trial = max(TRIAL_STEPS, TRIAL_SHARE * steps)
        # steps so far, at the last check, and at the last improvement or cut
        self.steps = self.checked = self.since = 0
        self.checks = 0  # checks since the last improvement or cut

    def error(self, module) -> float:
        module.eval()
        with torch.inference_mode():
            if _plain_gaussian(module):
                # module.impute at eps = 0, less its importance weights: one
                # draw (z the posterior mean) weighs 1, and every held-out
                # entry is a hole, so the decoder's expected value is the fill
                mu = module.encode(self.x)[0]
                lik = module.likelihood
                filled = lik.expectation(lik.given(self.x, module.decoder(mu[None])))[0]
            else:
                filled = module.impute(self.x, self.eps)
        module.train()
        self.fill = filled.cpu().numpy()[self.pick]
        sq = (self.fill - self.truth) ** 2 * self.inv_var
        return float(np.average(sq, weights=self.weight))

    def gain_z2(self) -> float:
        """The VAE's gain over the Gaussian alone, in squared standard errors.

        ``n * G``: ``G`` the share of the Gaussian's held-out squared error
        that the best blend ``a * gaussian + (1 - a) * vae`` (one weight,
        ``a`` in [0, 1], least squares) removes, with the VAE's fill at its
        best weights so far, and ``n`` the held-out entries (their effective
        number, with weights). Where the VAE adds nothing, ``n * G`` is about
        a chi-square of one degree of freedom (one weight fitted to noise).
        """
        guess, em, w = self.versus
        return _blend_gain(guess, self.best_fill, self.truth, em, w)

    def neighbour_gain(self) -> float:
        """:meth:`gain_z2` of a nearest-neighbour fill in place of the VAE's.

        Each held-out entry is the mean of that column over the
        ``NEIGHBOURS`` training rows nearest to its row (NaN-Euclidean
        distance on the columns observed in both, each column scaled to unit
        variance), among at most ``NEIGHBOUR_ROWS`` rows (fewer on wide
        tables: ``NEIGHBOUR_WORK``). A table on which
        such a local, nonlinear fill adds nothing to the Gaussian's is close
        to linear-Gaussian.
        """
        guess, em, w = self.versus
        train = self.train * np.sqrt(self.scale)
        ref = np.arange(train.shape[0])
        if self.absent is not None and not self.absent.all():
            ref = ref[~self.absent]
        most = min(NEIGHBOUR_ROWS, NEIGHBOUR_WORK // (self.rows.size * train.shape[1]))
        if ref.size > max(most, 20 * NEIGHBOURS):
            most = max(most, 20 * NEIGHBOURS)
            ref = np.sort(self.rng.choice(ref, most, replace=False))
        dist = nan_euclidean_distances(train[self.rows], train[ref])
        dist[self.rows[:, None] == ref[None, :]] = np.inf  # not a row itself
        dist[np.isnan(dist)] = np.inf  # no column observed in both
        fill = np.empty(self.truth.shape)
        at = np.zeros(self.pick.shape, dtype=int)
        at[self.pick] = np.arange(self.truth.size)
        for j in np.flatnonzero(self.pick.any(axis=0)):
            has = np.flatnonzero(~np.isnan(train[ref, j]))
            rows = np.flatnonzero(self.pick[:, j])
            if has.size == 0:  # not among the rows sought: the column's mean
                fill[at[rows, j]] = np.nanmean(self.train[:, j])
                continue
            d = dist[np.ix_(rows, has)]
            k = min(NEIGHBOURS, has.size)
            near = np.argpartition(d, k - 1, axis=1)[:, :k]
            values = self.train[ref[has], j]
            fill[at[rows, j]] = values[near].mean(axis=1)
        return _blend_gain(guess, fill, self.truth, em, w)

    def on_epoch_end(self, trainer, **kwargs):
        self.steps += self.per_epoch
        spent = self.steps >= self.budget
        if self.rows.size == 0:  # nothing held out: the step budget alone
            trainer.should_stop = trainer.should_stop or spent
            return
        if not spent and self.steps - self.checked < CHECK_STEPS:
            return  # tiny epochs: check every CHECK_STEPS steps
        self.checked = self.steps
        err = self.error(trainer.module)
        kwargs["record"]["holdout_error"] = err
        if err < self.best:
            self.best, self.since, self.checks = err, self.steps, 0
            self.best_fill = self.fill
            self.best_state = {
                k: v.detach().clone() for k, v in trainer.module.state_dict().items()
            }
        else:
            self.checks += 1
        # patience: PATIENCE_STEPS steps, or a share of the steps so far
        patience = max(PATIENCE_STEPS, PATIENCE_SHARE * self.steps)
        if spent:
            trainer.should_stop = True
        if not self.tried and self.steps >= self.trial:
            # the trial: a VAE that has not shown that it adds to the
            # Gaussian by now is stopped, and the Gaussian alone fills
            self.tried = True
            z2 = 0.0 if self.best_fill is None else self.gain_z2()
            kwargs["record"]["gain_z2"] = z2
            kwargs["record"]["neighbour_z2"] = self.neighbour_z2
            need = TRIAL_EARLY_Z if self.early else TRIAL_Z
            if z2 < need**2:
                self.failed = True
                trainer.should_stop = True
                return
        if spent or self.checks < 2 or self.steps - self.since < patience:
            return
        if self.cuts >= N_CUTS:
            trainer.should_stop = True
            return
        if self.versus is not None and self.best_fill is not None:
            # refine only where the VAE already adds to the Gaussian
            z2 = self.gain_z2()
            kwargs["record"]["refine_z2"] = z2
            if z2 < REFINE_Z**2:
                trainer.should_stop = True
                return
        # a plateau: back to the best weights, with a smaller step
        self.cuts, self.since, self.checks = self.cuts + 1, self.steps, 0
        trainer.module.load_state_dict(self.best_state)
        for group in trainer.optimizer.param_groups:
            group["lr"] *= CUT

    def on_train_end(self, trainer, **kwargs):
        if self.best_state is not None:
            trainer.module.load_state_dict(self.best_state)


def _blend_gain(guess, other, truth, em, w) -> float:
    """A fill's gain over ``guess`` (error ``em``), in squared standard errors.

    ``n * G``: the share ``G`` of the error ``em`` of ``guess`` that the best
    blend ``a * guess + (1 - a) * other`` (``a`` in [0, 1], least squares)
    removes, times ``n``, the effective number of entries of weights ``w``;
    0 where ``em`` is 0 (nothing is left to gain).
    """
    if em <= 0:  # the Gaussian's fill is exact: nothing left to gain
        return 0.0
    diff, resid = guess - other, truth - other
    a = np.clip((w * diff * resid).sum() / max((w * diff * diff).sum(), 1e-300),
                0.0, 1.0)  # fmt: skip
    blend = np.average((other + a * diff - truth) ** 2, weights=w)
    n = w.sum() ** 2 / (w * w).sum()
    return float(n * (1.0 - blend / max(em, 1e-300)))


class _Holes:
    """Rows with holes (NaN), grouped for :func:`_conditional`'s solves.

    What does not change between EM's E steps on the same rows: the holes,
    and for each group of rows the positions of their holes (padded to the
    group's size with dummy columns ``d, d + 1, ...``: unit precision, no
    coupling, one per padded slot so that every row's positions are
    distinct). Rows are solved together in up to four groups by their
    number of holes, or in one group where the padded work (rows times the
    cube of the most holes of a row) is under ``SMALL_SOLVE`` (each group's
    solve has a fixed cost), and in chunks of bounded memory.
    """

    def __init__(self, Z: np.ndarray):
        self.array = Z
        self.Z = torch.as_tensor(Z, dtype=torch.float64)
        self.d = self.Z.shape[1]
        self.holes = torch.isnan(self.Z)
        counts = self.holes.sum(1)
        with_holes = counts[counts > 0].numpy()
        self.chunks = []  # (rows, positions of their holes, group size)
        top = int(with_holes.max()) if with_holes.size else 0
        self.width = self.d + top  # the extended space: dummy columns last
        if with_holes.size == 0:
            return
        # holes first (a stable sort)
        order = torch.argsort((~self.holes).to(torch.int8), dim=1, stable=True)
        if with_holes.size * top**3 <= SMALL_SOLVE:  # padding costs less than groups
            sizes = [top]
        else:
            sizes = np.unique(
                np.quantile(with_holes, [0.25, 0.5, 0.75, 1], method="higher")
            ).tolist()
        low = 0
        for size in sizes:
            group = torch.nonzero((counts > low) & (counts <= size)).flatten()
            low = size
            dummy = self.d + torch.arange(size)
            chunk = max(1, 2**22 // size**2)
            for start in range(0, group.numel(), chunk):
                rows = group[start : start + chunk]
                pad = dummy[None, :] >= self.d + counts[rows, None]
                idx = torch.where(pad, dummy, order[rows, :size])
                self.chunks.append((rows, idx, size))
        self.index = None  # each chunk's flat positions: built at first use


def _conditional(
    Z: np.ndarray | _Holes,
    mean: np.ndarray,
    cov: np.ndarray,
    *,
    row_weight: np.ndarray | None = None,
    generator: torch.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of Z with NaN entries filled from a Gaussian N(mean, cov).

    Each row's holes get their conditional mean given its observed entries
    (with ``generator``: a draw from their conditional distribution). Also
    returned, when ``row_weight`` is given: the sum over rows, so weighted, of
    the holes' conditional covariances, padded with zeros to ``(d, d)`` (the
    E step of EM). A row with ``k`` holes solves with the ``k x k`` block of
    the precision matrix, in the groups of :class:`_Holes` (``Z`` may be
    one, built once for the many E steps on the same rows).
    """
    plan = Z if isinstance(Z, _Holes) else _Holes(Z)
    d, width = plan.d, plan.width
    mean = torch.as_tensor(mean, dtype=torch.float64)
    filled = torch.where(plan.holes, mean, plan.Z)  # holes at the mean
    cov_sum = None
    if row_weight is not None:
        cov_sum = torch.zeros(width * width, dtype=torch.float64)
        row_weight = torch.as_tensor(row_weight, dtype=torch.float64)
    if not plan.chunks:
        return filled.numpy(), None if cov_sum is None else np.zeros((d, d))
    # the extended space: dummy columns of unit precision, no coupling
    prec = torch.eye(width, dtype=torch.float64)
    prec[:d, :d] = torch.linalg.inv(torch.as_tensor(cov, dtype=torch.float64))
    flat_prec = prec.reshape(-1)
    out = torch.zeros(filled.shape[0], width, dtype=torch.float64)
    out[:, :d] = filled
    centred_prec = torch.zeros(filled.shape[0], width, dtype=torch.float64)
    centred_prec[:, :d] = (filled - mean) @ prec[:d, :d]
    flat_out = out.view(-1)
    index = plan.index or [_chunk_index(c, width) for c in plan.chunks]
    if plan is Z and sum(len(flat) for flat, _ in index) <= KEPT_INDEX:
        plan.index = index  # a plan of many E steps keeps them, if small
    # equal weights (EM's rows): one factor, index_add_'s alpha
    equal = cov_sum is not None and bool((row_weight == row_weight[0]).all())
    for (rows, _, size), (flat, at) in zip(plan.chunks, index, strict=True):
        chol = torch.linalg.cholesky(
            flat_prec.index_select(0, flat).reshape(-1, size, size)
        )
        shift = -centred_prec.view(-1).index_select(0, at).reshape(-1, size, 1)
        # (where the inverse is needed anyway, a product costs less than a solve)
        block = None if cov_sum is None else torch.cholesky_inverse(chol)
        delta = torch.cholesky_solve(shift, chol) if block is None else block @ shift
        if generator is not None:  # + L^-T eps has covariance (L L^T)^-1
            eps = torch.randn(delta.shape, generator=generator, dtype=torch.float64)
            delta = delta + torch.linalg.solve_triangular(chol.mT, eps, upper=True)
        flat_out.index_add_(0, at, delta.reshape(-1))
        if cov_sum is not None and equal:
            cov_sum.index_add_(0, flat, block.reshape(-1), alpha=float(row_weight[0]))
        elif cov_sum is not None:
            block = block * row_weight[rows, None, None]
            cov_sum.index_add_(0, flat, block.reshape(-1))
    out = out[:, :d].numpy()
    if cov_sum is None:
        return out, None
    return out, cov_sum.reshape(width, width)[:d, :d].numpy()


def _chunk_index(chunk: tuple, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A chunk's flat positions of its rows' hole blocks and of their holes.

    The blocks' in a ``(width, width)`` matrix, the holes' in rows of
    ``width`` columns.
    """
    rows, idx, _ = chunk
    return ((idx[:, :, None] * width + idx[:, None, :]).reshape(-1),
            (rows[:, None] * width + idx).reshape(-1))  # fmt: skip


def _m_step(
    X: np.ndarray,
    cov_sum: np.ndarray,
    ridge: float,
    scale: float,
    row_weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """EM's M step from the E step's filled rows and summed covariances.

    The covariance is shrunk to ``(S + ridge * scale * I) / (1 + ridge)``, a
    weighted mean of the rows' covariance and a sphere of variance
    ``scale``: a fixed point of EM even where most entries are missing (an
    amount added at every step would be carried into the next E step's
    fills and grow the variances without bound there), and the same
    conditional means as ``S + ridge * scale * I`` on complete rows.
    """
    mean = row_weight @ X
    centred = X - mean
    S = (centred.T * row_weight) @ centred + cov_sum
    return mean, (S + ridge * scale * np.eye(X.shape[1])) / (1 + ridge)


def _observed_variance(Z: np.ndarray, row_weight: np.ndarray) -> float:
    """Mean over columns of each column's weighted variance on its observed entries.

    The shrinkage's unit: fixed by the data, so that it cannot grow with the
    fit's own fills.
    """
    seen = ~np.isnan(Z)
    w = row_weight[:, None] * seen
    total = w.sum(axis=0)
    cols = total > 0
    if not cols.any():
        return 1.0
    values = np.where(seen, Z, 0.0)[:, cols]
    w, total = w[:, cols], total[cols]
    mean = (w * values).sum(axis=0) / total
    var = (w * (values - mean) ** 2).sum(axis=0) / total
    return max(float(var.mean()), 1e-6)


def _gaussian_em(
    Z: np.ndarray | _Holes,
    ridge: float,
    mean: np.ndarray,
    cov: np.ndarray,
    row_weight: np.ndarray,
    max_iter: int,
    check=None,
    e_step=None,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    """EM for a Gaussian fitted to the rows of Z with holes (NaN).

    Each M step shrinks the covariance towards a sphere whose variance is the
    observed entries' mean variance, with weight ``ridge / (1 + ridge)``
    (:func:`_m_step`). EM is slow where much is missing (its rate is the share
    of missing information), so it is accelerated by SQUAREM (Varadhan &
    Roland 2008, scheme S3): from the current fit, two EM steps, a jump along
    them (at least as far as the two steps went, at most ``EM_MAX_JUMP`` times
    that), and one EM step from there, or the end of the two steps where the
    jump's covariance is not positive definite. Stops after about ``max_iter``
    E steps or when no entry of the covariance moved by more than ``EM_TOL``
    of its largest one in a cycle. ``row_weight`` sums to 1.

    ``check(mean, cov, X)``, if given, is called at each cycle's start with
    the rows filled by the E step there (which the cycle needs anyway, so a
    check on held-out entries of those rows costs nothing) and ends EM at
    that fit when it returns True. ``e_step``: the E step at ``mean, cov``,
    if known. Returns the mean, the covariance and the E step at them (None
    where not computed), which a next call may start from. ``Z`` may be a
    :class:`_Holes` of the rows (built once for several calls), and
    ``scale`` its :func:`_observed_variance` (computed where not given).
    """
    Z = Z if isinstance(Z, _Holes) else _Holes(Z)
    d = Z.d
    if scale is None:
        scale = _observed_variance(Z.array, row_weight)
    steps, converged = 0, False
    while True:
        if check is None and not converged and steps >= max_iter:
            break  # no E step whose fill nothing reads
        if e_step is None and (check is not None or not converged):
            e_step = _conditional(Z, mean, cov, row_weight=row_weight)
            steps += 1
        if check is not None and check(mean, cov, e_step[0]):
            break
        if converged or steps >= max_iter:
            break
        m1, c1 = _m_step(*e_step, ridge, scale, row_weight)
        e1 = _conditional(Z, m1, c1, row_weight=row_weight)
        m2, c2 = _m_step(*e1, ridge, scale, row_weight)
        steps += 1
        r = np.concatenate([m1 - mean, (c1 - cov).ravel()])
        v = np.concatenate([m2 - m1, (c2 - c1).ravel()]) - r
        alpha = -np.sqrt(r @ r) / max(np.sqrt(v @ v), 1e-300)
        alpha = float(np.clip(alpha, -EM_MAX_JUMP, -1.0))
        jump = -2 * alpha * r + alpha * alpha * v
        m3, c3 = mean + jump[:d], cov + jump[d:].reshape(d, d)
        c3 = (c3 + c3.T) / 2
        try:
            np.linalg.cholesky(c3)
            ok = bool(np.isfinite(c3).all() and np.isfinite(m3).all())
        except np.linalg.LinAlgError:
            ok = False
        if ok:  # one EM step from the jump: back onto EM's path
            m3, c3 = _m_step(*_conditional(Z, m3, c3, row_weight=row_weight),
                             ridge, scale, row_weight)  # fmt: skip
            steps += 1
        else:
            m3, c3 = m2, c2
        converged = np.abs(c3 - cov).max() < EM_TOL * np.abs(cov).max()
        mean, cov, e_step = m3, c3, None
    return mean, cov, e_step


def _em_rows(Z: np.ndarray, weight: np.ndarray, seed: int) -> np.ndarray:
    """The rows that EM fits on: all, or a random share when they cost much.

    An EM step costs about the sum over rows of ``k^3`` (``k``: a row's
    holes); above ``EM_WORK`` a random subset of rows of about that cost is
    taken. Rows of zero weight are left out.
    """
    rows = np.flatnonzero(weight > 0)
    work = float((np.isnan(Z[rows]).sum(axis=1).astype(np.float64) ** 3).sum())
    if work <= EM_WORK:
        return rows
    rng = np.random.default_rng(seed)
    keep = max(2, int(rows.size * EM_WORK / work))
    return np.sort(rng.choice(rows, size=keep, replace=False))


def _blend_weights(
    guess: np.ndarray,
    other: np.ndarray,
    truth: np.ndarray,
    column: np.ndarray,
    n_columns: int,
    weight: np.ndarray,
) -> np.ndarray:
    """Each column's least-squares weight of ``guess`` against ``other``.

    The fill ``a * guess + (1 - a) * other`` of held-out entries (``column``:
    the column of each) with the lowest weighted squared error, ``a`` in
    [0, 1], for all columns together and for each column; a column's
    estimate is shrunk towards the common one as if the latter came from
    as many entries as an average column holds, or ``BLEND_PRIOR`` where
    that is more (a few entries a column say little).
    """
    diff = guess - other
    resid = truth - other
    num = np.bincount(column, weight * diff * resid, minlength=n_columns)
    den = np.bincount(column, weight * diff * diff, minlength=n_columns)
    common = np.clip(num.sum() / max(den.sum(), 1e-12), 0.0, 1.0)
    # the common weight counts as an average column's entries, or BLEND_PRIOR
    prior = den.sum() / max(1, column.size) * max(column.size / n_columns, BLEND_PRIOR)
    return np.clip((num + prior * common) / np.maximum(den + prior, 1e-12), 0.0, 1.0)
