"""Fully connected networks."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from skvae.nn.likelihoods import row_weights

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}

ACTIVATIONS = frozenset(_ACTIVATIONS)


def make_activation(name: str) -> nn.Module:
    """Return a new activation module from its scikit-learn style name.

    Parameters
    ----------
    name : {"relu", "tanh", "logistic", "identity", "elu", "gelu", "silu"}
        The activation's name ("logistic" is the sigmoid, as in MLPRegressor).

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> make_activation("relu")
    ReLU()
    """
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)}."
        ) from None


class MLP(nn.Sequential):
    """A multilayer perceptron: Linear layers with an activation between them.

    The last layer is linear (no activation).

    Parameters
    ----------
    n_inputs : int
        Width of the input.
    hidden_layer_sizes : sequence of int
        Widths of the hidden layers, in order.
    n_outputs : int
        Width of the output.
    activation : str, default="relu"
        Name of the activation, see :func:`make_activation`.

    Examples
    --------
    >>> import torch
    >>> MLP(4, (8,), 2)(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        n_inputs: int,
        hidden_layer_sizes: Sequence[int],
        n_outputs: int,
        activation: str = "relu",
    ) -> None:
        layers: list[nn.Module] = []
        width = n_inputs
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), make_activation(activation)]
            width = size
        layers.append(nn.Linear(width, n_outputs))
        super().__init__(*layers)


@dataclass(frozen=True)
class NetworkSpec:
    """A user's network for one role (encoder, decoder...) and its parameters.

    Parameters
    ----------
    network : type or torch.nn.Module
        A ``torch.nn.Module`` subclass (built with ``params``) or an instance
        (deep-copied, so the user's object is never trained in place).
    params : dict, default={}
        Keyword arguments of the class, e.g. from ``encoder__hidden=64``.

    Examples
    --------
    >>> from torch import nn
    >>> NetworkSpec(nn.Linear, {"in_features": 3, "out_features": 2}).params
    {'in_features': 3, 'out_features': 2}
    """

    network: type | nn.Module
    params: dict[str, Any] = field(default_factory=dict)


class CustomNetwork(nn.Module):
    """A user's network, sized to the model: the body, then a linear head.

    The network maps rows ``(batch, n_inputs)`` to ``(batch, width)``. If its
    class takes ``n_inputs`` or ``n_outputs`` arguments they are filled in
    (unless given); a class that takes ``n_outputs`` must return that width
    and is used as it is. Otherwise a linear layer maps its output (width
    found by one forward pass of two zero rows) to ``n_outputs``. Leading
    dimensions beyond the batch are flattened into it and restored.

    Parameters
    ----------
    spec : NetworkSpec
        The network and its parameters.
    n_inputs : int
        Width of the rows it receives.
    n_outputs : int
        Width the model needs.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> class Body(nn.Module):
    ...     def __init__(self, n_inputs, hidden=8):
    ...         super().__init__()
    ...         self.net = nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU())
    ...     def forward(self, x):
    ...         return self.net(x)
    >>> net = CustomNetwork(NetworkSpec(Body, {"hidden": 16}), 5, 4)
    >>> net(torch.zeros(3, 5)).shape, net(torch.zeros(2, 3, 5)).shape
    (torch.Size([3, 4]), torch.Size([2, 3, 4]))
    """

    def __init__(self, spec: NetworkSpec, n_inputs: int, n_outputs: int) -> None:
        super().__init__()
        network, params = spec.network, dict(spec.params)
        sized = False
        if isinstance(network, nn.Module):
            if params:
                raise ValueError(
                    f"Parameters {sorted(params)} were routed to a network "
                    f"instance ({type(network).__name__}); pass its class to "
                    "route parameters to it."
                )
            body = copy.deepcopy(network)
        elif isinstance(network, type) and issubclass(network, nn.Module):
            accepted = inspect.signature(network).parameters
            if "n_inputs" in accepted:
                params.setdefault("n_inputs", n_inputs)
            if "n_outputs" in accepted:
                params.setdefault("n_outputs", n_outputs)
                sized = True
            try:
                body = network(**params)
            except TypeError as exc:
                raise TypeError(
                    f"Could not build {network.__name__} with parameters {params}: "
                    f"{exc}"
                ) from exc
        else:
            raise TypeError(
                "A network must be a torch.nn.Module subclass or instance, got "
                f"{network!r}."
            )
        width = _output_width(body, n_inputs)
        if sized and width != n_outputs:
            raise ValueError(
                f"{type(body).__name__} was asked for n_outputs={n_outputs} but "
                f"returns {width} columns."
            )
        self.body = body
        self.head = nn.Identity() if sized else nn.Linear(width, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the body and the head to rows (with any leading dimensions)."""
        lead = x.shape[:-1]
        out = self.head(self.body(x.reshape(-1, x.shape[-1])))
        return out.reshape(*lead, out.shape[-1])


def _output_width(body: nn.Module, n_inputs: int) -> int:
    """Width of the body's output on two zero rows (run in eval mode)."""
    was_training = body.training
    body.eval()
    try:
        with torch.no_grad():
            out = body(torch.zeros(2, n_inputs))
    except Exception as exc:
        raise ValueError(
            f"{type(body).__name__} failed on rows of width {n_inputs}: {exc}"
        ) from exc
    finally:
        body.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 2:
        raise ValueError(
            f"{type(body).__name__} must map (batch, {n_inputs}) rows to a "
            "(batch, width) tensor."
        )
    return int(out.shape[1])


class FillMissing(nn.Module):
    """Replace NaN (missing entries) by 0, the input an encoder sees for them.

    Zero-filling with the likelihood restricted to observed entries is the
    MIWAE recipe (Mattei & Frellsen 2019); on standardised data 0 is the mean.

    Examples
    --------
    >>> import torch
    >>> FillMissing()(torch.tensor([[1.0, float("nan")]]))
    tensor([[1., 0.]])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with NaN replaced by 0."""
        return torch.nan_to_num(x, nan=0.0)


class FeatureBatchNorm(nn.BatchNorm1d):
    """Batch normalisation of the last axis, for inputs with any leading axes.

    The leading axes (e.g. draws and rows, ``(k, batch, width)``) are pooled
    into the batch. A one-row batch in training mode (e.g. ``partial_fit`` on
    one row) is normalised with the running statistics instead of failing.

    Parameters
    ----------
    num_features : int
        Width of the last axis.
    **kwargs
        Other arguments of :class:`torch.nn.BatchNorm1d`.

    Examples
    --------
    >>> import torch
    >>> norm = FeatureBatchNorm(4)
    >>> norm(torch.randn(3, 5, 4)).shape, norm(torch.randn(1, 4)).shape
    (torch.Size([3, 5, 4]), torch.Size([1, 4]))
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` ``(..., num_features)``."""
        flat = x.reshape(-1, x.shape[-1])
        use_batch = self.training and flat.shape[0] > 1
        rows = row_weights(x.shape) if use_batch else None
        if rows is not None:
            return self._weighted(x, rows.to(x.dtype).expand(*x.shape[:-1], 1))
        out = nn.functional.batch_norm(
            flat,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch,
            self.momentum,
            self.eps,
        )
        return out.reshape(x.shape)

    def _weighted(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Training-mode batch norm whose statistics weigh each row.

        Within :func:`~skvae.nn.likelihoods.weighting` a row of weight 0
        counts as no row (the loss leaves it out; its statistics must too),
        and one of weight 2 as two. The running variance takes the unbiased
        weighted variance (frequency weights: ``n / (n - 1)`` with weights
        of 1, as BatchNorm's).
        """
        # float32 at least, as autocast runs batch norm: bfloat16 sums of a
        # batch lose the statistics (and lerp_ into the float32 buffers fails)
        dtype = torch.promote_types(x.dtype, torch.float32)
        flat = x.reshape(-1, x.shape[-1]).to(dtype)
        w = rows.reshape(-1, 1).to(dtype)
        total = w.sum()
        mean = (w * flat).sum(0) / total
        var = (w * (flat - mean).square()).sum(0) / total
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum
                if momentum is None:  # a cumulative average, as BatchNorm's
                    momentum = 1.0 / float(self.num_batches_tracked)
                scale = torch.where(total > 1, total / (total - 1), 1.0)
                unbiased = var * scale
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(unbiased.detach(), momentum)
        out = (flat - mean) / torch.sqrt(var + self.eps)
        if self.affine:
            out = out * self.weight + self.bias
        return out.reshape(x.shape).to(x.dtype)


def dense_layers(
    n_inputs: int,
    widths: Sequence[int],
    activation: str,
    batch_norm: bool = False,
) -> nn.Sequential:
    """Hidden layers: Linear (-> batch norm) -> activation for each width.

    Unlike :class:`MLP`, there is no output layer: the result ends with an
    activation, ``widths[-1]`` wide, and is the identity for empty
    ``widths``.

    Parameters
    ----------
    n_inputs : int
        Width of the input.
    widths : sequence of int
        Widths of the layers, in order (may be empty).
    activation : str
        Name of the activation, see :func:`make_activation`.
    batch_norm : bool, default=False
        A :class:`FeatureBatchNorm` after each linear layer.

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> import torch
    >>> dense_layers(4, (8, 6), "relu", batch_norm=True)(torch.zeros(3, 4)).shape
    torch.Size([3, 6])
    >>> len(dense_layers(4, (), "relu"))
    0
    """
    layers: list[nn.Module] = []
    for width in widths:
        layers.append(nn.Linear(n_inputs, width))
        if batch_norm:
            layers.append(FeatureBatchNorm(width))
        layers.append(make_activation(activation))
        n_inputs = width
    return nn.Sequential(*layers)
