"""Sparse input: equal to dense results, densified one batch at a time."""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import estimator_classes, tiny
from scipy.sparse._compressed import _cs_matrix
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skvae import VAE, ConditionalVAE, SemiSupervisedVAE, VaDE, VAEOutlierDetector
from skvae._base import BaseVAE

# Every estimator but the imputer: NaN marks its holes, and a sparse matrix
# cannot hold them (an entry left out is 0).
SPARSE_CLASSES = [c for c in estimator_classes() if c.__name__ != "VAEImputer"]


@pytest.fixture(scope="module")
def iris_onehot():
    """A CSR matrix from OneHotEncoder on the iris table (rounded to cm)."""
    data = load_iris()
    X = OneHotEncoder().fit_transform(np.round(data.data))
    assert sp.issparse(X)
    return X.tocsr(), data.target


def _outputs(est, X):
    if hasattr(est, "transform") and not isinstance(est, VAEOutlierDetector):
        return est.transform(X)
    return est.score_samples(X)


@pytest.mark.parametrize("cls", SPARSE_CLASSES, ids=lambda c: c.__name__)
def test_sparse_fit_equals_dense(cls, iris_onehot):
    X, y = iris_onehot
    short = {"max_iter": 2} if "max_iter" in cls().get_params() else {}
    sparse = tiny(cls, **short).fit(X, y)
    dense = tiny(cls, **short).fit(X.toarray(), y)
    # (to float32 rounding: a detector scores the dense training array as in
    # fit, on its distinct rows, the sparse one in a batch of another shape)
    np.testing.assert_allclose(
        _outputs(sparse, X), _outputs(dense, X.toarray()), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        sparse.score_samples(X), dense.score_samples(X.toarray()), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("fmt", ["csc", "coo"])
def test_other_formats_equal_csr(fmt, iris_onehot):
    X, _ = iris_onehot
    ref = tiny(VAE).fit(X)
    other = tiny(VAE).fit(X.asformat(fmt))
    np.testing.assert_array_equal(other.transform(X.asformat(fmt)), ref.transform(X))
    assert X.format == "csr"  # the user's matrix is left as it was


def test_partial_fit_sparse_equals_dense(iris_onehot):
    X, _ = iris_onehot
    a, b = tiny(VAE), tiny(VAE)
    for chunk in (slice(0, 75), slice(75, 150)):
        a.partial_fit(X[chunk])
        b.partial_fit(X[chunk].toarray())
    np.testing.assert_array_equal(a.transform(X), b.transform(X.toarray()))


def test_auto_likelihood_reads_sparse_columns(iris_onehot):
    X, _ = iris_onehot
    sparse = tiny(VAE, likelihood="auto").fit(X)
    dense = tiny(VAE, likelihood="auto").fit(X.toarray())
    assert sparse.column_types_ == dense.column_types_
    assert [kind for kind, _ in sparse.column_types_] == ["categorical"] * 4
    np.testing.assert_allclose(
        sparse.score_samples(X), dense.score_samples(X.toarray()), rtol=1e-6
    )


@pytest.fixture
def densified(monkeypatch):
    """Row counts of every sparse block densified (CSR and CSC ``toarray``)."""
    rows = []
    original = _cs_matrix.toarray

    def recording(self, *args, **kwargs):
        rows.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_cs_matrix, "toarray", recording)
    return rows


@pytest.mark.parametrize(
    "cls", [VAE, ConditionalVAE, SemiSupervisedVAE, VaDE, VAEOutlierDetector]
)
def test_no_read_densifies_more_than_a_batch(cls, densified, monkeypatch):
    # digits as a one-hot table: 500 rows, ~600 sparse columns
    data = load_digits()
    X = OneHotEncoder().fit_transform(data.data[:500]).tocsr()
    y = data.target[:500].copy()
    if cls is SemiSupervisedVAE:
        y[50:] = -1
    monkeypatch.setattr(BaseVAE, "_BATCH_ROWS", 100)  # rows per inference call
    est = tiny(cls)
    model = est.estimator if cls is VAEOutlierDetector else est
    model.set_params(batch_size=64, max_iter=2)
    est.fit(X, y)
    est.score_samples(X)
    if cls is not VAEOutlierDetector:
        est.transform(X)
    assert densified, "nothing was densified: the test would prove nothing"
    assert max(densified) <= 100
    assert sum(densified) >= 3 * X.shape[0]  # fit, then reads, all by block


def test_partial_fit_densifies_by_batch(densified, iris_onehot, monkeypatch):
    X, _ = iris_onehot
    monkeypatch.setattr(BaseVAE, "_BATCH_ROWS", 32)
    est = tiny(VAE, batch_size=16)
    est.partial_fit(X)
    est.transform(X)
    assert densified
    assert max(densified) <= 32


def _csr(data, indices, indptr, shape):
    return sp.csr_matrix((np.asarray(data, float), indices, indptr), shape=shape)


def test_nan_in_sparse_is_refused(iris_onehot):
    X, _ = iris_onehot
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tiny(VAE).fit(bad)
    # where NaN marks a missing entry in dense data, sparse says why not
    with pytest.raises(ValueError, match="an entry left out is 0"):
        tiny(VAE, missing="mask").fit(bad)
    fitted = tiny(VAE).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(bad)


def test_infinity_in_sparse_is_refused(iris_onehot):
    X, _ = iris_onehot
    bad = X.copy()
    bad.data[3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        tiny(VAE, missing="mask").fit(bad)
    with pytest.raises(ValueError, match="infinity"):
        tiny(VAE).fit(bad)


def test_broken_sparse_structure_is_refused():
    X = _csr([1.0, 1.0, 1.0], [0, -1, 2], [0, 1, 2, 3], (3, 3))
    with pytest.raises(ValueError, match=r"broken structure.*indices must be >= 0"):
        tiny(VAE).fit(X)
    fitted = tiny(VAE).fit(np.eye(3).repeat(4, axis=0))
    with pytest.raises(ValueError, match="broken structure"):
        fitted.score_samples(X)
    with pytest.raises(ValueError, match="broken structure"):
        VAEOutlierDetector(estimator=tiny(VAE)).fit(X)


def test_out_of_float32_range_sparse_is_refused():
    X = sp.random(20, 5, density=0.5, format="csr", random_state=0)
    X.data[X.indices == 3] = 1e39
    with pytest.raises(ValueError, match=r"float32 range.*column\(s\) \[3\]"):
        tiny(VAE).fit(X)


def test_bernoulli_range_counts_sparse_values():
    X = sp.csr_matrix(np.array([[0.0, 2.0], [1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="needs X in \\[0, 1\\]"):
        tiny(VAE, likelihood="bernoulli").fit(X)


def test_wrong_width_sparse_is_refused(iris_onehot):
    X, _ = iris_onehot
    fitted = tiny(VAE).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :5])


def test_column_types_checked_on_sparse_rows(iris_onehot):
    X, _ = iris_onehot
    fitted = tiny(VAE, likelihood="auto").fit(X)
    bad = X.tolil()
    bad[0, 0] = 1.0  # two ones in the first one-hot group of row 0
    bad[0, 1] = 1.0
    with pytest.raises(ValueError, match="exactly one 1 per row"):
        fitted.transform(bad.tocsr())


def test_pipeline_with_sparse_one_hot():
    data = load_iris()
    X = np.column_stack([data.data, np.round(data.data[:, :2])])
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(), [4, 5])], remainder="passthrough", sparse_threshold=1
    )
    pipe = make_pipeline(encode, tiny(VAE)).fit(X)
    assert sp.issparse(encode.fit_transform(X))
    assert pipe.transform(X).shape == (150, 2)


def test_entries_stored_twice_read_as_their_sum():
    # scipy reads an entry stored more than once as the sum of its parts;
    # the variance floor and the detector's neighbours read stored values
    rng = np.random.RandomState(0)
    X = np.round(rng.rand(200, 6) * (rng.rand(200, 6) < 0.4) * 3, 2)
    canonical = sp.csr_matrix(X)
    twice = _csr(
        np.repeat(canonical.data / 2, 2),
        np.repeat(canonical.indices, 2),
        canonical.indptr * 2,
        X.shape,
    )
    assert (twice.toarray() == X).all()
    assert not twice.has_canonical_format
    stored = twice.data.copy()
    floors = [
        tiny(VAE, min_variance=0.5, likelihood="gaussian").fit(m).module_.likelihood
        for m in (canonical, twice)
    ]
    assert floors[0].min_variance == pytest.approx(floors[1].min_variance)
    a = VAEOutlierDetector(random_state=0).fit(canonical)
    b = VAEOutlierDetector(random_state=0).fit(twice)
    np.testing.assert_allclose(a.score_samples(X), b.score_samples(X), atol=1e-5)
    np.testing.assert_array_equal(a.predict(twice), b.predict(canonical))
    assert twice.nnz == 2 * canonical.nnz  # the caller's matrix as it was
    np.testing.assert_array_equal(twice.data, stored)
