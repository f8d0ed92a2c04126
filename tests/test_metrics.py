"""Disentanglement metrics (skvae.metrics) and sprites (skvae.datasets)."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skvae import VAE
from skvae.datasets import (
    SPRITE_FACTOR_SIZES,
    SPRITE_FACTORS,
    SPRITE_SHAPES,
    make_sprites,
)
from skvae.metrics import (
    DCIScores,
    dci_disentanglement,
    dci_scorer,
    dci_scores,
    make_disentanglement_scorer,
    mig_scorer,
    mutual_information_gap,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N = 1500  # rows for the metric tests: enough for stable estimates, still fast


@pytest.fixture(scope="module")
def sprites():
    return make_sprites(N, random_state=0)


@pytest.fixture(scope="module")
def encoders(sprites):
    """Codes of three encoders of the sprites' factors, plus 4 nuisance dims each."""
    _, factors = sprites
    rng = np.random.RandomState(1)
    z = (factors - factors.mean(0)) / factors.std(0)
    nuisance = rng.normal(size=(N, 4))
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    return {
        # each factor in its own dimension, through a monotone map, tiny noise
        "perfect": np.column_stack(
            [np.tanh(z) + 1e-3 * rng.normal(size=z.shape), nuisance]
        ),
        # each dimension mixes every factor
        "entangled": np.column_stack([z @ rotation, nuisance]),
        # nothing to do with the factors
        "random": rng.normal(size=(N, 8)),
    }


# ------------------------------------------------------------------ sprites
def test_sprites_shapes_dtypes_and_pixel_range():
    X, factors = make_sprites(50, random_state=0)
    assert X.shape == (50, 256)
    assert X.dtype == np.float64
    assert factors.shape == (50, len(SPRITE_FACTORS))
    assert np.issubdtype(factors.dtype, np.integer)
    assert X.min() >= 0.0
    assert X.max() <= 1.0
    assert np.all(X.max(axis=1) == 1.0)  # every sprite has a fully covered pixel
    assert np.any((X > 0) & (X < 1))  # anti-aliased edges
    assert len(SPRITE_SHAPES) == SPRITE_FACTOR_SIZES[0]
    X32, _ = make_sprites(5, image_size=32, random_state=0)
    assert X32.shape == (5, 32 * 32)


def test_sprites_are_deterministic_given_random_state():
    X1, f1 = make_sprites(100, random_state=3)
    X2, f2 = make_sprites(100, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(f1, f2)
    _, f3 = make_sprites(100, random_state=4)
    assert not np.array_equal(f1, f3)


def test_drawn_sprites_are_the_images_of_their_combinations():
    """Rows drawn at random are the same images as the full set's, in its
    lexicographic order of factor indices (each combination drawn alone)."""
    for size in (8, 12):
        X_all, f_all = make_sprites(None, image_size=size)
        X, factors = make_sprites(40, image_size=size, random_state=1)
        index = np.ravel_multi_index(tuple(factors.T), SPRITE_FACTOR_SIZES)
        np.testing.assert_array_equal(f_all[index], factors)
        np.testing.assert_array_equal(X, X_all[index])
    assert len(np.unique(X_all, axis=0)) == len(X_all)  # no two alike


def test_sprite_images_are_a_function_of_the_factors():
    X, factors = make_sprites(3000, random_state=0)
    _, first = np.unique(factors, axis=0, return_index=True)
    _, which = np.unique(factors, axis=0, return_inverse=True)
    np.testing.assert_array_equal(X, X[first][which.ravel()])


def test_full_grid_lists_every_combination_once():
    X, factors = make_sprites(None, image_size=12)
    n = int(np.prod(SPRITE_FACTOR_SIZES))
    assert X.shape == (n, 144)
    assert len(np.unique(factors, axis=0)) == n
    assert len(np.unique(X.round(8), axis=0)) == n  # every combination looks distinct
    for j, size in enumerate(SPRITE_FACTOR_SIZES):
        np.testing.assert_array_equal(np.unique(factors[:, j]), np.arange(size))


def test_sprite_factors_mean_what_they_say():
    X, factors = make_sprites(None)
    images = X.reshape(-1, 16, 16)
    mass = images.sum(axis=(1, 2))
    cols = (images.sum(axis=1) * np.arange(16)).sum(axis=1) / mass
    rows = (images.sum(axis=2) * np.arange(16)).sum(axis=1) / mass
    shape, scale, pos_x, pos_y = factors.T
    for s in range(SPRITE_FACTOR_SIZES[0]):
        by_scale = [mass[(shape == s) & (scale == k)].mean() for k in range(4)]
        assert np.all(np.diff(by_scale) > 0)  # bigger scale, more ink
    # the centroid moves right with pos_x and down with pos_y
    assert np.all(np.diff([cols[pos_x == k].mean() for k in range(8)]) > 0.5)
    assert np.all(np.diff([rows[pos_y == k].mean() for k in range(8)]) > 0.5)
    # pos_x does not move the sprite vertically
    for k in range(8):
        np.testing.assert_allclose(rows[(pos_x == k) & (pos_y == 0)].std(), 0, atol=1)


def test_sprite_factors_are_independent_and_cover_their_values():
    _, factors = make_sprites(4000, random_state=0)
    for j, size in enumerate(SPRITE_FACTOR_SIZES):
        counts = np.bincount(factors[:, j], minlength=size)
        assert len(counts) == size
        assert counts.min() > 0.7 * 4000 / size
        for k in range(j):
            assert mutual_info_score(factors[:, j], factors[:, k]) < 0.02


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be an int"),
        ({"n_samples": True}, TypeError, "n_samples must be an int"),
        ({"image_size": 4}, ValueError, "image_size must be >= 8"),
        ({"image_size": "16"}, TypeError, "image_size must be an int"),
    ],
)
def test_sprites_reject_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_sprites(**kwargs)


# ------------------------------------------------------------------ metrics
def test_perfect_encoder_scores_near_the_maximum(sprites, encoders):
    _, factors = sprites
    codes = encoders["perfect"]
    assert mutual_information_gap(factors, codes) > 0.8
    scores = dci_scores(factors, codes, random_state=0)
    assert isinstance(scores, DCIScores)
    assert scores.disentanglement > 0.8
    assert scores.completeness > 0.8
    assert scores.informativeness > 0.95


def test_random_encoder_scores_near_zero(sprites, encoders):
    _, factors = sprites
    codes = encoders["random"]
    assert mutual_information_gap(factors, codes) < 0.1
    scores = dci_scores(factors, codes, random_state=0)
    assert scores.disentanglement < 0.1
    assert scores.completeness < 0.1
    # chance level is the largest class share (a third for the shape factor)
    assert scores.informativeness < 0.4


def test_entangled_encoder_scores_below_perfect(sprites, encoders):
    _, factors = sprites
    perfect, entangled = encoders["perfect"], encoders["entangled"]
    mig = mutual_information_gap(factors, entangled)
    assert mig < 0.5
    assert mig < mutual_information_gap(factors, perfect) - 0.3
    scores = dci_scores(factors, entangled, random_state=0)
    assert scores.disentanglement < 0.5
    # the information is all there, only mixed
    assert scores.informativeness > 0.8


def test_mig_ignores_the_order_of_codes_and_quantile_bins_monotone_maps(
    sprites, encoders
):
    _, factors = sprites
    codes = encoders["entangled"]
    order = np.random.RandomState(0).permutation(codes.shape[1])
    assert mutual_information_gap(factors, codes[:, order]) == pytest.approx(
        mutual_information_gap(factors, codes)
    )
    assert mutual_information_gap(
        factors, np.exp(codes), strategy="quantile"
    ) == pytest.approx(mutual_information_gap(factors, codes, strategy="quantile"))


def test_mig_accepts_labels_a_single_factor_and_a_single_code():
    rng = np.random.RandomState(0)
    labels = rng.choice(["a", "b", "c"], size=300)
    codes = (labels[:, None] == np.array(["a", "b", "c"])) @ np.array([[0.0], [1], [2]])
    assert mutual_information_gap(labels, codes) == pytest.approx(1.0)
    assert mutual_information_gap(labels, codes.astype(np.float32)) == pytest.approx(
        1.0
    )
    # a constant code carries no information
    assert mutual_information_gap(labels, np.zeros((300, 2))) == 0.0


def test_dci_with_a_linear_classifier(sprites, encoders):
    _, factors = sprites
    factors, codes = factors[:300], encoders["perfect"][:300]
    linear = LogisticRegression(max_iter=300)
    scores = dci_scores(factors, codes, estimator=linear, random_state=0)
    assert scores.disentanglement > 0.5
    assert dci_disentanglement(
        factors, codes, estimator=linear, random_state=0
    ) == pytest.approx(scores.disentanglement)


def test_dci_rejects_estimators_without_importances():
    rng = np.random.RandomState(0)
    factors = rng.randint(3, size=(100, 2))
    with pytest.raises(TypeError, match="neither feature_importances_ nor coef_"):
        dci_scores(factors, factors + 0.0, estimator=KNeighborsClassifier())


@pytest.mark.parametrize("metric", [mutual_information_gap, dci_scores])
def test_metrics_reject_bad_inputs(metric):
    rng = np.random.RandomState(0)
    factors = rng.randint(3, size=(20, 2))
    codes = rng.normal(size=(20, 3))
    with pytest.raises(ValueError, match="20 rows of factors and 19 rows of codes"):
        metric(factors, codes[:19])
    bad = codes.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="codes contains NaN"):
        metric(factors, bad)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="codes contains infinity"):
        metric(factors, bad)
    with pytest.raises(ValueError, match="Expected 2D array"):
        metric(factors, codes[:, 0])
    with pytest.raises(ValueError, match="Factor column 1 takes the single value"):
        metric(np.column_stack([factors[:, 0], np.ones(20)]), codes)
    with pytest.raises(ValueError, match="factors must be 1-D or 2-D"):
        metric(factors[:, :, None], codes)
    with pytest.raises(ValueError, match="minimum of 1 is required"):
        metric(factors, codes[:, :0])
    # None among string factors: numpy's sort raised a bare TypeError
    named = np.array(["a", "b"] * 10, dtype=object)
    named[7] = None
    with pytest.raises(ValueError, match=r"missing values .* at rows \[7\]"):
        metric(named, codes)


def test_metric_specific_arguments_are_checked():
    rng = np.random.RandomState(0)
    factors = rng.randint(3, size=(20, 2))
    codes = rng.normal(size=(20, 3))
    with pytest.raises(ValueError, match="n_bins must be >= 2"):
        mutual_information_gap(factors, codes, n_bins=1)
    with pytest.raises(TypeError, match="n_bins must be an int"):
        mutual_information_gap(factors, codes, n_bins=2.0)
    with pytest.raises(ValueError, match="strategy must be"):
        mutual_information_gap(factors, codes, strategy="kmeans")
    with pytest.raises(ValueError, match="test_size must be in"):
        dci_scores(factors, codes, test_size=1.5)


# ------------------------------------------------------------------ scorers
def test_scorer_is_the_metric_of_the_codes(sprites, encoders):
    _, factors = sprites

    class Encoder:
        def transform(self, X):
            return X

    codes = encoders["entangled"]
    assert mig_scorer(Encoder(), codes, factors) == mutual_information_gap(
        factors, codes
    )
    scorer = make_disentanglement_scorer(mutual_information_gap, n_bins=7)
    assert repr(scorer) == (
        "make_disentanglement_scorer(mutual_information_gap, n_bins=7)"
    )
    assert scorer(Encoder(), codes, factors) == mutual_information_gap(
        factors, codes, n_bins=7
    )
    with pytest.raises(ValueError, match="needs the true factors as y"):
        scorer(Encoder(), codes, None)
    with pytest.raises(TypeError, match="metric must be callable"):
        make_disentanglement_scorer("mig")


def _tiny_vae(**params):
    return VAE(
        n_components=4,
        hidden_layer_sizes=(32,),
        max_iter=3,
        random_state=0,
        device="cpu",
        **params,
    )


def test_scorers_in_cross_val_score_with_a_vae():
    X, factors = make_sprites(200, random_state=0)
    scores = cross_val_score(
        _tiny_vae(likelihood="bernoulli"),
        X,
        factors,
        cv=KFold(2, shuffle=True, random_state=0),
        scoring=mig_scorer,
    )
    assert scores.shape == (2,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_scorers_refuse_a_model_that_fits_the_factors_as_labels():
    """cross_val_score passes y to fit as well: a ConditionalVAE was then
    conditioned on the very factor MIG rates its codes on, and scored low
    without a word."""
    from skvae import ConditionalVAE

    X, factors = make_sprites(120, image_size=8, random_state=0)
    model = ConditionalVAE(
        n_components=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0
    )
    with pytest.raises(ValueError, match="takes y in fit as its labels"):
        cross_val_score(
            model, X, factors[:, 0], cv=2, scoring=mig_scorer, error_score="raise"
        )


def test_scorers_in_grid_search_with_a_vae():
    X, factors = make_sprites(200, random_state=0)
    search = GridSearchCV(
        _tiny_vae(),
        {"beta": [1.0, 4.0]},
        cv=2,
        scoring={"mig": mig_scorer, "dci": dci_scorer},
        refit="mig",
    ).fit(X, factors)
    assert search.best_params_["beta"] in (1.0, 4.0)
    for key in ("mean_test_mig", "mean_test_dci"):
        values = search.cv_results_[key]
        assert np.all(np.isfinite(values))
        assert np.all((values >= 0) & (values <= 1))
    assert search.best_estimator_.transform(X).shape == (200, 4)


def test_mig_warns_about_continuous_factors():
    """A continuous factor makes each value a class (a perfect code scores
    ~0): MIG warns, naming it, rather than return a silent near-zero."""
    rng = np.random.RandomState(0)
    factors = rng.normal(size=(500, 2))
    with pytest.warns(UserWarning, match=r"Factors \[0, 1\]"):
        mutual_information_gap(factors, factors.copy())
    discrete = rng.randint(4, size=(500, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mutual_information_gap(discrete, discrete.astype(float)) > 0.8
