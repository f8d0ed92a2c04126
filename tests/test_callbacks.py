"""Watching and steering a fit: verbose output, the skvae logger, ``device_``,
the hooks' arguments, ``trainer.should_stop`` and the ready-made callbacks of
``skvae.callbacks`` (issue 24, items 1 and 2)."""

import csv
import io
import logging
import pickle
import warnings

import numpy as np
import pytest
import torch
from conftest import estimator_classes, tiny
from sklearn.base import is_classifier
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler
from sklearn.utils._testing import assert_docstring_consistency

import skvae
from skvae import VAE, AdversarialAE, BaseVAE, Callback, VaDE
from skvae._torch import resolve_device
from skvae.callbacks import (
    Checkpoint,
    CSVLogger,
    LRScheduler,
    PrintLog,
    ProgressBar,
    TensorBoardLogger,
)


@pytest.fixture(scope="module")
def X():
    # the middle row of pixels of 300 digits, standardised
    return StandardScaler().fit_transform(load_digits().data[:300, 32:40])


def _vae(**params):
    return tiny(VAE, learning_rate_init=0.01, **params)


def _weights(model):
    return {k: v.detach().clone() for k, v in model.module_.state_dict().items()}


def _same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class _Bars:
    """Records every tqdm bar the ProgressBar opens (a tqdm subclass)."""

    def __init__(self, monkeypatch):
        import tqdm.auto
        from tqdm.std import tqdm as base

        self.bars = bars = []

        class Recorded(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.closed = False
                self.drawn = not self.disable  # close() sets disable
                bars.append(self)

            def close(self):
                self.closed = True
                super().close()

        monkeypatch.setattr(tqdm.auto, "tqdm", Recorded)


# ------------------------------------------------------------- progress bar
def test_progress_bar_total_is_max_iter_and_it_closes_on_early_stopping(X, monkeypatch):
    pytest.importorskip("tqdm")
    bars = _Bars(monkeypatch).bars
    out = io.StringIO()
    # tol so large that no epoch after the first improves: stops at epoch 3
    vae = _vae(
        max_iter=50,
        early_stopping=True,
        n_iter_no_change=2,
        tol=1e6,
        callbacks=[ProgressBar(disable=False, file=out)],
    ).fit(X)
    assert vae.n_iter_ == 3
    (bar,) = bars
    assert bar.total == 50
    assert bar.n == 3
    assert bar.closed
    assert "3/50" in out.getvalue()
    assert "VAE (cpu)" in out.getvalue()
    assert "loss=" in out.getvalue()
    assert vae.callbacks[0].bar_ is None  # not kept: the model pickles
    pickle.dumps(vae)


def test_verbose_1_bar_is_quiet_off_a_terminal_and_in_workers(X, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    bars = _Bars(monkeypatch).bars
    vae = _vae(max_iter=4, verbose=1).fit(X)
    (bar,) = bars
    assert bar.total == 4
    assert bar.closed
    assert not bar.drawn  # pytest's stderr is not a terminal
    captured = capsys.readouterr()
    assert "%|" not in captured.err
    # the device once at the start, a summary at the end; no epoch lines
    lines = captured.out.splitlines()
    assert lines == [
        "VAE: training on cpu, up to 4 epochs",
        lines[1],
    ]
    assert lines[1].startswith("VAE: 4 epochs in ")
    assert vae.device_ == "cpu"

    import skvae.callbacks as module

    monkeypatch.setattr(module, "_interactive", lambda file: True)
    _vae(max_iter=2, callbacks=[ProgressBar()]).fit(X)
    assert bars[-1].drawn  # a terminal
    monkeypatch.setattr(module, "in_worker", lambda: True)
    _vae(max_iter=2, callbacks=[ProgressBar()]).fit(X)
    assert not bars[-1].drawn  # a joblib or Dask worker: quiet
    _vae(max_iter=2, callbacks=[ProgressBar(disable=False, file=io.StringIO())]).fit(X)
    assert bars[-1].drawn  # unless asked


def test_verbose_2_prints_each_epoch_of_the_total(X, capsys):
    _vae(max_iter=3, verbose=2).fit(X)
    lines = capsys.readouterr().out.splitlines()
    epochs = [line for line in lines if line.startswith("epoch")]
    assert [line.split(" | ")[0] for line in epochs] == [
        "epoch    1/3",
        "epoch    2/3",
        "epoch    3/3",
    ]
    assert lines[0] == "VAE: training on cpu, up to 3 epochs"
    assert len(lines) == 5


def test_the_report_says_why_a_callback_stopped(X, caplog):
    """A callback that stops a fit may say why (``trainer.stop_reason``);
    the report prints it, else "stopped by a callback"."""

    class Stop(Callback):
        def __init__(self, reason=None):
            self.reason = reason

        def on_epoch_end(self, trainer, **kwargs):
            trainer.should_stop = True
            if self.reason:
                trainer.stop_reason = self.reason

    caplog.set_level(logging.INFO, logger="skvae")
    for reason, said in ((None, "stopped by a callback"), ("enough", "enough")):
        caplog.clear()
        _vae(max_iter=5, callbacks=[Stop(reason)]).fit(X)
        (end,) = [
            r.getMessage() for r in caplog.records if "epoch in" in r.getMessage()
        ]
        assert f"({said})" in end


def test_verbose_0_prints_nothing(X, capsys):
    _vae(max_iter=2).fit(X)
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------------ logging
def test_the_skvae_logger_receives_the_fit_whatever_verbose(X, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="skvae")
    vae = _vae(max_iter=3).fit(X)
    records = [r for r in caplog.records if r.name == "skvae"]
    info = [r.getMessage() for r in records if r.levelno == logging.INFO]
    debug = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert info[0] == "VAE: training on cpu, up to 3 epochs"
    assert info[1].startswith("VAE: 3 epochs in ")
    assert len(info) == 2
    assert len(debug) == vae.n_iter_ == 3
    assert debug[0].startswith("VAE epoch    1/3 | train_loss")
    assert capsys.readouterr() == ("", "")  # logged, not printed
    handlers = logging.getLogger("skvae").handlers
    assert all(isinstance(h, logging.NullHandler) for h in handlers)


def test_each_phase_reports_its_own_start(X, caplog):
    caplog.set_level(logging.INFO, logger="skvae")
    tiny(VaDE, n_clusters=2, pretrain_max_iter=2, max_iter=3).fit(X)
    starts = [r.getMessage() for r in caplog.records if "training on" in r.message]
    assert starts == [
        "VaDE pretrain: training on cpu, up to 2 epochs",
        "VaDE: training on cpu, up to 3 epochs",
    ]


# ------------------------------------------------------------------- device
FAMILIES = [c for c in estimator_classes() if issubclass(c, BaseVAE)]


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_device_is_a_fitted_attribute(cls, X):
    model = tiny(cls)
    if model.__sklearn_tags__().target_tags.required or is_classifier(model):
        model.fit(X, np.arange(X.shape[0]) % 2)
    else:
        model.fit(X)
    assert model.device_ == "cpu"
    assert pickle.loads(pickle.dumps(model)).device_ == "cpu"


def test_device_is_where_a_loaded_model_is(X):
    vae = _vae(max_iter=2).fit(X)
    buffer = io.BytesIO()
    skvae.save(vae, buffer)
    buffer.seek(0)
    loaded = skvae.load(buffer)
    assert loaded.device_ == "cpu"
    assert not hasattr(VAE(), "device_")


def test_auto_considers_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="MPS"):
        resolve_device("mps")


def test_device_wording_is_shared():
    assert_docstring_consistency(FAMILIES, include_attrs=["device_"])


# -------------------------------------------------------------------- hooks
class _Seen(Callback):
    def __init__(self):
        self.begins = []

    def on_train_begin(self, trainer, **kwargs):
        self.begins.append(
            (trainer.phase, kwargs["n_epochs"], kwargs["estimator"], trainer.n_epochs)
        )


def test_hooks_receive_the_planned_epochs_and_the_estimator(X):
    seen = _Seen()
    vae = _vae(max_iter=4, callbacks=[seen]).fit(X)
    assert seen.begins == [("train", 4, vae, 4)]
    vae.partial_fit(X)
    assert seen.begins[-1] == ("train", 1, vae, 1)

    seen = _Seen()
    vade = tiny(VaDE, n_clusters=2, pretrain_max_iter=2, callbacks=[seen]).fit(X)
    assert seen.begins == [("pretrain", 2, vade, 2), ("train", 3, vade, 3)]


class _StopAt(Callback):
    """Asks to stop from a hook, at an epoch (counted from 1)."""

    def __init__(self, epoch, hook="on_epoch_end"):
        self.epoch = epoch
        self.hook = hook

    def on_epoch_begin(self, trainer, **kwargs):
        if self.hook == "on_epoch_begin" and kwargs["epoch"] + 1 == self.epoch:
            trainer.should_stop = True

    def on_epoch_end(self, trainer, **kwargs):
        if self.hook == "on_epoch_end" and kwargs["record"]["epoch"] == self.epoch:
            trainer.should_stop = True


@pytest.mark.parametrize("hook", ["on_epoch_end", "on_epoch_begin"])
def test_a_callback_stops_after_the_epoch_it_asks_for_without_warning(X, hook):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vae = _vae(max_iter=50, callbacks=[_StopAt(4, hook)]).fit(X)
    assert vae.n_iter_ == len(vae.history_) == 4


def test_a_stop_keeps_the_best_weights_with_early_stopping(X, tmp_path):
    path = tmp_path / "best.skvae"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vae = _vae(
            max_iter=50,
            early_stopping=True,
            n_iter_no_change=50,
            callbacks=[Checkpoint(path), _StopAt(6)],
        ).fit(X)
    assert vae.n_iter_ == 6
    assert _same_weights(_weights(skvae.load(path)), _weights(vae))


# --------------------------------------------------------------- checkpoint
def test_checkpoint_file_loads_to_the_best_weights_on_validation(X, tmp_path):
    path = tmp_path / "best.skvae"
    check = Checkpoint(path)
    vae = _vae(max_iter=12, early_stopping=True, n_iter_no_change=12, callbacks=[check])
    vae.fit(X)
    valid = [r["valid_loss"] for r in vae.history_]
    assert check.best_epoch_ == int(np.argmin(valid)) + 1
    assert check.best_loss_ == min(valid)
    best = skvae.load(path)
    assert best.best_loss_ == check.best_loss_  # its epoch's, not inf
    # the fit restored the best weights too: file and model agree
    assert _same_weights(_weights(best), _weights(vae))
    assert best.callbacks is None
    assert best.n_iter_ == check.best_epoch_
    np.testing.assert_array_equal(best.transform(X), vae.transform(X))


class _Snapshots(Callback):
    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, trainer, **kwargs):
        self.weights[kwargs["record"]["epoch"]] = _weights(trainer.estimator)


def test_checkpoint_file_holds_the_best_epoch_on_training_loss(X, tmp_path):
    path = tmp_path / "best.skvae"
    snapshots = _Snapshots()
    # beta grows over the warm-up, so the training loss can rise: warm-up
    # epochs are not counted, as in early stopping
    vae = _vae(max_iter=8, kl_warmup=3, callbacks=[snapshots, Checkpoint(path)])
    vae.fit(X)
    losses = [r["train_loss"] for r in vae.history_]
    best_epoch = 3 + int(np.argmin(losses[2:]))
    check = vae.callbacks[1]
    assert check.best_epoch_ == best_epoch
    assert _same_weights(_weights(skvae.load(path)), snapshots.weights[best_epoch])

    # every epoch in the warm-up: none counts, the final model is written
    path.unlink()
    vae = _vae(max_iter=2, kl_warmup=5, callbacks=[Checkpoint(path)]).fit(X)
    assert vae.callbacks[0].best_epoch_ is None
    assert _same_weights(_weights(skvae.load(path)), _weights(vae))
    # a monitor the record lacks is named at the first epoch, not after the
    # warm-up (a fit within it never said so)
    wrong = Checkpoint(path, monitor="valid_loss")  # no early stopping
    with pytest.raises(KeyError, match="valid_loss"):
        _vae(max_iter=2, kl_warmup=5, callbacks=[wrong]).fit(X)


def test_cyclical_training_loss_counts_at_the_end_of_each_period(tmp_path):
    # each period ramps the KL weight up again: an epoch of a low weight had
    # the lowest training loss, the ramp after it then passed for no
    # improvement, and the fit stopped in mid-ramp as converged; Checkpoint
    # kept an epoch of weight 0.25
    from skvae import VAE

    X = np.random.RandomState(0).normal(size=(120, 6))
    params = dict(
        hidden_layer_sizes=(8,),
        n_components=2,
        kl_schedule="cyclical",
        kl_warmup=8,
        random_state=0,
        learning_rate_init=0.01,
    )
    vae = VAE(max_iter=100, n_iter_no_change=2, **params).fit(X)
    assert vae.n_iter_ % 8 == 0  # stopped at the end of a period
    assert vae.history_[-1]["beta"] == 1.0
    ends = [r["train_loss"] for r in vae.history_[7::8]]
    assert vae.best_loss_ == min(ends)
    check = Checkpoint(tmp_path / "best.skvae")
    VAE(max_iter=24, n_iter_no_change=50, callbacks=[check], **params).fit(X)
    assert check.best_epoch_ in (8, 16, 24)


def test_a_failed_fit_leaves_the_callbacks_as_they_were(X, tmp_path):
    # the estimator was put back, but a learning-rate schedule kept the
    # failed fit's steps, and a checkpoint its best epoch
    import copy

    class Boom(Callback):
        def __init__(self):
            self.at = None

        def on_epoch_end(self, trainer, **kwargs):
            if kwargs["record"]["epoch"] == self.at:
                raise RuntimeError("boom")

    boom, check = Boom(), Checkpoint(tmp_path / "best.skvae")
    step = LRScheduler("StepLR", step_size=1, gamma=0.5)
    vae = _vae(max_iter=3, warm_start=True, callbacks=[step, check, boom]).fit(X)
    untouched = copy.deepcopy(vae)
    boom.at = 5
    with pytest.raises(RuntimeError, match="boom"):
        vae.fit(X)
    assert check.best_epoch_ == untouched.callbacks[1].best_epoch_
    boom.at = None
    vae.fit(X)
    untouched.fit(X)
    assert [r["lr"] for r in vae.history_] == [r["lr"] for r in untouched.history_]
    np.testing.assert_array_equal(vae.transform(X), untouched.transform(X))


# ------------------------------------------------------------------ loggers
def test_csv_logger_writes_one_row_per_epoch(X, tmp_path):
    path = tmp_path / "log.csv"
    vae = _vae(
        max_iter=4, callbacks=[LRScheduler("StepLR", step_size=1), CSVLogger(path)]
    )
    vae.fit(X)

    def rows():
        with path.open(newline="") as f:
            return list(csv.DictReader(f))

    got = rows()
    assert [int(r["epoch"]) for r in got] == [1, 2, 3, 4]
    assert [float(r["train_loss"]) for r in got] == vae.loss_curve_
    assert "lr" in got[0]
    assert "kl_per_dim" not in got[0]
    vae.partial_fit(X)  # a continued fit appends
    assert [int(r["epoch"]) for r in rows()] == [1, 2, 3, 4, 5]
    vae.fit(X)  # a new fit starts the file anew
    assert [int(r["epoch"]) for r in rows()] == [1, 2, 3, 4]


def test_tensorboard_logger_writes_one_record_per_epoch(X, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    vae = _vae(max_iter=4, callbacks=[TensorBoardLogger(tmp_path)]).fit(X)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    scalars = events.Scalars("train_loss")
    assert [s.step for s in scalars] == [1, 2, 3, 4]
    np.testing.assert_allclose([s.value for s in scalars], vae.loss_curve_, rtol=1e-6)
    assert "kl_per_dim/1" in events.Tags()["scalars"]
    assert len(events.Scalars("kl")) == vae.n_iter_
    assert vae.callbacks[0].writer_ is None
    pickle.dumps(vae)


def test_tensorboard_logger_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real(name, *a),
    )
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoardLogger()


# -------------------------------------------------------------- LR schedule
def test_lr_scheduler_steps_once_per_epoch(X):
    vae = _vae(max_iter=4, callbacks=[LRScheduler("StepLR", step_size=2, gamma=0.1)])
    vae.fit(X)
    np.testing.assert_allclose(
        [r["lr"] for r in vae.history_], [0.01, 0.01, 0.001, 0.001]
    )
    vae.partial_fit(X)  # the schedule carries over
    assert vae.history_[-1]["lr"] == pytest.approx(1e-4)

    plateau = LRScheduler(
        torch.optim.lr_scheduler.ReduceLROnPlateau, factor=0.5, patience=0
    )
    _vae(max_iter=3, callbacks=[plateau]).fit(X)

    aae = tiny(AdversarialAE, callbacks=[LRScheduler("ExponentialLR", gamma=0.5)])
    aae.fit(X)
    assert aae.history_[-1]["lr"] < aae.history_[0]["lr"]
    assert all(
        group["lr"] < 1e-3
        for optimizer in aae._optimizer.optimizers
        for group in optimizer.param_groups
    )

    with pytest.raises(ValueError, match=r"torch\.optim\.lr_scheduler"):
        _vae(callbacks=[LRScheduler("NoSuchScheduler")]).fit(X)


def test_plateau_steps_only_on_comparable_epochs(X):
    # under a cyclical KL weight the loss rises in each period's ramp:
    # stepped on every epoch, ReduceLROnPlateau (patience 0) cut the rate
    # from 1e-2 to 1e-7 in 40 epochs
    plateau = LRScheduler("ReduceLROnPlateau", factor=0.5, patience=0)
    vae = VAE(
        n_components=2,
        hidden_layer_sizes=(32,),
        learning_rate_init=0.01,
        batch_size=100,
        max_iter=40,
        kl_warmup=8,
        kl_schedule="cyclical",
        callbacks=[plateau],
        random_state=0,
    ).fit(X)
    rates = [r["lr"] for r in vae.history_]
    losses = [r["train_loss"] for r in vae.history_]
    assert max(losses[24:32]) > losses[24] + 0.5  # a ramp raised the loss
    changed = [e for e in range(1, 40) if rates[e] != rates[e - 1]]
    assert set(changed) <= {8, 16, 24, 32}  # after a period's last epoch
    assert rates[-1] >= 0.01 / 2**4


def test_a_new_scheduler_on_a_warm_start_takes_the_new_rate(X):
    """The optimiser kept the first scheduler's initial_lr: a new LambdaLR
    multiplied the old base rate, not a changed learning_rate_init."""
    half = lambda epoch: 0.5**epoch  # noqa: E731

    def scheduled():
        return [LRScheduler("LambdaLR", lr_lambda=half)]

    vae = _vae(max_iter=3, kl_warmup=0, warm_start=True, callbacks=scheduled())
    vae.fit(X).set_params(learning_rate_init=0.001, callbacks=scheduled()).fit(X)
    rates = [record["lr"] for record in vae.history_]
    np.testing.assert_allclose(rates[3:], [0.001, 0.0005, 0.00025])


def test_a_warm_started_fit_continues_the_schedule(X):
    """warm_start continues the schedule where it stopped (as partial_fit
    does), rather than restarting the rate under the old schedule."""

    def scheduled(**params):
        vae = _vae(callbacks=[LRScheduler(T_max=6)], n_iter_no_change=100, **params)
        return vae

    whole = scheduled(max_iter=6).fit(X)
    halves = scheduled(max_iter=3, warm_start=True).fit(X).fit(X)
    np.testing.assert_allclose(
        [r["lr"] for r in halves.history_], [r["lr"] for r in whole.history_]
    )
    # a changed learning_rate_init does not restart the schedule: warned
    halves.set_params(learning_rate_init=0.05)
    with pytest.warns(UserWarning, match="continues its schedule"):
        halves.fit(X)
    # the default cosine needs its length
    with pytest.raises(ValueError, match="needs T_max"):
        _vae(max_iter=4, callbacks=[LRScheduler()]).fit(X)


# -------------------------------------------------------------- persistence
def test_a_model_fitted_with_callbacks_saves_without_them(X, tmp_path):
    vae = _vae(
        max_iter=3,
        callbacks=[PrintLog(print_fn=lambda line: None), CSVLogger(tmp_path / "l.csv")],
    ).fit(X)
    buffer = io.BytesIO()
    skvae.save(vae, buffer)
    buffer.seek(0)
    loaded = skvae.load(buffer)
    assert loaded.callbacks is None
    assert len(vae.callbacks) == 2  # the model saved is left as it was
    np.testing.assert_array_equal(loaded.transform(X), vae.transform(X))


def test_checkpoint_inside_a_pipeline_and_a_search(X, tmp_path):
    """scikit-learn's fit-time attributes are not part of a checkpoint file."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    path = tmp_path / "best.skvae"
    vae = tiny(VAE, kl_warmup=0, callbacks=[Checkpoint(path)])
    pipe = make_pipeline(StandardScaler(), vae).fit(X)
    best = skvae.load(path)
    np.testing.assert_array_equal(
        best.transform(pipe[0].transform(X)), pipe.transform(X)
    )
    search = GridSearchCV(vae, {"beta": [0.5, 1.0]}, cv=2, error_score="raise")
    search.fit(X)
    assert skvae.load(path).n_features_in_ == X.shape[1]


def test_checkpoint_to_a_missing_folder_fails_before_training(X, tmp_path):
    epochs = []

    class Count(Callback):
        def on_epoch_end(self, trainer, **kwargs):
            epochs.append(1)

    path = tmp_path / "absent" / "best.skvae"
    vae = tiny(VAE, callbacks=[Checkpoint(path), Count()])
    with pytest.raises(FileNotFoundError, match="does not exist; create it"):
        vae.fit(X)
    assert epochs == []


def test_bad_callbacks_and_paths_get_clear_errors(X, tmp_path):
    """Errors that name the fix, before an epoch is spent: a folder given
    for a file, an object that is not a callback, a file without write."""
    with pytest.raises(IsADirectoryError, match="is a folder"):
        _vae(callbacks=[Checkpoint(tmp_path)]).fit(X)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        _vae(callbacks=[CSVLogger(tmp_path)]).fit(X)
    with pytest.raises(TypeError, match=r"callbacks\[0\] is a object"):
        _vae(callbacks=[object()]).fit(X)
    with pytest.raises(TypeError, match="write method"):
        _vae(callbacks=[ProgressBar(disable=False, file=123)]).fit(X)
    with pytest.raises(TypeError, match="give an instance"):
        _vae(callbacks=[ProgressBar]).fit(X)


def test_no_stderr_no_bar(X, monkeypatch):
    """Without a stderr (pythonw, some services) verbose fits train, barless."""
    monkeypatch.setattr("sys.stderr", None)
    assert _vae(max_iter=2, verbose=1).fit(X).n_iter_ == 2
