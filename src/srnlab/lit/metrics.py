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
from torchmetrics import Metric
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from srnlab.precision import full_precision

SSIM_WINDOW = 11
SSIM_BORDER = (SSIM_WINDOW - 1) // 2


def quantize(x: Tensor) -> Tensor:
    """Clip to [0, 1] and round to 8 bits in fp32: what a saved PNG would hold, whatever the network's dtype."""
    with full_precision(x.device.type):
        return torch.round(x.float().clamp(0.0, 1.0) * 255.0) / 255.0


def per_image_psnr(preds: Tensor, target: Tensor) -> Tensor:
    """PSNR of each image of a batch, on [0, 1] data."""
    return peak_signal_noise_ratio(preds, target, data_range=1.0, dim=(1, 2, 3), reduction="none")


def per_image_ssim(preds: Tensor, target: Tensor) -> Tensor:
    """scikit-image's SSIM of each image of a batch (see the module docstring)."""
    _, ssim_map = structural_similarity_index_measure(
        preds, target, data_range=1.0, gaussian_kernel=True, sigma=1.5, kernel_size=SSIM_WINDOW,
        reduction="none", return_full_image=True,
    )  # fmt: skip
    b = SSIM_BORDER
    if ssim_map.shape[-1] > 2 * b and ssim_map.shape[-2] > 2 * b:
        ssim_map = ssim_map[..., b:-b, b:-b]
    return ssim_map.flatten(1).mean(dim=1)


def score_images(preds: Tensor, target: Tensor) -> dict[str, Tensor]:
    """Per-image PSNR and SSIM of a batch: what the test records keep and ImageScores averages.

    Always in fp32 with autocast off: Lightning runs validation and test steps under autocast, and a bf16
    SSIM (a Gaussian convolution) of the blurry input reads 0.33 where fp32 reads 0.76.
    """
    with full_precision(preds.device.type):
        preds, target = preds.float(), target.float()
        return {"psnr": per_image_psnr(preds, target), "ssim": per_image_ssim(preds, target)}


class ImageScores(Metric):
    """Means over images of per-image PSNR and SSIM; sums and counts reduce correctly under DDP.

    `update(preds, target)` scores a batch; `add(scores)` takes scores already computed by `score_images`,
    so that a caller that also keeps them per image computes each only once.
    """

    higher_is_better = True
    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        for key in ("psnr", "ssim"):
            self.add_state(key, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        self.add(score_images(preds, target))

    def add(self, scores: dict[str, Tensor]) -> None:
        self.psnr += scores["psnr"].double().sum()
        self.ssim += scores["ssim"].double().sum()
        self.count += scores["psnr"].numel()

    def compute(self) -> dict[str, Tensor]:
        return {"psnr": (self.psnr / self.count).float(), "ssim": (self.ssim / self.count).float()}
