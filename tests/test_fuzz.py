"""Hypothesis fuzz of every public estimator's row-taking methods with bad arrays.

Issue 21: no silent wrong answers. Every public method that takes rows, of
every public estimator, is given arrays with NaN, infinities, values past
the float32 range the networks compute in, huge but representable values,
no rows or no columns, the wrong width, the wrong rank, and object dtype.
The answer must be a ``ValueError`` or ``TypeError`` with a message, or a
result without NaN (``-inf`` is a valid log-likelihood for a row the model
finds impossible; ``VAEImputer.transform`` takes NaN as "missing" and must
fill it in).

Each estimator is fitted once per module; the fitting methods (``fit``,
``fit_transform``, ``fit_predict``, ``partial_fit``) run on copies of it.
Every method first meets one array of every kind (so that each kind is
always tried, and all failures of a method are reported together), then
hypothesis draws variations: other cells, values, row counts and dtypes.
"""

import copy
import warnings

import numpy as np
import pytest
from conftest import estimator_classes, tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, clone, is_classifier

from skvae.models._labels import LabelledModelMixin

pytestmark = pytest.mark.filterwarnings("ignore")

N_FEATURES = 5
FLOAT32_MAX = float(np.finfo(np.float32).max)
fuzz = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The fitting methods: each example that is accepted is a (tiny) fit.
fuzz_fits = settings(fuzz, max_examples=8)

# Methods that take rows of X, and how each is called: ``call(model, X)``.
ROW_METHODS = {
    "transform": lambda m, X: m.transform(X),
    "score_samples": lambda m, X: m.score_samples(X),
    "score": lambda m, X: m.score(X, _score_y(m, X)),
    "predict": lambda m, X: m.predict(X),
    "predict_proba": lambda m, X: m.predict_proba(X),
    "predict_log_proba": lambda m, X: m.predict_log_proba(X),
    "decision_function": lambda m, X: m.decision_function(X),
    "reconstruction_log_likelihood": lambda m, X: m.reconstruction_log_likelihood(X),
    "transform_layers": lambda m, X: m.transform_layers(X),
    "encode_codes": lambda m, X: m.encode_codes(X),
    "traverse": lambda m, X: m.traverse(X, 0, [-1.0, 0.0, 1.0]),
    "interpolate": lambda m, X: m.interpolate(X, X, n_steps=3),
    # the labelled models' methods that take y as well
    "score_samples(y)": lambda m, X: m.score_samples(X, y=m.classes_[0]),
}
# Methods that take latent rows (their width is that of transform's output).
LATENT_METHODS = {
    "inverse_transform": lambda m, Z: m.inverse_transform(Z),
    "inverse_transform(y)": lambda m, Z: m.inverse_transform(Z, y=m.classes_[-1]),
}
# Methods that fit: called on a fresh clone (or, partial_fit, a copy of the
# fitted model, so that its checks against the first call are fuzzed too).
FIT_METHODS = {
    "fit": lambda m, X: m.fit(X, _fit_y(m, X)),
    "fit_transform": lambda m, X: m.fit_transform(X, _fit_y(m, X)),
    "fit_predict": lambda m, X: m.fit_predict(X, _fit_y(m, X)),
    "partial_fit": lambda m, X: m.partial_fit(X, _fit_y(m, X)),
}


def _n_rows(X):
    try:
        return len(X)
    except TypeError:
        return 1


def _needs_y(model):
    return model.__sklearn_tags__().target_tags.required


def _fit_y(model, X):
    """Labels for a fit, one per row (-1 marks unlabelled rows where taken)."""
    if not _needs_y(model):
        return None
    marks = [0, 1, -1] if type(model).__name__ == "SemiSupervisedVAE" else [0, 1]
    return np.resize(np.array(marks), _n_rows(X))


def _score_y(model, X):
    """A classifier's score needs true labels; the others ignore y."""
    if not is_classifier(model):
        return None
    return np.resize(model.classes_, _n_rows(X))


def _good_X(n_rows=60, n_features=N_FEATURES, seed=0):
    return np.random.RandomState(seed).normal(size=(n_rows, n_features))


class _Models(dict):
    """The fitted estimators by class name, shown briefly in failure reports."""

    def __repr__(self):
        return f"<{len(self)} fitted estimators>"


def _fitted_models():
    models = _Models()
    for cls in estimator_classes():
        model = tiny(cls)
        X = _good_X()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, _fit_y(model, X))
        models[cls.__name__] = model
    return models


@pytest.fixture(scope="module")
def fitted():
    """Every public estimator, fitted once on 60 rows of 5 features."""
    return _fitted_models()


def _latent_width(model):
    return np.asarray(model.transform(_good_X(2))).reshape(2, -1).shape[1]


def _has(cls, name):
    """Whether ``cls`` has the method ``name`` ("score_samples(y)": with y)."""
    if name.endswith("(y)"):
        return issubclass(cls, LabelledModelMixin)
    return hasattr(cls, name)


def _cases(methods):
    return [
        pytest.param(cls.__name__, name, id=f"{cls.__name__}.{name}")
        for cls in estimator_classes()
        for name in methods
        if _has(cls, name)
    ]


# ------------------------------------------------------------- bad arrays
PAST_FLOAT32 = [1e39, -1e39, 1e300, -1e300, np.finfo(np.float64).max, 3.5e38]
HUGE = [1e30, -1e30, 3e38, -3e38, 1e20]
KINDS = [
    "nan",
    "inf",
    "past_float32",
    "huge",
    "huge_everywhere",
    "empty_rows",
    "empty_columns",
    "wrong_width",
    "wrong_rank",
    "object",
    "valid",
]


@st.composite
def bad_arrays(draw, width):
    """An array of ``width`` columns with one kind of trouble (or none).

    Returns the kind and the array, so that a failure names what was sent.
    """
    kind = draw(st.sampled_from(KINDS))
    n_rows = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    seed = draw(st.integers(0, 2**16))
    X = np.random.RandomState(seed).normal(size=(n_rows, width))
    cell = (draw(st.integers(0, n_rows - 1)), draw(st.integers(0, width - 1)))
    if kind == "nan":
        X[cell] = np.nan
        if draw(st.booleans()):
            X[cell[0]] = np.nan  # a whole row missing
    elif kind == "inf":
        X[cell] = draw(st.sampled_from([np.inf, -np.inf]))
    elif kind == "past_float32":
        X[cell] = draw(st.sampled_from(PAST_FLOAT32))
        dtype = np.float64  # float32 cannot hold them
    elif kind == "huge":
        X[cell] = draw(st.sampled_from(HUGE))
    elif kind == "huge_everywhere":
        X = X * draw(st.sampled_from([1e30, 1e37, 3e38 / 10]))
    elif kind == "empty_rows":
        X = X[:0]
    elif kind == "empty_columns":
        X = X[:, :0]
    elif kind == "wrong_width":
        delta = draw(st.sampled_from([-2, -1, 1, 3]))
        X = np.random.RandomState(seed).normal(size=(n_rows, max(width + delta, 1)))
        if X.shape[1] == width:
            X = X[:, :0]
    elif kind == "wrong_rank":
        rank = draw(st.sampled_from(["scalar", "row", "3d"]))
        if rank == "scalar":
            return kind, np.asarray(X[0, 0], dtype=dtype)
        if rank == "row":
            return kind, X[0].astype(dtype)
        return kind, X[:, :, None].astype(dtype)
    elif kind == "object":
        content = draw(st.sampled_from(["floats", "string", "None", "ragged"]))
        objects = X.astype(object)
        if content == "string":
            objects[cell] = draw(st.sampled_from(["a", "1e5x", ""]))
        elif content == "None":
            objects[cell] = None
        elif content == "ragged":
            rows = [list(row) for row in X]
            rows[cell[0]] = rows[cell[0]][:-1] or [1.0, 2.0]
            objects = np.empty(n_rows, dtype=object)
            objects[:] = rows
        return f"object_{content}", objects
    return kind, X.astype(dtype)


# -------------------------------------------------------------- the check
def _assert_no_nan(result, what):
    """No NaN anywhere in what a method returned (-inf and +inf are allowed)."""
    if isinstance(result, BaseEstimator) or result is None:
        return
    if isinstance(result, (tuple, list)):
        for part in result:
            _assert_no_nan(part, what)
        return
    values = np.asarray(result)
    if values.dtype.kind in "fc" and np.isnan(values).any():
        rows = np.unique(np.argwhere(np.isnan(values))[:, 0]).tolist()
        raise AssertionError(
            f"{what} returned NaN (rows {rows[:10]} of an array of shape "
            f"{values.shape})"
        )


def _check(call, what):
    """A ValueError/TypeError with a message, or a result without NaN."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call()
    except (ValueError, TypeError) as error:
        message = f"{type(error).__name__}: {str(error).strip()}"
    else:
        _assert_no_nan(result, what)
        return result
    assert not message.endswith(": "), f"{what} raised {message} with no message"
    return None


def _fixed_arrays(width):
    """One array of every kind of trouble, so that each is always tried."""
    X = _good_X(4, width, seed=1)

    def put(value, cell=(1, 0)):
        bad = X.copy()
        bad[cell] = value
        return bad

    nan_row = X.copy()
    nan_row[2] = np.nan
    objects = X.astype(object)
    strings, nones = objects.copy(), objects.copy()
    strings[0, 0], nones[0, 0] = "a", None
    ragged = np.empty(4, dtype=object)
    ragged[:] = [list(row) for row in X[:3]] + [list(X[3, :-1]) or [1.0, 2.0]]
    arrays = [
        ("NaN", put(np.nan)),
        ("NaN row", nan_row),
        ("inf", put(np.inf)),
        ("-inf", put(-np.inf)),
        *((f"past float32 {v:g}", put(v)) for v in PAST_FLOAT32),
        *((f"huge {v:g}", put(v)) for v in HUGE),
        ("huge float32 3e38", put(3e38).astype(np.float32)),
        ("huge everywhere 1e37", X * 1e37),
        ("no rows", X[:0]),
        ("no columns", X[:, :0]),
        ("one column fewer", X[:, :-1] if width > 1 else X[:, :0]),
        ("one column more", _good_X(4, width + 1, seed=1)),
        ("scalar", np.asarray(X[0, 0])),
        ("one row as 1-D", X[0]),
        ("3-D", X[:, :, None]),
        ("object of floats", objects),
        ("object with a string", strings),
        ("object with None", nones),
        ("ragged object", ragged),
    ]
    return arrays


def _fit_and_check(model, method, X, what):
    """A fitting method on X, then the fitted model on the same X."""
    result = _check(lambda: FIT_METHODS[method](model, X), what)
    if result is None:
        return
    # The model accepted X: its answers on X have no NaN either.
    after = next(
        m for m in ("score_samples", "transform", "predict") if hasattr(model, m)
    )
    _check(lambda: ROW_METHODS[after](model, X), f"{what}, then {after}")


def _fresh(model, method):
    """A clone to fit, or for partial_fit a copy of the fitted model."""
    return copy.deepcopy(model) if method == "partial_fit" else clone(model)


def _every_kind(check_one, width):
    """Run ``check_one(kind, X)`` on every fixed array; report all failures."""
    failures = []
    for kind, X in _fixed_arrays(width):
        try:
            check_one(kind, X)
        except Exception as error:  # collected, then reported together
            failures.append(f"{kind}: {type(error).__name__}: {error}".strip())
    if failures:
        raise AssertionError("\n".join(failures))


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize(("name", "method"), _cases(ROW_METHODS))
def test_row_methods_on_every_kind_of_bad_array(fitted, name, method):
    model = fitted[name]
    _every_kind(
        lambda kind, X: _check(
            lambda: ROW_METHODS[method](model, X), f"{name}.{method} on {kind}"
        ),
        N_FEATURES,
    )


@pytest.mark.parametrize(("name", "method"), _cases(LATENT_METHODS))
def test_latent_methods_on_every_kind_of_bad_array(fitted, name, method):
    model = fitted[name]
    _every_kind(
        lambda kind, Z: _check(
            lambda: LATENT_METHODS[method](model, Z), f"{name}.{method} on {kind}"
        ),
        _latent_width(model),
    )


@pytest.mark.parametrize(("name", "method"), _cases(FIT_METHODS))
def test_fits_on_every_kind_of_bad_array(fitted, name, method):
    model = fitted[name]
    _every_kind(
        lambda kind, X: _fit_and_check(
            _fresh(model, method), method, X, f"{name}.{method} on {kind}"
        ),
        N_FEATURES,
    )


@pytest.mark.parametrize(("name", "method"), _cases(ROW_METHODS))
@fuzz
@given(data=st.data())
def test_row_methods_refuse_bad_arrays_or_answer_without_nan(
    fitted, name, method, data
):
    model = fitted[name]
    kind, X = data.draw(bad_arrays(N_FEATURES), label="X")
    _check(lambda: ROW_METHODS[method](model, X), f"{name}.{method} on {kind}")


@pytest.mark.parametrize(("name", "method"), _cases(LATENT_METHODS))
@fuzz
@given(data=st.data())
def test_latent_methods_refuse_bad_arrays_or_answer_without_nan(
    fitted, name, method, data
):
    model = fitted[name]
    kind, Z = data.draw(bad_arrays(_latent_width(model)), label="Z")
    _check(lambda: LATENT_METHODS[method](model, Z), f"{name}.{method} on {kind}")


@pytest.mark.parametrize(("name", "method"), _cases(FIT_METHODS))
@fuzz_fits
@given(data=st.data())
def test_fits_refuse_bad_arrays_or_give_a_model_without_nan(fitted, name, method, data):
    model = fitted[name]
    kind, X = data.draw(bad_arrays(N_FEATURES), label="X")
    _fit_and_check(_fresh(model, method), method, X, f"{name}.{method} on {kind}")
