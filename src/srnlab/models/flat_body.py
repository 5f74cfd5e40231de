"""A constant-resolution body for the SR-Flat and SR-RB ablations: no stride, no encoder-decoder."""

from __future__ import annotations

from torch import Tensor, nn

from srnlab.models.blocks import conv, conv_relu, make_units


class FlatBody(nn.Module):
    """conv(in -> w) + ReLU, n_units/2 units, [bottleneck], n_units/2 units, conv(w -> out).

    With unit='convpair' and n_units=20 this is 42 plain convolutions (SR-Flat); with unit='resblock' the
    same 42 convolutions are grouped as 20 ResBlocks (SR-RB). Both keep the paper's 43 layers once the
    recurrent module is added, and the same parameter count. The width is our choice (the paper's is not
    recoverable): 78 channels gives 2,638,119 parameters with a 78-channel ConvLSTM, 0.8% under 2.66M.
    It has no strided convolution, so both `padding` conventions give the same network.
    """

    size_multiple = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 78,
        n_units: int = 20,
        unit: str = "convpair",
        kernel_size: int = 3,
        width_mult: float = 1.0,
        padding: str = "symmetric",
    ) -> None:
        super().__init__()
        if n_units % 2:
            raise ValueError(f"FlatBody needs an even n_units to place the bottleneck midway, got {n_units}")
        w = max(1, round(width * width_mult))
        k = kernel_size
        self.bottleneck_channels = w
        self.head = nn.Sequential(conv_relu(in_channels, w, k), make_units(unit, n_units // 2, w, k))
        self.tail = nn.Sequential(make_units(unit, n_units // 2, w, k), conv(w, out_channels, k))

    @property
    def output_conv(self) -> nn.Conv2d:
        """The convolution that writes the image (zero-initialised for a residual network)."""
        return self.tail[-1]

    def encode(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        return self.head(x), []

    def decode(self, h: Tensor, skips: list[Tensor]) -> Tensor:
        return self.tail(h)
