"""The one place where skvae imports scikit-learn's private helpers.

skvae requires scikit-learn >= 1.6; if these move upstream, mend this file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "validate_data",
]
