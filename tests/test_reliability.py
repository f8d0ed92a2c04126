"""No silent wrong answers: overflow, interrupts, non-finite training, failed fits.

Issue 21's defects D1 (values past float32), D5 (Ctrl-C), D7 (non-finite
weights after a finite loss) and D9 (the state after a failed fit). The
training half of D2 is tested with the other thread tests, in
tests/test_threads_and_streaming.py.
"""

import re

import numpy as np
import pytest
import torch
from conftest import estimator_classes, tiny
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.utils.validation import check_is_fitted

import skvae
from skvae import VAE, BaseVAE, Callback, VaDE, VAEImputer, VAEOutlierDetector
from skvae._training import NonFiniteLossError

# warnings of short fits and of interrupts are not under test here
pytestmark = pytest.mark.filterwarnings("ignore")

ESTIMATORS = estimator_classes()
FAMILIES = [c for c in ESTIMATORS if issubclass(c, BaseVAE)]
META = [VAEOutlierDetector, VAEImputer]
F32_MAX = float(np.finfo(np.float32).max)


def _data(n=40, d=16):
    X = np.random.RandomState(0).uniform(size=(n, d))
    y = np.arange(n) % 2
    return X, y


def _model(cls, callbacks=(), **params):
    """A tiny estimator whose (inner) model runs ``callbacks``."""
    if cls in META:
        return tiny(cls, estimator=tiny(VAE, callbacks=list(callbacks)), **params)
    return tiny(cls, callbacks=list(callbacks), **params)


def _methods(est):
    """The methods of ``est`` that read rows of X, as callables of X."""
    names = (
        "transform",
        "score_samples",
        "predict",
        "predict_proba",
        "decision_function",
        "score",
        "reconstruction_log_likelihood",
    )
    return {name: getattr(est, name) for name in names if hasattr(est, name)}


# ------------------------------------------------------------------- D1
@pytest.mark.parametrize("big", [1e39, -1e300, np.finfo(np.float64).max])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_values_past_float32_are_refused_by_fit(cls, big):
    X, y = _data()
    X[3, 5] = big
    with pytest.raises(ValueError, match=r"float32.*\[5\].*[Ss]cale"):
        _model(cls).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_values_past_float32_are_refused_by_every_method(cls):
    X, y = _data()
    est = _model(cls).fit(X, y)
    bad = X[:4].copy()
    bad[1, 2] = 1e39
    bad[2, 7] = -1e300
    for name, method in _methods(est).items():
        args = (bad, y[:4]) if name == "score" else (bad,)
        with pytest.raises(ValueError, match=r"float32.*\[2, 7\]"):
            method(*args)


def test_the_float32_limit_itself_is_accepted():
    X, _ = _data()
    vae = tiny(VAE).fit(X)
    X[0, 0], X[1, 1] = F32_MAX, -F32_MAX
    assert vae._validate_X(X).shape == X.shape


def _outcome(method, *args):
    """The method's result as an array, or the message of its ValueError."""
    try:
        return np.asarray(method(*args))
    except ValueError as error:
        return str(error)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_rows_that_overflow_in_the_networks_are_refused_not_nan(cls):
    # float32's largest values are accepted, but the networks' sums of them
    # overflow: every method refuses the rows (naming them) or gives numbers;
    # never NaN, nor a class or cluster read off NaN probabilities
    X, y = _data()
    est = _model(cls).fit(X, y)
    rows = X[:3].copy()
    rows[1] = F32_MAX * np.where(np.arange(X.shape[1]) % 2, 1.0, -1.0)
    rows[2] = -F32_MAX
    for name, method in _methods(est).items():
        out = _outcome(method, *((rows, y[:3]) if name == "score" else (rows,)))
        if isinstance(out, str):
            # the rows that overflow in this model, named
            assert re.match(r"Rows \[(1|2|1, 2)\] of X overflow float32", out), out
        elif name == "predict" and isinstance(est, VAEOutlierDetector):
            assert (out[1:] == -1).all()  # outliers, not refused
        elif out.dtype.kind == "f":
            assert not np.isnan(out).any(), name
    if isinstance(est, BaseVAE):
        codes = np.full((2, est.transform(X[:1]).shape[1]), 3e38)
        out = _outcome(est.inverse_transform, codes)
        if isinstance(out, str):
            assert out.startswith("Rows [0, 1] of the codes overflow float32"), out
        else:
            assert np.isfinite(np.asarray(out, dtype=float)).all()


def _overflowing(method, width, big):
    """A row of +-``big`` (one sign, or alternating) that ``method`` refuses."""
    signs = np.where(np.arange(width) % 2, 1.0, -1.0)
    for row in (np.full(width, big), np.full(width, -big), big * signs, -big * signs):
        try:
            method(row[None])
        except ValueError:
            return row
    return pytest.fail("no such row overflows this model")


def test_overflowing_rows_are_named_among_all_blocks(tmp_path, monkeypatch):
    # an out-of-core array is read in blocks: the rows are named by their
    # place in X, every one of them, not by their place in one block
    X, _ = _data(n=50, d=5)
    vae = tiny(VAE).fit(X)
    monkeypatch.setattr(VAE, "_STREAM_ROWS", 16)
    monkeypatch.setattr(VAE, "_BATCH_ROWS", 8)
    rows = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", np.float64, (50, 5))
    rows[:] = X
    rows[3] = rows[37] = _overflowing(vae.transform, 5, F32_MAX)
    for method in (vae.transform, vae.score_samples, vae.score):
        with pytest.raises(ValueError, match=r"Rows \[3, 37\] of X overflow"):
            method(rows)

    # codes whose decoding overflows (this model's tanh layers bound it: a
    # decoder that overflows at codes past 1e30 stands in)
    def decode_mean(z):
        far = z.abs().amax(1, keepdim=True) > 1e30
        return torch.where(far, torch.nan, 0.0).expand(-1, 5)

    monkeypatch.setattr(vae.module_, "decode_mean", decode_mean)
    codes = np.zeros((40, vae.transform(X[:1]).shape[1]))
    codes[[5, 33]] = 3e38
    with pytest.raises(ValueError, match=r"Rows \[5, 33\] of the codes overflow"):
        vae.inverse_transform(codes)


def test_the_latent_detector_calls_overflowing_rows_outliers():
    X, _ = _data()
    det = tiny(VAEOutlierDetector, estimator=tiny(VAE), score_type="latent").fit(X)
    rows = X[:4].copy()
    rows[2] = _overflowing(det.estimator_.transform, X.shape[1], F32_MAX)
    scores = det.score_samples(rows)
    assert scores[2] == -np.inf
    assert np.isfinite(scores[[0, 1, 3]]).all()
    np.testing.assert_array_equal(scores[[0, 1, 3]], det.score_samples(X[[0, 1, 3]]))
    assert det.predict(rows)[2] == -1


def test_column_names_are_in_the_overflow_message():
    pd = pytest.importorskip("pandas")
    X, _ = _data(d=3)
    X[0, 1] = 1e39
    frame = pd.DataFrame(X, columns=["a", "income", "c"])
    with pytest.raises(ValueError, match="income"):
        tiny(VAE).fit(frame)


def test_the_detector_calls_rows_with_non_finite_scores_outliers(monkeypatch):
    X, _ = _data()
    det = _model(VAEOutlierDetector).fit(X)
    scores = np.array([np.nan, det.offset_ + 1.0, -np.inf, np.inf])
    monkeypatch.setattr(det, "_scores", lambda rows: scores)
    np.testing.assert_array_equal(det.predict(X[:4]), [-1, 1, -1, -1])


def test_the_imputer_refuses_rows_it_cannot_impute():
    X, _ = _data()
    imputer = tiny(VAEImputer).fit(X)
    bad = X[:3].copy()
    bad[1, 2], bad[1, 3] = 3e38, np.nan  # representable, but far out of range
    bad[0, 5] = np.nan
    with pytest.raises(ValueError, match=r"Rows \[1\] could not be imputed"):
        imputer.transform(bad)
    assert np.isfinite(imputer.transform(bad[[0, 2]])).all()


# ------------------------------------------------------------------- D5
class CtrlC(Callback):
    """Stands for one press of Ctrl-C at the end of the first epoch trained.

    Class attributes, as estimators clone (deep-copy) their callbacks.
    """

    pressed = False
    epochs_after = 0

    def on_epoch_end(self, trainer, **kwargs):
        if CtrlC.pressed:
            CtrlC.epochs_after += 1
            return
        CtrlC.pressed = True
        raise KeyboardInterrupt


@pytest.fixture
def ctrl_c():
    CtrlC.pressed, CtrlC.epochs_after = False, 0
    yield CtrlC
    CtrlC.pressed, CtrlC.epochs_after = False, 0


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_one_interrupt_stops_the_fit_and_keeps_a_usable_model(cls, ctrl_c):
    X, y = _data()
    est = _model(cls, [CtrlC()])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert ctrl_c.pressed
    assert ctrl_c.epochs_after == 0  # one press stopped every stage
    check_is_fitted(est)
    for name, method in _methods(est).items():
        out = method(X, y) if name == "score" else method(X)
        assert np.all(np.isfinite(out)) or name in ("score_samples", "score")


def test_vade_interrupted_in_pretraining_is_usable(ctrl_c):
    X, _ = _data()
    vade = tiny(VaDE, callbacks=[CtrlC()], pretrain_max_iter=5)
    with pytest.raises(KeyboardInterrupt):
        vade.fit(X)
    # the press comes at the end of the first epoch, once it is recorded
    assert len(vade.pretrain_history_) == 1
    assert vade.n_iter_ == 0
    assert ctrl_c.epochs_after == 0
    assert vade.predict(X).shape == (40,)
    assert np.isfinite(vade.weights_).all()


def test_an_interrupt_stops_cross_validation(ctrl_c):
    X, _ = _data()
    with pytest.raises(KeyboardInterrupt):
        cross_val_score(tiny(VAE, callbacks=[CtrlC()]), X, cv=3)
    assert ctrl_c.epochs_after == 0


def test_an_interrupt_in_partial_fit_keeps_the_previous_epochs(ctrl_c):
    X, _ = _data()
    vae = tiny(VAE).partial_fit(X)
    vae.set_params(callbacks=[CtrlC()])
    with pytest.raises(KeyboardInterrupt):
        vae.partial_fit(X)
    assert np.isfinite(vae.transform(X)).all()


# ------------------------------------------------------------------- D7
class PoisonOnEpoch(Callback):
    """Stands for an optimiser step that leaves the weights non-finite."""

    def __init__(self, epoch, value=float("nan")):
        self.epoch = epoch
        self.value = value

    def on_epoch_begin(self, trainer, epoch, **kwargs):
        self.current = epoch

    def on_batch_end(self, trainer, **kwargs):
        if self.current == self.epoch:
            next(trainer.module.parameters()).data.fill_(self.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("epoch", [1, 2])  # a middle epoch, the last one
def test_non_finite_weights_after_a_finite_loss_are_caught(epoch, value):
    X, _ = _data()
    vae = tiny(VAE, max_iter=3, callbacks=[PoisonOnEpoch(epoch, value)])
    with pytest.raises(NonFiniteLossError, match=f"epoch {epoch + 1}"):
        vae.fit(X)
    assert vae.n_iter_ == epoch  # the epochs before the bad one
    assert np.isfinite(vae.transform(X)).all()
    assert all(torch.isfinite(p).all() for p in vae.module_.parameters())


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_every_family_keeps_its_last_finite_weights(cls):
    X, y = _data()
    est = tiny(cls, max_iter=3, callbacks=[PoisonOnEpoch(2)])
    if cls is VaDE:  # its pretraining phase trains through the same loop
        est.set_params(pretrain_max_iter=0)
    with pytest.raises(NonFiniteLossError):
        est.fit(X, y)
    assert est.n_iter_ == 2
    assert np.isfinite(est.transform(X)).all()


def test_non_finite_in_the_first_epoch_leaves_the_model_unfitted():
    X, _ = _data()
    vae = tiny(VAE, callbacks=[PoisonOnEpoch(0)])
    with pytest.raises(NonFiniteLossError):
        vae.fit(X)
    with pytest.raises(NotFittedError):
        vae.transform(X)


# ------------------------------------------------------------------- D9
class Boom(Callback):
    """Stands for an error in a user network, at the end of ``epoch``."""

    def __init__(self, epoch=1):
        self.epoch = epoch

    def on_epoch_end(self, trainer, record, **kwargs):
        if record["epoch"] == self.epoch + 1:
            raise RuntimeError("boom")


def _unfitted_keys(cls):
    return set(vars(_model(cls)))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_a_failed_first_fit_leaves_the_estimator_unfitted(cls):
    X, y = _data()
    est = _model(cls, [Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(X, y)
    assert set(vars(est)) == _unfitted_keys(cls)
    for name, method in _methods(est).items():
        with pytest.raises(NotFittedError):
            method(X, y) if name == "score" else method(X)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_bad_input_leaves_the_estimator_unfitted(cls):
    X, y = _data()
    est = _model(cls)
    with pytest.raises(ValueError, match="float32"):
        est.fit(X * 1e300, y)
    with pytest.raises(NotFittedError):
        _methods(est)["transform" if hasattr(est, "transform") else "predict"](X)
    assert set(vars(est)) == _unfitted_keys(cls)


def _fitted_view(est, X, y):
    out = {}
    for name, method in _methods(est).items():
        try:
            out[name] = method(X, y) if name == "score" else method(X)
        except Exception as exc:  # a method a model lacks
            out[name] = type(exc)
    return out


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_a_failed_refit_keeps_the_previous_model(cls):
    X, y = _data()
    est = _model(cls).fit(X, y)
    before = _fitted_view(est, X, y)
    keys = set(vars(est))
    # a new width, then an error in training: nothing of it may stay
    X_new = np.random.RandomState(1).uniform(size=(30, 9))
    if cls in META:
        est.set_params(estimator=tiny(VAE, callbacks=[Boom()]))
    else:
        est.set_params(callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(X_new, y[:30])
    assert set(vars(est)) == keys
    assert est.n_features_in_ == 16
    _assert_same(_fitted_view(est, X, y), before)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_failed_continued_fit_restores_the_weights(how):
    X, _ = _data()
    vae = tiny(VAE, warm_start=how == "warm_start").fit(X)
    before, history = vae.transform(X), list(vae.history_)
    vae.set_params(callbacks=[Boom(epoch=vae.n_iter_)])
    with pytest.raises(RuntimeError, match="boom"):
        vae.fit(X) if how == "warm_start" else vae.partial_fit(X)
    np.testing.assert_array_equal(vae.transform(X), before)
    assert vae.history_ == history
    assert vae.n_iter_ == len(history)
    vae.set_params(callbacks=None).partial_fit(X)  # the optimiser still works
    assert vae.n_iter_ == len(history) + 1


def test_the_detector_after_a_failed_fit_says_not_fitted():
    X, _ = _data()
    det = _model(VAEOutlierDetector, [Boom()])
    with pytest.raises(RuntimeError):
        det.fit(X)
    with pytest.raises(NotFittedError):
        det.predict(X)


def test_memory_order_does_not_change_results():
    """A column-major array (as pandas hands over) scores as the row-major one."""
    from sklearn.datasets import load_digits

    X = load_digits().data[:200] / 16
    vae = tiny(VAE, likelihood="bernoulli").fit(X)
    F = np.asfortranarray(X)
    np.testing.assert_array_equal(vae.score_samples(F), vae.score_samples(X))
    np.testing.assert_array_equal(vae.transform(F), vae.transform(X))
    again = tiny(VAE, likelihood="bernoulli").fit(F)
    np.testing.assert_array_equal(again.transform(X), vae.transform(X))


@pytest.mark.parametrize(
    "cls", [VAE, skvae.WAE, skvae.VQVAE, skvae.HierarchicalVAE, skvae.VaDE]
)
def test_bernoulli_models_refuse_later_values_outside_0_1(cls):
    """likelihood="bernoulli" checks later rows as the dict form does: raw
    pixels (0 to 16) scored against a model of [0, 1] pixels once scored
    higher than the valid rows."""
    from sklearn.datasets import load_digits

    X = load_digits().data[:120] / 16
    model = tiny(cls, likelihood="bernoulli").fit(X)
    model.score_samples(X[:2])  # in range: fine
    for method in (model.score_samples, model.transform, model.partial_fit):
        with pytest.raises(ValueError, match=r"Columns \[2, 3.* and \d+ more are Bern"):
            method(X[:2] * 16)


@pytest.mark.parametrize("cls", [VAE, skvae.WAE, skvae.VQVAE])
def test_paths_through_codes_follow_no_output_setting(cls):
    """interpolate, traverse and the latent detector read transform's codes:
    a pandas output (per model or global) once broke them."""
    from sklearn import config_context
    from sklearn.datasets import load_digits

    X = load_digits().data[:120] / 16
    model = tiny(cls).fit(X)
    path, walk = model.interpolate(X[0], X[1]), model.traverse(X[:2], 0, [-1, 1])
    with config_context(transform_output="pandas"):
        np.testing.assert_array_equal(model.interpolate(X[0], X[1]), path)
        np.testing.assert_array_equal(model.traverse(X[:2], 0, [-1, 1]), walk)
    model.set_output(transform="pandas")
    np.testing.assert_array_equal(model.interpolate(X[0], X[1]), path)
    detector = VAEOutlierDetector(tiny(cls), score_type="latent", random_state=0)
    scores = detector.fit(X).score_samples(X[:5])
    with config_context(transform_output="pandas"):
        np.testing.assert_array_equal(detector.fit(X).score_samples(X[:5]), scores)


def test_early_stopping_that_the_warm_up_outlasts_is_warned_about():
    """Validation losses count once the KL warm-up is over: a fit shorter
    than the warm-up restores nothing, and says so."""
    import warnings

    X, _ = _data()

    def said(**params):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tiny(VAE, early_stopping=True, **params).fit(X)
        return [str(w.message) for w in caught if "KL warm-up" in str(w.message)]

    (message,) = said(max_iter=4, kl_warmup=6)
    assert "epoch 6" in message
    assert "4 epochs" in message
    assert said(max_iter=4, kl_warmup=3) == []


def test_the_jobs_refuse_values_the_fitted_columns_cannot_take():
    """An array row with -1 in a 0/1 column: the imputer filled beside it and
    the detector called it an inlier; both now refuse it as the model does."""
    import warnings

    rng = np.random.RandomState(0)
    X = np.c_[rng.normal(size=80), rng.rand(80) < 0.5, rng.normal(size=80)]
    holes = np.where(rng.rand(*X.shape) < 0.2, np.nan, X)
    later = X[:3].copy()
    later[:, 1] = [3.0, 0.0, -1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = VAEImputer(tiny(VAE, likelihood="auto"), random_state=0)
        imputer.fit(holes)
        detector = VAEOutlierDetector(tiny(VAE, likelihood="auto"), random_state=0)
        detector.fit(X)
    match = r"Columns \[1\] are Bernoulli"
    with pytest.raises(ValueError, match=match):
        imputer.transform(np.where(np.isnan(later), 0, later) * [np.nan, 1, 1])
    for method in (detector.predict, detector.score_samples):
        with pytest.raises(ValueError, match=match):
            method(later)
    assert detector.predict(X[:3]).shape == (3,)


def test_the_detector_asks_for_the_table_it_was_fitted_on():
    import pandas as pd

    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {"x": rng.normal(size=40), "c": pd.Categorical(rng.choice(list("ab"), 40))}
    )
    detector = VAEOutlierDetector(tiny(VAE), random_state=0).fit(table)
    with pytest.raises(ValueError, match=r"category columns \['c'\]; pass a DataFrame"):
        detector.predict(table.to_numpy())
    assert detector.predict(table).shape == (40,)


@pytest.mark.parametrize(
    ("sample_posterior", "value", "weighted"),
    [(False, 5.0, False), (True, 5.0, False), (False, 0.1, False), (False, 7.7, True)],
)
def test_the_imputer_fills_a_constant_column_with_its_value(
    sample_posterior, value, weighted
):
    """A column observed at one value was filled with model noise (5.095 for
    5): its holes now take the value, as SimpleImputer's do. A value whose
    mean rounds (0.1, 7.7) left a spread of 1e-17, so that the column was
    not read as constant and its fills were off by the rounding."""
    rng = np.random.RandomState(0)
    X = np.c_[np.full(40, value), rng.normal(size=40)]
    X[::3, 0], X[1::5, 1] = np.nan, np.nan
    weight = rng.uniform(0.1, 3, 40) if weighted else None
    imputer = VAEImputer(tiny(VAE), sample_posterior=sample_posterior, random_state=0)
    filled = imputer.fit(X, sample_weight=weight).transform(X)
    np.testing.assert_array_equal(filled[:, 0], value)
    assert np.isfinite(filled).all()


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_the_imputer_fills_a_constant_zero_or_one_column_with_it(value):
    """Under likelihood="auto" a column of 0s (or 1s) is Bernoulli, or one
    of a one-hot pair, not Gaussian: its holes were filled with 0.0005 (or
    0.9995), the model's probability, not the value."""
    rng = np.random.RandomState(0)
    X = np.c_[np.full(40, value), rng.normal(size=40), np.full(40, 1 - value)]
    X[::3, 0], X[1::5, 1], X[2::4, 2] = np.nan, np.nan, np.nan
    filled = VAEImputer(random_state=0).fit(X).transform(X)
    np.testing.assert_array_equal(filled[:, 0], value)
    np.testing.assert_array_equal(filled[:, 2], 1 - value)
    # kept only where a column is of one value: other files stay readable by
    # the versions before it
    plain = VAEImputer(random_state=0).fit(X[:, 1:2])
    assert "_constant" not in vars(plain)


@pytest.mark.parametrize("meta", [VAEImputer, VAEOutlierDetector])
@pytest.mark.parametrize("inner", ["ConditionalVAE", "SemiSupervisedVAE"])
def test_the_jobs_refuse_a_model_that_needs_labels(meta, inner):
    """Their y is not the model's: "requires y to be passed" said y was
    missing when it had been given."""
    X, y = _data()
    X = X.copy()
    X[::4, 0] = np.nan if meta is VAEImputer else X[::4, 0]
    said = f"model X alone.*{inner} needs labels|'missing' parameter.*{inner}"
    with pytest.raises(TypeError, match=said):
        meta(tiny(getattr(skvae, inner))).fit(X, y)


def test_the_imputers_arrays_hold_the_tables_values():
    """A table without category columns came back as its encoding: integer
    and boolean holes unrounded, and a quantile column's values (observed
    ones too) as normal scores. The array now holds the table's values."""
    import pandas as pd

    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {
            "x": rng.normal(size=60),
            "i": pd.array(rng.randint(0, 10, 60), dtype="Int64"),
            "b": pd.array(rng.rand(60) < 0.5, dtype="boolean"),
            "q": rng.lognormal(size=60),
        }
    )
    table.loc[::4, "i"], table.loc[1::4, "b"] = pd.NA, pd.NA
    table.loc[2::4, "q"] = np.nan
    model = tiny(VAE, likelihood={"quantile": ["q"]})
    imputer = VAEImputer(model, random_state=0).fit(table)
    filled = imputer.transform(table)
    frame = imputer.set_output(transform="pandas").transform(table)
    np.testing.assert_array_equal(filled, frame.to_numpy(dtype=float))
    observed = table.notna().to_numpy()
    np.testing.assert_allclose(
        filled[observed], table.to_numpy(dtype=float, na_value=np.nan)[observed]
    )
    assert set(np.unique(filled[:, 2])) <= {0.0, 1.0}
    np.testing.assert_array_equal(filled[:, 1], np.round(filled[:, 1]))
    filled[0, 0] = 0.0  # the caller's own array, writable


def test_bernoulli_values_rounded_past_1_are_taken():
    """A scaler's maximum of 1.0000000000000002 is rounding, not a value
    outside [0, 1]: fit and later rows take it; the error says what to do."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import MinMaxScaler

    X = MinMaxScaler().fit_transform(load_breast_cancer().data[:200])
    assert X.max() > 1.0
    model = tiny(VAE, likelihood="bernoulli").fit(X)
    assert np.isfinite(model.score_samples(X)).all()
    with pytest.raises(ValueError, match=r"MinMaxScaler\(clip=True\)"):
        model.score_samples(X * 1.5)


def test_columns_far_from_order_one_are_warned_about():
    """A VAE on rows of 1e4 plus noise (a year, a price in cents) learnt
    nothing, reconstructing every row 1e7 times its spread away, and
    reported convergence; counts of mean 1e6 decoded as 0. Both warn now;
    the jobs that standardise the rows themselves do not."""
    import warnings

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))

    def said(data, **params):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tiny(VAE, **params).fit(data)
        return [str(w.message) for w in caught if "order 1" in str(w.message)]

    assert said(X) == []
    assert said(X * 3 + 5) == []  # iris-like units: fitted well enough
    assert len(said(X + 100)) == 1  # a blood pressure: its mean not learnt
    (message,) = said(X + 1e4)
    assert "Columns [0, 1, 2]" in message
    assert "StandardScaler" in message
    assert len(said(X * 1e-4)) == 1
    # a dark pixel, 0 in all but one image, is not small where it is not 0:
    # standardising it, as the warning said, would make that value 11
    pixels = rng.uniform(size=(120, 3))
    pixels[:, 0] = 0.0
    pixels[0, 0] = 0.008  # mean 7e-5, standard deviation 7e-4
    assert said(pixels) == []
    import scipy.sparse as sp

    assert said(sp.csr_matrix(pixels)) == []  # read by its stored entries
    assert len(said(sp.csr_matrix(X * 1e-4))) == 1
    counts = np.c_[X, rng.poisson(500, 120)]
    (message,) = said(counts, likelihood={"poisson": [3]})
    assert "Count columns [3]" in message
    assert "the other columns fitted poorly too" in message  # (not only its own)
    assert said(np.c_[X, rng.poisson(3, 120)], likelihood={"poisson": [3]}) == []
    holes = X + 1e6
    holes[::7, 0] = np.nan
    mixed = X.copy()
    mixed[:, 2] *= 1e4  # the detector rescales rows by one factor
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        VAEImputer(tiny(VAE), random_state=0).fit(holes)
        VAEOutlierDetector(random_state=0).fit(X + 1e6)
        VAEOutlierDetector(random_state=0).fit(mixed)
    assert not [w for w in caught if "order 1" in str(w.message)]
    # a table's columns by their names (its encoded columns are others)
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(
        {"c": pd.Categorical(rng.choice(list("abcd"), 120)), "year": 2000 + X[:, 0]}
    )
    (message,) = said(table)
    assert "Columns ['year']" in message
    assert "{'quantile': ['year']}" in message
