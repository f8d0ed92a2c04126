"""The default VAEImputer's budget: sized by the table, stopped by held-out entries."""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone

import skvae.impute
from skvae import VAE, VAEImputer, default_imputer_vae
from skvae._torch import draw_seed
from skvae.impute import HOLDOUT_FRACTION, _column_groups, _HeldOutStop


def _low_rank_holes(n=120, d=5, rate=0.2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, d)) + 0.1 * rng.normal(
        size=(n, d)
    )
    holes = X.copy()
    holes[rng.uniform(size=X.shape) < rate] = np.nan
    return holes


def test_default_model_is_sized_by_the_table():
    small, large = default_imputer_vae(150, 4), default_imputer_vae(5000, 60)
    assert small.hidden_layer_sizes == (32, 32)
    assert large.hidden_layer_sizes == (64, 64)
    # at most 128 rows a batch, the batches of an epoch of about one size
    assert (small.batch_size, large.batch_size) == (75, 125)
    assert default_imputer_vae(50, 4).batch_size == 50  # one batch of every row
    for n in (128, 129, 178, 300, 1797):
        size = default_imputer_vae(n, 4).batch_size
        n_batches = -(-n // size)
        assert size <= 128
        assert n_batches == -(-n // 128)
        assert n - (n_batches - 1) * size >= size - n_batches  # no short last one
    # an all-real table's larger batches: 8 an epoch past 1,024 rows, up to 512
    for n in (50, 128, 1024, 1025, 1797, 3000, 4096, 4097, 9000):
        size = skvae.impute._large_batch(n)
        n_batches = -(-n // size)
        assert size <= (128 if n <= 1024 else 512)
        assert n_batches == min(-(-n // 128), max(8, -(-n // 512)))
        assert n - (n_batches - 1) * size >= size - n_batches
    # the cap is about 3,000 optimisation steps, whatever the number of rows
    assert small.max_iter * 2 == pytest.approx(3000, abs=2)
    assert large.max_iter * 40 == pytest.approx(3000, abs=40)


def test_default_stops_on_held_out_entries_and_keeps_the_best_weights(monkeypatch):
    # a shorter patience, so that the test is quick; the mechanism is the same
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 5)
    monkeypatch.setattr(skvae.impute, "PATIENCE_SHARE", 0.0)
    # the trial off (a gain never falls under 0): the plateau alone stops it
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 0.0)
    monkeypatch.setattr(skvae.impute, "TRIAL_EARLY_Z", 0.0)
    holes = _low_rank_holes(n=60)
    imputer = VAEImputer(random_state=0).fit(holes)
    vae = imputer.estimator_
    errors = [r["holdout_error"] for r in vae.history_ if "holdout_error" in r]
    assert vae.n_iter_ < vae.max_iter  # stopped by the held-out entries
    assert vae.callbacks is None  # the stopping rule is not left in the model
    # the weights kept are those of the lowest held-out error
    Z = imputer._scale(holes)
    stop = _HeldOutStop(Z, _column_groups("auto", Z), draw_seed(0))
    stop.x = torch.tensor(stop.train[stop.rows], dtype=torch.float32)
    stop.eps = torch.zeros(1, vae.module_.noise_dim)
    assert stop.error(vae.module_) == pytest.approx(min(errors), rel=1e-5)
    assert errors[-1] > min(errors)


def test_a_plateau_ends_training_where_the_vae_adds_little(monkeypatch):
    # a short patience and no trial, so that plateaus come soon
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 5)
    monkeypatch.setattr(skvae.impute, "PATIENCE_SHARE", 0.0)
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 0.0)
    monkeypatch.setattr(skvae.impute, "TRIAL_EARLY_Z", 0.0)
    monkeypatch.setattr(skvae.impute, "MIN_STEPS", 1000)  # no budget ends it
    holes = _low_rank_holes(n=60)
    fits = {}
    for z in (1e9, 0.0):  # every gain is small / none is
        monkeypatch.setattr(skvae.impute, "REFINE_Z", z)
        vae = VAEImputer(random_state=0).fit(holes).estimator_
        fits[z] = vae
    small = fits[1e9].history_
    gains = [r["refine_z2"] for r in small if "refine_z2" in r]
    assert len(gains) == 1  # the first plateau ends it
    assert "refine_z2" in small[-1]
    # refined: the plateau halves the learning rate and training goes on
    assert fits[0.0].n_iter_ > fits[1e9].n_iter_
    # a passed model is never blended, so never weighed: no such check
    vae = VAEImputer(VAE(max_iter=3, random_state=0)).fit(holes).estimator_
    assert not any("refine_z2" in r for r in vae.history_)


def test_the_neighbours_gain_alone_does_not_refine(monkeypatch):
    # a short patience and a trial that every model passes: the first
    # plateau, where the VAE's gain is under REFINE_Z standard errors, ends
    # the fit however much the neighbours' fill gains
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 5)
    monkeypatch.setattr(skvae.impute, "PATIENCE_SHARE", 0.0)
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 0.0)
    monkeypatch.setattr(skvae.impute, "TRIAL_EARLY_Z", 0.0)
    monkeypatch.setattr(skvae.impute, "MIN_STEPS", 1000)
    monkeypatch.setattr(_HeldOutStop, "neighbour_gain", lambda self: 1e6)
    monkeypatch.setattr(_HeldOutStop, "gain_z2", lambda self: 1.0)
    vae = VAEImputer(random_state=0).fit(_low_rank_holes(n=60)).estimator_
    refine = [r for r in vae.history_ if "refine_z2" in r]
    assert len(refine) == 1
    assert refine[0] is vae.history_[-1]


def test_an_all_real_table_fits_the_plain_gaussian_likelihood():
    holes = _low_rank_holes(n=60)
    imputer = VAEImputer(random_state=0).fit(holes)
    assert imputer.estimator_.likelihood == "gaussian"
    # the same model and fit as the one block that "auto" finds
    auto = default_imputer_vae(60, 5, random_state=0).set_params(max_iter=4)
    plain = clone(auto).set_params(likelihood="gaussian")
    Z = imputer._scale(holes)
    assert auto.fit(Z).loss_curve_ == plain.fit(Z).loss_curve_
    # a table with a binary column keeps "auto"
    mixed = holes.copy()
    mixed[:, 0] = np.where(np.isnan(holes[:, 0]), np.nan, holes[:, 0] > 0)
    assert VAEImputer(random_state=0).fit(mixed).estimator_.likelihood == "auto"


def test_small_tables_check_every_few_steps_and_stop_at_a_budget(monkeypatch):
    # no plateau ever ends this fit: only the budget of steps does (the VAE's
    # trial against the Gaussian, which would end it earlier on this linear
    # table, off: a gain never falls under 0)
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 10**6)
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 0.0)
    monkeypatch.setattr(skvae.impute, "TRIAL_EARLY_Z", 0.0)
    holes = _low_rank_holes(n=60, d=5, rate=0.2)  # one step an epoch
    imputer = VAEImputer(random_state=0).fit(holes)
    vae = imputer.estimator_
    Z = imputer._scale(holes)
    stop = _HeldOutStop(Z, _column_groups("auto", Z), draw_seed(0))
    trained = (~np.isnan(stop.train)).sum()
    budget = max(skvae.impute.MIN_STEPS, np.ceil(trained / 4))
    assert vae.batch_size == 60
    assert vae.n_iter_ == budget < vae.max_iter
    checked = [r["epoch"] for r in vae.history_ if "holdout_error" in r]
    step = skvae.impute.CHECK_STEPS
    expected = list(range(step, int(budget) + 1, step))
    if budget % step:
        expected.append(int(budget))  # the last epoch is always checked
    assert checked == expected


def test_held_out_entries_leave_every_row_and_column_observed():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(400, 6))
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    X[:50, 1:] = np.nan  # rows with one observed entry
    X[:, 5] = np.nan
    X[60, 5] = 1.0  # a column with one observed entry
    stop = _HeldOutStop(X, [[j] for j in range(6)], seed=0)
    observed, kept = ~np.isnan(X), ~np.isnan(stop.train)
    held = observed & ~kept
    assert not (kept & ~observed).any()  # only observed entries are held out
    assert kept.any(axis=1)[observed.any(axis=1)].all()
    assert kept.any(axis=0).all()
    assert not held[:50].any()
    assert not held[:, 5].any()
    assert held.any()
    share = held.sum() / observed.sum()
    assert 0.5 * HOLDOUT_FRACTION < share < 1.5 * HOLDOUT_FRACTION
    np.testing.assert_array_equal(np.sort(stop.truth), np.sort(X[held]))


def test_one_hot_groups_are_held_out_whole():
    rng = np.random.RandomState(2)
    onehot = np.eye(3)[rng.randint(3, size=300)]
    X = np.column_stack([rng.normal(size=(300, 2)), onehot])
    groups = _column_groups("auto", X)
    assert [2, 3, 4] in groups
    stop = _HeldOutStop(X, groups, seed=0)
    hidden = np.isnan(stop.train[:, 2:])
    assert hidden.any()
    assert (hidden.all(axis=1) == hidden.any(axis=1)).all()


def test_a_group_with_holes_in_some_columns_only_is_not_held_out():
    # an array whose "auto" one-hot group has a hole in one column only: that
    # row's group is not observed, so no NaN is held out as a truth
    X = np.tile([[1.0, 0.0, np.nan], [1.0, np.nan, 0.0], [1.0, 0.0, 0.0]], (10, 1))
    groups = _column_groups("auto", X)
    assert [0, 1] in groups
    stop = _HeldOutStop(X, groups, seed=0)
    assert np.isfinite(stop.truth).all()
    X[:, 1:] += 2.0  # the fit used to fail on NaN held-out errors
    out = VAEImputer(random_state=0).fit(X).transform(X)
    assert np.isfinite(out).all()


def test_zero_weights_do_not_break_the_stopping_rule(monkeypatch):
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 5)
    monkeypatch.setattr(skvae.impute, "PATIENCE_SHARE", 0.0)
    holes = _low_rank_holes(n=40, d=3)
    weight = np.r_[np.zeros(20), np.ones(20)]
    imputer = VAEImputer(random_state=0).fit(holes, sample_weight=weight)
    assert not np.isnan(imputer.transform(holes)).any()
    stop = _HeldOutStop(holes, [[0], [1], [2]], seed=0, sample_weight=np.zeros(40))
    assert stop.weight is None


def test_held_out_check_is_the_decoders_mean_at_the_posterior_mean():
    holes = _low_rank_holes(n=80, d=4)
    vae = default_imputer_vae(*holes.shape, random_state=0).set_params(max_iter=3)
    module = vae.fit(holes).module_
    stop = _HeldOutStop(holes, _column_groups("auto", holes), seed=0)

    class Trainer:
        batch_size, n_epochs, device = 80, 3, torch.device("cpu")

    Trainer.module = module
    stop.on_train_begin(Trainer(), n_epochs=3)
    err = stop.error(module)
    with torch.inference_mode():  # the model's own imputation at eps = 0
        full = module.impute(stop.x, torch.zeros(1, module.noise_dim)).numpy()
    np.testing.assert_array_equal(stop.fill, full[stop.pick])
    assert err == pytest.approx(
        np.mean((full[stop.pick] - stop.truth) ** 2 * stop.inv_var)
    )
    assert module.training  # left in training mode


def test_two_proposals_reduce_to_miwae_when_the_proposals_agree():
    # with one posterior for both proposals, the mixture's weights are MIWAE's
    # over the 2k draws: the fill must be the module's own importance sampling
    from skvae.impute import _two_proposals

    holes = _low_rank_holes(n=40)
    imputer = VAEImputer(VAE(max_iter=3, random_state=0), random_state=0).fit(holes)
    module = imputer.estimator_.module_.eval()
    x = torch.as_tensor(imputer._scale(holes), dtype=torch.float32)
    fixed = module.encode(x)
    module.encode = lambda _: fixed
    eps = torch.randn(
        2, 16, module.noise_dim, generator=torch.Generator().manual_seed(0)
    )
    with torch.inference_mode():
        mixed = _two_proposals(module, x, eps)
        miwae = module.impute(x, eps.reshape(32, -1))
    torch.testing.assert_close(mixed, miwae)
    del module.encode
    with torch.inference_mode():  # the second proposal moves the fill
        assert not torch.allclose(_two_proposals(module, x, eps), miwae)


def test_held_out_share_shrinks_to_a_count_on_large_tables():
    from skvae.impute import HOLDOUT_ENTRIES, HOLDOUT_MIN_FRACTION

    rng = np.random.RandomState(3)
    shares = []
    for n in (100, 1500, 6000):  # 1,000, 15,000 and 60,000 observed entries
        X = rng.normal(size=(n, 10))
        stop = _HeldOutStop(X, [[j] for j in range(10)], seed=0)
        shares.append(np.isnan(stop.train).mean())
    assert shares[0] == pytest.approx(HOLDOUT_FRACTION, abs=0.02)
    assert shares[1] == pytest.approx(HOLDOUT_ENTRIES / 15000, abs=0.01)
    assert shares[2] == pytest.approx(HOLDOUT_MIN_FRACTION, abs=0.005)


# ---- the default's Gaussian model, blended with the VAE ----


def _gaussian_rows(n=300, d=5, rate=0.4, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    cov = A @ A.T / d + 0.2 * np.eye(d)
    mean = rng.normal(size=d)
    X = rng.multivariate_normal(mean, cov, size=n)
    holes = X.copy()
    holes[rng.uniform(size=X.shape) < rate] = np.nan
    return holes, X, mean, cov


def test_conditional_fill_and_covariances_follow_the_gaussian_formulas():
    from skvae.impute import _conditional

    holes, _, mean, cov = _gaussian_rows(n=60, d=5)
    holes[0] = np.nan  # no observed entry: the mean, the full covariance
    weight = np.linspace(0.5, 1.5, 60)
    filled, cov_sum = _conditional(holes, mean, cov, row_weight=weight)
    expected, expected_sum = holes.copy(), np.zeros_like(cov)
    for i, row in enumerate(holes):
        m, o = np.isnan(row), ~np.isnan(row)
        gain = cov[np.ix_(m, o)] @ np.linalg.inv(cov[np.ix_(o, o)])
        expected[i, m] = mean[m] + gain @ (row[o] - mean[o])
        block = cov[np.ix_(m, m)] - gain @ cov[np.ix_(o, m)]
        expected_sum[np.ix_(m, m)] += weight[i] * block
    np.testing.assert_allclose(filled, expected, atol=1e-10)
    np.testing.assert_allclose(cov_sum, expected_sum, atol=1e-10)
    np.testing.assert_array_equal(filled[~np.isnan(holes)], holes[~np.isnan(holes)])
    # a draw: the conditional distribution, here of row 0, N(mean, cov)
    gen = torch.Generator().manual_seed(0)
    draws = _conditional(np.repeat(holes[:1], 3000, axis=0), mean, cov, generator=gen)[
        0
    ]
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.15)
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.2)


def test_a_plan_of_the_holes_serves_every_e_step(monkeypatch):
    from skvae.impute import _conditional, _Holes

    holes, _, mean, cov = _gaussian_rows(n=200, d=6, rate=0.5)
    weight = np.full(200, 1 / 200)
    for small in (skvae.impute.SMALL_SOLVE, 0):  # one padded group, or four
        monkeypatch.setattr(skvae.impute, "SMALL_SOLVE", small)
        plan = _Holes(holes)
        for m, c in ((mean, cov), (mean + 0.5, 2 * cov + np.eye(6))):
            fresh = _conditional(holes, m, c, row_weight=weight)
            again = _conditional(plan, m, c, row_weight=weight)
            np.testing.assert_array_equal(fresh[0], again[0])
            np.testing.assert_array_equal(fresh[1], again[1])
            draws = [
                _conditional(z, m, c, generator=torch.Generator().manual_seed(1))[0]
                for z in (holes, plan)
            ]
            np.testing.assert_array_equal(*draws)
    np.testing.assert_array_equal(plan.array, holes)  # the rows are not changed


def test_em_recovers_the_gaussian_of_rows_with_holes():
    from skvae.impute import _gaussian_em

    holes, _, mean, cov = _gaussian_rows(n=2000, d=4, rate=0.3)
    start_cov = np.diag(np.nanvar(holes, axis=0))
    weight = np.full(len(holes), 1 / len(holes))
    fit_mean, fit_cov, _ = _gaussian_em(
        holes, 1e-4, np.nanmean(holes, axis=0), start_cov, weight, 200
    )
    np.testing.assert_allclose(fit_mean, mean, atol=0.1)
    np.testing.assert_allclose(fit_cov, cov, atol=0.15)
    # the covariance of the filled-in rows alone would be too small
    assert not np.allclose(
        np.cov(np.where(np.isnan(holes), fit_mean, holes).T), cov, atol=0.15
    )


def test_em_shrinkage_does_not_inflate_variances_where_most_is_missing():
    # the shrinkage pulls towards a sphere of the observed variance instead of
    # adding to the diagonal at every step, which the next E step carried into
    # its fills: at 85% missing the variances grew without bound (to 2.5 with
    # plain EM, over 200 with SQUAREM, for a truth of 1)
    from skvae.impute import _gaussian_em

    rng = np.random.default_rng(0)
    holes = rng.normal(size=(400, 7))
    holes[rng.uniform(size=holes.shape) < 0.85] = np.nan
    weight = np.full(400, 1 / 400)
    start = np.diag(np.nanvar(holes, axis=0))
    for ridge in (0.3, 0.03):
        _, cov, _ = _gaussian_em(
            holes, ridge, np.nanmean(holes, axis=0), start, weight, 30
        )
        assert 0.7 < np.diag(cov).mean() < 1.3


def test_blend_weights_are_least_squares_shares_in_the_unit_interval():
    from skvae.impute import _blend_weights

    rng = np.random.default_rng(0)
    column = np.repeat(np.arange(3), 50)
    guess, other = rng.normal(size=150), rng.normal(size=150)
    ones = np.ones(150)
    truth = 0.3 * guess + 0.7 * other  # the same share in every column
    np.testing.assert_allclose(
        _blend_weights(guess, other, truth, column, 3, ones), 0.3, atol=1e-12
    )
    # shares outside [0, 1] are clipped
    for share, clipped in ((2.0, 1.0), (-1.0, 0.0)):
        truth = share * guess + (1 - share) * other
        weights = _blend_weights(guess, other, truth, column, 3, ones)
        np.testing.assert_array_equal(weights, clipped)
    # a column's own share counts, shrunk towards the common one
    truth = np.where(column == 0, guess, other)
    weights = _blend_weights(guess, other, truth, column, 3, ones)
    assert 1 > weights[0] > 0.5 > weights[1] > 0
    assert 0 < weights[2] < 0.5


@pytest.fixture(scope="module")
def blended():
    with pytest.MonkeyPatch.context() as patch:  # a short patience: quick
        patch.setattr(skvae.impute, "PATIENCE_STEPS", 5)
        patch.setattr(skvae.impute, "PATIENCE_SHARE", 0.0)
        holes, X, _, _ = _gaussian_rows(n=200, d=5, rate=0.3)
        return VAEImputer(random_state=0).fit(holes), holes, X


def test_default_blends_the_vae_with_a_gaussian_on_held_out_entries(blended):
    from skvae.impute import _conditional

    imputer, holes, X = blended
    weights = imputer.gaussian_weights_
    np.testing.assert_array_equal(imputer.gaussian_columns_, np.arange(5))
    assert ((weights >= 0) & (weights <= 1)).all()
    assert weights.mean() > 0.5  # Gaussian rows: the Gaussian model wins
    assert imputer.gaussian_covariance_.shape == (5, 5)
    filled = imputer.transform(holes)
    # the fill is the weighted mean of the VAE's and the Gaussian's
    alone = copy.copy(imputer)  # the same imputer without the Gaussian
    alone.gaussian_weights_ = np.zeros(5)
    vae = alone.transform(holes)
    gauss = _conditional(
        imputer._scale(holes), imputer.gaussian_mean_, imputer.gaussian_covariance_
    )[0]
    gauss = gauss * imputer._scale_ + imputer._shift
    blend = weights * gauss + (1 - weights) * vae
    np.testing.assert_allclose(filled, blend, rtol=1e-5, atol=1e-5)
    # on Gaussian rows the blend is no worse than the VAE alone
    missing = np.isnan(holes)
    assert ((filled - X)[missing] ** 2).mean() <= ((vae - X)[missing] ** 2).mean()


def test_blended_draws_are_reproducible_and_keep_observed_entries(blended):
    imputer, holes, _ = blended
    imputer = copy.copy(imputer)
    imputer.sample_posterior = True
    first, again = imputer.transform(holes), imputer.transform(holes)
    np.testing.assert_array_equal(first, again)
    observed = ~np.isnan(holes)
    np.testing.assert_array_equal(first[observed], holes[observed])
    assert not np.isnan(first).any()
    imputer.random_state = 1
    assert not np.allclose(imputer.transform(holes), first)


def test_blended_imputer_survives_save_and_load(blended, tmp_path):
    from skvae.persistence import load, save

    imputer, holes, _ = blended
    save(imputer, tmp_path / "imputer.skvae")
    loaded = load(tmp_path / "imputer.skvae")
    np.testing.assert_allclose(loaded.transform(holes), imputer.transform(holes))


def test_a_given_estimator_is_not_blended():
    holes = _low_rank_holes(n=40)
    imputer = VAEImputer(VAE(max_iter=2, random_state=0), random_state=0).fit(holes)
    assert not imputer.gaussian_weights_.any()
    assert imputer.gaussian_mean_ is None
    assert imputer.gaussian_covariance_ is None


def test_em_rows_are_subsampled_to_the_work_cap(monkeypatch):
    from skvae.impute import _em_rows

    holes, _, _, _ = _gaussian_rows(n=400, d=6, rate=0.5)
    weight = np.ones(400)
    weight[:10] = 0
    rows = _em_rows(holes, weight, seed=0)
    np.testing.assert_array_equal(rows, np.arange(10, 400))  # under the cap
    monkeypatch.setattr(skvae.impute, "EM_WORK", 2000.0)
    rows = _em_rows(holes, weight, seed=0)
    cost = (np.isnan(holes[rows]).sum(axis=1) ** 3).sum()
    assert 2 <= rows.size < 390
    assert cost < 4000  # about the cap
    assert rows.min() >= 10  # rows of zero weight stay out
    np.testing.assert_array_equal(rows, _em_rows(holes, weight, seed=0))


def test_no_gaussian_where_its_covariance_costs_too_much(monkeypatch):
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 5)
    monkeypatch.setattr(skvae.impute, "PATIENCE_SHARE", 0.0)
    monkeypatch.setattr(skvae.impute, "EM_WORK", 2 * 5**3 - 1)  # 5 columns: over
    holes, _, _, _ = _gaussian_rows(n=100, d=5, rate=0.3)
    imputer = VAEImputer(random_state=0).fit(holes)
    assert not imputer.gaussian_weights_.any()
    assert imputer.gaussian_mean_ is None
    assert not np.isnan(imputer.transform(holes)).any()


def test_weights_are_checked_before_the_gaussian_uses_them():
    X = _low_rank_holes(n=40, d=3)
    weight = np.ones(40)
    weight[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        VAEImputer(random_state=0).fit(X, sample_weight=weight)


def test_step_budget_holds_when_nothing_can_be_held_out():
    # one observed entry a row: none is held out, yet the budget of
    # max(MIN_STEPS, entries / 4) steps still ends the fit
    X = np.array([[1.0, np.nan], [np.nan, 3.0], [2.0, np.nan], [np.nan, 4.0]] * 3)
    model = VAEImputer(random_state=0).fit(X).estimator_
    assert model.n_iter_ == skvae.impute.MIN_STEPS  # one step an epoch


def test_accelerated_em_reaches_plain_em_fixed_point():
    from skvae.impute import _conditional, _gaussian_em, _m_step, _observed_variance

    holes, _, _, _ = _gaussian_rows(n=300, d=4, rate=0.5)
    weight = np.full(len(holes), 1 / len(holes))
    mean0, cov0 = np.nanmean(holes, axis=0), np.diag(np.nanvar(holes, axis=0))
    mean, cov = mean0, cov0
    scale = _observed_variance(holes, weight)
    for _ in range(400):  # plain EM, slow with half of the entries missing
        mean, cov = _m_step(*_conditional(holes, mean, cov, row_weight=weight), 0.01,
                            scale, weight)  # fmt: skip
    calls = []
    real = skvae.impute._conditional

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    skvae.impute._conditional = counted
    try:
        fast_mean, fast_cov, _ = _gaussian_em(holes, 0.01, mean0, cov0, weight, 400)
    finally:
        skvae.impute._conditional = real
    np.testing.assert_allclose(fast_mean, mean, atol=2e-3)
    np.testing.assert_allclose(fast_cov, cov, atol=2e-3)
    assert len(calls) < 100  # far fewer E steps than plain EM's


def test_em_check_sees_each_cycles_fill_and_can_end_it():
    from skvae.impute import _conditional, _gaussian_em

    holes, _, _, _ = _gaussian_rows(n=80, d=4, rate=0.3)
    weight = np.full(len(holes), 1 / len(holes))
    mean, cov = np.nanmean(holes, axis=0), np.diag(np.nanvar(holes, axis=0))
    seen = []

    def check(m, c, X):
        np.testing.assert_allclose(X, _conditional(holes, m, c)[0])  # the E step
        seen.append(c)
        return len(seen) == 3

    out_mean, out_cov, e_step = _gaussian_em(holes, 0.1, mean, cov, weight, 50, check)
    assert len(seen) == 3
    assert out_cov is seen[-1]
    np.testing.assert_allclose(e_step[0], _conditional(holes, out_mean, out_cov)[0])
    # a check that ends at once returns the start and its (given) E step
    given = _conditional(holes, mean, cov, row_weight=weight)
    same = _gaussian_em(holes, 0.1, mean, cov, weight, 50, lambda *a: True, given)
    assert same[0] is mean
    assert same[1] is cov
    assert same[2] is given


@pytest.mark.parametrize(
    ("n", "rank", "first_ways"),
    [(40, None, (0.03, 0.01, 0.1)), (600, 2, (0.01, 0.003))],
)
def test_shrinkage_search_starts_in_the_middle_and_follows_the_error(
    monkeypatch, n, rank, first_ways
):
    # independent columns, few rows: more shrinkage; low rank, many rows: less
    # (600 rows of 6 columns start below the middle: at the first shrinkage
    # of at most the columns over the rows, 0.01)
    monkeypatch.setattr(skvae.impute, "MAX_STEPS", 20)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 6))
    if rank:
        X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, 6)) + 0.05 * X
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    calls = _em_calls(monkeypatch)
    VAEImputer(random_state=0).fit(X)
    ridges = [ridge for _, ridge in calls]
    assert tuple(ridges[: len(first_ways)]) == first_ways
    if rank:  # on to the least shrinkage, then the refit there
        assert ridges[2:] == [0.003]


def _em_table(n, rank, d):
    """A low-rank table with 30% of its entries missing, as EM's tests read it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d))
    X += 0.1 * rng.normal(size=X.shape)
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    return X


def _em_calls(monkeypatch):
    """The (rows, shrinkage) of each of the imputer's EM fits, as they come.

    The default model trains 20 steps at most (its fill is not what the
    tests read).
    """
    monkeypatch.setattr(skvae.impute, "MAX_STEPS", 20)
    calls = []
    real = skvae.impute._gaussian_em

    def record(Z, ridge, *args, **kwargs):
        rows = Z.array.shape[0] if hasattr(Z, "array") else Z.shape[0]
        calls.append((rows, ridge))
        return real(Z, ridge, *args, **kwargs)

    monkeypatch.setattr(skvae.impute, "_gaussian_em", record)
    return calls


def _trial_stop(truth, guess, weight=None):
    """A stopping rule holding held-out truths and the Gaussian's fill of them."""
    X = np.column_stack([truth, np.zeros_like(truth)])
    stop = _HeldOutStop(X, [[0], [1]], seed=0)
    stop.truth = truth
    w = np.ones_like(truth) if weight is None else weight
    stop.versus = (guess, float(np.average((guess - truth) ** 2, weights=w)), w)
    return stop


def test_trial_gain_is_the_blends_share_of_the_gaussians_error_times_entries():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=400)
    guess = truth + rng.normal(size=400)  # the Gaussian's fill: error 1
    stop = _trial_stop(truth, guess)
    stop.best_fill = guess.copy()  # the same fill: nothing gained
    assert stop.gain_z2() == pytest.approx(0.0, abs=1e-9)
    # a fill that errs as the Gaussian's does, more: weight 1 on the Gaussian
    stop.best_fill = guess + 3 * (guess - truth)
    assert stop.gain_z2() == pytest.approx(0.0, abs=1e-9)
    stop.best_fill = truth.copy()  # a perfect fill: all the error removed
    assert stop.gain_z2() == pytest.approx(400.0)
    # an independent fill as good as the Gaussian's: the blend halves the error
    stop.best_fill = truth + rng.normal(size=400)
    blend = np.mean(((guess + stop.best_fill) / 2 - truth) ** 2)
    em = np.mean((guess - truth) ** 2)
    assert stop.gain_z2() == pytest.approx(400 * (1 - blend / em), rel=0.05)
    # with weights, the effective number of entries: half the rows at weight 0
    weight = np.r_[np.ones(200), np.zeros(200)]
    stop = _trial_stop(truth, guess, weight)
    stop.best_fill = truth.copy()
    assert stop.gain_z2() == pytest.approx(200.0)


def test_a_vae_that_adds_nothing_to_the_gaussian_stops_at_its_trial(monkeypatch):
    # the plateau rule off: only the trial (or the budget) can end the fit;
    # the trial at TRIAL_STEPS on every table
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 10**6)
    monkeypatch.setattr(skvae.impute, "TRIAL_EARLY", skvae.impute.TRIAL_STEPS)
    holes = _low_rank_holes(n=200, d=5, rate=0.2)
    fits = {}
    for z in (0.0, 1e6):  # no trial; a trial that no VAE passes
        monkeypatch.setattr(skvae.impute, "TRIAL_Z", z)
        monkeypatch.setattr(skvae.impute, "TRIAL_EARLY_Z", z)
        fits[z] = VAEImputer(random_state=0).fit(holes)
    Z = fits[0.0]._scale(holes)
    stop = _HeldOutStop(Z, _column_groups("auto", Z), draw_seed(0))
    trial = max(skvae.impute.TRIAL_STEPS, skvae.impute.TRIAL_SHARE * stop.budget)
    full, tried = fits[0.0].estimator_, fits[1e6].estimator_
    assert trial < stop.budget
    assert full.n_iter_ * 2 >= stop.budget  # two steps an epoch
    records = [r for r in tried.history_ if "gain_z2" in r]
    assert len(records) == 1
    assert records[0] is tried.history_[-1]
    assert 2 * tried.n_iter_ >= trial > 2 * tried.n_iter_ - 10  # the first check
    assert records[0]["gain_z2"] >= 0
    # without the trial's threshold the same gain is recorded, and training
    # goes on
    assert [r.get("gain_z2") for r in full.history_ if "gain_z2" in r] == [
        records[0]["gain_z2"]
    ]
    # the same first epochs: the trial only ends the fit
    first = [r["holdout_error"] for r in tried.history_ if "holdout_error" in r]
    again = [r["holdout_error"] for r in full.history_ if "holdout_error" in r]
    assert first == again[: len(first)]
    assert np.isfinite(fits[1e6].transform(holes)).all()


def test_the_gaussian_covers_binary_columns_and_the_vae_is_tried(monkeypatch):
    # a binary column of an array is the Gaussian's too (conditioned on and
    # predicting the others): the VAE is tried against it, and its fills stay
    # in [0, 1]; where the fills are draws (0/1 values), it is the VAE's alone
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 1e6)
    holes = _low_rank_holes(n=100, d=4, rate=0.2)
    rng = np.random.RandomState(0)
    flag = (holes[:, 0] + 0.3 * rng.normal(size=100) > 0).astype(float)
    flag[rng.uniform(size=100) < 0.2] = np.nan
    holes = np.column_stack([holes, flag])
    imputer = VAEImputer(random_state=0).fit(holes)
    assert imputer.gaussian_columns_.size == 4
    np.testing.assert_array_equal(imputer.gaussian_model_columns_, np.arange(5))
    assert any("gain_z2" in r for r in imputer.estimator_.history_)
    filled = imputer.transform(holes)[:, 4]
    assert ((filled >= 0) & (filled <= 1)).all()
    assert np.ptp(filled[np.isnan(flag)]) > 0
    drawn = VAEImputer(random_state=0, sample_posterior=True).fit(holes)
    assert drawn.gaussian_model_columns_.size == 4
    assert not any("gain_z2" in r for r in drawn.estimator_.history_)
    assert set(np.unique(drawn.transform(holes)[:, 4])) <= {0.0, 1.0}


def test_a_table_too_wide_to_cover_keeps_its_gaussian_columns(monkeypatch):
    # past EM's work limit for every column, the Gaussian covers the real
    # columns as before (not none at all)
    monkeypatch.setattr(skvae.impute, "EM_WORK", 2 * 6**3)  # 6 columns at most
    holes = _low_rank_holes(n=100, d=4, rate=0.2)
    rng = np.random.RandomState(0)
    flags = (holes[:, :3] + 0.3 * rng.normal(size=(100, 3)) > 0).astype(float)
    imputer = VAEImputer(random_state=0).fit(np.column_stack([holes, flags]))
    np.testing.assert_array_equal(imputer.gaussian_model_columns_, np.arange(4))
    assert imputer.gaussian_mean_ is not None
    assert imputer.gaussian_weights_[:4].any()


def test_draws_set_after_a_fit_covering_binary_columns_stay_binary():
    # sample_posterior=True set after the fit: the Gaussian draws the real
    # columns only, the 0/1 and one-hot columns are the VAE's draws
    rng = np.random.RandomState(0)
    n = 300
    g = rng.choice(3, n)
    flag = g + rng.randn(n) > 1
    X = np.c_[g + 0.3 * rng.randn(n), rng.randn(n), flag, np.eye(3)[g]]
    X[rng.uniform(size=X.shape) < 0.2] = np.nan
    imputer = VAEImputer(random_state=0).fit(X)
    assert imputer.gaussian_model_columns_.size == 6
    assert imputer.estimator_.column_types_[-1] == ("categorical", [3, 4, 5])
    imputer.set_params(sample_posterior=True)
    drawn = imputer.transform(X)
    assert set(np.unique(drawn[:, 2:])) <= {0.0, 1.0}
    np.testing.assert_array_equal(drawn[:, 3:].sum(1), 1.0)
    assert np.isfinite(drawn).all()


@pytest.mark.parametrize("trial_z", [None, 1e6])
def test_gaussian_fills_of_a_one_hot_group_sum_to_one(monkeypatch, trial_z):
    # the Gaussian's share of a one-hot group's fills (blended, or alone where
    # the VAE failed its trial): in [0, 1], summing to one with the observed
    # entries, 0 beside an observed 1
    if trial_z is not None:
        monkeypatch.setattr(skvae.impute, "TRIAL_Z", trial_z)
    rng = np.random.RandomState(0)
    n = 300
    g = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    A = np.c_[g + 0.3 * rng.randn(n), rng.randn(n), np.eye(3)[g]]
    A[rng.uniform(size=n) < 0.2, 1] = np.nan
    whole = np.flatnonzero(g == 2)[:8]
    A[whole, 2:] = np.nan  # the whole group missing
    one = np.flatnonzero(g == 1)[:20]
    A[one, 2] = np.nan  # beside an observed 1
    two = np.flatnonzero(g == 0)[:20]
    A[two, 2:4] = np.nan  # beside an observed 0
    imp = VAEImputer(random_state=0).fit(A)
    assert imp.gaussian_weights_[2:].min() > 0  # the Gaussian's share
    if trial_z is not None:
        assert (imp.gaussian_weights_ == 1).all()
    F = imp.transform(A)
    group = F[np.r_[whole, one, two], 2:]
    assert ((group >= 0) & (group <= 1)).all()
    np.testing.assert_allclose(group.sum(1), 1.0, rtol=1e-6)
    assert (F[one, 2] == 0).all()
    assert (F[two, 4] == 0).all()
    assert (F[two, 2:4] > 0).any(axis=1).all()


def test_a_whole_missing_group_takes_its_levels_posterior(monkeypatch):
    # iris's species missing whole, filled by the Gaussian alone: a linear
    # fit of the one-hot columns masks versicolor (about 0.75 right); the
    # levels' posterior under the same Gaussian does not
    from sklearn.datasets import load_iris

    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 1e6)  # the Gaussian alone
    X, y = load_iris(return_X_y=True)
    rng = np.random.RandomState(0)
    A = np.c_[X, np.eye(3)[y]]
    hidden = rng.uniform(size=150) < 0.3
    A[hidden, 4:] = np.nan
    imputer = VAEImputer(random_state=0).fit(A)
    assert (imputer.gaussian_weights_ == 1).all()
    filled = imputer.transform(A)[hidden, 4:]
    np.testing.assert_allclose(filled.sum(1), 1.0, rtol=1e-9)
    assert (filled.argmax(1) == y[hidden]).mean() > 0.9
    assert (filled.argmax(1) == 1).sum() >= 0.5 * (y[hidden] == 1).sum()


def test_a_level_never_seen_takes_no_share_of_the_posterior():
    from skvae.impute import _level_posteriors

    rng = np.random.default_rng(0)
    g = rng.integers(0, 3, 400)
    Z = np.c_[g + 0.3 * rng.normal(size=400), np.eye(4)[g]]  # level 3 unseen
    mean, cov = Z.mean(0), np.cov(Z.T) + 1e-2 * np.eye(5)
    X = np.where(rng.uniform(size=Z.shape) < 0.5, np.nan, Z)
    X[:3, 1:] = np.nan
    X[3, 1:] = [np.nan, 0.0, 0.0, np.nan]  # open: level 0 and the unseen one
    X[4, 1:] = [0.0, 0.0, 0.0, np.nan]  # one level left
    types = [("categorical", [1, 2, 3, 4])]
    filled = _level_posteriors(np.zeros_like(X), X, types, mean, cov)
    done = (np.isnan(X[:, 1:]).sum(1) > 1) & ~(X[:, 1:] == 1).any(1)
    assert (filled[done, 4] == 0).all()
    np.testing.assert_allclose(filled[done, 1:].sum(1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(filled[3, 1:], [1.0, 0.0, 0.0, 0.0])
    assert (filled[4] == 0).all()  # (one hole: its level is known)


def test_small_solves_in_one_padded_group_match_the_grouped_ones(monkeypatch):
    from skvae.impute import _conditional

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 7))
    cov = np.cov(X.T) + 0.1 * np.eye(7)
    X[rng.uniform(size=X.shape) < 0.5] = np.nan
    weight = np.full(300, 1 / 300)
    assert skvae.impute.SMALL_SOLVE >= 300 * 7**3  # one padded group
    padded = _conditional(X, np.zeros(7), cov, row_weight=weight)
    monkeypatch.setattr(skvae.impute, "SMALL_SOLVE", 0)  # groups by hole count
    grouped = _conditional(X, np.zeros(7), cov, row_weight=weight)
    np.testing.assert_allclose(padded[0], grouped[0], atol=1e-12)
    np.testing.assert_allclose(padded[1], grouped[1], atol=1e-12)


def _gaussian_and_curve(n=150, seed=0):
    rng = np.random.default_rng(seed)
    gauss = rng.multivariate_normal(np.zeros(4), 0.5 * np.eye(4) + 0.5, size=n)
    t = rng.uniform(-2, 2, size=(n, 1))
    curve = np.sin(t * [1.0, 2.0, 3.0, 1.5] + [0, 1, 2, 3]) + 0.05 * rng.normal(
        size=(n, 4)
    )
    out = []
    for X in (gauss, curve):
        holes = X.copy()
        holes[rng.uniform(size=X.shape) < 0.2] = np.nan
        out.append(holes)
    return out


def test_the_trial_comes_early_where_neighbours_add_nothing(monkeypatch):
    # a VAE that no trial lets through: where the fit ends is where the trial is
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 10**6)
    monkeypatch.setattr(_HeldOutStop, "gain_z2", lambda self: -1.0)
    steps, gains = [], []
    for holes in _gaussian_and_curve():
        vae = VAEImputer(random_state=0).fit(holes).estimator_
        record = vae.history_[-1]
        steps.append(record["epoch"] * 2)  # two steps an epoch (135 rows)
        assert "gain_z2" in record
        gains.append(record["neighbour_z2"])
    # linear-Gaussian: neighbours add nothing to the Gaussian; on a curve, much
    assert gains[0] < skvae.impute.TRIAL_Z**2 < 10 < gains[1]
    early, late = skvae.impute.TRIAL_EARLY, skvae.impute.TRIAL_STEPS
    assert early <= steps[0] < early + 10  # the first check after TRIAL_EARLY
    assert late <= steps[1] < late + 10


def test_the_early_trial_asks_for_two_standard_errors(monkeypatch):
    # a gain of 2 (in squared standard errors) passes the later trial (1),
    # not the early one (4): there it is more likely a weight fitted to noise
    monkeypatch.setattr(_HeldOutStop, "gain_z2", lambda self: 2.0)
    assert skvae.impute.TRIAL_Z**2 < 2.0 < skvae.impute.TRIAL_EARLY_Z**2
    linear, curve = (VAEImputer(random_state=0).fit(h) for h in _gaussian_and_curve())
    record = linear.estimator_.history_[-1]
    assert record["gain_z2"] == 2.0
    assert record["neighbour_z2"] < skvae.impute.TRIAL_Z**2  # the early trial
    # the first check ended it
    assert sum("holdout_error" in r for r in linear.estimator_.history_) == 1
    np.testing.assert_array_equal(linear.gaussian_weights_, np.ones(4))  # failed
    history = curve.estimator_.history_
    trial = [r for r in history if "gain_z2" in r]
    assert len(trial) == 1
    assert trial[0]["neighbour_z2"] > skvae.impute.TRIAL_Z**2
    assert trial[0] is not history[-1]  # passed: training went on
    assert not np.all(curve.gaussian_weights_ == 1)


def test_larger_batches_count_their_rows_in_the_budget(monkeypatch):
    # 2,000 rows train in 8 batches of 250 an epoch; the budget counts an
    # epoch as 16 steps of 128 rows, so the fit ends after the same rows as
    # in batches of 128 (4 epochs for a budget of 50), in half the
    # optimiser's steps
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 10**6)
    monkeypatch.setattr(skvae.impute, "STEPS_PER_ENTRY", 0.0)  # MIN_STEPS
    monkeypatch.setattr(_HeldOutStop, "gain_z2", lambda self: 100.0)
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, size=(2000, 1))
    X = np.hstack([np.sin(2 * t), np.cos(3 * t), t]) + 0.05 * rng.normal(size=(2000, 3))
    holes = X.copy()
    holes[rng.uniform(size=X.shape) < 0.2] = np.nan
    vae = VAEImputer(random_state=0).fit(holes).estimator_
    assert vae.batch_size == 250
    assert skvae.impute.MIN_STEPS == 50
    assert len(vae.history_) == 4  # 64 steps of 128 rows: the budget is spent
    steps = {int(state["step"]) for state in vae._optimizer.state.values()}
    assert steps == {32}  # 8 optimiser steps an epoch
    # the cap on epochs counts steps of 128 rows too
    assert vae.max_iter == default_imputer_vae(2000, 3).max_iter == 188


def test_a_large_draw_takes_larger_batches_counted_in_steps_of_128_rows(monkeypatch):
    # a draw of 1,500 rows of 2,000: sized as a table of the drawn rows
    # (batches over 128 rows), its steps counted in batches of 128 rows
    monkeypatch.setattr(skvae.impute, "TRAIN_ROWS", 1500)
    monkeypatch.setattr(skvae.impute, "STEPS_PER_ENTRY", 0.0)  # MIN_STEPS
    drawn = []
    draw = _HeldOutStop.training_rows

    def spy_draw(self, most, groups):
        rows = draw(self, most, groups)
        drawn.append((rows, self))
        return rows

    monkeypatch.setattr(_HeldOutStop, "training_rows", spy_draw)
    holes = _low_rank_holes(n=2000, d=4, rate=0.2)
    vae = VAEImputer(random_state=0).fit(holes).estimator_
    ((rows, stop),) = drawn
    assert 1500 <= rows.size < 2000
    sized = default_imputer_vae(rows.size, 4)
    assert vae.batch_size == skvae.impute._large_batch(rows.size) > sized.batch_size
    assert vae.max_iter == sized.max_iter
    assert stop.per_epoch == -(-rows.size // skvae.impute.BATCH)
    assert stop.per_epoch > -(-rows.size // vae.batch_size)


def test_steps_of_128_rows_are_the_old_steps_where_batches_are_128_at_most():
    # the held-out rules count an epoch as ceil(n / 128) steps: for the
    # batches of at most 128 rows of the default model, its own steps, so
    # those fits are as before
    for n in range(1, 20000):
        size = default_imputer_vae(n, 3).batch_size
        assert -(-n // size) == -(-n // skvae.impute.BATCH)


def test_tables_not_all_real_keep_batches_of_128_rows(monkeypatch):
    # a binary column: no Gaussian model of every column to blend with, the
    # VAE fills alone and keeps its batches (and optimiser steps) as before
    monkeypatch.setattr(skvae.impute, "STEPS_PER_ENTRY", 0.0)  # MIN_STEPS
    holes = _low_rank_holes(n=1500, d=4, rate=0.2)
    holes[:, 3] = np.where(np.isnan(holes[:, 3]), np.nan, holes[:, 3] > 0)
    imputer = VAEImputer(random_state=0).fit(holes)
    assert imputer.gaussian_columns_.size < 4
    assert imputer.estimator_.batch_size == default_imputer_vae(1500, 4).batch_size
    assert imputer.estimator_.batch_size <= skvae.impute.BATCH
    real = VAEImputer(random_state=0).fit(_low_rank_holes(n=1500, d=4, rate=0.2))
    assert real.estimator_.batch_size == skvae.impute._large_batch(1500) > 128


def test_the_early_trial_is_the_first_check_on_a_large_table(monkeypatch):
    # 2,000 rows: a budget of hundreds of steps, epochs of 16 (steps of 128
    # rows; 8 batches of 250 are taken); a share of the budget would put the
    # trial epochs later, the first check puts it at one
    monkeypatch.setattr(skvae.impute, "PATIENCE_STEPS", 10**6)
    monkeypatch.setattr(_HeldOutStop, "gain_z2", lambda self: -1.0)
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal(np.zeros(3), 0.5 * np.eye(3) + 0.5, size=2000)
    holes = X.copy()
    holes[rng.uniform(size=X.shape) < 0.2] = np.nan
    imputer = VAEImputer(random_state=0).fit(holes)
    vae = imputer.estimator_
    record = vae.history_[-1]
    assert record["neighbour_z2"] < skvae.impute.TRIAL_Z**2  # linear-Gaussian
    assert "gain_z2" in record
    assert vae.batch_size == 250  # 16 steps an epoch, more than TRIAL_EARLY
    assert len(vae.history_) == 1  # the trial ended the fit at the first check
    Z = imputer._scale(holes)
    stop = _HeldOutStop(Z, _column_groups("gaussian", Z), draw_seed(0))
    assert stop.budget * 0.05 > 3 * 16  # where a twentieth of it would be


def test_a_vae_that_fails_its_trial_leaves_the_fill_to_the_gaussian(monkeypatch):
    from skvae.impute import _conditional

    holes = _low_rank_holes(n=200, d=5, rate=0.2)
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 1e6)  # no VAE passes
    monkeypatch.setattr(skvae.impute, "TRIAL_EARLY_Z", 1e6)
    failed = VAEImputer(random_state=0).fit(holes)
    draw = VAEImputer(sample_posterior=True, random_state=0).fit(holes)
    assert "gain_z2" in failed.estimator_.history_[-1]
    np.testing.assert_array_equal(failed.gaussian_weights_, np.ones(5))
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 0.0)  # every VAE passes
    passed = VAEImputer(random_state=0).fit(holes)
    assert not np.all(passed.gaussian_weights_ == 1)  # a fitted blend
    Z = failed._scale(holes)
    gauss = _conditional(
        Z.astype(np.float64), failed.gaussian_mean_, failed.gaussian_covariance_
    )[0]
    expected = np.where(np.isnan(holes), gauss * failed._scale_ + failed._shift, holes)

    def no_vae(*args, **kwargs):
        raise AssertionError("the VAE filled a table that the Gaussian fills alone")

    monkeypatch.setattr(skvae.impute, "_impute_rows", no_vae)
    np.testing.assert_allclose(failed.transform(holes), expected, rtol=1e-12)
    np.testing.assert_array_equal(draw.gaussian_weights_, np.ones(5))
    drawn = draw.transform(holes)  # a draw from the Gaussian's conditional
    hole = np.isnan(holes)
    assert np.isfinite(drawn).all()
    assert np.array_equal(drawn[~hole], holes[~hole])
    assert np.abs(drawn[hole] - expected[hole]).mean() > 0.01
    np.testing.assert_array_equal(drawn, draw.transform(holes))
    # rows passed a call at a time get draws of their own: the noise was the
    # call's, by position, so every row drew the same standardised value
    one_hole = holes[~np.isnan(holes).any(axis=1)][:40]  # one hole each,
    one_hole[:, 0] = np.nan  # of the same conditional spread
    mean = failed.transform(one_hole)[:, 0]
    single = np.array([draw.transform(one_hole[i : i + 1])[0, 0] for i in range(40)])
    assert np.std(single - mean) > 0.3 * np.std(draw.transform(one_hole)[:, 0] - mean)
    again = draw.transform(one_hole[5:6])[0, 0]  # the same row: the same draw
    assert again == single[5]


def test_a_gaussian_fill_past_float32s_range_is_an_error(monkeypatch):
    # float32 rows filled by the Gaussian alone: a fill that is finite on the
    # model's scale but not in float32 once unscaled is refused, not inf
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 1e6)  # the Gaussian alone
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal(np.zeros(3), 0.5 * np.eye(3) + 0.5, size=300)
    X[:, 1] *= 100
    X[rng.uniform(size=X.shape) < 0.2] = np.nan
    imputer = VAEImputer(random_state=0).fit(X.astype(np.float32))
    np.testing.assert_array_equal(imputer.gaussian_weights_, np.ones(3))
    bad = np.array([[3e37, np.nan, 0.0]], dtype=np.float32)
    with pytest.raises(ValueError, match="could not be imputed"):
        imputer.transform(bad)
    fine = imputer.transform(np.array([[1.0, np.nan, 0.5]], dtype=np.float32))
    assert fine.dtype == np.float32
    assert np.isfinite(fine).all()


@pytest.mark.parametrize("scale", [1e-30, 1e19])
def test_float32_tables_of_any_magnitude_are_standardised(monkeypatch, scale):
    # the columns' scales are found in float64: in float32 the squares of
    # 1e-30 underflow to 0 (every column taken as constant, every hole given
    # its mean) and those of 1e19 overflow (the training rows then refused)
    monkeypatch.setattr(skvae.impute, "TRIAL_Z", 1e6)  # the Gaussian alone
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal(np.zeros(3), 0.1 * np.eye(3) + 0.9, size=200)
    hole = rng.uniform(size=X.shape) < 0.2
    X[hole] = np.nan
    wide = VAEImputer(random_state=0).fit_transform(X)
    small = X * scale
    narrow = small.astype(np.float32)
    kept = narrow.copy()
    filled = VAEImputer(random_state=0).fit_transform(narrow)
    np.testing.assert_array_equal(narrow, kept)
    assert filled.dtype == np.float32
    np.testing.assert_allclose(filled[hole] / scale, wide[hole], rtol=1e-4, atol=1e-4)
    # correlated columns: the fills are far from the columns' means
    means = np.nanmean(X, axis=0)
    assert np.abs(wide - means)[hole].mean() > 0.3


def test_neighbour_gain_on_a_sample_of_the_rows(monkeypatch):
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, size=400)
    X = np.column_stack([t, np.sin(3 * t)])
    stop = _HeldOutStop(X, [[0], [1]], seed=0)
    # the Gaussian's fill as the columns' means: a curve's neighbours beat it
    means = np.nanmean(stop.train, axis=0)[np.nonzero(stop.pick)[1]]
    w = np.ones_like(stop.truth)
    stop.versus = (means, float(np.mean((means - stop.truth) ** 2)), w)
    full = stop.neighbour_gain()
    monkeypatch.setattr(skvae.impute, "NEIGHBOUR_ROWS", 10)  # 100 rows, at least
    sample = stop.neighbour_gain()
    assert full > 10  # ten squared standard errors and more
    assert sample > 10
    # a fill that is the Gaussian's own: no gain
    monkeypatch.setattr(skvae.impute, "NEIGHBOURS", 400)  # every row: the mean
    assert stop.neighbour_gain() == pytest.approx(0.0, abs=1.0)


def test_the_trial_is_a_share_of_the_steps_max_iter_allows():
    # a large table: its budget (a quarter step per entry) passes the steps
    # that max_iter allows, and the trial must still come within them
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, size=(4000, 1))
    X = np.hstack([t, np.sin(3 * t), t**2, np.cos(2 * t)])
    stop = _HeldOutStop(X, [[j] for j in range(4)], seed=0)
    means = np.nanmean(stop.train, axis=0)[np.nonzero(stop.pick)[1]]
    w = np.ones_like(stop.truth)
    stop.versus = (means, float(np.mean((means - stop.truth) ** 2)), w)

    class Trainer:
        batch_size, n_epochs = 128, 10  # 32 steps an epoch: 320 steps

    module = skvae.VAE(n_components=2).fit(X[:50]).module_
    Trainer.module, Trainer.device = module, torch.device("cpu")
    stop.on_train_begin(Trainer(), n_epochs=10)
    assert stop.budget > 320
    assert stop.neighbour_z2 > 1  # not close to linear: the later trial
    assert stop.trial == max(skvae.impute.TRIAL_STEPS, 0.25 * 320)


def test_no_gain_over_an_exact_gaussian_fill():
    truth = np.linspace(-1, 1, 50)
    w = np.ones(50)
    assert skvae.impute._blend_gain(truth, truth + 1, truth, 0.0, w) == 0.0


def test_rows_of_weight_zero_are_never_neighbours(monkeypatch):
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, size=200)
    X = np.column_stack([t, np.sin(3 * t)])
    # a second copy of every row, far off and at weight 0: as if absent
    X2 = np.vstack([X, X + 100.0])
    weight = np.r_[np.ones(200), np.zeros(200)]
    stop = _HeldOutStop(X2, [[0], [1]], seed=0, sample_weight=weight)
    means = np.nanmean(stop.train, axis=0)[np.nonzero(stop.pick)[1]]
    err = float(np.average((means - stop.truth) ** 2, weights=stop.weight))
    stop.versus = (means, err, stop.weight)
    seen = []
    distances = skvae.impute.nan_euclidean_distances

    def record(A, B):
        seen.append(B)
        return distances(A, B)

    monkeypatch.setattr(skvae.impute, "nan_euclidean_distances", record)
    assert np.isfinite(stop.neighbour_gain())
    reference = seen[0] / np.sqrt(stop.scale)  # back to the units of X
    assert len(reference) == 200
    assert np.nanmax(reference) < 50  # no far-off row of weight 0


def test_training_rows_are_a_draw_that_sees_every_column():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(400, 6))
    X[rng.uniform(size=X.shape) < 0.2] = np.nan
    X[:, 5] = np.nan
    X[[60, 61], 5] = [1.0, 2.0]  # a column observed in two rows only
    stop = _HeldOutStop(X, [[j] for j in range(6)], seed=0)
    assert stop.training_rows(400, [[j] for j in range(6)]) is None  # all rows
    assert stop.n_train == 400
    draws = []
    for _ in range(2):
        stop = _HeldOutStop(X, [[j] for j in range(6)], seed=0)
        rows = stop.training_rows(50, [[j] for j in range(6)])
        draws.append(rows)
        assert 50 <= rows.size <= 51
        assert stop.n_train == rows.size
        np.testing.assert_array_equal(rows, np.unique(rows))  # sorted, distinct
        # the model sees every column: a row where column 5 trains is drawn
        assert (~np.isnan(stop.train[rows])).any(axis=0).all()
    np.testing.assert_array_equal(*draws)  # the stop's seed fixes the draw
    other = _HeldOutStop(X, [[j] for j in range(6)], seed=1)
    assert not np.array_equal(other.training_rows(50, [[j] for j in range(6)]), rows)


def test_large_tables_train_the_vae_on_a_draw_and_fill_every_row(monkeypatch):
    monkeypatch.setattr(skvae.impute, "TRAIN_ROWS", 100)
    holes = _low_rank_holes(n=300, d=5, rate=0.2)
    kept = holes.copy()
    seen, drawn = [], []
    fit, draw = VAE.fit, _HeldOutStop.training_rows

    def spy(self, X, y=None, **kwargs):
        seen.append((np.asarray(X).copy(), kwargs.get("sample_weight")))
        return fit(self, X, y, **kwargs)

    def spy_draw(self, most, groups):
        rows = draw(self, most, groups)
        drawn.append((rows, self))
        return rows

    monkeypatch.setattr(VAE, "fit", spy)
    monkeypatch.setattr(_HeldOutStop, "training_rows", spy_draw)
    weight = np.arange(1.0, 301.0)
    imputer = VAEImputer(random_state=0).fit(holes, sample_weight=weight)
    assert len(seen) == 1
    Z, w = seen[0]
    ((rows, stop),) = drawn
    assert 100 <= Z.shape[0] <= 105  # the draw, not 300 rows
    np.testing.assert_array_equal(w, weight[rows])  # each drawn row's own weight
    np.testing.assert_array_equal(Z, stop.train[rows])
    # sized as a table of the drawn rows, its budget theirs
    sized = default_imputer_vae(*Z.shape)
    vae = imputer.estimator_
    assert (vae.batch_size, vae.max_iter) == (sized.batch_size, sized.max_iter)
    assert stop.per_epoch == -(-rows.size // skvae.impute.BATCH)
    entries = (~np.isnan(Z)).sum()
    assert stop.budget == max(skvae.impute.MIN_STEPS, np.ceil(entries / 4))
    filled = imputer.transform(holes)
    np.testing.assert_array_equal(holes, kept)  # the caller's table untouched
    assert filled.shape == holes.shape
    assert not np.isnan(filled).any()
    observed = ~np.isnan(holes)
    np.testing.assert_array_equal(filled[observed], holes[observed])
    monkeypatch.setattr(VAE, "fit", fit)
    again = VAEImputer(random_state=0).fit(holes, sample_weight=weight)
    np.testing.assert_array_equal(again.transform(holes), filled)


def test_the_draw_skips_rows_of_zero_weight(monkeypatch):
    monkeypatch.setattr(skvae.impute, "TRAIN_ROWS", 100)
    holes = _low_rank_holes(n=400, d=4, rate=0.2)
    weight = np.zeros(400)
    weight[[5, 50, 150, 250, 350]] = 1.0  # five rows count, the rest do not
    stop = _HeldOutStop(holes, [[j] for j in range(4)], 0, weight)
    rows = stop.training_rows(100, [[j] for j in range(4)])
    np.testing.assert_array_equal(rows, [5, 50, 150, 250, 350])
    filled = (
        VAEImputer(random_state=0).fit(holes, sample_weight=weight).transform(holes)
    )
    assert not np.isnan(filled).any()


def test_rows_of_zero_weight_do_not_size_a_small_tables_model(monkeypatch):
    # below TRAIN_ROWS too, a row of weight 0 is as if absent: the model
    # trains on the other rows, sized and budgeted as a table of those alone
    holes = _low_rank_holes(n=600, d=4, rate=0.2)
    weight = (np.arange(600) % 2 == 0).astype(float)
    stops, fit = [], VAE.fit

    def spy(self, X, y=None, **kwargs):
        stops.append((self.callbacks[0], np.asarray(X).shape[0], self.batch_size))
        return fit(self, X, y, **kwargs)

    monkeypatch.setattr(VAE, "fit", spy)
    VAEImputer(random_state=0).fit(holes[weight > 0])
    filled = (
        VAEImputer(random_state=0).fit(holes, sample_weight=weight).transform(holes)
    )
    (alone, rows, batch), (weighted, n, batch_w) = stops
    assert n == rows == 300
    assert batch_w == batch
    assert weighted.n_train == alone.n_train == 300
    assert weighted.per_epoch == alone.per_epoch
    # the held-out entries differ (drawn among all 600 rows): the budgets agree
    # to their share of the entries
    assert abs(weighted.budget - alone.budget) <= 0.05 * alone.budget
    assert not np.isnan(filled).any()


@pytest.mark.parametrize("case", ["one row counts", "a column seen at weight 0"])
def test_rows_of_zero_weight_stay_where_the_rest_cannot_train(case):
    # fewer than two rows of positive weight, or a column observed only in
    # rows of weight 0: the model trains on every row, as before
    holes = _low_rank_holes(n=100, d=4, rate=0.2)
    weight = np.ones(100)
    if case == "one row counts":
        weight[1:] = 0.0
    else:
        weight[50:] = 0.0
        holes[:50, 3] = np.nan
    stop = _HeldOutStop(holes, [[j] for j in range(4)], 0, weight)
    assert stop.training_rows(4096, [[j] for j in range(4)]) is None
    filled = (
        VAEImputer(random_state=0).fit(holes, sample_weight=weight).transform(holes)
    )
    assert not np.isnan(filled).any()


def test_a_draw_keeps_a_column_seen_only_at_weight_0(monkeypatch):
    # a table larger than the draw: the column's rows of weight 0 were left
    # out of the draw, the model got an all-NaN column and the fit said the
    # column had no observed value
    monkeypatch.setattr(skvae.impute, "TRAIN_ROWS", 40)
    holes = _low_rank_holes(n=100, d=4, rate=0.2)
    weight = np.ones(100)
    weight[:2] = 0.0
    holes[2:, 3] = np.nan
    holes[:2, 3] = [3.0, 4.0]
    imputer = VAEImputer(random_state=0).fit(holes, sample_weight=weight)
    filled = imputer.transform(holes)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[:2, 3], [3.0, 4.0])


def test_the_draw_keeps_the_tables_column_types(monkeypatch):
    # a one-hot group whose last level is in one row of 400: a draw of 100
    # rows mostly misses it, and reading the types off the draw would split
    # the group into a categorical pair and a Bernoulli column
    monkeypatch.setattr(skvae.impute, "TRAIN_ROWS", 100)
    rng = np.random.RandomState(0)
    level = np.where(rng.uniform(size=400) < 0.5, 0, 1)
    level[7] = 2
    X = np.c_[rng.normal(size=(400, 2)), np.eye(3)[level]]
    X[rng.uniform(size=400) < 0.2, 0] = np.nan
    for seed in range(4):  # a draw of 100 misses row 7 with probability 3/4
        imputer = VAEImputer(random_state=seed).fit(X)
        assert ("categorical", [2, 3, 4]) in imputer.estimator_.column_types_
        filled = imputer.transform(X)
        np.testing.assert_allclose(filled[:, 2:].sum(axis=1), 1.0)


def test_hiding_the_row_of_a_rare_level_keeps_its_group_whole():
    # the only row of a level held out: the types read off the training
    # entries would split the one-hot group (a categorical pair and a
    # Bernoulli column), and its fills would sum to more than one
    rng = np.random.RandomState(0)
    level = np.where(rng.uniform(size=300) < 0.5, 0, 1)
    level[7] = 2
    X = np.c_[rng.normal(size=(300, 2)), np.eye(3)[level]]
    X[rng.uniform(size=300) < 0.2, 0] = np.nan
    groups = _column_groups("auto", X)
    seeds = [
        s
        for s in range(40)
        if np.isnan(_HeldOutStop(X, groups, draw_seed(s)).train[7, 2:]).all()
    ]
    assert seeds  # row 7's group is held out under some of these seeds
    imputer = VAEImputer(random_state=seeds[0]).fit(X)
    assert ("categorical", [2, 3, 4]) in imputer.estimator_.column_types_
    holes = np.c_[X[:5, :2], np.full((5, 3), np.nan)]
    np.testing.assert_allclose(
        imputer.transform(holes)[:, 2:].sum(axis=1), 1.0, atol=1e-5
    )


def test_shrinkage_search_starts_lowest_where_rows_are_many_for_the_columns(
    monkeypatch,
):
    # 3 columns over 2,000 drawn rows: below every shrinkage, so the least
    # (it started at the middle one, the highest start of all)
    calls = _em_calls(monkeypatch)
    VAEImputer(random_state=0).fit(_em_table(2500, 1, 3))
    ridges = [ridge for _, ridge in calls]
    assert ridges[0] == skvae.impute.RIDGES[-1]


def test_shrinkage_search_on_a_draw_of_many_rows_then_refit_on_all(monkeypatch):
    # many rows: the search's EM fits a draw of 2,000 of them, the refit all
    # of EM's rows, at the chosen shrinkage scaled by the draw's share
    calls = _em_calls(monkeypatch)
    X = _em_table(3000, 2, 5)
    imp = VAEImputer(random_state=0).fit(X)
    *search, (refit_rows, refit_ridge) = calls
    assert {rows for rows, _ in search} == {2000}
    assert refit_rows > 2000
    assert any(refit_ridge == pytest.approx(r * 2000 / refit_rows) for _, r in search)
    filled = imp.transform(X)
    assert np.isfinite(filled).all()


def test_fills_stay_within_the_values_seen_in_fit():
    # skewed counts beside two N(0, 1) columns: the Gaussian's linear fill
    # extrapolated from large observed counts to -15.8 in a N(0, 1) column
    # (its values in fit from -2.7) and to -23 in a count column
    rng = np.random.default_rng(6)
    n = 400
    z = rng.normal(size=(n, 2))
    counts = rng.poisson(np.exp(1 + 0.7 * z @ rng.normal(size=(2, 3))))
    X = np.c_[z, counts].astype(float)
    holes = X.copy()
    holes[np.random.default_rng(0).uniform(size=X.shape) < 0.2] = np.nan
    missing = np.isnan(holes)
    imputer = VAEImputer(random_state=0).fit(holes)
    filled = imputer.transform(holes)
    low, high = np.nanmin(holes, axis=0), np.nanmax(holes, axis=0)
    np.testing.assert_array_equal(imputer.observed_range_, np.c_[low, high])
    margin = skvae.impute.CLIP_MARGIN * (high - low)
    assert ((filled >= low - margin) & (filled <= high + margin)).all()
    mean_fill = np.where(missing, np.nanmean(holes, axis=0), holes)
    for j in (1, 4):  # the two columns of absurd fills: now better than the mean
        m = missing[:, j]
        err = np.sqrt(np.mean((filled[m, j] - X[m, j]) ** 2))
        assert err < np.sqrt(np.mean((mean_fill[m, j] - X[m, j]) ** 2))
    # without the range (a file of an earlier version): the fills of old
    plain = copy.deepcopy(imputer)
    del plain.observed_range_
    before = plain.transform(holes)
    assert (before < low - margin).any()  # the fills clipped above
    # a row beyond the values seen in fit (new, shifted data) is
    # extrapolated as before, not clipped
    row = np.array([[np.nan, 40.0, np.nan, 3.0, np.nan]])
    np.testing.assert_array_equal(imputer.transform(row), plain.transform(row))
    # the range goes with the model, and a file's range is checked
    from skvae.persistence import _ATTRIBUTE_CHECKS

    check = _ATTRIBUTE_CHECKS["observed_range_"][1]
    assert check(imputer.observed_range_)
    for bad in (np.full((5, 2), np.inf), np.full((5, 2), -np.inf), np.c_[high, low]):
        assert not check(bad)
