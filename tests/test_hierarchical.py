"""HierarchicalVAE and LadderVAE: they learn, and their contract holds."""

import inspect
import pickle
import warnings

import numpy as np
import pytest
import torch
from numpydoc.docscrape import ClassDoc
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skvae._base import BaseVAE
from skvae.models.hierarchical import (
    HierarchicalVAE,
    LadderVAE,
    LayeredLatentsMixin,
)
from skvae.nn.base import StepContext
from skvae.nn.divergences import (
    gaussian_kl,
    gaussian_kl_between,
    gaussian_log_prob_per_dim,
    posterior_log_prob_per_dim,
    precision_weighted_merge,
)
from skvae.nn.hierarchical import HierarchicalVAEModule
from skvae.nn.likelihoods import BernoulliLikelihood

MODELS = [HierarchicalVAE, LadderVAE]


def tiny(cls, **params):
    settings = dict(
        n_components=(4, 2),
        hidden_layer_sizes=(16,),
        latent_hidden_layer_sizes=(8,),
        max_iter=5,
        kl_warmup=0,
        random_state=0,
        device="cpu",
    )
    settings.update(params)
    return cls(**settings)


@pytest.fixture(scope="module", params=MODELS, ids=lambda c: c.__name__)
def fitted_digits(request, digits):
    X, y = digits
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0, stratify=y)
    model = request.param(
        n_components=(16, 8),
        hidden_layer_sizes=(128,),
        latent_hidden_layer_sizes=(64,),
        likelihood="bernoulli",
        max_iter=40,
        kl_warmup=5,
        random_state=0,
        device="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
    return model, X_train, X_test


# ---------------------------------------------------------------- learning
def test_elbo_improves_over_training(fitted_digits):
    model, *_ = fitted_digits
    loss = model.loss_curve_
    # The negative ELBO falls by far more than its noise once warmed up.
    assert loss[-1] < loss[model.kl_warmup] - 3
    assert loss[-1] < loss[0] - 10
    assert len(model.history_[-1]["kl_per_dim"]) == 16 + 8


def test_reconstructions_beat_the_mean_image(fitted_digits):
    model, X_train, X_test = fitted_digits
    bottom = model.transform_layers(X_test)[0]
    recon = model.inverse_transform(bottom, layer=0)
    assert recon.min() >= 0
    assert recon.max() <= 1
    baseline = np.mean((X_train.mean(0) - X_test) ** 2)
    assert np.mean((recon - X_test) ** 2) < 0.7 * baseline
    if isinstance(model, LadderVAE):
        # The ladder's top layer carries the digit too; the bottom-up model's
        # top layer is nearly unused (Sønderby et al. 2016, section 3.1).
        recon_top = model.inverse_transform(model.transform(X_test))
        assert np.mean((recon_top - X_test) ** 2) < 0.7 * baseline


def test_importance_weighted_bound_beats_the_elbo(fitted_digits):
    model, _, X_test = fitted_digits
    model = pickle.loads(pickle.dumps(model))  # leave the shared fixture as it is
    elbo = model.set_params(n_importance_samples=1).score_samples(X_test)
    iwae = model.set_params(n_importance_samples=200).score_samples(X_test)
    assert np.all(np.isfinite(elbo))
    assert np.all(np.isfinite(iwae))
    assert np.all(elbo < 0)  # a probability mass is <= 1
    # score_samples' one-draw ELBO shares its draw across rows, so its mean
    # moves by ~1 nat with the draw: compare with the ELBO averaged over
    # independent draws per row (the module's training terms at beta=1).
    module = model.module_.eval()
    x = torch.tensor(X_test, dtype=torch.float32)
    ctx = StepContext(beta=1.0, free_bits=0.0, generator=torch.Generator())
    with torch.inference_mode():
        neg_elbo = np.mean([module(x, ctx=ctx).loss.mean().item() for _ in range(20)])
    assert iwae.mean() > -neg_elbo


def test_reconstruction_log_likelihood(fitted_digits):
    model, _, X_test = fitted_digits
    recon = model.reconstruction_log_likelihood(X_test[:20], n_samples=4)
    assert recon.shape == (20,)
    # The reconstruction term alone is above the ELBO (the KL is >= 0 on average).
    elbo = pickle.loads(pickle.dumps(model)).set_params(n_importance_samples=1)
    assert recon.mean() > elbo.score(X_test[:20])


# ------------------------------------------------------------------ shapes
def test_transform_shapes(fitted_digits):
    model, _, X_test = fitted_digits
    Z = model.transform(X_test)
    assert Z.shape == (X_test.shape[0], 8)
    layers = model.transform_layers(X_test)
    assert [L.shape for L in layers] == [(X_test.shape[0], 16), (X_test.shape[0], 8)]
    np.testing.assert_allclose(layers[-1], Z, rtol=1e-5, atol=1e-6)
    name = type(model).__name__.lower()
    assert list(model.get_feature_names_out()) == [f"{name}{i}" for i in range(8)]


def test_inverse_transform_and_sample_shapes(fitted_digits):
    model, *_ = fitted_digits
    assert model.inverse_transform(np.zeros((3, 8))).shape == (3, 64)
    with pytest.raises(ValueError, match="8 latent dimensions"):
        model.inverse_transform(np.zeros((3, 16)))
    assert model.inverse_transform(np.zeros((3, 16)), layer=0).shape == (3, 64)
    assert model.inverse_transform(np.zeros((3, 16)), layer=-2).shape == (3, 64)
    with pytest.raises(ValueError, match="layer"):
        model.inverse_transform(np.zeros((3, 8)), layer=2)
    samples = model.sample(5, random_state=1)
    assert samples.shape == (5, 64)
    assert np.all((samples >= 0) & (samples <= 1))
    np.testing.assert_array_equal(samples, model.sample(5, random_state=1))
    assert not np.allclose(samples, model.sample(5, random_state=2))


def test_interpolation_ends_at_the_reconstructions(fitted_digits):
    model, _, X_test = fitted_digits
    path = model.interpolate(X_test[0], X_test[1], n_steps=5)
    assert path.shape == (5, 64)
    recon = model.inverse_transform(model.transform(X_test[:2]))
    np.testing.assert_allclose(path[0], recon[0], atol=1e-6)
    np.testing.assert_allclose(path[-1], recon[1], atol=1e-6)


# ---------------------------------------------------------------- contract
@pytest.mark.parametrize("cls", MODELS)
def test_same_random_state_same_model(cls, small_X):
    a = tiny(cls).fit(small_X).transform(small_X)
    b = tiny(cls).fit(small_X).transform(small_X)
    c = tiny(cls, random_state=1).fit(small_X).transform(small_X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("cls", MODELS)
def test_pickle_round_trip(cls, small_X):
    model = tiny(cls, n_importance_samples=3).fit(small_X)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.transform(small_X), model.transform(small_X))
    np.testing.assert_array_equal(
        loaded.score_samples(small_X), model.score_samples(small_X)
    )
    loaded.partial_fit(small_X)  # the optimiser state survives too
    assert loaded.n_iter_ == model.n_iter_ + 1


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize(
    "n_components", [(), (4, 0), (4, -2), (4.5, 2), "ab", [[4, 2]]]
)
def test_bad_n_components(cls, n_components, small_X):
    with pytest.raises(ValueError, match="n_components"):
        tiny(cls, n_components=n_components).fit(small_X)


@pytest.mark.parametrize("cls", MODELS)
def test_bad_latent_hidden_layer_sizes(cls, small_X):
    with pytest.raises(ValueError, match="latent_hidden_layer_sizes"):
        tiny(cls, latent_hidden_layer_sizes=(8, 0)).fit(small_X)


@pytest.mark.parametrize("cls", MODELS)
def test_variants_fit(cls, small_X):
    # One layer, no hidden layers between latents, no batch norm.
    for params in (
        dict(n_components=3),
        dict(n_components=(4, 3, 2), latent_hidden_layer_sizes=()),
        dict(batch_norm=False, free_bits=0.1),
        dict(kl_schedule="capacity", beta=5.0, kl_warmup=2),
    ):
        model = tiny(cls, **params).fit(small_X)
        top = np.atleast_1d(params.get("n_components", 2))[-1]
        assert model.transform(small_X).shape == (small_X.shape[0], top)
        assert np.all(np.isfinite(model.score_samples(small_X)))


@pytest.mark.parametrize("cls", MODELS)
def test_partial_fit_on_one_row(cls, small_X):
    model = tiny(cls)
    model.partial_fit(small_X[:1])  # batch norm on a one-row batch
    model.partial_fit(small_X)
    assert model.n_iter_ == 2
    assert np.all(np.isfinite(model.transform(small_X)))


def test_module_widths():
    lik = BernoulliLikelihood(5)
    module = HierarchicalVAEModule(5, (3, 2), (6,), (4,), "relu", lik, top_down=True)
    assert module.noise_dim == 5
    assert module.n_latent == 2


# ------------------------------------------------------------ divergences
def test_two_gaussian_kl_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu_q, lv_q, mu_p, lv_p = torch.randn(4, 3, generator=gen).unbind(0)
    kl = gaussian_kl_between(mu_q, lv_q, mu_p, lv_p)
    assert torch.all(kl >= 0)
    z = mu_q + torch.exp(0.5 * lv_q) * torch.randn(200_000, 3, generator=gen)

    def log_normal(mu, lv):
        return -0.5 * ((z - mu).square() / lv.exp() + lv)

    mc = (log_normal(mu_q, lv_q) - log_normal(mu_p, lv_p)).mean(0)
    torch.testing.assert_close(kl, mc, atol=0.03, rtol=0.02)
    torch.testing.assert_close(
        gaussian_kl_between(mu_q, lv_q, torch.zeros(3), torch.zeros(3)),
        gaussian_kl(mu_q, lv_q),
    )
    assert torch.all(gaussian_kl_between(mu_q, lv_q, mu_q, lv_q) == 0)


def test_precision_weighted_merge():
    gen = torch.Generator().manual_seed(0)
    mu_a, lv_a, mu_b, lv_b = torch.randn(4, 5, generator=gen).unbind(0)
    mu, lv = precision_weighted_merge(mu_a, lv_a, mu_b, lv_b)
    prec_a, prec_b = torch.exp(-lv_a), torch.exp(-lv_b)
    torch.testing.assert_close(lv.exp(), 1 / (prec_a + prec_b))
    torch.testing.assert_close(mu, (mu_a * prec_a + mu_b * prec_b) / (prec_a + prec_b))


def test_log_densities_of_a_reparameterised_draw_agree():
    gen = torch.Generator().manual_seed(0)
    mu, lv, eps = torch.randn(3, 4, 5, generator=gen).unbind(0)
    z = mu + torch.exp(0.5 * lv) * eps
    torch.testing.assert_close(
        posterior_log_prob_per_dim(eps, lv), gaussian_log_prob_per_dim(z, mu, lv)
    )
    zero = torch.zeros(())
    torch.testing.assert_close(
        gaussian_log_prob_per_dim(z, zero, zero),
        torch.distributions.Normal(0.0, 1.0).log_prob(z),
    )


# ------------------------------------------------------------- the family
@pytest.mark.parametrize("cls", MODELS)
def test_one_level_of_families(cls):
    assert cls.__bases__ == (LayeredLatentsMixin, BaseVAE)
    assert LayeredLatentsMixin.__bases__ == (object,)
    assert not issubclass(LadderVAE, HierarchicalVAE)
    signature = set(inspect.signature(cls).parameters) - {"kwargs"}
    assert signature == set(cls._parameter_constraints)


def test_the_ladder_shares_the_constructor_and_its_documentation():
    import skvae.models.hierarchical as family

    assert LadderVAE.__init__ is HierarchicalVAE.__init__
    assert LadderVAE._parameter_constraints is HierarchicalVAE._parameter_constraints
    assert family.HierarchicalVAEModule is HierarchicalVAEModule  # saved files
    assert HierarchicalVAEModule.__module__ == "skvae.nn.hierarchical"
    model = LadderVAE(n_components=(3, 2), max_iter=4, encoder__width=5)
    copy = clone(model.set_params(beta=2.0))
    assert type(copy) is LadderVAE
    assert copy.get_params() == model.get_params()
    assert set(LadderVAE().get_params()) == set(HierarchicalVAE().get_params())
    assert repr(copy) == (
        "LadderVAE(beta=2.0, encoder__width=5, max_iter=4, n_components=(3, 2))"
    )
    own, theirs = ClassDoc(LadderVAE), ClassDoc(HierarchicalVAE)
    for section in ("Parameters", "Attributes"):
        assert own[section] == theirs[section]
    assert "Ladder" in own["Summary"][0]
    assert "top_down=True" in "".join(own["Notes"])


@pytest.mark.parametrize("cls", MODELS)
def test_bfloat16_is_refused_and_float32_fits(cls, small_X):
    with pytest.raises(ValueError, match="bfloat16"):
        tiny(cls, precision="bfloat16").fit(small_X)
    a = tiny(cls, precision="float32").fit(small_X).transform(small_X)
    np.testing.assert_array_equal(a, tiny(cls).fit(small_X).transform(small_X))


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize(
    "params", [dict(free_bits=0.1), dict(kl_schedule="capacity")], ids=str
)
def test_iwae_objective_refuses_per_dimension_kl_terms(cls, params, small_X):
    with pytest.raises(ValueError, match="objective='iwae'"):
        tiny(cls, objective="iwae", **params).fit(small_X)


@pytest.mark.parametrize("cls", MODELS)
def test_transform_layers_validates_and_reads_blocks(cls, small_X, tmp_path):
    model = tiny(cls).fit(small_X)
    with pytest.raises(ValueError, match="features"):
        model.transform_layers(small_X[:, :4])
    with pytest.raises(ValueError, match="NaN"):
        model.transform_layers(np.where(small_X > 1.5, np.nan, small_X))
    stored = np.lib.format.open_memmap(
        tmp_path / "X.npy", mode="w+", dtype=small_X.dtype, shape=small_X.shape
    )
    stored[:] = small_X
    model._STREAM_ROWS = 16  # three blocks
    blocked = model.transform_layers(stored)
    for got, want in zip(blocked, model.transform_layers(small_X), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
