"""Convolutional encoders and decoders for images passed as flattened rows."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skvae.nn.networks import make_activation


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
