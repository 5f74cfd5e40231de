"""Learning-rate schedules as per-step multipliers for torch's LambdaLR."""

from __future__ import annotations

import math
from typing import Literal

from srnlab.errors import ConfigError

Decay = Literal["poly", "cosine", "constant"]
DECAYS = ("poly", "cosine", "constant")


class WarmupDecay:
    """lr(step) / lr: a linear warm-up over `warmup_steps`, then a decay from lr to end_lr at `max_steps`.

    `poly` is the paper's (lr - end_lr) * (1 - t) ** power + end_lr (official code); `cosine` follows half a
    cosine; `constant` stays at lr after the warm-up (end_lr is unused). A plain object, not a closure:
    LambdaLR saves its attributes in the checkpoint, so a resumed run continues the same schedule.
    """

    def __init__(
        self,
        max_steps: int,
        lr: float,
        end_lr: float,
        decay: Decay = "poly",
        power: float = 0.3,
        warmup_steps: int = 0,
    ) -> None:
        if decay not in DECAYS:
            raise ConfigError(f"model.scheduler.decay must be one of {list(DECAYS)}, got {decay!r}")
        if not 0 <= warmup_steps < max(1, max_steps):
            raise ConfigError(f"model.scheduler.warmup_steps={warmup_steps} must lie in [0, max_steps={max_steps})")
        self.max_steps, self.warmup_steps = max(1, max_steps), warmup_steps
        self.end_ratio, self.decay, self.power = end_lr / lr, decay, power

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.decay == "constant":
            return 1.0
        span = self.max_steps - self.warmup_steps
        t = min(step - self.warmup_steps, span) / span
        shape = (1.0 - t) ** self.power if self.decay == "poly" else 0.5 * (1.0 + math.cos(math.pi * t))
        return (1.0 - self.end_ratio) * shape + self.end_ratio
