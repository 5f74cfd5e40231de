"""Convolution units that the bodies stack: the paper's ResBlock and its plain two-layer replacement."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

PADDINGS = ("symmetric", "tf_same")


class TFSameConv2d(nn.Conv2d):
    """A convolution padded as TensorFlow's 'SAME': the total padding is what keeps ceil(size / stride) outputs,
    and the odd pixel goes after. For stride 2 on an even size that is 1 before and 2 after for a 5x5 kernel
    (0 and 1 for 3x3), where PyTorch pads k // 2 on both sides and samples other positions. The official
    checkpoints were trained with it (spec, section 7)."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int) -> None:
        super().__init__(in_ch, out_ch, kernel_size, stride=stride, padding=0)

    def same_pads(self, x: Tensor) -> list[int]:
        """F.pad's (left, right, top, bottom) for `x`: TF's 'SAME' padding of this convolution."""
        pads: list[int] = []
        for size, k, s in reversed(list(zip(x.shape[-2:], self.kernel_size, self.stride, strict=True))):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return pads

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.pad(x, self.same_pads(x)))


def conv(in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, padding: str = "symmetric") -> nn.Conv2d:
    """A 'same'-padded convolution; stride 2 halves the resolution exactly on even sizes. `padding` matters for
    strided convolutions only: at stride 1 an odd kernel pads symmetrically in both conventions."""
    if padding == "tf_same" and stride > 1:
        return TFSameConv2d(in_ch, out_ch, kernel_size, stride)
    return nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2)


def conv_relu(in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, padding: str = "symmetric") -> nn.Sequential:
    return nn.Sequential(conv(in_ch, out_ch, kernel_size, stride, padding), nn.ReLU(inplace=True))


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
