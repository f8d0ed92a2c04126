"""Convolutional encoders and decoders for images passed as flattened rows."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skvae.nn.networks import MLP, CustomNetwork, NetworkSpec, make_activation


def downsampled(size: int, n_halvings: int) -> int:
    """Side of a map after ``n_halvings`` stride-2 convolutions (kernel 4, pad 1).

    Examples
    --------
    >>> downsampled(28, 2), downsampled(8, 2)
    (7, 2)
    """
    for _ in range(n_halvings):
        size = (size + 1) // 2
    return size


class ConvEncoder(nn.Module):
    """Stride-2 convolutions from a flattened image to a feature map.

    Each of ``channels`` halves the height and width (kernel 4, stride 2,
    padding 1 when the side is even, 2 when odd so that 7 -> 4); a final
    1x1 convolution gives ``out_channels`` maps.

    Parameters
    ----------
    input_shape : tuple of int
        (C, H, W) of each image; rows of the input have C * H * W values.
    channels : sequence of int
        Channels of the stride-2 layers.
    out_channels : int
        Channels of the output map.
    activation : str, default="relu"
        Activation between layers.

    Examples
    --------
    >>> import torch
    >>> enc = ConvEncoder((1, 28, 28), (32, 64), 16)
    >>> enc(torch.zeros(2, 784)).shape
    torch.Size([2, 16, 7, 7])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        channels: Sequence[int],
        out_channels: int,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        c, h, w = self.input_shape
        layers: list[nn.Module] = []
        for width in channels:
            pad = (1 if h % 2 == 0 else 2, 1 if w % 2 == 0 else 2)
            layers += [nn.Conv2d(c, width, 4, 2, pad), make_activation(activation)]
            c, h, w = width, h // 2 + (h % 2), w // 2 + (w % 2)
        layers.append(nn.Conv2d(c, out_channels, 1))
        self.net = nn.Sequential(*layers)
        self.output_shape = (out_channels, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map rows ``(batch, C*H*W)`` to ``(batch, out_channels, h, w)``."""
        return self.net(x.reshape(x.shape[0], *self.input_shape))


class ConvDecoder(nn.Module):
    """Transposed convolutions from a feature map back to flattened images.

    Mirrors :class:`ConvEncoder`: a 3x3 convolution, then one stride-2
    transposed convolution per entry of ``channels`` (reversed), the last of
    which outputs ``out_channels`` per pixel (e.g. logits or means). Odd sides
    are cropped back, so the output matches ``output_shape``.

    Parameters
    ----------
    in_channels : int
        Channels of the input map.
    channels : sequence of int
        Channels of the encoder's stride-2 layers (used in reverse).
    output_shape : tuple of int
        (C, H, W) of the images; each output row has C * H * W values.
    activation : str, default="relu"
        Activation between layers.

    Examples
    --------
    >>> import torch
    >>> dec = ConvDecoder(16, (32, 64), (1, 28, 28))
    >>> dec(torch.zeros(2, 16, 7, 7)).shape
    torch.Size([2, 784])
    """

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        output_shape: Sequence[int],
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.output_shape = tuple(int(s) for s in output_shape)
        widths = list(reversed(channels))
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, widths[0], 3, 1, 1),
            make_activation(activation),
        ]
        for i, width in enumerate(widths):
            out = widths[i + 1] if i + 1 < len(widths) else self.output_shape[0]
            layers.append(nn.ConvTranspose2d(width, out, 4, 2, 1))
            if i + 1 < len(widths):
                layers.append(make_activation(activation))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Map ``(..., in_channels, h, w)`` to rows ``(..., C*H*W)``."""
        lead = z.shape[:-3]
        out = self.net(z.reshape(-1, *z.shape[-3:]))
        c, h, w = self.output_shape
        out = out[:, :, :h, :w]  # crop the padding of odd sides
        return out.reshape(*lead, c * h * w)


def check_input_shape(input_shape, n_features: int) -> tuple[int, int, int] | None:
    """``input_shape`` as (C, H, W) matching ``n_features``, or None.

    Examples
    --------
    >>> check_input_shape((1, 8, 8), 64)
    (1, 8, 8)
    """
    if input_shape is None:
        return None
    shape = tuple(int(s) for s in input_shape)
    if (
        len(shape) != 3
        or min(shape) < 1
        or shape[0] * shape[1] * shape[2] != n_features
    ):
        raise ValueError(
            f"input_shape={input_shape!r} must be (C, H, W) with "
            f"C * H * W == n_features={n_features}."
        )
    return shape


def make_encoder(
    n_inputs: int,
    hidden: Sequence[int],
    n_outputs: int,
    activation: str = "relu",
    input_shape: Sequence[int] | None = None,
    custom: NetworkSpec | None = None,
) -> nn.Module:
    """An MLP, or with ``input_shape`` conv layers then a linear map.

    ``custom`` (a user's network) replaces both: a :class:`CustomNetwork`
    from ``n_inputs`` to ``n_outputs`` columns.

    With ``input_shape``, ``hidden`` gives the channels of the stride-2
    convolutions. Inputs wider than the image (``n_inputs > C * H * W``, e.g.
    a one-hot label appended to the pixels) pass the extra columns to the
    linear map, beside the convolutional features.

    Examples
    --------
    >>> import torch
    >>> make_encoder(64, (8, 16), 4, input_shape=(1, 8, 8))(torch.zeros(2, 64)).shape
    torch.Size([2, 4])
    >>> make_encoder(67, (8,), 4, input_shape=(1, 8, 8))(torch.zeros(2, 67)).shape
    torch.Size([2, 4])
    """
    if custom is not None:
        return CustomNetwork(custom, n_inputs, n_outputs)
    if input_shape is None:
        return MLP(n_inputs, hidden, n_outputs, activation)
    return _ConvFeatures(input_shape, hidden, n_inputs, n_outputs, activation)


class _ConvFeatures(nn.Module):
    """Conv features of the image columns, then a linear map with any extra columns."""

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden: Sequence[int],
        n_inputs: int,
        n_outputs: int,
        activation: str,
    ) -> None:
        super().__init__()
        self.n_pixels = int(input_shape[0] * input_shape[1] * input_shape[2])
        self.conv = ConvEncoder(input_shape, hidden, hidden[-1], activation)
        self.act = make_activation(activation)
        c, h, w = self.conv.output_shape
        self.linear = nn.Linear(c * h * w + n_inputs - self.n_pixels, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.act(self.conv(x[:, : self.n_pixels])).flatten(1)
        return self.linear(torch.cat([features, x[:, self.n_pixels :]], dim=1))


def make_decoder(
    n_inputs: int,
    hidden: Sequence[int],
    n_outputs: int,
    activation: str = "relu",
    output_shape: Sequence[int] | None = None,
    custom: NetworkSpec | None = None,
) -> nn.Module:
    """The mirror of :func:`make_encoder`: an MLP, or a linear map then conv layers.

    ``custom`` (a user's network) replaces both, as in :func:`make_encoder`.

    ``hidden`` lists the encoder's widths (the decoder reverses them). With
    ``output_shape`` the output has one value per pixel and channel, so
    ``n_outputs`` must equal C * H * W.

    Examples
    --------
    >>> import torch
    >>> dec = make_decoder(4, (8, 16), 64, output_shape=(1, 8, 8))
    >>> dec(torch.zeros(3, 2, 4)).shape
    torch.Size([3, 2, 64])
    """
    if custom is not None:
        return CustomNetwork(custom, n_inputs, n_outputs)
    if output_shape is None:
        return MLP(n_inputs, tuple(reversed(hidden)), n_outputs, activation)
    probe = ConvEncoder(output_shape, hidden, hidden[-1])
    c, h, w = probe.output_shape
    return nn.Sequential(
        nn.Linear(n_inputs, c * h * w),
        make_activation(activation),
        nn.Unflatten(-1, (c, h, w)),
        ConvDecoder(c, hidden, output_shape, activation),
    )
