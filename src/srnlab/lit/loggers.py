"""Experiment loggers from the `logger` config group, with W&B grouping that makes dashboards compare variants."""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import CSVLogger, Logger, WandbLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter
from pytorch_lightning.loggers.logger import rank_zero_experiment
from torch import nn

from srnlab.config import variant_order
from srnlab.models.measure import count_parameters, full_width_parameters


def variant_tags(cfg: DictConfig) -> list[str]:
    """bottleneck, body, scales, sharing, channel width, variant and seed of the job: W&B tags to filter and
    group runs by (the width, so that a cheap profile's half-width network is never mistaken for the paper's;
    the variant, so that W&B draws one mean-and-spread band over a variant's seeds). The option names come
    from Hydra's choices: the job's HydraConfig, or the `hydra` node of a composed config."""
    hydra_cfg = HydraConfig.get() if HydraConfig.initialized() else cfg.get("hydra")
    choices = hydra_cfg.runtime.choices if hydra_cfg else {}
    net = cfg.model.net
    return [
        f"bottleneck={choices.get('model/bottleneck', 'custom')}",
        f"body={choices.get('model/body', 'custom')}",
        f"scales={net.n_scales}",
        "shared" if net.share_weights else "independent",
        f"profile={cfg.get('profile_name', 'custom')}",
        f"width=x{float(net.width_mult):g}",
        f"variant={cfg.variant.id}",
        f"seed={cfg.get('seed')}",
    ]


def build_loggers(cfg: DictConfig, output_dir: Path) -> list[Logger]:
    """Instantiate every configured logger; W&B gets name, tags, the resolved config and a stable run id so a
    resumed job continues its own run."""
    loggers = []
    for logger_cfg in (cfg.get("logger") or {}).values():
        extra: dict[str, Any] = {}
        if "WandbLogger" in logger_cfg._target_:
            run_id_file = output_dir / "wandb_run_id"
            if not run_id_file.exists():
                output_dir.mkdir(parents=True, exist_ok=True)
                run_id_file.write_text(secrets.token_hex(4))
            extra = {
                "name": f"{cfg.variant.id}-seed{cfg.get('seed')}",
                "tags": variant_tags(cfg),
                "config": OmegaConf.to_container(
                    OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True
                ),
                "id": run_id_file.read_text().strip(),
                "resume": "allow",
            }
        loggers.append(instantiate(logger_cfg, _convert_="all", _partial_=True)(**extra))
    return loggers


def run_summary(cfg: DictConfig, net: nn.Module, train_time_s: float | None) -> dict[str, float]:
    """What a dashboard compares variants by besides the test scores Lightning logs itself (`test/psnr`, ...):
    the parameter counts named as in table1.csv (`params` at the paper's width, `trained_params` as trained),
    the paper's scores, the variant's row of Table 1 (`variant/order`, to sort bars as the paper) and the
    training time in minutes."""
    paper = cfg.variant.get("paper") or {}
    summary: dict[str, float] = {
        "params": full_width_parameters(cfg.model.net),
        "trained_params": count_parameters(net),
        "variant/order": variant_order(cfg.variant.id),
    }
    summary |= {f"paper/{k}": float(paper[k]) for k in ("psnr", "ssim") if paper.get(k) is not None}
    if train_time_s is not None:
        summary["train/time_min"] = train_time_s / 60
    return summary


def log_summary(loggers: list[Logger], summary: dict[str, float]) -> None:
    """Into the summary of every W&B run among `loggers` (call it on the global-zero process only)."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.summary.update(summary)


@contextlib.contextmanager
def isolated_wandb() -> Iterator[None]:
    """Finish the W&B run and restore WANDB_* variables afterwards: WandbLogger(offline=True) sets WANDB_MODE
    for the whole process, and an unfinished run swallows the next multirun job's logs."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("WANDB_")}
    try:
        yield
    finally:
        wandb = sys.modules.get("wandb")  # never imported: no run to finish (and wandb may not be installed)
        if wandb is not None and wandb.run is not None:
            wandb.finish()
        for key in [k for k in os.environ if k.startswith("WANDB_")]:
            del os.environ[key]
        os.environ.update(saved)


class _KeptMetricsWriter(ExperimentWriter):
    """Lightning's CSV writer, except that it keeps an existing metrics.csv (Lightning's deletes it) and
    starts from that file's columns, so that rows appended after a resume fit the header."""

    def _check_log_dir_exists(self) -> None:
        path = Path(self.metrics_file_path)
        if path.is_file():
            with path.open(newline="") as f:
                self.metrics_keys = list(csv.DictReader(f).fieldnames or [])


class ResumableCSVLogger(CSVLogger):
    """A CSVLogger whose metrics.csv survives a resume: a resumed job appends to the log it was killed in,
    and `srnlab.lit.callbacks.ResumableCsvLog` cuts that log back to the resumed step first."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _KeptMetricsWriter(log_dir=self.log_dir)
        return self._experiment
