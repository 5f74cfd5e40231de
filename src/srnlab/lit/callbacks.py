"""Training callbacks that keep a run's outcome and its logs honest, also across kills and resumes."""

from __future__ import annotations

import csv
import math
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from lightning_fabric.plugins.environments import SLURMEnvironment
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.trainer.states import TrainerFn
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities.exceptions import SIGTERMException
from torch import Tensor

from srnlab.runs.files import replaced_atomically, write_json
from srnlab.runs.results import PROGRESS_FILE


class TrainingDiverged(RuntimeError):
    """The loss left the finite range (or the configured bound): the weights are no longer a result."""

    def __init__(self, step: int, loss: float, last_finite_loss: float | None) -> None:
        self.step, self.loss, self.last_finite_loss = step, loss, last_finite_loss
        last = "none" if last_finite_loss is None else f"{last_finite_loss:.4g}"
        super().__init__(
            f"training diverged at step {step}: loss {loss:.4g} (last finite loss {last}). "
            "Lower model.optimizer.lr or raise model.scheduler.warmup_steps."
        )

    def record(self) -> dict[str, Any]:
        """What result.json keeps of it."""
        return {"step": self.step, "loss": str(self.loss), "last_finite_loss": self.last_finite_loss}


class DivergenceGuard(pl.Callback):
    """Stops training at the first step whose loss is not finite or exceeds `max_loss`.

    It raises instead of asking the trainer to stop: a stop request still ends the epoch, which lets the
    checkpoint callback save the diverged weights, while an exception ends the fit before anything more is
    written. `srn-train` turns the exception into `status: diverged`. Reading the loss costs one host sync
    per step (and, with several processes, one tiny all-reduce).
    """

    def __init__(self, max_loss: float | None = None) -> None:
        self.max_loss = max_loss
        self.last_finite_loss: float | None = None

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, *args: Any) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        value = float(loss.detach()) if isinstance(loss, Tensor) else float(loss)
        diverged = not math.isfinite(value) or (self.max_loss is not None and value > self.max_loss)
        if trainer.world_size > 1:  # every process stops together, or the others wait forever in all-reduce
            diverged = trainer.strategy.reduce_boolean_decision(diverged, all=False)
        if diverged:
            raise TrainingDiverged(trainer.global_step, value, self.last_finite_loss)
        self.last_finite_loss = value


class ResumableCsvLog(pl.Callback):
    """Keeps the CSV log in step with the checkpoints, so that a run killed and resumed any number of times
    logs every step exactly once: the log is flushed whenever a checkpoint is saved (nothing a checkpoint
    covers is lost), and cut back to the step training starts from (nothing logged after the checkpoint, or
    by an attempt that never completed one, and then trained again, is kept twice). Needs a CSV logger that
    keeps its file across attempts (`srnlab.lit.loggers.ResumableCSVLogger`)."""

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        for logger in _csv_loggers(trainer):
            logger.save()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Also when starting over (step 0): an attempt killed before its first complete checkpoint leaves rows."""
        if not trainer.is_global_zero:
            return
        for logger in _csv_loggers(trainer):
            keep_rows_before(Path(logger.experiment.metrics_file_path), trainer.global_step)


def _csv_loggers(trainer: pl.Trainer) -> list[CSVLogger]:
    return [logger for logger in trainer.loggers if isinstance(logger, CSVLogger)]


def keep_rows_before(path: Path, step: int) -> None:
    """Drop the rows of a Lightning metrics.csv logged at `step` or later (rewritten atomically)."""
    if not path.is_file():
        return
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames or [], [r for r in reader if not r.get("step") or int(r["step"]) < step]
    with replaced_atomically(path) as partial, partial.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


class Interrupted(Exception):
    """Training stopped by a signal, with a checkpoint of the last finished step: the job can resume."""

    def __init__(self, signum: int, step: int) -> None:
        self.signum, self.step = signum, step
        super().__init__(f"interrupted by {signal.Signals(signum).name} at step {step}; a checkpoint was saved")

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum

    def record(self) -> dict[str, Any]:
        """What result.json keeps of it."""
        return {"signal": signal.Signals(self.signum).name, "step": self.step}


class SignalCheckpoint(pl.Callback):
    """SIGTERM (a scheduler's stop), SIGINT (Ctrl+C) and SIGUSR1 (a cluster's warning) end training at the next
    step boundary with `last.ckpt`, so that running the job again resumes where it stopped.

    Lightning already stops at a step boundary on SIGTERM (it raises SIGTERMException there), but it exits
    with status 0 and saves nothing. So SIGINT and SIGUSR1 are forwarded as SIGTERM into that same stop, the
    first signal is remembered for the record, and the checkpoint is written in `on_exception`. A second
    Ctrl+C stops at once. Under SLURM, SIGUSR1 stays Lightning's: SLURMEnvironment saves an hpc checkpoint
    and requeues the job (its handler is installed after `on_fit_start`, only where none is there yet).

    A stop right after a validation needs one correction. Lightning saves its own checkpoint of a validation
    step before it counts that step for the loggers, and on resume it counts it again; its stop comes after the
    count. Saved as it is, such a checkpoint would resume with every logged step one too high, so the count is
    written as Lightning's own checkpoint of that step would hold it."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}
        self._validated_step: int | None = None
        self._saving = False

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        forwarded = [signal.SIGINT] + ([] if SLURMEnvironment.detect() else [signal.SIGUSR1])
        for signum in forwarded:
            self._previous[signum] = signal.signal(signum, self._forward)

    def _forward(self, signum: int, frame: Any) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl+C: stop now, without a checkpoint
        self.signum = self.signum or signum
        rank_zero_info(f"received {signal.Signals(signum).name}: stopping after this step with a checkpoint")
        os.kill(os.getpid(), signal.SIGTERM)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._validated_step = trainer.global_step

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if isinstance(exception, SIGTERMException):
            self.signum = self.signum or signal.SIGTERM
            self._saving = True
            try:
                trainer.save_checkpoint(self.dirpath / "last.ckpt")
            finally:
                self._saving = False

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        if self._saving and self._validated_step == trainer.global_step:
            checkpoint["loops"]["fit_loop"]["epoch_loop.state_dict"]["_batches_that_stepped"] -= 1

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}


class RunProgress(pl.Callback):
    """The run's validation history and training time, summed over every attempt of a resumed run: kept in the
    checkpoint (as this callback's state), written to `progress.json` in the run folder at every validation
    and at the end (what `srn-train` reads back for result.json, whatever the strategy: with ddp_spawn the
    trained module lives in another process), and one log line per validation."""

    def __init__(self) -> None:
        self.val_history: list[dict[str, float]] = []
        self._time_before = 0.0
        self._started = time.monotonic()

    @property
    def train_time_s(self) -> float:
        return self._time_before + time.monotonic() - self._started

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._started = time.monotonic()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """After the epoch's metrics are final, and before ModelCheckpoint (Lightning runs it last) saves this
        state with them."""
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:  # not trainer.validate()
            return
        scores = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        self.val_history.append({"step": trainer.global_step, "train_time_s": self.train_time_s, **scores})
        rank_zero_info(describe_validation(trainer.global_step, scores))
        self._write(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._write(trainer)

    def state_dict(self) -> dict[str, Any]:
        return {"val_history": self.val_history, "train_time_s": self.train_time_s}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.val_history = list(state_dict["val_history"])
        self._time_before = float(state_dict["train_time_s"])

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        """Checkpoints of srnlab 0.1 kept both at the top level."""
        if "val_history" in checkpoint and not any(key.startswith("RunProgress") for key in checkpoint["callbacks"]):
            self.load_state_dict({"val_history": checkpoint["val_history"], "train_time_s": checkpoint["train_time_s"]})

    def _write(self, trainer: pl.Trainer) -> None:
        if trainer.is_global_zero:
            progress = {"global_step": trainer.global_step, "train_time_s": self.train_time_s}
            write_json(Path(trainer.default_root_dir) / PROGRESS_FILE, progress | {"val_history": self.val_history})


def describe_validation(step: int, scores: dict[str, float]) -> str:
    """'step 600: val/psnr 21.61 dB, ssim 0.5500 (blurry input 23.56 dB, 0.7598)', plus any other metric."""
    line = (
        f"step {step}: val/psnr {scores.get('val/psnr', math.nan):.2f} dB, ssim {scores.get('val/ssim', math.nan):.4f}"
    )
    line += (
        f" (blurry input {scores.get('val/blur_psnr', math.nan):.2f} dB, {scores.get('val/blur_ssim', math.nan):.4f})"
    )
    others = [k for k in scores if k.removeprefix("val/").removeprefix("blur_") not in ("psnr", "ssim")]
    return line + "".join(f", {k} {scores[k]:.4f}" for k in others)
