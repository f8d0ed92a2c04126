"""The one place where skvae imports scikit-learn's private helpers.

skvae requires scikit-learn >= 1.6; if these move upstream, mend this file.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight as _sklearn_sample_weight
from sklearn.utils.validation import validate_data

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "validate_data",
]


def _check_sample_weight(sample_weight, X, **kwargs):
    """scikit-learn's ``_check_sample_weight``, finite for a scalar too.

    A scalar is broadcast to every row without scikit-learn's check of
    finite values: ``np.nan`` read as "every row has weight 0", and
    ``np.inf`` gave a score of NaN.

    Examples
    --------
    >>> import numpy as np
    >>> _check_sample_weight(2.0, np.zeros((3, 1))).tolist()
    [2.0, 2.0, 2.0]
    >>> _check_sample_weight(np.inf, np.zeros((3, 1)))
    Traceback (most recent call last):
    ...
    ValueError: sample_weight must be finite (no NaN or infinity).
    """
    weight = _sklearn_sample_weight(sample_weight, X, **kwargs)
    if not np.isfinite(weight).all():
        raise ValueError("sample_weight must be finite (no NaN or infinity).")
    return weight
