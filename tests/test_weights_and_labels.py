"""Row weights in the statistics learnt outside the gradient, and labels."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

from skvae import ConditionalVAE
from tests.conftest import tiny


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_class_prior_is_weighted_by_sample_weight(iris):
    X, y = iris
    weight = np.where(y == 2, 0.5, 1.0)
    model = tiny(ConditionalVAE).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.class_prior_, [0.4, 0.4, 0.2])
    assert np.isfinite(model.score_samples(X)).all()
    # a weight of 2 is the row twice
    twice = tiny(ConditionalVAE).fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    np.testing.assert_allclose(twice.class_prior_, [0.5, 0.25, 0.25])
    assert not hasattr(model, "_label_rows")


def test_class_of_weight_zero_is_refused(iris):
    X, y = iris
    with pytest.raises(
        ValueError, match=r"Every row of class \[2\] has sample_weight 0"
    ):
        tiny(ConditionalVAE).fit(X, y, sample_weight=np.where(y == 2, 0.0, 1.0))


@pytest.mark.parametrize("missing", [np.nan, None])
def test_partial_fit_refuses_missing_classes(iris, missing):
    X, y = iris
    with pytest.raises(ValueError, match="classes must not hold a missing value"):
        tiny(ConditionalVAE).partial_fit(X, y, classes=[0, 1, 2, missing])


def test_partial_fit_names_labels_outside_classes(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"labels that are not in classes: \[2\]"):
        tiny(ConditionalVAE).partial_fit(X, y, classes=[0, 1])
    model = tiny(ConditionalVAE).partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"not in classes: \[3\]"):
        model.partial_fit(X[:3], [3, 3, 3], classes=[0, 1, 2])
