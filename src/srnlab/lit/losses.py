"""The multi-scale training loss of SRN."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor

from srnlab.precision import full_precision


def multiscale_mse(outputs: Sequence[Tensor], sharp: Tensor, weights: Sequence[float] | None = None) -> Tensor:
    """Sum over scales of kappa_i * MSE(I_i, S_i), S_i = the sharp image resized bilinearly (paper, Eq. 5).

    Computed in fp32 outside autocast, so the loss that is optimised and logged does not depend on the
    precision of the network's convolutions.
    """
    weights = weights if weights is not None else [1.0] * len(outputs)
    if len(weights) != len(outputs):
        raise ValueError(f"model.loss.scale_weights has {len(weights)} entries for {len(outputs)} scales")
    with full_precision(sharp.device.type):
        sharp = sharp.float()
        total = sharp.new_zeros(())
        for out, w in zip(outputs, weights, strict=True):
            size = out.shape[-2:]
            target = sharp if size == sharp.shape[-2:] else F.interpolate(sharp, size=size, mode="bilinear")
            total = total + w * F.mse_loss(out.float(), target)
    return total
