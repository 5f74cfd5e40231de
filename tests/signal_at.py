"""A callback that signals its own process at a chosen moment of training, so that a test can stop a job exactly
where a scheduler's stop might land (a signal sent from outside lands wherever the job happens to be)."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytorch_lightning as pl

MOMENTS = ("between validations", "mid-validation", "after validation")


class SignalAt(pl.Callback):
    def __init__(self, step: int, moment: str, signum: int = int(signal.SIGTERM)) -> None:
        assert moment in MOMENTS, moment
        self.step, self.moment, self.signum = step, moment, signum

    def _send(self, trainer: pl.Trainer, moment: str) -> None:
        if moment == self.moment and trainer.global_step == self.step and not trainer.sanity_checking:
            os.kill(os.getpid(), self.signum)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self._send(trainer, "between validations")

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                                batch_idx: int, dataloader_idx: int = 0) -> None:  # fmt: skip
        if batch_idx == 0:
            self._send(trainer, "mid-validation")

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._send(trainer, "after validation")
