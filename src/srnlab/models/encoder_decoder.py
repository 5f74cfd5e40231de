"""The per-scale encoder-decoder of SRN (InBlock, EBlock1-2, DBlock1-2, OutBlock) with pluggable units."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from srnlab.models.blocks import conv, conv_relu, make_units


def scaled(channels: Sequence[int], width_mult: float) -> list[int]:
    """Channel widths times a multiplier, at least 1: how the cheap CPU profiles shrink a body."""
    return [max(1, round(c * width_mult)) for c in channels]


class EncoderDecoder(nn.Module):
    """Symmetric U-Net-like body; the bottleneck (recurrent or not) sits between encode() and decode().

    The decoder upsamples with 4x4 transposed convolutions whatever the kernel size k (official code,
    issue #38) and adds (not concatenates) the encoder features, as in the paper's Fig. 3. `padding` is that
    of the two stride-2 convolutions (srnlab.models.blocks.PADDINGS).
    """

    size_multiple = 4  # two stride-2 convolutions

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: Sequence[int] = (32, 64, 128),
        n_units: int = 3,
        unit: str = "resblock",
        kernel_size: int = 3,
        width_mult: float = 1.0,
        padding: str = "symmetric",
    ) -> None:
        super().__init__()
        c1, c2, c3 = scaled(channels, width_mult)
        k = kernel_size
        self.bottleneck_channels = c3
        self.in_block = nn.Sequential(conv_relu(in_channels, c1, k), make_units(unit, n_units, c1, k))
        self.e_block1 = nn.Sequential(conv_relu(c1, c2, k, 2, padding), make_units(unit, n_units, c2, k))
        self.e_block2 = nn.Sequential(conv_relu(c2, c3, k, 2, padding), make_units(unit, n_units, c3, k))
        self.d_block1 = nn.Sequential(make_units(unit, n_units, c3, k), _up(c3, c2))
        self.d_block2 = nn.Sequential(make_units(unit, n_units, c2, k), _up(c2, c1))
        self.out_block = nn.Sequential(make_units(unit, n_units, c1, k), conv(c1, out_channels, k))

    @property
    def output_conv(self) -> nn.Conv2d:
        """The convolution that writes the image (zero-initialised for a residual network)."""
        return self.out_block[-1]

    def encode(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        f1 = self.in_block(x)
        f2 = self.e_block1(f1)
        return self.e_block2(f2), [f1, f2]

    def decode(self, h: Tensor, skips: list[Tensor]) -> Tensor:
        f1, f2 = skips
        d1 = self.d_block1(h) + f2
        d2 = self.d_block2(d1) + f1
        return self.out_block(d2)


def _up(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1), nn.ReLU(inplace=True))
