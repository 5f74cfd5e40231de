"""Training one variant from a composed config: the job's resume logic, the Trainer it builds, and the result
record it leaves (`srn-train`, srnlab.cli.train, is the command)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import LearningRateMonitor

from srnlab.lit.callbacks import Interrupted, SignalCheckpoint, TrainingDiverged
from srnlab.lit.checkpoint_io import AtomicCheckpointIO
from srnlab.lit.loggers import build_loggers, isolated_wandb, log_summary, run_summary
from srnlab.lit.module import DeblurModule
from srnlab.models.measure import count_parameters, describe_variant
from srnlab.precision import describe_machine, trainer_precision
from srnlab.runs.checkpoints import UnreadableCheckpoint, check_variant
from srnlab.runs.files import is_launching_process, read_json, write_csv
from srnlab.runs.results import PROGRESS_FILE, TEST_IMAGES_FILE, Budget, RunResult
from srnlab.runs.weights import load_network

log = logging.getLogger(__name__)


def resume_checkpoint(cfg: DictConfig, output_dir: Path, module: DeblurModule) -> str | None:
    """The checkpoint to continue from: `ckpt_path` if given, else this job's newest readable checkpoint
    (last.ckpt first). Either must hold the configured variant, or the job stops before touching anything.

    An unreadable checkpoint of the job's own (a copy cut short, a file emptied by a full disk) is moved
    aside, never deleted, and the job falls back to the next one, or starts over if none is left."""
    net = module.settings["net"]
    trust = bool(cfg.get("trust_checkpoint", False))
    if cfg.ckpt_path:
        check_variant(cfg.ckpt_path, net, trust=trust)
        log.info("resuming from %s", cfg.ckpt_path)
        return str(cfg.ckpt_path)
    folder = output_dir / "checkpoints"
    for torn in folder.glob(".*.partial"):  # a write that a kill interrupted; the file it was to replace is intact
        torn.unlink()
        log.info("removed %s, a checkpoint write that never finished", torn.name)
    moved = []
    for ckpt in own_checkpoints(folder):
        try:
            check_variant(ckpt, net, trust=trust)
        except UnreadableCheckpoint as error:
            moved.append(move_aside(ckpt))
            log.warning("%s is unreadable (%s); moved it to %s", ckpt, error.__cause__ or error, moved[-1].name)
            continue
        if moved:
            log.warning("resuming from %s instead", ckpt)
        else:
            log.info("resuming from %s", ckpt)
        return str(ckpt)
    if moved:
        log.warning("no readable checkpoint left in %s: training starts over from step 0", folder)
    return None


def initialise_network(cfg: DictConfig, module: DeblurModule) -> None:
    """Fine-tuning (`init_weights`): the network starts from another run's weights of the same variant, while
    the optimiser, the schedule and the step count start afresh, so a new recipe or new data gets its whole
    schedule. Called only for a job that does not resume: one that resumes has moved on from these weights."""
    path = cfg.get("init_weights")
    if not path:
        return
    trust = bool(cfg.get("trust_checkpoint", False))
    check_variant(path, module.settings["net"], trust=trust)
    module.net.load_state_dict(load_network(path, trust=trust)[0].state_dict())
    log.info("network initialised from %s (fresh optimiser and schedule)", path)


def own_checkpoints(folder: Path) -> list[Path]:
    """A job's checkpoints in resume order: the newest of last.ckpt and the hpc_ckpt_N.ckpt that Lightning's
    SLURM requeue saves in the run folder (the parent of `folder`), then the others newest first."""
    latest = _newest_first([*folder.glob("last.ckpt"), *folder.parent.glob("hpc_ckpt_*.ckpt")])
    return [*latest, *_newest_first(p for p in folder.glob("*.ckpt") if p.name != "last.ckpt")]


def _newest_first(paths: Iterable[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: -p.stat().st_mtime)


def move_aside(path: Path) -> Path:
    """Rename `path` to `<name>.unreadable-<UTC time>` in its folder, out of every *.ckpt glob."""
    aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    path.rename(aside)
    return aside


def train(cfg: DictConfig) -> RunResult:
    """Fit, test the best checkpoint, and leave result.json in the job folder (also for a diverged job, and for
    a failed one when `fail_fast` is off, so that a sweep goes on and its table says what went wrong)."""
    output_dir = Path(cfg.paths.output_dir)
    finished = RunResult.read(output_dir)
    if cfg.skip_finished and finished and finished.ok:
        log.info("%s already finished in %s: skipping (skip_finished=false retrains)", cfg.variant.id, output_dir)
        return finished
    pl.seed_everything(cfg.seed, workers=True)
    started = time.monotonic()
    try:
        result = _fit_and_test(cfg, output_dir)
    except Interrupted as stop:
        result = _identity(cfg, status="interrupted", interrupted=stop.record(), error=str(stop))
        result.wall_time_s = time.monotonic() - started
        result.write(output_dir)
        raise
    except TrainingDiverged as diverged:
        log.error("%s: %s", cfg.variant.id, diverged)
        result = _identity(cfg, status="diverged", diverged=diverged.record(), error=str(diverged))
    except Exception as error:
        if cfg.get("fail_fast", True):
            raise
        log.exception("%s failed", cfg.variant.id)
        result = _identity(cfg, status="failed", error=f"{type(error).__name__}: {error}".splitlines()[0])
    result.wall_time_s = time.monotonic() - started
    result.write(output_dir)
    return result


def _fit_and_test(cfg: DictConfig, output_dir: Path) -> RunResult:
    datamodule = instantiate(cfg.data)
    module = DeblurModule.from_config(cfg)
    log.info(describe_variant(cfg, module.net))
    ckpt_path = resume_checkpoint(cfg, output_dir, module)
    if ckpt_path is None:
        initialise_network(cfg, module)
    if is_launching_process():
        datamodule.prepare_data()
    datamodule.setup("fit")  # data mistakes surface here, before any logger or checkpoint writes a file
    precision = trainer_precision(cfg.trainer)
    with isolated_wandb():
        loggers = build_loggers(cfg, output_dir)
        callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
        if not loggers:  # logger=none: Lightning refuses a learning-rate monitor with nothing to log to
            callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
        trainer = instantiate(
            cfg.trainer,
            precision=precision.precision,
            logger=loggers or False,
            callbacks=callbacks,
            plugins=[AtomicCheckpointIO()],
        )
        fit(trainer, module, datamodule, ckpt_path, cfg)
        test = trainer.test(module, datamodule=datamodule, ckpt_path="best", weights_only=True)[0] if cfg.test else {}
        if cfg.test and trainer.is_global_zero:
            write_csv(output_dir / TEST_IMAGES_FILE, module.test_records)
        progress = read_json(output_dir / PROGRESS_FILE) or {}
        if trainer.is_global_zero:
            log_summary(trainer.loggers, run_summary(cfg, module.net, progress.get("train_time_s")))
    history = progress.get("val_history", [])
    return _identity(
        cfg,
        precision=precision.precision,
        machine=describe_machine(str(cfg.trainer.get("accelerator", "auto")), precision),
        params=count_parameters(module.net),
        global_step=progress.get("global_step"),
        train_time_s=progress.get("train_time_s"),
        val_first=history[0] if history else None,
        val_last=history[-1] if history else None,
        val_best_psnr=max((h["val/psnr"] for h in history), default=None),
        test={k: float(v) for k, v in test.items()},
        best_ckpt=trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else None,
    )


def fit(trainer: pl.Trainer, module: DeblurModule, datamodule: Any, ckpt_path: str | None, cfg: DictConfig) -> None:
    """trainer.fit, with a stop by a signal (SignalCheckpoint) raised as Interrupted: Lightning ends such a
    fit with SystemExit (status 0 for SIGTERM), which would read as a success to a scheduler."""
    stopper = next((c for c in trainer.callbacks if isinstance(c, SignalCheckpoint)), None)
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=not cfg.get("trust_checkpoint"))
    except SystemExit as stop:
        if stopper is None or stopper.signum is None:
            raise
        raise Interrupted(stopper.signum, trainer.global_step) from stop


def _identity(cfg: DictConfig, **outcome: Any) -> RunResult:
    """The job's record: what it trained and with which budget, plus `outcome`."""
    budget = Budget(
        max_steps=cfg.trainer.max_steps,
        crop_size=cfg.data.crop_size,
        batch_size=cfg.data.batch_size,
        width_mult=cfg.model.net.width_mult,
    )
    variant = OmegaConf.to_container(cfg.variant, resolve=True)
    return RunResult(
        variant, budget, cfg.get("profile_name"), cfg.get("sweep_group"), cfg.get("seed"),
        crop_border=cfg.model.get("crop_border", 0), **outcome,
    )  # fmt: skip


def assign_job_gpu(cfg: DictConfig) -> None:
    """joblib and submitit_local run several jobs on one machine but assign no GPUs: give job k the GPU
    k mod N through `trainer.devices`, which works even where a reused worker has already initialised CUDA."""
    n_gpus = cfg.get("spread_jobs_over_gpus") or 0
    if n_gpus > 0 and HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        cfg.trainer.devices = [HydraConfig.get().job.num % n_gpus]
