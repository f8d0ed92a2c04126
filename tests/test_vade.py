"""VaDE: clustering in the latent space of a Gaussian-mixture-prior VAE."""

import inspect
import itertools
import warnings

import numpy as np
import pytest
import torch
from conftest import stopped_by_the_rule, tiny_vae
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

import skvae.models.vade as vade_module
from skvae import VAE, VaDE
from skvae.nn.likelihoods import BernoulliLikelihood, GaussianLikelihood
from skvae.nn.mixture import SharedVarianceGaussian

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def vade(digits):
    X, _ = digits
    return VaDE(
        10,
        likelihood="bernoulli",
        random_state=0,
        device="cpu",
    ).fit(X)


def test_vade_beats_kmeans_on_pixels(vade, digits):
    # Single fits spread widely: over seeds 0 to 7 the default network here
    # ((256, 256, 1024) on 64 features) gave ARI 0.641 to 0.757, mean 0.697
    # (the paper's network, the default before: 0.655 to 0.752, mean 0.717),
    # against 0.664 to 0.673 for KMeans on the pixels; the mean of these two
    # fixed seeds, 0.711 and 0.757 (measured), must clear KMeans by 0.01.
    X, y = digits
    second = clone(vade).set_params(random_state=1).fit(X)
    ari_vade = np.mean([adjusted_rand_score(y, m.labels_) for m in (vade, second)])
    ari_kmeans = adjusted_rand_score(
        y, KMeans(10, n_init=10, random_state=0).fit_predict(X)
    )
    assert ari_vade > ari_kmeans + 0.01, (ari_vade, ari_kmeans)


def test_spherical_initialisation_follows_directions():
    # Codes on three rays from the origin, lengths 1 to 10: the spherical
    # initialisation gives one component per ray, with a third of the rows
    # each; a Gaussian mixture fitted to the same codes splits them by length.
    rng = np.random.RandomState(0)
    rays = np.linalg.qr(rng.normal(size=(4, 3)))[0].T  # orthonormal directions
    ray = np.repeat(np.arange(3), 200)
    Z = rays[ray] * rng.uniform(1, 10, size=(600, 1))
    Z += 0.05 * rng.normal(size=Z.shape)
    vade = VaDE(n_clusters=3, random_state=0)
    vade._seed = 0
    weights, means, variances = vade._initial_mixture(Z)
    np.testing.assert_allclose(weights, 1 / 3, atol=1e-9)
    cosines = (means / np.linalg.norm(means, axis=1, keepdims=True)) @ rays.T
    np.testing.assert_allclose(np.sort(cosines.max(0)), 1.0, atol=1e-3)
    assert np.all(variances > 0)
    gmm = vade.set_params(init_params="gmm")._initial_mixture(Z)
    assert not np.allclose(gmm[0], 1 / 3, atol=0.05)


def test_vade_clusterer_api(vade, digits):
    X, _ = digits
    np.testing.assert_array_equal(vade.predict(X), vade.labels_)
    proba = vade.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), vade.labels_)
    assert vade.transform(X).shape == (len(X), 10)
    assert np.all(np.isfinite(vade.score_samples(X[:50])))
    assert vade.weights_.shape == (10,)
    np.testing.assert_allclose(vade.weights_.sum(), 1.0, rtol=1e-5)
    assert vade.means_.shape == vade.covariances_.shape == (10, 10)
    assert np.all(vade.covariances_ > 0)
    # "auto": at least 50 epochs and 1,000 steps of the paper's batch of 100
    steps_per_epoch = -(-len(X) // 100)
    assert len(vade.pretrain_history_) == max(50, -(-1000 // steps_per_epoch)) == 56
    # Pretraining is an autoencoder: no KL.
    assert vade.pretrain_history_[-1]["kl"] == 0.0
    assert vade.history_[-1]["kl"] > 0.0


def test_vade_samples_from_a_cluster_land_in_it(vade):
    for k in (0, 5):
        rows = vade.sample(50, cluster=k, random_state=0)
        assert rows.shape == (50, 64)
        assert np.all((rows >= 0) & (rows <= 1))
        assert np.mean(vade.predict(rows) == k) > 0.7
    mixed = vade.predict(vade.sample(300, random_state=0))
    assert len(np.unique(mixed)) >= 8
    with pytest.raises(ValueError, match="cluster must hold integers"):
        vade.sample(3, cluster=10)
    # one cluster or one a row: numpy's broadcasting message was all it said
    for wrong in ([0, 1], [], [[0, 1, 2]]):
        with pytest.raises(ValueError, match=r"one cluster or one per row \(3\)"):
            vade.sample(3, cluster=wrong)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warned of a read-only array
        assert vade.sample(3, cluster=[0, 1, 2], random_state=0).shape == (3, 64)
        assert vade.sample(3, cluster=1, random_state=0).shape == (3, 64)


def test_vade_is_reproducible(digits):
    X, _ = digits
    fit = [
        tiny_vae(VaDE, n_clusters=4, pretrain_max_iter=3).fit(X[:300]).labels_
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fit[0], fit[1])


def test_auto_budgets_follow_the_steps_per_epoch(digits):
    # 160 rows in batches of 2: 80 steps an epoch. The pretraining gets the
    # epochs of about 1,000 steps (13), the main phase those of about 150
    # steps, at least 2 (2); with early stopping the split's 144 training
    # rows give 72 steps an epoch (14 and 3 epochs). Integers are kept.
    X, _ = digits
    auto = dict(pretrain_max_iter="auto", max_iter="auto", batch_size=2)
    model = tiny_vae(VaDE, n_clusters=2, **auto).fit(X[:160])
    assert (model.pretrain_max_iter_, model.max_iter_) == (13, 2)
    assert (len(model.pretrain_history_), model.n_iter_) == (13, 2)
    model.set_params(early_stopping=True).fit(X[:160])
    assert (model.pretrain_max_iter_, model.max_iter_) == (14, 3)
    model.set_params(pretrain_max_iter=2, max_iter=3).fit(X[:160])
    assert (model.pretrain_max_iter_, model.max_iter_, model.n_iter_) == (2, 3, 3)
    # partial_fit trains one epoch whatever the budget
    fresh = tiny_vae(VaDE, n_clusters=2, pretrain_max_iter=1, max_iter="auto")
    assert fresh.partial_fit(X[:40]).n_iter_ == 1


def test_vade_needs_as_many_rows_as_clusters():
    X = np.random.RandomState(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match="n_clusters"):
        tiny_vae(VaDE, n_clusters=6).fit(X)


@pytest.mark.parametrize("n_clusters", [4, 5])
def test_clusters_of_duplicated_rows_keep_their_labels(n_clusters):
    # three distinct rows, each 20 times, and more clusters than them: the
    # empty k-means clusters took the codes' whole variance, and once the
    # codes moved they took every row (counts [0 0 0 60], ARI 0)
    import warnings

    rng = np.random.RandomState(0)
    truth = np.repeat(np.arange(3), 20)
    X = (rng.normal(size=(3, 3)) * 3)[truth]
    model = VaDE(n_clusters=n_clusters, max_iter=5, pretrain_max_iter=5, random_state=0)
    with warnings.catch_warnings():  # KMeans: fewer distinct points than clusters
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert adjusted_rand_score(truth, model.labels_) == 1.0
    assert np.all(
        model.weights_[np.bincount(model.labels_, minlength=n_clusters) == 0] < 0.01
    )


def test_vade_takes_exactly_its_constrained_parameters():
    params = set(inspect.signature(VaDE).parameters) - {"kwargs"}
    assert params == set(VaDE._parameter_constraints)


def test_capacity_schedule_holds_the_whole_kl_at_the_capacity(digits):
    # beta=20 alone squeezes the KL (of z and of the clusters) to ~1.4 nats;
    # kl_schedule="capacity" penalises its distance to max_capacity instead,
    # and it settles there (measured: 8.1).
    X, _ = digits
    settings = dict(
        n_clusters=3,
        hidden_layer_sizes=(32,),
        pretrain_max_iter=5,
        max_iter=20,
        likelihood="bernoulli",
        beta=20.0,
    )
    squeezed = tiny_vae(VaDE, **settings).fit(X[:300])
    held = tiny_vae(VaDE, kl_schedule="capacity", max_capacity=8.0, **settings)
    held.fit(X[:300])
    assert squeezed.history_[-1]["kl"] < 3.0
    assert abs(held.history_[-1]["kl"] - 8.0) < 1.0


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(objective="iwae", kl_schedule="capacity"), "iwae"),
        (dict(objective="iwae", free_bits=0.5), "iwae"),
        (dict(precision="bfloat16"), "bfloat16"),
    ],
)
def test_vade_refuses_what_it_cannot_honour(params, match, digits):
    X, _ = digits
    with pytest.raises(ValueError, match=match):
        tiny_vae(VaDE, n_clusters=3, pretrain_max_iter=1, **params).fit(X[:50])


def test_partial_fit_pretrains_once_and_keeps_the_mixture_current(digits):
    X, _ = digits
    model = tiny_vae(VaDE, n_clusters=3, pretrain_max_iter=2)
    model.partial_fit(X[:200])
    first = model.means_.copy()
    model.partial_fit(X[200:400])
    assert len(model.pretrain_history_) == 2
    assert model.n_iter_ == 2
    assert model.weights_.shape == (3,)
    assert not np.allclose(model.means_, first)
    # the last chunk's clusters, as MiniBatchKMeans gives (a fit's went stale)
    np.testing.assert_array_equal(model.labels_, model.predict(X[200:400]))


def test_pipeline_recipes_on_vae_latents(digits):
    X, y = digits
    vae = VAE(n_components=10, max_iter=30, random_state=0, device="cpu")
    kmeans = Pipeline(
        [("scale", MinMaxScaler()), ("vae", vae), ("kmeans", KMeans(10, n_init=4))]
    ).fit(X)
    gmm = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("vae", vae),
            ("gmm", GaussianMixture(10, random_state=0)),
        ]
    ).fit(X)
    for labels in (kmeans[-1].labels_, gmm.predict(X)):
        assert adjusted_rand_score(y, labels) > 0.3  # chance is 0


def test_shared_variance_clusters_digits_by_their_strokes(digits):
    # Digits 3, 5 and 8 after a short pretraining (20 epochs, 64 units, no
    # main phase): with one variance for all pixels the codes separate the
    # digits (ARI 0.62 and 0.61 for seeds 0 and 1, measured); with a
    # variance per pixel the never-inked border pixels get a tiny variance,
    # dominate the loss, and the clusters follow them (0.27 and 0.31).
    X, y = digits
    keep = np.isin(y, [3, 5, 8])
    X, y = X[keep], y[keep]
    shared = VaDE(
        3,
        hidden_layer_sizes=(64,),
        pretrain_max_iter=20,
        max_iter=0,
        random_state=0,
        device="cpu",
    ).fit(X)
    per_feature = clone(shared).set_params(shared_variance=False).fit(X)
    variance = shared.module_.likelihood.variance.numpy()
    assert isinstance(shared.module_.likelihood, SharedVarianceGaussian)
    np.testing.assert_allclose(variance, variance[0], rtol=1e-6)
    spread = per_feature.module_.likelihood.variance.numpy()
    assert type(per_feature.module_.likelihood) is GaussianLikelihood
    assert spread.max() > 10 * spread.min()
    ari_shared = adjusted_rand_score(y, shared.labels_)
    ari_per_feature = adjusted_rand_score(y, per_feature.labels_)
    assert ari_shared > ari_per_feature + 0.15, (ari_shared, ari_per_feature)
    # other likelihoods are left as they are
    bernoulli = tiny_vae(VaDE, likelihood="bernoulli").fit(X[:50])
    assert type(bernoulli.module_.likelihood) is BernoulliLikelihood


def test_auto_network_is_the_papers_scaled_to_narrow_data():
    # "auto": the paper's (500, 500, 2000) from 125 features up (MNIST's 784
    # included), narrower in proportion below, never under 16 units.
    auto = VaDE(2)
    assert auto._hidden_sizes(784) == auto._hidden_sizes(125) == (500, 500, 2000)
    assert auto._hidden_sizes(64) == (256, 256, 1024)
    assert auto._hidden_sizes(3) == (16, 16, 48)
    # the fit builds it (only the network here, no training)
    X = np.random.RandomState(0).uniform(size=(12, 13))
    model = auto.set_params(pretrain_max_iter=0, max_iter=0).fit(X)
    widths = [
        layer.out_features
        for layer in model.module_.encoder.modules()
        if isinstance(layer, torch.nn.Linear)
    ]
    # (52, 52, 208) for 13 features, narrower for 12 rows (below)
    assert model.hidden_layer_sizes_ == tuple(widths[:3]) == (45, 45, 182)
    assert auto._hidden_sizes(13, 5000) == (52, 52, 208)
    # a given network is built as given, whatever the width of the data
    model.set_params(hidden_layer_sizes=(7, 5)).fit(X)
    assert model.hidden_layer_sizes_ == (7, 5)


def test_auto_network_narrows_on_few_rows_of_narrow_data():
    # on few rows the "auto" budget's epochs would multiply the cost: the
    # widths of narrow data shrink by one factor so that those epochs cost
    # at most 95 epochs of an MLP (512, 256); the factor is at least 1/4 and
    # n_features / 125, so MNIST's 784 pixels keep the paper's network
    auto = VaDE(10)
    paper = (500, 500, 2000)
    for n in (50, 1000, 3000, 5000):
        assert auto._hidden_sizes(784, n) == paper
    assert auto._hidden_sizes(64, 5000) == auto._hidden_sizes(64) == (256, 256, 1024)
    widths = [auto._hidden_sizes(64, n) for n in (724, 1000, 1797, 2500)]
    assert widths[2] == (210, 210, 842)
    assert all(a[0] < b[0] < 256 for a, b in itertools.pairwise(widths))
    for w in widths:  # one factor for every width
        assert abs(w[2] / w[0] - 4) < 0.05, w

    def cost(ws, d=64):
        layers = (d, *ws, 10)
        return sum(a * b for a, b in itertools.pairwise(layers))

    # 1,797 rows: 56 pretraining epochs and 9 of the main phase
    budget = 95 * cost((512, 256))
    assert cost(widths[2]) * 65 <= budget < cost((211, 211, 846)) * 65
    # the floor: 64 / 125 of the widths on digits (a quarter on narrower data)
    assert auto._hidden_sizes(64, 30) == (131, 131, 524)
    assert auto._hidden_sizes(100, 1000) == (320, 320, 1280)
    # the fit builds it from its rows; a given network is built as given
    X = np.random.RandomState(0).uniform(size=(30, 64))
    model = VaDE(2, pretrain_max_iter=0, max_iter=0).fit(X)
    assert model.hidden_layer_sizes_ == (131, 131, 524)
    assert model.set_params(hidden_layer_sizes=(7,)).fit(X).hidden_layer_sizes_ == (7,)


@pytest.mark.parametrize("native", [True, False])
def test_auto_budget_of_a_wide_network_is_capped_on_few_rows(monkeypatch, native):
    # the "auto" plan (batch, pretraining epochs, main epochs, pretraining
    # autocast) costs at most 120 epochs of an MLP (512, 256) at batches of
    # 256, an epoch counted as the multiply-adds per row times the rows plus
    # 32 rows a step, a bfloat16 pretraining epoch as half a float32 one
    monkeypatch.setattr(vade_module, "_native_bfloat16", lambda device: native)

    def cost(ws, n, b, d=784):
        layers = (d, *ws, 10)
        row = sum(a * c for a, c in itertools.pairwise(layers))
        return row * (n + 32 * -(-n // b))

    paper = (500, 500, 2000)
    auto = VaDE(10)
    auto.n_features_in_, auto.hidden_layer_sizes_ = 784, paper
    sizes = range(1000, 5001, 250)
    plans = [auto._auto_plan(n) for n in sizes]
    for n, (b, pre, main, cast) in zip(sizes, plans, strict=True):
        share = 1.0 if cast is None else 1 / 2
        planned = (share * pre + main) * cost(paper, n, b)
        assert planned <= 120 * cost((512, 256), n, 256) + 1
        assert 50 <= b <= 100
        assert pre >= 10
        assert main >= 2
    # many rows keep the uncapped plan, in float32; few rows pretrain under
    # bfloat16 where the device computes it natively, else in smaller
    # batches (more of the 1,000 steps for the cost)
    assert plans[-1] == (100, 20, 3, None)
    if native:
        assert plans[0] == (100, 58, 4, torch.bfloat16)  # uncapped: 100 + 15
        assert [p[0] for p in plans] == [100] * len(plans)
    else:
        assert plans[0] == (50, 23, 3, None)
        assert all(a[0] <= b[0] for a, b in itertools.pairwise(plans))
    assert all(p[3] is None for p in plans if p[1:3] == auto._auto_plan(5000)[1:3])
    # precision="float32" keeps float32; a given batch is kept
    b, pre, main, cast = auto.set_params(precision="float32")._auto_plan(1000)
    assert cast is None
    assert (pre + main) * cost(paper, 1000, b) <= 120 * cost((512, 256), 1000, 256)
    assert auto.set_params(batch_size=80)._auto_plan(1000)[0] == 80
    # narrow data's network, which already follows the rows, keeps the
    # uncapped plan on 1,797 rows
    digits = VaDE(10)
    digits.n_features_in_ = 64
    digits.hidden_layer_sizes_ = digits._hidden_sizes(64, 1797)
    assert digits._auto_plan(1797) == (100, 56, 9, None)


@pytest.mark.parametrize("native", [True, False])
def test_a_fit_trains_the_auto_plan(monkeypatch, native):
    # 40 rows of 130 features: the paper's network, whose uncapped plan
    # (1,000 epochs of one step, then 50) the cap cuts
    monkeypatch.setattr(vade_module, "_native_bfloat16", lambda device: native)
    X = np.random.RandomState(0).uniform(size=(40, 130))
    model = VaDE(2, n_components=2, random_state=0).fit(X)
    assert model.hidden_layer_sizes_ == (500, 500, 2000)
    plan = model._auto_plan(40)
    assert plan == ((40, 32, 2, torch.bfloat16) if native else (40, 16, 2, None))
    assert (len(model.pretrain_history_), model.n_iter_) == plan[1:3]
    # only the pretraining's trainer was told the module is autocast-safe
    assert model.module_.supports_autocast is False
    assert np.isfinite(model.means_).all()


def test_auto_network_with_images_is_small_conv_channels():
    """With input_shape, "auto" gives conv channels, not the dense widths."""
    X = np.random.RandomState(0).uniform(size=(12, 64))
    model = VaDE(2, input_shape=(1, 8, 8), pretrain_max_iter=0, max_iter=0).fit(X)
    assert model.hidden_layer_sizes_ == (32, 64)
    assert sum(p.numel() for p in model.module_.parameters()) < 10**6


def test_a_loaded_model_keeps_the_widths_it_was_built_with(tmp_path, monkeypatch):
    """Loading rebuilds the saved widths, even where "auto" now gives others."""
    import skvae

    X = np.random.RandomState(0).uniform(size=(12, 13))
    model = VaDE(2, pretrain_max_iter=0, max_iter=0, random_state=0).fit(X)
    path = tmp_path / "vade.skvae"
    skvae.save(model, path)
    monkeypatch.setattr(VaDE, "_auto_hidden", (400, 400, 1600))
    loaded = skvae.load(path)
    assert loaded.hidden_layer_sizes_ == model.hidden_layer_sizes_ == (45, 45, 182)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    # a new fit follows the rule as it is
    assert VaDE(2, pretrain_max_iter=0, max_iter=0).fit(X).hidden_layer_sizes_ == (
        42,
        42,
        166,
    )


def test_a_pretraining_budget_set_by_hand_runs_as_asked(monkeypatch):
    """bfloat16 buys the capped "auto" pretraining its epochs; a budget the
    user sets trains in the arithmetic they asked for (float32 here)."""
    monkeypatch.setattr(vade_module, "_native_bfloat16", lambda device: True)
    seen = []
    make = VaDE._make_trainer

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("autocast"))
        return make(self, *args, **kwargs)

    monkeypatch.setattr(VaDE, "_make_trainer", spy)
    X = np.random.RandomState(0).uniform(size=(40, 130))
    VaDE(2, n_components=2, pretrain_max_iter=2, max_iter=1, random_state=0).fit(X)
    assert torch.bfloat16 not in seen
    seen.clear()
    VaDE(2, n_components=2, max_iter=1, random_state=0).fit(X)
    assert torch.bfloat16 in seen


def test_pretraining_stops_when_its_loss_settles():
    # the autoencoder's training loss, by the estimator's tol and
    # n_iter_no_change, well within a budget of 300 epochs
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(load_iris().data)
    model = VaDE(
        n_clusters=3, n_components=2, hidden_layer_sizes=(16,),
        pretrain_max_iter=300, max_iter=2, tol=1e-2, random_state=0,
    ).fit(X)  # fmt: skip
    losses = [r["train_loss"] for r in model.pretrain_history_]
    assert model.pretrain_max_iter_ == 300 > len(losses)
    stopped_by_the_rule(losses, model.n_iter_no_change, model.tol)


def test_tol_is_read_by_the_pretraining_of_a_short_fit():
    # max_iter within kl_warmup leaves the main phase no loss test, but
    # the first fit's pretraining reads tol and n_iter_no_change
    X = np.random.RandomState(0).normal(size=(60, 4))
    model = VaDE(
        n_clusters=2, n_components=2, hidden_layer_sizes=(8,), pretrain_max_iter=5,
        max_iter=2, kl_warmup=5, tol=1e-2, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
