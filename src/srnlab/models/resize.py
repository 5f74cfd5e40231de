"""Bilinear resizing between scales: PyTorch's convention, or TensorFlow 1.4's for the official checkpoints.

TF 1.4's `resize_images` (no align_corners, no half-pixel centres) maps output pixel i to input i * in / out:
halving keeps every other pixel and doubling averages neighbours. PyTorch's half-pixel convention gives other
numbers, and the official networks were trained to expect TF's (spec, section 7).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

RESIZE_MODES = ("torch", "tf1")


def resize(x: Tensor, size: tuple[int, int], mode: str = "torch") -> Tensor:
    """`x` (N x C x H x W) resized bilinearly to `size`; unchanged when it already has that size."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == "tf1":
        return _tf1_axis(_tf1_axis(x, size[0], dim=-2), size[1], dim=-1)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _tf1_axis(x: Tensor, out_size: int, dim: int) -> Tensor:
    """TF 1.4's legacy bilinear along one axis, in float32 as TF computes it: source = i * (in / out),
    interpolated between its floor and the next pixel (clamped at the border)."""
    in_size = x.shape[dim]
    if in_size == out_size:
        return x
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    source = torch.arange(out_size, dtype=torch.float32) * scale
    lower = source.floor()
    weight = (source - lower).to(x.device, x.dtype)
    lower = lower.long().clamp(max=in_size - 1)
    upper = (lower + 1).clamp(max=in_size - 1)
    shape = [1] * x.dim()
    shape[dim] = out_size
    lo, hi = x.index_select(dim, lower.to(x.device)), x.index_select(dim, upper.to(x.device))
    return lo + (hi - lo) * weight.view(shape)
