"""Scoring a trained checkpoint on the test (or validation) pairs, per image and on average (`srn-eval`,
srnlab.cli.evaluate, is the command)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from srnlab.lit.loggers import build_loggers, isolated_wandb
from srnlab.lit.metrics import CONVENTIONS, DEFAULT_METRICS, check_crop_border
from srnlab.lit.module import load_module
from srnlab.precision import trainer_precision
from srnlab.runs.checkpoints import check_variant, read_hparams
from srnlab.runs.files import write_csv, write_json

log = logging.getLogger(__name__)
SPLITS = ("test", "val")


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Per-image scores (`model.metrics`, `model.crop_border`) of the checkpoint's outputs and of the blurry
    inputs, saved as CSV and JSON; the JSON and the printed report name each metric's convention."""
    if cfg.split not in SPLITS:
        raise ValueError(f"split={cfg.split!r} is not valid: choose one of {list(SPLITS)}")
    trust = bool(cfg.get("trust_checkpoint", False))
    if cfg.variant.id == "custom":
        read_hparams(cfg.ckpt_path, trust=trust)
    else:
        check_variant(cfg.ckpt_path, OmegaConf.to_container(cfg.model.net, resolve=True), trust=trust)
    metrics = list(cfg.model.get("metrics") or DEFAULT_METRICS)
    crop_border = check_crop_border(cfg.model.get("crop_border", 0))
    module = load_module(
        cfg.ckpt_path,
        "cpu",
        trust=trust,
        channels_last=cfg.model.channels_last,
        compile=False,
        metrics=metrics,
        crop_border=crop_border,
        self_ensemble=bool(cfg.model.get("self_ensemble", False)),
    )
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("validate" if cfg.split == "val" else "test")
    loader = datamodule.val_dataloader() if cfg.split == "val" else datamodule.test_dataloader()
    output_dir = Path(cfg.paths.output_dir)
    with isolated_wandb():
        trainer = instantiate(
            cfg.trainer,
            precision=trainer_precision(cfg.trainer).precision,
            logger=build_loggers(cfg, output_dir) or False,
            callbacks=[],
        )
        trainer.test(module, dataloaders=loader, verbose=False)
    records = module.test_records
    summary = {
        "ckpt_path": str(cfg.ckpt_path),
        "variant": (module.hparams.get("variant") or {}).get("id"),
        "split": cfg.split,
        "images": len(records),
        "crop_border": crop_border,
        "conventions": {name: CONVENTIONS[name].text for name in metrics},
        **{f"mean_{key}": sum(r[key] for r in records) / len(records) for key in records[0] if key != "name"},
    }
    write_csv(output_dir / "metrics.csv", records)
    write_json(output_dir / "summary.json", summary)
    print(format_conventions(metrics, crop_border))
    print(format_report(records, summary))
    return summary


def format_conventions(metrics: list[str], crop_border: int) -> str:
    """What each column of the report computes (docs/metric-conventions.md): the lines above its table."""
    lines = [f"{name} = {CONVENTIONS[name].header}: {CONVENTIONS[name].text}" for name in metrics]
    cut = f"{crop_border} pixels cut off each side of every image first" if crop_border else "no border cut"
    return "\n".join([*lines, f"8-bit outputs, {cut} (model.crop_border); blur_<metric>: the blurry input's", ""])


def format_report(records: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """One line per image and one for the mean: every metric of the run, then the same for the blurry input."""
    keys = [k for k in records[0] if k != "name"]
    width = max(12, *(len(k) + 2 for k in keys))
    lines = ["image".ljust(40) + "".join(k.replace("_", " ").rjust(width) for k in keys)]
    for r in records:
        lines.append(r["name"][:40].ljust(40) + "".join(_fmt_score(k, r[k]).rjust(width) for k in keys))
    mean = f"mean over {summary['images']} images".ljust(40)
    lines.append(mean + "".join(_fmt_score(k, summary[f"mean_{k}"]).rjust(width) for k in keys))
    return "\n".join(lines)


def _fmt_score(key: str, value: float) -> str:
    return f"{value:.2f}" if key.endswith("psnr") else f"{value:.4f}"
