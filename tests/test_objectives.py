"""Training objectives and priors beyond the plain ELBO, KL schedules, user networks."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from torch import nn

from skvae import (
    VAE,
    VQVAE,
    VQVAE2,
    WAE,
    AdversarialAE,
    ConditionalVAE,
    HierarchicalVAE,
    LadderVAE,
    SemiSupervisedVAE,
    VaDE,
)
from skvae._training import KLSchedule, MultiOptimizer
from skvae.nn import StepContext
from skvae.nn.divergences import kl_penalty, total_correlation
from skvae.nn.priors import VampPrior


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data / 16.0
    return X[:1200], X[1200:]


SMALL = dict(
    n_components=6,
    hidden_layer_sizes=(64,),
    likelihood="bernoulli",
    max_iter=15,
    random_state=0,
)


# ------------------------------------------------------------------- IWAE
def test_iwae_with_one_sample_is_the_elbo_objective(digits):
    X, _ = digits
    elbo = VAE(**{**SMALL, "max_iter": 3}).fit(X)
    iwae = VAE(**{**SMALL, "max_iter": 3}, objective="iwae", n_iwae_samples=1).fit(X)
    np.testing.assert_allclose(elbo.loss_curve_, iwae.loss_curve_, rtol=1e-5)


def test_iwae_objective_trains_and_its_loss_is_below_the_elbo(digits):
    X, X_test = digits
    model = VAE(**SMALL, objective="iwae", n_iwae_samples=8).fit(X)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    scores = model.score_samples(X_test)
    assert np.isfinite(scores).all()
    # The training loss is the negative k-sample bound, which is at least the ELBO:
    # so it is below the negative ELBO that "recon + kl" gives.
    last = model.history_[-1]
    assert last["train_loss"] <= last["recon"] + last["kl"] + 1e-3


def test_iwae_rejects_free_bits_and_capacity(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="iwae"):
        VAE(objective="iwae", free_bits=0.1).fit(X)
    with pytest.raises(ValueError, match="iwae"):
        VAE(objective="iwae", kl_schedule="capacity").fit(X)


# -------------------------------------------------------------- VampPrior
def test_vamp_prior_is_the_mixture_of_pseudo_posteriors():
    gen = torch.Generator().manual_seed(0)
    mu, log_var = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    z = torch.randn(7, 3, generator=gen)
    prior = VampPrior(torch.zeros(5, 4))
    prior.bind(lambda pseudo: (mu, log_var))
    expected = torch.stack(
        [
            torch.distributions.Normal(mu[k], torch.exp(0.5 * log_var[k]))
            .log_prob(z)
            .sum(-1)
            for k in range(5)
        ]
    )
    expected = torch.logsumexp(expected, 0) - math.log(5)
    torch.testing.assert_close(prior.log_prob(z), expected)


def test_vamp_prior_trains_its_pseudo_inputs_and_samples(digits):
    X, X_test = digits
    model = VAE(**SMALL, prior="vamp", n_pseudo_inputs=20).fit(X)
    pseudo = model.module_.prior.pseudo_inputs.detach().numpy()
    assert pseudo.shape == (20, 64)
    # initialised at training rows, then moved by training
    assert not any(np.allclose(pseudo[0], row, atol=1e-6) for row in X)
    assert np.isfinite(model.score_samples(X_test)).all()
    assert model.sample(5, random_state=0).shape == (5, 64)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(
        restored.score_samples(X_test[:10]), model.score_samples(X_test[:10])
    )


def test_vamp_prior_rejects_free_bits(digits):
    with pytest.raises(ValueError, match="vamp"):
        VAE(prior="vamp", free_bits=0.5).fit(digits[0])


# --------------------------------------------------------------- beta-TCVAE
def test_total_correlation_separates_dependent_from_independent_codes():
    rng = np.random.RandomState(0)
    independent = rng.normal(size=(512, 2))
    dependent = np.column_stack([independent[:, 0], independent[:, 0]])
    log_var = torch.full((512, 2), math.log(0.05))

    def tc(z):
        z = torch.as_tensor(z, dtype=torch.float32)
        return float(total_correlation(z, z, log_var, 512).mean())

    assert abs(tc(independent)) < 0.2
    assert tc(dependent) > 1.0


def test_tc_weight_lowers_the_total_correlation_of_the_codes():
    rng = np.random.RandomState(0)
    factors = rng.normal(size=(1500, 2))
    X = np.column_stack([factors @ rng.normal(size=(2, 6)), rng.normal(size=(1500, 2))])
    X = X + 0.05 * rng.normal(size=X.shape)

    def fitted_tc(weight):
        model = VAE(
            n_components=2,
            hidden_layer_sizes=(32,),
            max_iter=30,
            batch_size=256,
            tc_weight=weight,
            random_state=0,
        ).fit(X)
        z = torch.as_tensor(model.transform(X), dtype=torch.float32)
        mu, log_var = model.module_.encode(torch.as_tensor(X, dtype=torch.float32))
        return float(total_correlation(z, mu.detach(), log_var.detach(), len(X)).mean())

    assert fitted_tc(10.0) < fitted_tc(0.0)


# ----------------------------------------------------------------- schedules
def test_linear_cyclical_and_capacity_schedules():
    linear = KLSchedule(beta=2.0, warmup=4)
    assert [linear.weight_at(p)[0] for p in (0, 2, 4, 8)] == [0.0, 1.0, 2.0, 2.0]
    cyclical = KLSchedule(beta=1.0, warmup=4, kind="cyclical")
    betas = [cyclical.weight_at(p)[0] for p in (1, 2, 3, 4, 5, 6)]
    assert betas == [0.5, 1.0, 1.0, 1.0, 0.5, 1.0]
    capacity = KLSchedule(beta=100.0, warmup=10, kind="capacity", capacity=20.0)
    assert capacity.weight_at(5) == (100.0, 10.0)
    assert capacity.weight_at(50) == (100.0, 20.0)
    with pytest.raises(ValueError, match="kl_schedule"):
        KLSchedule(kind="sigmoid")


def test_capacity_penalty_is_the_absolute_gap_of_the_batch_mean():
    kl = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)  # mean KL 5
    ctx = StepContext(beta=10.0, free_bits=0.0, generator=None, capacity=8.0)
    penalty = kl_penalty(kl, ctx)
    assert float(penalty.detach().mean()) == pytest.approx(10.0 * abs(5.0 - 8.0))
    penalty.mean().backward()  # below capacity: the gradient raises the KL
    assert (kl.grad < 0).all()


def test_capacity_schedule_holds_the_kl_near_its_target(digits):
    X, _ = digits
    model = VAE(
        **{**SMALL, "max_iter": 20},
        kl_schedule="capacity",
        beta=50.0,
        kl_warmup=10,
        max_capacity=12.0,
    ).fit(X)
    assert model.history_[-1]["kl"] == pytest.approx(12.0, abs=1.5)
    assert model.history_[4]["kl"] < 9.0  # the capacity was still growing


def test_cyclical_schedule_repeats_the_warmup(digits):
    X, _ = digits
    model = VAE(**{**SMALL, "max_iter": 8}, kl_schedule="cyclical", kl_warmup=4).fit(X)
    betas = [record["beta"] for record in model.history_]
    # history records the beta at each epoch's end: half-way up the ramp
    # after the first epoch of each 4-epoch period, then at beta
    assert betas == [0.5, 1.0, 1.0, 1.0] * 2


# -------------------------------------------------------- optimiser groups
def test_multi_optimizer_round_trips_its_state():
    a, b = nn.Linear(2, 1), nn.Linear(2, 1)
    opt = MultiOptimizer(
        [torch.optim.Adam(a.parameters()), torch.optim.Adam(b.parameters(), lr=0.1)]
    )
    (a(torch.ones(1, 2)) + b(torch.ones(1, 2))).sum().backward()
    opt.step()
    fresh = MultiOptimizer(
        [torch.optim.Adam(a.parameters()), torch.optim.Adam(b.parameters(), lr=0.1)]
    )
    fresh.load_state_dict(opt.state_dict())
    assert fresh.optimizers[1].param_groups[0]["lr"] == 0.1
    assert fresh.optimizers[0].state_dict()["state"][0]["step"] == 1


# ------------------------------------------------------------- user networks
class Body(nn.Module):
    """A user network: rows to ``hidden`` features."""

    def __init__(self, n_inputs, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_inputs, hidden), nn.Tanh())

    def forward(self, x):
        return self.net(x)


class SizedDecoder(nn.Module):
    """A decoder that is told its output width."""

    def __init__(self, n_inputs, n_outputs, hidden=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs)
        )

    def forward(self, z):
        return self.net(z)


def test_user_networks_are_built_with_routed_parameters(digits):
    X, X_test = digits
    model = VAE(
        **{**SMALL, "likelihood": "gaussian", "max_iter": 30},
        encoder=Body,
        decoder=SizedDecoder,
        encoder__hidden=48,
    ).fit(X)
    assert model.module_.encoder.body.net[0].out_features == 48
    assert isinstance(model.module_.decoder.head, nn.Identity)  # sized itself
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    reconstruction = model.inverse_transform(model.transform(X_test))
    baseline = np.mean((X_test - X.mean(0)) ** 2)
    assert np.mean((X_test - reconstruction) ** 2) < baseline


def test_routed_parameters_follow_the_sklearn_contract(digits):
    X, _ = digits
    model = VAE(encoder=Body, encoder__hidden=16)
    assert model.get_params()["encoder__hidden"] == 16
    twin = clone(model)
    assert twin.get_params()["encoder__hidden"] == 16
    twin.set_params(encoder__hidden=24, beta=2.0)
    assert twin.encoder__hidden == 24
    assert twin.beta == 2.0
    assert "encoder__hidden=16" in repr(model)
    search = GridSearchCV(
        VAE(**{**SMALL, "max_iter": 2}, encoder=Body),
        {"encoder__hidden": [8, 16]},
        cv=2,
    ).fit(X[:300])
    assert search.best_params_["encoder__hidden"] in (8, 16)
    assert search.best_estimator_.module_.encoder.body.net[0].out_features in (8, 16)


def test_a_network_instance_is_copied_not_trained_in_place(digits):
    X, _ = digits
    body = Body(64, hidden=16)
    before = {k: v.clone() for k, v in body.state_dict().items()}
    model = VAE(**{**SMALL, "max_iter": 2}, encoder=body).fit(X)
    for key, value in body.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert model.module_.encoder.body is not body


def test_bad_network_arguments_get_clear_errors(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="unexpected parameter 'hidden'"):
        VAE(**SMALL, hidden=3).fit(X)
    holes = X.copy()
    holes[0, 0] = np.nan  # the parameter named first, not the NaN
    with pytest.raises(ValueError, match="unexpected parameter 'missing'"):
        HierarchicalVAE(missing="mask", max_iter=1).fit(holes)
    with pytest.raises(ValueError, match="without a network"):
        VAE(**SMALL, encoder__hidden=3).fit(X)
    with pytest.raises(TypeError, match="Could not build"):
        VAE(**SMALL, encoder=Body, encoder__width=3).fit(X)
    with pytest.raises(ValueError, match="instance"):
        VAE(**SMALL, encoder=Body(64), encoder__hidden=3).fit(X)
    with pytest.raises(ValueError, match="encoder"):
        VAE(**SMALL, encoder="mlp").fit(X)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ConditionalVAE(n_components=2, max_iter=2),
        lambda: SemiSupervisedVAE(n_components=2, max_iter=2),
        lambda: VaDE(n_clusters=3, n_components=2, pretrain_max_iter=1, max_iter=2),
    ],
    ids=["ConditionalVAE", "SemiSupervisedVAE", "VaDE"],
)
def test_every_gaussian_model_takes_user_networks(make, digits):
    X, _ = digits
    X, y = X[:200], load_digits().target[:200] % 3
    if isinstance(make(), SemiSupervisedVAE):
        y = np.where(np.arange(200) % 4 == 0, y, -1)
    model = make().set_params(
        encoder=Body, decoder=Body, encoder__hidden=12, random_state=0
    )
    model.fit(X, y)
    assert model.module_.encoder.body.net[0].out_features == 12
    assert model.module_.decoder.body.net[0].out_features == 32
    assert np.isfinite(model.score_samples(X[:5])).all()
    assert clone(model).get_params()["encoder__hidden"] == 12


def test_conditional_vae_rejects_priors_it_does_not_implement(digits):
    X, _ = digits
    y = load_digits().target[: len(X)]
    with pytest.raises(ValueError, match="prior"):
        ConditionalVAE(prior="vamp").fit(X, y)


@pytest.mark.parametrize("cls", [ConditionalVAE, VaDE])
def test_iwae_objective_on_conditional_and_clustering_models(cls, digits):
    X, X_test = digits
    y = load_digits().target[: len(X)]
    extra = dict(n_clusters=5, pretrain_max_iter=2) if cls is VaDE else {}
    settings = dict(
        n_components=4, hidden_layer_sizes=(64,), max_iter=4, random_state=0, **extra
    )
    one = cls(**settings, objective="iwae", n_iwae_samples=1).fit(X, y)
    elbo = cls(**settings).fit(X, y)
    np.testing.assert_allclose(one.loss_curve_, elbo.loss_curve_, rtol=1e-5)
    model = cls(**settings, objective="iwae", n_iwae_samples=6).fit(X, y)
    last = model.history_[-1]
    assert last["train_loss"] <= last["recon"] + last["kl"] + 1e-3
    assert np.isfinite(model.score_samples(X_test)).all()


@pytest.mark.parametrize("cls", [VQVAE, VQVAE2])
def test_vq_models_take_user_networks(cls, digits):
    X, _ = digits
    model = cls(
        n_codes=16,
        code_dim=4,
        n_positions=4,
        max_iter=3,
        prior_max_iter=1,
        encoder=Body,
        decoder=Body,
        encoder__hidden=20,
        random_state=0,
    ).fit(X[:300])
    assert model.module_.encoder.net.body.net[0].out_features == 20
    assert model.transform(X[:5]).shape[0] == 5
    assert model.inverse_transform(model.transform(X[:5])).shape == (5, 64)


@pytest.mark.parametrize("cls", [WAE, AdversarialAE])
def test_regularised_autoencoders_take_user_networks(cls, digits):
    X, _ = digits
    model = cls(
        n_components=2, max_iter=2, encoder=Body, decoder=Body, encoder__hidden=10
    ).fit(X[:300])
    assert model.module_.encoder.body.net[0].out_features == 10
    assert model.transform(X[:4]).shape == (4, 2)


@pytest.mark.parametrize("cls", [HierarchicalVAE, LadderVAE])
def test_hierarchical_models_take_user_networks(cls, digits):
    X, _ = digits
    model = cls(
        n_components=(4, 2),
        hidden_layer_sizes=(32,),
        max_iter=2,
        encoder=Body,
        decoder=Body,
        encoder__hidden=12,
        random_state=0,
    ).fit(X[:300])
    assert model.module_.up[0].body.net[0].out_features == 12
    assert model.transform(X[:4]).shape == (4, 2)
    assert np.isfinite(model.score_samples(X[:4])).all()


@pytest.mark.parametrize("cls", [HierarchicalVAE, LadderVAE])
def test_iwae_objective_on_the_hierarchical_models(cls, digits):
    X, X_test = digits
    settings = dict(
        n_components=(8, 4),
        hidden_layer_sizes=(64,),
        latent_hidden_layer_sizes=(32,),
        max_iter=3,
        kl_warmup=0,
        random_state=0,
    )
    one = cls(**settings, objective="iwae", n_iwae_samples=1).fit(X)
    elbo = cls(**settings).fit(X)
    np.testing.assert_allclose(one.loss_curve_, elbo.loss_curve_, rtol=1e-5)
    model = cls(**{**settings, "max_iter": 10}, objective="iwae", n_iwae_samples=6)
    model.fit(X)
    last = model.history_[-1]
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert last["train_loss"] <= last["recon"] + last["kl"] + 1e-3
    assert np.isfinite(model.score_samples(X_test)).all()
