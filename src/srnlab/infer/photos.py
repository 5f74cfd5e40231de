"""Deblurring photos (any size, PNG or JPEG, grayscale or RGBA) with a trained checkpoint or the SR-EDRB3 that
ships with srnlab (src/srnlab/pretrained/README.md); `srn-deblur` (srnlab.cli.deblur) is the command.

Photos too large for the memory at hand are deblurred in overlapping tiles blended without seams
(`--tile`, `--overlap`; see srnlab.infer.tiling), so a 4000x3000 photo needs under 2 GB on a CPU.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from srnlab.errors import UserError
from srnlab.image_io import (
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    ImageReadError,
    from_tensor,
    read_image,
    to_tensor,
    write_image,
)
from srnlab.infer.deblurrer import Deblurrer
from srnlab.infer.tiling import TILE_MULTIPLE, auto_tile, deblur_tiled, plan_tiles
from srnlab.precision import autocast, resolve_precision
from srnlab.runs.files import replaced_atomically
from srnlab.runs.weights import PRETRAINED

AUTO = "auto"
DEFAULT_OVERLAP = 64
OUTPUT_TAG = "_deblurred"  # <stem>_deblurred.png: what srn-deblur writes, and what it never reads back as input


class OptionError(UserError, ValueError):
    """A tiling option that cannot work (the message names the option)."""


def find_images(inputs: list[Path]) -> list[Path]:
    """Files as given, folders expanded to the images they hold (sorted); anything else is an error."""
    found = []
    for path in inputs:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    if not found:
        raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {', '.join(map(str, inputs))}")
    return found


@dataclass(frozen=True)
class Job:
    """One input image and the file its result goes to."""

    source: Path
    output: Path


class OutputClash(UserError, ValueError):
    """Two inputs whose results would go to one file, or a result that would replace an input."""


def plan_outputs(images: list[Path], out_dir: Path, overwrite: bool = False) -> tuple[list[Job], list[str]]:
    """Where each image's result goes, decided before anything is written, and why the others are skipped.

    `<stem>_deblurred.png`, or `<stem>_<suffix>_deblurred.png` where two inputs share a stem (b.png and b.jpg);
    inputs named like an earlier result (`*_deblurred.*`) are skipped, so deblurring a folder into itself twice
    never deblurs results again; an existing file is left alone unless `overwrite`. Two inputs that would still
    share one output (a.png in two folders), or an input that `overwrite` would replace, refuse the run.
    """
    skipped = [f"{p}: named like an earlier result of srn-deblur (*{OUTPUT_TAG}.*); not deblurred again"
               for p in images if p.stem.endswith(OUTPUT_TAG)]  # fmt: skip
    sources = [p for p in images if not p.stem.endswith(OUTPUT_TAG)]
    stems = Counter(p.stem for p in sources)
    jobs = []
    for path in sources:
        name = path.stem if stems[path.stem] == 1 else f"{path.stem}_{path.suffix.lstrip('.').lower()}"
        jobs.append(Job(path, out_dir / f"{name}{OUTPUT_TAG}.png"))
    by_output: dict[Path, list[Path]] = {}
    for job in jobs:
        by_output.setdefault(job.output.resolve(), []).append(job.source)
    clashes = {out: srcs for out, srcs in by_output.items() if len(srcs) > 1}
    if clashes:
        lines = "; ".join(f"{', '.join(map(str, srcs))} -> {out}" for out, srcs in clashes.items())
        raise OutputClash(f"these inputs would write one output file: {lines}. Rename them, or deblur them into "
                          "separate --out folders; nothing was written")  # fmt: skip
    kept = []
    for job in jobs:
        if job.output.exists() and not overwrite:
            skipped.append(f"{job.source}: {job.output} exists and is left alone (--overwrite replaces it)")
        else:
            kept.append(job)
    inputs = {p.resolve() for p in images}
    replaced = [str(job.output) for job in kept if job.output.resolve() in inputs]
    if replaced:
        raise OutputClash(f"--overwrite would replace inputs ({', '.join(replaced)}); nothing was written")
    return kept, skipped


def pick_device(name: str) -> torch.device:
    if name == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def check_tiling(tile: int | str, overlap: int) -> None:
    """Refuse a tile off the 16-px grid, or an overlap that leaves a tile nothing of its own, before any
    checkpoint is loaded."""
    if tile != AUTO and not (isinstance(tile, int) and tile >= 0 and tile % TILE_MULTIPLE == 0):
        raise OptionError(f"--tile must be auto, 0 or a multiple of {TILE_MULTIPLE}, got {tile!r}")
    if isinstance(tile, int) and 0 < tile <= overlap:
        raise OptionError(f"--overlap ({overlap} px) must be smaller than --tile ({tile} px)")
    if overlap < 0:
        raise OptionError(f"--overlap must be 0 or more pixels, got {overlap}")


def tile_for(
    blur: Tensor, module: Deblurrer, device: torch.device, tile: int | str, overlap: int, dtype: torch.dtype
) -> int:
    """The tile size for this image: the option as given (0: whole image), or what the memory allows."""
    if tile != AUTO:
        return tile
    chosen = auto_tile(*blur.shape[-2:], module.net, device, dtype) or 0
    if 0 < chosen <= overlap:
        raise OptionError(f"--tile auto allows {chosen} px tiles here, not more than --overlap ({overlap} px)")
    return chosen


def describe_tiles(blur: Tensor, tile: int, overlap: int) -> str:
    """'(W x H) in N tiles of up to h x w px, overlap M px': one line a user can relate memory and time to."""
    height, width = blur.shape[-2:]
    tiles = plan_tiles(height, width, tile, overlap)
    largest = max(h for _, _, h, _ in tiles), max(w for _, _, _, w in tiles)
    return f"({width}x{height}) in {len(tiles)} tiles of up to {largest[0]}x{largest[1]} px, overlap {overlap} px"


def deblur_image(module: Deblurrer, blur: Tensor, device: torch.device, tile: int, overlap: int) -> Tensor:
    """The deblurred 1 x 3 x H x W image as float32 on the CPU: in one piece when `tile` is 0, else in tiles."""
    if tile:
        return deblur_tiled(module, blur, tile, overlap, device=device)
    return module(blur.to(device)).to("cpu", torch.float32)


def deblur_files(
    ckpt: Path | None,
    inputs: list[Path],
    out_dir: Path,
    device: str = AUTO,
    *,
    tile: int | str = AUTO,
    overlap: int = DEFAULT_OVERLAP,
    precision: str = AUTO,
    trust: bool = False,
    ensemble: bool = False,
    overwrite: bool = False,
    max_pixels: int | None = MAX_PIXELS,
) -> tuple[list[Path], list[ImageReadError], list[str]]:
    """Write `<out_dir>/<stem>_deblurred.png` for every readable input (names: `plan_outputs`), each file
    atomically. Returns the files written, the images that could not be read (damaged, or over `max_pixels`:
    reported and skipped, so one bad file in a folder does not cost the others) and the inputs skipped by
    the output rules, with the reason.

    `tile` is auto (tiles only where the whole image would not fit in memory), 0 (never) or a tile size in
    pixels; `precision` is auto (bf16 only where the device computes it natively), 32 or bf16. `ckpt` is a
    .ckpt or .safetensors file, or None for the shipped network; a .ckpt is read weights-only unless `trust`.
    `ensemble` averages the eight orientations' outputs (srnlab.infer.self_ensemble): sharper, eight times slower.
    """
    check_tiling(tile, overlap)
    jobs, skipped = plan_outputs(find_images(inputs), out_dir, overwrite)
    target = pick_device(device)
    module = Deblurrer.load(ckpt or PRETRAINED, map_location=target, trust=trust, self_ensemble=ensemble)
    choice = resolve_precision(precision, str(target))
    print(f"srn-deblur: precision {choice.precision} on {target} ({choice.reason})", file=sys.stderr)
    dtype = choice.autocast_dtype or torch.float32
    written, failed = [], []
    for job in tqdm(jobs, desc="deblurring", unit="image"):
        path = job.source
        try:
            blur = to_tensor(read_image(path, max_pixels))[None]
        except ImageReadError as error:
            failed.append(error)
            continue
        size = tile_for(blur, module, target, tile, overlap, dtype)
        if size:
            tqdm.write(f"srn-deblur: {path.name} {describe_tiles(blur, size, overlap)}", file=sys.stderr)
        with torch.inference_mode(), autocast(choice, target):
            sharp = deblur_image(module, blur, target, size, overlap)[0]
        del blur  # the input's memory is free again before the output is quantised and encoded
        with replaced_atomically(job.output) as partial:
            write_image(partial, from_tensor(sharp))
        written.append(job.output)
    return written, failed, skipped
