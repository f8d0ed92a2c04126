"""WAE (WAE-MMD) and AdversarialAE: the MMD, the two objectives, the estimators."""

import itertools
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skvae import WAE, AdversarialAE, VAEOutlierDetector
from skvae._training import KLSchedule
from skvae.nn import BernoulliLikelihood
from skvae.nn.autoencoder import AAEModule, WAEModule
from skvae.nn.base import StepContext
from skvae.nn.divergences import mmd

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small networks and batches: adversarial training needs many steps, and
# 1797 rows at batch 200 are only 9 steps an epoch.
_TRAIN = dict(
    n_components=4,
    hidden_layer_sizes=(64,),
    likelihood="bernoulli",
    batch_size=64,
    random_state=0,
    device="cpu",
)


def _ctx(seed=0, beta=1.0):
    gen = torch.Generator().manual_seed(seed)
    return StepContext(beta=beta, free_bits=0.0, generator=gen)


def _prior_mmd(Z):
    """MMD^2 of (the first 800) codes against as many fixed N(0, I) draws."""
    z = torch.as_tensor(Z[:800], dtype=torch.float32)
    prior = torch.randn(z.shape, generator=torch.Generator().manual_seed(123))
    return float(mmd(z, prior))


# ------------------------------------------------------------------- MMD
def _mmd_by_loops(x, y, kernel):
    """The U-statistic written out pair by pair (float64), as a reference."""
    d = x.shape[1]
    widths = [2.0 * d * s for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)]

    def k(a, b):
        sq = float(np.sum((a - b) ** 2))
        if kernel == "imq":
            return sum(c / (c + sq) for c in widths)
        return sum(np.exp(-sq / c) for c in widths)

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(n), 2))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2))
    xy = sum(k(a, b) for a in x for b in y)
    return xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m)


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_mmd_is_the_unbiased_u_statistic(kernel):
    rng = np.random.RandomState(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(1.0, 2.0, size=(5, 3))
    got = mmd(torch.tensor(x), torch.tensor(y), kernel)
    np.testing.assert_allclose(float(got), _mmd_by_loops(x, y, kernel), rtol=1e-10)


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_mmd_near_zero_for_one_distribution_and_grows_with_a_shift(kernel):
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(600, 4, generator=gen), torch.randn(600, 4, generator=gen)
    same = float(mmd(x, y, kernel))
    assert abs(same) < 0.02
    shifts = [float(mmd(x, y + s, kernel)) for s in (0.5, 1.0, 2.0)]
    assert same < shifts[0] < shifts[1] < shifts[2]
    assert float(mmd(x, x.clone(), kernel)) == pytest.approx(0.0, abs=0.02)
    assert float(mmd(y, x, kernel)) == pytest.approx(same, abs=1e-5)


def test_mmd_estimate_can_be_negative():
    # Unbiased: it scatters around 0 when both samples share a distribution.
    gen = torch.Generator().manual_seed(0)
    values = [
        float(mmd(torch.randn(20, 2, generator=gen), torch.randn(20, 2, generator=gen)))
        for _ in range(20)
    ]
    assert min(values) < 0 < max(values)


def test_mmd_rejects_too_few_rows_and_unknown_kernels():
    with pytest.raises(ValueError, match="at least 2 rows"):
        mmd(torch.zeros(1, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="Unknown kernel"):
        mmd(torch.zeros(3, 2), torch.zeros(3, 2), kernel="laplace")


def test_wae_module_repeats_the_batch_mmd_on_every_row():
    torch.manual_seed(0)
    module = WAEModule(5, 2, (8,), "relu", BernoulliLikelihood(5))
    terms = module(torch.rand(6, 5), ctx=_ctx(beta=10.0))
    assert terms.mmd.shape == (6,)
    assert torch.all(terms.mmd == terms.mmd[0])
    torch.testing.assert_close(terms.loss, terms.recon + 10.0 * terms.mmd)
    one_row = module(torch.rand(1, 5), ctx=_ctx())  # no U-statistic from 1 row
    assert one_row.mmd.item() == 0.0


@pytest.mark.parametrize("module_cls", [WAEModule, AAEModule])
@pytest.mark.parametrize("encoder_type", ["deterministic", "gaussian"])
def test_training_terms_are_float32_under_bfloat16_autocast(module_cls, encoder_type):
    assert module_cls.supports_autocast
    module = module_cls(
        5, 2, (8,), "relu", BernoulliLikelihood(5), encoder_type=encoder_type
    )
    with torch.autocast("cpu", dtype=torch.bfloat16):
        terms = module(torch.rand(6, 5), ctx=_ctx())
    assert all(t.dtype == torch.float32 for t in terms)


def test_wae_mmd_runs_in_float32_under_autocast():
    # Autocast would run the distances' matmuls in bfloat16; the MMD, a
    # difference of nearly equal kernel means, is computed without it.
    torch.manual_seed(0)
    module = WAEModule(5, 2, (8,), "relu", BernoulliLikelihood(5))
    x = torch.rand(6, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        terms = module(x, ctx=_ctx(seed=1))
        z = module.embed(x)  # the deterministic code of the step
    prior = module.prior.sample(6, torch.Generator().manual_seed(1))
    torch.testing.assert_close(terms.mmd[0], mmd(z, prior), rtol=0, atol=0)


# ------------------------------------------------ AAE: gradient separation
def _grads(loss, params):
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return [g for g in grads if g is not None and g.abs().sum() > 0]


@pytest.mark.parametrize("encoder_type", ["deterministic", "gaussian"])
def test_aae_objectives_reach_only_their_own_parameters(encoder_type):
    torch.manual_seed(0)
    module = AAEModule(
        5, 2, (8,), "relu", BernoulliLikelihood(5), encoder_type=encoder_type
    )
    terms = module(torch.rand(16, 5), ctx=_ctx())
    disc = list(module.discriminator.parameters())
    autoencoder = list(module.encoder.parameters()) + list(module.decoder.parameters())
    assert not _grads(terms.loss.mean(), disc)
    assert not _grads(terms.disc_loss.mean(), autoencoder)
    # The generator term itself moves the encoder (not the decoder) ...
    assert _grads(terms.adversarial.mean(), list(module.encoder.parameters()))
    assert not _grads(terms.adversarial.mean(), list(module.decoder.parameters()))
    # ... and the discriminator learns from disc_loss.
    assert len(_grads(terms.disc_loss.mean(), disc)) == len(disc)


def test_aae_summed_backward_gives_each_group_its_own_gradient():
    # The trainer backpropagates loss + disc_loss at once.
    torch.manual_seed(0)
    module = AAEModule(5, 2, (8,), "relu", BernoulliLikelihood(5))
    terms = module(torch.rand(16, 5), ctx=_ctx())
    groups = [g["params"] for g in module.parameter_groups()]
    separate = [
        torch.autograd.grad(field.mean(), params, retain_graph=True, allow_unused=True)
        for field, params in zip((terms.loss, terms.disc_loss), groups, strict=True)
    ]
    (terms.loss.mean() + terms.disc_loss.mean()).backward()
    for params, expected in zip(groups, separate, strict=True):
        for p, g in zip(params, expected, strict=True):
            want = torch.zeros_like(p) if g is None else g
            torch.testing.assert_close(
                p.grad if p.grad is not None else torch.zeros_like(p), want
            )


def test_aae_parameter_groups_partition_the_parameters():
    module = AAEModule(5, 2, (8,), "relu", BernoulliLikelihood(5))
    ae, disc = module.parameter_groups()
    ids = [id(p) for p in ae["params"]] + [id(p) for p in disc["params"]]
    assert sorted(ids) == sorted(id(p) for p in module.parameters())
    assert len(set(ids)) == len(ids)
    assert {id(p) for p in disc["params"]} == {
        id(p) for p in module.discriminator.parameters()
    }
    assert module.loss_fields == ("loss", "disc_loss")


def test_aae_noise_comes_from_the_step_generator():
    torch.manual_seed(0)
    module = AAEModule(
        5, 2, (8,), "relu", BernoulliLikelihood(5), encoder_type="gaussian"
    )
    x = torch.rand(8, 5)
    torch.manual_seed(1)
    a = module(x, ctx=_ctx(seed=3))
    torch.manual_seed(2)  # the global state must not matter
    b = module(x, ctx=_ctx(seed=3))
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v)


# ------------------------------------------------------------- estimators
@pytest.fixture(scope="module")
def X_digits(digits):
    return digits[0]


@pytest.fixture(scope="module")
def wae(X_digits):
    return WAE(beta=10.0, max_iter=15, **_TRAIN).fit(X_digits)


@pytest.fixture(scope="module")
def aae(X_digits):
    return AdversarialAE(beta=1.0, max_iter=15, **_TRAIN).fit(X_digits)


@pytest.fixture(scope="module")
def unregularised(X_digits):
    return WAE(beta=0.0, max_iter=15, **_TRAIN).fit(X_digits)


@pytest.fixture(params=["wae", "aae"])
def model(request):
    return request.getfixturevalue(request.param)


def test_models_learn_digits(model, X_digits):
    assert model.n_iter_ == 15
    assert model.loss_curve_[-1] < model.loss_curve_[0] - 10
    recon = model.inverse_transform(model.transform(X_digits))
    mse = np.mean((recon - X_digits) ** 2)
    mean_image_mse = np.mean((X_digits - X_digits.mean(0)) ** 2)
    assert mse < 0.8 * mean_image_mse


def test_aggregate_posterior_is_close_to_the_prior(model, unregularised, X_digits):
    untrained = clone(model).set_params(max_iter=0).fit(X_digits)
    trained = _prior_mmd(model.transform(X_digits))
    assert trained < 0.25 * _prior_mmd(untrained.transform(X_digits))
    assert trained < 0.25 * _prior_mmd(unregularised.transform(X_digits))


def test_history_logs_each_objective(wae, aae):
    assert {"recon", "mmd", "train_loss", "beta"} <= set(wae.history_[-1])
    assert {"recon", "disc_loss", "adversarial", "disc_acc"} <= set(aae.history_[-1])
    assert 0.0 <= aae.history_[-1]["disc_acc"] <= 1.0


def test_shapes_and_finite_scores(model, X_digits):
    X = X_digits[:30]
    Z = model.transform(X)
    assert Z.shape == (30, 4)
    assert model.inverse_transform(Z).shape == (30, 64)
    assert model.sample(5).shape == (5, 64)
    scores = model.score_samples(X)
    assert scores.shape == (30,)
    assert np.all(np.isfinite(scores))
    assert model.score(X) == pytest.approx(scores.mean())
    assert np.all(np.isfinite(model.reconstruction_log_likelihood(X)))
    assert model.get_feature_names_out()[0] == type(model).__name__.lower() + "0"


def test_score_samples_is_the_log_joint_at_the_code(model, X_digits):
    X = X_digits[:10]
    Z = model.transform(X)
    p = np.clip(model.inverse_transform(Z), 1e-7, 1 - 1e-7)
    log_px = np.sum(X * np.log(p) + (1 - X) * np.log1p(-p), axis=1)
    log_pz = -0.5 * np.sum(Z**2 + np.log(2 * np.pi), axis=1)
    np.testing.assert_allclose(model.score_samples(X), log_px + log_pz, rtol=1e-3)


def test_typical_rows_score_higher_than_noise(model, X_digits):
    noise = np.random.RandomState(0).uniform(size=(50, 64))
    assert model.score_samples(X_digits[:50]).mean() > model.score_samples(noise).mean()


def test_interpolation_endpoints_decode_to_the_reconstructions(model, X_digits):
    x0, x1 = X_digits[0], X_digits[1]
    path = model.interpolate(x0, x1, n_steps=5)
    assert path.shape == (5, 64)
    recon = model.inverse_transform(model.transform(X_digits[:2]))
    np.testing.assert_allclose(path[0], recon[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], recon[1], atol=1e-5)


def test_pickle_round_trip(model, X_digits):
    loaded = pickle.loads(pickle.dumps(model))
    X = X_digits[:20]
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
    np.testing.assert_array_equal(loaded.sample(3), model.sample(3))
    loaded.partial_fit(
        X_digits[:64]
    )  # the optimiser state (one Adam per group) comes back
    assert loaded.n_iter_ == model.n_iter_ + 1


@pytest.mark.parametrize("cls", [WAE, AdversarialAE])
@pytest.mark.parametrize("encoder_type", ["deterministic", "gaussian"])
def test_same_random_state_same_model(cls, encoder_type, X_digits):
    X = X_digits[:100]
    params = dict(_TRAIN, encoder_type=encoder_type, log_var_penalty=1e-3, max_iter=2)
    a, b = cls(**params).fit(X), cls(**params).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_
    c = cls(**{**params, "random_state": 1}).fit(X)
    assert not np.array_equal(a.transform(X), c.transform(X))


@pytest.mark.parametrize(("cls", "beta"), [(WAE, 3.0), (AdversarialAE, 0.5)])
def test_beta_is_a_constant_regulariser_weight(cls, beta, X_digits):
    model = cls(**dict(_TRAIN, beta=beta, max_iter=2)).fit(X_digits[:100])
    assert model._kl_schedule() == KLSchedule(beta=beta)
    assert [record["beta"] for record in model.history_] == [beta, beta]


@pytest.mark.parametrize("cls", [WAE, AdversarialAE])
def test_bfloat16_training_follows_float32(cls, X_digits):
    X = X_digits[:300]
    params = dict(_TRAIN, encoder_type="gaussian", log_var_penalty=1e-3, max_iter=3)
    f32 = cls(**params, precision="float32").fit(X)
    bf16 = cls(**params, precision="bfloat16").fit(X)
    np.testing.assert_allclose(bf16.loss_curve_, f32.loss_curve_, rtol=0.02)
    assert np.all(np.isfinite(bf16.score_samples(X)))


@pytest.mark.parametrize("cls", [WAE, AdversarialAE])
def test_post_fit_methods_check_the_fitted_column_types(cls):
    rng = np.random.RandomState(0)
    X = np.c_[rng.normal(size=(40, 2)), rng.randint(0, 2, size=(40, 2))]
    model = cls(**dict(_TRAIN, likelihood="auto", batch_size=20, max_iter=1)).fit(X)
    assert model.column_types_ == [("gaussian", [0, 1]), ("bernoulli", [2, 3])]
    assert np.all(np.isfinite(model.score_samples(X)))
    bad = X.copy()
    bad[0, 2] = 2.0
    for method in (model.score_samples, model.transform):
        with pytest.raises(ValueError, match="Bernoulli"):
            method(bad)


@pytest.mark.parametrize("cls", [WAE, AdversarialAE])
def test_conv_networks_and_partial_fit(cls, X_digits):
    X = X_digits[:64]
    model = cls(
        n_components=2,
        hidden_layer_sizes=(4, 8),
        input_shape=(1, 8, 8),
        likelihood="bernoulli",
        max_iter=1,
        random_state=0,
        device="cpu",
    ).fit(X)
    assert model.transform(X).shape == (64, 2)
    assert model.sample(2).shape == (2, 64)
    model.partial_fit(X[:1])  # a one-row batch: the MMD / the pairs still work
    assert model.n_iter_ == 2


@pytest.mark.parametrize("cls", [WAE, AdversarialAE])
def test_gaussian_encoder_transform_is_deterministic(cls, X_digits):
    X = X_digits[:80]
    model = cls(**dict(_TRAIN, encoder_type="gaussian", max_iter=2)).fit(X)
    np.testing.assert_array_equal(model.transform(X), model.transform(X))
    assert model.module_.noise_dim == 4
    assert np.all(np.isfinite(model.reconstruction_log_likelihood(X, n_samples=3)))


@pytest.mark.parametrize(
    ("cls", "params", "match"),
    [
        (WAE, {"kernel": "laplace"}, "kernel"),
        (WAE, {"encoder_type": "flow"}, "encoder_type"),
        (WAE, {"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
        (AdversarialAE, {"discriminator_hidden_layer_sizes": ()}, "discriminator"),
        (AdversarialAE, {"discriminator_hidden_layer_sizes": (0,)}, "discriminator"),
        (AdversarialAE, {"discriminator_lr_scale": 0.0}, "discriminator_lr_scale"),
    ],
)
def test_invalid_parameters_are_rejected(cls, params, match):
    with pytest.raises(ValueError, match=match):
        cls(max_iter=1, **params).fit(np.random.RandomState(0).normal(size=(10, 3)))


def test_bernoulli_rejects_data_outside_the_unit_interval():
    with pytest.raises(ValueError, match="MinMaxScaler"):
        WAE(likelihood="bernoulli", max_iter=1).fit(np.array([[0.0, 2.0], [1.0, 0.0]]))


@pytest.mark.parametrize("cls", [WAE, AdversarialAE])
def test_model_selection_and_outlier_detection(cls, X_digits):
    X = X_digits[:60]
    params = dict(_TRAIN, batch_size=16, max_iter=2)
    search = GridSearchCV(cls(**params), {"beta": [0.0, 1.0]}, cv=2).fit(X)
    assert search.best_params_["beta"] in (0.0, 1.0)
    detector = VAEOutlierDetector(cls(**params), contamination=0.1).fit(X)
    assert set(np.unique(detector.predict(X))) <= {-1, 1}


def test_wae_batches_of_one_row_are_warned_about():
    # a batch of one row has no MMD: beta and kernel did nothing, unsaid
    X = np.random.RandomState(0).normal(size=(30, 4))
    small = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    with pytest.warns(UserWarning, match="MMD term needs two rows a batch"):
        WAE(batch_size=1, **small).fit(X)
    model = WAE(**small).fit(X)
    with pytest.warns(UserWarning, match="a chunk of one row"):
        model.partial_fit(X[:1])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.partial_fit(X[:2])
        WAE(batch_size=1, beta=0.0, **small).partial_fit(X[:1])  # no MMD asked


def test_an_epochs_last_row_joins_the_batch_before_it(monkeypatch):
    # 201 rows in batches of 200 left a batch of one row each epoch: half
    # the steps reconstructed that row alone, with no MMD and no warning
    seen = []
    forward = WAEModule.forward

    def spy(self, x, ctx):
        if self.training:
            seen.append(x.shape[0])
        return forward(self, x, ctx)

    monkeypatch.setattr(WAEModule, "forward", spy)
    X = np.random.RandomState(0).normal(size=(201, 6))
    WAE(n_components=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    assert seen == [201, 201]
    seen.clear()
    WAE(n_components=2, max_iter=1, batch_size=50, random_state=0).fit(X[:102])
    assert seen == [50, 50, 2]  # two rows left over are a batch of their own
