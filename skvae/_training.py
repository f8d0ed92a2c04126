"""The one training loop that every skvae model is trained by.

The loop knows nothing of scikit-learn. It takes a torch module whose
``forward(*batch, ctx)`` returns a NamedTuple of per-sample terms with a
``loss`` field, an optimiser, and data as tensors already on the device.
Batches are drawn by indexing a permutation; losses are accumulated on the
device and read once per epoch.
"""

from __future__ import annotations

import contextlib
import logging
import math
import operator
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim import optimizer as _torch_optimizer

from skvae._torch import (
    _GOLDEN,
    Stream,
    _mix64,
    distributed_world,
    spawn,
    tensor_row_keys,
)
from skvae.nn.base import StepContext
from skvae.nn.likelihoods import weighting

#: The context of a batch without row weights (reusable: it does nothing).
_UNWEIGHTED = contextlib.nullcontext()

#: The logger of skvae's messages (fits' starts and ends, one debug record per
#: epoch). The library adds no handler but a NullHandler: configure logging to
#: see them.
logger = logging.getLogger("skvae")
logger.addHandler(logging.NullHandler())

_TRAIN = nn.Module.train


def _overrides(callback: Any, hook: str) -> bool:
    """Whether ``callback`` does something at ``hook`` (not Callback's no-op).

    Looked up on the callback itself, so that a hook set on the instance, a
    mixin's or a duck-typed callback's counts.
    """
    method = getattr(callback, hook, None)
    return getattr(method, "__func__", method) is not getattr(Callback, hook)


#: Weights (entries) up to which the finiteness check copies them into one
#: flat buffer per dtype: cheaper for small models, a second copy for large.
_FLAT_CHECK_MAX = 2**20

#: The phase of a fit each pair of training streams trains (``Trainer.phase``).
_PHASES = {Stream.TRAIN: "train", Stream.PRETRAIN: "pretrain", Stream.PRIOR: "prior"}


class Callback:
    """Base class of training callbacks: every hook is a no-op.

    Override the hooks you need. Each receives the :class:`Trainer` and
    keyword arguments (accept ``**kwargs``: hooks may get more in later
    versions):

    - ``on_train_begin(trainer, n_epochs=, estimator=)``: before the first
      epoch of a training phase; ``n_epochs`` is the number planned (``max_iter``
      for a fit, 1 for ``partial_fit``), ``estimator`` the estimator being
      fitted.
    - ``on_epoch_begin(trainer, epoch=)``: ``epoch`` counts from 0 over the
      model's whole history.
    - ``on_batch_end(trainer, batch=, terms=)``: after each optimisation step.
    - ``on_epoch_end(trainer, record=)``: ``record`` is the epoch's entry of the
      history (``history_`` for the main phase), already appended to it, a
      dict that callbacks may add keys to.
    - ``on_train_end(trainer, result=)``: after the last epoch, however the
      phase ended (also on Ctrl-C or an error, which are raised again after
      it); ``result`` is a :class:`TrainResult`.

    The trainer gives ``trainer.estimator``, ``trainer.n_epochs``,
    ``trainer.start_epoch`` (epochs trained before this call), ``trainer.phase``
    (``"train"``, or ``"pretrain"`` for VaDE's autoencoder phase and ``"prior"``
    for a VQ model's code prior), ``trainer.module`` and ``trainer.optimizer``.
    Setting ``trainer.should_stop = True`` in any hook ends the phase cleanly
    after the current epoch (the best weights are restored with early
    stopping, and no convergence warning is raised).

    Callbacks are not part of a saved model: :func:`skvae.save` stores
    ``callbacks=None``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skvae import VAE
    >>> class StopAt(Callback):
    ...     def __init__(self, epoch):
    ...         self.epoch = epoch
    ...     def on_epoch_end(self, trainer, **kwargs):
    ...         if kwargs["record"]["epoch"] == self.epoch:
    ...             trainer.should_stop = True
    >>> X = load_iris().data
    >>> VAE(max_iter=50, callbacks=[StopAt(3)], random_state=0).fit(X).n_iter_
    3
    """

    def on_train_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        """Call before the first epoch, with ``n_epochs`` and ``estimator``."""

    def on_train_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Call after the last epoch, with ``result``."""

    def on_epoch_begin(self, trainer: Trainer, **kwargs: Any) -> None:
        """Call at the start of each epoch, with ``epoch``."""

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Call at the end of each epoch with ``record``."""

    def on_batch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Call after each optimisation step, with ``batch`` and ``terms``."""


class PrintLog(Callback):
    """Print one line per epoch: the epoch of the total, losses, time (``verbose=2``).

    Lines look like ``epoch   12/200 | train_loss 41.2031 | ... | 0.05s``;
    the total is the number of epochs the model will have after this call
    if it runs to ``max_iter``. Only the main training phase is printed.

    Parameters
    ----------
    print_fn : callable, default=print
        Where the lines go (standard output by default, as scikit-learn's
        ``verbose`` output).

    Examples
    --------
    >>> PrintLog().format({"epoch": 1, "train_loss": 2.5, "dur": 0.1}, total=20)
    'epoch    1/20 | train_loss 2.5000 | 0.10s'
    """

    _keys = ("train_loss", "recon", "kl", "valid_loss", "beta", "active_units", "lr")

    def __init__(self, print_fn: Callable[[str], None] = print) -> None:
        self.print_fn = print_fn

    def format(self, record: dict[str, Any], total: int | None = None) -> str:
        """Format one history record as a line (``total``: the planned epochs)."""
        epoch = f"epoch {record['epoch']:4d}"
        if total is not None:
            epoch += f"/{total}"
        parts = [epoch]
        for key in self._keys:
            if key in record:
                value = record[key]
                if isinstance(value, int):
                    text = f"{value:d}"
                else:
                    text = f"{value:.3g}" if key == "lr" else f"{value:.4f}"
                parts.append(f"{key} {text}")
        parts.append(f"{record['dur']:.2f}s")
        return " | ".join(parts)

    def on_epoch_end(self, trainer: Trainer, **kwargs: Any) -> None:
        """Print the epoch's record."""
        if trainer.phase == "train":
            total = trainer.start_epoch + trainer.n_epochs
            self.print_fn(self.format(kwargs["record"], total))


@dataclass
class TrainResult:
    """What one call of :meth:`Trainer.fit` did."""

    converged: bool = False
    interrupted: bool = False  # by KeyboardInterrupt, raised again
    stopped: bool = False  # by a callback (``trainer.should_stop``)
    best_loss: float = math.inf


class MultiOptimizer:
    """Several optimisers stepped as one (one per parameter group of a module).

    Models with two objectives, such as an adversarial autoencoder and its
    discriminator, give each parameter group its own optimiser and settings;
    the training loop sees one object with the optimiser interface it uses.

    Parameters
    ----------
    optimizers : sequence of torch.optim.Optimizer
        The optimisers, over disjoint parameter sets.

    Examples
    --------
    >>> import torch
    >>> a, b = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    >>> opt = MultiOptimizer([torch.optim.Adam(a.parameters()),
    ...                       torch.optim.SGD(b.parameters(), lr=0.1)])
    >>> (a(torch.ones(1, 2)) + b(torch.ones(1, 2))).sum().backward()
    >>> opt.step(); opt.zero_grad()
    >>> len(opt.state_dict()["optimizers"])
    2
    """

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        self.optimizers = list(optimizers)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """The parameter groups of every optimiser, in order (as torch's)."""
        return [group for o in self.optimizers for group in o.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every group."""
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        """Step every optimiser."""
        for optimizer in self.optimizers:
            optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        """The state of every optimiser, in order."""
        return {"optimizers": [o.state_dict() for o in self.optimizers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        for optimizer, sub in zip(self.optimizers, state["optimizers"], strict=True):
            optimizer.load_state_dict(sub)


@dataclass(frozen=True)
class KLSchedule:
    """How the weight of a model's regulariser (the KL term) evolves in training.

    Parameters
    ----------
    beta : float, default=1.0
        Target weight of the term.
    warmup : float, default=0
        Epochs of the schedule: the linear warm-up of ``beta`` from 0, the
        period of the cyclical schedule, or the epochs over which the capacity
        grows to ``capacity``. 0: ``beta`` from the first step. Not always a
        whole number: ``max_iter="auto"`` caps it at a quarter of the epochs
        chosen.
    kind : {"linear", "cyclical", "capacity"}, default="linear"
        "linear": ``beta`` grows linearly from 0 over ``warmup`` epochs.
        "cyclical" (Fu et al. 2019): the linear ramp over the first half of
        each period of ``warmup`` epochs, then ``beta`` for the second half,
        repeated. "capacity" (Burgess et al. 2018): ``beta`` is fixed and the
        KL term is ``beta * |KL - C|`` with C growing linearly from 0 to
        ``capacity`` over ``warmup`` epochs.
    capacity : float, default=25.0
        Final capacity C in nats of the "capacity" schedule.
    free_bits : float, default=0.0
        Nats per latent dimension that are not penalised.

    Examples
    --------
    >>> KLSchedule(beta=2.0, warmup=4).weight_at(1.0)
    (0.5, None)
    >>> KLSchedule(beta=2.0, warmup=4).weight_at(10.0)
    (2.0, None)
    """

    beta: float = 1.0
    warmup: float = 0
    kind: str = "linear"
    capacity: float = 25.0
    free_bits: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("linear", "cyclical", "capacity"):
            raise ValueError(f"Unknown kl_schedule {self.kind!r}.")

    def warmup_at(self, progress: float) -> float:
        """Warm-up fraction in [0, 1] after ``progress`` epochs (fractional)."""
        if self.warmup <= 0:
            return 1.0
        return min(1.0, progress / self.warmup)

    def weight_at(self, progress: float) -> tuple[float, float | None]:
        """KL weight and capacity (None if unused) after ``progress`` epochs."""
        if self.kind == "capacity":
            return self.beta, self.capacity * self.warmup_at(progress)
        if self.kind == "cyclical" and self.warmup > 0:
            phase = (progress % self.warmup) / self.warmup
            if progress > 0 and phase == 0:  # the last step of a period
                phase = 1.0
            return self.beta * min(1.0, 2.0 * phase), None
        return self.beta * self.warmup_at(progress), None

    def comparable(self, epoch: int, training: bool) -> bool:
        """Whether the loss of ``epoch`` (from 0) may be compared with others.

        Not before the warm-up's last epoch (the objective still changes).
        The validation loss is taken at the final weight (:meth:`final`), so
        every later epoch's counts; a training loss from the first epoch
        trained at the full weight throughout (that of the warm-up's last
        epoch averages a weight still rising, a lower loss that the epochs
        after it could not beat: a fit stopped while it improved). Under
        the cyclical schedule the
        weight of training ramps up again in each period, and a training
        loss counts only at the end of a period (the last epoch to end by
        it), after the half trained at the full weight: an epoch of a low
        weight would otherwise pass for the best, and the ramp after it for
        no improvement (so that ``n_iter_no_change`` counts periods there).

        Examples
        --------
        >>> linear = KLSchedule(beta=1.0, warmup=4)
        >>> [e for e in range(6) if linear.comparable(e, training=True)]
        [4, 5]
        >>> kl = KLSchedule(beta=1.0, warmup=4, kind="cyclical")
        >>> [e for e in range(12) if kl.comparable(e, training=True)]
        [3, 7, 11]
        >>> [e for e in range(8) if kl.comparable(e, training=False)]
        [3, 4, 5, 6, 7]
        >>> uneven = KLSchedule(beta=1.0, warmup=9.25, kind="cyclical")
        >>> [e for e in range(30) if uneven.comparable(e, training=True)]
        [17, 26]
        """
        if epoch + 1 < self.warmup:
            return False
        tol = 1e-9
        if (
            training
            and self.kind != "cyclical"
            and epoch < math.ceil(self.warmup - tol)
        ):
            return False
        if not training or self.kind != "cyclical" or self.warmup <= 1:
            return True
        # the last epoch to end by a period's end (a period may end within an
        # epoch: "auto" caps it at a quarter of the epochs, rarely whole)
        end = math.ceil((epoch + 1) / self.warmup - tol) * self.warmup
        return end < epoch + 2 - tol

    def final(self) -> tuple[float, float | None]:
        """The weight and capacity the schedule ends at (used for validation)."""
        return self.beta, (self.capacity if self.kind == "capacity" else None)


#: The schedule of models without a KL term (VQ): a weight of 1, never used.
NO_KL = KLSchedule()


class NonFiniteLossError(ValueError):
    """Raised when the training loss becomes NaN or infinite."""


class Trainer:
    """Minibatch training of a torch module: the loop shared by every model.

    Parameters
    ----------
    module : torch.nn.Module
        ``module(*batch, ctx=StepContext)`` returns a NamedTuple of per-sample
        tensors with a ``loss`` field. A module whose attribute
        ``loss_fields`` names several fields (default ``("loss",)``) is
        trained on their sum, in one backward pass: each field's gradient
        must reach only its own parameter group (the module detaches what
        the other group computed).
    optimizer : torch.optim.Optimizer or MultiOptimizer
        Optimiser over the module's parameters. A module with several
        objectives (``loss_fields``, e.g. an autoencoder and its
        discriminator) takes a :class:`MultiOptimizer`, one optimiser per
        parameter group.
    batch_size : int
        Rows per step.
    kl : KLSchedule or None, default=None
        The schedule of the KL term's weight (of the regulariser's weight
        for WAE and AAE); None for models without one (a constant 1).
    max_grad_norm : float or None
        Clip the gradients' global norm to this value.
    compile : bool
        Run the training forward pass through ``torch.compile`` (evaluation
        stays eager).
    autocast : torch.dtype or None, default=None
        Run the training forward passes under autocast to this dtype
        (bfloat16); only for modules with ``supports_autocast``.
    seed : int
        Base seed of the private generators (:class:`skvae._torch.Stream`).
    streams : tuple of Stream, default=(Stream.TRAIN, Stream.VALID)
        The streams of the training epochs and of the validation noise (a
        pretraining phase or a prior trains on streams of its own).
    stream_ids : tuple of int, default=()
        Sub-stream numbers before the epoch (e.g. the level of a prior).
    callbacks : sequence of Callback
        Called at the hooks of :class:`Callback`.
    summarize : callable, optional
        Turns the epoch means of the module's terms into history entries.
    estimator : object, optional
        The estimator being fitted, given to the callbacks.

    Attributes
    ----------
    should_stop : bool
        Set it to True (from a callback) to end training after the current
        epoch; reset at the start of each :meth:`fit`.
    stop_reason : str or None
        Why a callback set :attr:`should_stop`, for the fit's report (None:
        "stopped by a callback"); reset at the start of each :meth:`fit`.
    n_epochs : int
        The epochs planned by the running :meth:`fit` (``max_epochs``).
    start_epoch : int
        The epochs in the history before the running :meth:`fit`.
    phase : str
        "train", or "pretrain" / "prior" for a family's other phases.
    device : torch.device or None
        The device of the training data, once :meth:`fit` has started.
    """

    def __init__(
        self,
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        batch_size: int,
        kl: KLSchedule | None = None,
        max_grad_norm: float | None = None,
        compile: bool = False,
        autocast: torch.dtype | None = None,
        seed: int = 0,
        streams: tuple[Stream, Stream] = (Stream.TRAIN, Stream.VALID),
        stream_ids: tuple[int, ...] = (),
        callbacks: Sequence[Callback] = (),
        summarize: Callable[[dict[str, torch.Tensor]], dict[str, Any]] | None = None,
        estimator: Any = None,
    ) -> None:
        self.module = module
        self.estimator = estimator
        self.should_stop = False
        self.stop_reason: str | None = None
        self.n_epochs = 0
        self.start_epoch = 0
        self.device: torch.device | None = None
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.kl = NO_KL if kl is None else kl
        self.loss_fields = tuple(getattr(module, "loss_fields", ("loss",)))
        # a last batch of fewer rows joins the one before (a WAE's MMD needs
        # two rows a batch)
        self.min_batch_rows = int(getattr(module, "min_batch_rows", 1))
        self.max_grad_norm = max_grad_norm
        # Several ranks (torchrun): each trains on its share of every batch,
        # gradients are averaged by DistributedDataParallel.
        self.world = distributed_world()
        step_module = module
        if self.world is not None:
            from torch.nn.parallel import DistributedDataParallel

            step_module = DistributedDataParallel(module, find_unused_parameters=True)
        self._step_module = torch.compile(step_module) if compile else step_module
        self.seed = seed
        self.streams = streams
        self.stream_ids = stream_ids
        self.autocast = (
            autocast if getattr(module, "supports_autocast", False) else None
        )
        self.callbacks = list(callbacks)
        self._hooks: dict[str, list[Any]] = {}  # who overrides each hook
        self._steppers: tuple[Any, list[Any]] = (None, [])  # see _step
        # the epochs' seeds: (first epoch, seeds), see generator
        self._epoch_seeds: tuple[int, Sequence[int]] = (0, [])
        self._seeded = False
        self._valid_seed: int | None = None
        self.phase = _PHASES.get(Stream(streams[0]), "train")
        # Module.train() sets a flag on every submodule: an epoch skips it
        # when they are all set already and none overrides it (a no-op then)
        self._submodules = list(module.modules())
        self._plain_train = all(type(m).train is _TRAIN for m in self._submodules)
        # what the end of each epoch checks for non-finite values
        self._weights = [
            t
            for t in (*module.parameters(), *module.buffers())
            if t.is_floating_point() and t.numel() > 0
        ]
        # small models: one flat copy per dtype, reduced at once; larger
        # ones are reduced where they are (no second copy of the weights)
        small = sum(t.numel() for t in self._weights) <= _FLAT_CHECK_MAX
        self._max_abs = _MaxAbs() if small else None
        self._snapshot = _Snapshot()  # the restore point, reused every epoch
        self.result = TrainResult()
        self.summarize = summarize or _scalar_means
        # Gradients are clipped per optimiser, so that one objective's large
        # gradients (a discriminator's) do not shrink another's steps.
        self._clip_groups = (
            [_params_of(o) for o in optimizer.optimizers]
            if isinstance(optimizer, MultiOptimizer)
            else [[p for p in module.parameters() if p.requires_grad]]
        )

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Dispatch ``hook`` to every callback that does something there."""
        for callback in self._listeners(hook):
            getattr(callback, hook)(self, **kwargs)

    def _listeners(self, hook: str) -> list[Any]:
        """The callbacks that override ``hook``, looked up once a :meth:`fit`."""
        listeners = self._hooks.get(hook)
        if listeners is None:
            listeners = [c for c in self.callbacks if _overrides(c, hook)]
            self._hooks[hook] = listeners
        return listeners

    def _zero_grad(self) -> Callable[[], None]:
        """What clears the gradients before each step.

        A torch optimiser's own ``zero_grad(set_to_none=True)`` (or a
        :class:`MultiOptimizer` of them) sets each parameter's ``grad`` to
        None; that is done here directly, without the per-call wrapping
        (profiler record, dynamo guard). Other optimisers' is called.
        """
        optimizer = self.optimizer
        subs = [optimizer]
        if type(optimizer) is MultiOptimizer:
            subs = optimizer.optimizers
        if not all(
            isinstance(o, torch.optim.Optimizer)
            and type(o).zero_grad is torch.optim.Optimizer.zero_grad
            for o in subs
        ):
            return lambda: optimizer.zero_grad(set_to_none=True)
        params = [p for o in subs for group in o.param_groups for p in group["params"]]

        def zero_grad() -> None:
            for p in params:
                p.grad = None

        return zero_grad

    def _step(self) -> Callable[[], None]:
        """What steps the optimiser after each backward pass.

        Fused Adam (the estimators' optimiser where the device has it) is
        stepped by its kernel directly (:class:`_FusedAdamStep`): the same
        computation as ``optimizer.step()``, less the per-call wrapping that
        costs as much as the kernel on small models. Anything else, and
        fused Adam with hooks or settings that the kernel call does not
        cover, by ``optimizer.step()``.
        """
        optimizer = self.optimizer
        subs = [optimizer]
        if type(optimizer) is MultiOptimizer:
            subs = optimizer.optimizers
        if self._steppers[0] is not optimizer:  # built once per optimiser
            self._steppers = (optimizer, [_FusedAdamStep.of(o) for o in subs])
        direct = self._steppers[1]
        if any(d is None for d in direct):
            return optimizer.step
        if len(direct) == 1:
            return direct[0]

        def step() -> None:
            for d in direct:
                d()

        return step

    def generator(self, epoch: int, device: torch.device) -> torch.Generator:
        """The private generator of one training epoch (its own stream).

        Seeded with ``spawn(seed, streams[0], *stream_ids, epoch)``
        (:func:`skvae._torch.make_generator`'s seed), after the first epoch
        of a trainer from seeds derived for a block of epochs at once
        (:func:`_spawn_block`: the same seeds, at a fraction of the cost).
        """
        first, seeds = self._epoch_seeds
        if not first <= epoch < first + len(seeds):
            prefix = (self.seed, int(self.streams[0]), *self.stream_ids)
            count = _SEED_BLOCK if self._seeded else 1
            self._seeded = True
            if count > 1 and all(0 <= w < 2**32 for w in (*prefix, epoch + count)):
                first, seeds = epoch, _spawn_block(prefix, epoch, count)
            else:
                first, seeds = epoch, [spawn(*prefix, epoch)]
            self._epoch_seeds = (first, seeds)
        return torch.Generator(device=device).manual_seed(seeds[epoch - first])

    def train_epoch(
        self,
        data: Sequence[torch.Tensor],
        epoch: int,
        weight: torch.Tensor | None = None,
    ) -> tuple[dict[str, torch.Tensor], float]:
        """Run one epoch; return the summed terms (on the device) and the beta.

        With ``weight`` (one non-negative weight per row), each step's
        objective is ``sum(w * loss) / (batch * mean(weight))`` and the sums
        are weighted: a row of weight 2 counts as the row twice, in
        expectation over the batches (exactly, on a batch of every row), and
        a row of weight 0 as no row.
        """
        sums, beta = self._train_epoch(data, epoch, weight)
        return sums.as_dict(), beta

    def _train_epoch(
        self,
        data: Sequence[torch.Tensor],
        epoch: int,
        weight: torch.Tensor | None = None,
    ) -> tuple[_Sums, float]:
        """:meth:`train_epoch`, its sums as they are (:class:`_Sums`)."""
        n_samples = data[0].shape[0]
        w_mean = None if weight is None else weight.mean()
        # equal weights leave learnt statistics as without weights (decided
        # once, not per batch: a sync each; never per process under DDP,
        # where one process's batch may be equal and another's not)
        weigh_stats = weight is not None and (
            self.world is not None or not bool((weight == weight[0]).all())
        )
        device = data[0].device
        gen = self.generator(epoch, device)
        perm = torch.randperm(n_samples, generator=gen, device=device)
        starts = list(range(0, n_samples, self.batch_size)) or [0]
        if len(starts) > 1 and n_samples - starts[-1] < self.min_batch_rows:
            starts.pop()  # the last rows join the batch before them
        ends = [*starts[1:], n_samples]
        n_batches = len(starts)
        sums = _Sums()
        if not (self._plain_train and all(m.training for m in self._submodules)):
            self.module.train()
        # an autocast context that only disables autocast is a no-op unless
        # autocast is on around the fit
        cast = self.autocast is not None or torch.is_autocast_enabled(device.type)
        listeners = self._listeners("on_batch_end")
        beta = self.kl.beta
        zero_grad, step = self._zero_grad(), self._step()
        for b in range(n_batches):
            idx = perm[starts[b] : ends[b]]
            n_global = idx.numel()
            rows, share = None, 1.0
            if self.world is not None:
                rank, world = self.world
                if n_global < world:  # a last batch too small to share
                    continue
                rows = torch.arange(rank, n_global, world, device=device)
                # DDP averages the ranks' gradients: weigh each rank's mean by
                # its share of the rows, so the result is the global batch mean
                share = world * rows.numel() / n_global
                idx = idx[rows]
            batch = [t[idx] for t in data]
            w = None if weight is None else weight[idx]
            progress = epoch + (b + 1) / n_batches
            beta, capacity = self.kl.weight_at(progress)
            ctx = StepContext(
                beta=beta,
                free_bits=self.kl.free_bits,
                generator=gen,
                warmup=self.kl.warmup_at(progress),
                capacity=capacity,
                n_train=n_samples,
                rows=rows,
                global_batch=n_global,
            )
            # statistics learnt from the batch (a Gaussian variance, batch
            # norm) weigh its rows as the loss does
            weighed = weighting(w, equal_as_none=False) if weigh_stats else _UNWEIGHTED
            if cast:
                with (
                    torch.autocast(
                        device.type,
                        dtype=self.autocast or torch.bfloat16,
                        enabled=self.autocast is not None,
                    ),
                    weighed,
                ):
                    terms = self._step_module(*batch, ctx=ctx)
            else:
                with weighed:
                    terms = self._step_module(*batch, ctx=ctx)
            zero_grad()
            objective = _batch_mean(terms.loss, w, w_mean)
            for field in self.loss_fields[1:]:
                objective = objective + _batch_mean(getattr(terms, field), w, w_mean)
            if share != 1.0:
                objective = objective * share
            objective.backward()
            if self.max_grad_norm is not None:
                for params in self._clip_groups:
                    nn.utils.clip_grad_norm_(params, self.max_grad_norm, foreach=True)
            step()
            sums.add(terms, weight=w)
            for callback in listeners:
                callback.on_batch_end(self, batch=b, terms=terms)
        if self.world is not None:
            sums.all_reduce()
        return sums, beta

    @torch.no_grad()
    def evaluate(
        self,
        data: Sequence[torch.Tensor],
        batch_size: int = 4096,
        weight: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Summed terms over ``data`` at the target beta, without free bits.

        With ``weight``, each row's terms count ``weight`` times.
        """
        device = data[0].device
        # the same noise every epoch
        if self._valid_seed is None:
            self._valid_seed = spawn(self.seed, self.streams[1], *self.stream_ids, 0)
        gen = torch.Generator(device=device).manual_seed(self._valid_seed)
        beta, capacity = self.kl.final()  # the target: what the schedule ends at
        ctx = StepContext(
            beta=beta,
            free_bits=0.0,
            generator=gen,
            capacity=capacity,
            n_train=data[0].shape[0],
        )
        self.module.eval()
        sums = _Sums()
        for start in range(0, data[0].shape[0], batch_size):
            batch = [t[start : start + batch_size] for t in data]
            w = None if weight is None else weight[start : start + batch_size]
            scale = 1.0
            if self.world is not None:  # each rank scores its share of the rows
                rank, world = self.world
                n_chunk = batch[0].shape[0]
                if n_chunk >= world:
                    ctx.rows = torch.arange(rank, n_chunk, world, device=device)
                    ctx.global_batch = n_chunk
                    batch = [t[ctx.rows] for t in batch]
                    w = None if w is None else w[ctx.rows]
                else:  # too few rows to share: rank 0 counts them
                    ctx.rows, scale = None, float(rank == 0)
            sums.add(self.module(*batch, ctx=ctx), scale, weight=w)
        if self.world is not None:
            sums.all_reduce()
        return sums.as_dict()

    def _finite(self, losses: list[torch.Tensor]) -> tuple[bool, bool]:
        """Whether ``losses`` are finite, and whether the module's weights are."""
        values, weights_finite = self._check(losses)
        return all(map(math.isfinite, values)), weights_finite

    def _check(self, losses: list[torch.Tensor]) -> tuple[list[float], bool]:
        """The values of the scalar ``losses``, and whether the weights are finite.

        One read from the device: the weights are checked by their largest
        magnitude, one reduction per dtype (see :class:`_MaxAbs`).
        """
        values = [v.detach().reshape(()) for v in losses]
        if self._weights:
            if self._max_abs is not None:
                values += self._max_abs(self._weights)
            else:
                values += list(torch._foreach_norm(self._weights, math.inf))
        if not values:
            return [], True
        n = len(losses)
        device, dtype = values[0].device, values[0].dtype
        if all(v.device == device and v.dtype == dtype for v in values):
            read = torch.stack(values).tolist()
            return read[:n], all(map(math.isfinite, read[n:]))
        flags = torch.stack([torch.isfinite(v).to(device) for v in values]).tolist()
        return [float(v) for v in values[:n]], all(flags[n:])

    def run_epoch(
        self,
        train: Sequence[torch.Tensor],
        valid: Sequence[torch.Tensor] | None,
        epoch: int,
        weights: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None),
    ) -> dict[str, Any]:
        """Train one epoch, validate, and return the epoch's history record.

        ``weights`` are the rows' weights of ``train`` and ``valid`` (None:
        every row weighs 1); the record's losses are weighted means.
        """
        self.notify("on_epoch_begin", epoch=epoch)
        start = time.perf_counter()
        snapshot = self._snapshot.take(self.module, self.optimizer)
        try:
            sums, beta = self._train_epoch(train, epoch, weights[0])
        except KeyboardInterrupt:
            # an interrupt keeps the weights it finds, if they are finite
            if not all(self._finite([])):
                _restore(self.module, self.optimizer, snapshot.restorable())
            raise
        means = sums.as_dict(_total(train, weights[0]))
        losses, weights_finite = self._check([means[f] for f in self.loss_fields])
        loss_finite = all(map(math.isfinite, losses))
        if not (loss_finite and weights_finite):
            _restore(self.module, self.optimizer, snapshot.restorable())
            what = "training loss" if not loss_finite else "weights"
            raise NonFiniteLossError(
                f"The {what} became non-finite at epoch {epoch + 1}; "
                f"the weights were restored to the end of epoch {epoch}. "
                "Scale the data (StandardScaler for real values, MinMaxScaler "
                "to [0, 1] for likelihood='bernoulli'), lower "
                "learning_rate_init, or set max_grad_norm."
            )
        if self.loss_fields[0] == "loss":  # read with the check
            train_loss = losses[0]
        else:
            train_loss = float(means["loss"])
        record = {"epoch": epoch + 1, "train_loss": train_loss}
        record.update(self.summarize(means))
        record["beta"] = beta
        if valid is not None:
            vsums = self.evaluate(valid, weight=weights[1])
            record["valid_loss"] = float(vsums["loss"]) / _total(valid, weights[1])
        record["dur"] = time.perf_counter() - start
        return record

    def fit(
        self,
        train: Sequence[torch.Tensor],
        valid: Sequence[torch.Tensor] | None,
        *,
        history: list[dict[str, Any]],
        max_epochs: int,
        n_iter_no_change: int,
        tol: float,
        stop_early: bool = True,
        weights: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None),
    ) -> TrainResult:
        """Train for up to ``max_epochs`` epochs, stopping as MLPRegressor does.

        With ``valid`` the best weights on the validation loss are restored at
        the end; without it, training stops when the training loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs (counted once the
        KL warm-up is over; under the cyclical schedule, the last epoch of
        each period, see :meth:`KLSchedule.comparable`). Each epoch's record
        is appended to ``history`` (whose length is the number of epochs
        trained before). A non-finite loss
        or non-finite weights at the end of an epoch restore the weights of the
        epoch before and raise :class:`NonFiniteLossError`.

        ``KeyboardInterrupt`` (Ctrl-C) keeps the weights reached (the best
        ones on the validation loss, with ``valid``; those of the epoch
        before, were they not finite), warns, calls ``on_train_end`` and is
        raised again, so that whatever runs the fit (a search, a script)
        stops too. :attr:`result` holds what was done until then.

        A callback that sets :attr:`should_stop` ends training after the
        current epoch, as if ``max_epochs`` were reached there (the best
        weights are restored with ``valid``); ``result.stopped`` says so.
        ``on_epoch_end`` is called once the record is in ``history`` and the
        epoch counted for early stopping; ``on_train_end`` however training
        ends.

        ``weights`` holds the rows' weights of ``train`` and ``valid`` (None:
        every row weighs 1), see :meth:`train_epoch`.
        """
        result = self.result = TrainResult()
        self.start_epoch = start_epoch = len(history)
        self.n_epochs = max_epochs
        self.should_stop = False
        self.stop_reason = None
        self.device = train[0].device
        self._hooks = {}  # the callbacks' hooks, looked up again
        best_state = None
        no_improvement = 0
        if self.world is not None:
            self._check_same_rows(train[0])
        if self.world is not None and max_epochs > 0:
            left = train[0].shape[0] % self.batch_size
            # (fewer than min_batch_rows join the batch before)
            if self.min_batch_rows <= left < self.world[1]:
                warnings.warn(
                    f"The last batch of each epoch holds {left} row(s), fewer "
                    f"than the {self.world[1]} ranks that share every batch: it "
                    "is skipped, and the fit differs from one process's. Choose "
                    "a batch_size that leaves no such remainder.",
                    UserWarning,
                    stacklevel=2,
                )
        self.notify("on_train_begin", n_epochs=max_epochs, estimator=self.estimator)
        try:
            for epoch in range(start_epoch, start_epoch + max_epochs):
                if self.should_stop:
                    result.stopped = True
                    break
                record = self.run_epoch(train, valid, epoch, weights)
                history.append(record)
                if not stop_early or not self.kl.comparable(epoch, valid is None):
                    self.notify("on_epoch_end", record=record)
                    continue
                score = record["valid_loss" if valid is not None else "train_loss"]
                if score < result.best_loss - tol:
                    no_improvement = 0
                else:
                    no_improvement += 1
                if score < result.best_loss:
                    result.best_loss = score
                    if valid is not None:
                        best_state = _clone_tree(self.module.state_dict())
                self.notify("on_epoch_end", record=record)
                if no_improvement >= n_iter_no_change:
                    result.converged = True
                    break
            else:
                result.stopped = self.should_stop and max_epochs > 0
        except KeyboardInterrupt:
            result.interrupted = True
            if best_state is not None:
                self.module.load_state_dict(best_state)
            warnings.warn(
                "Training interrupted by the user; the model keeps the weights "
                "it had reached.",
                stacklevel=3,
            )
            self.notify("on_train_end", result=result)
            raise
        except BaseException:
            # release what callbacks hold (a progress bar, a file), then raise
            with contextlib.suppress(Exception):
                self.notify("on_train_end", result=result)
            raise
        if best_state is not None:
            self.module.load_state_dict(best_state)
        self._share_buffers()
        self.notify("on_train_end", result=result)
        return result

    def _check_same_rows(self, rows: torch.Tensor) -> None:
        """Refuse ranks that were given different rows (each its own shard).

        Every rank must pass the same data to ``fit``: each trains on its
        share of every batch of it. Shards of different sizes hung the
        ranks; shards of one size trained each rank on half of its own
        rows, silently; so did the same rows in another order. The ranks
        compare their row counts and a key of their rows' values and places
        (:func:`skvae._torch.tensor_row_keys`).
        """
        import torch.distributed as dist

        n = rows.shape[0]
        if isinstance(rows, torch.Tensor):
            keys = tensor_row_keys(rows)
        else:  # SparseRows: each row's stored entries, by their columns
            matrix = rows.matrix
            with np.errstate(over="ignore"):
                bits = matrix.data.astype(np.float64).view(np.uint64)
                columns = matrix.indices.astype(np.uint64) + _GOLDEN
                entries = _mix64(bits ^ _mix64(columns))
                sums = np.add.reduceat(np.r_[entries, np.uint64(0)], matrix.indptr[:-1])
            keys = np.where(np.diff(matrix.indptr) > 0, sums, np.uint64(0))
        with np.errstate(over="ignore"):
            # each row's key mixed with its place: the ranks' rows must be
            # the same rows in the same order (each takes its rows of one
            # permutation of them)
            places = _mix64(np.arange(n, dtype=np.uint64) + _GOLDEN)
            key = _mix64(keys ^ places).sum(dtype=np.uint64)
        mine = torch.tensor([n, int(key.view(np.int64))], dtype=torch.int64)
        if dist.get_backend() == "nccl":
            mine = mine.to(self.device)
        found = [torch.empty_like(mine) for _ in range(self.world[1])]
        dist.all_gather(found, mine)
        found = [tuple(int(v) for v in f.tolist()) for f in found]
        if any(f != found[0] for f in found):
            raise ValueError(
                f"Under torchrun every rank passes the same rows to fit (each "
                f"trains on its share of every batch); the ranks' training rows "
                f"differ (rows per rank: {[f[0] for f in found]}). Pass every "
                "rank the whole data set, in one order, not its own shard."
            )

    def _share_buffers(self) -> None:
        """Give every rank rank 0's buffers (batch norm's running statistics).

        DistributedDataParallel sends rank 0's buffers to the others before
        each step's forward pass, which then updates each rank's own from its
        share of the rows: after the last step the ranks' buffers differed
        (a HierarchicalVAE's scores by up to 1.8 nats between ranks).
        """
        if self.world is None:
            return
        import torch.distributed as dist

        for buffer in self.module.buffers():
            dist.broadcast(buffer.data, 0)


#: Epochs whose training seeds :meth:`Trainer.generator` derives at once.
_SEED_BLOCK = 64

#: numpy's SeedSequence constants (numpy/random/bit_generator.pyx).
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_POOL_SIZE = 4


def _spawn_block(prefix: Sequence[int], first: int, count: int) -> list[int]:
    """``spawn(*prefix, e)`` for the ``count`` epochs ``e`` from ``first``, at once.

    numpy's ``SeedSequence(entropy).generate_state(1)[0]`` (what
    :func:`skvae._torch.spawn` returns) computed on arrays of uint32, one
    entry per epoch: the same hash of the same words (every word of
    ``prefix`` and each epoch below 2**32, one entropy word each), the
    same seeds. One call costs about what a few ``SeedSequence`` do.
    """
    mask = 0xFFFFFFFF
    shift = np.uint32(16)
    words = [np.full(count, w, dtype=np.uint32) for w in prefix]
    words.append(np.arange(first, first + count, dtype=np.uint64).astype(np.uint32))
    hash_const = _INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_A) & mask
        value = value * np.uint32(hash_const)
        return value ^ (value >> shift)

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
        return result ^ (result >> shift)

    zero = np.zeros(count, dtype=np.uint32)
    pool = [hashmix(words[i] if i < len(words) else zero) for i in range(_POOL_SIZE)]
    for i_src in range(_POOL_SIZE):
        for i_dst in range(_POOL_SIZE):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    for i_src in range(_POOL_SIZE, len(words)):
        for i_dst in range(_POOL_SIZE):
            pool[i_dst] = mix(pool[i_dst], hashmix(words[i_src]))
    # generate_state(1): the first word of the pool, hashed once more
    state = (pool[0] ^ np.uint32(_INIT_B)) * np.uint32((_INIT_B * _MULT_B) & mask)
    return (state ^ (state >> shift)).tolist()


class _Sums:
    """Running sums over the batch dimension of every term, kept on the device.

    All terms are flattened into one row per sample and summed in one
    reduction, so the cost per batch does not grow with the number of terms.
    """

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.layout: list[tuple[str, torch.Size]] = []
        self.columns = False  # every term one or a few columns a row

    def add(
        self, terms: Any, scale: float = 1.0, weight: torch.Tensor | None = None
    ) -> None:
        if self.total is None:
            self.layout = [
                (name, v.shape[1:])
                for name, v in zip(terms._fields, terms, strict=True)
            ]
            self.columns = all(len(shape) <= 1 for _, shape in self.layout)
        if self.columns:  # the same matrix in one call
            rows = torch.column_stack([v.detach() for v in terms])
        else:
            rows = torch.cat([v.detach().reshape(v.shape[0], -1) for v in terms], dim=1)
        if weight is not None:
            rows = rows * weight.to(rows.dtype)[:, None]
        flat = rows.sum(0)
        if scale != 1.0:
            flat = flat * scale
        if self.total is None:
            self.total = flat
        else:
            self.total += flat

    def all_reduce(self) -> None:
        """Sum the totals over the ranks of distributed training (else no-op)."""
        if distributed_world() is None:
            return
        import torch.distributed as dist

        if self.total is None:
            raise RuntimeError("A rank had no batch to train on.")
        dist.all_reduce(self.total)

    def as_dict(self, divisor: float | None = None) -> dict[str, torch.Tensor]:
        """The sums by term name, each with its term's shape (less the batch).

        With ``divisor``, the sums divided by it (the means), in one division.
        """
        assert self.total is not None
        total = self.total if divisor is None else self.total / divisor
        sizes = [math.prod(shape) for _, shape in self.layout]
        return {
            name: part.reshape(shape)
            for (name, shape), part in zip(self.layout, total.split(sizes), strict=True)
        }


def _batch_mean(
    values: torch.Tensor, weight: torch.Tensor | None, w_mean: torch.Tensor | None
) -> torch.Tensor:
    """The batch mean of per-row ``values``, weighted as :meth:`Trainer.train_epoch`.

    ``sum(weight * values) / (batch * w_mean)``, with ``w_mean`` the mean
    weight of all training rows: unbiased for the weighted mean over the
    data, and equal to it on a batch of every row.
    """
    if weight is None:
        return values.mean()
    return (values * weight.to(values.dtype)).sum() / (values.shape[0] * w_mean)


def _total(data: Sequence[torch.Tensor], weight: torch.Tensor | None) -> float:
    """What sums over ``data`` are divided by for a mean: rows, or their weight."""
    return float(data[0].shape[0]) if weight is None else float(weight.sum())


def _params_of(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _scalar_means(means: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Default summary: every scalar term except the loss, as a float."""
    return {k: float(v) for k, v in means.items() if v.ndim == 0 and k != "loss"}


#: Where a tensor was in a hollowed tree (:func:`_hollow`).
_LEAF = object()


def _hollow(obj: Any, leaves: list[torch.Tensor]) -> Any:
    """``obj`` with its tensors appended to ``leaves`` and replaced by ``_LEAF``."""
    if isinstance(obj, torch.Tensor):
        leaves.append(obj)
        return _LEAF
    if isinstance(obj, dict):
        return {k: _hollow(v, leaves) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_hollow(v, leaves) for v in obj]
    return obj


def _hollow_optimizer(state: Any, leaves: list[torch.Tensor]) -> Any:
    """:func:`_hollow` of an optimiser's ``state_dict``, quicker on torch's.

    In torch's format (``state``: a dict of dicts by parameter index;
    ``param_groups``: dicts that ``state_dict`` built afresh, with no
    tensor), only the per-parameter entries are rebuilt; anything else
    (a :class:`MultiOptimizer`'s list) goes through :func:`_hollow`.
    """
    if (
        not isinstance(state, dict)
        or state.keys() != {"state", "param_groups"}
        or not isinstance(state["state"], dict)
        or any(
            isinstance(v, torch.Tensor)
            for group in state["param_groups"]
            for v in group.values()
        )
    ):
        if isinstance(state, dict) and list(state) == ["optimizers"]:
            return {
                "optimizers": [
                    _hollow_optimizer(s, leaves) for s in state["optimizers"]
                ]
            }
        return _hollow(state, leaves)
    entries = {}
    for key, entry in state["state"].items():
        if isinstance(entry, dict):
            hollow = {}
            for name, value in entry.items():
                if isinstance(value, torch.Tensor):
                    leaves.append(value)
                    hollow[name] = _LEAF
                else:
                    hollow[name] = _hollow(value, leaves)
            entries[key] = hollow
        else:
            entries[key] = _hollow(entry, leaves)
    return {"state": entries, "param_groups": state["param_groups"]}


def _fill(obj: Any, leaves: Any) -> Any:
    """The inverse of :func:`_hollow`: ``_LEAF`` replaced by the next of ``leaves``."""
    if obj is _LEAF:
        return next(leaves)
    if isinstance(obj, dict):
        return {k: _fill(v, leaves) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, leaves) for v in obj]
    return obj


def _layout(tensors: Sequence[torch.Tensor]) -> list[tuple[Any, ...]]:
    return [(t.shape, t.dtype, t.device) for t in tensors]


class _Snapshot:
    """Copies of the weights and optimiser state: an epoch's restore point.

    The copies are kept from one epoch to the next and overwritten in place
    (one ``_foreach_copy_``) while the tensors copied are the same objects,
    so that taking a restore point every epoch allocates nothing. The
    module's tensors are read from its ``state_dict`` once: as the trainer's
    finiteness check, the snapshot takes the module's tensors to be the
    same objects over a trainer's life (training updates them in place);
    the optimiser's state, created at its first step and replaced by its
    ``load_state_dict``, is read again whenever it may have changed (for
    torch's Adam, which updates its state in place: when its state dict, the
    number of entries or a group's settings changed, see :func:`_adam_key`;
    for other optimisers, at each snapshot). :meth:`restorable` hands
    out fresh copies: an optimiser's ``load_state_dict`` keeps the tensors
    it is given, which must not be the buffers that the next epoch
    overwrites.
    """

    def __init__(self) -> None:
        self.buffers: list[torch.Tensor] = []
        self.sources: list[torch.Tensor] = []  # what the buffers copy
        self.names: list[str] = []
        self.weights: list[torch.Tensor] | None = None  # the module's tensors
        self.tree: Any = None
        self.key: Any = None  # the optimiser's _adam_key at the last walk
        self.held: list[Any] = []

    def take(self, module: nn.Module, optimizer: Any) -> _Snapshot:
        """Copy the weights and optimiser state of now; return ``self``."""
        if self.weights is None:
            weights = module.state_dict(keep_vars=True)
            self.names, self.weights = list(weights), list(weights.values())
        key = _adam_key(optimizer)
        if key is None or key != self.key:
            leaves = list(self.weights)
            self.tree = _hollow_optimizer(optimizer.state_dict(), leaves)
            self.key = key
            # what the key's ids are of, alive while the key is compared
            subs = getattr(optimizer, "optimizers", [optimizer])
            self.held = [(o.state, [g["params"] for g in o.param_groups]) for o in subs]
        else:  # the same state tensors and settings as last time
            leaves = self.sources
        with torch.no_grad():
            if len(leaves) == len(self.sources) and all(
                map(operator.is_, leaves, self.sources)
            ):
                if leaves:
                    torch._foreach_copy_(self.buffers, leaves)
            else:
                self.buffers = [t.detach().clone() for t in leaves]
                self.sources = leaves
        return self

    def restorable(self) -> tuple[Any, Any]:
        """The (weights, optimiser state) of :func:`_restore`, safe to load."""
        copies = [t.clone() for t in self.buffers]
        n = len(self.names)
        weights = dict(zip(self.names, copies[:n], strict=True))
        return weights, _fill(self.tree, iter(copies[n:]))


#: The settings of a parameter group of torch's Adam that
#: :class:`_FusedAdamStep` knows; a group with others is stepped by torch.
_ADAM_KEYS = frozenset(
    (
        "params",
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "maximize",
        "foreach",
        "capturable",
        "differentiable",
        "fused",
        "decoupled_weight_decay",
    )
)


class _FusedAdamStep:
    """``optimizer.step()`` of a fused torch Adam, as one kernel call per group.

    What torch's step runs for fused Adam on one device and dtype
    (``torch._foreach_add_`` of the step counts, then ``torch._fused_adam_``
    with the group's settings), without its wrapping: the profiler record,
    the hooks' dispatch, the grad-mode and dynamo guards and the lists
    rebuilt by ``_init_group`` (together as long as the kernel on a small
    model). Only for a plain ``torch.optim.Adam``; at each call, torch's own
    step runs instead where the kernel call would not do all that it does:
    a group with a setting other than the known ones, not fused, or with
    amsgrad, capturable, differentiable or decoupled weight decay; a step
    hook (the optimiser's or a global one) or a patched ``step`` (an LR
    scheduler's); a learning rate or beta that is a tensor; a group whose
    parameters are not all real and of one device and dtype; a parameter
    with a gradient and no state yet (the first step creates it).
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.checked: dict[int, tuple[list[torch.Tensor], bool]] = {}
        self.broken = not hasattr(torch, "_fused_adam_")  # torch's step then

    @classmethod
    def of(cls, optimizer: Any) -> _FusedAdamStep | None:
        """The direct step of ``optimizer``, or None for other optimisers."""
        return cls(optimizer) if type(optimizer) is torch.optim.Adam else None

    def _uniform(self, params: list[torch.Tensor]) -> bool:
        """Whether ``params`` are real tensors of one device and dtype (cached)."""
        seen = self.checked.get(id(params))
        if seen is None or seen[0] is not params:
            first = params[0] if params else None
            ok = first is not None and all(
                p.device == first.device
                and p.dtype == first.dtype
                and not p.is_complex()
                for p in params
            )
            seen = self.checked[id(params)] = (params, ok)
        return seen[1]

    def _direct(self) -> bool:
        """Whether the kernel call does all that ``optimizer.step()`` would."""
        optimizer = self.optimizer
        if (
            "step" in vars(optimizer)
            or optimizer._optimizer_step_pre_hooks
            or optimizer._optimizer_step_post_hooks
            or getattr(_torch_optimizer, "_global_optimizer_pre_hooks", True)
            or getattr(_torch_optimizer, "_global_optimizer_post_hooks", True)
            or getattr(optimizer, "grad_scale", None) is not None
            or getattr(optimizer, "found_inf", None) is not None
        ):
            return False
        for group in optimizer.param_groups:
            if (
                group.keys() != _ADAM_KEYS
                or group["fused"] is not True
                or group["amsgrad"]
                or group["capturable"]
                or group["differentiable"]
                or group["decoupled_weight_decay"]
                or isinstance(group["lr"], torch.Tensor)
                or any(isinstance(b, torch.Tensor) for b in group["betas"])
                or not self._uniform(group["params"])
            ):
                return False
        return True

    def __call__(self) -> None:
        optimizer = self.optimizer
        if self.broken or not self._direct():
            optimizer.step()
            return
        state = optimizer.state
        calls = []
        for group in optimizer.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            entries = [state.get(p) for p in params]
            if not all(entries):  # the first step creates the state
                optimizer.step()
                return
            calls.append((group, params, entries))
        with torch.no_grad():
            for done, (group, params, entries) in enumerate(calls):
                steps = [e["step"] for e in entries]
                torch._foreach_add_(steps, 1)
                try:
                    self._kernel(group, params, entries, steps)
                except (AttributeError, TypeError):
                    if done:  # groups already stepped: nothing to take back
                        raise
                    # another torch's private kernel: torch's own step from now on
                    torch._foreach_sub_(steps, 1)
                    self.broken = True
                    optimizer.step()
                    return

    @staticmethod
    def _kernel(group: dict, params: list, entries: list, steps: list) -> None:
        """The fused kernel on one group's parameters, as torch's step calls it."""
        torch._fused_adam_(
            params,
            [p.grad for p in params],
            [e["exp_avg"] for e in entries],
            [e["exp_avg_sq"] for e in entries],
            [],
            steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=group["betas"][0],
            beta2=group["betas"][1],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            grad_scale=None,
            found_inf=None,
        )


def _adam_key(optimizer: Any) -> tuple[Any, ...] | None:
    """What the ``state_dict`` of torch Adams (or a MultiOptimizer of them) depends on.

    Adam updates the tensors of its state in place; the state dict holds
    other tensors only after the first step creates them (more entries) or
    after ``load_state_dict`` (a new dict). So, while the state dicts (the
    objects themselves), their sizes and the groups' parameters and
    settings are the same, ``state_dict()`` has the same structure, values
    and tensors. None (unknown) for other optimisers, state-dict hooks or
    a tensor among a group's settings.
    """
    subs = optimizer.optimizers if type(optimizer) is MultiOptimizer else [optimizer]
    key: list[Any] = []
    for o in subs:
        if (
            type(o) is not torch.optim.Adam
            or o._optimizer_state_dict_pre_hooks
            or o._optimizer_state_dict_post_hooks
        ):
            return None
        # ids, of objects that the snapshot holds (:attr:`_Snapshot.held`)
        key += [id(o.state), len(o.state)]
        for group in o.param_groups:
            for name, value in group.items():
                if name == "params":
                    key += [name, id(value), len(value)]
                elif isinstance(value, (torch.Tensor, list, dict)):
                    return None
                else:
                    key += [name, value]
    return tuple(key)


class _MaxAbs:
    """The largest magnitude of a list of tensors, one reduction per dtype.

    The tensors are copied into one flat buffer per device and dtype (kept
    between calls) and reduced there: ``inf`` or ``nan`` when an entry is
    not finite, and, unlike a sum of squares, it cannot overflow.
    """

    def __init__(self) -> None:
        self.layout: list[tuple[Any, ...]] = []
        self.flats: list[torch.Tensor] = []
        self.views: list[torch.Tensor] = []
        self.order: list[int] = []
        self.source: Sequence[torch.Tensor] | None = None

    def __call__(self, tensors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        # the trainer passes the same list each epoch: its layout is known
        layout = self.layout if tensors is self.source else _layout(tensors)
        self.source = tensors
        if layout != self.layout:
            groups: dict[tuple[Any, Any], list[int]] = {}
            for i, t in enumerate(tensors):
                groups.setdefault((t.dtype, t.device), []).append(i)
            self.flats, self.views, self.order = [], [], []
            for (dtype, device), members in groups.items():
                sizes = [tensors[i].numel() for i in members]
                flat = torch.empty(sum(sizes), dtype=dtype, device=device)
                self.flats.append(flat)
                for i, view in zip(members, flat.split(sizes), strict=True):
                    self.views.append(view.view(tensors[i].shape))
                self.order += members
            self.layout = layout
        with torch.no_grad():
            torch._foreach_copy_(self.views, [tensors[i] for i in self.order])
            return [flat.abs().max() for flat in self.flats]


def _clone_tree(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone_tree(v) for v in obj]
    return obj


def _restore(
    module: nn.Module, optimizer: torch.optim.Optimizer, snapshot: tuple[Any, Any]
) -> None:
    module.load_state_dict(snapshot[0])
    optimizer.load_state_dict(snapshot[1])
