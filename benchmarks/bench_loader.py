"""Does the data pipeline keep up with the model? Training steps/s fed by the real DataModule against steps/s on
batches already in memory, for a profile's settings (same model, precision, layout and Lightning loop).

The ratio is what matters: at >= 0.9 the loader is not the bottleneck. The profile's own `data.num_workers`
is measured, and, with --workers, the alternatives, so that the profiles can be set from the numbers.
Run: `make bench-data`, or `python benchmarks/bench_loader.py --profiles mini gpu --workers 0 1 2`.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.data import DataLoader, IterableDataset

from srnlab.config import compose_config
from srnlab.lit.module import DeblurModule
from srnlab.precision import trainer_precision


class StepClock(pl.Callback):
    """Wall time of every training step's end, to time steady-state steps without start-up costs."""

    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_train_batch_end(self, *args: Any) -> None:
        self.ends.append(time.perf_counter())

    def steps_per_second(self, warmup: int) -> float:
        ends = self.ends[warmup:]
        return (len(ends) - 1) / (ends[-1] - ends[0])


class InMemoryBatches(IterableDataset):
    """The same collated batches over and over: a loader that costs nothing."""

    def __init__(self, batches: list[dict[str, Any]]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterable[dict[str, Any]]:
        return itertools.cycle(self.batches)


def fit_steps_per_second(
    cfg: DictConfig, loader: DataLoader | pl.LightningDataModule, steps: int, warmup: int, run_dir: Path
) -> float:
    """Steady-state steps/s; a DataModule is attached to the trainer (data.on_device cuts on its device)."""
    pl.seed_everything(0, verbose=False)
    clock = StepClock()
    trainer = pl.Trainer(
        default_root_dir=run_dir,
        accelerator=cfg.trainer.accelerator,
        devices=1,
        precision=trainer_precision(cfg.trainer).precision,
        max_steps=steps + warmup,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[clock],
    )
    trainer.fit(DeblurModule.from_config(cfg), train_dataloaders=loader)
    return clock.steps_per_second(warmup)


def compare(profile: str, workers: int | None, steps: int, warmup: int, overrides: list[str]) -> str:
    cfg = compose_config("train", [f"profile={profile}", *overrides])
    if workers is not None:
        cfg.data.num_workers = workers
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        cfg.trainer.accelerator = "cpu"
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    with tempfile.TemporaryDirectory() as run_dir:
        real = fit_steps_per_second(cfg, datamodule, steps, warmup, Path(run_dir))
        batches = list(itertools.islice(iter(datamodule.train_dataloader()), 4))
        in_memory = DataLoader(InMemoryBatches(batches), batch_size=None)
        memory = fit_steps_per_second(cfg, in_memory, steps, warmup, Path(run_dir))
    d = cfg.data
    setting = f"batch {d.batch_size} of {d.crop_size}^2, width x{cfg.model.net.width_mult}, {cfg.trainer.accelerator}"
    if d.get("on_device", False):
        setting += f", batches cut on the device (data.on_device={d.on_device}: no workers)"
    return f"| {profile} | {setting} | {d.num_workers} | {real:.2f} | {memory:.2f} | {real / memory:.2f} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["mini", "gpu"])
    parser.add_argument("--workers", type=int, nargs="*", help="num_workers to try (default: each profile's own)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (worker start-up, allocator)")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. data.root=/path/to/GOPRO_Large")
    args = parser.parse_args(argv)
    print(f"{torch.get_num_threads()} torch threads; {args.steps} timed steps after {args.warmup} warm-up steps")
    print("| profile | setting | num_workers | steps/s, DataModule | steps/s, in memory | ratio |")
    print("|---|---|---:|---:|---:|---:|", flush=True)
    for profile in args.profiles:
        for workers in args.workers or [None]:
            print(compare(profile, workers, args.steps, args.warmup, args.overrides), flush=True)


if __name__ == "__main__":
    main()
