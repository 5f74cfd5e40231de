"""PSNR, SSIM and other per-image scores, each under the name of the convention it follows, as torchmetrics that
reduce across processes.

Deblurring papers report PSNR and SSIM in at least three conventions, and SSIM differs by 0.02 to 0.10 between
them on the same images (docs/metric-conventions.md). Each convention here is a metric of its own name:

- `psnr`, `ssim`: RGB; SSIM is scikit-image's per-channel Gaussian SSIM (11x11 window, sigma 1.5, population
  covariance, K1 0.01, K2 0.03), averaged over channels and over the image minus a 5-pixel border. torchmetrics'
  own SSIM averages the padded border too (about 6e-4 higher); cropping the border of its full SSIM map gives
  scikit-image's number (and BasicSR's `calculate_ssim` on RGB).
- `psnr_y`, `ssim_y`: the same on the ITU-R BT.601 luma, as BasicSR's `test_y_channel=True`.
- `ssim_3d`: MATLAB's `ssim()` on the H x W x 3 colour array, which treats it as a volume: the convention of
  the paper's numbers (its README: MATLAB `psnr()` / `ssim()` on the colour results).

Every one clips outputs to [0, 1] and quantises them to 8 bits first (`quantize`, by the caller), is the mean
over images of a per-image score (PSNR: of 10*log10(peak^2/MSE), not one PSNR of the pooled MSE), and cuts
`model.crop_border` pixels off each side of both images before scoring (0: none, as the papers above).

Every metric is a per-image function registered by name in `METRICS` (as BasicSR's metric registry), with the
convention it follows in `CONVENTIONS`: `model.metrics` lists the ones a run computes, and training, `srn-eval`
and `srn-table1` take them from there. Adding one is a function with `@register_metric("name", header, text)`
plus its name in that config list.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from srnlab.errors import ConfigError
from srnlab.precision import full_precision

PerImageMetric = Callable[[Tensor, Tensor], Tensor]  # (preds, target), B x C x H x W in [0, 1] -> B scores


@dataclass(frozen=True)
class Convention:
    """How a metric's number is computed, in words, so that every table can say which convention a column
    follows: `header` is short enough for a table header, `text` says what a reader would check in a paper's
    evaluation code."""

    header: str
    text: str


METRICS: dict[str, PerImageMetric] = {}
CONVENTIONS: dict[str, Convention] = {}
DEFAULT_METRICS = ("psnr", "ssim", "ssim_3d")  # conf/model/srn.yaml's: ssim_3d is the paper's SSIM convention


def register_metric(name: str, header: str = "", text: str = "") -> Callable[[PerImageMetric], PerImageMetric]:
    """Make a per-image metric available to `model.metrics` under `name`; `header` and `text` name the
    convention it follows (the header defaults to the name)."""

    def register(fn: PerImageMetric) -> PerImageMetric:
        METRICS[name] = fn
        CONVENTIONS[name] = Convention(header or name.replace("_", " "), text)
        return fn

    return register


def check_metrics(names: Sequence[str]) -> tuple[str, ...]:
    """The names as a tuple, refusing unknown ones with the list of known ones."""
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        raise ConfigError(f"model.metrics: unknown {unknown or 'empty list'}; choose from {sorted(METRICS)}")
    return tuple(names)


def check_crop_border(pixels: object) -> int:
    """`model.crop_border` as a whole number of pixels >= 0, refusing anything else."""
    if isinstance(pixels, bool) or not isinstance(pixels, int) or pixels < 0:
        raise ConfigError(f"model.crop_border: the pixels cut off each side before scoring, a whole number >= 0; "
                          f"got {pixels!r}")  # fmt: skip
    return pixels


def metric_header(name: str) -> str:
    """The table header of a metric (or of its blurry-input twin `blur_<name>`), naming its convention; a name
    this srnlab does not know (a newer one's) is shown as it is."""
    if name.startswith("blur_") and name.removeprefix("blur_") in CONVENTIONS:
        return "blurry input " + CONVENTIONS[name.removeprefix("blur_")].header
    return CONVENTIONS[name].header if name in CONVENTIONS else name.replace("_", " ")


SSIM_WINDOW = 11
SSIM_BORDER = (SSIM_WINDOW - 1) // 2
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
SSIM_3D_RADIUS = math.ceil(3 * SSIM_SIGMA)  # MATLAB ssim.m: filtRadius = ceil(radius*3), a window of 2r+1 = 11
BT601_Y = (65.481, 128.553, 24.966)  # ITU-R BT.601 luma of [0, 1] R, G, B on the 0..255 scale (BasicSR rgb2ycbcr)
BT601_Y_OFFSET = 16.0
Y_PEAK = 255.0  # BasicSR scores the luma on the 0..255 scale


def quantize(x: Tensor) -> Tensor:
    """Clip to [0, 1] and round to 8 bits in fp32: what a saved PNG would hold, whatever the network's dtype."""
    with full_precision(x.device.type):
        return torch.round(x.float().clamp(0.0, 1.0) * 255.0) / 255.0


def cut_border(images: Tensor, pixels: int) -> Tensor:
    """`images` without `pixels` rows and columns on each side (BasicSR's `crop_border`)."""
    if pixels == 0:
        return images
    height, width = images.shape[-2:]
    if 2 * pixels >= min(height, width):
        raise ConfigError(f"model.crop_border={pixels} leaves nothing of a {height}x{width} image")
    return images[..., pixels:-pixels, pixels:-pixels]


def bt601_luma(images: Tensor) -> Tensor:
    """The luma Y = 16 + 65.481 R + 128.553 G + 24.966 B of B x 3 x H x W images in [0, 1], B x 1 x H x W on the
    0..255 scale, not rounded: exactly BasicSR's `to_y_channel` (`rgb2ycbcr(y_only=True)`), so that `psnr_y`
    and `ssim_y` are the numbers of its `test_y_channel=True`."""
    if images.shape[1] != len(BT601_Y):
        raise ConfigError(f"model.metrics: psnr_y and ssim_y need RGB images, got {images.shape[1]} channel(s)")
    weights = images.new_tensor(BT601_Y).view(1, -1, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True) + BT601_Y_OFFSET


def gaussian_ssim_2d(preds: Tensor, target: Tensor, data_range: float) -> Tensor:
    """scikit-image's Gaussian SSIM of each image, per channel then averaged: torchmetrics' full SSIM map with
    its 5-pixel border (where the padding enters) cut off."""
    _, ssim_map = structural_similarity_index_measure(
        preds, target, data_range=data_range, gaussian_kernel=True, sigma=SSIM_SIGMA, kernel_size=SSIM_WINDOW,
        reduction="none", return_full_image=True,
    )  # fmt: skip
    b = SSIM_BORDER
    if ssim_map.shape[-1] > 2 * b and ssim_map.shape[-2] > 2 * b:
        ssim_map = ssim_map[..., b:-b, b:-b]
    return ssim_map.flatten(1).mean(dim=1)


def gaussian_taps(sigma: float, radius: int, like: Tensor) -> Tensor:
    """The 2r+1 weights of a normalised 1-D Gaussian, in `like`'s dtype and device."""
    x = torch.arange(-radius, radius + 1, dtype=like.dtype, device=like.device)
    taps = torch.exp(-(x**2) / (2 * sigma**2))
    return taps / taps.sum()


def replicate_filter(volume: Tensor, taps: Tensor, dim: int) -> Tensor:
    """`volume` filtered along `dim` with the symmetric `taps`, padded by repeating its edge values (MATLAB's
    `imfilter(..., 'replicate')`). Clamped indices pad any length, also more than the axis holds: MATLAB pads
    the 3-long colour axis by 5 on each side."""
    radius = (len(taps) - 1) // 2
    length = volume.shape[dim]
    index = torch.arange(-radius, length + radius, device=volume.device).clamp(0, length - 1)
    padded = volume.index_select(dim, index)
    weights = taps.tolist()
    filtered = padded.narrow(dim, 0, length) * weights[0]
    for k, weight in enumerate(weights[1:], start=1):
        filtered.add_(padded.narrow(dim, k, length), alpha=weight)  # in place: a 720p frame's maps take 110 MB
    return filtered


def ssim_3d_map(preds: Tensor, target: Tensor, data_range: float) -> Tensor:
    """MATLAB's SSIM map of volumes (the last three axes of `preds` and `target`), the size of the input: local
    statistics under one isotropic Gaussian window (sigma 1.5, radius ceil(3 sigma) = 5) over all three axes,
    replicate padding, C1 = (0.01 L)^2, C2 = (0.03 L)^2 with L = `data_range`."""
    taps = gaussian_taps(SSIM_SIGMA, SSIM_3D_RADIUS, preds)
    stats = torch.stack([preds, target, preds * preds, target * target, preds * target])
    for dim in (-3, -2, -1):
        stats = replicate_filter(stats, taps, dim)
    mu_x, mu_y, xx, yy, xy = stats.unbind()
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    numerator = (2 * mu_x * mu_y + c1) * (2 * (xy - mu_x * mu_y) + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (xx - mu_x**2 + yy - mu_y**2 + c2)
    return numerator / denominator


@register_metric("psnr", "PSNR (RGB)", "10 log10(1/MSE) of each image over its three RGB channels, data in [0, 1]")
def per_image_psnr(preds: Tensor, target: Tensor) -> Tensor:
    """PSNR of each image of a batch, on [0, 1] data."""
    return peak_signal_noise_ratio(preds, target, data_range=1.0, dim=(1, 2, 3), reduction="none")


@register_metric(
    "ssim", "SSIM (RGB, skimage)",
    "scikit-image structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, "
    "data_range=1) on RGB: per-channel 11x11 Gaussian SSIM, its 5-pixel border cut, mean over the channels "
    "(BasicSR's calculate_ssim on RGB is the same)",
)  # fmt: skip
def per_image_ssim(preds: Tensor, target: Tensor) -> Tensor:
    """scikit-image's SSIM of each image of a batch (see the module docstring)."""
    return gaussian_ssim_2d(preds, target, 1.0)


@register_metric(
    "psnr_y", "PSNR (Y, BasicSR)",
    "10 log10(255^2/MSE) of the ITU-R BT.601 luma Y = 16 + 65.481 R + 128.553 G + 24.966 B (0..255, not "
    "rounded): BasicSR's calculate_psnr with test_y_channel=True",
)  # fmt: skip
def per_image_psnr_y(preds: Tensor, target: Tensor) -> Tensor:
    """PSNR of each image's luma, in float64 as BasicSR computes it."""
    luma = [bt601_luma(x.double()) for x in (preds, target)]
    return peak_signal_noise_ratio(*luma, data_range=Y_PEAK, dim=(1, 2, 3), reduction="none").to(preds.dtype)


@register_metric(
    "ssim_y", "SSIM (Y, BasicSR)",
    "the SSIM of `ssim` (11x11 Gaussian, sigma 1.5, 5-pixel border cut) on the BT.601 luma of psnr_y, data "
    "range 255: BasicSR's calculate_ssim with test_y_channel=True",
)  # fmt: skip
def per_image_ssim_y(preds: Tensor, target: Tensor) -> Tensor:
    """SSIM of each image's luma, in float64 as BasicSR computes it."""
    return gaussian_ssim_2d(bt601_luma(preds.double()), bt601_luma(target.double()), Y_PEAK).to(preds.dtype)


@register_metric(
    "ssim_3d", "SSIM 3-D (MATLAB)",
    "MATLAB's ssim() on the H x W x 3 colour array, a volume: one 11x11x11 Gaussian window (sigma 1.5) over "
    "rows, columns and channels, replicate padding on every axis, the mean of the whole SSIM volume, no border "
    "cut; the paper's convention (its README: MATLAB psnr()/ssim() on the colour results), and NAFNet's ssim3d",
)  # fmt: skip
def per_image_ssim_3d(preds: Tensor, target: Tensor) -> Tensor:
    """MATLAB's SSIM of each image of a batch, its channels one axis of the volume; in float64, as MATLAB
    computes it (here 33 shifted sums per statistic, about as fast as fp32 convolutions on a CPU)."""
    ssim_map = ssim_3d_map(preds.double(), target.double(), 1.0)
    return ssim_map.flatten(1).mean(dim=1).to(preds.dtype)


@register_metric(
    "grad_ratio", "grad ratio (luma)",
    "mean gradient magnitude of the luma 0.299 R + 0.587 G + 0.114 B (numpy.gradient) of the output over the "
    "sharp image's; 1 is as sharp as the truth",
)  # fmt: skip
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


def score_images(
    preds: Tensor, target: Tensor, names: Sequence[str] = DEFAULT_METRICS, crop_border: int = 0
) -> dict[str, Tensor]:
    """Per-image scores of a batch, one entry per metric name, `crop_border` pixels cut off each side of both
    images first: what the test records keep and ImageScores averages.

    Always in fp32 (or float64, where a metric asks) with autocast off: Lightning runs validation and test
    steps under autocast, and a bf16 SSIM (a Gaussian convolution) of the blurry input reads 0.33 where fp32
    reads 0.76.
    """
    with full_precision(preds.device.type):
        preds, target = (cut_border(x.float(), crop_border) for x in (preds, target))
        return {name: METRICS[name](preds, target) for name in names}


class ImageScores(Metric):
    """Means over images of per-image scores (the metrics named in `names`, `crop_border` pixels cut off each
    side); sums and counts reduce correctly under DDP.

    `update(preds, target)` scores a batch; `add(scores)` takes scores already computed by `score_images`,
    so that a caller that also keeps them per image computes each only once.
    """

    full_state_update = False

    def __init__(self, names: Sequence[str] = DEFAULT_METRICS, crop_border: int = 0) -> None:
        super().__init__()
        self.names = check_metrics(names)
        self.crop_border = check_crop_border(crop_border)
        self.add_state("sums", default=torch.zeros(len(self.names), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        self.add(score_images(preds, target, self.names, self.crop_border))

    def add(self, scores: dict[str, Tensor]) -> None:
        self.sums += torch.stack([scores[name].double().sum() for name in self.names]).to(self.sums.device)
        self.count += scores[self.names[0]].numel()

    def compute(self) -> dict[str, Tensor]:
        means = (self.sums / self.count).float()
        return {name: means[i] for i, name in enumerate(self.names)}
