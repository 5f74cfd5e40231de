"""The qualitative panel: one held-out test crop through every finished variant's best checkpoint."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from srnlab.infer.deblurrer import Deblurrer
from srnlab.lit.metrics import per_image_psnr, quantize
from srnlab.report.rows import Row
from srnlab.report.sweep import Sweep


def plot_qualitative(sweep: Sweep, rows: list[Row], path: Path, crop: int = 128, trust: bool = False) -> bool:
    """One held-out test crop through every finished variant's best checkpoint (read weights-only unless
    `trust`); False when none finished."""
    ckpts = [(r, sweep.results[r.id].best_ckpt) for r in rows if r.status == "ok"]
    finished = [(r, ckpt) for r, ckpt in ckpts if ckpt and Path(ckpt).exists()]
    if not finished:
        return False
    lead = finished[0][0].id
    blur, sharp = _test_crop(sweep.job_dir(lead, sweep.lead_seed(lead)), crop)
    panels = [("blurry input", blur, per_image_psnr(blur, sharp))]
    for row, ckpt in finished:
        with torch.inference_mode():
            out = quantize(Deblurrer.load(ckpt, trust=trust)(blur))
        panels.append((row.model, out, per_image_psnr(out, sharp)))
    panels.append(("sharp", sharp, None))
    cols = 6
    rows_n = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(2.4 * cols, 2.9 * rows_n), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, image, psnr) in zip(axes.flat, panels, strict=False):
        ax.imshow(image[0].permute(1, 2, 0).clamp(0, 1).numpy())
        ax.set_title(title if psnr is None else f"{title}\n{float(psnr):.2f} dB", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _test_crop(run_dir: Path, crop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The centre crop of the first test pair, from the data config the sweep trained with."""
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("test")
    item = datamodule.test_dataloader().dataset[0]
    h, w = item["blur"].shape[-2:]
    size = min(crop, h, w)
    top, left = (h - size) // 2, (w - size) // 2
    return tuple(item[k][None, :, top : top + size, left : left + size] for k in ("blur", "sharp"))
