"""Convolution units that the bodies stack: the paper's ResBlock and its plain two-layer replacement."""

from __future__ import annotations

from torch import Tensor, nn


def conv(in_ch: int, out_ch: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    """A 'same'-padded convolution; stride 2 halves the resolution exactly on even sizes."""
    return nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2)


def conv_relu(in_ch: int, out_ch: int, kernel_size: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(conv(in_ch, out_ch, kernel_size, stride), nn.ReLU(inplace=True))


class ResBlock(nn.Module):
    """conv + ReLU, conv, add the input: no batch norm and no ReLU after the add (paper, Fig. 3)."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_relu(channels, channels, kernel_size), conv(channels, channels, kernel_size))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ConvPair(nn.Sequential):
    """Two plain conv + ReLU layers: what SR-ED puts where SR-EDRB has a ResBlock (same parameter count)."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__(conv_relu(channels, channels, kernel_size), conv_relu(channels, channels, kernel_size))


UNITS: dict[str, type[nn.Module]] = {"resblock": ResBlock, "convpair": ConvPair}


def make_units(unit: str, n: int, channels: int, kernel_size: int) -> nn.Sequential:
    """n units of one kind; an unknown kind names the valid ones."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: choose one of {sorted(UNITS)}")
    return nn.Sequential(*(UNITS[unit](channels, kernel_size) for _ in range(n)))
