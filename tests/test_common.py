"""scikit-learn's estimator checks over every skvae estimator, at tiny settings."""

import pytest
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform_pandas,
    parametrize_with_checks,
)

from skvae import VAE


def _tested_estimators():
    yield VAE(
        n_components=2,
        hidden_layer_sizes=(8,),
        max_iter=3,
        kl_warmup=0,
        random_state=0,
        device="cpu",
    )


# Every check that skvae's estimators are known to fail, with the reason.
# (Kept in this one place; empty means every check passes.)
_EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def _expected_failed_checks(estimator):
    return _EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    list(_tested_estimators()), expected_failed_checks=_expected_failed_checks
)
def test_estimators(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator", list(_tested_estimators()), ids=lambda e: type(e).__name__
)
@pytest.mark.parametrize(
    "check", [check_set_output_transform_pandas, check_global_output_transform_pandas]
)
def test_set_output_pandas(estimator, check):
    pytest.importorskip("pandas")
    check(type(estimator).__name__, estimator)
