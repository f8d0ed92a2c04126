"""SemiSupervisedVAE's self-training phase: sure rows labelled, then more epochs."""

import math

import numpy as np
import pytest
from conftest import tiny
from sklearn.datasets import load_iris
from sklearn.exceptions import DataConversionWarning

import skvae.models.semisupervised as m2
from skvae import SemiSupervisedVAE
from skvae._training import Trainer


def _blobs():
    """Two separated blobs of 30 rows, one row in ten labelled."""
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(-3, 1, (30, 4)), rng.normal(3, 1, (30, 4))]
    y = np.repeat([0, 1], 30)
    return X, y, np.where(np.arange(60) % 10 == 0, y, -1)


def _model(**params):
    return tiny(SemiSupervisedVAE, **{"max_iter": 20, "batch_size": 16, **params})


@pytest.fixture
def trained_on(monkeypatch):
    """The codes (labels, -1 unlabelled) of every training phase of a fit."""
    seen = []
    fit = Trainer.fit

    def spy(self, train, valid, **kwargs):
        seen.append((train[1].clone(), kwargs["max_epochs"]))
        return fit(self, train, valid, **kwargs)

    monkeypatch.setattr(Trainer, "fit", spy)
    return seen


def test_sure_unlabelled_rows_are_labelled_for_more_epochs(trained_on):
    X, y, y_partial = _blobs()
    kept = y_partial.copy()
    model = _model(self_training=0.9)
    model.fit(X, y_partial)
    np.testing.assert_array_equal(y_partial, kept)  # the caller's labels kept
    (main, main_epochs), (phase, phase_epochs) = trained_on
    assert main_epochs == model.max_iter_ == 20
    assert model.n_iter_ == main_epochs + phase_epochs
    # the phase's rows: each row once (a third of the rows are labelled
    # now: none is repeated), the sure unlabelled ones labelled with the
    # class the classifier gives them (the blobs are apart: their own)
    assert phase.numel() == len(X)
    labelled = kept != -1
    np.testing.assert_array_equal(phase[labelled].numpy(), kept[labelled])
    pseudo = (~labelled) & (phase.numpy() >= 0)
    assert model.n_pseudo_labels_ == pseudo.sum() > 0
    np.testing.assert_array_equal(phase[pseudo].numpy(), y[pseudo])
    # the main phase saw the labelled rows repeated, the unlabelled as -1
    assert main.numel() > len(X)
    assert (main >= 0).sum() > labelled.sum()
    # a share of the main phase's steps, in epochs of the phase's rows
    main_steps = main_epochs * math.ceil(main.numel() / 16)
    expected = round(m2._SELF_TRAINING_SHARE * main_steps / math.ceil(len(X) / 16))
    assert phase_epochs == max(1, expected)


def test_threshold_picks_the_rows_and_none_skips_the_phase(trained_on):
    X, _, y_partial = _blobs()
    sure = _model(self_training=0.6).fit(X, y_partial).n_pseudo_labels_
    surer = _model(self_training=0.999).fit(X, y_partial).n_pseudo_labels_
    assert sure > surer
    trained_on.clear()
    plain = _model(self_training=None).fit(X, y_partial)
    assert len(trained_on) == 1
    assert plain.n_pseudo_labels_ == 0
    assert plain.n_iter_ == plain.max_iter_
    phased = _model(self_training=0.6).fit(X, y_partial)
    assert not np.allclose(phased.predict_proba(X), plain.predict_proba(X))


def test_no_phase_without_unlabelled_rows_or_in_partial_fit(trained_on):
    X, y, y_partial = _blobs()
    model = _model(self_training=0.6).fit(X, y)  # every row labelled
    assert model.n_pseudo_labels_ == 0
    assert model.n_iter_ == model.max_iter_
    model = _model(self_training=0.6)
    model.partial_fit(X, y_partial, classes=[0, 1])
    model.partial_fit(X, y_partial)
    assert model.n_iter_ == 2
    assert model.n_pseudo_labels_ == 0
    assert len(trained_on) == 3


@pytest.mark.parametrize("bad", [0, 0.0, 1, 1.0, -0.5, 2.0, "high", True])
def test_self_training_is_validated(bad):
    X, _, y_partial = _blobs()
    with pytest.raises(ValueError, match="self_training"):
        _model(self_training=bad).fit(X, y_partial)


def test_self_training_is_reproducible_and_takes_weights_and_validation():
    X, _, y_partial = _blobs()
    a = _model(self_training=0.6).fit(X, y_partial)
    b = _model(self_training=0.6).fit(X, y_partial)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    # weighted rows keep their weights in the phase, and a validation split
    # is held out of it as of the main phase
    weights = np.where(np.arange(60) < 30, 2.0, 1.0)
    weighted = _model(self_training=0.6, balance_weight=0.0)
    weighted.fit(X, y_partial, sample_weight=weights)
    assert weighted.n_pseudo_labels_ > 0
    assert weighted.n_iter_ > weighted.max_iter_
    unweighted = _model(self_training=0.6, balance_weight=0.0).fit(X, y_partial)
    assert not np.allclose(weighted.predict_proba(X), unweighted.predict_proba(X))
    held = _model(self_training=0.6, early_stopping=True, n_iter_no_change=100)
    held.fit(X, y_partial)
    assert held.n_pseudo_labels_ > 0
    assert all("valid_loss" in record for record in held.history_)


def test_auto_restarts_the_learning_rate_for_the_phase(monkeypatch):
    # max_iter="auto": the phase's learning rate is the cosine again, from
    # learning_rate_init over the phase's epochs
    monkeypatch.setattr(SemiSupervisedVAE, "_auto_epochs", (8, 8))  # short fits
    X, _, y_partial = _blobs()
    model = _model(self_training=0.6, max_iter="auto", n_iter_no_change=1000)
    model.set_params(learning_rate_init=0.01).fit(X, y_partial)
    lrs = [record["lr"] for record in model.history_]
    phase = model.n_iter_ - model.max_iter_
    assert model.max_iter_ == 8
    assert phase >= 1
    for start, epochs in ((0, 8), (8, phase)):
        expected = 0.005 * (1 + np.cos(np.pi * np.arange(epochs) / epochs))
        np.testing.assert_allclose(lrs[start : start + epochs], expected, rtol=1e-6)
    assert model._optimizer.param_groups[0]["lr"] == 0.01


def test_a_checkpoint_saves_during_both_phases(tmp_path):
    import skvae
    from skvae.callbacks import Checkpoint

    X, _, y_partial = _blobs()
    path = tmp_path / "m2.skvae"
    model = _model(self_training=0.6, early_stopping=True, n_iter_no_change=100)
    model.set_params(callbacks=[Checkpoint(path)]).fit(X, y_partial)
    assert model.n_pseudo_labels_ > 0
    # the file holds the best weights of both phases: those the model keeps
    best = skvae.load(path)
    np.testing.assert_array_equal(best.predict_proba(X), model.predict_proba(X))


def test_with_a_validation_split_the_best_weights_of_both_phases_are_kept():
    X, _, y_partial = _blobs()
    model = _model(self_training=0.6, early_stopping=True, n_iter_no_change=100)
    model.fit(X, y_partial)
    assert model.n_iter_ > model.max_iter_  # the phase ran
    losses = [record["valid_loss"] for record in model.history_]
    assert model.best_loss_ == min(losses)
    # the model's own validation loss is that best one
    best = int(np.argmin(losses))
    assert best < model.max_iter_ or model.best_loss_ < min(losses[: model.max_iter_])


def test_a_fit_within_the_warm_up_keeps_its_phase(tmp_path):
    """No epoch of either phase compared (all in the KL warm-up): the phase's
    weights were thrown away for the main phase's last ones, while the
    Checkpoint file (written from the phase) held the phase's."""
    import skvae
    from skvae.callbacks import Checkpoint

    X, _, y_partial = _blobs()
    path = tmp_path / "m2.skvae"
    model = _model(max_iter=6, kl_warmup=30, self_training=0.5, early_stopping=True)
    model.set_params(callbacks=[Checkpoint(path)]).fit(X, y_partial)
    assert model.n_iter_ > model.max_iter_  # the phase ran
    assert model.best_loss_ == math.inf
    kept = skvae.load(path)
    np.testing.assert_array_equal(kept.predict_proba(X), model.predict_proba(X))


def test_a_users_callback_sees_and_sets_the_auto_rate(monkeypatch, tmp_path):
    """The "auto" cosine ran after the user's callbacks: it overrode a rate
    they set, and its "lr" entry came after the loggers had written."""
    from skvae._training import Callback
    from skvae.callbacks import CSVLogger

    class Halve(Callback):
        def on_epoch_begin(self, trainer, **kwargs):
            for group in trainer.optimizer.param_groups:
                group["lr"] = group["lr"] / 2

    monkeypatch.setattr(SemiSupervisedVAE, "_auto_epochs", (4, 4))
    X, _, y_partial = _blobs()
    log = tmp_path / "log.csv"
    model = _model(max_iter="auto", self_training=None, learning_rate_init=0.01)
    model.set_params(callbacks=[Halve(), CSVLogger(log)]).fit(X, y_partial)
    lrs = [record["lr"] for record in model.history_]
    expected = 0.005 * (1 + np.cos(np.pi * np.arange(4) / 4))
    np.testing.assert_allclose(lrs, expected / 2, rtol=1e-6)
    assert "lr" in log.read_text().splitlines()[0].split(",")


def test_a_callback_that_stops_training_skips_the_phase(trained_on):
    from skvae._training import Callback

    class StopAt(Callback):
        def on_epoch_end(self, trainer, **kwargs):
            if kwargs["record"]["epoch"] == 3:
                trainer.should_stop = True

    X, _, y_partial = _blobs()
    model = _model(self_training=0.6, callbacks=[StopAt()]).fit(X, y_partial)
    assert model.n_iter_ == 3 < model.max_iter_
    assert model.n_pseudo_labels_ == 0
    assert len(trained_on) == 1


def test_rows_of_weight_zero_are_not_labelled(trained_on):
    X, _, y_partial = _blobs()
    weights = np.where(np.arange(60) % 2 == 0, 1.0, 0.0)
    weights[y_partial >= 0] = 1.0
    model = _model(self_training=0.6, balance_weight=0.0)
    model.fit(X, y_partial, sample_weight=weights)
    phase = trained_on[-1][0].numpy()
    pseudo = (y_partial == -1) & (phase >= 0)
    assert model.n_pseudo_labels_ == pseudo.sum() > 0
    assert (weights[pseudo] > 0).all()


def test_the_phase_keeps_the_main_batch_size_without_a_second_warning():
    import warnings

    X, _, y_partial = _blobs()
    model = _model(self_training=0.6, early_stopping=True, batch_size=58)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y_partial)
    # 58 rows a batch fit the 60 rows (54 after the split): no warning
    assert not [w for w in caught if "batch_size=58" in str(w.message)]
    assert model.n_pseudo_labels_ > 0


@pytest.mark.parametrize(("max_iter", "n_iter_no_change"), [(8, 10), (3, 1)])
def test_verbose_gives_the_phase_a_header_of_its_own(
    capsys, caplog, max_iter, n_iter_no_change
):
    # (3, 1): the main phase stops after its warm-up, the phase is one epoch
    X, _, y_partial = _blobs()
    model = _model(
        self_training=0.6,
        verbose=2,
        max_iter=max_iter,
        n_iter_no_change=n_iter_no_change,
        tol=1e6 if n_iter_no_change == 1 else 1e-4,
    )
    with caplog.at_level("INFO", logger="skvae"):
        model.fit(X, y_partial)
    lines = capsys.readouterr().out.splitlines()
    headers = [i for i, line in enumerate(lines) if "training on cpu" in line]
    main, phase = headers  # one each
    assert lines[main].startswith("SemiSupervisedVAE: training on cpu")
    assert lines[phase].startswith("SemiSupervisedVAE self-training: training on")
    assert f"{model.n_pseudo_labels_} unlabelled rows labelled" in lines[phase]
    assert "(q(y | x) >= 0.6)" in lines[phase]
    # the main phase's epoch lines and summary, then the phase's
    main_epochs = phase - main - 2
    assert lines[phase - 1].startswith("SemiSupervisedVAE: ")
    epochs = [line for line in lines[phase + 1 :] if line.startswith("epoch")]
    assert len(epochs) == model.n_iter_ - main_epochs >= 1
    assert lines[-1].startswith(f"SemiSupervisedVAE self-training: {len(epochs)} epoch")
    # the logger receives the same lines
    logged = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert lines[phase] in logged
    assert lines[-1] in logged


def test_auto_ends_the_main_phase_once_predictions_settle(monkeypatch, trained_on):
    # under the cosine, once the rate is below _SETTLED_LR of its start, the
    # main phase ends at the first epoch over which (almost) no unlabelled
    # row changed class; the self-training phase keeps its planned length
    monkeypatch.setattr(SemiSupervisedVAE, "_auto_epochs", (40, 40))
    X, _, y_partial = _blobs()
    model = _model(self_training=0.6, max_iter="auto", n_iter_no_change=1000)
    model.fit(X, y_partial)
    (main, _), (_, phase_epochs) = trained_on
    lrs = np.array([record["lr"] for record in model.history_])
    main_epochs = model.n_iter_ - phase_epochs
    window = np.flatnonzero(lrs[:40] <= m2._SETTLED_LR * 2e-3)
    # the blobs' predictions are settled: the window's second epoch ends it
    assert main_epochs == window[1] + 1 < model.max_iter_ == 40
    assert lrs[main_epochs] == 2e-3  # the phase's cosine starts
    main_steps = 40 * math.ceil(main.numel() / 16)
    expected = round(m2._SELF_TRAINING_SHARE * main_steps / math.ceil(len(X) / 16))
    assert phase_epochs == max(1, expected)
    # without the cosine (a fixed max_iter) the main phase runs its epochs
    trained_on.clear()
    fixed = _model(self_training=0.6, max_iter=40, n_iter_no_change=1000)
    assert fixed.fit(X, y_partial).n_iter_ == 40 + trained_on[1][1]
    # a user's callback that stops on that same epoch keeps its meaning: no
    # phase (the settled end, after it, does not take the stop for its own)
    trained_on.clear()

    class StopAt(m2.Callback):
        def on_epoch_end(self, trainer, **kwargs):
            if trainer.phase == "train" and len(trainer.estimator.history_) == (
                main_epochs
            ):
                trainer.should_stop = True

    stopped = _model(
        self_training=0.6, max_iter="auto", n_iter_no_change=1000, callbacks=[StopAt()]
    ).fit(X, y_partial)
    assert stopped.n_iter_ == main_epochs
    assert len(trained_on) == 1  # the main phase only


def test_auto_caps_the_main_phase_at_visits_of_each_row(monkeypatch, trained_on):
    # "auto": the step plan's epochs, at most _auto_row_visits visits a
    # training row on average (an epoch's rows count the labelled rows'
    # repeats), at least _auto_epochs[0]; an integer max_iter is the user's
    monkeypatch.setattr(SemiSupervisedVAE, "_auto_epochs", (5, 15))
    monkeypatch.setattr(SemiSupervisedVAE, "_auto_steps", 10**6)
    X, _, y_partial = _blobs()
    n_epoch = 54 + 6 * 9  # 54 unlabelled rows, 6 labelled seen 9 times each
    for visits, expected in [(20, 20 * 60 // n_epoch), (1, 5), (1000, 15)]:
        monkeypatch.setattr(SemiSupervisedVAE, "_auto_row_visits", visits)
        trained_on.clear()
        model = _model(max_iter="auto", n_iter_no_change=1000, self_training=None)
        model.fit(X, y_partial)
        assert trained_on[0][0].numel() == n_epoch
        assert model.max_iter_ == trained_on[0][1] == expected
    # with a validation split, the training rows are those left after it
    monkeypatch.setattr(SemiSupervisedVAE, "_auto_row_visits", 20)
    trained_on.clear()
    model = _model(
        max_iter="auto",
        n_iter_no_change=1000,
        self_training=None,
        early_stopping=True,
        validation_fraction=0.2,
    ).fit(X, y_partial)
    # (the 6 labels kept, a fifth of the 54 unlabelled rows held out: 50)
    assert model.max_iter_ == 20 * 50 // trained_on[0][0].numel() == 11
    monkeypatch.setattr(SemiSupervisedVAE, "_auto_row_visits", 1)
    model = _model(max_iter=12, n_iter_no_change=1000, self_training=None)
    assert model.fit(X, y_partial).max_iter_ == 12


def test_score_counts_the_labelled_rows_only():
    """Rows marked -1 are neither right nor wrong: score is the accuracy on
    the labelled rows (weighted), and refuses labels that are all -1."""
    X, y = load_iris(return_X_y=True)
    y_semi = np.where(np.arange(150) % 2 == 0, y, -1)
    model = SemiSupervisedVAE(max_iter=5, random_state=0).fit(X, y_semi)
    labelled = y_semi != -1
    expected = np.mean(model.predict(X[labelled]) == y[labelled])
    assert model.score(X, y_semi) == pytest.approx(expected)
    assert model.score(X, y) == pytest.approx(np.mean(model.predict(X) == y))
    weight = np.where(np.arange(150) < 75, 1.0, 0.0)
    kept = labelled & (weight > 0)
    expected = np.mean(model.predict(X[kept]) == y[kept])
    assert model.score(X, y_semi, sample_weight=weight) == pytest.approx(expected)
    with pytest.raises(ValueError, match="labelled rows"):
        model.score(X, np.full(150, -1))
    with pytest.raises(ValueError, match=r"inconsistent|sample_weight"):
        model.score(X, y_semi, sample_weight=np.ones(200))
    with pytest.warns(DataConversionWarning):  # a column, as fit takes it
        assert model.score(X, y_semi[:, None]) == model.score(X, y_semi)
