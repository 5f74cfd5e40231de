"""Tiled inference with seamless blending: deblur photos of any size within a bounded amount of memory.

SR-EDRB3 keeps about ten full-resolution 32-channel feature maps alive at once, so a 4000x3000 photo needs
11 GiB in one piece on a CPU (measured, benchmarks/bench_tiling.py). Run tile by tile, only one tile's
activations exist at a time; the tiles overlap and are cross-faded with a raised-cosine ramp, so no seam
shows where the receptive field was cut.

Tile starts and sizes are multiples of TILE_MULTIPLE = 16 = 4 * 2**(3 - 1): the body pads each scale to a
multiple of 4 and the coarsest of the 3 scales is a quarter of the tile, so such tiles need no padding at any
scale and sit on the same sampling grid as the whole image at every scale (the last tile of a row or column
runs to the border and is padded there as the whole image is).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import torch
from torch import Tensor, nn
from tqdm import tqdm

from srnlab.infer.memory import reusable_bytes

TILE_MULTIPLE = 16
MIN_AUTO_TILE = 256  # smaller tiles would spend most of their time on the overlap

# Resident memory cap on CPU: a 4000x3000 photo must deblur within 2 GB in total (process included).
CPU_PEAK_BYTES = 2_000_000_000
# Share of the free memory (CPU MemAvailable, CUDA free memory) the activations may take: the rest is left to
# other processes, cuDNN workspaces and allocator fragmentation.
FREE_MEMORY_SHARE = 0.5
# Full-resolution feature maps alive at once per widest full-resolution channel, allocator overhead included.
# Measured on CPU (fp32, channels_last, inference mode, one thread) with a full-width SR-EDRB3 (32 channels at
# full resolution): one square input of 640, 768, 896 or 1024 px raised the peak resident memory by 1380,
# 1210-1300, 1140 and 1030 bytes per pixel; a whole 4000x3000 photo in 20 tiles of 936x928 peaked at 2101
# MiB, 809 MiB (process, input and output images) + 1560 bytes per pixel of a tile, as glibc's heap fragments
# over the tiles: 12.2 maps of 32 fp32 channels. 13 leaves a margin.
MAPS_PER_CHANNEL = 13

Tile = tuple[int, int, int, int]  # top, left, height, width


def axis_spans(size: int, tile: int, overlap: int, align: int = TILE_MULTIPLE) -> list[tuple[int, int]]:
    """(start, length) of the tiles covering [0, size) along one axis.

    As many tiles as tiles of `tile` pixels need, each shrunk to the smallest multiple of `align` that still
    covers the axis, so that the pixels computed twice stay close to `overlap` per seam (3000 px in tiles of
    928 and 64 overlap: 4 tiles of about 800 px; 4 of 928 would overlap their last neighbour by 592 px).
    Tiles start every `tile - overlap` pixels, rounded down to a multiple of `align` so that every start is
    on the whole image's sampling grid (at scale 1/4 a start off the grid shifts the bilinear samples, and an
    untrained SR-EDRB3 then differs from the whole-image result everywhere in the tile, not only at its
    edges). The last tile starts on the grid as well and runs to the border, so it is up to `align - 1`
    pixels longer than the others and gets the same edge padding as the whole image. No tile leaves the
    image, and neighbours share at least `overlap` pixels.
    """
    if not 0 <= overlap < tile:
        raise ValueError(f"the overlap ({overlap} px) must be at least 0 and smaller than the tile ({tile} px)")
    if size <= tile:
        return [(0, size)]
    count = math.ceil((size - overlap) / (tile - overlap))
    tile = min(tile, -(-(size + (count - 1) * overlap) // (count * align)) * align)
    step = tile - overlap
    if step >= align:
        step -= step % align
    last = (size - tile) // align * align
    return [(start, tile) for start in range(0, last, step)] + [(last, size - last)]


def plan_tiles(height: int, width: int, tile: int, overlap: int) -> list[Tile]:
    """(top, left, height, width) of every tile, row by row; together they cover the image."""
    rows, cols = axis_spans(height, tile, overlap), axis_spans(width, tile, overlap)
    return [(top, left, h, w) for top, h in rows for left, w in cols]


def _ramp(length: int) -> Tensor:
    """Raised cosine rising from 0 to 1 over `length` pixels, sampled at pixel centres so that no weight is
    0 and a rising and a falling ramp over the same pixels add up to 1."""
    x = (torch.arange(length, dtype=torch.float64) + 0.5) / length
    return torch.sin(0.5 * math.pi * x) ** 2


def axis_weights(size: int, tile: int, overlap: int) -> list[tuple[int, Tensor]]:
    """(start, weights) of each tile along one axis; at every pixel the weights add up to 1 (up to float32
    rounding).

    Each tile fades in over the pixels it shares with the previous tile and out over those it shares with the
    next; at the image border it keeps full weight, its edge there being the image's. The sums are normalised
    anyway, because the last tile may also overlap the tile before its neighbour.
    """
    spans = axis_spans(size, tile, overlap)
    windows = [torch.ones(length, dtype=torch.float64) for _, length in spans]
    for i in range(1, len(spans)):
        (prev_start, prev_length), (start, _) = spans[i - 1], spans[i]
        shared = prev_start + prev_length - start
        windows[i][:shared] *= _ramp(shared)
        windows[i - 1][prev_length - shared :] *= _ramp(shared).flip(0)
    total = torch.zeros(size, dtype=torch.float64)
    for (start, length), window in zip(spans, windows, strict=True):
        total[start : start + length] += window
    return [(s, (w / total[s : s + n]).float()) for (s, n), w in zip(spans, windows, strict=True)]


def deblur_tiled(
    fn: Callable[[Tensor], Tensor],
    image: Tensor,
    tile: int,
    overlap: int,
    progress: bool = True,
    device: torch.device | None = None,
) -> Tensor:
    """`fn` applied to a 1 x C x H x W image tile by tile, the overlaps blended: a float32 CPU tensor.

    `fn` runs in the caller's inference and autocast context, on each tile moved to `device` (default: the
    image's), and must return a tile of the same shape. Its outputs are weighted and summed into a float32
    CPU image, so the device never holds more than one tile and its activations. The 2-D weight of a tile is
    the product of its row and column weights, which already sum to 1, so no weight map the size of the
    image is needed.
    """
    if image.dim() != 4 or image.shape[0] != 1:
        raise ValueError(f"deblur_tiled expects a 1 x C x H x W image, got shape {tuple(image.shape)}")
    height, width = image.shape[-2:]
    rows, cols = axis_weights(height, tile, overlap), axis_weights(width, tile, overlap)
    target = device or image.device
    out = torch.zeros(1, image.shape[1], height, width)
    with tqdm(total=len(rows) * len(cols), desc="tiles", unit="tile", leave=False, disable=not progress) as bar:
        for top, row_weight in rows:
            for left, col_weight in cols:
                h, w = len(row_weight), len(col_weight)
                result = fn(image[..., top : top + h, left : left + w].to(target))
                if result.shape != (1, image.shape[1], h, w):
                    raise ValueError(
                        f"fn returned shape {tuple(result.shape)} for a {h}x{w} tile of {tuple(image.shape)}"
                    )
                out[..., top : top + h, left : left + w] += (
                    result.to("cpu", torch.float32) * row_weight[:, None] * col_weight
                )
                bar.update()
    return out


def full_resolution_channels(net: nn.Module, probe: int = 32) -> int:
    """The widest output of any layer of `net` (a ScaleRecurrentNet) that runs at the input's resolution,
    found by running it once on a small probe image: an encoder-decoder body is widest at its coarse levels,
    which cost little memory, so its parameters alone would overstate the activations fourfold."""
    widths = [0]

    def record(module: nn.Module, inputs: object, output: object) -> None:
        if isinstance(output, Tensor) and output.dim() == 4 and output.shape[-2:] == (probe, probe):
            widths.append(output.shape[1])

    param = next(net.parameters())
    hooks = [m.register_forward_hook(record) for m in net.modules() if not list(m.children())]
    try:
        with torch.inference_mode():
            net(torch.zeros(1, net.in_channels, probe, probe, device=param.device, dtype=param.dtype))
    finally:
        for hook in hooks:
            hook.remove()
    return max(widths)


def activation_bytes_per_pixel(net: nn.Module, dtype: torch.dtype = torch.float32) -> int:
    """Estimated peak activation memory of `net` per input pixel (see MAPS_PER_CHANNEL for the calibration)."""
    return MAPS_PER_CHANNEL * full_resolution_channels(net) * torch.finfo(dtype).bits // 8


def available_cpu_bytes() -> int:
    """Memory the system can give without swapping: MemAvailable, or free pages where /proc is missing."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """The memory this process holds now: resident pages less what the allocator keeps free for reuse
    (srnlab.infer.memory); 0 where /proc is missing (the cap then counts activations only)."""
    try:
        with open("/proc/self/statm") as f:
            resident = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
    return max(resident - reusable_bytes(), 0)


def memory_budget(device: torch.device, reserved: int = 0) -> int:
    """Bytes the network's activations may take on `device`.

    On CUDA a share of the free memory. On CPU a share of MemAvailable, but no more than what keeps the
    process under CPU_PEAK_BYTES, given what it holds now and `reserved` bytes it is about to allocate.
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * FREE_MEMORY_SHARE)
    headroom = CPU_PEAK_BYTES - resident_bytes() - reserved
    return max(0, min(int(available_cpu_bytes() * FREE_MEMORY_SHARE), headroom))


def auto_tile(
    height: int, width: int, net: nn.Module, device: torch.device, dtype: torch.dtype = torch.float32
) -> int | None:
    """None when `net` can deblur the whole image within the memory budget, else the largest tile (a multiple
    of TILE_MULTIPLE, at least MIN_AUTO_TILE) whose estimated activations fit.

    The budget reserves the float32 output image that deblur_tiled accumulates on the CPU.
    """
    per_pixel = activation_bytes_per_pixel(net, dtype)
    output_bytes = net.in_channels * height * width * 4
    budget = memory_budget(device, reserved=output_bytes if device.type == "cpu" else 0)
    if height * width * per_pixel <= budget:
        return None
    side = math.isqrt(budget // per_pixel) // TILE_MULTIPLE * TILE_MULTIPLE
    return max(side, MIN_AUTO_TILE)
