"""Multi-scale training losses: the paper's MSE and the pixel losses later deblurring papers train with.

Every scale's estimate I_i is compared with the sharp image resized to its size, S_i, and the per-scale terms are
summed with weights kappa_i (paper, Eq. 5). What changes between the losses is the per-pixel term: MSE (the
paper's), L1, Charbonnier (a smooth L1), and L1 plus an L1 on the 2-D Fourier transform (MIMO-UNet's
multi-scale frequency reconstruction loss). `model/loss` picks one (conf/model/loss/).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn

from srnlab.errors import ConfigError
from srnlab.precision import full_precision


def charbonnier(pred: Tensor, target: Tensor, eps: float) -> Tensor:
    """mean(sqrt((pred - target)^2 + eps^2)): L1 away from zero, quadratic within eps of it."""
    return torch.sqrt((pred - target) ** 2 + eps**2).mean()


def fourier_l1(pred: Tensor, target: Tensor) -> Tensor:
    """L1 between the real and imaginary parts of the images' 2-D FFTs (MIMO-UNet, Cho et al. ICCV 2021)."""
    return F.l1_loss(torch.view_as_real(torch.fft.rfft2(pred)), torch.view_as_real(torch.fft.rfft2(target)))


class MultiScaleLoss(nn.Module):
    """Sum over scales of kappa_i * (pixel(I_i, S_i) + fft_weight * fourier_l1(I_i, S_i)).

    Computed in fp32 outside autocast, so the loss that is optimised and logged does not depend on the precision
    of the network's convolutions.

    Args:
        pixel: mse (the paper's), l1 or charbonnier.
        scale_weights: kappa_i per scale, coarsest first as the network returns them; None: all ones (paper).
        eps: Charbonnier's epsilon.
        fft_weight: weight of the frequency term (0: none; MIMO-UNet: 0.1).
    """

    def __init__(
        self,
        pixel: str = "mse",
        scale_weights: Sequence[float] | None = None,
        eps: float = 1e-3,
        fft_weight: float = 0.0,
    ) -> None:
        super().__init__()
        pixels: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
            "mse": F.mse_loss, "l1": F.l1_loss, "charbonnier": lambda p, t: charbonnier(p, t, eps),
        }  # fmt: skip
        if pixel not in pixels:
            raise ConfigError(f"model.loss.pixel={pixel!r}: choose one of {', '.join(pixels)}")
        if fft_weight < 0 or eps <= 0:
            raise ConfigError(f"model.loss: fft_weight ({fft_weight}) must be >= 0 and eps ({eps}) > 0")
        self.pixel, self.pixel_fn = pixel, pixels[pixel]
        self.scale_weights = None if scale_weights is None else [float(w) for w in scale_weights]
        self.fft_weight = fft_weight

    def forward(self, outputs: Sequence[Tensor], sharp: Tensor) -> Tensor:
        weights = self.scale_weights if self.scale_weights is not None else [1.0] * len(outputs)
        if len(weights) != len(outputs):
            raise ValueError(f"model.loss.scale_weights has {len(weights)} entries for {len(outputs)} scales")
        with full_precision(sharp.device.type):
            sharp = sharp.float()
            total = sharp.new_zeros(())
            for out, w in zip(outputs, weights, strict=True):
                size = out.shape[-2:]
                target = sharp if size == sharp.shape[-2:] else F.interpolate(sharp, size=size, mode="bilinear")
                term = self.pixel_fn(out.float(), target)
                if self.fft_weight:
                    term = term + self.fft_weight * fourier_l1(out.float(), target)
                total = total + w * term
        return total


def multiscale_mse(outputs: Sequence[Tensor], sharp: Tensor, weights: Sequence[float] | None = None) -> Tensor:
    """The paper's loss (Eq. 5): MultiScaleLoss with MSE."""
    return MultiScaleLoss("mse", weights)(outputs, sharp)


def build_loss(loss: dict[str, Any] | None) -> MultiScaleLoss:
    """The loss a module's `loss` hyperparameter describes. Checkpoints from before the loss was a config group
    hold only `{scale_weights: ...}`: that was the paper's loss."""
    if not loss or "_target_" not in loss:
        return MultiScaleLoss("mse", (loss or {}).get("scale_weights"))
    return instantiate(loss)
