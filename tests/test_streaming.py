"""Data that does not fit in memory: memmap, HDF5 and dask arrays in blocks."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skvae import VAE, BaseVAE

ROWS = 400  # rows per block in these tests (the default is 65,536)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(BaseVAE, "_STREAM_ROWS", ROWS)


@pytest.fixture(scope="module")
def X():
    return (load_digits().data / 16.0).astype(np.float32)


@pytest.fixture
def memmap(tmp_path, X):
    path = tmp_path / "digits.dat"
    array = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    array[:] = X
    array.flush()
    return np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)


class SpyArray:
    """An out-of-core array stand-in that records the rows of every read."""

    def __init__(self, array):
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.reads = []

    def __getitem__(self, key):
        block = self.array[key]
        self.reads.append(block.shape[0])
        return block


def _model():
    return VAE(n_components=3, hidden_layer_sizes=(32,), batch_size=100, random_state=0)


def test_partial_fit_streams_a_memmap_in_blocks(small_blocks, memmap, X):
    streamed = _model()
    for _ in range(3):
        streamed.partial_fit(memmap)
    by_hand = _model()
    for _ in range(3):
        for start in range(0, len(X), ROWS):
            by_hand.partial_fit(X[start : start + ROWS])
    np.testing.assert_allclose(streamed.transform(X), by_hand.transform(X), rtol=1e-6)
    assert streamed.n_iter_ == 3 * int(np.ceil(len(X) / ROWS))
    assert streamed.loss_curve_[-1] < streamed.loss_curve_[0]


def test_reads_are_bounded_by_the_block(small_blocks, X):
    spy = SpyArray(X)
    model = _model().partial_fit(spy)
    codes = model.transform(spy)
    scores = model.score_samples(spy)
    assert max(spy.reads) <= ROWS
    np.testing.assert_allclose(codes, model.transform(X), rtol=1e-6)
    np.testing.assert_allclose(scores, model.score_samples(X), rtol=1e-5)
    assert model.reconstruction_log_likelihood(spy).shape == (len(X),)


def test_hdf5_and_dask_arrays(small_blocks, tmp_path, X):
    h5py = pytest.importorskip("h5py")
    da = pytest.importorskip("dask.array")
    path = tmp_path / "digits.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("X", data=X)
    with h5py.File(path, "r") as f:
        model = _model().partial_fit(f["X"])
        codes = model.transform(f["X"])
    np.testing.assert_allclose(codes, model.transform(X), rtol=1e-6)
    lazy = da.from_array(X, chunks=(300, 64))
    np.testing.assert_allclose(model.transform(lazy), codes, rtol=1e-6)
    assert model.score_samples(lazy).shape == (len(X),)


def test_scoring_a_dask_array_with_map_blocks(X):
    """The documented recipe: score each block of a dask array in parallel."""
    da = pytest.importorskip("dask.array")
    model = _model().fit(X)
    lazy = da.from_array(X, chunks=(500, 64))
    scores = lazy.map_blocks(
        lambda block: model.score_samples(block), drop_axis=1, dtype=np.float64
    ).compute(scheduler="synchronous")
    np.testing.assert_allclose(scores, model.score_samples(X), rtol=1e-5)


def test_zarr_arrays(small_blocks, tmp_path, X):
    zarr = pytest.importorskip("zarr")
    stored = zarr.create_array(
        store=str(tmp_path / "digits.zarr"), shape=X.shape, chunks=(300, 64), dtype="f4"
    )
    stored[:] = X
    model = _model().partial_fit(stored)
    np.testing.assert_allclose(model.transform(stored), model.transform(X), rtol=1e-6)


def test_labelled_partial_fit_streams_labels_with_the_blocks(small_blocks, memmap):
    from skvae import ConditionalVAE

    y = load_digits().target
    model = ConditionalVAE(
        n_components=3, hidden_layer_sizes=(32,), batch_size=100, random_state=0
    )
    model.partial_fit(memmap, y, classes=np.arange(10))
    assert model.n_iter_ == int(np.ceil(len(y) / ROWS))
    assert model.sample(3, y=[1, 2, 3]).shape == (3, 64)


def test_labels_and_weights_must_match_the_rows_out_of_core(small_blocks, memmap):
    """Each block took its slice of y and sample_weight: a longer array lost
    its tail without a word (labels of another file trained misaligned), a
    shorter one failed on a block's shapes the user never made."""
    from skvae import ConditionalVAE

    y = load_digits().target
    n = len(y)
    with pytest.raises(ValueError, match=f"y has {n + 5} entries for the {n} rows"):
        ConditionalVAE(batch_size=100).partial_fit(
            memmap, np.r_[y, y[:5]], classes=np.arange(10)
        )
    with pytest.raises(ValueError, match=f"sample_weight has {n - 2} entries"):
        _model().partial_fit(memmap, sample_weight=np.ones(n - 2))


def test_a_stream_is_refused_only_for_what_the_whole_data_lacks(small_blocks, X):
    """Each block was checked as if it were the data: a stream sorted by class
    was refused ("classes must list every label") for labels a later block
    held, a first block of unlabelled rows for M2 as if no row had a label,
    and a block whose rows all weigh 0 as if every weight were 0."""
    from skvae import ConditionalVAE, SemiSupervisedVAE

    digits = load_digits()
    order = np.argsort(digits.target, kind="stable")  # block 1: digits 0-2
    stream, y = SpyArray(X[order]), digits.target[order]
    small = dict(n_components=2, hidden_layer_sizes=(16,), batch_size=100)
    model = ConditionalVAE(**small, random_state=0).partial_fit(stream, y)
    assert model.classes_.tolist() == list(range(10))
    # as if classes were given: each class starts at 1, then the blocks add up
    np.testing.assert_array_equal(model.class_count_, 1 + np.bincount(y))
    assert model.sample(2, y=9).shape == (2, 64)
    with pytest.raises(ValueError, match="not seen during fit"):
        ConditionalVAE(**small).fit(X[:ROWS], y[:ROWS]).sample(1, y=9)

    y = digits.target  # in their order, the first block unlabelled
    marked = np.where(np.arange(len(y)) < ROWS, -1, y)
    m2 = SemiSupervisedVAE(**small, random_state=0).partial_fit(SpyArray(X), marked)
    assert m2.n_iter_ == int(np.ceil(len(y) / ROWS))
    assert m2.classes_.tolist() == list(range(10))
    with pytest.raises(ValueError, match="at least one labelled row"):
        SemiSupervisedVAE(**small).partial_fit(SpyArray(X), np.full(len(y), -1))

    weights = np.ones(len(y))
    weights[ROWS : 2 * ROWS] = 0  # block 2 weighs nothing: skipped
    weighed = _model().partial_fit(SpyArray(X), sample_weight=weights)
    assert weighed.n_iter_ == int(np.ceil(len(y) / ROWS)) - 1
    with pytest.raises(ValueError, match="non-zero"):
        _model().partial_fit(SpyArray(X), sample_weight=np.zeros(len(y)))


def test_a_callbacks_stop_ends_a_streams_blocks(small_blocks, X):
    """should_stop ended a block's epoch, and the next block trained on."""
    from skvae import Callback

    class StopAt(Callback):
        def on_epoch_end(self, trainer, **kwargs):
            if kwargs["record"]["epoch"] >= 2:
                trainer.should_stop = True

    model = _model().set_params(callbacks=[StopAt()]).partial_fit(SpyArray(X))
    assert model.n_iter_ == 2 < int(np.ceil(len(X) / ROWS))
    model.set_params(callbacks=None).partial_fit(SpyArray(X))  # a new call reads all
    assert model.n_iter_ == 2 + int(np.ceil(len(X) / ROWS))


def test_a_dask_array_of_unknown_length_gets_a_clear_error(X):
    da = pytest.importorskip("dask.array")
    lazy = da.from_array(X, chunks=(300, 64))
    picked = lazy[lazy[:, 0] > -1]  # chunk sizes unknown until computed
    model = _model().fit(X[:200])
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        model.transform(picked)
    picked.compute_chunk_sizes()
    assert model.transform(picked).shape == (len(X), 3)
