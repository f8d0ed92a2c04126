"""Every parameter of every estimator has an effect, or refuses what it cannot do.

For each public estimator and each parameter it takes, a tiny model is fitted
with the parameter at its default and at another value (in the context that
the parameter acts in, e.g. ``validation_fraction`` with early stopping), and
what the model computes is compared: its outputs, its losses, its network and
its samples. The other value must change something, or the fit must refuse
it with a ValueError or TypeError that says why. A parameter that is accepted
and silently ignored fails here.
"""

import contextlib
import copy
import io
import logging
import math
from numbers import Integral, Real

import numpy as np
import pytest
import torch
from conftest import estimator_classes, tiny
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

import skvae
from skvae import VAE, Callback, ConditionalVAE, VAEImputer

RNG = np.random.RandomState(0)
# In [0, 1] (a valid Bernoulli likelihood), 16 columns (a 1x4x4 image).
X = RNG.uniform(size=(48, 16))
Y = np.arange(48) % 3
X_HOLES = X.copy()
X_HOLES[RNG.uniform(size=X.shape) < 0.1] = np.nan


class Linear(nn.Module):
    """A user network: one linear layer of the width skvae asks for."""

    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.layer = nn.Linear(n_inputs, n_outputs)

    def forward(self, x):
        return self.layer(x)


# The other value of a parameter, and the settings it acts under; the
# baseline fit has the same settings with the parameter at its default.
OTHER = {
    "n_components": (3, {}),
    "hidden_layer_sizes": ((5,), {}),
    "activation": ("tanh", {}),
    "likelihood": ("bernoulli", {}),
    "min_variance": (50.0, {}),  # a floor far above the data's variance
    "batch_size": (7, {}),
    "learning_rate_init": (0.05, {}),
    "max_iter": (1, {}),
    "early_stopping": (True, {}),
    "validation_fraction": (0.5, {"early_stopping": True}),
    "n_iter_no_change": (1, {"tol": 1e6, "max_iter": 5}),
    # stops after the fourth epoch, where the baseline trains all eight
    "tol": (1e6, {"n_iter_no_change": 3, "max_iter": 8}),
    "max_grad_norm": (1e-4, {}),
    "precision": ("bfloat16", {}),
    "random_state": (1, {}),
    "encoder": (Linear, {}),
    "decoder": (Linear, {}),
    "input_shape": ((1, 4, 4), {}),
    "beta": (5.0, {}),
    "kl_warmup": (2, {}),
    "kl_schedule": ("cyclical", {"kl_warmup": 2}),
    "max_capacity": (2.0, {"kl_schedule": "capacity", "kl_warmup": 2, "beta": 10.0}),
    "free_bits": (0.5, {}),
    "objective": ("iwae", {}),
    "n_iwae_samples": (2, {"objective": "iwae"}),
    "n_importance_samples": (5, {}),
    "prior": ("vamp", {}),
    "n_pseudo_inputs": (3, {"prior": "vamp"}),
    "tc_weight": (1.0, {}),
    "log_var_penalty": (1.0, {"encoder_type": "gaussian"}),
    "discriminator_hidden_layer_sizes": ((5,), {}),
    "latent_hidden_layer_sizes": ((5,), {}),
    # restarts every code a batch leaves unused (the tiny 4 codes all get used)
    "dead_code_threshold": (10.0, {"n_codes": 64}),
    "contamination": (0.3, {}),
    "trim_fraction": (0.3, {}),
}
OTHER_BY_CLASS = {
    ("HierarchicalVAE", "n_components"): ((4, 3), {}),
    ("LadderVAE", "n_components"): ((4, 3), {}),
    # VaDE's per-dimension KL against its mixture starts above 1 nat
    ("VaDE", "free_bits"): (2.0, {}),
    # the tiny fit on noise is sure of no row at 0.99: above a third, of most
    ("SemiSupervisedVAE", "self_training"): (0.34, {}),
    ("VAEOutlierDetector", "estimator"): (tiny(VAE, n_components=3), {}),
    ("VAEImputer", "estimator"): (tiny(VAE, n_components=3), {}),
    ("VAEOverSampler", "estimator"): (tiny(ConditionalVAE, n_components=3), {}),
    # Y's classes are balanced: the sampler makes rows only when asked to
    ("VAEOverSampler", "latent"): ("prior", {"sampling_strategy": {0: 30}}),
    ("VAEOverSampler", "noise"): (False, {"sampling_strategy": {0: 30}}),
    ("VAEOverSampler", "k_neighbors"): (0, {"sampling_strategy": {0: 30}}),
    ("VAEOverSampler", "step"): (0.5, {"sampling_strategy": {0: 30}}),
    ("VAEOverSampler", "avoid_others"): (True, {"sampling_strategy": {0: 30}}),
    ("VAEOverSampler", "keep_class"): (True, {"sampling_strategy": {0: 30}}),
}
# Parameters checked by a test of their own rather than by comparing fits.
CHECKED_APART = {"verbose", "callbacks", "compile", "warm_start", "missing"}


def _other_value(cls, name, default):
    """Another valid value of ``name``, from the table or its constraints."""
    if (cls.__name__, name) in OTHER_BY_CLASS:
        return OTHER_BY_CLASS[cls.__name__, name]
    if name in OTHER:
        return OTHER[name]
    constraints = cls._parameter_constraints[name]
    if isinstance(default, str):  # "auto": a number where one is allowed
        for constraint in constraints:
            if isinstance(constraint, Interval):
                low = 0 if constraint.left is None else constraint.left
                return (low + 3 if constraint.type is Integral else low + 0.5), {}
    for constraint in constraints:
        if isinstance(constraint, StrOptions):
            others = sorted(constraint.options - {default})
            if others:
                return others[0], {}
        if constraint == "boolean":
            return not default, {}
        if isinstance(constraint, Interval) and isinstance(default, Real):
            if constraint.type is Integral:
                value = default + 1
            else:
                value = default * 3 if default else 0.5
            if constraint.right is not None and value >= constraint.right:
                value = (default + (constraint.left or 0)) / 2
            return value, {}
    raise AssertionError(f"no other value known for {cls.__name__}({name}=...)")


def _fit(est, data=X):
    with warnings_ignored():
        if isinstance(est, ClassifierMixin):
            y = Y.copy()
            y[::2] = -1  # semi-supervised: half the rows unlabelled
            return est.fit(data, y)
        if est.__sklearn_tags__().target_tags.required:
            return est.fit(data, Y)
        return est.fit(data)


@contextlib.contextmanager
def warnings_ignored():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _fingerprint(est):
    """What a fitted estimator computes, as a list of arrays and strings."""
    data = X_HOLES if isinstance(est, VAEImputer) else X
    out = []
    methods = ("transform", "score_samples", "decision_function", "predict")
    for method in (*methods, "predict_proba"):
        if hasattr(est, method):
            with warnings_ignored():
                out.append(np.asarray(getattr(est, method)(data), dtype=float))
    if hasattr(est, "fit_resample"):  # a sampler: the rows it makes
        with warnings_ignored():
            out.append(np.asarray(est.fit_resample(data, Y)[0], dtype=float))
    model = getattr(est, "estimator_", est)
    if hasattr(model, "sample"):
        out.append(np.asarray(model.sample(3, random_state=0), dtype=float))
    out.append(np.asarray(model.loss_curve_, dtype=float))
    out.append(repr(model.module_))
    return out


def _same(a, b):
    if len(a) != len(b):
        return False
    for u, v in zip(a, b, strict=True):
        if isinstance(u, str) or isinstance(v, str):
            if u != v:
                return False
        elif u.shape != v.shape or not np.allclose(u, v, equal_nan=True):
            return False
    return True


def _cases():
    for cls in estimator_classes(samplers=True):
        defaults = cls().get_params(deep=False)
        for name in sorted(defaults):
            if name in CHECKED_APART or name == "device":
                continue
            yield pytest.param(cls, name, id=f"{cls.__name__}-{name}")


@pytest.mark.parametrize(("cls", "name"), list(_cases()))
def test_every_parameter_has_an_effect_or_is_refused(cls, name):
    taken = cls().get_params(deep=False)
    value, context = _other_value(cls, name, taken[name])
    context = {k: v for k, v in context.items() if k in taken}
    baseline = _fingerprint(_fit(tiny(cls, **context)))
    try:
        changed = _fit(tiny(cls, **context, **{name: value}))
    except (ValueError, TypeError) as exc:
        message = str(exc)  # refused: it must say why
        assert message, f"{cls.__name__}({name}={value!r}) refused without a message"
        return
    assert not _same(baseline, _fingerprint(changed)), (
        f"{cls.__name__}({name}={value!r}) changed nothing"
    )


def _families():
    return [c for c in estimator_classes() if "max_iter" in c().get_params()]


@pytest.mark.parametrize("cls", _families(), ids=lambda c: c.__name__)
def test_verbose_reports_and_callbacks_are_called(cls):
    class Count(Callback):
        epochs = 0

        def on_epoch_end(self, trainer, **kwargs):
            Count.epochs += 1

    quiet, loud = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(quiet):
        _fit(tiny(cls))
    handler = logging.StreamHandler(loud)
    logging.getLogger("skvae").addHandler(handler)
    try:
        with contextlib.redirect_stdout(loud):
            model = _fit(tiny(cls, verbose=1, callbacks=[Count()]))
    finally:
        logging.getLogger("skvae").removeHandler(handler)
    assert quiet.getvalue() == ""
    assert loud.getvalue()
    assert Count.epochs >= model.n_iter_ > 0


@pytest.mark.parametrize("cls", _families(), ids=lambda c: c.__name__)
def test_compile_compiles_the_training_step(cls, monkeypatch):
    compiled = []

    def record(module, *args, **kwargs):
        compiled.append(type(module).__name__)
        return module

    monkeypatch.setattr(torch, "compile", record)
    _fit(tiny(cls, compile=False))
    assert not compiled
    _fit(tiny(cls, compile=True))
    assert compiled


@pytest.mark.parametrize("cls", _families(), ids=lambda c: c.__name__)
def test_warm_start_continues_from_the_last_fit(cls):
    cold = _fit(_fit(tiny(cls)))
    warm = _fit(_fit(tiny(cls, warm_start=True)))
    assert warm.n_iter_ > cold.n_iter_


# another valid value of each parameter a network is built from
_NETWORK_CHANGES = {
    "hidden_layer_sizes": (6,),
    "activation": "tanh",
    "n_components": 3,
    "min_variance": 1e-2,
    "n_clusters": 2,
    "n_codes": 5,
    "latent_hidden_layer_sizes": (5,),
    "discriminator_hidden_layer_sizes": (5,),
    "objective": "iwae",
    "batch_norm": True,
    "missing": "mask",
    "commitment_cost": 0.5,
    "class_coverage": 0.9,
    "tc_weight": 2.0,
    "kernel": "rbf",
    "discriminator_lr_scale": 0.5,
}


def _network_changes():
    for cls in _families():
        names = getattr(cls, "_network_params", ())
        params = cls().get_params()
        for name in _NETWORK_CHANGES:
            if name in names and name in params:
                yield pytest.param(cls, name, id=f"{cls.__name__}-{name}")


@pytest.mark.parametrize(("cls", "name"), list(_network_changes()))
def test_a_continued_fit_refuses_a_new_network(cls, name):
    """warm_start keeps the fitted network: a change of a parameter it was
    built from is refused (the model left as it was), never ignored; the
    same value in another container is not a change."""
    model = _fit(tiny(cls, warm_start=True))
    before = model.n_iter_
    value = model.get_params()[name]
    if isinstance(value, tuple):
        _fit(model.set_params(**{name: list(value)}))  # the same widths
        assert model.n_iter_ > before
        before = model.n_iter_
    change = not value if isinstance(value, bool) else _NETWORK_CHANGES[name]
    with pytest.raises(ValueError, match=f"{name}=.*warm_start=False"):
        _fit(model.set_params(**{name: change}))
    assert model.n_iter_ == before
    _fit(model.set_params(warm_start=False))  # a new network
    assert model.get_params()[name] == change


@pytest.mark.parametrize("cls", _families(), ids=lambda c: c.__name__)
def test_a_warm_started_fit_steps_at_the_new_learning_rate(cls):
    """warm_start keeps Adam's moments, not its rate: a learning_rate_init
    of 1e-30 on a continued fit leaves every weight where it was (to 1e-12;
    at the old rate, 1e-3, they move by about that)."""
    model = _fit(tiny(cls, warm_start=True))
    if not hasattr(model, "module_"):
        pytest.skip("a meta-estimator: its model is fitted anew")
    # Adam's weights (not buffers such as a likelihood's running variance)
    before = {k: v.detach().clone() for k, v in model.module_.named_parameters()}
    _fit(model.set_params(learning_rate_init=1e-30))
    for key, value in model.module_.named_parameters():
        if "prior" not in key:  # a VQ model's prior is fitted anew
            torch.testing.assert_close(value.detach(), before[key], rtol=0, atol=1e-12)


def test_a_loaded_model_refuses_a_new_network_too(tmp_path):
    """The check survives save / load: the saved parameters built the network."""
    import skvae

    model = _fit(tiny(skvae.VAE, warm_start=True))
    path = tmp_path / "vae.skvae"
    skvae.save(model, path)
    loaded = skvae.load(path)
    _fit(loaded)  # the same parameters: continued
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        _fit(loaded.set_params(hidden_layer_sizes=(6,)))
    loaded.set_params(hidden_layer_sizes=model.hidden_layer_sizes, n_components=3)
    with pytest.raises(ValueError, match="n_components"), warnings_ignored():
        loaded.partial_fit(X)


@pytest.mark.parametrize(
    "cls",
    [c for c in _families() if "missing" in c().get_params()],
    ids=lambda c: c.__name__,
)
def test_missing_mask_lets_holes_in(cls):
    with pytest.raises(ValueError, match="NaN"):
        _fit(tiny(cls), X_HOLES)
    model = _fit(tiny(cls, missing="mask"), X_HOLES)
    assert np.isfinite(model.transform(X_HOLES)).all()


@pytest.mark.parametrize("cls", _families(), ids=lambda c: c.__name__)
def test_device_is_used_or_refused(cls):
    if torch.cuda.is_available():
        model = _fit(tiny(cls, device="cuda"))
        assert next(model.module_.parameters()).device.type == "cuda"
    else:
        with pytest.raises(ValueError, match="CUDA"):
            _fit(tiny(cls, device="cuda"))
    assert not math.isnan(_fit(tiny(cls, device="cpu")).loss_curve_[-1])


# Parameters a continued fit honours by design, as they apply per fit: the
# budget and stopping rule of this fit, its loop's settings, and its seed.
PER_FIT = {
    "max_iter": "the epochs of this fit",
    "batch_size": "the batches of this fit",
    "learning_rate_init": "Adam restarts at this rate on every fit",
    "early_stopping": "this fit's stopping rule",
    "validation_fraction": "this fit's validation split",
    "n_iter_no_change": "this fit's stopping rule",
    "tol": "this fit's stopping rule",
    "verbose": "this fit's reports",
    "callbacks": "this fit's callbacks",
    "device": "where this fit runs",
    "compile": "how this fit's step runs",
    "precision": "how this fit's step runs",
    "warm_start": "what decides a continued fit",
    "max_grad_norm": "this fit's clipping",
}


# Where the table's value acts in a first fit only: the KL schedule runs on
# the epochs counted from the first fit (the tiny ones train 3 to 20), so its
# other value must still act after them. A warm-up of 100 epochs is still
# ramping there; a cyclical period of 3 ramps again at epoch 4, where the linear
# warm-up of 3 is over (a period of 2 is at its full weight there).
CONTINUED_OTHER = {
    "kl_warmup": (100, {}),
    "kl_schedule": ("cyclical", {"kl_warmup": 3}),
    # a continued fit's draws: at least the batches' order (a VQ model's
    # steps draw nothing else)
    "random_state": (1, {"batch_size": 8}),
}


def _continued_cases():
    for cls in _families():
        if not hasattr(cls, "_network_params"):
            continue
        for name in sorted(cls().get_params(deep=False)):
            if name not in PER_FIT:
                yield pytest.param(cls, name, id=f"{cls.__name__}-{name}")


@pytest.mark.parametrize(("cls", "name"), list(_continued_cases()))
def test_a_continued_fit_honours_or_refuses_every_parameter(cls, name):
    """A continued fit (warm_start=True) of a copy with one parameter changed
    either refuses the change, naming it, or computes something else than the
    same continued fit unchanged: no parameter is silently kept at the value
    the first fit used. This catches a parameter the module is built from
    that its family forgot to list in ``_network_params``."""
    taken = cls().get_params(deep=False)
    if name in CONTINUED_OTHER:
        value, context = CONTINUED_OTHER[name]
    else:
        value, context = _other_value(cls, name, taken[name])
    context = {k: v for k, v in context.items() if k in taken and k != name}
    model = _fit(tiny(cls, warm_start=True, random_state=0, **context))
    same, changed = copy.deepcopy(model), copy.deepcopy(model)
    changed.set_params(**{name: value})
    try:
        _fit(changed)
    except ValueError as exc:
        refusal = str(exc)
    else:
        refusal = None
    if refusal is not None:  # refused: it must name the parameter
        assert name in refusal, f"{cls.__name__}: refused {name} without naming it"
        return
    assert not _same(_fingerprint(_fit(same)), _fingerprint(changed)), (
        f"{cls.__name__}({name}={value!r}) is silently ignored by a continued "
        "fit: honour it, or list it in the family's _network_params"
    )


@pytest.mark.parametrize(
    "cls",
    [c for c in _families() if hasattr(c, "_network_params")],
    ids=lambda c: c.__name__,
)
def test_a_continued_fit_is_repeatable(cls):
    """Two copies of a fitted model continue alike: what makes the test above
    able to tell an ignored parameter from a changed one."""
    model = _fit(tiny(cls, warm_start=True, random_state=0))
    one, two = copy.deepcopy(model), copy.deepcopy(model)
    assert _same(_fingerprint(_fit(one)), _fingerprint(_fit(two)))


def test_a_continued_fit_refuses_a_device_it_does_not_train_on(monkeypatch):
    """A continued fit trains the model where it is: another device is
    refused (one not available here as by a first fit), never ignored."""
    import skvae._base

    model = _fit(tiny(VAE, warm_start=True, random_state=0))
    before = model.transform(X)
    if not torch.cuda.is_available():  # e.g. a GPU model loaded here
        with pytest.raises(ValueError, match="set device='cpu' to continue"):
            _fit(copy.deepcopy(model).set_params(device="cuda"))
    monkeypatch.setattr(skvae._base, "resolve_device", lambda d: torch.device("meta"))
    with pytest.raises(ValueError, match="device='cpu' resolves to 'meta'"):
        _fit(model)
    np.testing.assert_array_equal(model.transform(X), before)


def test_a_continued_fit_takes_a_change_of_an_unread_parameter(tmp_path):
    """min_variance under likelihood="bernoulli" is warned about as unread:
    changing it between continued fits is no change to the network."""
    model = _fit(tiny(VAE, likelihood="bernoulli", warm_start=True))
    model.set_params(min_variance=0.5)
    with pytest.warns(UserWarning, match=r"min_variance=0\.5"):
        model.fit(X)
    gaussian = _fit(tiny(VAE, warm_start=True)).set_params(min_variance=0.5)
    with pytest.raises(ValueError, match=r"min_variance=0\.5 differs"):
        _fit(gaussian)
    path = tmp_path / "m.skvae"
    skvae.save(model, path)  # the file rebuilds the network it holds
    np.testing.assert_array_equal(skvae.load(path).transform(X), model.transform(X))
    # built from though unread (a critic of weight 0): still refused, as
    # a saved model is rebuilt from its parameters
    critic = _fit(tiny(skvae.AdversarialAE, beta=0.0, warm_start=True))
    critic.set_params(discriminator_hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match=r"layer_sizes=\(5,\) differs"):
        _fit(critic)


def test_a_continued_fit_checks_precision_as_a_first_fit():
    from skvae import VaDE

    model = _fit(tiny(VaDE, warm_start=True, random_state=0))
    model.set_params(precision="bfloat16")
    with pytest.raises(ValueError, match="precision='bfloat16' is not supported"):
        _fit(model)
    with pytest.raises(ValueError, match="precision='bfloat16' is not supported"):
        _fit(tiny(VaDE, precision="bfloat16"))


IGNORED = [
    (VAE, "n_iwae_samples", 20, {}),
    (VAE, "n_pseudo_inputs", 7, {}),
    (VAE, "min_variance", 1e-2, {"likelihood": "bernoulli"}),
    (ConditionalVAE, "n_iwae_samples", 20, {}),
    ("HierarchicalVAE", "n_iwae_samples", 20, {}),
    ("WAE", "log_var_penalty", 1e-3, {}),
    ("AdversarialAE", "log_var_penalty", 1e-3, {}),
    ("VAEOutlierDetector", "n_importance_samples", 5, {"score_type": "latent"}),
    # a model whose encoder draws no codes: every draw is the same
    ("VAEOutlierDetector", "n_importance_samples", 5, {"estimator": tiny(skvae.WAE)}),
    ("VAEOutlierDetector", "n_importance_samples", 5, {"estimator": tiny(skvae.VQVAE)}),
    (VAE, "hidden_layer_sizes", (7,), {"encoder": Linear, "decoder": Linear}),
    (VAE, "activation", "tanh", {"encoder": Linear, "decoder": Linear}),
    (
        "AdversarialAE",
        "hidden_layer_sizes",
        (7,),
        {"encoder": Linear, "decoder": Linear},
    ),
    ("VQVAE2", "activation", "tanh", {"encoder": Linear, "decoder": Linear}),
    ("VaDE", "n_iwae_samples", 20, {}),
    ("VaDE", "shared_variance", False, {"likelihood": "bernoulli"}),
    ("VaDE", "activation", "tanh", {"encoder": Linear, "decoder": Linear}),
    (VAE, "max_capacity", 10.0, {}),
    ("LadderVAE", "max_capacity", 10.0, {"kl_schedule": "cyclical", "kl_warmup": 2}),
    (VAE, "kl_schedule", "cyclical", {"kl_warmup": 0}),
    ("HierarchicalVAE", "latent_hidden_layer_sizes", (7,), {"n_components": 2}),
    ("LadderVAE", "latent_hidden_layer_sizes", (7,), {"n_components": (3,)}),
    ("WAE", "kernel", "rbf", {"beta": 0.0}),
    ("AdversarialAE", "discriminator_lr_scale", 2.0, {"beta": 0.0}),
    # no Gaussian column in the likelihood built (not only the string's)
    (VAE, "min_variance", 1e-2, {"likelihood": {"bernoulli": list(range(16))}}),
    (VAE, "input_shape", (1, 4, 4), {"encoder": Linear, "decoder": Linear}),
    (VAE, "kl_warmup", 3, {"beta": 0.0}),
    (VAE, "free_bits", 0.5, {"beta": 0.0}),
    ("HierarchicalVAE", "kl_warmup", 3, {"beta": 0.0}),
    (VAE, "validation_fraction", 0.3, {}),
    (VAE, "n_iter_no_change", 1, {"kl_warmup": 10, "max_iter": 4}),
    ("SemiSupervisedVAE", "vat_epsilon", 0.5, {"vat_weight": 0.0}),
    ("SemiSupervisedVAE", "manifold_vat_weight", 2.0, {"manifold_vat_epsilon": 0.0}),
    # no hidden layer in any built-in network: nothing to activate or normalise
    (VAE, "activation", "tanh", {"hidden_layer_sizes": ()}),
    ("SemiSupervisedVAE", "activation", "tanh", {"hidden_layer_sizes": ()}),
    (
        "HierarchicalVAE",
        "batch_norm",
        False,
        {"hidden_layer_sizes": (), "latent_hidden_layer_sizes": ()},
    ),
    (
        "LadderVAE",
        "activation",
        "tanh",
        {"encoder": Linear, "decoder": Linear, "n_components": (3,)},
    ),
    # one user network: the VQ codes are a row, the other network an MLP
    ("VQVAE", "input_shape", (1, 4, 4), {"encoder": Linear}),
    ("VQVAE2", "input_shape", (1, 4, 4), {"decoder": Linear}),
]


@pytest.mark.parametrize(("cls", "name", "value", "context"), IGNORED)
def test_a_parameter_the_others_leave_unread_is_warned_about(cls, name, value, context):
    """A value that the other parameters leave unread (n_iwae_samples under
    objective="elbo"...) is not taken silently: fit warns, naming it; at its
    default, or where it is read, no warning."""
    import warnings

    import skvae

    cls = getattr(skvae, cls) if isinstance(cls, str) else cls

    def messages(**params):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = tiny(cls, **context, **params)
            est.fit(X, Y) if est.__sklearn_tags__().target_tags.required else est.fit(X)
        said = [str(w.message) for w in caught]
        return [m for m in said if "has no effect" in m and f"({name}=" in m]

    (message,) = messages(**{name: value})
    assert f"{name}={value!r}" in message
    assert messages(**{name: cls().get_params()[name]}) == []


def test_parameters_a_table_leaves_unread_are_warned_about_or_honoured():
    """On tables: VaDE's shared variance was dropped silently once a column
    was a category (the likelihood a MixedLikelihood), and a likelihood
    named by a string did nothing, without a word, on category columns."""
    import warnings

    import pandas as pd

    import skvae
    from skvae.nn.mixture import SharedVarianceGaussian

    table = pd.DataFrame(X[:, :4], columns=list("abcd"))
    table["kind"] = pd.Categorical(np.where(X[:, 4] > 0.5, "x", "y"))
    shared = tiny(skvae.VaDE, n_clusters=2).fit(table)
    blocks = shared.module_.likelihood.blocks
    assert any(isinstance(b, SharedVarianceGaussian) for b in blocks)
    apart = tiny(skvae.VaDE, n_clusters=2, shared_variance=False).fit(table)
    assert not np.allclose(shared.transform(table), apart.transform(table))

    kinds = table[["kind"]].assign(
        other=table["kind"].cat.rename_categories(["u", "v"])
    )
    with pytest.warns(UserWarning, match=r"likelihood='bernoulli'\) has no effect"):
        tiny(VAE, likelihood="bernoulli").fit(kinds)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tiny(VAE).fit(kinds)  # the default: nothing to say
    assert not [w for w in caught if "has no effect" in str(w.message)]


@pytest.mark.parametrize("meta", ["VAEOutlierDetector", "VAEImputer"])
def test_a_models_draws_the_meta_estimator_replaces_are_warned_about(meta):
    """The detector and the imputer draw with their own n_importance_samples:
    the given model's (50) was replaced without a word."""
    import warnings

    import skvae

    cls = getattr(skvae, meta)
    holes = X.copy()
    holes[::5, 0] = np.nan
    data = holes if meta == "VAEImputer" else X
    with pytest.warns(UserWarning, match=r"VAE's n_importance_samples=50 is not"):
        cls(tiny(VAE, n_importance_samples=50)).fit(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cls(tiny(VAE)).fit(data)
        own = cls().n_importance_samples  # the same number: nothing replaced
        cls(tiny(VAE, n_importance_samples=own), n_importance_samples=own).fit(data)
    assert not [w for w in caught if "is not read" in str(w.message)]


def test_imputer_draws_left_unread_by_the_gaussian_are_warned_about():
    """Where the default VAE added nothing (independent columns), the
    Gaussian fills every column alone and n_importance_samples is unread."""
    from skvae import VAEImputer

    rng = np.random.RandomState(0)
    holes = rng.uniform(size=(80, 6))
    holes[np.random.RandomState(1).uniform(size=holes.shape) < 0.2] = np.nan
    with pytest.warns(UserWarning, match=r"n_importance_samples=3\) has no effect"):
        imputer = VAEImputer(n_importance_samples=3, random_state=0).fit(holes)
    assert np.all(imputer.gaussian_weights_ == 1)


def test_no_unread_parameter_warning_where_none_is_unread():
    """What no user set, or what is read, is not warned about: a warm start
    past the warm-up compares losses; the helpers' own settings (the
    synthesizer's n_iter_no_change under a short budget, its "auto" on a
    table of categories, the detector's min_variance there) are theirs."""
    import warnings

    import pandas as pd

    from skvae import VAEOutlierDetector, tabular_synthesizer

    kinds = pd.DataFrame(
        {"a": pd.Categorical(np.where(X[:, 0] > 0.5, "x", "y")), "b": X[:, 1] > 0.3}
    )
    numbers = pd.DataFrame(X[:, :4], columns=list("abcd"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warm = tiny(VAE, max_iter=12, kl_warmup=10, tol=1e-2, warm_start=True)
        warm.fit(X).set_params(max_iter=3).fit(X)
        tabular_synthesizer(numbers, max_iter=np.int64(5)).fit(numbers)
        streamed = tiny(VAE, max_iter=5, kl_warmup=10, tol=1e-2)
        for _ in range(12):
            streamed.partial_fit(X)
        caught.clear()  # the calls past the warm-up compare no losses either,
        streamed.partial_fit(X)  # but partial_fit never does: nothing to say
        tabular_synthesizer(kinds, max_iter=2).fit(kinds)
        VAEOutlierDetector(random_state=0).fit(kinds)
    assert not [w for w in caught if "has no effect" in str(w.message)]


def test_activation_beside_user_networks_is_read_by_the_built_in_ones():
    """M2's classifier, the adversarial critic and the networks between
    stochastic layers are built-in beside user networks: no warning."""
    import warnings

    users = {"encoder": Linear, "decoder": Linear, "activation": "tanh"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tiny(skvae.SemiSupervisedVAE, **users).fit(X, Y)
        tiny(skvae.AdversarialAE, **users).fit(X)
        tiny(skvae.HierarchicalVAE, n_components=(3, 2), **users).fit(X)
    assert not [w for w in caught if "(activation=" in str(w.message)]
