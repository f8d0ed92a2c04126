"""How labels go in and out of the models that take ``y``.

:class:`LabelledModelMixin` gives :class:`skvae.ConditionalVAE` and
:class:`skvae.SemiSupervisedVAE` their label encoding and the methods that
take an optional ``y``. It is listed before :class:`skvae._base.BaseVAE`
among a family's bases, so that its methods reach BaseVAE's through
``super()`` when no label is given.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from skvae._base import _weighted_mean, check_float32_range
from skvae._data import FLOATS, check_n_samples
from skvae._sklearn_compat import _fit_context


class LabelledModelMixin:
    """Label encoding and the ``y``-taking methods of the labelled models.

    A family that mixes it in learns ``classes_`` and ``class_prior_`` in
    its ``_training_arrays`` (:meth:`_learn_labels`), and its module takes
    one-hot labels in ``decode_mean``, ``conditional_log_likelihood`` and
    ``sample``. ``transform``, ``inverse_transform``, ``score_samples``,
    ``score`` and ``sample`` then take an optional ``y``; without it they
    are BaseVAE's, with the label marginalised by the module.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import ConditionalVAE
    >>> X = np.random.RandomState(0).uniform(size=(20, 3))
    >>> cvae = ConditionalVAE(n_components=2, max_iter=2, random_state=0)
    >>> cvae = cvae.fit(X, np.repeat(["a", "b"], 10))
    >>> cvae.classes_.tolist(), cvae.class_prior_.tolist()
    (['a', 'b'], [0.5, 0.5])
    >>> cvae.inverse_transform(np.zeros((2, 2)), y="b").shape
    (2, 3)
    """

    # ------------------------------------------------------------- labels
    def _learn_labels(
        self,
        y: np.ndarray,
        reset: bool,
        classes: Any,
        rows: np.ndarray | None = None,
    ) -> None:
        """Learn ``classes_`` and the class prior p(y) from labelled rows ``y``.

        When the model is (re)initialised (``reset``) the classes are
        learnt; later calls keep them, and a ``classes`` given again must
        name the same labels. ``classes`` (``partial_fit``'s list of every
        label) fixes the classes, and each starts at a count of 1: a first
        chunk need not hold every class, and no class may have a prior of 0.
        ``class_count_`` adds each call's (weighted) count of labelled rows
        of each class to those of the calls before, since the model was
        initialised (``partial_fit``'s chunks, ``warm_start``'s fits), and
        the prior is their share (:meth:`_set_prior`). The weights are
        applied by :meth:`_check_weights`, once they are checked; ``rows``
        is the mask of the rows of ``X`` that ``y`` labels (None: every
        row).
        """
        self.__dict__.pop("_label_rows", None)
        if classes is not None:
            classes = _check_classes(classes, y)
        if not reset:
            if classes is not None and not np.array_equal(
                unique_labels(classes), self.classes_
            ):
                raise ValueError(
                    f"classes={unique_labels(classes).tolist()} is not the same "
                    f"as on the first call to partial_fit, {self.classes_.tolist()}."
                )
            before = getattr(self, "class_count_", None)
            if before is None:  # a model saved before the counts were kept
                return
        elif classes is not None:
            self._label_encoder = LabelEncoder().fit(classes)
            before = np.ones(len(self._label_encoder.classes_))
        else:
            self._label_encoder = LabelEncoder().fit(y)
            before = np.zeros(len(self._label_encoder.classes_))
        self.classes_ = self._label_encoder.classes_
        if y.size == 0:  # a chunk of unlabelled rows only (M2)
            codes = np.empty(0, dtype=np.intp)
        else:
            codes = self._label_encoder.transform(y) if reset else self._codes(y)
        counts = np.bincount(codes, minlength=len(self.classes_))
        self._set_prior(before + counts, reset)
        self._label_rows = (codes, rows, before, reset)

    def _stream_classes(self, y: np.ndarray) -> Any:
        """Every class of an out-of-core stream's labels, read before its blocks.

        ``partial_fit`` gives them to the stream's first block as
        ``classes``: a class first seen in a later block is then no error
        (each class starts at a count of 1, as when ``classes`` is given).
        """
        return unique_labels(check_labels(self._label_column(y, len(y))))

    def _set_prior(self, counts: np.ndarray, reset: bool) -> None:
        """``class_count_`` and the prior, in the module too once it is built."""
        self.class_count_ = np.asarray(counts, dtype=np.float64)
        self.class_prior_ = self.class_count_ / self.class_count_.sum()
        module = None if reset else vars(self).get("module_")
        if module is not None and hasattr(module, "log_prior"):
            import torch

            with torch.no_grad():
                module.log_prior.copy_(torch.as_tensor(np.log(self.class_prior_)))

    def _check_weights(self, sample_weight: Any, X: Any) -> np.ndarray | None:
        """BaseVAE's check; the class counts :meth:`_learn_labels` took are weighted.

        The class prior is the weighted frequency of each class, so a row of
        weight 0 counts as no row and a row of weight 2 as two.
        """
        weight = super()._check_weights(sample_weight, X)
        pending = self.__dict__.pop("_label_rows", None)
        if weight is not None and pending is not None:
            codes, rows, before, reset = pending
            labelled = weight if rows is None else weight[rows]
            if labelled.shape[0] == codes.shape[0]:
                counts = np.bincount(
                    codes, weights=labelled, minlength=len(self.classes_)
                )
                empty = self.classes_[(counts == 0) & (before == 0)]
                if empty.size:
                    raise ValueError(
                        f"Every row of class {empty.tolist()[:5]} has sample_weight "
                        "0, so the model could learn nothing of it and its prior "
                        "would be 0; drop those rows (and the class) or give them "
                        "a positive weight."
                    )
                self._set_prior(before + counts, reset)
        return weight

    def _label_column(self, y: Any, n_samples: int) -> np.ndarray:
        """``y`` as a 1-D array with one entry per row, values unchecked."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        column, frame = y, False
        if getattr(y, "ndim", 1) == 2 and hasattr(y, "iloc") and y.shape[1] == 1:
            column, frame = y.iloc[:, 0], True  # a one-column frame
        if str(getattr(column, "dtype", "")) == "boolean":
            # pandas' nullable booleans: numpy gives them as 0.0 and 1.0
            y = column.to_numpy(dtype=object if column.isna().any() else bool)
            if frame:  # as given: column_or_1d warns of a column vector
                y = y.reshape(-1, 1)
        y = column_or_1d(np.asarray(y) if not hasattr(y, "iloc") else y, warn=True)
        check_consistent_length(np.empty(n_samples), y)
        return y

    def _check_y(self, y: Any, n_samples: int) -> np.ndarray:
        """``y`` as a 1-D array of classification targets, one per row."""
        return check_labels(self._label_column(y, n_samples))

    def _codes(self, y: np.ndarray) -> np.ndarray:
        """Integer codes of labels; unseen labels are an error."""
        if y.size and (y.dtype.kind == "b") != (self.classes_.dtype.kind == "b"):
            # numpy compares True with 1: a boolean would read as class 1
            known = self.classes_.tolist()
            raise ValueError(
                f"y holds booleans ({_show(y[0])}), but the classes seen during "
                f"fit are {known}, not booleans: pass the classes' own labels."
                if y.dtype.kind == "b"
                else f"y holds {_show(y[0])}, but the classes seen during fit "
                f"are booleans {known}: pass True or False."
            )
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen during fit: {unseen.tolist()[:5]}; "
                f"known classes are {self.classes_.tolist()} (to train on classes "
                "that later chunks bring, list them all with classes= in the "
                "first partial_fit call; a warm_start fit keeps the classes of "
                "the first fit: fit with warm_start=False to learn new ones)."
            )
        return self._label_encoder.transform(y)

    def _one_hot(self, y: Any, n_samples: int, dtype: Any) -> np.ndarray:
        """One-hot rows for labels ``y`` (a label, or one per row)."""
        y_arr = np.asarray(y)
        if y_arr.ndim == 0:
            y_arr = np.full(n_samples, y_arr.item(), dtype=y_arr.dtype)
        y_arr = self._check_y(y_arr, n_samples)
        return np.eye(len(self.classes_), dtype=dtype)[self._codes(y_arr)]

    # ------------------------------------------------------------ methods
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        """Train for one epoch on a chunk (X, y), keeping weights and optimiser.

        The first call initialises the model. Early stopping is not used.
        Arrays that are not in memory (a numpy memmap, an HDF5 or zarr
        array, a dask array) are read in blocks, each one epoch; without
        ``classes``, a first call reads them off the whole of ``y`` first,
        and each class then starts at a count of 1, as when given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of training data, or an out-of-core array.
        y : array-like of shape (n_samples,)
            Its labels, as in ``fit``.
        classes : array-like of shape (n_classes,), default=None
            Every label that will appear, required on the first call when the
            first chunk does not contain them all (as in sklearn's
            ``partial_fit``). Each class then starts at a count of 1 (see
            ``class_count_``). Later calls may omit it; if given, it must be
            the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows, as in :meth:`skvae.VAE.fit`.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    def transform(self, X, y=None):
        """Encode X to the posterior mean of its latent code.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.
        y : None
            Ignored: labels are not needed (an encoder that takes them is
            averaged over the class weights), so the model works inside a
            ``Pipeline``.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The posterior means, in X's float dtype.
        """
        return super().transform(X)

    def inverse_transform(self, X, y=None):
        """Decode latent vectors to the mean of p(x | z, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent vectors.
        y : label, array-like of shape (n_samples,) or None, default=None
            Labels to decode with (one label, or one per row); ``None``
            averages the decodings over the class prior ``class_prior_``
            (a mixed likelihood's columns: the typed values of the averaged
            expectations, 0/1, one-hot, counts).

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            The decoder's means.
        """
        if y is None:
            return super().inverse_transform(X)
        check_is_fitted(self)
        Z = check_array(X, dtype=FLOATS)
        check_float32_range(Z)  # latents past float32 would decode to NaN
        n_latent = self.module_.n_latent
        if Z.shape[1] != n_latent:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {n_latent} latent dimensions."
            )
        Y = self._one_hot(y, Z.shape[0], Z.dtype)
        decoded = self._map_batches(
            self.module_.decode_mean, Z, Z.dtype, extra=(Y,), overflow="codes"
        )
        return self._typed_rows(decoded, like=X)

    def score_samples(self, X, y=None):
        """Bound of log p(x | y) per row, or of log p(x) without labels.

        With ``n_importance_samples=1`` the evidence lower bound, with more
        the importance-weighted bound; each row's draws follow from its
        values and the fitted model's seed, so a row's score does not depend
        on the other rows, and different rows draw independently.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : label, array-like of shape (n_samples,) or None, default=None
            Their labels; ``None`` marginalises the label:
            log p(x) = log sum_y p(y) p(x | y).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row log-likelihood bounds in nats. For a table with
            ``"quantile"`` columns, in the table's own units, with or without
            ``y`` (the log-Jacobian of the columns' maps added).
        """
        if y is None:
            return super().score_samples(X)
        check_is_fitted(self)
        table = X
        X = self._validate_X(X)
        Y = self._one_hot(y, X.shape[0], X.dtype)
        k = self._n_score_draws()
        scores = self._row_scores(X, "conditional_log_likelihood", k, extra=(Y,))
        return scores + self._table_log_jacobian(table)

    def score(self, X, y=None, sample_weight=None):
        """Mean of :meth:`score_samples`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,) or None, default=None
            Their labels (see :meth:`score_samples`).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the mean.

        Returns
        -------
        score : float
            The (weighted) mean per-row bound.
        """
        return _weighted_mean(self.score_samples(X, y), sample_weight)

    def sample(self, n_samples=1, random_state=None, *, y=None, noise=False):
        """Generate rows of given classes from prior latents.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw; ``None`` uses the estimator's ``random_state``.
        y : label, array-like of shape (n_samples,) or None, default=None
            One label for every row, one label per row, or ``None`` to draw
            labels from the class prior ``class_prior_`` (keyword only;
            these are not returned: to keep them, draw them first, e.g.
            ``rng.choice(classes_, n_samples, p=class_prior_)``, and pass
            them).
        noise : bool, default=False
            Draw every value from p(x | z) instead of taking the decoder's
            point value (keyword only; see ``VAE.sample``).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Generated rows (decoder means).
        """
        check_is_fitted(self)
        n = check_n_samples(n_samples)
        if y is None:
            return self._draw(n, random_state, noise=noise)
        # sampled in blocks: the one-hot rows go to the module block by block
        Y = self._one_hot(y, n, np.float32)
        return self._draw(n, random_state, Y, noise=noise)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


# ---------------------------------------------------------------- checking
def check_labels(
    y: np.ndarray, *, unlabelled_mark: bool = False, rows: np.ndarray | None = None
) -> np.ndarray:
    """Check that ``y`` holds class labels of one kind, none of them missing.

    Labels are all strings, all integers (or integral floats) or all
    booleans. An object array of numbers (as pandas gives for a column of
    mixed objects) comes back as a numeric array, since scikit-learn takes
    an object array for string labels only; other arrays come back as
    they are. Missing values (``None``, ``NaN``, ``pd.NA``, and the string
    ``"nan"`` that numpy writes for a NaN it turns into a string), labels of
    mixed kinds and non-integral floats are refused with a ``ValueError``
    that says what to pass instead.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        The labels to check: with ``unlabelled_mark``, only those of the
        labelled rows.
    unlabelled_mark : bool, default=False
        Whether ``y`` comes from a model that marks unlabelled rows with
        ``-1``: its messages then say how to mark them, and a label that
        looks like the mark but is not it (such as the string ``"-1.0"``)
        is refused.
    rows : ndarray of shape (n_samples,) or None, default=None
        The indices of these labels among the caller's rows (those of the
        labelled rows, with ``unlabelled_mark``), by which messages name a
        row; None: their own positions.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The labels, numbers in an object array made numeric.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.models._labels import check_labels
    >>> check_labels(np.array([2, 1, 2], dtype=object)).dtype.kind
    'i'
    >>> check_labels(np.array(["cat", 3], dtype=object))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y mixes labels of different types (int and str, e.g. 3 and ...
    """
    if unlabelled_mark:
        how = (
            " Pass every label as one type: all strings, with the integer -1 (in "
            "an object array) or the string '-1' for unlabelled rows, or all "
            "integers, with -1 for unlabelled rows."
        )
        missing_how = (
            " Mark unlabelled rows with -1 (the integer -1 in an object array, "
            "or the string '-1' among string labels), as scikit-learn's "
            "semi-supervised estimators do."
        )
    else:
        how = " Pass every label as one type: all strings or all integers."
        missing_how = " Every row needs a label."
    y = np.asarray(y)
    rows = np.arange(len(y)) if rows is None else np.asarray(rows)
    if y.dtype.kind == "O":
        y = _object_labels(y, how, missing_how, rows)
    if y.dtype.kind == "f" and np.isnan(y).any():
        found = rows[np.isnan(y)]
        raise ValueError(
            f"y contains NaN ({found.size} rows, e.g. row {found[0]})." + missing_how
        )
    if y.dtype.kind in "US":
        nan = "nan" if y.dtype.kind == "U" else b"nan"
        if (y == nan).any():
            raise ValueError(
                "y contains the string 'nan', which numpy writes for a missing "
                "value when it turns a list with NaN into strings." + missing_how
            )
        if unlabelled_mark:
            _refuse_lookalike_marks(y)
    try:
        check_classification_targets(y)
    except ValueError as error:
        raise ValueError(
            f"{error} y's labels must be classes (integers, strings or "
            "booleans), not measurements." + (how if unlabelled_mark else "")
        ) from None
    return y


def _check_classes(classes: Any, y: np.ndarray) -> np.ndarray:
    """``partial_fit``'s ``classes`` as a 1-D array; ``y`` must be among them.

    A missing value (NaN, None) is not a class: it is refused rather than
    learnt as one.
    """
    classes = column_or_1d(classes)
    missing = [value for value in classes.astype(object) if _is_missing(value)]
    if missing:
        raise ValueError(
            f"classes must not hold a missing value ({_show(missing[0])}): list "
            "every label that y holds, and only those."
        )
    outside = np.setdiff1d(np.unique(y), classes) if len(y) else []
    if len(outside):
        raise ValueError(
            f"y contains labels that are not in classes: {outside.tolist()[:5]}; "
            f"classes={unique_labels(classes).tolist()} must list every label."
        )
    return classes


def _label_kind(value: Any) -> str:
    """The kind of one label: 'str', 'bool', 'int', 'float' or its type's name."""
    if isinstance(value, (str, bytes)):
        return "str"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, Real):
        return "float"
    return type(value).__name__


def _show(value: Any) -> str:
    """A label as Python writes it, numpy scalars as their Python value."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _is_missing(value: Any) -> bool:
    """Whether a label is a missing value: None, NaN, NaT or ``pd.NA``."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pd.NA: its comparisons are NA too
        return True


def split_strata(codes: np.ndarray, arrays: list[Any]) -> np.ndarray:
    """The early-stopping split's strata of a labelled model's rows.

    Each row's class code (-1 for unlabelled rows, one stratum), and rows of
    weight 0 (the last of ``arrays`` where there are three: X, labels,
    weights) a stratum of their own, so that a class keeps a training row of
    positive weight.

    Examples
    --------
    >>> split_strata(np.array([0, 1, 1, -1]), [None, None, np.array([1, 0, 1, 1])])
    array([ 0, -2,  1, -1])
    """
    strata = np.array(codes, dtype=np.int64)
    if len(arrays) > 2:
        strata[np.asarray(arrays[-1]) <= 0] = -2
    return strata


def missing_label_rows(y: np.ndarray) -> np.ndarray:
    """Positions (along the first axis) of an object array's missing labels.

    None, NaN and ``pd.NA`` in an object array, which numpy cannot sort
    among strings (a bare ``TypeError`` where labels are counted); arrays of
    other dtypes hold none of them (a float NaN is found by their checks).

    Examples
    --------
    >>> missing_label_rows(np.array(["a", None, "b", float("nan")], dtype=object))
    array([1, 3])
    """
    y = np.asarray(y)
    if y.dtype != object or y.size == 0:
        return np.zeros(0, dtype=np.int64)
    missing = np.frompyfunc(_is_missing, 1, 1)(y).astype(bool)
    return np.flatnonzero(missing.reshape(y.shape[0], -1).any(axis=1))


def _object_labels(
    y: np.ndarray, how: str, missing_how: str, rows: np.ndarray
) -> np.ndarray:
    """Labels of an object array, checked for missing and mixed values.

    ``rows``: the labels' indices among the caller's rows, for messages.
    """
    missing = np.fromiter((_is_missing(v) for v in y), dtype=bool, count=y.size)
    if missing.any():
        first = np.flatnonzero(missing)[0]
        raise ValueError(
            f"y contains missing values ({_show(y[first])} in {missing.sum()} "
            f"rows, e.g. row {rows[first]})." + missing_how
        )
    kinds = np.array([_label_kind(v) for v in y], dtype=object)
    found = sorted(set(kinds))
    if "float" in found and "int" in found:  # 1 and 2.0: both numbers
        found.remove("float")
        kinds[kinds == "float"] = "int"
    if len(found) > 1:
        examples = " and ".join(_show(y[np.argmax(kinds == kind)]) for kind in found)
        raise ValueError(
            f"y mixes labels of different types ({' and '.join(found)}, e.g. "
            f"{examples})." + how
        )
    if found and found[0] in ("int", "float", "bool"):
        return np.array(y.tolist())
    return y


def _refuse_lookalike_marks(y: np.ndarray) -> None:
    """Refuse string labels such as '-1.0' or ' -1' that mean the mark -1."""
    text = y.astype(str) if y.dtype.kind == "S" else y
    for value in np.unique(text).tolist():
        try:
            number = float(value)
        except ValueError:
            continue
        if number == -1 and value != "-1":
            raise ValueError(
                f"y has the label {value!r}, which reads as -1 but is not the "
                "unlabelled mark: unlabelled rows are the integer -1 (in an "
                "object array) or exactly the string '-1'. Pass '-1' for them "
                f"instead of {value!r}."
            )
