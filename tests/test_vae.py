"""skvae.VAE on real data: it learns, and its contract holds."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from conftest import tiny_vae
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split

from skvae import VAE, Callback, PosteriorCollapseWarning


@pytest.fixture(scope="module")
def fitted_digits(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    vae = VAE(n_components=10, max_iter=150, early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X_train)
    return vae, X_train, X_test, y_train, y_test


# ---------------------------------------------------------------- learning
def test_held_out_elbo_improves_over_training(fitted_digits):
    vae, *_ = fitted_digits
    valid = [r["valid_loss"] for r in vae.history_]
    # The validation loss (negative ELBO) falls by far more than its noise.
    assert valid[-1] < valid[0] - 50
    assert min(valid) == pytest.approx(vae.best_loss_)


def test_reconstructions_beat_the_mean_image(fitted_digits):
    vae, X_train, X_test, *_ = fitted_digits
    recon = vae.inverse_transform(vae.transform(X_test))
    mse = np.mean((recon - X_test) ** 2)
    baseline = np.mean((X_train.mean(0) - X_test) ** 2)
    assert mse < 0.4 * baseline


def test_score_samples_ranks_digits_above_noise(fitted_digits):
    vae, _, X_test, *_ = fitted_digits
    noise = np.random.RandomState(0).uniform(0, 1, size=(100, 64))
    digits_score = vae.score_samples(X_test)
    noise_score = vae.score_samples(noise)
    # Every held-out digit scores above every noise row.
    assert digits_score.min() > noise_score.max()


def test_class_it_was_trained_on_ranks_above_unseen_noise(digits):
    X, y = digits
    zeros = X[y == 0]
    vae = VAE(n_components=4, max_iter=80, random_state=0).fit(zeros[:140])
    held_out = vae.score_samples(zeros[140:])
    noise = vae.score_samples(np.random.RandomState(1).uniform(0, 1, (50, 64)))
    assert np.median(held_out) > noise.max()


def test_importance_weighted_score_is_tighter(fitted_digits):
    vae, _, X_test, *_ = fitted_digits
    iwae = vae.set_params(n_importance_samples=50).score(X_test)
    elbo = vae.set_params(n_importance_samples=1).score(X_test)
    assert iwae > elbo


@pytest.mark.parametrize("seed", range(4))
def test_single_draw_score_is_below_the_tighter_bound_on_every_seed(seed):
    # Each row draws its own noise: the single-draw errors average out over
    # 1,500 rows. One draw shared by every row moved all scores together,
    # which put the mean ELBO above the 64-draw bound (and above the exact
    # log-likelihood) on some seeds.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1500, 2)) @ rng.normal(size=(2, 6))
    X += 0.3 * rng.normal(size=X.shape)
    vae = VAE(n_components=2, hidden_layer_sizes=(16,), max_iter=20, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    elbo = vae.score(X)
    iwae = vae.set_params(n_importance_samples=64).score(X)
    assert elbo < iwae
    assert iwae - elbo < 0.5


def test_a_rows_draws_follow_its_values_not_its_place(small_X):
    vae = tiny_vae(max_iter=2).fit(small_X)
    X = np.vstack([small_X[:5], small_X[:5]])
    scores = vae.score_samples(X)  # float32: a row's place moves it by an ulp
    np.testing.assert_allclose(scores[:5], scores[5:], rtol=1e-6)
    np.testing.assert_allclose(vae.score_samples(small_X[3:4])[0], scores[3], rtol=1e-6)
    moved = small_X[:5].copy()
    moved[:, 0] += 1e-3  # another row: other draws, so more than the move's effect
    assert np.abs(vae.score_samples(moved) - scores[:5]).max() > 1e-2


def test_bernoulli_likelihood_on_pixels(digits):
    X, _ = digits
    vae = VAE(likelihood="bernoulli", max_iter=60, random_state=0).fit(X)
    recon = vae.inverse_transform(vae.transform(X))
    assert recon.min() >= 0
    assert recon.max() <= 1
    assert np.mean((recon - X) ** 2) < 0.7 * np.mean((X - X.mean(0)) ** 2)
    assert np.all(vae.score_samples(X) < 0)  # a probability mass is <= 1


# ---------------------------------------------------------------- contract
def test_fitted_attributes(small_X):
    vae = tiny_vae(max_iter=4).fit(small_X)
    assert vae.n_features_in_ == 6
    assert vae.n_iter_ == 4 == len(vae.history_) == len(vae.loss_curve_)
    record = vae.history_[-1]
    for key in (
        "epoch",
        "train_loss",
        "recon",
        "kl",
        "kl_per_dim",
        "active_units",
        "beta",
        "dur",
    ):
        assert key in record
    assert len(record["kl_per_dim"]) == 2
    assert 0 <= record["active_units"] <= 2
    assert isinstance(vae.module_, torch.nn.Module)
    assert list(vae.get_feature_names_out()) == ["vae0", "vae1"]


def test_unfitted_methods_raise(small_X):
    for method in ("transform", "score_samples", "score"):
        with pytest.raises(NotFittedError):
            getattr(tiny_vae(), method)(small_X)
    with pytest.raises(NotFittedError):
        tiny_vae().sample(2)
    with pytest.raises(NotFittedError):
        tiny_vae().inverse_transform(np.zeros((2, 2)))


def test_fit_transform_agrees_with_fit_then_transform(small_X):
    a = tiny_vae().fit_transform(small_X)
    b = tiny_vae().fit(small_X).transform(small_X)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_outputs_follow_the_input_dtype(small_X):
    vae = tiny_vae().fit(small_X.astype(np.float32))
    assert vae.transform(small_X.astype(np.float32)).dtype == np.float32
    assert vae.transform(small_X).dtype == np.float64
    assert vae.score_samples(small_X.astype(np.float32)).dtype == np.float32
    assert vae.sample(3).dtype == np.float32
    assert vae.inverse_transform(np.zeros((2, 2))).shape == (2, 6)


def test_score_is_mean_of_score_samples(small_X):
    vae = tiny_vae().fit(small_X)
    assert vae.score(small_X) == pytest.approx(np.mean(vae.score_samples(small_X)))


def test_sample_is_reproducible(small_X):
    vae = tiny_vae().fit(small_X)
    np.testing.assert_array_equal(
        vae.sample(5, random_state=3), vae.sample(5, random_state=3)
    )
    assert not np.allclose(vae.sample(5, random_state=3), vae.sample(5, random_state=4))
    np.testing.assert_array_equal(vae.sample(4), vae.sample(4))  # int random_state
    with pytest.raises(ValueError, match="n_samples"):
        vae.sample(0)


def test_global_random_state_is_untouched(small_X):
    np.random.seed(123)  # noqa: NPY002 (the legacy global state is under test)
    torch.manual_seed(123)
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_state = torch.get_rng_state().clone()
    for random_state in (0, None):
        vae = tiny_vae(random_state=random_state).fit(small_X)
        vae.transform(small_X)
        vae.score_samples(small_X)
        vae.sample(3)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_same_seed_same_model_different_seed_different_model(small_X):
    a = tiny_vae(random_state=1).fit(small_X).transform(small_X)
    b = tiny_vae(random_state=1).fit(small_X).transform(small_X)
    c = tiny_vae(random_state=2).fit(small_X).transform(small_X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# ---------------------------------------------------------------- training
def test_partial_fit_trains_one_epoch_at_a_time(small_X):
    vae = tiny_vae()
    vae.partial_fit(small_X[:20])
    assert vae.n_iter_ == 1
    before = vae.transform(small_X)
    vae.partial_fit(small_X[20:])
    assert vae.n_iter_ == 2
    assert not np.allclose(before, vae.transform(small_X))
    with pytest.raises(ValueError, match="features"):
        vae.partial_fit(small_X[:, :3])


def test_partial_fit_continues_like_fit(small_X):
    # Two partial_fit epochs on the whole data equal a two-epoch fit.
    a = tiny_vae(max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(small_X)
    b = tiny_vae().partial_fit(small_X).partial_fit(small_X)
    np.testing.assert_allclose(a.transform(small_X), b.transform(small_X), rtol=1e-5)


def test_warm_start_continues_training(small_X):
    vae = tiny_vae(warm_start=True, max_iter=2).fit(small_X)
    first = vae.module_
    vae.fit(small_X)
    assert vae.module_ is first
    assert vae.n_iter_ == 4
    cold = tiny_vae(max_iter=2).fit(small_X)
    cold_module = cold.module_
    cold.fit(small_X)
    assert cold.module_ is not cold_module
    assert cold.n_iter_ == 2


def test_max_iter_zero_initialises_only(small_X):
    vae = tiny_vae(max_iter=0).fit(small_X)
    assert vae.n_iter_ == 0
    assert vae.history_ == []
    assert vae.transform(small_X).shape == (40, 2)


def test_kl_warmup_is_linear(small_X):
    vae = tiny_vae(kl_warmup=4, beta=2.0, max_iter=6, batch_size=40).fit(small_X)
    betas = [r["beta"] for r in vae.history_]
    assert betas == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.0, 2.0])


def test_early_stopping_stops_and_restores_the_best(digits):
    X, _ = digits
    vae = VAE(
        n_components=4,
        max_iter=300,
        early_stopping=True,
        n_iter_no_change=3,
        tol=5.0,
        kl_warmup=0,
        random_state=0,
    ).fit(X[:400])
    assert vae.n_iter_ < 300
    valid = [r["valid_loss"] for r in vae.history_]
    assert vae.best_loss_ == pytest.approx(min(valid))


def test_stopping_on_training_loss_plateau(small_X):
    vae = tiny_vae(max_iter=500, n_iter_no_change=2, tol=1e6).fit(small_X)
    # The first epoch sets the best loss; two more without a 1e6-nat gain stop it.
    assert vae.n_iter_ == 3


def test_convergence_warning_when_max_iter_is_hit(small_X):
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        tiny_vae(max_iter=2).fit(small_X)


def test_posterior_collapse_is_detected_and_named(digits):
    X, _ = digits
    with pytest.warns(PosteriorCollapseWarning, match="free_bits"):
        VAE(n_components=4, beta=500.0, kl_warmup=0, max_iter=15, random_state=0).fit(
            X[:300]
        )


def test_free_bits_keep_units_active(digits):
    X, _ = digits
    params = dict(n_components=4, beta=500.0, kl_warmup=0, max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collapsed = VAE(**params).fit(X[:300])
        kept = VAE(free_bits=2.0, **params).fit(X[:300])
    assert kept.history_[-1]["active_units"] > collapsed.history_[-1]["active_units"]


def test_non_finite_loss_raises_naming_the_epoch_and_leaves_it_unfitted(small_X):
    X = small_X * 1e25  # finite input whose squares overflow float32
    vae = tiny_vae()
    with pytest.raises(ValueError, match="non-finite at epoch 1"):
        vae.fit(X)
    # no epoch of this first fit completed: the estimator is as before the call
    with pytest.raises(NotFittedError):
        vae.transform(small_X)


def test_gradient_clipping_bounds_the_update(small_X):
    vae = tiny_vae(max_iter=1, max_grad_norm=1e-3, learning_rate_init=1.0).fit(small_X)
    assert np.all(np.isfinite(vae.transform(small_X)))


def test_verbose_prints_one_line_per_epoch(small_X, capsys):
    tiny_vae(max_iter=3, verbose=2).fit(small_X)
    out = capsys.readouterr().out.splitlines()
    lines = [line for line in out if line.startswith("epoch")]
    assert len(lines) == 3
    assert lines[2].startswith("epoch    3/3 |")
    assert "train_loss" in lines[0]
    assert "active_units" in lines[0]


def test_user_callbacks_see_every_epoch(small_X):
    class Count(Callback):
        def __init__(self):
            self.epochs, self.batches = 0, 0

        def on_epoch_end(self, trainer, **kwargs):
            self.epochs += 1

        def on_batch_end(self, trainer, **kwargs):
            self.batches += 1

    counter = Count()
    vae = tiny_vae(max_iter=3, batch_size=10, callbacks=[counter]).fit(small_X)
    assert vae.n_iter_ == 3
    # clone deep-copies the callback, so the user's object is the one called
    assert (counter.epochs, counter.batches) == (3, 12)


def test_batch_size_larger_than_data_is_clipped_with_a_warning(small_X):
    with pytest.warns(UserWarning, match="batch_size"):
        tiny_vae(batch_size=1000).fit(small_X)


# ------------------------------------------------------------- persistence
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_round_trip(small_X, tmp_path, dump):
    vae = tiny_vae().fit(small_X)
    path = tmp_path / "model"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(vae))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(vae, path)
        loaded = joblib.load(path)
    np.testing.assert_array_equal(vae.transform(small_X), loaded.transform(small_X))
    np.testing.assert_array_equal(
        vae.score_samples(small_X), loaded.score_samples(small_X)
    )
    loaded.partial_fit(small_X)  # optimiser state travelled too
    assert loaded.n_iter_ == vae.n_iter_ + 1


def test_pickle_of_a_cuda_model_loads_on_a_cpu_machine(small_X):
    vae = tiny_vae().fit(small_X)
    vae.set_params(device="cuda")  # as a model fitted with device="cuda" is
    state = vae.__getstate__()
    assert all(p.device.type == "cpu" for p in state["module_"].parameters())
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the fallback is not exercised")
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(
        loaded.transform(small_X), vae.set_params(device="cpu").transform(small_X)
    )


def test_compiled_training_matches_eager(small_X):
    pytest.importorskip("torch._dynamo")
    params = dict(max_iter=3, kl_warmup=2)
    eager = tiny_vae(**params).fit(small_X)
    compiled = tiny_vae(compile=True, **params).fit(small_X)
    np.testing.assert_allclose(
        compiled.transform(small_X), eager.transform(small_X), rtol=1e-4, atol=1e-5
    )
    assert pickle.loads(pickle.dumps(compiled)).transform(small_X).shape == (40, 2)
