"""VQVAE, VQVAE2 and their parts: the quantiser, the networks, the code prior."""

import numpy as np
import pytest
import torch
from conftest import stopped_by_the_rule
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skvae import VQVAE, VQVAE2
from skvae.nn import ConvDecoder, ConvEncoder, VectorQuantizer, nearest_codes

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

finite = st.floats(-10, 10, allow_nan=False, width=32)


# --------------------------------------------------------------- quantiser
@settings(deadline=None, max_examples=50)
@given(
    arrays(np.float32, st.tuples(st.integers(1, 20), st.just(3)), elements=finite),
    arrays(np.float32, st.tuples(st.integers(1, 8), st.just(3)), elements=finite),
)
def test_nearest_code_is_exact_against_numpy(z, codebook):
    got = nearest_codes(torch.from_numpy(z), torch.from_numpy(codebook)).numpy()
    d = (
        (z[:, None, :].astype(np.float64) - codebook[None].astype(np.float64)) ** 2
    ).sum(-1)
    best = d.min(1)
    # Ties and float32 rounding: the chosen code is (one of) the nearest.
    np.testing.assert_allclose(d[np.arange(len(z)), got], best, rtol=1e-4, atol=1e-3)


def test_ema_moves_codes_toward_their_vectors():
    vq = VectorQuantizer(2, 2, ema=True, decay=0.5, dead_code_threshold=0.0)
    vq.initialized.fill_(True)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 10.0]]))
    vq.embed_sum.copy_(vq.codebook)
    vq.cluster_size.fill_(1.0)
    z = torch.tensor([[1.0, 1.0], [1.2, 0.8], [9.0, 9.0]])  # rows as (n, dim, 1)
    before = vq.codebook.clone()
    vq.train()(z[:, :, None])
    target = torch.tensor([[1.1, 0.9], [9.0, 9.0]])
    assert torch.all((vq.codebook - target).norm(dim=1) < (before - target).norm(dim=1))


def test_dead_codes_are_restarted_at_encoder_outputs():
    vq = VectorQuantizer(4, 2, dead_code_threshold=0.5)
    vq.generator = torch.Generator().manual_seed(0)
    z = torch.randn(64, 2, 1, generator=torch.Generator().manual_seed(1))
    vq.train()(z)  # initialises from the batch
    vq.codebook[3] = 1000.0  # a code nothing is near
    vq.embed_sum[3] = 1000.0
    for _ in range(200):
        vq(z)
    assert vq.codebook.abs().max() < 100
    used = torch.unique(vq(z).codes)
    assert len(used) >= 3


def test_codebook_loss_variant_learns_by_gradient():
    vq = VectorQuantizer(4, 2, ema=False)
    out = vq.train()(torch.randn(8, 2, 3, requires_grad=True))
    (out.codebook.sum() + out.commitment.sum()).backward()
    assert vq.codebook.grad is not None
    assert vq.codebook.grad.abs().sum() > 0


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 7, 9)])
def test_conv_networks_round_trip_shapes(shape):
    enc = ConvEncoder(shape, (8, 16), 4)
    dec = ConvDecoder(4, (8, 16), shape)
    x = torch.zeros(2, int(np.prod(shape)))
    assert dec(enc(x)).shape == x.shape


# ---------------------------------------------------------------- VQVAE
@pytest.fixture(scope="module")
def vqvae(digits):
    X, _ = digits
    return VQVAE(
        n_codes=32,
        input_shape=(1, 8, 8),
        likelihood="bernoulli",
        max_iter=40,
        prior_max_iter=10,
        random_state=0,
        device="cpu",
    ).fit(X[:1500])


def test_vqvae_reconstructs_held_out_digits(vqvae, digits):
    X, _ = digits
    held_out = X[1500:]
    mse = np.mean((vqvae.inverse_transform(vqvae.transform(held_out)) - held_out) ** 2)
    baseline = np.mean((held_out - X[:1500].mean(0)) ** 2)
    assert mse < 0.4 * baseline
    codes = vqvae.encode_codes(held_out)
    assert codes.shape == (len(held_out), 2, 2)
    assert codes.dtype == np.int64
    from_codes = vqvae.inverse_transform(codes.reshape(len(held_out), -1))
    np.testing.assert_allclose(
        from_codes, vqvae.inverse_transform(vqvae.transform(held_out)), atol=1e-5
    )


def test_vqvae_codebook_is_used(vqvae):
    record = vqvae.history_[-1]
    assert record["perplexity"] > 16  # more than half of the 32 codes
    assert vqvae.codebook_.shape == (32, 16)
    np.testing.assert_allclose(vqvae.codebook_usage_.sum(), 1.0)
    assert np.mean(vqvae.codebook_usage_ > 0) > 0.5
    assert len(vqvae.prior_history_) == 10
    losses = [r["prior_loss"] for r in vqvae.prior_history_]
    assert losses[-1] < losses[0]


def test_vqvae_samples_and_scores(vqvae, digits):
    X, _ = digits
    samples = vqvae.sample(20, random_state=0)
    assert samples.shape == (20, 64)
    assert np.all((samples >= 0) & (samples <= 1))
    noise = np.random.RandomState(0).uniform(size=(50, 64))
    assert np.median(vqvae.score_samples(X[1500:])) > np.median(
        vqvae.score_samples(noise)
    )
    with pytest.raises(ValueError, match="Codes must lie"):
        vqvae.inverse_transform(np.full((2, 4), 32))


def test_vqvae2_has_two_code_maps(digits):
    X, _ = digits
    model = VQVAE2(
        n_codes=16,
        input_shape=(1, 8, 8),
        hidden_layer_sizes=(32,),
        likelihood="bernoulli",
        max_iter=30,
        prior_max_iter=3,
        random_state=0,
        device="cpu",
    ).fit(X[:1500])
    held_out = X[1500:1600]
    bottom, top = model.encode_codes(held_out)
    assert bottom.shape == (100, 4, 4)
    assert top.shape == (100, 2, 2)
    flat = np.hstack([bottom.reshape(100, -1), top.reshape(100, -1)])
    decoded = model.inverse_transform(flat)
    mse = np.mean((decoded - held_out) ** 2)
    assert mse < 0.4 * np.mean((held_out - X[:1500].mean(0)) ** 2)
    assert model.codebook_.shape == (2, 16, 16)
    assert "perplexity_top" in model.history_[-1]
    assert {"prior_loss", "prior_loss_top"} <= set(model.prior_history_[-1])
    assert model.sample(3).shape == (3, 64)


def test_input_shape_must_match_the_features(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="input_shape"):
        VQVAE(input_shape=(1, 7, 7), max_iter=1).fit(X[:20])


@pytest.mark.parametrize(
    "family", ["VAE", "ConditionalVAE", "VaDE", "SemiSupervisedVAE"]
)
def test_input_shape_gives_any_gaussian_latent_model_conv_networks(family, digits):
    import skvae

    X, y = digits
    cls = getattr(skvae, family)
    params = dict(
        input_shape=(1, 8, 8),
        hidden_layer_sizes=(16, 32),
        likelihood="bernoulli",
        max_iter=60,
        random_state=0,
        device="cpu",
    )
    if family == "VaDE":
        params.update(n_clusters=10, pretrain_max_iter=30, max_iter=10)
    model = cls(**params)
    if family in ("ConditionalVAE", "SemiSupervisedVAE"):
        model.fit(X[:1500], y[:1500])
    else:
        model.fit(X[:1500])
    assert any(isinstance(m, torch.nn.Conv2d) for m in model.module_.modules())
    if family == "SemiSupervisedVAE":
        # Every row labelled here. Measured: 0.889 (0.919 without the
        # semi-supervised regularisers, which cost this tiny net a little).
        assert model.score(X[1500:], y[1500:]) > 0.85
        return
    if family == "VaDE":
        from sklearn.metrics import adjusted_rand_score

        assert adjusted_rand_score(y[:1500], model.labels_) > 0.3  # chance is 0
        return
    held_out = X[1500:]
    Z = model.transform(held_out)
    recon = (
        model.inverse_transform(Z, y[1500:])
        if family == "ConditionalVAE"
        else model.inverse_transform(Z)
    )
    mse = np.mean((recon - held_out) ** 2)
    # Measured: 0.54 (VAE) of the mean image's error after 60 epochs.
    assert mse < 0.8 * np.mean((held_out - X[:1500].mean(0)) ** 2)


def test_vqvae_pickles_and_streams(digits):
    import pickle

    X, _ = digits
    model = VQVAE(
        n_codes=8,
        input_shape=(1, 8, 8),
        hidden_layer_sizes=(16,),
        max_iter=2,
        prior_max_iter=1,
        prior_channels=8,
        random_state=0,
        device="cpu",
    )
    for chunk in (X[:300], X[300:600]):
        model.partial_fit(chunk)
    assert model.n_iter_ == 2
    assert len(model.prior_history_) == 2
    assert all(q.generator is None for q in model.module_.quantizers)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        loaded.encode_codes(X[:50]), model.encode_codes(X[:50])
    )


# ------------------------------------------------------------- the family
TINY = dict(
    n_codes=8,
    code_dim=2,
    hidden_layer_sizes=(16,),
    n_positions=2,
    max_iter=2,
    prior_max_iter=2,
    prior_channels=4,
    random_state=0,
    device="cpu",
)


def test_vqvae2_is_not_a_vqvae_and_neither_has_a_kl_term():
    from skvae.models.vq import DiscreteCodesMixin

    assert not issubclass(VQVAE2, VQVAE)
    assert (VQVAE._n_levels, VQVAE2._n_levels) == (1, 2)
    for cls in (VQVAE, VQVAE2):
        assert issubclass(cls, DiscreteCodesMixin)
        assert cls()._kl_schedule() is None
        assert not {"beta", "kl_warmup", "free_bits"} & set(cls().get_params())


def test_vqvae2_shares_the_constructor_and_its_documentation():
    from numpydoc.docscrape import ClassDoc
    from sklearn.base import clone

    import skvae.models.vq as family
    from skvae.nn.vqvae import VQVAEModule

    assert VQVAE2.__init__ is VQVAE.__init__
    assert VQVAE2._parameter_constraints is VQVAE._parameter_constraints
    assert family.VQVAEModule is VQVAEModule  # saved files name the module class
    assert VQVAEModule.__module__ == "skvae.nn.vqvae"
    model = VQVAE2(n_codes=8, input_shape=(1, 8, 8), decoder__width=3)
    copy = clone(model.set_params(code_dim=4))
    assert type(copy) is VQVAE2
    assert copy.get_params() == model.get_params()
    assert set(VQVAE2().get_params()) == set(VQVAE().get_params())
    assert repr(copy) == (
        "VQVAE2(code_dim=4, decoder__width=3, input_shape=(1, 8, 8), n_codes=8)"
    )
    own, theirs = ClassDoc(VQVAE2), ClassDoc(VQVAE)
    for section in ("Parameters", "Attributes"):
        assert own[section] == theirs[section]
    assert "prior_loss_top" in "".join(own["Notes"])


@pytest.mark.parametrize("cls", [VQVAE, VQVAE2])
def test_precision_bfloat16_is_refused_and_float32_is_what_auto_gives_on_cpu(
    cls, digits
):
    X, _ = digits
    with pytest.raises(ValueError, match="bfloat16"):
        cls(**TINY, precision="bfloat16").fit(X[:100])
    fp32 = cls(**TINY, precision="float32").fit(X[:100])
    auto = cls(**TINY).fit(X[:100])
    assert fp32.loss_curve_ == auto.loss_curve_
    assert fp32.prior_history_ == auto.prior_history_


@pytest.mark.parametrize("cls", [VQVAE, VQVAE2])
def test_the_prior_is_reproducible_and_leaves_the_global_rng_alone(cls, digits):
    X, _ = digits
    torch.manual_seed(123)
    state = torch.get_rng_state()
    one = cls(**TINY).fit(X[:100])
    assert torch.equal(torch.get_rng_state(), state)
    two = cls(**TINY).fit(X[:100])
    assert one.prior_history_ == two.prior_history_
    assert len(one.prior_history_) == 2
    if cls is VQVAE2:
        assert {"prior_loss", "prior_loss_top"} <= set(one.prior_history_[0])


def test_warm_start_continues_the_prior_and_a_new_fit_restarts_it(digits):
    X, _ = digits
    model = VQVAE(**TINY, warm_start=True).fit(X[:100])
    model.fit(X[:100])
    assert model.n_iter_ == 4
    assert [r["epoch"] for r in model.prior_history_] == [1, 2, 3, 4]
    model.set_params(warm_start=False).fit(X[:100])
    assert model.n_iter_ == 2
    assert len(model.prior_history_) == 2


def test_methods_that_read_rows_check_them_against_the_fitted_column_types():
    rng = np.random.RandomState(0)
    X = np.c_[rng.normal(size=(60, 3)), rng.randint(0, 2, size=(60, 2))]
    model = VQVAE(**TINY, likelihood="auto").fit(X)
    assert ("bernoulli", [3, 4]) in model.column_types_
    bad = X[:5].copy()
    bad[0, 3] = 2.0
    for method in (model.encode_codes, model.score_samples, model.transform):
        with pytest.raises(ValueError, match="Bernoulli"):
            method(bad)
    with pytest.raises(ValueError, match="features"):
        model.encode_codes(X[:5, :4])


def _tiny_vq(cls, **params):
    X = np.random.RandomState(0).uniform(size=(40, 16))
    settings = dict(n_codes=8, max_iter=1, prior_max_iter=1, random_state=0)
    return cls(**{**settings, **params}).fit(X), X


def test_whole_float_codes_of_code_dim_1_are_refused_not_read_as_latents():
    """Codes read back as floats (a CSV) have a latent row's width with
    code_dim=1: they are refused, not decoded as latents."""
    model, X = _tiny_vq(VQVAE, code_dim=1, n_positions=4)
    codes = model.encode_codes(X[:3]).reshape(3, -1)
    with pytest.raises(ValueError, match="Pass codes as integers"):
        model.inverse_transform(codes.astype(float))
    # the latents of transform are codebook values: they decode
    latents = model.transform(X[:3])
    np.testing.assert_allclose(
        model.inverse_transform(latents), model.inverse_transform(codes), atol=1e-6
    )
    with pytest.raises(ValueError, match="boolean"):
        model.inverse_transform(codes > 0)
    origin = model.inverse_transform(np.zeros((1, 4)))  # floats: a latent row
    assert origin.shape == (1, X.shape[1])
    with pytest.raises(ValueError, match="read as codes, 4 per row"):
        model.inverse_transform(np.zeros((3, 5), dtype=int))


@pytest.mark.parametrize("cls", [VQVAE, VQVAE2])
def test_code_maps_of_encode_codes_decode_as_they_come(cls):
    model, X = _tiny_vq(cls, input_shape=(1, 4, 4))
    maps = model.encode_codes(X[:3])
    flat = np.concatenate(
        [m.reshape(3, -1) for m in (maps if isinstance(maps, tuple) else [maps])],
        axis=1,
    )
    np.testing.assert_array_equal(
        model.inverse_transform(maps), model.inverse_transform(flat)
    )
    bottom = maps[0] if isinstance(maps, tuple) else maps
    bad = np.zeros((3, bottom.shape[1] + 1, bottom.shape[2]), dtype=int)
    with pytest.raises(ValueError, match=r"must have \(h, w\)"):
        model.inverse_transform((bad, maps[1]) if isinstance(maps, tuple) else bad)


@pytest.mark.parametrize("cls", [VQVAE, VQVAE2])
def test_n_positions_is_named_unread_with_input_shape(cls):
    with pytest.warns(UserWarning, match=r"n_positions=3\) has no effect"):
        _tiny_vq(cls, input_shape=(1, 4, 4), n_positions=3)


@pytest.mark.parametrize("cls", [VQVAE, VQVAE2])
def test_ema_decay_is_named_unread_without_moving_averages(cls):
    # codebook_update="loss" and no restarts: no moving average is read
    unread = dict(codebook_update="loss", dead_code_threshold=0.0)
    with pytest.warns(UserWarning, match=r"ema_decay=0.5\) has no effect"):
        _tiny_vq(cls, ema_decay=0.5, **unread)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for settings in ({"codebook_update": "loss"}, {"dead_code_threshold": 0.0}):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Maximum iterations")
                _tiny_vq(cls, ema_decay=0.5, **settings)  # read: restarts, or EMA


def test_the_prior_stops_on_held_out_codes_and_keeps_its_best_weights(digits):
    # a PixelCNN learns its training codes by heart well before its budget:
    # it stops n_iter_no_change epochs after its best held-out loss, with
    # the weights of that epoch
    X = digits[0][:400]
    model = VQVAE(
        n_codes=16, code_dim=4, hidden_layer_sizes=(16,), input_shape=(1, 8, 8),
        likelihood="bernoulli", max_iter=5, prior_max_iter=100, batch_size=32,
        prior_channels=16, random_state=0, device="cpu",
    )  # fmt: skip
    model.fit(X)
    held_out = [r["prior_valid_loss"] for r in model.prior_history_]
    assert len(held_out) < 100
    stopped_by_the_rule(held_out, model.n_iter_no_change, model.tol)
    best = int(np.argmin(held_out))
    assert held_out[-1] > held_out[best]
    # the held-out codes are those of the early-stopping split's rows
    _, rows = model._split_rows(X.shape[0], None)
    codes = torch.as_tensor(model.encode_codes(X[np.sort(rows)]))
    with torch.no_grad():
        nll = -model.module_.prior_bottom.log_prob(codes).mean()
    assert float(nll) == pytest.approx(held_out[best], rel=1e-5)
    # partial_fit: one epoch on every row's codes, nothing held out
    model.partial_fit(X)
    assert "prior_valid_loss" not in model.prior_history_[-1]


def _small_vqvae2(prior_max_iter):
    """A VQVAE2 on 8 x 8 digits whose priors stop after 3 epochs without gain."""
    return VQVAE2(
        n_codes=8, code_dim=4, hidden_layer_sizes=(8,), input_shape=(1, 8, 8),
        likelihood="bernoulli", max_iter=2, prior_max_iter=prior_max_iter,
        batch_size=32, prior_channels=8, n_iter_no_change=3, random_state=0,
        device="cpu",
    )  # fmt: skip


def test_vqvae2_priors_stop_each_on_its_own(digits):
    X = digits[0][:300]
    model = _small_vqvae2(prior_max_iter=60).fit(X)
    history = model.prior_history_
    assert len(history) < 60
    bottom = [r["prior_valid_loss"] for r in history if "prior_valid_loss" in r]
    top = [r["prior_valid_loss_top"] for r in history if "prior_loss_top" in r]
    for losses in (bottom, top):
        stopped_by_the_rule(losses, 3, model.tol)


def test_the_prior_of_a_fit_too_small_to_hold_out_trains_on_every_row():
    # early_stopping=False: a split that leaves no training row holds
    # nothing out (as before the prior held out codes), no error
    X = np.random.RandomState(0).uniform(size=(2, 16))
    model = VQVAE(
        n_codes=4, code_dim=2, hidden_layer_sizes=(8,), n_positions=2,
        prior_channels=4, max_iter=2, prior_max_iter=3, validation_fraction=0.6,
        random_state=0, device="cpu",
    ).fit(X)  # fmt: skip
    assert 1 <= len(model.prior_history_) <= 3
    assert "prior_valid_loss" not in model.prior_history_[0]
    assert np.isfinite(model.score_samples(X)).all()


def test_vqvae2_prior_history_pairs_the_epochs_of_each_call(digits, caplog):
    X = digits[0][:300]
    model = _small_vqvae2(prior_max_iter=40)
    with caplog.at_level("INFO", logger="skvae"):
        model.fit(X)
    n_fit = len(model.prior_history_)
    # the log's summary of each prior counts the epochs it trained
    trained = [
        sum("prior_loss" + name in r for r in model.prior_history_)
        for name in ("", "_top")
    ]
    summaries = [r.getMessage() for r in caplog.records if " prior: " in r.getMessage()]
    ends = [m for m in summaries if " epochs in " in m or " epoch in " in m]
    assert [int(m.split(": ")[1].split()[0]) for m in ends] == trained
    model.partial_fit(X)
    assert len(model.prior_history_) == n_fit + 1
    last = model.prior_history_[-1]
    assert {"prior_loss", "prior_loss_top"} <= set(last)
    assert not {"prior_valid_loss", "prior_valid_loss_top"} & set(last)
    assert last["epoch"] == n_fit + 1
