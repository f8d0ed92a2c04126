"""Sample weights: a weight of 2 is the row twice, 0 is no row; routing."""

import copy
from typing import NamedTuple

import numpy as np
import pytest
import sklearn
import torch
from conftest import tiny
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_validate

from skvae import (
    VAE,
    VQVAE,
    WAE,
    ConditionalVAE,
    SemiSupervisedVAE,
    VaDE,
    VAEImputer,
    VAEOutlierDetector,
)
from skvae._training import Trainer
from skvae.nn.base import StepContext


# --------------------------------------------------------------- the maths
class _Terms(NamedTuple):
    loss: torch.Tensor


class _Quadratic(torch.nn.Module):
    """A deterministic per-row loss, so that sums can be compared exactly."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(3, 1)

    def forward(self, x, ctx: StepContext):
        return _Terms(loss=(self.lin(x).squeeze(1) - 1.0) ** 2)


def _one_full_batch_step(X, weight=None):
    module = _Quadratic()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    trainer = Trainer(module, optimizer, batch_size=X.shape[0], seed=0)
    data = [torch.as_tensor(X, dtype=torch.float32)]
    w = None if weight is None else torch.as_tensor(weight, dtype=torch.float32)
    sums, _ = trainer.train_epoch(data, 0, w)
    total = X.shape[0] if weight is None else float(np.sum(weight))
    loss = float(sums["loss"]) / total
    return loss, [p.detach().clone() for p in module.parameters()]


@pytest.fixture
def rows():
    return np.random.RandomState(0).normal(size=(7, 3))


def test_weight_two_is_the_row_twice_on_a_full_batch(rows):
    weight = np.array([2, 1, 0, 3, 1, 1, 2], dtype=float)
    duplicated = np.repeat(rows, weight.astype(int), axis=0)
    loss_w, params_w = _one_full_batch_step(rows, weight)
    loss_d, params_d = _one_full_batch_step(duplicated)
    assert loss_w == pytest.approx(loss_d, rel=1e-6)
    for a, b in zip(params_w, params_d, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_weight_zero_is_no_row_on_a_full_batch(rows):
    weight = np.array([1, 1, 0, 1, 0, 1, 1], dtype=float)
    loss_w, params_w = _one_full_batch_step(rows, weight)
    loss_a, params_a = _one_full_batch_step(rows[weight > 0])
    assert loss_w == pytest.approx(loss_a, rel=1e-6)
    for a, b in zip(params_w, params_a, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_weights_change_the_step(rows):
    # the test above could not fail if weights were ignored: they are not
    weight = np.array([5, 1, 0, 1, 0, 1, 1], dtype=float)
    _, params_w = _one_full_batch_step(rows, weight)
    _, params_1 = _one_full_batch_step(rows)
    assert not torch.allclose(params_w[0], params_1[0])


def test_minibatch_objective_is_unbiased(rows):
    """Over every batch of an epoch, the weighted objective sums to the mean."""
    from skvae._training import _batch_mean

    losses = torch.as_tensor(rows[:, 0] ** 2)
    weight = torch.tensor([2.0, 1, 0, 3, 1, 1, 2])
    w_mean = weight.mean()
    batches = [slice(0, 3), slice(3, 6), slice(6, 7)]
    # each batch's objective times its share of the rows: the epoch's average
    epoch = sum(
        _batch_mean(losses[b], weight[b], w_mean) * (b.stop - b.start) / 7
        for b in batches
    )
    assert float(epoch) == pytest.approx(float((weight * losses).sum() / weight.sum()))


def test_validation_loss_is_weighted(rows):
    module = _Quadratic()
    trainer = Trainer(
        module, torch.optim.SGD(module.parameters(), lr=0.1), batch_size=7, seed=0
    )
    data = [torch.as_tensor(rows, dtype=torch.float32)]
    weight = torch.tensor([2.0, 1, 0, 3, 1, 1, 2])
    duplicated = [torch.as_tensor(np.repeat(rows, [2, 1, 0, 3, 1, 1, 2], axis=0))]
    weighted = trainer.evaluate(data, weight=weight)["loss"]
    plain = trainer.evaluate([duplicated[0].float()])["loss"]
    torch.testing.assert_close(weighted, plain, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------ whole fits
@pytest.fixture(scope="module")
def digits_small():
    data = load_digits()
    return data.data[:300] / 16.0, data.target[:300]


def _mean_score(X, weight, X_eval):
    """Mean score of X_eval after full-batch fits, averaged over two seeds."""
    scores = []
    for seed in (0, 1):
        vae = VAE(
            n_components=4,
            hidden_layer_sizes=(32,),
            likelihood="bernoulli",
            learning_rate_init=0.01,
            max_iter=30,
            batch_size=X.shape[0],  # one step per epoch, whatever the rows
            kl_warmup=0,
            random_state=seed,
            device="cpu",
        )
        with pytest.warns(sklearn.exceptions.ConvergenceWarning):
            vae.fit(X, sample_weight=weight)
        scores.append(vae.score_samples(X_eval).mean())
    return float(np.mean(scores))


def test_weighted_fit_agrees_with_duplicated_rows(digits_small):
    X, y = digits_small
    # rows of digits 0 and 1 count twice, the others not at all
    kept = y < 2
    weight = np.where(kept, 2.0, 0.0)
    weighted = _mean_score(X, weight, X[kept])
    duplicated = _mean_score(np.repeat(X[kept], 2, axis=0), None, X[kept])
    unweighted = _mean_score(X, None, X[kept])
    # the same objective up to the noise draws (measured: -21.78, -21.96 and
    # -26.84 nats): much closer to each other than to the fit that weighs
    # every row alike
    assert abs(weighted - duplicated) < 0.25 * abs(weighted - unweighted)


def test_all_ones_equal_no_weights(digits_small):
    X, _ = digits_small
    a = tiny(VAE).fit(X, sample_weight=np.ones(len(X)))
    b = tiny(VAE).fit(X)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-5, atol=1e-6)


def test_weights_are_scale_free_and_not_modified(digits_small):
    X, _ = digits_small
    weight = np.linspace(0.0, 2.0, len(X))
    given = weight.copy()
    a = tiny(VAE).fit(X, sample_weight=weight)
    b = tiny(VAE).fit(X, sample_weight=1000.0 * weight)
    np.testing.assert_array_equal(weight, given)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-4, atol=1e-5)


def test_early_stopping_validation_loss_is_weighted(digits_small):
    X, _ = digits_small
    weight = np.ones(len(X))
    a = tiny(VAE, early_stopping=True).fit(X, sample_weight=weight)
    weight[::2] = 0.0  # half the validation rows drop out of its loss
    b = tiny(VAE, early_stopping=True).fit(X, sample_weight=weight)
    assert a.history_[0]["valid_loss"] != b.history_[0]["valid_loss"]


def test_partial_fit_takes_weights(digits_small, tmp_path):
    X, _ = digits_small
    weight = np.arange(len(X)) % 3
    a = tiny(VAE)
    a.partial_fit(X, sample_weight=weight)
    # an out-of-core array is read in blocks, its weights with them
    path = tmp_path / "x.npy"
    np.save(path, X)
    b = tiny(VAE)
    b._STREAM_ROWS = 1000  # one block: the same epoch as in memory
    b.partial_fit(np.load(path, mmap_mode="r"), sample_weight=weight)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


@pytest.mark.parametrize(
    ("est", "match"),
    [
        (tiny(WAE), "MMD"),
        (tiny(VaDE), "mixture prior"),
        (tiny(VQVAE), "codebook"),
        (tiny(VAE, tc_weight=1.0), "tc_weight"),
        (tiny(VAE, free_bits=0.1), "free_bits"),
        (tiny(VAE, kl_schedule="capacity"), "capacity"),
        (tiny(SemiSupervisedVAE), "balance_weight"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_objectives_not_over_rows_refuse_weights(est, match, digits_small):
    X, y = digits_small
    with pytest.raises(ValueError, match=f"does not take sample_weight: .*{match}"):
        est.fit(X, y, sample_weight=np.ones(len(X)))
    assert not hasattr(est, "module_")


@pytest.mark.parametrize(
    ("weight", "match"),
    [
        (-np.ones(300), "Negative values"),
        (np.ones(10), "sample_weight.shape"),
        (np.zeros(300), "non-zero"),
        (np.full(300, np.nan), "NaN"),
        (np.nan, "finite"),  # a scalar: was "every row has weight 0"
    ],
)
def test_bad_weights_are_refused(weight, match, digits_small):
    X, _ = digits_small
    with pytest.raises(ValueError, match=match):
        tiny(VAE).fit(X, sample_weight=weight)


@pytest.mark.parametrize("weight", [np.nan, np.inf])
def test_a_scalar_weight_must_be_finite_everywhere(weight, digits_small):
    # a scalar is broadcast without scikit-learn's check: score gave NaN
    # (np.inf), the detector failed inside NearestNeighbors (np.nan)
    X, _ = digits_small
    model = tiny(VAE).fit(X)
    with pytest.raises(ValueError, match="finite"):
        model.score(X, sample_weight=weight)
    with pytest.raises(ValueError, match="finite"):
        VAEOutlierDetector(random_state=0).fit(X, sample_weight=weight)


def test_a_split_with_only_zero_weights_is_refused(digits_small):
    X, _ = digits_small
    est = tiny(VAE, early_stopping=True, validation_fraction=0.5)
    weight = np.zeros(len(X))
    weight[0] = 1.0
    with pytest.raises(ValueError, match="split has weight 0"):
        est.fit(X, sample_weight=weight)


def test_labelled_models_take_weights(digits_small):
    X, y = digits_small
    weight = np.where(y < 5, 2.0, 0.5)
    a = tiny(ConditionalVAE).fit(X, y, sample_weight=weight)
    b = tiny(ConditionalVAE).fit(X, y)
    assert a.history_[-1]["train_loss"] != b.history_[-1]["train_loss"]
    y_semi = np.where(np.arange(len(y)) < 50, y, -1)
    semi = tiny(SemiSupervisedVAE, balance_weight=0.0, max_iter=2)
    semi.fit(X, y_semi, sample_weight=weight)
    semi.partial_fit(X, y_semi, sample_weight=weight)


# ------------------------------------------------------------------ routing
class RecordingVAE(VAE):
    """A VAE that records the weights each of its fits receives."""

    seen: list = []

    def fit(self, X, y=None, sample_weight=None):
        """Record ``sample_weight``, then fit."""
        RecordingVAE.seen.append(
            None if sample_weight is None else np.array(sample_weight)
        )
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def recording():
    RecordingVAE.seen = []
    return RecordingVAE.seen


def test_cross_validate_routes_weights(digits_small, recording):
    X, _ = digits_small
    weight = np.arange(len(X), dtype=float)
    with sklearn.config_context(enable_metadata_routing=True):
        est = RecordingVAE(**tiny(VAE).get_params()).set_fit_request(sample_weight=True)
        cross_validate(est, X, cv=3, params={"sample_weight": weight})
    assert len(recording) == 3
    routed = np.sort(np.concatenate(recording))
    # each row is in two of the three training folds, with its weight
    np.testing.assert_array_equal(routed, np.sort(np.repeat(weight, 2)))


def test_unrequested_weights_are_an_error(digits_small):
    X, _ = digits_small
    with (
        sklearn.config_context(enable_metadata_routing=True),
        pytest.raises(ValueError, match="sample_weight"),
    ):
        cross_validate(tiny(VAE), X, cv=2, params={"sample_weight": np.ones(len(X))})


def test_score_takes_weights_so_a_pipeline_routes_them(digits_small):
    """score took no sample_weight: weights routed through a Pipeline ending
    in a VAE made every test score NaN (the Pipeline could not route them)."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = digits_small
    weight = np.linspace(0.5, 1.5, len(X))
    vae = tiny(VAE).fit(X)
    scores = vae.score_samples(X)
    assert vae.score(X, sample_weight=weight) == pytest.approx(
        np.average(scores, weights=weight)
    )
    assert vae.score(X) == pytest.approx(scores.mean())
    from skvae._base import _weighted_mean  # a row of weight 0 is no row

    assert _weighted_mean(np.array([-np.inf, 1.0, 2.0]), [0, 1, 1]) == 1.5
    labelled = tiny(ConditionalVAE).fit(X, y % 2)
    assert labelled.score(X, y % 2, sample_weight=weight) == pytest.approx(
        np.average(labelled.score_samples(X, y % 2), weights=weight)
    )
    with sklearn.config_context(enable_metadata_routing=True):
        model = tiny(VAE).set_fit_request(sample_weight=True)
        model.set_score_request(sample_weight=True)
        pipe = Pipeline([("scale", MinMaxScaler()), ("vae", model)])
        found = cross_validate(pipe, X, cv=3, params={"sample_weight": weight})
    assert np.isfinite(found["test_score"]).all()


def test_grid_search_routes_weights(digits_small, recording):
    X, _ = digits_small
    weight = np.linspace(0.5, 1.5, len(X))
    with sklearn.config_context(enable_metadata_routing=True):
        est = RecordingVAE(**tiny(VAE).get_params()).set_fit_request(sample_weight=True)
        search = GridSearchCV(est, {"beta": [0.5, 1.0]}, cv=2)
        search.fit(X, sample_weight=weight)
    assert len(recording) == 2 * 2 + 1  # every candidate and fold, then refit
    assert all(w is not None for w in recording)
    np.testing.assert_array_equal(recording[-1], weight)


def test_detector_and_imputer_pass_weights_on(digits_small, recording):
    X, _ = digits_small
    weight = np.where(np.arange(len(X)) % 3 == 0, 0.0, 1.0)
    inner = RecordingVAE(**tiny(VAE).get_params())
    VAEOutlierDetector(estimator=inner, trim_fraction=0).fit(X, sample_weight=weight)
    np.testing.assert_array_equal(recording[-1], weight)
    holes = X.copy()
    holes[::7, 3] = np.nan
    VAEImputer(estimator=copy.deepcopy(inner)).fit(holes, sample_weight=weight)
    np.testing.assert_array_equal(recording[-1], weight)
    with sklearn.config_context(enable_metadata_routing=True):
        detector = VAEOutlierDetector(estimator=inner, trim_fraction=0)
        detector.set_fit_request(sample_weight=True)
        search = GridSearchCV(
            detector, {"contamination": [0.1]}, cv=2, scoring=_score_mean
        )
        search.fit(X, sample_weight=weight)
    assert all(w is not None for w in recording[2:])


def _score_mean(est, X, y=None):
    return float(np.mean(est.score_samples(X)))


def test_detector_threshold_is_weighted(digits_small):
    X, _ = digits_small
    weight = np.ones(len(X))
    base = dict(estimator=tiny(VAE), trim_fraction=0, contamination=0.1)
    plain = VAEOutlierDetector(**base).fit(X, sample_weight=weight)
    scores = plain.score_samples(X)
    weight[scores < np.median(scores)] = 0.0  # only the typical half counts
    weighted = VAEOutlierDetector(**base).fit(X, sample_weight=weight)
    # the threshold is the weighted quantile: of the typical half's scores
    from skvae.outlier import _percentiles, _ranked

    scores = _ranked(weighted.training_scores_)
    assert weighted.offset_ > _percentiles(scores, [10.0], None)[0]
    assert weighted.offset_ >= np.min(scores[weight > 0])


def test_detector_rows_of_weight_zero_are_no_ones_neighbours():
    X = load_digits().data[:200] / 16
    weight = np.ones(len(X))
    weight[:50] = 0.0
    det = VAEOutlierDetector(tiny(VAE), trim_fraction=0, random_state=0)
    det.fit(X, sample_weight=weight)
    assert det.neighbor_rows_.shape == (150, X.shape[1])
    np.testing.assert_array_equal(det.neighbor_rows_, X[50:])


def test_detector_trims_a_share_of_the_weight(monkeypatch):
    # trim_fraction=0.1 of 200 rows left out 20, 10 of them rows of weight 0:
    # two of the 10 weighed outliers then trained the model
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    X[:20] += rng.normal(scale=30.0, size=(20, 4))  # far from all others
    X[10:20] += 200.0  # of them, junk rows, of weight 0; the rest weighed
    weight = np.ones(200)
    weight[10:20] = 0.0
    kept = []
    screened = VAEOutlierDetector._screened

    def record(self, *args, **kwargs):
        keep, distances = screened(self, *args, **kwargs)
        kept.append(keep)
        return keep, distances

    monkeypatch.setattr(VAEOutlierDetector, "_screened", record)
    det = VAEOutlierDetector(tiny(VAE), trim_fraction=0.1, random_state=0)
    det.fit(X, sample_weight=weight)
    left_out = np.setdiff1d(np.arange(200), kept[-1])
    assert set(range(10)) <= set(left_out)  # every weighed outlier
    # a tenth of the weight (19 rows of weight 1), and the junk
    assert np.count_nonzero(weight[left_out]) == 19
    # weight 2 counts as two rows: 10 outliers of weight 2 are a tenth
    weight = np.ones(200)
    weight[:10] = 2.0
    det.fit(X[np.r_[0:10, 20:200]], sample_weight=weight[np.r_[0:10, 20:200]])
    assert np.array_equal(np.setdiff1d(np.arange(190), kept[-1]), np.arange(10))
    # without weights, as before: int(0.1 * rows) left out
    det.fit(X)
    assert len(kept[-1]) == 180


def test_imputer_scaling_is_weighted(digits_small):
    # the imputer's standardisation read rows of weight 0: one such row at
    # 100 moved every other row's fill (by up to 3.75 with a given VAE)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    X[:, 1] += X[:, 0]
    X[rng.uniform(size=X.shape) < 0.2] = np.nan
    weight = np.ones(200)
    weight[0] = 0.0
    far = X.copy()
    far[0] = 100.0
    for model in (tiny(VAE), None):
        a = VAEImputer(model, random_state=0).fit(X, sample_weight=weight)
        b = VAEImputer(model, random_state=0).fit(far, sample_weight=weight)
        np.testing.assert_array_equal(a._shift, b._shift)
        np.testing.assert_array_equal(a._scale_, b._scale_)
        np.testing.assert_allclose(
            a.transform(X[1:50]), b.transform(X[1:50]), atol=1e-4
        )
    # weight 2 is the row twice; a scalar weight is every row's
    twice = np.ones(200)
    twice[:20] = 2.0
    a = VAEImputer(tiny(VAE), random_state=0).fit(X, sample_weight=twice)
    b = VAEImputer(tiny(VAE), random_state=0).fit(np.r_[X, X[:20]])
    np.testing.assert_allclose(a._shift, b._shift, rtol=1e-12)
    np.testing.assert_allclose(a._scale_, b._scale_, rtol=1e-12)
    a = VAEImputer(random_state=0).fit(X, sample_weight=2.0)
    np.testing.assert_allclose(a._scale_, np.nanstd(X, axis=0), rtol=1e-12)
    assert np.isfinite(a.transform(X)).all()


def test_detector_percentiles_count_a_weight_of_two_as_two_rows():
    # unequal weights took a step-function percentile, equal ones
    # np.percentile's linear one: weight 2 and a copy gave thresholds a gap
    # between two scores apart
    from skvae.outlier import _percentiles

    rng = np.random.default_rng(0)
    q = [0.0, 10.0, 25.0, 50.0, 75.0, 100.0]
    for _ in range(200):
        n = int(rng.integers(3, 30))
        scores = rng.normal(size=n)
        weight = rng.integers(0, 4, size=n).astype(float)
        weight[0] = 1.0  # counts are weights over the least positive one
        copies = np.repeat(scores, weight.astype(int))
        np.testing.assert_allclose(
            _percentiles(scores, q, 0.37 * weight), np.percentile(copies, q), atol=1e-12
        )
        # other weights: from the least score to the largest, never falling
        other = _percentiles(scores, q, rng.uniform(0.1, 3.0, size=n))
        assert other[0] == scores.min()
        assert other[-1] == scores.max()
        assert np.all(np.diff(other) >= 0)


def test_rows_of_weight_zero_do_not_set_a_tables_ranges_or_quantile_maps():
    # a junk row of weight 0 (x = 1e6, n = 10**6) set the quantile map's top
    # and the integer range: 1 draw in 100 came out at 1e6
    import pandas as pd

    rng = np.random.RandomState(0)
    table = pd.DataFrame({"x": rng.gamma(2.0, size=120), "n": rng.poisson(3, 120)})
    table.loc[0, ["x", "n"]] = [1e6, 10**6]
    weight = np.ones(120)
    weight[0] = 0.0
    spec = {"quantile": ["x"]}
    model = tiny(VAE, likelihood=spec).fit(table, sample_weight=weight)
    encoder = model.table_encoder_
    rest = table.iloc[1:]
    assert encoder._ranges["n"] == (rest["n"].min(), rest["n"].max())
    assert encoder._quantiles["x"][0].max() == rest["x"].max()
    rows = model.sample(500, random_state=0, noise=True)
    assert rows["x"].max() <= rest["x"].max()
    # weight 2 is the row twice; the imputer clips to the weighted range too
    twice = np.ones(120)
    twice[1:11] = 2.0
    doubled = pd.concat([rest, rest.iloc[:10]], ignore_index=True)
    knots = tiny(VAE, likelihood=spec).fit(rest, sample_weight=twice[1:])
    again = tiny(VAE, likelihood=spec).fit(doubled)
    for a, b in zip(
        knots.table_encoder_._quantiles["x"],
        again.table_encoder_._quantiles["x"],
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    holes = table.astype({"n": "Int64"})
    holes.loc[5:30, "n"] = pd.NA
    imputer = VAEImputer(tiny(VAE), random_state=0).fit(holes, sample_weight=weight)
    assert imputer.table_encoder_._ranges["n"][1] == rest["n"].max()


def test_rows_of_weight_zero_do_not_set_the_variance_floor():
    # one row of weight 0 at 1e3 raised the floor 5,000-fold: every learnt
    # variance stuck at it
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    far = X.copy()
    far[0] = 1e3
    weight = np.ones(200)
    weight[0] = 0.0
    for likelihood in ("gaussian", "auto"):
        a = tiny(VAE, likelihood=likelihood).fit(X[1:])
        b = tiny(VAE, likelihood=likelihood).fit(far, sample_weight=weight)
        floors = [
            m.min_variance
            for model in (a, b)
            for m in model.module_.likelihood.modules()
            if hasattr(m, "min_variance")
        ]
        assert len(floors) == 2
        assert floors[0] == pytest.approx(floors[1], rel=1e-12)


def test_negligible_and_equal_weights_count_as_none_or_alike(monkeypatch):
    # a weight of 1e-310 beside 1: its ratio overflowed, and every threshold
    # came out at one score; equal weights of 0.1 trimmed another row count
    import pandas as pd

    from skvae._frames import _quantile_knots
    from skvae.outlier import _percentiles

    rng = np.random.RandomState(0)
    scores = rng.normal(size=10)
    weight = np.ones(10)
    weight[0] = 1e-310
    q = [10.0, 50.0, 90.0]
    np.testing.assert_allclose(
        _percentiles(scores, q, weight), np.percentile(scores[1:], q), rtol=1e-12
    )
    knots = _quantile_knots(pd.Series(scores), "x", weight)
    plain = _quantile_knots(pd.Series(scores[1:]), "x")
    for a, b in zip(knots, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    kept = []
    screened = VAEOutlierDetector._screened

    def record(self, *args, **kwargs):
        result = screened(self, *args, **kwargs)
        kept.append(result[0])
        return result

    monkeypatch.setattr(VAEOutlierDetector, "_screened", record)
    X = rng.normal(size=(10, 3))  # (the sum of ten 0.1s is under 1)
    det = VAEOutlierDetector(tiny(VAE), trim_fraction=0.3, n_neighbors=2)
    det.fit(X)
    det.fit(X, sample_weight=np.full(10, 0.1))
    assert len(kept[0]) == len(kept[1]) == 7


def test_a_column_seen_only_at_weight_zero_fits_without_a_numpy_warning():
    import warnings

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    X[5:, 2] = np.nan
    weight = np.ones(60)
    weight[:5] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = tiny(VAE, missing="mask").fit(X, sample_weight=weight)
    assert np.isfinite(model.module_.likelihood.min_variance)


def test_variance_floor_of_some_rows_in_blocks_is_theirs(monkeypatch):
    # a large table's floor is computed block by block, never copying X
    import skvae._columns as columns

    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 4)) * [1.0, 2.0, 3.0, 4.0]
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    rows = np.sort(rng.choice(1000, 700, replace=False))
    expected = columns.variance_floor(X[rows], 0.01)
    monkeypatch.setattr(columns, "_VARIANCE_ROWS", 100)
    assert columns.variance_floor(X, 0.01, rows) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(
        columns._blocked_nanvar(X, rows), np.nanvar(X[rows], axis=0), rtol=1e-12
    )


def test_a_row_of_tiny_weight_leaves_the_variance_floor_alone():
    # the floor counted every row of positive weight alike: 60 rows of
    # weight 1e-8 and spread 30 raised it 100-fold
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(size=(200, 4)), 30.0 * rng.normal(size=(60, 4))]
    weight = np.r_[np.ones(200), np.full(60, 1e-8)]
    floor = tiny(VAE).fit(X, sample_weight=weight).module_.likelihood.min_variance
    kept = tiny(VAE).fit(X[:200]).module_.likelihood.min_variance
    assert float(floor) == pytest.approx(float(kept), rel=1e-5)
    # and a row of weight 2 counts twice, as its copy does
    twice = np.r_[np.full(10, 2.0), np.ones(190)]
    floor = tiny(VAE).fit(X[:200], sample_weight=twice).module_.likelihood.min_variance
    copies = tiny(VAE).fit(np.r_[X[:10], X[:200]]).module_.likelihood.min_variance
    assert float(floor) == pytest.approx(float(copies), rel=1e-9)
