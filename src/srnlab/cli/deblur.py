"""`srn-deblur`: deblur your own photos (any size, PNG or JPEG, grayscale or RGBA) with a trained checkpoint,
or, without `--ckpt`, with the SR-EDRB3 that ships with srnlab (src/srnlab/pretrained/README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srnlab.cli import add_trust_option
from srnlab.cli.runtime import user_errors
from srnlab.image_io import MAX_PIXELS
from srnlab.infer.memory import keep_freed_memory
from srnlab.infer.photos import AUTO, DEFAULT_OVERLAP, deblur_files
from srnlab.infer.tiling import TILE_MULTIPLE


def tile_option(text: str) -> int | str:
    """`--tile`: auto, 0 (never tile) or a positive multiple of TILE_MULTIPLE."""
    if text == AUTO:
        return AUTO
    if not text.isdigit() or int(text) % TILE_MULTIPLE:
        raise argparse.ArgumentTypeError(f"expected auto, 0 or a multiple of {TILE_MULTIPLE}, got {text!r}")
    return int(text)


def overlap_option(text: str) -> int:
    """`--overlap`: a number of pixels, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of pixels (0 or more), got {text!r}")
    return int(text)


def pixels_option(text: str) -> int:
    """`--max-pixels`: a positive number of pixels."""
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of pixels, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("inputs", nargs="+", type=Path, help="image files or folders of images")
    parser.add_argument(
        "--ckpt",
        type=Path,
        help="a .ckpt written by srn-train or a .safetensors written by srn-export (default: the shipped SR-EDRB3)",
    )
    parser.add_argument("--out", type=Path, default=Path("deblurred"), help="output folder (default: ./deblurred)")
    parser.add_argument("--device", default=AUTO, help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--tile",
        type=tile_option,
        default=AUTO,
        help=f"tile size in px, a multiple of {TILE_MULTIPLE}; auto (default): tile only what would not fit in "
        "memory (under 2 GB in all on a CPU); 0: never tile",
    )
    parser.add_argument(
        "--overlap",
        type=overlap_option,
        default=DEFAULT_OVERLAP,
        help=f"pixels neighbouring tiles share and blend over (default: {DEFAULT_OVERLAP})",
    )
    parser.add_argument(
        "--precision",
        choices=[AUTO, "32", "bf16"],
        default=AUTO,
        help="auto (default): bf16 where the device computes it natively, else fp32",
    )
    parser.add_argument(
        "--self-ensemble",
        action="store_true",
        help="average the outputs for the image's 8 orientations (rotations and mirrors): "
        "sharper, 8 times slower (docs/deblurring.md 'Self-ensemble')",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace output files that already exist (default: leave them alone)"
    )
    parser.add_argument(
        "--max-pixels",
        type=pixels_option,
        default=MAX_PIXELS,
        help=f"skip images whose header declares more pixels than this, before decoding them (default: {MAX_PIXELS:,})",
    )
    add_trust_option(parser, "--ckpt")
    args = parser.parse_args(argv)
    keep_freed_memory()
    with user_errors("srn-deblur", "--out <folder>"):
        written, failed, skipped = deblur_files(
            args.ckpt, args.inputs, args.out, args.device, tile=args.tile, overlap=args.overlap,
            precision=args.precision, trust=args.trust_checkpoint, ensemble=args.self_ensemble,
            overwrite=args.overwrite, max_pixels=args.max_pixels,
        )  # fmt: skip
    for path in written:
        print(path)
    for reason in skipped:
        print(f"srn-deblur: skipped {reason}", file=sys.stderr)
    if failed:
        parser.exit(1, "".join(f"srn-deblur: skipped {error}\n" for error in failed))


if __name__ == "__main__":
    main()
