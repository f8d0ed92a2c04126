"""Fully connected networks."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

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
