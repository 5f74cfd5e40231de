"""Image grids (blur | output | sharp) that people look at rather than read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger
from torch import Tensor

from srnlab.image_io import from_tensor, write_image


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


class ValidationGrids(pl.Callback):
    """At every validation, the first `images` validation images as blur | output | sharp rows, centre-cropped
    to at most `crop` pixels: saved as `images/val_step<N>.png` in the run folder and logged to W&B."""

    def __init__(self, images: int = 4, crop: int = 256) -> None:
        self.images, self.crop = images, crop
        self._rows: list[tuple[Tensor, Tensor, Tensor]] = []

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._rows.clear()

    def on_validation_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, *args: Any
    ) -> None:
        if len(self._rows) < self.images and isinstance(outputs, dict) and "output" in outputs:
            self._rows.append(tuple(x[:1].detach().cpu() for x in (batch["blur"], outputs["output"], batch["sharp"])))

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not self._rows or not trainer.is_global_zero:
            return
        grid = triptych(*centre_crops(self._rows, self.crop))
        path = save_grid(grid, Path(trainer.default_root_dir) / "images" / f"val_step{trainer.global_step:07d}.png")
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image("val/grid", [str(path)], step=trainer.global_step, caption=["blur | output | sharp"])
        self._rows.clear()


def centre_crops(rows: list[tuple[Tensor, ...]], size: int = 256) -> tuple[Tensor, ...]:
    """Stack same-position centre crops of every image, no larger than the smallest image or `size`."""
    h = min(size, *(parts[0].shape[-2] for parts in rows))
    w = min(size, *(parts[0].shape[-1] for parts in rows))

    def crop(im: Tensor) -> Tensor:
        top, left = (im.shape[-2] - h) // 2, (im.shape[-1] - w) // 2
        return im[..., top : top + h, left : left + w]

    return tuple(torch.cat([crop(im) for im in column]) for column in zip(*rows, strict=True))
