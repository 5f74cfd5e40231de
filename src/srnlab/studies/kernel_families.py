"""Probe sets that isolate blind deblurring (docs/learning-budget.md, "What is hard: the blur's length").

Each set re-blurs the sharp frames of an existing synthetic set with a straight, constant-speed line kernel
whose direction is one of N equally spaced angles (`--directions N`; 1 is a single direction) or any angle
(`--directions 0`), and whose length is one value (`--length 11`) or drawn log-uniformly from a range
(`--length 5 21`). Photos, crops, splits and file layout stay those of the source set, so between two probe
sets only the family of kernels the network must tell apart changes. Train on one with
`srn-train experiment=pretrained data=gopro data.root=<out> ...`, and fit its best linear filter with
`src/srnlab/studies/plateau_diagnostics.py --train <out>/train --test <out>/test`. Run:
`python -m srnlab.studies.kernel_families data/synthetic-pretrained-dl33 data/directions4 --directions 4`.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np

from srnlab.data.synth.render import log_uniform

KERNEL_SIZE = 21  # holds a line of up to 21 px at any angle
SUPERSAMPLE = 4


def line_kernel(length: float, angle: float) -> np.ndarray:
    """A KERNEL_SIZE^2 kernel of a straight motion `length` px long at `angle` degrees, summing to 1.

    The line is drawn on a grid SUPERSAMPLE times finer (odd, so its centre is a pixel) and area-averaged
    down, so that directions off the pixel axes get the same anti-aliased length as those on them."""
    fine = SUPERSAMPLE * (KERNEL_SIZE - 1) + 1
    canvas = np.zeros((fine, fine), np.float32)
    centre = (fine - 1) / 2
    reach = SUPERSAMPLE * (length - 1) / 2
    dx, dy = reach * math.cos(math.radians(angle)), reach * math.sin(math.radians(angle))
    for t in np.linspace(-1.0, 1.0, 200):
        canvas[round(centre + t * dy), round(centre + t * dx)] = 1.0
    kernel = cv2.resize(canvas, (KERNEL_SIZE, KERNEL_SIZE), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum()


def draw_angle(rng: np.random.Generator, directions: int) -> float:
    """One of `directions` angles spaced evenly over 180 degrees, or any angle when `directions` is 0."""
    if directions == 0:
        return float(rng.uniform(0.0, 180.0))
    return 180.0 / directions * int(rng.integers(directions))


def draw_length(rng: np.random.Generator, lengths: tuple[float, float]) -> float:
    """The one length, or one drawn log-uniformly from the range (as the synthesiser draws its paths)."""
    low, high = lengths
    return low if low == high else log_uniform(rng, low, high)


def write_family(source: Path, out: Path, directions: int, lengths: tuple[float, float], seed: int) -> int:
    """Re-blur every sharp frame of the GOPRO-layout set `source` into `out`; returns the number of pairs."""
    sharps = sorted(source.glob("*/*/sharp/*.png"))
    if not sharps:
        raise SystemExit(f"{source}: no <split>/<sequence>/sharp/*.png frames; generate the set first (srn-synth).")
    if out.exists():
        raise SystemExit(f"{out} exists: choose a new folder, so that no set is mixed with another.")
    rng = np.random.default_rng(seed)
    for sharp_path in sharps:
        sharp = cv2.imread(str(sharp_path)).astype(np.float32)
        angle = draw_angle(rng, directions)
        kernel = line_kernel(draw_length(rng, lengths), angle)
        blur = cv2.filter2D(sharp, -1, kernel, borderType=cv2.BORDER_REFLECT)
        sequence = out / sharp_path.relative_to(source).parent.parent
        for kind, image in (("sharp", sharp), ("blur", blur)):
            (sequence / kind).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(sequence / kind / sharp_path.name), np.clip(np.rint(image), 0, 255).astype(np.uint8))
    return len(sharps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a synthetic set (GOPRO layout) whose sharp frames are re-blurred")
    parser.add_argument("out", type=Path, help="the new set's folder (must not exist)")
    parser.add_argument("--directions", type=int, default=4, help="N evenly spaced directions; 0: any direction")
    parser.add_argument(
        "--length", type=float, nargs="+", default=[11.0], help="the line's length in px, or a range LOW HIGH"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lengths = (args.length[0], args.length[-1])
    if args.directions < 0 or len(args.length) > 2 or not 1 <= lengths[0] <= lengths[1] <= KERNEL_SIZE:
        parser.error(f"--directions must be 0 or more, --length one or two values from 1 to {KERNEL_SIZE} px")
    count = write_family(args.source, args.out, args.directions, lengths, args.seed)
    family = "any direction" if args.directions == 0 else f"{args.directions} direction(s)"
    span = f"{lengths[0]:g}" if lengths[0] == lengths[1] else f"{lengths[0]:g}-{lengths[1]:g}"
    print(f"wrote {count} pairs to {args.out}: {span}-px lines, {family}")


if __name__ == "__main__":
    main()
