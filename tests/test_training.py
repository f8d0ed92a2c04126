"""The training loop's restore point (skvae._training.Trainer)."""

from __future__ import annotations

import copy
from typing import NamedTuple

import pytest
import torch
from torch import nn

from skvae._training import Callback, NonFiniteLossError, Trainer


class Terms(NamedTuple):
    loss: torch.Tensor


class Regression(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))

    def forward(self, x, y, ctx):
        return Terms(loss=(self.net(x)[:, 0] - y).square())


class Poison(Callback):
    """Keeps a copy of the state after each epoch; poisons the weights at ``bad``."""

    def __init__(self) -> None:
        self.bad, self.saved = None, {}

    def on_epoch_begin(self, trainer, epoch, **kwargs):
        self.epoch = epoch

    def on_batch_end(self, trainer, **kwargs):
        if self.epoch == self.bad:
            next(trainer.module.parameters()).data.fill_(float("nan"))

    def on_epoch_end(self, trainer, record, **kwargs):
        self.saved[record["epoch"]] = (
            copy.deepcopy(trainer.module.state_dict()),
            copy.deepcopy(trainer.optimizer.state_dict()),
        )


def _trainer(module, callbacks):
    """A trainer of ``module`` by Adam, batches of 8."""
    return Trainer(
        module,
        torch.optim.Adam(module.parameters(), lr=0.01),
        batch_size=8,
        callbacks=callbacks,
    )


def _assert_state(trainer, saved):
    weights, moments = saved
    for key, value in trainer.module.state_dict().items():
        torch.testing.assert_close(value, weights[key], rtol=0, atol=0)
    state = trainer.optimizer.state_dict()["state"]
    assert state.keys() == moments["state"].keys()
    for i, entry in state.items():
        for name, value in entry.items():
            torch.testing.assert_close(value, moments["state"][i][name], rtol=0, atol=0)


def test_successive_restores_give_the_last_good_state_each_time():
    """A restore must not hand the optimiser the reused snapshot buffers."""
    torch.manual_seed(0)
    module = Regression()
    poison = Poison()
    trainer = _trainer(module, [poison])
    x, y = torch.randn(32, 3), torch.randn(32)
    history: list = []
    settings = dict(max_epochs=5, n_iter_no_change=100, tol=0.0)
    poison.bad = 2
    with pytest.raises(NonFiniteLossError, match="epoch 3"):
        trainer.fit([x, y], None, history=history, **settings)
    assert len(history) == 2
    _assert_state(trainer, poison.saved[2])
    # the same trainer again: a good epoch, then a bad one, twice over
    for attempt in range(2):
        poison.bad = 3
        with pytest.raises(NonFiniteLossError, match="epoch 4"):
            trainer.fit([x, y], None, history=history, **settings)
        assert len(history) == 3
        _assert_state(trainer, poison.saved[3])
        poison.bad = None
        if attempt == 0:  # drop the good epoch, to be trained again
            history.pop()
            trainer.module.load_state_dict(poison.saved[2][0])
            trainer.optimizer.load_state_dict(copy.deepcopy(poison.saved[2][1]))


def test_a_restore_fails_on_the_first_epoch_of_a_fit_too():
    """Two fits of one trainer that fail at once both end at the same state."""
    torch.manual_seed(1)
    module = Regression()
    poison = Poison()
    trainer = _trainer(module, [poison])
    x, y = torch.randn(32, 3), torch.randn(32)
    history: list = []
    settings = dict(n_iter_no_change=100, tol=0.0)
    trainer.fit([x, y], None, history=history, max_epochs=2, **settings)
    poison.bad = 2
    for _ in range(2):  # the second restore must not see the first's tensors
        with pytest.raises(NonFiniteLossError, match="epoch 3"):
            trainer.fit([x, y], None, history=history, max_epochs=2, **settings)
        _assert_state(trainer, poison.saved[2])


class Interrupt(Poison):
    """Ctrl-C in the middle of epoch ``bad``, the weights poisoned or not."""

    def __init__(self, poison: bool) -> None:
        super().__init__()
        self.poison = poison

    def on_batch_end(self, trainer, **kwargs):
        if self.epoch == self.bad:
            if self.poison:
                super().on_batch_end(trainer, **kwargs)
            else:
                self.reached = copy.deepcopy(trainer.module.state_dict())
            raise KeyboardInterrupt


@pytest.mark.parametrize("poison", [True, False])
def test_an_interrupt_restores_only_non_finite_weights(poison):
    torch.manual_seed(2)
    module = Regression()
    ctrl_c = Interrupt(poison)
    trainer = _trainer(module, [ctrl_c])
    x, y = torch.randn(32, 3), torch.randn(32)
    history: list = []
    ctrl_c.bad = 2
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="interr"):
        trainer.fit(
            [x, y], None, history=history, max_epochs=5, n_iter_no_change=99, tol=0
        )
    assert len(history) == 2
    assert trainer.result.interrupted
    if poison:  # back to the end of the last epoch
        _assert_state(trainer, ctrl_c.saved[2])
    else:  # the weights reached mid-epoch
        for key, value in trainer.module.state_dict().items():
            torch.testing.assert_close(value, ctrl_c.reached[key], rtol=0, atol=0)


class _Counting:
    """A mixin: its on_batch_end is not Callback's."""

    def on_batch_end(self, trainer, **kwargs):
        self.calls = getattr(self, "calls", 0) + 1


class _MixedIn(_Counting, Callback):
    pass


class _OnInstance(Callback):
    """The hook set on the instance, not the class."""

    def __init__(self) -> None:
        self.calls = 0
        self.on_batch_end = self._hit

    def _hit(self, trainer, **kwargs):
        self.calls += 1


class _DuckTyped:
    """No Callback base class: every hook of its own."""

    calls = 0

    def __getattr__(self, name):
        if name.startswith("on_"):
            return lambda trainer, **kwargs: None
        raise AttributeError(name)

    def on_batch_end(self, trainer, **kwargs):
        self.calls += 1


def test_every_kind_of_batch_hook_is_called():
    """Batch hooks are sent only to callbacks that have one, wherever it is
    defined: on the class, a mixin, the instance or a duck-typed object."""
    module = Regression()
    callbacks = [_MixedIn(), _OnInstance(), _DuckTyped()]
    trainer = _trainer(module, callbacks)
    x, y = torch.randn(32, 3), torch.randn(32)
    trainer.fit([x, y], None, history=[], max_epochs=2, n_iter_no_change=9, tol=0)
    assert [c.calls for c in callbacks] == [8, 8, 8]


def test_large_models_are_checked_for_non_finite_weights_too(monkeypatch):
    """Above the flat buffer's size the weights are reduced where they are;
    a NaN weight is caught and restored either way."""
    import skvae._training as training

    monkeypatch.setattr(training, "_FLAT_CHECK_MAX", 10)
    torch.manual_seed(3)
    module = Regression()
    poison = Poison()
    trainer = _trainer(module, [poison])
    assert trainer._max_abs is None
    x, y = torch.randn(32, 3), torch.randn(32)
    poison.bad = 1
    with pytest.raises(NonFiniteLossError, match="weights"):
        trainer.fit([x, y], None, history=[], max_epochs=3, n_iter_no_change=9, tol=0)
    _assert_state(trainer, poison.saved[1])


def test_training_mode_is_set_every_epoch():
    """A submodule left in eval mode (after a validation pass, or by a
    callback) trains in training mode again at the next epoch."""

    class Dropped(Regression):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(0.5)

        def forward(self, x, y, ctx):
            assert self.drop.training
            return Terms(loss=(self.net(self.drop(x))[:, 0] - y).square())

    class Freeze(Callback):
        def on_epoch_end(self, trainer, **kwargs):
            trainer.module.drop.eval()

    module = Dropped()
    trainer = _trainer(module, [Freeze()])
    x, y = torch.randn(32, 3), torch.randn(32)
    trainer.fit([x, y], None, history=[], max_epochs=3, n_iter_no_change=9, tol=0)


def _adam_pair(lr=0.01):
    """Two copies of a module, each with its own fused Adam (as the estimators')."""
    from skvae._torch import adam

    torch.manual_seed(4)
    first = Regression()
    second = copy.deepcopy(first)
    return (first, adam(list(first.parameters()), lr)), (
        second,
        adam(list(second.parameters()), lr),
    )


def test_the_direct_fused_adam_step_is_torchs_step():
    """The kernel called directly gives torch's step bit for bit, through a
    change of learning rate and a reload of the state; an LR scheduler's
    patched step is left to torch."""
    from skvae._training import _FusedAdamStep

    (a, opt_a), (b, opt_b) = _adam_pair()
    direct = _FusedAdamStep.of(opt_a)
    assert direct is not None
    x, y = torch.randn(16, 3), torch.randn(16)
    for i in range(6):
        for module, opt, step in ((a, opt_a, direct), (b, opt_b, opt_b.step)):
            opt.zero_grad()
            module(x, y, None).loss.mean().backward()
            step()
        if i == 0:  # the first step made the state: the kernel from now on
            assert direct._direct() is opt_a.param_groups[0]["fused"]
        if i == 2:
            for opt in (opt_a, opt_b):
                opt.param_groups[0]["lr"] *= 0.5
        if i == 3:
            for opt in (opt_a, opt_b):
                opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        for key, value in opt_a.state[p].items():
            torch.testing.assert_close(value, opt_b.state[q][key], rtol=0, atol=0)
    torch.optim.lr_scheduler.StepLR(opt_a, step_size=1)
    assert not direct._direct()


def test_the_direct_step_falls_back_on_torchs_where_its_kernel_differs(monkeypatch):
    """Another torch whose private kernel takes other arguments: the step
    counts are taken back and torch's own step runs, now and after."""
    from skvae._training import _FusedAdamStep

    (a, opt_a), (b, opt_b) = _adam_pair()
    direct = _FusedAdamStep.of(opt_a)
    x, y = torch.randn(16, 3), torch.randn(16)
    calls = []

    def other_kernel(*args, **kwargs):  # as our call to another torch's kernel
        calls.append(1)
        raise TypeError("_fused_adam_() got an unexpected keyword argument")

    for i in range(4):
        if i == 1:  # after the first step made the state
            monkeypatch.setattr(_FusedAdamStep, "_kernel", staticmethod(other_kernel))
        for module, opt, step in ((a, opt_a, direct), (b, opt_b, opt_b.step)):
            opt.zero_grad()
            module(x, y, None).loss.mean().backward()
            step()
    assert direct.broken
    assert len(calls) == 1
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
        torch.testing.assert_close(opt_a.state[p]["step"], opt_b.state[q]["step"])


def test_a_multi_optimizer_steps_as_its_optimizers_do():
    """The trainer's step of a MultiOptimizer equals each torch step."""
    from skvae._training import MultiOptimizer

    torch.manual_seed(5)
    module = Regression()
    twin = copy.deepcopy(module)

    def multi(m):
        first, last = m.net[0], m.net[2]
        return MultiOptimizer(
            [
                torch.optim.Adam(first.parameters(), lr=0.01, fused=True),
                torch.optim.Adam(last.parameters(), lr=0.02, fused=True),
            ]
        )

    trainer = Trainer(module, multi(module), batch_size=8)
    reference = multi(twin)
    x, y = torch.randn(16, 3), torch.randn(16)
    step = trainer._step()
    for _ in range(3):
        for m, opt, do in ((module, trainer.optimizer, step), (twin, reference, None)):
            opt.zero_grad()
            m(x, y, None).loss.mean().backward()
            do() if do is not None else opt.step()
    for p, q in zip(module.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


class _HalveRate(Callback):
    """Halves the learning rate at the end of each epoch."""

    def on_epoch_end(self, trainer, **kwargs):
        for group in trainer.optimizer.param_groups:
            group["lr"] *= 0.5


def test_a_restore_brings_back_the_learning_rate_of_the_epochs_start():
    """The restore point follows the optimiser's settings changed between
    epochs (it reads them again when they change)."""
    torch.manual_seed(6)
    module = Regression()
    poison = Poison()
    trainer = _trainer(module, [_HalveRate(), poison])
    x, y = torch.randn(32, 3), torch.randn(32)
    poison.bad = 2
    with pytest.raises(NonFiniteLossError, match="epoch 3"):
        trainer.fit([x, y], None, history=[], max_epochs=5, n_iter_no_change=9, tol=0)
    _assert_state(trainer, poison.saved[2])
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.0025, rel=0)


def test_sums_of_terms_of_any_shape():
    """Per-row terms of one, two and three dimensions are summed over rows,
    each back in its shape; the weighted sums weigh each row."""
    from skvae._training import _Sums

    class Mixed(NamedTuple):
        loss: torch.Tensor
        pair: torch.Tensor
        grid: torch.Tensor

    class Flat(NamedTuple):
        loss: torch.Tensor
        pair: torch.Tensor

    torch.manual_seed(7)
    batches = [
        Mixed(torch.randn(5), torch.randn(5, 2), torch.randn(5, 2, 3)) for _ in range(2)
    ]
    for drop_grid in (False, True):
        sums = _Sums()
        for terms in batches:
            sums.add(Flat(*terms[:2]) if drop_grid else terms)
        assert sums.columns is drop_grid
        out = sums.as_dict(2.0)
        for name in ("loss", "pair") + (() if drop_grid else ("grid",)):
            expected = sum(getattr(t, name).sum(0) for t in batches) / 2.0
            torch.testing.assert_close(out[name], expected)


@pytest.mark.parametrize(
    "prefix", [(0, 0), (2**32 - 1, 8, 1), (123456789, 6, 0, 2**31, 7, 2**32 - 1)]
)
def test_seeds_of_a_block_of_epochs_are_spawns(prefix):
    """The epochs' seeds derived at once are skvae._torch.spawn's, one by one
    (short and long entropy, the extreme words), and a trainer's epochs
    draw from them as from make_generator."""
    from skvae._torch import Stream, make_generator, spawn
    from skvae._training import _spawn_block

    first = 2**32 - 70 if prefix[0] == 0 else 3
    assert _spawn_block(prefix, first, 64) == [
        spawn(*prefix, e) for e in range(first, first + 64)
    ]
    trainer = Trainer(
        Regression(),
        torch.optim.SGD([nn.Parameter(torch.zeros(1))]),
        batch_size=4,
        seed=prefix[0],
        stream_ids=(5,),
    )
    cpu = torch.device("cpu")
    for epoch in (0, 1, 2, 70, 1):
        expected = make_generator(prefix[0], Stream.TRAIN, 5, epoch, device=cpu)
        got = trainer.generator(epoch, cpu)
        assert torch.equal(
            torch.rand(3, generator=got), torch.rand(3, generator=expected)
        )


def test_the_training_loss_is_compared_from_the_first_epoch_at_full_weight():
    # the warm-up's last epoch averages a weight still rising (a lower loss):
    # compared, it passed for the best and the fit stopped while improving
    import warnings

    import numpy as np

    from skvae import VAE

    X = np.random.RandomState(0).rand(60, 5)
    params = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # every comparison fails at this tol: the stop comes at the first
        # chance, n_iter_no_change epochs after the first compared one
        vae = VAE(kl_warmup=3, n_iter_no_change=2, tol=1e9, random_state=0, **params)
        assert vae.fit(X).n_iter_ == 3 + 2 + 1
