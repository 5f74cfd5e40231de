"""`srn-eval`: score a trained checkpoint on the test (or validation) pairs, per image and on average."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from srnlab.checkpoints import check_variant, read_hparams
from srnlab.config import CONFIG_DIR
from srnlab.errors import discard_if_untouched, run_hydra_app
from srnlab.loggers import build_loggers, isolated_wandb
from srnlab.precision import trainer_precision
from srnlab.runfiles import write_csv, write_json
from srnlab.weights import load_module

log = logging.getLogger(__name__)
SPLITS = ("test", "val")


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Per-image PSNR/SSIM of the checkpoint's outputs and of the blurry inputs, saved as CSV and JSON."""
    if cfg.split not in SPLITS:
        raise ValueError(f"split={cfg.split!r} is not valid: choose one of {list(SPLITS)}")
    trust = bool(cfg.get("trust_checkpoint", False))
    if cfg.variant.id == "custom":
        read_hparams(cfg.ckpt_path, trust=trust)
    else:
        check_variant(cfg.ckpt_path, OmegaConf.to_container(cfg.model.net, resolve=True), trust=trust)
    module = load_module(
        cfg.ckpt_path, map_location="cpu", trust=trust, channels_last=cfg.model.channels_last, compile=False
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
        **{f"mean_{key}": sum(r[key] for r in records) / len(records) for key in records[0] if key != "name"},
    }
    write_csv(output_dir / "metrics.csv", records)
    write_json(output_dir / "summary.json", summary)
    print(format_report(records, summary))
    return summary


def format_report(records: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [f"{'image':40s} {'PSNR':>8s} {'SSIM':>8s} {'blur PSNR':>10s} {'blur SSIM':>10s}"]
    for r in records:
        lines.append(f"{r['name']:40s} {r['psnr']:8.2f} {r['ssim']:8.4f} {r['blur_psnr']:10.2f} {r['blur_ssim']:10.4f}")
    lines.append(
        f"{'mean over ' + str(summary['images']) + ' images':40s} {summary['mean_psnr']:8.2f} "
        f"{summary['mean_ssim']:8.4f} {summary['mean_blur_psnr']:10.2f} {summary['mean_blur_ssim']:10.4f}"
    )
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="eval")
def app(cfg: DictConfig) -> float:
    with discard_if_untouched(Path(cfg.paths.output_dir)):
        return evaluate(cfg)["mean_psnr"]


def main() -> None:
    run_hydra_app("srn-eval", app)


if __name__ == "__main__":
    main()
