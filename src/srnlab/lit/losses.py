"""The multi-scale training loss of SRN."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor


def multiscale_mse(outputs: Sequence[Tensor], sharp: Tensor, weights: Sequence[float] | None = None) -> Tensor:
    """Sum over scales of kappa_i * MSE(I_i, S_i), S_i = the sharp image resized bilinearly (paper, Eq. 5)."""
    weights = weights if weights is not None else [1.0] * len(outputs)
    if len(weights) != len(outputs):
        raise ValueError(f"model.loss.scale_weights has {len(weights)} entries for {len(outputs)} scales")
    total = outputs[0].new_zeros(())
    for out, w in zip(outputs, weights, strict=True):
        target = sharp if out.shape == sharp.shape else F.interpolate(sharp, size=out.shape[-2:], mode="bilinear")
        total = total + w * F.mse_loss(out, target)
    return total
