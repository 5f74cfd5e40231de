"""PSNR and SSIM scored the way deblurring papers report them, as torchmetrics that reduce across processes.

Convention (spec section 4): outputs clipped to [0, 1] and quantised to 8 bits; PSNR is the mean over images
of 10*log10(1/MSE) (not one PSNR of the pooled MSE); SSIM is the per-channel Gaussian SSIM of scikit-image
(11x11 window, sigma 1.5, population covariance, K1 0.01, K2 0.03), averaged over channels and over the image
minus a 5-pixel border, then over images. torchmetrics' own SSIM averages the padded border too (about 6e-4
higher); cropping the border of its full SSIM map gives scikit-image's number. MATLAB's 3-D SSIM that the
paper used gives higher numbers than either; we do not emulate it.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric, MetricCollection
from torchmetrics.functional.image import structural_similarity_index_measure
from torchmetrics.image import PeakSignalNoiseRatio

SSIM_WINDOW = 11
SSIM_BORDER = (SSIM_WINDOW - 1) // 2


def quantize(x: Tensor) -> Tensor:
    """Clip to [0, 1] and round to 8 bits: what a saved PNG would hold."""
    return torch.round(x.clamp(0.0, 1.0) * 255.0) / 255.0


def per_image_psnr(preds: Tensor, target: Tensor) -> Tensor:
    """PSNR of each image of a batch, on [0, 1] data."""
    mse = (preds - target).square().flatten(1).mean(dim=1)
    return 10.0 * torch.log10(1.0 / mse)


def per_image_ssim(preds: Tensor, target: Tensor) -> Tensor:
    """scikit-image's SSIM of each image of a batch (see the module docstring)."""
    _, ssim_map = structural_similarity_index_measure(
        preds,
        target,
        data_range=1.0,
        gaussian_kernel=True,
        sigma=1.5,
        kernel_size=SSIM_WINDOW,
        reduction="none",
        return_full_image=True,
    )
    b = SSIM_BORDER
    if ssim_map.shape[-1] > 2 * b and ssim_map.shape[-2] > 2 * b:
        ssim_map = ssim_map[..., b:-b, b:-b]
    return ssim_map.flatten(1).mean(dim=1)


class ImageSSIM(Metric):
    """Mean over images of `per_image_ssim`; sums and counts reduce correctly under DDP."""

    higher_is_better = True
    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        values = per_image_ssim(preds, target)
        self.total += values.double().sum()
        self.count += values.numel()

    def compute(self) -> Tensor:
        return (self.total / self.count).float()


def deblur_metrics(prefix: str) -> MetricCollection:
    """PSNR (mean over images) and SSIM, keyed `<prefix>psnr` and `<prefix>ssim`."""
    psnr = PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3), reduction="elementwise_mean")
    return MetricCollection({"psnr": psnr, "ssim": ImageSSIM()}, prefix=prefix)
