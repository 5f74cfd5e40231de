"""Image grids (blur | output | sharp) that people look at rather than read."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from srnlab.data.images import from_tensor, write_image


def triptych(blur: Tensor, output: Tensor, sharp: Tensor, gap: int = 4) -> Tensor:
    """One row per image: blurry input, network output, ground truth, separated by white gaps (3 x H x W)."""
    rows = []
    for b, o, s in zip(blur, output, sharp, strict=True):
        spacer = torch.ones(3, b.shape[1], gap, dtype=b.dtype, device=b.device)
        rows.append(torch.cat([b, spacer, o.clamp(0, 1), spacer, s], dim=2))
    spacer = torch.ones(3, gap, rows[0].shape[2], dtype=rows[0].dtype, device=rows[0].device)
    return torch.cat([r for row in rows for r in (row, spacer)][:-1], dim=1)


def save_grid(grid: Tensor, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, from_tensor(grid))
    return path
