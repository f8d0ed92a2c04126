"""Callbacks of the training loop: watch, log, checkpoint and steer a fit.

Pass them to any skvae estimator as ``callbacks=[...]``. Each is called at the
hooks of :class:`Callback` (see there for what each hook receives); a callback
stops training after the current epoch by setting ``trainer.should_stop =
True``. The ready-made ones act on the main training phase (``trainer.phase
== "train"``) only, except :class:`ProgressBar`, which draws a bar for each
phase (VaDE's pretraining, a VQ model's code prior).

Callbacks are not part of a saved model: :func:`skvae.save` stores
``callbacks=None`` and a loaded model has no callbacks. ``clone`` (and so
``GridSearchCV``) deep-copies them with the other parameters.

``verbose`` uses them too: ``verbose=1`` draws a :class:`ProgressBar` and
``verbose=2`` adds a :class:`PrintLog` line per epoch; both print a line
with the device at the start of a phase and a summary at its end. Whatever
``verbose`` is, the logger named ``skvae`` (:mod:`logging`) receives those
lines at INFO level and each epoch's line at DEBUG level; skvae adds no
handler to it but a ``NullHandler``.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import math
import os
import sys
import time
import warnings
from numbers import Real
from pathlib import Path
from typing import Any

import torch

from skvae._torch import device_name, in_worker
from skvae._training import Callback, MultiOptimizer, PrintLog, Trainer, logger

__all__ = [
    "CSVLogger",
    "Callback",
    "Checkpoint",
    "LRScheduler",
    "PrintLog",
    "ProgressBar",
    "TensorBoardLogger",
]


def _name(trainer: Trainer) -> str:
    """The estimator's class, with the phase when it is not the main one."""
    name = type(trainer.estimator).__name__ if trainer.estimator is not None else ""
    name = name or "skvae"
    return name if trainer.phase == "train" else f"{name} {trainer.phase}"


def _device(trainer: Trainer) -> str:
    device = getattr(trainer.estimator, "device_", None)
    if device is None and trainer.device is not None:
        device = device_name(trainer.device)
    return str(device)


def _scalars(record: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of a history record (lists and flags left out)."""
    return {
        k: float(v)
        for k, v in record.items()
        if isinstance(v, Real) and not isinstance(v, bool)
    }


def _monitored_key(record: dict[str, Any], monitor: str) -> str:
    """The record's entry that ``monitor`` names.

    "auto": the validation loss where there is one, else the training loss.
    """
    if monitor == "auto":
        return "valid_loss" if "valid_loss" in record else "train_loss"
    return monitor


def _monitored(record: dict[str, Any], monitor: str) -> float:
    key = _monitored_key(record, monitor)
    if key not in record:
        raise KeyError(
            f"monitor={monitor!r} is not in the epoch's record; it has "
            f"{sorted(record)}."
        )
    return float(record[key])


def _interactive(file: Any) -> bool:
    """Whether ``file`` is a terminal or output goes to a Jupyter kernel."""
    try:
        if file.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        pass
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class ProgressBar(Callback):
    """A tqdm progress bar over the epochs of each training phase.

    The bar shows the epochs done of the planned total (``max_iter`` for
    ``fit``), the elapsed and remaining time, the current losses, and the
    device in its label; it closes when the phase ends, early stopping
    included. ``verbose=1`` adds one. Needs the ``tqdm`` package.

    Parameters
    ----------
    disable : bool or None, default=None
        None: the bar is drawn only in an interactive session (standard
        error is a terminal, or a Jupyter kernel) and never in a joblib
        (loky) or Dask worker, so logs of batch jobs and parallel searches
        stay clean. False: always drawn; True: never.
    file : file object or None, default=None
        Where the bar is written; None: standard error.
    leave : bool, default=True
        Keep the finished bar on screen.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import load_iris
    >>> from skvae import VAE
    >>> out = io.StringIO()
    >>> bar = ProgressBar(disable=False, file=out)
    >>> _ = VAE(max_iter=3, callbacks=[bar], random_state=0).fit(load_iris().data)
    >>> "3/3" in out.getvalue()
    True
    """

    def __init__(
        self, disable: bool | None = None, file: Any = None, leave: bool = True
    ) -> None:
        if importlib.util.find_spec("tqdm") is None:
            raise ImportError("ProgressBar needs tqdm: pip install tqdm.")
        self.disable = disable
        self.file = file
        self.leave = leave
        self.bar_: Any = None

    def on_train_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        """Open the bar, its total the planned epochs."""
        if self.file is not None and not callable(getattr(self.file, "write", None)):
            raise TypeError(
                f"ProgressBar's file must be a text file object (with a write "
                f"method), got {type(self.file).__name__}."
            )
        file = sys.stderr if self.file is None else self.file
        disable = self.disable
        if file is None:  # no stderr (pythonw, some services): no bar
            disable = True
        if disable is None:
            disable = in_worker() or not _interactive(file)
        options = dict(
            total=kwargs.get("n_epochs", trainer.n_epochs),
            desc=f"{_name(trainer)} ({_device(trainer)})",
            unit="epoch",
            file=file,
            leave=self.leave,
            disable=disable,
            dynamic_ncols=True,
        )
        from tqdm.auto import tqdm

        try:
            self.bar_ = tqdm(**options)
        except ImportError:  # a notebook without ipywidgets
            from tqdm.std import tqdm as text_tqdm

            self.bar_ = text_tqdm(**options)

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Advance the bar by one epoch, showing the losses."""
        if self.bar_ is None:
            return
        record = kwargs["record"]
        shown = {"loss": record.get("train_loss")}
        if "valid_loss" in record:
            shown["valid"] = record["valid_loss"]
        self.bar_.set_postfix(
            {k: f"{v:.4g}" for k, v in shown.items() if v is not None}, refresh=False
        )
        self.bar_.update(1)

    def on_train_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Close the bar (it is not kept: the callback stays picklable)."""
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None


class LRScheduler(Callback):
    """Change the learning rate once per epoch with a torch scheduler.

    The scheduler is built at the start of a fit on the estimator's
    optimiser (one per optimiser for models with several, such as
    :class:`~skvae.AdversarialAE`) and stepped after each epoch; its state
    carries over to continued fits (``warm_start``, ``partial_fit``, where
    each call is one epoch). The learning rate of each epoch is added to its
    record as ``"lr"`` (the first parameter group's). Acts on the main
    training phase only.

    Parameters
    ----------
    scheduler : str or type, default="CosineAnnealingLR"
        A class of :mod:`torch.optim.lr_scheduler`, or its name.
    monitor : str, default="auto"
        For ``ReduceLROnPlateau``: the record's entry it watches; "auto" is
        ``valid_loss`` with early stopping, else ``train_loss``. It is
        stepped only on the epochs whose losses early stopping compares:
        none during the KL warm-up, and under ``kl_schedule="cyclical"``
        the training loss once a period, at its end (so its ``patience``
        counts periods there).
    **kwargs
        The scheduler's arguments, without the optimiser (e.g. ``T_max=50``
        or ``step_size=10, gamma=0.5``); ``CosineAnnealingLR`` needs
        ``T_max``. A continued fit continues the schedule, which sets its
        rate (a changed ``learning_rate_init`` is warned about: give a new
        LRScheduler to restart).

    Attributes
    ----------
    schedulers_ : list of torch.optim.lr_scheduler.LRScheduler
        The schedulers, during a fit.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skvae import VAE
    >>> step = LRScheduler("StepLR", step_size=2, gamma=0.5)
    >>> vae = VAE(max_iter=4, learning_rate_init=0.01, callbacks=[step],
    ...           random_state=0).fit(load_iris().data)
    >>> [record["lr"] for record in vae.history_]
    [0.01, 0.01, 0.005, 0.005]
    """

    def __init__(
        self,
        scheduler: str | type = "CosineAnnealingLR",
        monitor: str = "auto",
        **kwargs: Any,
    ) -> None:
        self.scheduler = scheduler
        self.monitor = monitor
        self.kwargs = kwargs
        self.schedulers_: list[Any] = []
        self._state: list[dict[str, Any]] | None = None
        self._rate: float | None = None  # learning_rate_init the schedule began at

    def _scheduler_class(self) -> type:
        cls = self.scheduler
        if isinstance(cls, str):
            cls = getattr(torch.optim.lr_scheduler, cls, None)
            if not isinstance(cls, type):
                raise ValueError(
                    f"scheduler={self.scheduler!r} is not a class of "
                    "torch.optim.lr_scheduler (e.g. 'StepLR', 'CosineAnnealingLR')."
                )
        return cls

    def on_train_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        """Build the schedulers, resuming their state in a continued fit."""
        if trainer.phase != "train":
            return
        optimizer = trainer.optimizer
        optimizers = (
            optimizer.optimizers
            if isinstance(optimizer, MultiOptimizer)
            else [optimizer]
        )
        cls = self._scheduler_class()
        if (
            cls is torch.optim.lr_scheduler.CosineAnnealingLR
            and "T_max" not in self.kwargs
        ):
            raise ValueError(
                "LRScheduler('CosineAnnealingLR') needs T_max, the epochs of one "
                "half cosine, e.g. LRScheduler(T_max=50) for max_iter=50."
            )
        self.schedulers_ = [cls(o, **self.kwargs) for o in optimizers]
        rate = getattr(trainer.estimator, "learning_rate_init", None)
        if trainer.start_epoch > 0 and self._state is not None:
            for scheduler, state in zip(self.schedulers_, self._state, strict=False):
                scheduler.load_state_dict(state)
                # the schedule's rate where it stopped, not the fit's restart
                groups = scheduler.optimizer.param_groups
                for group, lr in zip(groups, scheduler.get_last_lr(), strict=True):
                    group["lr"] = lr
            if rate is not None and self._rate is not None and rate != self._rate:
                warnings.warn(
                    f"learning_rate_init changed from {self._rate} to {rate}, but "
                    "the LRScheduler continues its schedule, which sets the "
                    "rate: give the estimator a new LRScheduler to restart it.",
                    UserWarning,
                    stacklevel=2,
                )
        if trainer.start_epoch == 0 or self._rate is None:
            self._rate = rate

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Record the epoch's learning rate, then step."""
        if trainer.phase != "train" or not self.schedulers_:
            return
        record = kwargs["record"]
        record["lr"] = float(self.schedulers_[0].optimizer.param_groups[0]["lr"])
        for scheduler in self.schedulers_:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                loss = _monitored(record, self.monitor)
                # a loss of the KL warm-up, or of a cyclical ramp, is of
                # another objective: it would pass for no improvement
                training = _monitored_key(record, self.monitor) != "valid_loss"
                if trainer.kl.comparable(int(record["epoch"]) - 1, training):
                    scheduler.step(loss)
            else:
                scheduler.step()

    def on_train_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Keep the schedulers' state only (they hold the optimiser)."""
        if trainer.phase != "train" or not self.schedulers_:
            return
        self._state = [s.state_dict() for s in self.schedulers_]
        self.schedulers_ = []


def _check_writable_file(who: str, path: str | os.PathLike) -> None:
    """A file path whose folder exists and that is not itself a folder."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise IsADirectoryError(
            f"{who} writes a file, but {name!r} is a folder: give a file's path in it."
        )
    folder = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{who} cannot write {name!r}: the folder {folder!r} does not exist; "
            "create it first."
        )


class Checkpoint(Callback):
    """Save the model with the best weights so far to a skvae file.

    After each epoch whose monitored loss is the lowest yet, the whole
    estimator is written with :func:`skvae.save` (so the file loads with
    :func:`skvae.load`, without callbacks). Epochs of the KL warm-up are not
    counted, as in early stopping: the objective still changes then (on
    the training loss under ``kl_schedule="cyclical"``, only the last epoch
    of each period counts, as the KL weight ramps up again in each). With
    early stopping on the validation loss the fitted model ends with the
    same weights as the file; on the training loss, the file keeps the best
    epoch's weights while the model keeps the last ones. The file holds the
    estimator as it is at that epoch: attributes that a family sets after
    training (VaDE's ``labels_``, a VQ model's code prior) are those of the
    previous fit, if any. A fit whose epochs all fall in the warm-up writes
    its final model at the end. Acts on the main training phase only. A fit
    that fails puts back ``best_loss_`` and ``best_epoch_`` (as it puts back
    the estimator), but not the file, which may hold an epoch of that fit.

    Parameters
    ----------
    path : str or path-like
        The file to write (overwritten at each improvement).
    monitor : str, default="auto"
        The record's entry to minimise: "auto" is ``valid_loss`` with early
        stopping, else ``train_loss``.

    Attributes
    ----------
    best_loss_ : float
        The lowest monitored loss (inf before the first counted epoch).
    best_epoch_ : int or None
        The epoch (from 1) whose weights the file holds.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> import skvae
    >>> X = load_iris().data
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "best.skvae")
    ...     vae = skvae.VAE(max_iter=5, kl_warmup=0, early_stopping=True,
    ...                     random_state=0, callbacks=[Checkpoint(path)]).fit(X)
    ...     best = skvae.load(path)
    >>> bool((best.transform(X) == vae.transform(X)).all())
    True
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "auto") -> None:
        self.path = path
        self.monitor = monitor
        self.best_loss_ = math.inf
        self.best_epoch_: int | None = None

    def on_train_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        """Start afresh in a new fit; a continued one keeps the best so far.

        The file's folder is checked here, before any epoch is spent.
        """
        _check_writable_file("Checkpoint", self.path)
        if trainer.phase == "train" and trainer.start_epoch == 0:
            self.best_loss_, self.best_epoch_ = math.inf, None

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Save the estimator if this epoch is the best yet."""
        record = kwargs["record"]
        if trainer.phase != "train":
            return
        loss = _monitored(record, self.monitor)  # a wrong monitor: at once
        training = _monitored_key(record, self.monitor) != "valid_loss"
        if not trainer.kl.comparable(int(record["epoch"]) - 1, training):
            return
        if loss < self.best_loss_:
            from skvae.persistence import save

            # the file's best_loss_ is its epoch's (the fit sets the
            # estimator's once it ends: inf until then)
            estimator = trainer.estimator
            before = vars(estimator).get("best_loss_")
            estimator.best_loss_ = loss
            try:
                save(estimator, self.path)
            finally:
                if before is None:
                    vars(estimator).pop("best_loss_", None)
                else:
                    estimator.best_loss_ = before
            self.best_loss_, self.best_epoch_ = loss, int(record["epoch"])

    def on_train_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Write the final model if no epoch counted (all in the warm-up)."""
        result = kwargs.get("result", trainer.result)
        done = getattr(trainer.estimator, "n_iter_", 0) - trainer.start_epoch
        finished = result.stopped or done == trainer.n_epochs > 0  # not an error
        if trainer.phase == "train" and self.best_epoch_ is None and finished:
            from skvae.persistence import save

            save(trainer.estimator, self.path)


class CSVLogger(Callback):
    """Write one row per epoch of the history to a CSV file.

    The columns are the numeric entries of the first record (``epoch``,
    ``train_loss``, its parts, ``beta``, ``dur``, ``valid_loss``...; lists
    such as ``kl_per_dim`` are left out). A new fit starts the file anew; a
    continued one (``warm_start``, ``partial_fit``) appends to it. Place it
    after callbacks that add entries to the record (:class:`LRScheduler`).
    The file is opened for each row, so nothing is held between epochs.
    Acts on the main training phase only.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Examples
    --------
    >>> import csv, os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from skvae import VAE
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "log.csv")
    ...     _ = VAE(max_iter=3, callbacks=[CSVLogger(path)],
    ...             random_state=0).fit(load_iris().data)
    ...     with open(path, newline="") as f:
    ...         rows = list(csv.DictReader(f))
    >>> [row["epoch"] for row in rows]
    ['1', '2', '3']
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = path
        self.fieldnames_: list[str] | None = None

    def on_train_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        """Start a new file for a new fit; find the columns of one continued."""
        if trainer.phase != "train":
            return
        _check_writable_file("CSVLogger", self.path)
        self.fieldnames_ = None
        path = Path(self.path)
        if trainer.start_epoch == 0:
            path.write_text("")
        elif path.is_file():
            with path.open(newline="") as f:
                header = next(csv.reader(f), None)
            self.fieldnames_ = header or None

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Append the epoch's row (the header first, in a new file)."""
        if trainer.phase != "train":
            return
        row = _scalars(kwargs["record"])
        row["epoch"] = int(row["epoch"])
        with Path(self.path).open("a", newline="") as f:
            if self.fieldnames_ is None:
                self.fieldnames_ = list(row)
                csv.writer(f).writerow(self.fieldnames_)
            writer = csv.DictWriter(
                f, self.fieldnames_, restval="", extrasaction="ignore"
            )
            writer.writerow(
                {k: repr(v) if isinstance(v, float) else v for k, v in row.items()}
            )


class TensorBoardLogger(Callback):
    """Log each epoch's losses to TensorBoard (torch's ``SummaryWriter``).

    Each numeric entry of an epoch's record is one scalar at step ``epoch``
    (``train_loss``, ``recon``, ``kl``, ``beta``, ``valid_loss``...), and
    ``kl_per_dim`` one scalar per latent dimension (``kl_per_dim/0``...), the
    first thing to look at for posterior collapse. The writer is opened at
    the start of training and closed at its end. Needs the ``tensorboard``
    package (an optional dependency: ``pip install tensorboard``). Acts on
    the main training phase only.

    Parameters
    ----------
    log_dir : str, path-like or None, default=None
        The run's folder; None: ``runs/<date>_<host>``, torch's default.
    comment : str, default=""
        Appended to the default folder's name.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_iris
    >>> from skvae import VAE
    >>> with tempfile.TemporaryDirectory() as folder:  # doctest: +SKIP
    ...     _ = VAE(max_iter=3, callbacks=[TensorBoardLogger(folder)]).fit(
    ...         load_iris().data)
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = ""):
        if importlib.util.find_spec("tensorboard") is None:
            raise ImportError(_NO_TENSORBOARD)
        self.log_dir = log_dir
        self.comment = comment
        self.writer_: Any = None

    def on_train_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        """Open the writer."""
        if trainer.phase != "train":
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise ImportError(_NO_TENSORBOARD) from exc
        log_dir = None if self.log_dir is None else os.fspath(self.log_dir)
        self.writer_ = SummaryWriter(log_dir=log_dir, comment=self.comment)

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Write the epoch's scalars."""
        if self.writer_ is None or trainer.phase != "train":
            return
        record = kwargs["record"]
        step = int(record["epoch"])
        for key, value in _scalars(record).items():
            if key != "epoch":
                self.writer_.add_scalar(key, value, global_step=step)
        for dim, value in enumerate(record.get("kl_per_dim", ())):
            self.writer_.add_scalar(f"kl_per_dim/{dim}", value, global_step=step)

    def on_train_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Flush and close the writer (it is not kept: the callback stays picklable)."""
        if self.writer_ is not None and trainer.phase == "train":
            self.writer_.close()
            self.writer_ = None


_NO_TENSORBOARD = (
    "TensorBoardLogger needs the tensorboard package, an optional dependency "
    "of skvae: pip install tensorboard."
)


# ----------------------------------------------------- what verbose adds
class _FitReport(Callback):
    """A line with the device at the start of a phase and a summary at its end.

    Logged at INFO level to the ``skvae`` logger always, printed too when
    ``verbose``; each epoch's line is logged at DEBUG level. A later phase
    of a fit (``phase``, such as M2's "self-training") is named after the
    estimator, its header ends with ``detail``, and it is printed however
    few epochs it trains.
    """

    def __init__(
        self, verbose: int, print_fn: Any = print, *, phase: str = "", detail: str = ""
    ) -> None:
        self.verbose = verbose
        self.print_fn = print_fn
        self.phase = phase
        self.detail = detail
        self._start = time.perf_counter()
        self._epochs = 0

    def _label(self, trainer: Trainer) -> str:
        return f"{_name(trainer)} {self.phase}" if self.phase else _name(trainer)

    def _say(self, message: str, trainer: Trainer) -> None:
        logger.info(message)
        # a continued partial_fit (one epoch a call) does not repeat them
        continued = trainer.start_epoch > 0 and trainer.n_epochs <= 1
        if self.verbose and (self.phase or not continued):
            self.print_fn(message)

    def on_train_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        self._start = time.perf_counter()
        self._epochs = 0  # trained in this phase (its loss test may end it)
        n = kwargs.get("n_epochs", trainer.n_epochs)
        self._say(
            f"{self._label(trainer)}: training on {_device(trainer)}, "
            f"up to {n} epoch{'s' * (n != 1)}{self.detail}",
            trainer,
        )

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        self._epochs += 1
        if logger.isEnabledFor(logging.DEBUG):
            total = trainer.start_epoch + trainer.n_epochs
            line = PrintLog().format(kwargs["record"], total)
            logger.debug("%s %s", self._label(trainer), line)

    def on_train_end(self, trainer: Trainer, **kwargs: Any) -> None:
        result = kwargs.get("result", trainer.result)
        history = getattr(trainer.estimator, "history_", None)
        done = self._epochs
        if trainer.phase == "train" and isinstance(history, list):
            done = len(history) - trainer.start_epoch
        if result.interrupted:
            why = "interrupted"
        elif result.stopped:
            why = getattr(trainer, "stop_reason", None) or "stopped by a callback"
        elif result.converged:
            why = "converged"
        else:
            why = "the planned epochs done"
        message = (
            f"{self._label(trainer)}: {done} epoch{'s' * (done != 1)} in "
            f"{time.perf_counter() - self._start:.1f}s ({why})"
        )
        if math.isfinite(result.best_loss):
            message += f", best loss {result.best_loss:.4f}"
        self._say(message, trainer)


class _RecordProgress(Callback):
    """Keep the estimator's ``n_iter_`` and ``loss_curve_`` current in training.

    So that callbacks (and a :class:`Checkpoint`'s file) see the epochs done.
    """

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        record_progress = getattr(trainer.estimator, "_record_progress", None)
        if trainer.phase == "train" and record_progress is not None:
            record_progress()


def fit_callbacks(verbose: int, writes: bool) -> list[Callback]:
    """The callbacks every fit runs first, then the user's.

    ``verbose=1``: a :class:`ProgressBar` (where tqdm is missing, a
    :class:`PrintLog` line per epoch in an interactive session instead);
    ``verbose>=2``: a :class:`PrintLog`. ``writes``: whether this process
    reports (rank 0 of distributed training).
    """
    callbacks: list[Callback] = [_RecordProgress()]
    if not writes:
        return callbacks
    callbacks.append(_FitReport(int(verbose)))
    if verbose == 1 and importlib.util.find_spec("tqdm") is not None:
        callbacks.append(ProgressBar())
    elif verbose >= 2 or (verbose and _interactive(sys.stderr) and not in_worker()):
        callbacks.append(PrintLog())
    return callbacks
