"""Learning-rate schedules as per-step multipliers for torch's LambdaLR."""

from __future__ import annotations

import math
from typing import Literal

Decay = Literal["poly", "cosine"]


class WarmupDecay:
    """lr(step) / lr: a linear warm-up over `warmup_steps`, then a decay from lr to end_lr at `max_steps`.

    `poly` is the paper's (lr - end_lr) * (1 - t) ** power + end_lr (official code); `cosine` follows half a
    cosine. A plain object, not a closure: LambdaLR saves its attributes in the checkpoint, so a resumed run
    continues the same schedule.
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
        if decay not in ("poly", "cosine"):
            raise ValueError(f"model.scheduler.decay must be 'poly' or 'cosine', got {decay!r}")
        if not 0 <= warmup_steps < max(1, max_steps):
            raise ValueError(f"model.scheduler.warmup_steps={warmup_steps} must lie in [0, max_steps={max_steps})")
        self.max_steps, self.warmup_steps = max(1, max_steps), warmup_steps
        self.end_ratio, self.decay, self.power = end_lr / lr, decay, power

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = self.max_steps - self.warmup_steps
        t = min(step - self.warmup_steps, span) / span
        shape = (1.0 - t) ** self.power if self.decay == "poly" else 0.5 * (1.0 + math.cos(math.pi * t))
        return (1.0 - self.end_ratio) * shape + self.end_ratio
