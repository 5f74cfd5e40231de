"""The paper's learning-rate schedule as a per-step multiplier for torch's LambdaLR."""

from __future__ import annotations


def polynomial_decay(step: int, max_steps: int, lr: float, end_lr: float, power: float) -> float:
    """lr(step) / lr for lr(step) = (lr - end_lr) * (1 - step / max_steps) ** power + end_lr (official code)."""
    progress = min(step, max_steps) / max_steps
    return ((lr - end_lr) * (1.0 - progress) ** power + end_lr) / lr
