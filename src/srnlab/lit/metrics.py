"""PSNR, SSIM and other per-image scores, computed the way deblurring papers report them, as torchmetrics that
reduce across processes.

Convention (spec section 4): outputs clipped to [0, 1] and quantised to 8 bits; PSNR is the mean over images
of 10*log10(1/MSE) (not one PSNR of the pooled MSE); SSIM is the per-channel Gaussian SSIM of scikit-image
(11x11 window, sigma 1.5, population covariance, K1 0.01, K2 0.03), averaged over channels and over the image
minus a 5-pixel border, then over images. torchmetrics' own SSIM averages the padded border too (about 6e-4
higher); cropping the border of its full SSIM map gives scikit-image's number. MATLAB's 3-D SSIM that the
paper used gives higher numbers than either; we do not emulate it.

Every metric is a per-image function registered by name in `METRICS` (as BasicSR's metric registry):
`model.metrics` lists the ones a run computes, and training, `srn-eval` and `srn-table1` take them from
there. Adding one is a function with `@register_metric("name")` plus its name in that config list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from srnlab.errors import ConfigError
from srnlab.precision import full_precision

PerImageMetric = Callable[[Tensor, Tensor], Tensor]  # (preds, target), B x C x H x W in [0, 1] -> B scores
METRICS: dict[str, PerImageMetric] = {}
DEFAULT_METRICS = ("psnr", "ssim")  # the paper's (spec section 4)


def register_metric(name: str) -> Callable[[PerImageMetric], PerImageMetric]:
    """Make a per-image metric available to `model.metrics` under `name`."""

    def register(fn: PerImageMetric) -> PerImageMetric:
        METRICS[name] = fn
        return fn

    return register


def check_metrics(names: Sequence[str]) -> tuple[str, ...]:
    """The names as a tuple, refusing unknown ones with the list of known ones."""
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        raise ConfigError(f"model.metrics: unknown {unknown or 'empty list'}; choose from {sorted(METRICS)}")
    return tuple(names)


SSIM_WINDOW = 11
SSIM_BORDER = (SSIM_WINDOW - 1) // 2


def quantize(x: Tensor) -> Tensor:
    """Clip to [0, 1] and round to 8 bits in fp32: what a saved PNG would hold, whatever the network's dtype."""
    with full_precision(x.device.type):
        return torch.round(x.float().clamp(0.0, 1.0) * 255.0) / 255.0


@register_metric("psnr")
def per_image_psnr(preds: Tensor, target: Tensor) -> Tensor:
    """PSNR of each image of a batch, on [0, 1] data."""
    return peak_signal_noise_ratio(preds, target, data_range=1.0, dim=(1, 2, 3), reduction="none")


@register_metric("ssim")
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


@register_metric("grad_ratio")
def per_image_gradient_ratio(preds: Tensor, target: Tensor) -> Tensor:
    """How sharp the output is next to the sharp image: the mean gradient magnitude of the luma (central
    differences, one-sided at the border, as numpy.gradient) of `preds` over that of `target`. 1 means as much
    edge energy as the truth; a blurry image scores below 1 and over-sharpening or ringing above 1. PSNR cannot
    tell a blurry output from a noisy one; this can. Closer to 1 is better; it is no quality score alone."""
    weights = preds.new_tensor([0.299, 0.587, 0.114][: preds.shape[1]])
    weights = (weights / weights.sum()).view(1, -1, 1, 1)
    energy = []
    for image in (preds, target):
        dy, dx = torch.gradient((image * weights).sum(dim=1), dim=(-2, -1))
        energy.append(torch.sqrt(dx.square() + dy.square()).flatten(1).mean(dim=1))
    return energy[0] / energy[1].clamp_min(1e-8)


def score_images(preds: Tensor, target: Tensor, names: Sequence[str] = DEFAULT_METRICS) -> dict[str, Tensor]:
    """Per-image scores of a batch, one entry per metric name: what the test records keep and ImageScores
    averages.

    Always in fp32 with autocast off: Lightning runs validation and test steps under autocast, and a bf16
    SSIM (a Gaussian convolution) of the blurry input reads 0.33 where fp32 reads 0.76.
    """
    with full_precision(preds.device.type):
        preds, target = preds.float(), target.float()
        return {name: METRICS[name](preds, target) for name in names}


class ImageScores(Metric):
    """Means over images of per-image scores (the metrics named in `names`); sums and counts reduce correctly
    under DDP.

    `update(preds, target)` scores a batch; `add(scores)` takes scores already computed by `score_images`,
    so that a caller that also keeps them per image computes each only once.
    """

    full_state_update = False

    def __init__(self, names: Sequence[str] = DEFAULT_METRICS) -> None:
        super().__init__()
        self.names = check_metrics(names)
        self.add_state("sums", default=torch.zeros(len(self.names), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        self.add(score_images(preds, target, self.names))

    def add(self, scores: dict[str, Tensor]) -> None:
        self.sums += torch.stack([scores[name].double().sum() for name in self.names]).to(self.sums.device)
        self.count += scores[self.names[0]].numel()

    def compute(self) -> dict[str, Tensor]:
        means = (self.sums / self.count).float()
        return {name: means[i] for i, name in enumerate(self.names)}
