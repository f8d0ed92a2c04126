"""VAEOutlierDetector: sklearn's outlier API, and it finds planted outliers."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from conftest import tiny_vae
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skvae import VAE, VAEOutlierDetector, default_detector_vae


def _one_class(digits, inlier, share, seed):
    X, y = digits
    rng = np.random.RandomState(seed)
    inliers = X[y == inlier]
    others = X[y != inlier]
    n_out = math.ceil(share / (1 - share) * len(inliers))
    outliers = others[rng.choice(len(others), n_out, replace=False)]
    return np.vstack([inliers, outliers]), np.r_[np.zeros(len(inliers)), np.ones(n_out)]


@pytest.fixture(scope="module")
def task(digits):
    return _one_class(digits, inlier=3, share=0.05, seed=0)


@pytest.fixture(scope="module")
def fitted(task):
    X, _ = task
    return VAEOutlierDetector(random_state=0).fit(X)


def test_recovers_planted_outliers_unsupervised(task, fitted):
    X, is_outlier = task
    auc = roc_auc_score(is_outlier, -fitted.score_samples(X))
    assert auc > 0.9


def test_novelty_setting_scores_new_rows(digits):
    X, y = digits
    rng = np.random.RandomState(0)
    zeros = X[y == 0]
    det = VAEOutlierDetector(random_state=0).fit(zeros[:140])
    new_inliers = zeros[140:]
    new_outliers = X[y != 0][rng.choice((y != 0).sum(), 40, replace=False)]
    scores = det.score_samples(np.vstack([new_inliers, new_outliers]))
    labels = np.r_[np.zeros(len(new_inliers)), np.ones(40)]
    assert roc_auc_score(labels, -scores) > 0.95


def test_decision_function_and_predict_follow_sklearn(task, fitted):
    X, _ = task
    np.testing.assert_allclose(
        fitted.decision_function(X), fitted.score_samples(X) - fitted.offset_
    )
    pred = fitted.predict(X)
    assert set(np.unique(pred)) <= {-1, 1}
    np.testing.assert_array_equal(pred == -1, fitted.decision_function(X) < 0)
    # Same sign convention as IsolationForest: the most typical rows are inliers.
    iso = IsolationForest(random_state=0).fit(X)
    typical = np.argsort(iso.score_samples(X))[-20:]
    assert np.all(pred[typical] == 1)


def test_auto_contamination_is_tukeys_lower_fence(task, fitted):
    X, _ = task
    scores = fitted.score_samples(X)
    q1, q3 = np.percentile(scores, [25, 75])
    assert fitted.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1))


@pytest.mark.parametrize("contamination", [0.05, 0.2])
def test_predict_flags_about_contamination(task, contamination):
    X, _ = task
    det = VAEOutlierDetector(
        VAE(max_iter=20, random_state=0), contamination=contamination
    ).fit(X)
    share = np.mean(det.predict(X) == -1)
    assert share == pytest.approx(contamination, abs=1.5 / len(X))
    np.testing.assert_array_equal(det.fit_predict(X), det.predict(X))


@pytest.mark.parametrize("score", ["likelihood", "reconstruction", "latent"])
def test_every_score_finds_the_outliers(task, score):
    X, is_outlier = task
    det = VAEOutlierDetector(score_type=score, random_state=0).fit(X)
    scores = det.score_samples(X)
    assert scores.shape == (len(X),)
    assert np.all(np.isfinite(scores))
    assert roc_auc_score(is_outlier, -scores) > 0.8


def _breast_cancer_task(seed):
    """Benign tumours plus 10% malignant ones, standardised, as bench_outliers."""
    data = load_breast_cancer()
    X, is_outlier = _one_class((data.data, data.target), 1, 0.10, seed)
    return StandardScaler().fit_transform(X), is_outlier


def test_weak_kl_finds_outliers_along_the_main_directions():
    # Malignant rows are extreme along the directions benign rows vary in
    # most; a VAE with beta=1 reconstructs them well and misses many. The
    # default's beta=0.1 charges codes that lie far out (the likelihood
    # alone, n_neighbors=0, to see the model's part).
    default, beta_one = [], []
    for seed in range(3):
        X, is_outlier = _breast_cancer_task(seed)
        det = VAEOutlierDetector(n_neighbors=0, random_state=0).fit(X)
        default.append(roc_auc_score(is_outlier, -det.score_samples(X)))
        vae = default_detector_vae(*X.shape, random_state=0).set_params(beta=1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            det = VAEOutlierDetector(vae, n_neighbors=0).fit(X)
        beta_one.append(roc_auc_score(is_outlier, -det.score_samples(X)))
    # with the short default budget (150 steps) the margin is small: 0.884
    # against 0.875 (it was 0.02 with the former 400 steps)
    assert np.mean(default) > 0.86
    assert np.mean(default) > np.mean(beta_one)


def test_pipeline_with_minmax_scaler(task):
    X, is_outlier = task
    pipe = Pipeline(
        [("scale", MinMaxScaler()), ("detect", VAEOutlierDetector(random_state=0))]
    )
    labels = pipe.fit_predict(X * 16)
    assert labels.shape == (len(X),)
    assert roc_auc_score(is_outlier, -pipe.score_samples(X * 16)) > 0.9
    assert pipe.decision_function(X * 16).shape == (len(X),)


def test_grid_search_with_a_user_scorer(digits):
    X_fit, _ = _one_class(digits, inlier=5, share=0.05, seed=1)
    X_val, y_val = _one_class(digits, inlier=5, share=0.2, seed=2)

    def auc_on_validation(estimator, X, y=None):
        return roc_auc_score(y_val, -estimator.score_samples(X_val))

    grid = GridSearchCV(
        VAEOutlierDetector(VAE(max_iter=20, random_state=0)),
        {"estimator__beta": [1.0, 4.0], "score_type": ["likelihood", "latent"]},
        scoring=auc_on_validation,
        cv=2,
    ).fit(X_fit)
    assert grid.best_score_ > 0.8
    assert grid.cv_results_["mean_test_score"].shape == (4,)


def test_default_estimator_adapts_to_the_data():
    small = default_detector_vae(300, 10)
    large = default_detector_vae(300_000, 500)
    assert small.n_components < large.n_components
    assert small.hidden_layer_sizes[0] < large.hidden_layer_sizes[0]
    assert small.batch_size < default_detector_vae(300_000, 10).batch_size
    assert small.max_iter > large.max_iter
    # wide rows: the budget of work limits the batch before the steps, so that
    # more rows do not mean fewer steps (MNIST: 121 steps of 32 rows)
    for n in (527, 1_500, 5_000):
        vae = default_detector_vae(n, 784)
        assert vae.batch_size == 32
        assert vae.max_iter * math.ceil(n / 32) >= 121
    # Epochs follow a budget: at most 200 steps, and at most 4e8 multiply-adds
    # of the weights (one epoch over, at least 1 and at most 50 epochs: many
    # rows get one pass, so that the fit grows no faster than the rows).
    for n, d in [
        (20, 4),
        (300, 10),
        (500, 64),
        (527, 784),
        (5_000, 64),
        (300_000, 500),
    ]:
        vae = default_detector_vae(n, d)
        per_epoch = math.ceil(n / vae.batch_size)
        steps = vae.max_iter * per_epoch
        (width,) = vae.hidden_layer_sizes
        work = 2 * d * width + 3 * width * vae.n_components
        assert 1 <= vae.max_iter <= 50
        assert vae.max_iter == 1 or steps < 200 + per_epoch
        assert vae.max_iter == 1 or steps * vae.batch_size * work < 4e8 + per_epoch * (
            vae.batch_size * work
        )
    assert default_detector_vae(300_000, 500).max_iter == 1
    assert default_detector_vae(3_840, 784).max_iter == 2  # 120 steps a pass
    assert default_detector_vae(3_841, 784).max_iter == 1  # 121
    # wide rows get fewer steps than narrow ones: each costs more work
    assert (
        default_detector_vae(500, 784).max_iter < default_detector_vae(500, 64).max_iter
    )
    # Small networks run faster on the CPU; wide rows may use a GPU.
    assert default_detector_vae(300, 64).device == "cpu"
    assert default_detector_vae(20_000, 3072).device == "auto"


def test_the_default_models_batch_raises_no_warning_on_few_rows():
    # below 32 rows the default model's batch is every row: the user set no
    # batch, so nothing warns of one; a user's model still warns of its own
    X = np.random.RandomState(0).normal(size=(20, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VAEOutlierDetector(random_state=0).fit(X)
    user = VAE(batch_size=32, max_iter=2, random_state=0)
    with pytest.warns(UserWarning, match="batch_size=32 larger than n_samples=20"):
        VAEOutlierDetector(user, random_state=0).fit(X)


def test_a_training_row_is_not_its_own_neighbour():
    # On wide standardised rows, a search by dot products puts many rows at a
    # small positive distance from themselves (121 of breast cancer's 569);
    # the distances are computed again, so a training row is left out of its
    # own neighbours exactly, in fit and in score_samples alike.
    X = StandardScaler().fit_transform(load_breast_cancer().data)
    det = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0).fit(X)
    dist, _ = NearestNeighbors(n_neighbors=5).fit(X).kneighbors()  # leaves itself out
    expected = -dist.mean(1)
    np.testing.assert_allclose(det._score_parts(X)["neighbors"], expected, rtol=1e-10)
    # the scale of the part (set in fit, from the search that screened the
    # rows) is that of the same distances
    q1, median, q3 = np.percentile(expected, [25, 50, 75])
    np.testing.assert_allclose(det.score_scales_["neighbors"], [median, q3 - q1])
    # a new row equal to a training row is that training row's distance
    np.testing.assert_allclose(
        det._score_parts(X[:3].copy())["neighbors"], expected[:3], rtol=1e-10
    )


def test_parts_combine_by_a_soft_minimum():
    # the score is -log(sum(exp(-z))) of the standardised parts: a row the
    # likelihood finds typical but that lies apart from every training row
    # (a blend of two rows) is as atypical as its distance says, within log 2
    X = StandardScaler().fit_transform(load_breast_cancer().data)
    det = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0).fit(X)
    parts = det._score_parts(X[:50].copy())
    z = np.array(
        [
            (v - det.score_scales_[k][0]) / det.score_scales_[k][1]
            for k, v in parts.items()
        ]
    )
    scores = det.score_samples(X[:50].copy())
    np.testing.assert_allclose(scores, -np.log(np.exp(-z).sum(0)), rtol=1e-10)
    assert np.all(scores <= z.min(0))
    assert np.all(scores >= z.min(0) - np.log(2))


def test_training_rows_are_scored_once(monkeypatch):
    # fit scores the training rows (for offset_); score_samples of the same
    # rows returns those scores without a second pass, equal to a fresh one
    X = StandardScaler().fit_transform(load_breast_cancer().data)
    det = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0).fit(X)
    fresh = det.score_samples(X[::-1])[::-1]  # not equal to X: scored again
    calls = []
    scores = det._scores
    monkeypatch.setattr(det, "_scores", lambda rows: calls.append(1) or scores(rows))
    np.testing.assert_allclose(det.score_samples(X), fresh, rtol=1e-6, atol=1e-9)
    assert calls == []
    np.testing.assert_array_equal(det.training_scores_, det.score_samples(X))
    assert det.score_samples(X) is not det.training_scores_  # a copy
    det.score_samples(X[:-1])  # other rows: scored
    assert calls == [1]
    # a fingerprint of another hash (an older version's, in a saved model)
    # matches no array: the rows are scored again, to the same scores
    assert det.training_digest_.startswith("sha1:")
    det.training_digest_ = det.training_digest_.removeprefix("sha1:")
    np.testing.assert_allclose(det.score_samples(X), fresh, rtol=1e-6, atol=1e-9)
    assert calls == [1, 1]


@pytest.mark.parametrize("score_type", ["likelihood", "reconstruction"])
def test_the_model_scores_wide_rows_in_blocks(monkeypatch, score_type):
    # blocks of a bounded number of entries (rows x draws x features): every
    # row scored with the same draws, so the scores are those of one block
    import types

    from skvae import outlier

    X = np.random.RandomState(0).normal(size=(70, 20))
    det = VAEOutlierDetector(
        tiny_vae(),
        score_type=score_type,
        n_importance_samples=4,
        n_neighbors=0,
        trim_fraction=0,
    ).fit(X)
    whole = det._model_scores(X)
    blocks = []
    row_scores = det.estimator_._row_scores
    monkeypatch.setattr(
        det.estimator_,
        "_row_scores",
        lambda rows, *a, **kw: blocks.append(len(rows)) or row_scores(rows, *a, **kw),
    )
    monkeypatch.setattr(outlier, "_SCORE_ENTRIES", 4 * 20 * 16)  # 16 rows
    np.testing.assert_allclose(det._model_scores(X), whole, rtol=1e-6)
    assert blocks == [16, 16, 16, 16, 6]
    # a model on another device scores in its own blocks
    gpu = types.SimpleNamespace(_device=torch.device("cuda"), _BATCH_ROWS=4096)
    assert outlier._score_rows(gpu, 4, 20) == 4096


def test_wide_rows_count_a_model_score_above_its_band_as_atypical():
    # from 64 features, the model's score far above the training rows' band
    # (a blend of two digits is smoother than any digit, and likelier) is
    # atypical too: its standardised part z enters the soft minimum as z and
    # as -z; up to 32 features only as z
    rng = np.random.RandomState(0)
    for width, upper in ((64, 1.0), (30, 0.0)):
        X = rng.normal(size=(60, width))
        det = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0)
        parts = det.fit(X)._score_parts(X[:20].copy())
        z = [
            (v - det.score_scales_[k][0]) / det.score_scales_[k][1]
            for k, v in parts.items()
        ]
        if upper:
            z.append(-upper * z[0])
        expected = -np.log(np.exp(-np.array(z)).sum(0))
        np.testing.assert_allclose(
            det.score_samples(X[:20].copy()), expected, rtol=1e-10
        )
    # a row far above the band scores below every training row
    det = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0)
    X = rng.normal(size=(60, 64))
    det.fit(X)
    likely = {
        "likelihood": np.array([1e6]),
        "neighbors": np.array([det.score_scales_["neighbors"][0]]),
    }
    assert det._combined(likely)[0] < det.training_scores_.min()


def test_neighbours_are_measured_to_a_bounded_reference(monkeypatch):
    # beyond _MAX_REFERENCE training rows, that many drawn at random (seeded)
    # are the reference rows: the search costs rows x reference x features
    from skvae import outlier

    monkeypatch.setattr(outlier, "_MAX_REFERENCE", 40)
    X = StandardScaler().fit_transform(load_breast_cancer().data)[:120]
    det = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0).fit(X)
    ref = det.neighbor_rows_
    assert ref.shape == (40, X.shape[1])
    index = [int(np.flatnonzero((row == X).all(1))[0]) for row in ref]
    assert len(set(index)) == 40
    again = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0).fit(X)
    np.testing.assert_array_equal(again.neighbor_rows_, ref)  # same seed, same rows
    other = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=1).fit(X)
    assert not np.array_equal(other.neighbor_rows_, ref)
    # each row's distance: to its 5 nearest reference rows, itself left out
    dist = np.sort(np.sqrt(((X[:, None, :] - ref[None]) ** 2).sum(-1)), axis=1)
    itself = dist[:, 0] == 0
    expected = -np.where(itself[:, None], dist[:, 1:6], dist[:, :5]).mean(1)
    assert itself.sum() == 40
    np.testing.assert_allclose(det._score_parts(X)["neighbors"], expected, rtol=1e-10)
    # the training rows' scores (from fit's one search) equal a fresh scoring
    np.testing.assert_allclose(
        det.training_scores_, det.score_samples(X[::-1])[::-1], rtol=1e-6, atol=1e-9
    )
    with pytest.raises(ValueError, match="n_neighbors=40 must be below"):
        VAEOutlierDetector(VAE(max_iter=1), n_neighbors=40).fit(X)
    # weighted rows: drawn in proportion to the weights, never of weight 0
    weight = np.r_[np.zeros(60), np.ones(60)]
    det = VAEOutlierDetector(VAE(max_iter=1, random_state=0), random_state=0)
    det.fit(X, sample_weight=weight)
    drawn = [int(np.flatnonzero((row == X).all(1))[0]) for row in det.neighbor_rows_]
    assert len(drawn) == 40
    assert min(drawn) >= 60


def test_candidates_are_measured_in_blocks_of_rows(monkeypatch):
    # the exact distances of the candidates, a few rows at a time, are those
    # of one brute-force search (dense rows by the product, and sparse rows)
    import scipy.sparse as sp

    from skvae import outlier

    # blocks of 16 rows (the fewest): 16, 16 and 3 of the 35
    monkeypatch.setattr(outlier, "_MEASURE_ENTRIES", 7 * 20)
    rng = np.random.RandomState(0)
    ref = rng.normal(size=(40, 20))
    X = np.vstack([rng.normal(size=(30, 20)), ref[:5]])  # 5 rows are reference rows
    dist = np.sort(np.sqrt(((X[:, None, :] - ref[None]) ** 2).sum(-1)), axis=1)
    expected = np.where(dist[:, :1] == 0, dist[:, 1:4], dist[:, :3])
    for rows, reference in [(X, ref), (sp.csr_matrix(X), sp.csr_matrix(ref))]:
        found = outlier._neighbor_distances(reference, rows, 3)
        np.testing.assert_allclose(found, expected, rtol=1e-12)


def test_neighbor_distances_survive_a_large_common_offset():
    # the float32 product that proposes candidates works on centred rows: a
    # column like a year (2000-2019) beside standardised ones, or an offset
    # of 1,000 on every column, used to swamp the differences and put wrong
    # rows among the candidates
    from skvae import outlier

    rng = np.random.RandomState(0)
    year = np.c_[2000 + rng.randint(0, 20, 600), rng.normal(size=(600, 19))]
    shifted = 1000 + rng.normal(size=(600, 20))
    # an offset of 1e7: a new row's nearest neighbour, 3.7 away, was taken
    # for the row itself (within 1e-6 of the row's norm, 4.5e7) and passed
    # over; rows of 1e-30 and 1e30 underflowed and overflowed the products
    far = 1e7 + rng.normal(size=(600, 20))
    tiny, huge = (rng.normal(size=(600, 20)) * s for s in (1e-30, 1e30))
    for X in (year, shifted, far, tiny, huge):
        ref = X[:300]
        dist = np.sort(np.sqrt(((X[:, None, :] - ref[None]) ** 2).sum(-1)), axis=1)
        expected = np.where(dist[:, :1] == 0, dist[:, 1:6], dist[:, :5])
        np.testing.assert_allclose(
            outlier._neighbor_distances(ref, X, 5), expected, rtol=1e-9
        )


def test_a_float32_copy_of_the_training_rows_scores_as_they_do():
    # a training row rounded to float32 is still itself, not its own nearest
    # neighbour at a tiny distance (which moved scores by about half an IQR)
    X = StandardScaler().fit_transform(load_breast_cancer().data[:300])
    detector = VAEOutlierDetector(random_state=0).fit(X)
    np.testing.assert_allclose(
        detector.score_samples(X.astype(np.float32)),
        detector.score_samples(X),
        atol=1e-4,
    )


@pytest.mark.parametrize(("d", "offset"), [(8, 0.0), (300, 0.0), (300, 1e3)])
def test_training_rows_off_by_rounding_score_as_they_do(d, offset):
    # a pipeline's transform of the rows its fit_transform gave differs by
    # about 1e-14: such rows were new rows next to their own copy (the
    # distance part) and scored off the whole subspace (wide rows), so
    # fit + predict on the training rows flagged 5% where fit_predict and
    # contamination said 10%
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 4)) @ rng.normal(size=(4, d))
    X += 0.3 * rng.normal(size=X.shape) + offset
    det = VAEOutlierDetector(contamination=0.1, random_state=0).fit(X)
    near = X * (1 + 1e-14)
    assert not np.array_equal(near, X)
    off = np.abs(det.score_samples(near) - det.training_scores_) > 1e-6
    # a value a multiple's midpoint apart from its copy: a chance in 1e6
    assert off.mean() <= 0.01  # (with an offset of 1e3: 379 of 400 rows)
    assert np.sum(det.predict(near) != det.predict(X)) <= 1


def test_a_row_with_a_flag_flipped_is_not_a_training_row():
    # within rounding column by column: beside a column of seconds in a year
    # (3e7), a flipped 0/1 flag (distance 1) was within 1e-6 of the row's
    # distance to the mean, and the row was passed over as its own twin
    from skvae import outlier

    rng = np.random.RandomState(0)
    X = np.c_[rng.uniform(0, 3e7, 500), rng.randint(0, 2, (500, 2)).astype(float)]
    new = X[:3].copy()
    new[:, 1] = 1 - new[:, 1]
    np.testing.assert_allclose(outlier._neighbor_distances(X, new, 3)[:, 0], 1.0)
    # so in float32 against float64 rows (within float32's rounding of each
    # value, not of the row's norm)
    found = outlier._neighbor_distances(X, new.astype(np.float32), 3)[:, 0]
    assert np.all(found < 10)
    near = X[:3] * (1 + 1e-14)  # rounding: the training rows themselves
    assert np.all(outlier._neighbor_distances(X, near, 3)[:, 0] > 1e3)


def test_rows_of_weight_zero_are_as_if_removed():
    # a row of weight 0 takes no share of the default model's steps: the
    # detector is the one fitted on the other rows alone
    X = load_breast_cancer().data[:300]
    X = StandardScaler().fit_transform(X)
    weight = (np.random.RandomState(0).uniform(size=300) < 0.5).astype(float)
    kept = weight > 0
    a = VAEOutlierDetector(random_state=0).fit(X, sample_weight=weight)
    b = VAEOutlierDetector(random_state=0).fit(X[kept], sample_weight=weight[kept])
    np.testing.assert_allclose(a.score_samples(X), b.score_samples(X), rtol=1e-6)


def test_equal_weights_are_as_none():
    # scikit-learn's rule: weights of 1 (or any one value) give the fit
    # without weights; the thresholds and the parts' scales use the same
    # percentiles either way
    X = StandardScaler().fit_transform(load_breast_cancer().data[:300])
    a = VAEOutlierDetector(random_state=0).fit(X)
    for w in (np.ones(300), np.full(300, 3.0)):
        b = VAEOutlierDetector(random_state=0).fit(X, sample_weight=w)
        assert b.offset_ == a.offset_
        assert b.score_scales_ == a.score_scales_
        np.testing.assert_array_equal(b.score_samples(X), a.score_samples(X))


@pytest.mark.parametrize("n_features", [4, 40])
def test_rows_given_twice_are_rows_of_weight_two(n_features):
    # a copy of a training row was its nearest neighbour at distance 0: the
    # training rows scored too typical, and the threshold set on them
    # flagged 84% of new inliers (40 features; 17% on 4)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, n_features))
    new = rng.normal(size=(400, n_features))
    once = VAEOutlierDetector(random_state=0).fit(X)
    twice = VAEOutlierDetector(random_state=0).fit(np.r_[X, X])
    weighted = VAEOutlierDetector(random_state=0).fit(
        X, sample_weight=np.full(100, 2.0)
    )
    # (the same up to float rounding: weights of 2 in the model's loss)
    assert twice.offset_ == weighted.offset_ == pytest.approx(once.offset_, rel=1e-12)
    same = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        twice.score_samples(new), once.score_samples(new), **same
    )
    assert (twice.predict(new) == -1).mean() < 0.2
    # each given row keeps its score, in the array fitted on and in any other
    np.testing.assert_allclose(
        twice.training_scores_,
        np.r_[once.training_scores_, once.training_scores_],
        **same,
    )
    assert len(twice.training_scores_) == 200
    np.testing.assert_array_equal(
        twice.fit_predict(np.r_[X, X]), np.r_[once.predict(X), once.predict(X)]
    )
    np.testing.assert_allclose(twice.score_samples(X), once.score_samples(X), **same)


def test_rows_given_twice_in_a_table_and_to_a_model_without_weights(monkeypatch):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 3))
    new = rng.normal(size=(50, 3))
    frame = pd.DataFrame(np.r_[X, X[:20]], columns=["a", "b", "c"])
    weight = np.r_[np.full(20, 2.0), np.ones(40)]
    model = tiny_vae(max_iter=3)
    a = VAEOutlierDetector(model, random_state=0).fit(frame)
    b = VAEOutlierDetector(model, random_state=0).fit(
        pd.DataFrame(X, columns=["a", "b", "c"]), sample_weight=weight
    )
    assert a.offset_ == b.offset_
    assert len(a.training_scores_) == 80
    new_frame = pd.DataFrame(new, columns=["a", "b", "c"])
    np.testing.assert_array_equal(
        a.score_samples(new_frame), b.score_samples(new_frame)
    )
    # a model that refuses weights is fitted on the copies, as given
    from skvae import WAE

    seen = []
    fit = WAE.fit

    def recorded(self, X, y=None, sample_weight=None):
        seen.append((np.array(X), sample_weight))
        return fit(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(WAE, "fit", recorded)
    wae = WAE(n_components=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    detector = VAEOutlierDetector(wae, trim_fraction=0, random_state=0)
    detector.fit(np.r_[X, X[:20]])
    assert len(detector.training_scores_) == 80
    ((rows, weight),) = seen  # the 80 rows, each copy, no weights
    assert weight is None
    assert rows.shape == (80, 3)
    np.testing.assert_array_equal(
        np.sort(rows, axis=0), np.sort(np.r_[X, X[:20]], axis=0)
    )
    assert np.isfinite(detector.score_samples(new)).all()
    # too few distinct rows for the neighbours: the rows as given
    few = VAEOutlierDetector(n_neighbors=3, random_state=0).fit(np.r_[X[:3], X[:3]])
    assert few.neighbor_rows_.shape[0] == 6


@pytest.mark.parametrize("seed", [0, 1])
def test_scaled_weights_are_as_the_weights_on_a_principal_subspace(seed):
    # the folds of the cross-fit group the rows as given, not centred: the
    # mean's last bit (weights w against 10 w, or 1 against None) redrew
    # them, and moved training scores by up to 9 nats
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 40))
    X += 0.3 * rng.normal(size=X.shape)
    w = rng.uniform(0.5, 2, len(X))
    for first, second in [(None, np.ones(len(X))), (w, 10 * w)]:
        a = VAEOutlierDetector(random_state=0).fit(X, sample_weight=first)
        b = VAEOutlierDetector(random_state=0).fit(X, sample_weight=second)
        assert a.subspace_components_ is not None
        # (float rounding apart: the VAE's loss is weighted in float32)
        np.testing.assert_allclose(b.training_scores_, a.training_scores_, rtol=1e-5)
        assert b.offset_ == pytest.approx(a.offset_, rel=1e-5)


def _three_factors(d):
    """400 training rows of 3 nonlinear factors in ``d`` features; 200 new
    such rows and 40 of noise; and which of those are inliers."""
    rng = np.random.RandomState(0)
    W = rng.normal(size=(3, d))
    X = np.tanh(rng.normal(size=(400, 3))) @ W + 0.1 * rng.normal(size=(400, d))
    inliers = np.tanh(rng.normal(size=(200, 3))) @ W + 0.1 * rng.normal(size=(200, d))
    Q = np.vstack([inliers, rng.normal(size=(40, d))])
    return X, Q, np.r_[np.ones(200), np.zeros(40)]


def test_the_model_reads_codes_of_order_one_in_any_units():
    # the principal components of rows in large units (codes of 4e4) left the
    # default VAE ranking the outliers as the most typical rows (ROC-AUC
    # 0.07): beyond a factor of 8 from 1 the codes are divided by a power of
    # two, and the likelihood keeps the density of the codes themselves
    from sklearn.metrics import roc_auc_score

    X, Q, normal = _three_factors(40)
    scales = {}
    for units in (1e-4, 1.0, 1e4):
        det = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0)
        det.fit(X * units)
        scales[units] = det.subspace_scale_
        assert roc_auc_score(normal, det.score_samples(Q * units)) > 0.95
    assert scales[1.0] == 1.0  # codes of about 4: read as they are
    assert scales[1e4] == 2.0**15
    assert scales[1e-4] == 2.0**-11
    # the same model, in units of the codes: densities 10 log 2 apart a code
    a = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0)
    b = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0)
    a.fit(X * 2.0**10)
    b.fit(X * 2.0**20)
    k = a.subspace_components_.shape[0]
    shift = k * 10 * np.log(2.0)  # the codes' part; the rest's is (d - k) x that
    codes_a = a._model_scores(Q[:5] * 2.0**10) - a._project(Q[:5] * 2.0**10)[1]
    codes_b = b._model_scores(Q[:5] * 2.0**20) - b._project(Q[:5] * 2.0**20)[1]
    np.testing.assert_allclose(codes_a - codes_b, shift, rtol=1e-6)


@pytest.mark.parametrize(
    "units",
    [lambda A: A * 1e-4, lambda A: A * 1e4, lambda A: A + 1e4],
    ids=["small", "large", "offset"],
)
def test_narrow_rows_are_read_as_rows_of_order_one(units):
    # rows of 10 features in small units, large units or far from 0: the
    # default VAE read them as they were and ranked the outliers below
    # chance (ROC-AUC 0.47 at 1e-4 times the units, 0.44 offset by 1e4);
    # it now reads them less their mean, over a power of two
    from sklearn.metrics import roc_auc_score

    X, Q, normal = _three_factors(10)
    det = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0)
    det.fit(units(X))
    assert det.input_offset_ is not None
    assert roc_auc_score(normal, det.score_samples(units(Q))) > 0.95
    np.testing.assert_allclose(det.input_offset_, units(X).mean(0))
    # rows of order 1 (X itself: a spread of about 2) are read as they are
    assert VAEOutlierDetector(random_state=0).fit(X).input_offset_ is None


@pytest.mark.parametrize("score_type", ["likelihood", "latent"])
def test_sparse_rows_and_tables_are_read_less_the_offset_too(score_type):
    # a detector fitted on a dense array of rows far from order 1, given the
    # same rows as a sparse matrix or a DataFrame: they skipped the offset
    # (scores off by 1e8 nats, every row flagged)
    import scipy.sparse as sp

    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    U = 1e4 + 100 * rng.normal(size=(300, 10))
    det = VAEOutlierDetector(score_type=score_type, random_state=0).fit(U)
    assert det.input_offset_ is not None
    dense = det.score_samples(U[:20])
    np.testing.assert_allclose(det.score_samples(sp.csr_matrix(U[:20])), dense)
    np.testing.assert_allclose(det.score_samples(pd.DataFrame(U[:20])), dense)


def test_the_density_of_rows_read_over_a_power_of_two_keeps_its_jacobian():
    # the same rows in units 2**10 and 2**20 times larger: the model reads
    # the same numbers, and the densities are 10 log 2 a feature apart
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6))
    a = VAEOutlierDetector(n_neighbors=0, random_state=0).fit(X * 2.0**10)
    b = VAEOutlierDetector(n_neighbors=0, random_state=0).fit(X * 2.0**20)
    assert b.input_scale_ == a.input_scale_ * 2.0**10
    np.testing.assert_allclose(b.input_offset_, a.input_offset_ * 2.0**10)
    shift = a.score_samples(X[:5] * 2.0**10) - b.score_samples(X[:5] * 2.0**20)
    np.testing.assert_allclose(shift, 6 * 10 * np.log(2.0), rtol=1e-6)


def test_parameters_changed_after_fit_are_refused_when_scoring():
    # set_params without a refit: the parts scored would not be those fit
    # scaled and thresholded (with n_neighbors=0, every new row was flagged)
    X = StandardScaler().fit_transform(load_breast_cancer().data[:200])
    det = VAEOutlierDetector(random_state=0).fit(X)
    expected = det.score_samples(X[:5])
    changes = (
        {"n_neighbors": 0},
        {"n_neighbors": 10},
        {"score_type": "reconstruction"},
    )
    for change in changes:
        det.set_params(**change)
        with pytest.raises(ValueError, match="fit it again"):
            det.predict(X[:5])
        det.set_params(n_neighbors=5, score_type="likelihood")
        np.testing.assert_array_equal(det.score_samples(X[:5]), expected)
    det.set_params(n_neighbors=500)  # more than the reference rows
    with pytest.raises(ValueError, match="fit it again"):
        det.score_samples(X[:5])


def test_copies_of_training_rows_score_as_the_rows_do():
    # a copy of a row the subspace was found on, which took no part in it
    # (here of weight 0), is that row: scored off the other folds' subspace
    # in fit too, not off the whole one (found on its twin)
    rng = np.random.RandomState(1)
    W = rng.normal(size=(6, 300)) / np.sqrt(6)
    X = np.tanh(rng.normal(size=(200, 6))) @ W + 0.3 * rng.normal(size=(200, 300))
    X = np.vstack([X, X[:10]])
    w = np.r_[np.ones(200), np.zeros(10)]
    det = VAEOutlierDetector(random_state=0).fit(X, sample_weight=w)
    scores = det.training_scores_
    np.testing.assert_allclose(scores[200:], scores[:10], rtol=1e-9)
    np.testing.assert_allclose(det.score_samples(X[::-1]), scores[::-1], rtol=1e-6)


def test_rows_far_from_zero_keep_their_folds():
    # rows offset by 1e8 are equal in float32 (its spacing there is 8): the
    # folds, grouped by the float32 rows, held all of them in one, and the
    # cross-fit was dropped (96% of new inliers flagged); grouped by the rows
    # themselves, they keep their folds
    rng = np.random.RandomState(1)
    W = rng.normal(size=(6, 300)) / np.sqrt(6)
    X, new = (
        np.tanh(rng.normal(size=(n, 6))) @ W + 0.3 * rng.normal(size=(n, 300))
        for n in (200, 100)
    )
    det = VAEOutlierDetector(random_state=0).fit(X + 1e8)
    assert det.subspace_rest_ is not None
    assert np.mean(det.predict(new + 1e8) == -1) < 0.2
    # a row within float32's rounding of a training row's values (6e-8 of
    # spreads of 1) is the row, as it is to the distance part (1e-6 of the
    # columns' spreads); a float32 copy is the row; a row 0.5 off is not
    near = (X[:5].astype(np.float32).astype(np.float64) + 1e8, True)
    moved = (X[:5] + 0.5 + 1e8, False)
    for rows, known in [near, moved, ((X[:5] + 1e8).astype(np.float32), True)]:
        Z, own, squares = det._project(rows)
        crossed = own.copy()
        det._known_rest(rows, Z, squares, crossed)
        assert np.all((crossed != own) == known)


@pytest.mark.parametrize(("n", "d"), [(200, 300), (300, 1024)])
def test_training_rows_in_any_array_score_as_in_fit(n, d):
    # the rows the principal subspace was found on are scored off the other
    # folds' subspace in fit; in another array (reordered, a few of them,
    # float32, one row) they were scored off the whole subspace, whose
    # residuals are too small where rows are fewer than features, and the
    # two-sided score flagged 96% to 100% of them
    rng = np.random.RandomState(1)
    W = rng.normal(size=(6, d)) / np.sqrt(6)
    X = np.tanh(rng.normal(size=(n, 6))) @ W + 0.3 * rng.normal(size=(n, d))
    det = VAEOutlierDetector(random_state=0).fit(X)
    assert len(det.subspace_rest_) > 0.95 * n  # all but the screened-out rows
    flagged = np.mean(det.predict(X) == -1)
    assert flagged < 0.1
    scores = det.training_scores_
    np.testing.assert_allclose(det.score_samples(X[::-1]), scores[::-1], rtol=1e-6)
    np.testing.assert_allclose(det.score_samples(X[7:40]), scores[7:40], rtol=1e-6)
    np.testing.assert_allclose(det.score_samples(X[[5]]), scores[[5]], rtol=1e-6)
    as_float32 = det.score_samples(X.astype(np.float32))
    np.testing.assert_allclose(as_float32, scores, rtol=1e-5)
    # a row that is not one of them is scored off the whole subspace
    moved = X[:20] + 1e-3
    Z, own, squares = det._project(moved)
    crossed = own.copy()
    det._known_rest(moved, Z, squares, crossed)
    np.testing.assert_array_equal(crossed, own)


def test_the_default_model_fits_one_pass_of_its_budget(monkeypatch):
    # from half a budget's rows (steps x batch), the default model takes one
    # pass over exactly that many: drawn at random (seeded) beyond it, every
    # row and some drawn again below; rows of weight 0 are never drawn
    from skvae import outlier

    monkeypatch.setattr(outlier, "_MAX_STEPS", 4)  # 4 steps of 32 rows: 128
    seen = []
    fit = VAE.fit

    def recording_fit(self, X, y=None, sample_weight=None):
        seen.append((np.array(X), sample_weight, self.max_iter))
        return fit(self, X, sample_weight=sample_weight)

    monkeypatch.setattr(VAE, "fit", recording_fit)
    X = np.random.RandomState(0).normal(size=(300, 4))

    def rows_seen(random_state, X=X, **fit_params):
        det = VAEOutlierDetector(trim_fraction=0, random_state=random_state)
        det.fit(X, **fit_params)
        rows, weight, max_iter = seen.pop()
        index = [int(np.flatnonzero((row == X).all(1))[0]) for row in rows]
        return np.array(index), weight, max_iter

    index, weight, max_iter = rows_seen(0)
    assert len(set(index)) == len(index) == 128
    assert weight is None
    assert max_iter == 1
    np.testing.assert_array_equal(rows_seen(0)[0], index)  # same seed, same rows
    assert not np.array_equal(rows_seen(1)[0], index)
    # weights: only rows of positive weight, each with its own weight
    sample_weight = np.r_[np.zeros(150), np.arange(1.0, 151.0)]
    index, weight, _ = rows_seen(0, sample_weight=sample_weight)
    assert len(index) == 128
    assert index.min() >= 150
    np.testing.assert_array_equal(weight, sample_weight[index])
    # 100 rows: all of them, 28 drawn again, in one pass
    index, _, max_iter = rows_seen(0, X=X[:100])
    assert len(index) == 128
    assert set(index) == set(range(100))
    assert max_iter == 1
    # the latent Gaussian counts each row once, not the budget's repeats
    det = VAEOutlierDetector(score_type="latent", trim_fraction=0, random_state=0)
    det.fit(X[:100])
    codes = det.estimator_.transform(X[:100])
    np.testing.assert_allclose(det._latent_mean, codes.mean(0), rtol=1e-6)
    # below half the budget: every row once, in as many passes as the steps need
    index, _, max_iter = rows_seen(0, X=X[:60])
    assert sorted(index) == list(range(60))
    assert max_iter == 2  # 2 steps a pass


def test_reference_draw_leaves_the_global_state_and_follows_the_model_seed(
    monkeypatch,
):
    # the reference rows' draw: numpy's global state untouched, and a seeded
    # model (random_state=None on the detector) gives the same rows each fit
    from skvae import outlier

    monkeypatch.setattr(outlier, "_MAX_REFERENCE", 20)
    X = np.random.RandomState(0).normal(size=(60, 3))
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    fits = [
        VAEOutlierDetector(VAE(max_iter=1, random_state=0), trim_fraction=0).fit(X)
        for _ in range(2)
    ]
    after = np.random.get_state()[1]  # noqa: NPY002
    np.testing.assert_array_equal(after, before)
    np.testing.assert_array_equal(fits[0].neighbor_rows_, fits[1].neighbor_rows_)


def test_default_model_trains_with_few_threads(small_X, monkeypatch):
    seen = []
    fit = VAE.fit

    def recording_fit(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(VAE, "fit", recording_fit)
    monkeypatch.delenv("SKVAE_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(8)
    try:
        VAEOutlierDetector(random_state=0).fit(small_X)
        assert seen == [4]  # one fit, after the screening by distances
        assert torch.get_num_threads() == 8  # restored
        seen.clear()
        VAEOutlierDetector(VAE(max_iter=2, random_state=0)).fit(small_X)
        assert seen == [8]  # a user's model keeps the user's setting
    finally:
        torch.set_num_threads(before)


def _close_class_task(digits, seed):
    """Digits 4 and 7 plus 5% nines, close to both (the suite's tuning task
    "digits-mc47-heldout9-5")."""
    X, y = digits
    rng = np.random.RandomState(seed)
    inliers, nines = X[np.isin(y, (4, 7))], X[y == 9]
    n_out = math.ceil(0.05 / 0.95 * len(inliers))
    outliers = nines[rng.choice(len(nines), n_out, replace=False)]
    return np.vstack([inliers, outliers]), np.r_[np.zeros(len(inliers)), np.ones(n_out)]


def test_the_neighbor_distance_part_helps_the_likelihood(digits, monkeypatch):
    # Nines among fours and sevens: the short fit of the VAE finds some of
    # them typical, their distance to the nearest inliers does not. Together
    # (the default) the detector beats the likelihood alone. (The model reads
    # the rows as they are: on the principal subspace its likelihood alone
    # scores 0.959 here, 0.971 with the distance.)
    import skvae.outlier

    monkeypatch.setattr(skvae.outlier, "_SUBSPACE_MIN_FEATURES", 10**9)
    X, is_outlier = _close_class_task(digits, seed=0)
    both = VAEOutlierDetector(random_state=0).fit(X)
    alone = VAEOutlierDetector(n_neighbors=0, random_state=0).fit(X)
    auc_both = roc_auc_score(is_outlier, -both.score_samples(X))
    auc_alone = roc_auc_score(is_outlier, -alone.score_samples(X))
    assert auc_both > auc_alone + 0.02
    assert auc_both > 0.9
    parts = both._score_parts(X)
    assert set(parts) == {"likelihood", "neighbors"}
    # n_neighbors=0: the model's own score, in nats
    np.testing.assert_allclose(
        alone.score_samples(X),
        alone.estimator_._row_scores(
            X, "log_likelihood", alone.n_importance_samples, shared=True
        ),
    )


def test_neighbor_distances_leave_the_row_itself_out(task):
    X, _ = task
    det = VAEOutlierDetector(tiny_vae(), n_neighbors=3, random_state=0).fit(X)
    dist, _ = NearestNeighbors(n_neighbors=3).fit(X).kneighbors()  # leave-one-out
    np.testing.assert_allclose(det._score_parts(X)["neighbors"], -dist.mean(1))
    # a new row: its 3 nearest training rows; a copy of a training row scores
    # as that row did
    new = X[:5] + 0.01
    dist, _ = NearestNeighbors(n_neighbors=3).fit(X).kneighbors(new)
    np.testing.assert_allclose(det._score_parts(new)["neighbors"], -dist.mean(1))
    np.testing.assert_allclose(
        det.score_samples(X[:5].copy()), det.score_samples(X)[:5]
    )
    # the parts are standardised robustly on the training rows
    for name, part in det._score_parts(X).items():
        median, spread = det.score_scales_[name]
        assert np.median((part - median) / spread) == pytest.approx(0.0, abs=1e-9)
    combined = det.score_samples(X)
    # more neighbours, another score
    other = VAEOutlierDetector(tiny_vae(), n_neighbors=10, random_state=0).fit(X)
    assert not np.allclose(other.score_samples(X), combined)


def test_robust_fit_leaves_out_the_rows_far_from_the_others(task, monkeypatch):
    X, is_outlier = task
    seen = []
    fit = VAE.fit

    def recording_fit(self, X, *args, **kwargs):
        seen.append(np.asarray(X).copy())
        return fit(self, X, *args, **kwargs)

    monkeypatch.setattr(VAE, "fit", recording_fit)
    VAEOutlierDetector(tiny_vae(), trim_fraction=0.1).fit(X)
    n_left_out = int(0.1 * len(X))
    assert len(seen) == 1
    assert len(seen[0]) == len(X) - n_left_out
    kept = (X[:, None, :] == seen[0][None, :, :]).all(-1).any(1)
    # the left-out rows are mostly the planted outliers
    assert is_outlier[~kept].mean() > 0.5
    seen.clear()
    VAEOutlierDetector(tiny_vae(), trim_fraction="auto").fit(X)
    assert len(X) - n_left_out <= len(seen[0]) < len(X)
    seen.clear()
    VAEOutlierDetector(tiny_vae(), trim_fraction=0).fit(X)
    assert len(seen[0]) == len(X)


def test_bad_input_raises_clear_errors(small_X):
    det = VAEOutlierDetector(tiny_vae()).fit(small_X)
    with pytest.raises(ValueError, match="NaN"):
        det.score_samples(np.full((2, 6), np.nan))
    with pytest.raises(ValueError, match="X has 5 features"):
        det.predict(small_X[:, :5])
    from sklearn.decomposition import PCA
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(TypeError, match="skvae model"):
        VAEOutlierDetector(PCA()).fit(small_X)
    import pandas as pd

    with pytest.raises(TypeError, match="skvae model"):  # a table, with holes too
        VAEOutlierDetector(PCA()).fit(pd.DataFrame(small_X).iloc[:, :3])
    with pytest.raises(InvalidParameterError, match="estimator"):
        VAEOutlierDetector(IsolationForest()).fit(small_X)

    with pytest.raises(InvalidParameterError, match="contamination"):
        VAEOutlierDetector(tiny_vae(), contamination=0.7).fit(small_X)
    with pytest.raises(InvalidParameterError, match="score_type"):
        VAEOutlierDetector(tiny_vae(), score_type="mahalanobis").fit(small_X)
    with pytest.raises(InvalidParameterError, match="n_neighbors"):
        VAEOutlierDetector(tiny_vae(), n_neighbors=-1).fit(small_X)
    with pytest.raises(ValueError, match="n_neighbors=40 must be below"):
        VAEOutlierDetector(tiny_vae(), n_neighbors=40).fit(small_X)


def test_the_user_estimator_is_not_modified(small_X):
    vae = tiny_vae()
    VAEOutlierDetector(vae).fit(small_X)
    assert not hasattr(vae, "module_")


def _swapped(X, share, seed):
    """X plus ``share`` outliers: rows with half their features from another."""
    rng = np.random.RandomState(seed)
    n, d = X.shape
    m = math.ceil(share / (1 - share) * n)
    base, donor = X[rng.randint(n, size=m)], X[rng.randint(n, size=m)]
    taken = np.zeros((m, d), dtype=bool)
    for row in taken:
        row[rng.choice(d, d // 2, replace=False)] = True
    return np.vstack([X, np.where(taken, donor, base)]), np.r_[np.zeros(n), np.ones(m)]


def _wide_rows(n=300, d=40, seed=0):
    rng = np.random.RandomState(seed)
    factors = np.tanh(rng.normal(size=(n, 3)))
    return factors @ rng.normal(size=(3, d)) + 0.1 * rng.normal(size=(n, d))


def test_wide_rows_are_scored_on_their_principal_subspace():
    # the default model reads the principal components holding 90% of the
    # variance; the rest of a row is an isotropic Gaussian: the likelihood
    # is the model's of the components plus the Gaussian's of the rest
    X = _wide_rows()
    det = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0).fit(X)
    mean, components = det.subspace_mean_, det.subspace_components_
    k, d = components.shape
    assert d == 40
    assert det.estimator_.n_features_in_ == k
    np.testing.assert_allclose(components @ components.T, np.eye(k), atol=1e-10)
    spectrum = np.linalg.eigvalsh(np.cov(X, rowvar=False, bias=True))[::-1]
    held = np.cumsum(spectrum) / spectrum.sum()
    assert held[k - 1] >= 0.9 > (held[k - 2] if k > 1 else 0.0)
    # the rest's variance: the other directions' mean, at least 1% of the
    # features' mean variance
    noise = max(spectrum[k:].mean(), 0.01 * spectrum.mean())
    np.testing.assert_allclose(det.subspace_noise_, noise, rtol=1e-8)
    new = _wide_rows(seed=1)[:50]
    Z = (new - mean) @ components.T
    rest = (new - mean) - Z @ components
    gaussian = -0.5 * (
        (rest**2).sum(1) / det.subspace_noise_
        + (d - k) * np.log(2 * np.pi * det.subspace_noise_)
    )
    model = det.estimator_._row_scores(Z, "log_likelihood", 2, shared=True)
    np.testing.assert_allclose(det.score_samples(new), model + gaussian, rtol=1e-6)
    assert det.estimator_.n_components <= k  # codes no wider than their input


def test_a_subspace_detector_scores_rows_in_any_container():
    # fitted on an array, it scores the same rows as CSR or as a table
    import pandas as pd
    import scipy.sparse as sp

    X = _wide_rows(n=200)
    det = VAEOutlierDetector(random_state=0).fit(X)
    assert det.subspace_components_ is not None
    rows = X[:5] + 0.05
    expected = det.score_samples(rows)
    np.testing.assert_allclose(det.score_samples(sp.csr_matrix(rows)), expected)
    np.testing.assert_allclose(det.score_samples(pd.DataFrame(rows)), expected)


@pytest.mark.parametrize(
    "case", ["narrow", "latent", "user model", "sparse", "constant"]
)
def test_other_rows_and_models_read_the_rows_as_given(case):
    import scipy.sparse as sp

    X = _wide_rows(n=120)
    kwargs = {"random_state": 0}
    if case == "narrow":  # below 32 features
        X = X[:, :31]
    elif case == "latent":
        kwargs["score_type"] = "latent"
    elif case == "user model":
        kwargs["estimator"] = tiny_vae()
    elif case == "sparse":
        X = sp.csr_matrix(np.where(X > 1, X, 0.0))
    else:  # rows that do not vary (0.1: a mean inexact in binary) have none
        X = np.full((120, 40), 0.1)
    det = VAEOutlierDetector(**kwargs).fit(X)
    assert det.subspace_components_ is None
    assert det.subspace_mean_ is None
    assert det.estimator_.n_features_in_ == X.shape[1]
    assert np.isfinite(det.score_samples(X[:5])).all()


def test_the_subspace_weighs_rows_as_copies():
    from skvae.outlier import _principal_subspace

    X = _wide_rows(n=60)
    w = np.random.RandomState(0).randint(0, 3, size=60).astype(float)
    weighted = _principal_subspace(X, w)
    copies = _principal_subspace(np.repeat(X, w.astype(int), axis=0))
    np.testing.assert_allclose(weighted[0], copies[0], atol=1e-10)
    np.testing.assert_allclose(np.abs(weighted[1]), np.abs(copies[1]), atol=1e-6)
    np.testing.assert_allclose(weighted[2], copies[2], rtol=1e-8)
    ones, none = _principal_subspace(X, np.ones(60)), _principal_subspace(X)
    for a, b in zip(ones, none, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_subspace_finds_rows_that_break_the_features_dependence(
    digits, monkeypatch
):
    # one-class digits with 5% rows made of two of its images' pixels, half
    # each: the rows' principal components leave a residual the Gaussian
    # charges, which the model of every pixel, briefly trained, misses
    import skvae.outlier

    X, y = digits
    aucs = {}
    for reads in (True, False):
        if not reads:
            monkeypatch.setattr(skvae.outlier, "_SUBSPACE_MIN_FEATURES", 10**9)
        found = []
        for digit in (0, 3, 6, 9):
            task, is_outlier = _swapped(X[y == digit], 0.05, seed=digit)
            det = VAEOutlierDetector(random_state=0).fit(task)
            assert (det.subspace_components_ is not None) == reads
            found.append(roc_auc_score(is_outlier, -det.score_samples(task)))
        aucs[reads] = np.mean(found)
    # 0.74 against 0.68 (0.78 against 0.71 before the training rows were
    # scored off the other folds' subspace and the model trained 20 epochs)
    assert aucs[True] > aucs[False] + 0.04
    assert aucs[True] > 0.72


def test_training_rows_are_scored_off_the_other_rows_subspace(digits, monkeypatch):
    # novelty detection: fitted on clean rows of one digit, the threshold
    # flags about `contamination` of new rows of that digit. Scored off a
    # subspace found on themselves, the training rows' residuals are smaller
    # than new rows', and the threshold then flagged 41% of new threes
    import skvae.outlier

    X, y = digits
    rows = np.random.RandomState(0).permutation(np.flatnonzero(y == 3))
    train, new = X[rows[:120]], X[rows[120:]]
    flagged = {}
    for crossed in (True, False):
        if not crossed:
            monkeypatch.setattr(skvae.outlier, "_crossed_rest", lambda *a: None)
        det = VAEOutlierDetector(contamination=0.1, random_state=0).fit(train)
        assert det.subspace_components_ is not None
        assert np.mean(det.predict(train) == -1) == pytest.approx(0.1, abs=0.01)
        flagged[crossed] = np.mean(det.predict(new) == -1)
    assert flagged[True] <= 0.2  # 0.17
    assert flagged[False] >= 2 * flagged[True]


def test_rows_outside_the_subspace_fit_score_as_new_rows(digits):
    # rows of weight 0 take no part in the subspace: fit scores them as
    # score_samples scores a new row; the others' residuals, measured off
    # the other folds' subspace, are larger than off their own, and they
    # keep them in any array that holds them
    X, y = digits
    X = X[y == 5]
    w = np.ones(len(X))
    w[:20] = 0
    det = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0)
    det.fit(X, sample_weight=w)
    assert det.subspace_components_ is not None
    assert len(det.subspace_rest_) == len(X) - 20
    np.testing.assert_allclose(
        det.training_scores_[:20], det.score_samples(X[:20]), rtol=1e-6
    )
    rows = X[20:].copy(order="F")  # not the training array
    np.testing.assert_allclose(
        det.score_samples(rows), det.training_scores_[20:], rtol=1e-6
    )
    Z, own, squares = det._project(rows)  # off the subspace found on them
    crossed = own.copy()
    det._known_rest(rows, Z, squares, crossed)
    assert np.mean(crossed < own) > 0.9
    again = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0)
    np.testing.assert_array_equal(
        again.fit(X, sample_weight=w).training_scores_, det.training_scores_
    )


def test_an_interrupted_fit_keeps_the_crossed_training_scores(digits, monkeypatch):
    # Ctrl-C during the default model's fit: the threshold is still set from
    # the training rows scored off the other folds' subspace
    import skvae.outlier
    from skvae.callbacks import Callback

    class CtrlC(Callback):
        def on_epoch_end(self, trainer, **kwargs):
            raise KeyboardInterrupt

    make = skvae.outlier.default_detector_vae
    monkeypatch.setattr(
        skvae.outlier,
        "default_detector_vae",
        lambda *a, **k: make(*a, **k).set_params(callbacks=[CtrlC()]),
    )
    X, y = digits
    X = X[y == 3][:120]
    det = VAEOutlierDetector(n_neighbors=0, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        det.fit(X)
    assert det.subspace_components_ is not None
    np.testing.assert_allclose(det._scores(X[::-1]), det.training_scores_[::-1])
    Z, own, squares = det._project(X)  # every row off the whole subspace
    crossed = own.copy()
    det._known_rest(X, Z, squares, crossed)
    assert np.mean(crossed < own) > 0.9


@pytest.mark.parametrize(
    ("rank", "scale", "d"), [(5, 3.0, 300), (30, 1.0, 300), (5, 3.0, 1100)]
)
def test_crossed_residuals_are_as_large_as_new_rows(rank, scale, d):
    # a few strong directions among many features (where the fit's own rows
    # tilt the leading directions toward themselves), or many: off the other
    # folds' subspace, the training rows' residuals are as large on average
    # as those of new rows off the whole subspace (in-sample: smaller)
    from skvae.outlier import _crossed_rest, _principal_subspace

    rng = np.random.RandomState(0)
    loadings = scale * rng.normal(size=(rank, d))

    def draw(n):
        return rng.normal(size=(n, rank)) @ loadings + rng.normal(size=(n, d))

    # from 1,024 features the leading directions are found at random, not
    # all of them: the other folds' covariance comes from their rows
    X, new = draw(300), draw(3000)
    found = _principal_subspace(X, basis=True, random_state=0)
    mean, components, noise = found[:3]
    k = len(components)

    def rest(rows):
        centred = rows - mean
        off = (centred**2).sum(1) - ((centred @ components.T) ** 2).sum(1)
        return -0.5 * (off / noise + (d - k) * np.log(2 * np.pi * noise))

    crossed, codes = _crossed_rest(X, None, found, 0)
    np.testing.assert_allclose(codes, (X - mean) @ components.T, rtol=1e-4, atol=1e-4)
    in_sample, held_out = rest(X).mean(), rest(new).mean()
    closed = (in_sample - crossed.mean()) / (in_sample - held_out)
    # 1.12, 0.89 and 1.23 (without the power step: 0.19, 0.76 and 0.20)
    assert closed > 0.75


@pytest.mark.parametrize("limit", ["rows", "entries"])
def test_the_subspace_is_found_on_at_most_its_share_of_rows(digits, monkeypatch, limit):
    # beyond _SUBSPACE_ROWS rows (on wide rows, _SUBSPACE_ENTRIES entries'
    # worth) the subspace is found on that many, drawn at random; the others
    # are new rows to it, scored off the whole subspace
    import skvae.outlier

    if limit == "rows":
        monkeypatch.setattr(skvae.outlier, "_SUBSPACE_ROWS", 100)
    else:  # 64 features
        monkeypatch.setattr(skvae.outlier, "_SUBSPACE_ENTRIES", 100 * 64 + 63)
        monkeypatch.setattr(skvae.outlier, "_MIN_SUBSPACE_ROWS", 10)
    X, y = digits
    X = X[y == 5][:150]
    det = VAEOutlierDetector(n_neighbors=0, trim_fraction=0, random_state=0).fit(X)
    assert len(det.subspace_rest_) == 100
    as_new = det.score_samples(X[::-1])[::-1]  # not the training array
    np.testing.assert_allclose(as_new, det.training_scores_, rtol=1e-9)
    Z, own, squares = det._project(X)  # off the subspace found on 100 rows
    crossed = own.copy()
    det._known_rest(X, Z, squares, crossed)
    changed = crossed != own
    assert changed.sum() == 100
    assert np.mean(crossed[changed] < own[changed]) > 0.9


def test_fewer_rows_than_features_find_the_same_subspace():
    # below n_features rows the directions come from the rows' Gram matrix:
    # the same as the covariance's, with the same residual variance
    from skvae.outlier import _principal_subspace

    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 4)) @ rng.normal(size=(4, 100))
    X += 0.1 * rng.normal(size=X.shape)
    w = rng.uniform(0.5, 2.0, size=30)
    mean, components, noise, vectors, values = _principal_subspace(X, w, basis=True)
    centred = (X - mean) * np.sqrt(w / w.sum())[:, None]
    spectrum, directions = np.linalg.eigh(centred.T @ centred)
    spectrum, directions = spectrum[::-1], directions[:, ::-1]
    k = len(components)
    assert np.cumsum(spectrum)[k - 1] >= 0.9 * spectrum.sum()
    assert len(values) == 29  # the centred rows' rank
    np.testing.assert_allclose(values, spectrum[:29], rtol=1e-8)
    np.testing.assert_allclose(
        np.abs(components @ directions[:, :k]), np.eye(k), atol=1e-8
    )
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(29), atol=1e-8)
    np.testing.assert_allclose(noise, max(spectrum[k:].mean(), 0.01 * spectrum.mean()))


@pytest.mark.parametrize("rank", [5, 90])
def test_very_wide_rows_find_their_leading_directions_at_random(rank):
    # from 1,024 features the leading directions come from randomized
    # subspace iteration: the subspace, its variance and the rest's are
    # those of the covariance's eigendecomposition (rank 90: 64 directions
    # cannot hold the span the cross-fit needs, and the block grows)
    from skvae.outlier import _principal_subspace

    rng = np.random.RandomState(0)
    scales = np.linspace(3.0, 1.0, rank)
    X = (rng.normal(size=(400, rank)) * scales) @ rng.normal(size=(rank, 1100))
    X += rng.normal(size=X.shape)
    mean, components, noise, vectors, values = _principal_subspace(
        X, basis=True, random_state=0
    )
    centred = (X - mean) / np.sqrt(len(X))
    spectrum = np.linalg.svd(centred, compute_uv=False) ** 2
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    exact = int(np.searchsorted(np.cumsum(spectrum), 0.9 * spectrum.sum())) + 1
    k = len(components)
    # Ritz values are at most the eigenvalues: k can only come out larger
    assert exact <= k <= exact + 1
    # room for the cross-fit's span (1.25 k) in the block, grown past 64
    assert int(1.25 * k) < len(vectors)
    assert (len(vectors) > 64) == (rank == 90)
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(len(vectors)), atol=1e-8)
    np.testing.assert_allclose(values[:exact], spectrum[:exact], rtol=0.01)
    # the same subspace: every principal angle's cosine near 1
    cosines = np.linalg.svd(components[:exact] @ directions[:exact].T)[1]
    assert cosines.min() > 0.99
    rest = max(spectrum[k:].sum() / (1100 - k), 0.01 * spectrum.mean())
    np.testing.assert_allclose(noise, rest, rtol=0.02)
    # seeded: the same directions again
    again = _principal_subspace(X, basis=True, random_state=0)[1]
    np.testing.assert_array_equal(again, components)


@pytest.mark.parametrize("d", [300, 1100])
def test_the_subspace_and_its_folds_take_rows_of_any_magnitude(d):
    # the float32 products work on rows scaled by a power of two (exactly):
    # rows of 2**60 overflowed them (a crash in the folds' QR). Rows scaled
    # by a power of two round to float32 as before, so they find the same
    # directions, codes and residuals, in units of the scale (in the same
    # folds: the fingerprints that group the rows are the unscaled rows')
    from skvae.outlier import _crossed_rest, _principal_subspace, _row_keys

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5)) @ rng.normal(size=(5, d))
    X += 0.1 * rng.normal(size=X.shape)
    found = _principal_subspace(X, basis=True, random_state=0)
    rest, codes = _crossed_rest(X, None, found, 0)
    k = len(found[1])
    for scale in (2.0**60, 2.0**-66):
        scaled = _principal_subspace(X * scale, basis=True, random_state=0)
        assert len(scaled[1]) == k
        np.testing.assert_allclose(np.abs(scaled[1] @ found[1].T), np.eye(k), atol=1e-8)
        rest_s, codes_s = _crossed_rest(X * scale, None, scaled, 0, _row_keys(X))
        np.testing.assert_allclose(np.abs(codes_s), np.abs(codes) * scale, rtol=1e-9)
        log_scale = (d - k) * np.log(scale)  # of the rest's d - k directions
        np.testing.assert_allclose(rest_s + log_scale, rest, rtol=0, atol=1e-8)


def test_very_wide_images_are_scored_on_their_principal_subspace(digits, monkeypatch):
    # digits enlarged to 32 x 32 (1,024 pixels), one digit with 5% swapped
    # rows: read as they are, the swaps hid in the briefly trained model's
    # error (and the search among 1,024 pixels cost more than the fit)
    import scipy.ndimage

    import skvae.outlier

    X, y = digits
    rows = X[y == 3]
    rows = scipy.ndimage.zoom(rows.reshape(-1, 8, 8), (1, 4, 4), order=1)
    task, is_outlier = _swapped(rows.reshape(len(rows), -1), 0.05, seed=3)
    aucs = {}
    for reads in (True, False):
        if not reads:
            monkeypatch.setattr(skvae.outlier, "_SUBSPACE_MIN_FEATURES", 10**9)
        det = VAEOutlierDetector(random_state=0).fit(task)
        assert (det.subspace_components_ is not None) == reads
        # the narrow model on the components trains on the CPU, where
        # default_detector_vae would choose "auto" for 1,024 features
        assert det.estimator_.device == ("cpu" if reads else "auto")
        scores = det.score_samples(task)
        aucs[reads] = roc_auc_score(is_outlier, -scores)
    assert det.subspace_components_ is None
    # 0.99 against 0.78
    assert aucs[True] > 0.93
    assert aucs[True] > aucs[False] + 0.1


def test_wide_rows_measure_to_fewer_reference_rows(monkeypatch):
    # the distance part's search costs rows x reference rows x features: on
    # wide rows it measures to at most _REFERENCE_ENTRIES entries' worth of
    # reference rows (at least _MIN_REFERENCE); n_neighbors is checked
    # against that number
    import scipy.sparse as sp

    import skvae.outlier

    assert skvae.outlier._reference_limit(np.empty((1, 1024))) == 1024
    assert skvae.outlier._reference_limit(np.empty((1, 2048))) == 512
    monkeypatch.setattr(skvae.outlier, "_REFERENCE_ENTRIES", 50 * 40)
    monkeypatch.setattr(skvae.outlier, "_MIN_REFERENCE", 10)
    X = _wide_rows(n=120)
    det = VAEOutlierDetector(random_state=0).fit(X)
    assert det.neighbor_rows_.shape == (50, 40)
    # whole training rows, each one once
    rows = [np.flatnonzero((row == X).all(1)) for row in det.neighbor_rows_]
    assert all(len(r) == 1 for r in rows)
    assert len(np.unique(np.concatenate(rows))) == 50
    with pytest.raises(ValueError, match="at most 50"):
        VAEOutlierDetector(n_neighbors=50).fit(X)
    wider = np.hstack([X, X])  # 80 features: 25 reference rows
    det = VAEOutlierDetector(random_state=0).fit(wider)
    assert det.neighbor_rows_.shape == (25, 80)
    # sparse rows are searched by their nonzeros, whatever their width: all
    # the distinct rows (at most _MAX_REFERENCE; rows of zeros are one row)
    dense = np.where(X > 1, X, 0.0)
    det = VAEOutlierDetector(random_state=0).fit(sp.csr_matrix(dense))
    assert det.neighbor_rows_.shape == (len(np.unique(dense, axis=0)), 40)
    assert len(np.unique(dense, axis=0)) < 120


def test_equal_rows_share_a_fold_and_a_score():
    # a copy of a row would help find the subspace its twin is scored off;
    # copies share a fold, so equal rows have equal training scores
    rng = np.random.RandomState(0)
    X = rng.normal(size=(97, 4)) @ rng.normal(size=(4, 64)) * 3
    X = np.vstack([X + rng.normal(size=X.shape), np.zeros((1, 64))])
    X[-1] = X[0]  # the last row, a copy of the first
    det = VAEOutlierDetector(random_state=0).fit(X)
    assert det.subspace_components_ is not None
    np.testing.assert_allclose(det.training_scores_[0], det.training_scores_[-1])


def test_a_fold_is_scored_off_no_more_directions_than_the_others_span():
    # nine patterns, twenty copies each: the other folds' rows span fewer
    # directions than the subspace has, and the directions they do not vary
    # along must not take up the held-out pattern's residual, which is at
    # least its distance to the other patterns' affine hull
    from skvae.outlier import _crossed_rest, _principal_subspace

    rng = np.random.RandomState(0)
    patterns = rng.normal(size=(9, 50))
    X = np.repeat(patterns, 20, axis=0)
    found = _principal_subspace(X, basis=True)
    _, components, noise = found[:3]
    k, d = components.shape
    rest, _ = _crossed_rest(X, None, found, 0)
    off = noise * (-2 * rest - (d - k) * np.log(2 * np.pi * noise))
    for p in range(9):
        others = np.delete(patterns, p, axis=0)
        basis = np.linalg.qr((others[1:] - others[0]).T)[0]
        gap = patterns[p] - others[0]
        bound = gap @ gap - np.sum((gap @ basis) ** 2)
        assert off[20 * p] >= 0.99 * bound


def test_a_frame_of_float_columns_is_scored_as_its_array():
    # it was read as a table (rows as they are, no subspace): scores and
    # flags of pd.read_csv's frame differed from those of its values
    pd = pytest.importorskip("pandas")
    X = load_breast_cancer().data[:80, :8]  # far from order 1
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    array = VAEOutlierDetector(random_state=0).fit(X)
    table = VAEOutlierDetector(random_state=0).fit(frame)
    assert table.input_offset_ is not None
    assert list(table.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(table.score_samples(frame), array.score_samples(X))
    np.testing.assert_array_equal(table.predict(frame), array.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        table.score_samples(frame.iloc[:, ::-1])
    holes = frame.copy()
    holes.iloc[3, 1] = np.nan  # named, as a table's holes are
    for call in (VAEOutlierDetector(random_state=0).fit, table.score_samples):
        with pytest.raises(ValueError, match=r"columns \['c1'\] hold missing"):
            call(holes)
    # pd.DataFrame(X)'s integer labels, which scikit-learn leaves unchecked:
    # swapped columns were scored by place (87% of new rows flagged)
    numbered = VAEOutlierDetector(random_state=0).fit(pd.DataFrame(X))
    swapped = pd.DataFrame(X).iloc[:, ::-1]
    for call in (numbered.score_samples, numbered.predict):
        with pytest.raises(ValueError, match="another order"):
            call(swapped)
    np.testing.assert_allclose(
        numbered.score_samples(pd.DataFrame(X)), array.score_samples(X)
    )
    # a frame with another column type, or for a model passed in: a table
    mixed = frame.assign(c0=frame["c0"].round().astype(int))
    assert VAEOutlierDetector(random_state=0).fit(mixed).input_offset_ is None
    with pytest.warns(UserWarning, match="far from order 1"):
        given = VAEOutlierDetector(tiny_vae(), random_state=0).fit(frame)
    assert "table_encoder_" in vars(given.estimator_)


def test_columns_in_different_units_draw_a_warning():
    # raw wine: proline varies about 400 times as much as the median column,
    # and decides the neighbour distances and the model's fit nearly alone
    X = load_wine(as_frame=True).data
    with pytest.warns(UserWarning, match="'proline' of X varies"):
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(X)
    with pytest.warns(UserWarning, match="Column 12 of X varies"):
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(X.to_numpy())
    scaled = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(scaled)
        # sparse counts spread so, and are compared as they are
        counts = np.random.RandomState(0).poisson([5000, 1, 1, 1], (40, 4))
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(sp.csr_matrix(counts))
    with pytest.warns(UserWarning, match="Column 0 of X varies"):
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(counts.astype(float))
    # rows of weight 0 count for nothing
    weight = np.r_[np.ones(len(X) - 5), np.zeros(5)]
    far = scaled.copy()
    far[-5:, 0] = 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(far, sample_weight=weight)
    # a table with a category column: the advice scales its number columns
    X["kind"] = pd.Categorical(np.where(np.arange(len(X)) % 2, "u", "v"))
    with pytest.warns(UserWarning, match="ColumnTransformer"):
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(X)


def test_a_table_far_from_order_one_is_the_users_to_scale():
    # the detector rescales an array's rows (a frame of floats is one), not
    # a table's: the model's warning reaches the user
    rng = np.random.RandomState(0)
    X = pd.DataFrame(1e4 + rng.normal(size=(120, 3)), columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(X)
    X["kind"] = pd.Categorical(rng.choice(["u", "v"], size=120))
    with pytest.warns(UserWarning, match="far from order 1"):
        VAEOutlierDetector(random_state=0, n_neighbors=3).fit(X)


def test_directions_found_at_random_below_exact_max_or_exactly(monkeypatch):
    # 512 to 1,023 features: randomized subspace iteration where the
    # spectrum falls fast (images), an eigendecomposition where it does not
    import skvae.outlier as outlier

    rng = np.random.RandomState(0)
    low = rng.normal(size=(520, 8)) @ rng.normal(size=(8, 520))
    low += 0.1 * rng.normal(size=low.shape)
    noise = rng.normal(size=(520, 520))
    real, found = outlier._leading_directions, []

    def record(*args, **kwargs):
        found.append(real(*args, **kwargs))
        return found[-1]

    monkeypatch.setattr(outlier, "_leading_directions", record)
    fast = [outlier._principal_subspace(X, random_state=0) for X in (low, noise)]
    assert found[0] is not None  # at random
    assert found[1] is None  # given up: 64 directions hold 17% of the noise
    monkeypatch.setattr(outlier, "_RANDOM_MIN", 10**6)
    exact = [outlier._principal_subspace(X, random_state=0) for X in (low, noise)]
    assert len(found) == 2
    (_, components, rest), (_, truth, true_rest) = fast[0], exact[0]
    assert components.shape == truth.shape
    # the same subspace and residual variance, to the iteration's precision
    np.testing.assert_allclose(components @ truth.T @ truth, components, atol=1e-6)
    assert rest == pytest.approx(true_rest, rel=1e-6)
    for a, b in zip(fast[1], exact[1], strict=True):  # the exact path itself
        np.testing.assert_array_equal(a, b)
