"""VAEOverSampler: counts, labels, pipelines, errors, inputs and determinism."""

import warnings

import numpy as np
import pytest
from conftest import load_benchmark
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skvae import VAE, ConditionalVAE, VAEOverSampler
from skvae.oversample import resolve_sampling_strategy


def _unclipped(new, X):
    """New rows within each column's range, not on its edge: the moves as
    made, which the range did not clip."""
    return ((new > X.min(0)) & (new < X.max(0))).all(1)


def _tiny_cvae(**params):
    settings = dict(
        n_components=2,
        hidden_layer_sizes=(16,),
        max_iter=5,
        kl_warmup=0,
        random_state=0,
        device="cpu",
    )
    settings.update(params)
    return ConditionalVAE(**settings)


@pytest.fixture(scope="module")
def wine3():
    """Wine, three classes made unequal: 40, 20 and 8 rows."""
    X, y = load_wine(return_X_y=True)
    keep = np.r_[
        np.flatnonzero(y == 0)[:8],
        np.flatnonzero(y == 1)[:40],
        np.flatnonzero(y == 2)[:20],
    ]
    return X[keep], y[keep]


@pytest.fixture(scope="module")
def cancer():
    """breast_cancer with the malignant class (0) cut to 20 rows."""
    X, y = load_breast_cancer(return_X_y=True)
    keep = np.r_[np.flatnonzero(y == 1), np.flatnonzero(y == 0)[:20]]
    return X[keep], y[keep]


STRATEGIES = [
    "auto",
    "minority",
    "not minority",
    "not majority",
    "all",
    {0: 30, 2: 25},
    lambda y: {0: int(np.sum(y == 0)) * 2},
]


def _id(value):
    """A test id that is the same in every process (pytest-xdist's workers)."""
    named = callable(value) and not isinstance(value, type)
    return "callable" if named else repr(value)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=_id)
def test_counts_follow_strategy(wine3, strategy):
    X, y = wine3
    sampler = VAEOverSampler(strategy, estimator=_tiny_cvae(), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    asked = resolve_sampling_strategy(strategy, y)
    want = np.bincount(y) + np.array([asked.get(c, 0) for c in range(3)])
    assert np.array_equal(np.bincount(y_res), want)
    assert X_res.shape == (len(y_res), X.shape[1])
    # the originals come first, unchanged
    assert np.array_equal(X_res[: len(X)], X)
    assert np.array_equal(y_res[: len(y)], y)


@pytest.mark.parametrize("strategy", [*STRATEGIES, 0.5, 1.0], ids=_id)
def test_counts_match_imblearn(wine3, cancer, strategy):
    imblearn = pytest.importorskip("imblearn")
    X, y = cancer if isinstance(strategy, float) else wine3
    ours = resolve_sampling_strategy(strategy, y)
    theirs = imblearn.utils.check_sampling_strategy(strategy, y, "over-sampling")
    assert {int(k): v for k, v in ours.items()} == {
        int(k): v for k, v in theirs.items()
    }
    ros = imblearn.over_sampling.RandomOverSampler(
        sampling_strategy=strategy, random_state=0
    )
    _, y_ros = ros.fit_resample(X, y)
    _, y_res = VAEOverSampler(
        strategy, estimator=_tiny_cvae(max_iter=1), random_state=0
    ).fit_resample(X, y)
    assert np.array_equal(np.bincount(y_res), np.bincount(y_ros))


def test_float_strategy_binary(cancer):
    X, y = cancer
    _, y_res = VAEOverSampler(
        0.5, estimator=_tiny_cvae(max_iter=1), random_state=0
    ).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [178, 357]


def test_synthetic_rows_have_the_asked_class(cancer):
    """A classifier trained on real rows calls most new malignant rows malignant."""
    X, y = cancer
    sampler = VAEOverSampler(
        estimator=_tiny_cvae(n_components=4, hidden_layer_sizes=(64,), max_iter=60),
        random_state=0,
    )
    X_res, y_res = sampler.fit_resample(X, y)
    new = X_res[len(X) :]
    assert (y_res[len(y) :] == 0).all()
    assert len(new) == 357 - 20
    scaler = StandardScaler().fit(X)
    clf = LogisticRegression(max_iter=1000).fit(scaler.transform(X), y)
    assert (clf.predict(scaler.transform(new)) == 0).mean() > 0.8


@pytest.mark.parametrize(
    "params", [dict(latent="prior"), dict(noise=False)], ids=["prior", "no-noise"]
)
def test_latent_and_noise_change_the_rows(cancer, params):
    X, y = cancer
    base = VAEOverSampler(estimator=_tiny_cvae(), random_state=0).fit_resample(X, y)
    other = VAEOverSampler(
        estimator=_tiny_cvae(), random_state=0, **params
    ).fit_resample(X, y)
    assert base[0].shape == other[0].shape
    assert not np.allclose(base[0][len(X) :], other[0][len(X) :])


def _new_minority(cancer, **params):
    X, y = cancer
    sampler = VAEOverSampler(estimator=_tiny_cvae(), random_state=0, **params)
    X_res, _ = sampler.fit_resample(X, y)
    return sampler, X[y == 0], X_res[len(X) :]


def test_no_step_no_neighbours_copies_real_rows(cancer):
    _, own, new = _new_minority(cancer, k_neighbors=0, step=0.0)
    # every new row is one of the class's real rows (up to float rounding)
    dist = np.abs(new[:, None, :] - own[None, :, :]).max(axis=2).min(axis=1)
    assert dist.max() < 1e-6 * np.abs(own).max()


def test_no_step_interpolates_between_neighbours(cancer):
    """step=0: SMOTE's rows, each on a segment between two rows of the class."""
    _, own, new = _new_minority(cancer, k_neighbors=3, step=0.0)
    scale = own.std(axis=0)
    own, new = own / scale, new / scale
    for row in new[:40]:
        d = own[None, :, :] - own[:, None, :]  # b - a for every pair (a, b)
        r = row - own[:, None, :]
        u = np.clip((r * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0, 1)
        gap = np.linalg.norm(r - u[..., None] * d, axis=-1)
        assert gap.min() < 1e-4
    assert np.abs(new - own.mean(axis=0)).max() > 0  # not all the same row


def test_no_step_takes_no_move_and_says_so(cancer):
    """step=0 leaves the model's move out: noise, avoid_others and
    keep_class shape nothing then, and were taken without a word (noise
    changed the rows, only by the draws it took before the others')."""
    _, _, plain = _new_minority(cancer, step=0.0)
    _, _, quiet = _new_minority(cancer, step=0.0, noise=False)
    np.testing.assert_array_equal(plain, quiet)
    for name in ("noise", "avoid_others", "keep_class"):
        value = name != "noise"
        with pytest.warns(UserWarning, match=f"{name}={value}\\) has no effect"):
            _new_minority(cancer, step=0.0, **{name: value})


def test_auto_step_matches_the_spread_of_the_class(cancer):
    sampler, own, new = _new_minority(cancer)
    step = sampler.step_[0]
    assert 0 <= step <= 1.5
    scale = own.std(axis=0)

    def spread(a):
        a = a / scale
        return ((a - a.mean(axis=0)) ** 2).sum(axis=1).mean()

    if step < 1.5:  # not at its cap: the new rows spread as the real ones
        assert spread(new) == pytest.approx(spread(own), rel=0.25)
    # a larger fixed step spreads the rows further
    _, _, far = _new_minority(cancer, step=3.0)
    assert spread(far) > spread(new)


def test_keep_class_drops_moves_to_another_class(cancer):
    """A dropped move leaves the base point: the row step=0 would give."""
    X, y = cancer
    model = _tiny_cvae(n_components=2, max_iter=20)

    def new_rows(**params):
        sampler = VAEOverSampler(estimator=model, random_state=0, **params)
        return sampler, sampler.fit_resample(X, y)[0][len(X) :]

    sampler, kept = new_rows(keep_class=True)
    _, free = new_rows()  # keep_class=False: every move kept
    _, bases = new_rows(step=0.0)
    step = sampler.step_[0]
    _, fixed = new_rows(step=step)  # same draws, same step
    np.testing.assert_allclose(fixed, free, rtol=1e-6)
    dropped = np.any(kept != free, axis=1)
    assert dropped.sum() == sampler.n_moves_dropped_[0] > 0
    np.testing.assert_allclose(kept[dropped], bases[dropped], rtol=1e-6)
    assert not np.allclose(free[dropped], bases[dropped])


def test_avoid_others_drops_moves_toward_the_other_class(cancer):
    """No move goes toward the base point's nearest row of another class."""
    from sklearn.neighbors import NearestNeighbors

    X, y = cancer

    inside = []

    def new_rows(**params):
        sampler = VAEOverSampler(estimator=_tiny_cvae(), random_state=0, **params)
        new = sampler.fit_resample(X, y)[0][len(X) :]
        inside.append(_unclipped(new, X))
        return sampler, (new - sampler.mean_) / sampler.scale_

    sampler, moved = new_rows(avoid_others=True)
    _, free = new_rows()  # the default: the moves as drawn
    _, bases = new_rows(step=0.0)  # same draws: the base points
    keep = np.logical_and.reduce(inside)
    assert keep.mean() > 0.2
    moved, free, bases = moved[keep], free[keep], bases[keep]
    others = (X[y == 1] - sampler.mean_) / sampler.scale_
    idx = NearestNeighbors(n_neighbors=1).fit(others).kneighbors(bases)[1][:, 0]
    toward = others[idx] - bases
    toward /= np.linalg.norm(toward, axis=1, keepdims=True)
    along = ((moved - bases) * toward).sum(axis=1)
    assert along.max() < 1e-4
    free_along = ((free - bases) * toward).sum(axis=1)
    assert (free_along > 1e-2).mean() > 0.2  # without it, many moves go there
    # the rest of each move is kept: the moves differ only along that line
    rest = (free - bases) - free_along[:, None] * toward
    np.testing.assert_allclose(
        (moved - bases) - along[:, None] * toward, rest, atol=1e-4
    )


@pytest.mark.parametrize("latent", ["posterior", "prior"])
def test_columns_of_few_values_keep_their_values(cancer, latent):
    X, y = cancer
    X = X.copy()
    X[:, 0] = X[:, 0] > np.median(X[:, 0])  # a flag
    X[:, 1] = np.round(X[:, 1] / 5) * 5  # a few multiples of 5
    X[:, 2] = 7.0  # a constant
    sampler = VAEOverSampler(estimator=_tiny_cvae(), latent=latent, random_state=0)
    new = sampler.fit_resample(X, y)[0][len(X) :]
    for j in range(3):
        assert set(np.unique(new[:, j])) <= set(np.unique(X[:, j]))
    assert len(np.unique(new[:, 0])) == 2
    # a column of many values is not rounded to the ones seen
    assert not set(np.unique(new[:, 5])) <= set(np.unique(X[:, 5]))


def test_prior_takes_no_neighbours_or_step(cancer):
    X, y = cancer
    for params in (
        dict(k_neighbors=2),
        dict(step=0.5),
        dict(avoid_others=True),
        dict(keep_class=True),
    ):
        sampler = VAEOverSampler(estimator=_tiny_cvae(max_iter=1), latent="prior")
        with pytest.raises(ValueError, match="latent='prior'"):
            sampler.set_params(**params).fit_resample(X, y)


def test_default_estimator_is_sized_from_the_data(wine3):
    X, y = wine3
    sampler = VAEOverSampler(random_state=0)
    sampler.fit(X, y)
    assert sampler.estimator_.n_components == X.shape[1] // 4
    assert sampler.estimator_.n_iter_ >= 1
    assert set(sampler.sampling_strategy_) == {0, 2}


def test_in_imblearn_pipeline(cancer):
    pytest.importorskip("imblearn")
    from imblearn.pipeline import make_pipeline
    from sklearn.model_selection import cross_val_score

    X, y = cancer
    pipe = make_pipeline(
        StandardScaler(),
        VAEOverSampler(estimator=_tiny_cvae(), random_state=0),
        LogisticRegression(max_iter=1000),
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.8
    assert cross_val_score(pipe, X, y, cv=2, scoring="balanced_accuracy").mean() > 0.7


@pytest.mark.parametrize(
    ("strategy", "error", "match"),
    [
        ("majority", ValueError, "majority"),
        ("most", ValueError, "sampling_strategy"),
        (0.01, ValueError, "asks for 3 rows .* no more than the 20"),
        (1.5, ValueError, "sampling_strategy"),
        ({7: 50}, ValueError, "not present in y"),
        ({0: 3}, ValueError, "cannot remove rows"),
        ({0: 30.5}, TypeError, "must be an int"),
        (lambda y: [1, 2], TypeError, "must return a dict"),
    ],
    ids=_id,
)
def test_bad_strategies(cancer, strategy, error, match):
    X, y = cancer
    with pytest.raises(error, match=match):
        VAEOverSampler(strategy, estimator=_tiny_cvae(max_iter=1)).fit_resample(X, y)


def test_float_strategy_needs_binary(wine3):
    X, y = wine3
    with pytest.raises(ValueError, match="binary"):
        VAEOverSampler(0.8, estimator=_tiny_cvae(max_iter=1)).fit_resample(X, y)


def test_bad_inputs(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="requires y to be passed"):
        VAEOverSampler().fit_resample(X, None)
    with pytest.raises(ValueError, match="at least 2 classes"):
        VAEOverSampler(estimator=_tiny_cvae(max_iter=1)).fit_resample(
            X, np.zeros(len(X), dtype=int)
        )
    with pytest.raises(ValueError, match="estimator"):
        VAEOverSampler(estimator=LogisticRegression()).fit_resample(X, y)
    with pytest.raises(TypeError, match="ConditionalVAE"):
        VAEOverSampler(estimator=VAE(max_iter=1)).fit_resample(X, y)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        VAEOverSampler(estimator=_tiny_cvae(max_iter=1)).fit_resample(X_nan, y)


def test_inputs_not_modified_and_deterministic(cancer):
    X, y = cancer
    X0, y0 = X.copy(), y.copy()
    a = VAEOverSampler(estimator=_tiny_cvae(), random_state=3).fit_resample(X, y)
    b = VAEOverSampler(estimator=_tiny_cvae(), random_state=3).fit_resample(X, y)
    c = VAEOverSampler(estimator=_tiny_cvae(), random_state=4).fit_resample(X, y)
    assert np.array_equal(X, X0)
    assert np.array_equal(y, y0)
    assert np.array_equal(a[0], b[0])
    assert np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_dataframe_in_dataframe_out(cancer):
    pd = pytest.importorskip("pandas")
    X, y = cancer
    frame = pd.DataFrame(X[:, :4], columns=["a", "b", "c", "d"])
    frame["n"] = np.arange(len(frame)) % 5  # an integer column
    target = pd.Series(np.where(y == 0, "malignant", "benign"), name="diagnosis")
    frame0 = frame.copy()
    X_res, y_res = VAEOverSampler(estimator=_tiny_cvae(), random_state=0).fit_resample(
        frame, target
    )
    pd.testing.assert_frame_equal(frame, frame0)
    assert isinstance(X_res, pd.DataFrame)
    assert isinstance(y_res, pd.Series)
    assert list(X_res.columns) == list(frame.columns)
    assert (X_res.dtypes == frame.dtypes).all()
    assert y_res.name == "diagnosis"
    assert y_res.value_counts().to_dict() == {"benign": 357, "malignant": 357}
    pd.testing.assert_frame_equal(X_res.iloc[: len(frame)], frame)


def test_dataframe_with_text_columns_is_refused(cancer):
    pd = pytest.importorskip("pandas")
    X, y = cancer
    frame = pd.DataFrame(X[:, :2], columns=["a", "b"])
    frame["kind"] = "x"
    with pytest.raises(TypeError, match="number columns"):
        VAEOverSampler(estimator=_tiny_cvae(max_iter=1)).fit_resample(frame, y)


@pytest.mark.parametrize("value", [1e39, -1e300])
def test_values_past_float32_are_refused(cancer, value):
    X, y = cancer
    X_bad = X.copy()
    X_bad[3, 2] = value
    sampler = VAEOverSampler(estimator=_tiny_cvae(max_iter=1))
    with pytest.raises(ValueError, match="float32"):
        sampler.fit_resample(X_bad, y)
    assert not hasattr(sampler, "estimator_")  # a failed first fit: unfitted


def test_a_failed_refit_keeps_the_previous_model(cancer, wine3):
    X, y = cancer
    sampler = VAEOverSampler(estimator=_tiny_cvae(max_iter=1)).fit(X, y)
    before = dict(vars(sampler))
    with pytest.raises(ValueError, match="cannot remove rows"):
        sampler.set_params(sampling_strategy={0: 1}).fit(*wine3)
    assert sampler.estimator_ is before["estimator_"]
    assert sampler.n_features_in_ == X.shape[1]


def test_sparse_in_sparse_out(cancer):
    sparse = pytest.importorskip("scipy.sparse")
    X, y = cancer
    X_sp = sparse.csr_matrix(np.where(np.median(X, axis=0) < X, X, 0.0))
    make = dict(estimator=_tiny_cvae(), random_state=0)
    X_res, y_res = VAEOverSampler(**make).fit_resample(X_sp, y)
    X_dense, y_dense = VAEOverSampler(**make).fit_resample(X_sp.toarray(), y)
    assert sparse.issparse(X_res)
    assert X_res.format == "csr"
    np.testing.assert_allclose(X_res.toarray(), X_dense)
    np.testing.assert_array_equal(y_res, y_dense)


def test_benchmark_tasks_and_their_halves():
    """bench_oversample.py: imbalanced tasks, split by name, both halves used."""
    module = load_benchmark("bench_oversample")
    half_of = load_benchmark("_suites").half_of
    tasks = module.tasks()
    halves = {name: half_of(name) for name in tasks}
    assert sum(h == "tuning" for h in halves.values()) >= 8
    assert sum(h == "reporting" for h in halves.values()) >= 8
    assert module.select(tasks, "tuning") == [n for n in tasks if halves[n] == "tuning"]
    for name, make in tasks.items():
        X, y = make(0)
        X1, y1 = make(1)
        assert set(np.unique(y)) == {0, 1}, name
        assert 10 <= y.sum() <= 0.12 * len(y), name  # rare, not too rare
        assert y.sum() == y1.sum(), name
        assert not np.array_equal(X, X1), name  # the cut depends on the seed


def test_benchmark_crossing_counts_new_rows_past_the_boundary():
    """bench_oversample.crossing: the share of new rows the reference calls
    another class (the measure behind ``--crossing``)."""
    module = load_benchmark("bench_oversample")
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 0.3, (20, 2)), rng.normal(2, 0.3, (20, 2))]
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    reference = LogisticRegression(class_weight="balanced").fit(X, y)
    new = np.array([[2.0, 2.0], [1.5, 2.5], [-2.0, -2.0], [3.0, 1.0]])
    assert module.crossing(reference, new, np.ones(4, int)) == 0.25
    assert module.crossing(reference, new, np.zeros(4, int)) == 0.75
    assert np.isnan(module.crossing(reference, new[:0], np.ones(0, int)))


def test_auto_step_spreads_no_more_than_the_class_across_the_boundary():
    """step="auto" shrinks the part of the moves along the normal of the
    linear boundary between the class and the others, toward the real rows'
    spread there (the rest of each move is kept); a fixed step keeps the
    moves as drawn. The rare class is narrow across the boundary (along
    the first column) and wide along it, where the decoder's noise, learnt
    on both classes, is not."""
    from skvae.oversample import _discriminant

    rng = np.random.RandomState(0)
    common = rng.normal(size=(200, 6))
    rare = rng.normal(size=(20, 6)) * np.r_[0.2, [1.5] * 5] + np.r_[3.0, [0.0] * 5]
    X, y = np.r_[common, rare], np.r_[np.zeros(200, int), np.ones(20, int)]

    inside = []

    def new_rows(**params):
        model = _tiny_cvae(max_iter=5)
        sampler = VAEOverSampler(estimator=model, random_state=0, **params)
        X_res, y_res = sampler.fit_resample(X, y)
        new = X_res[len(X) :][y_res[len(X) :] == 1]
        inside.append(_unclipped(new, X))
        return sampler, (new - sampler.mean_) / sampler.scale_

    sampler, auto = new_rows()
    own = (X[y == 1] - sampler.mean_) / sampler.scale_
    others = (X[y != 1] - sampler.mean_) / sampler.scale_
    w = _discriminant(own.astype(np.float32), others.astype(np.float32))
    assert abs(w[0]) > 0.9  # the boundary's normal: the first column
    _, fixed = new_rows(step=sampler.step_[1])  # same draws, moves as drawn
    assert (fixed @ w).var() > 5 * (own @ w).var()  # the moves spread there
    assert (auto @ w).var() < 1.4 * (own @ w).var()  # not with "auto"
    keep = np.logical_and.reduce(inside)
    assert keep.sum() > 20
    diff = (fixed - auto)[keep]  # the moves differ only along w
    np.testing.assert_allclose(diff - np.outer(diff @ w, w), 0, atol=1e-4)


def test_cap_along_gives_the_class_spread_along_the_direction():
    import torch

    from skvae.oversample import _cap_along

    gen = torch.Generator().manual_seed(0)
    w = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    own = torch.randn((400, 3), generator=gen)  # variance 1 along w
    base = 0.5 * torch.randn((4000, 3), generator=gen)  # variance 0.25
    move = 2.0 * torch.randn((4000, 3), generator=gen)
    capped = _cap_along(own, base, move, 1.0, w)
    new = base + capped
    assert float(new[:, 0].var()) == pytest.approx(float(own[:, 0].var()), rel=0.05)
    torch.testing.assert_close(capped[:, 1:], move[:, 1:])  # the rest is kept
    small = 0.1 * move  # already within the class's spread: unchanged
    torch.testing.assert_close(_cap_along(own, base, small, 1.0, w), small)


def test_benchmark_scores_give_the_recall_of_each_class():
    """bench_oversample.score: sensitivity and specificity (behind ``--rates``)
    are the recalls of the rare and of the common class on the test rows."""
    module = load_benchmark("bench_oversample")
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-1, 1, (60, 2)), rng.normal(1, 1, (20, 2))]
    y = np.r_[np.zeros(60, int), np.ones(20, int)]
    out = module.score(X, y, X, y, seed=0)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    pred = clf.predict(X)
    bacc, _, sens, spec = out["logistic"]
    assert sens == pytest.approx(np.mean(pred[y == 1] == 1))
    assert spec == pytest.approx(np.mean(pred[y == 0] == 0))
    assert 0 < sens < 1  # errors on both classes: the two recalls differ
    assert spec < 1
    assert bacc == pytest.approx((sens + spec) / 2)


def test_one_new_row_of_a_class_is_finite(wine3):
    """A class that gets a single new row: its spread along the boundary is
    a population variance (zero), not a sample one (undefined), so the row
    is a real row moved, never NaN, and no warning is raised."""
    X, y = wine3
    counts = np.bincount(y)
    label = int(np.argmin(counts))
    sampler = VAEOverSampler(
        estimator=_tiny_cvae(max_iter=5),
        sampling_strategy={label: int(counts[label]) + 1},
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X_res, y_res = sampler.fit_resample(X, y)
    # the tiny model's ConvergenceWarning aside, none
    assert not [w for w in caught if w.category is not ConvergenceWarning]
    assert X_res.shape == (len(X) + 1, X.shape[1])
    assert y_res[-1] == label
    assert np.isfinite(X_res).all()


def test_original_rows_come_back_exactly_in_their_dtype():
    """Integers past 2**53 (nanosecond times, ids) survive: the rows of X are
    returned as given, not through a float64 copy; integer arrays stay
    integer arrays, their new rows whole numbers within the range seen."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    y = np.r_[np.zeros(40, int), np.ones(10, int)]
    stamps = 1_700_000_000_000_000_000 + rng.randint(0, 10**6, 50) * 37
    frame = pd.DataFrame({"t_ns": stamps, "a": rng.normal(size=50) + y})
    sampler = VAEOverSampler(estimator=_tiny_cvae(), random_state=0)
    X_res, _ = sampler.fit_resample(frame, y)
    pd.testing.assert_frame_equal(X_res.iloc[:50], frame)
    assert X_res["t_ns"].dtype == np.int64
    top = np.iinfo(np.int64).max
    ages = np.c_[rng.randint(18, 90, 50), 2**60 + np.arange(50), top - np.arange(50)]
    X_res, _ = sampler.fit_resample(ages, y)
    assert X_res.dtype == ages.dtype
    assert len(X_res) == 80
    assert np.array_equal(X_res[:50], ages)
    assert (X_res.min(axis=0) >= ages.min(axis=0)).all()
    assert (X_res.max(axis=0) <= ages.max(axis=0)).all()
    flags = rng.uniform(size=(50, 3)) < 0.5 + 0.3 * y[:, None]
    X_res, _ = sampler.fit_resample(flags, y)
    assert X_res.dtype == bool
    assert np.array_equal(X_res[:50], flags)
    # float16 and big-endian arrays came back as float64 (>i4 as native)
    for dtype in (np.float16, ">f4", ">f8", ">i4"):
        given = (rng.normal(size=(50, 2)) * 10 + y[:, None]).astype(dtype)
        X_res, _ = sampler.fit_resample(given, y)
        assert X_res.dtype == given.dtype
        assert np.array_equal(X_res[:50], given)


def test_new_rows_stay_within_the_range_of_each_column():
    """A column that is always positive (an amount) gets no negative new
    values, however far the model's moves reach."""
    rng = np.random.RandomState(0)
    y = np.r_[np.zeros(150, int), np.ones(30, int)]
    X = np.c_[rng.exponential(3.0, 180) * (1 + 2 * y), rng.normal(size=180) + y]
    sampler = VAEOverSampler(estimator=_tiny_cvae(), step=5.0, random_state=0)
    new = sampler.fit_resample(X, y)[0][180:]
    assert (new.min(axis=0) >= X.min(axis=0)).all()
    assert (new.max(axis=0) <= X.max(axis=0)).all()
    # not a copy of the rows seen: the columns keep values of their own
    assert not np.isin(new[:, 0], X[:, 0]).all()


def test_few_rows_of_measurements_are_not_taken_for_codes():
    """On 18 rows each real column has at most 20 values; values seen once
    each are measurements (new rows take values of their own), while a
    column of repeated non-whole codes keeps its values."""
    rng = np.random.RandomState(0)
    y = np.r_[np.zeros(14, int), np.ones(4, int)]
    X = np.c_[rng.normal(size=(18, 2)), rng.choice([0.5, 1.5, 2.5], 18)]
    sampler = VAEOverSampler(estimator=_tiny_cvae(), random_state=0)
    new = sampler.fit_resample(X, y)[0][18:]
    for j in range(2):  # (a value at the column's least or largest: clipped)
        assert np.isin(new[:, j], X[:, j]).mean() < 0.5
    assert set(np.unique(new[:, 2])) <= {0.5, 1.5, 2.5}


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_integer_columns_stay_within_their_range(dtype):
    """A DataFrame's integer column comes back as whole numbers within the
    range seen (a count never negative, a uint8 never past 255)."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    y = np.r_[np.zeros(180, int), np.ones(20, int)]
    counts = np.round(np.exp(rng.normal(2.5, 1, 200)) * np.where(y, 0.3, 1))
    frame = pd.DataFrame({"v": counts.astype(dtype), "f": rng.normal(size=200) + y})
    sampler = VAEOverSampler(estimator=_tiny_cvae(max_iter=10), random_state=0)
    X_res, _ = sampler.fit_resample(frame, y)
    assert X_res["v"].dtype == dtype
    assert X_res["v"].min() >= frame["v"].min()
    assert X_res["v"].max() <= frame["v"].max()


def test_auto_step_does_not_depend_on_the_rows_asked_for(wine3):
    """The spreads that set step="auto" come from at least 64 draws, so a
    class gets the same step whether one or forty rows are asked for."""
    X, y = wine3
    steps = []
    for extra in (1, 2, 5, 40):
        sampler = VAEOverSampler(
            estimator=_tiny_cvae(),
            sampling_strategy={0: 8 + extra},
            random_state=0,
        )
        X_res, y_res = sampler.fit_resample(X, y)
        assert np.sum(y_res == 0) == 8 + extra
        assert np.isfinite(X_res).all()
        steps.append(sampler.step_[0])
    assert steps == [steps[0]] * 4


def test_cap_columns_bounds_each_column_at_a_multiple_of_the_class_spread():
    import torch

    from skvae.oversample import _cap_columns

    gen = torch.Generator().manual_seed(0)
    own = torch.randn((400, 3), generator=gen) * torch.tensor([1.0, 0.05, 2.0])
    move = torch.randn((4000, 3), generator=gen)
    capped = _cap_columns(own, move, 2.0, most=3.0)
    # the tight column's moves spread three times the class; the others kept
    spread = float((2.0 * capped[:, 1]).std())
    assert spread == pytest.approx(3.0 * float(own[:, 1].std()), rel=0.01)
    torch.testing.assert_close(capped[:, [0, 2]], move[:, [0, 2]])


def test_an_outlier_of_another_class_leaves_new_rows_near_their_class():
    # one majority value of 1e9 set the column's scale: the new minority
    # rows' moves there were of the outlier's size (values of 1e5 to 1e7,
    # or the column's minimum once clipped)
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    y = np.r_[np.zeros(180, int), np.ones(20, int)]
    X[y == 1] += 3
    X[0, 0] = 1e9
    sampler = VAEOverSampler(estimator=_tiny_cvae(max_iter=5), random_state=0)
    new = sampler.fit_resample(X, y)[0][200:]
    real = X[y == 1, 0]
    assert new[:, 0].std() < 4 * real.std()  # (main: 1e6 times)
    assert abs(np.median(new[:, 0]) - np.median(real)) < real.std()
