"""Tiled deblurring: peak memory and time on a 4000x3000 photo, and what the tiles change on a 1280x720 frame.

Each 4000x3000 configuration (`--tile auto` and `--tile 0`) runs `srn-deblur` in a process of its own, whose
peak resident memory is read from `os.wait4` (that child alone) and whose wall time includes start-up,
checkpoint loading, decoding and PNG encoding. The 1280x720 frame is deblurred in this process whole and in
tiles, and the 8-bit outputs (as `srn-deblur` writes them) are compared.

Without `--ckpt`, an untrained full-width SR-EDRB3 is saved to a temporary checkpoint: memory and time do
not depend on the weights, but the tiled-vs-whole differences of an untrained network say little.
Without `--photo` and `--frame`, a synthetic blurry 1280x720 frame is made and upscaled for the photo.
Run: `python benchmarks/bench_tiling.py --ckpt <last.ckpt> --threads 1` (about 13 minutes on one core; the
untiled 4000x3000 run needs about 11 GiB and 5 minutes; `--skip-untiled` leaves it out).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytorch_lightning as pl
import torch

from srnlab.config import compose_config
from srnlab.data.synth import synthesize_dataset
from srnlab.image_io import from_tensor, read_image, to_tensor, to_uint8, write_image
from srnlab.infer.photos import DEFAULT_OVERLAP
from srnlab.infer.tiling import deblur_tiled
from srnlab.lit.module import DeblurModule
from srnlab.precision import autocast, resolve_precision

PHOTO_SIZE = (3000, 4000)  # height, width
FRAME_SIZE = (720, 1280)


def save_untrained_checkpoint(path: Path) -> Path:
    """A full-width SR-EDRB3 at its initial weights, saved as `srn-deblur` loads a trained one."""
    cfg = compose_config("train", ["experiment=table1/sr_edrb3", "model.net.width_mult=1.0"])
    module = DeblurModule.from_config(cfg)
    checkpoint = {
        "state_dict": module.state_dict(),
        "hyper_parameters": dict(module.hparams),
        "pytorch-lightning_version": pl.__version__,
    }
    torch.save(checkpoint, path)
    return path


def synthetic_frame(folder: Path) -> Path:
    """A blurry 1280x720 frame from the project's blur synthesiser."""
    synthesize_dataset(folder / "synth", n_train=0, n_test=1, seed=0, size=FRAME_SIZE, progress=False)
    return next((folder / "synth" / "test").glob("*/blur/*.png"))


def resized(source: Path, size: tuple[int, int], out: Path) -> Path:
    """`source` resized (bicubic) to height x width and written to `out` as PNG."""
    image = cv2.resize(read_image(source), size[::-1], interpolation=cv2.INTER_CUBIC)
    write_image(out, np.clip(image, 0.0, 1.0))
    return out


def run_cli(ckpt: Path, photo: Path, out: Path, tile: str, args: argparse.Namespace) -> dict[str, object]:
    """`srn-deblur` on one photo in a child process: peak resident memory (MiB), wall time (s), its stderr."""
    command = [sys.executable, "-m", "srnlab.cli.deblur", "--ckpt", str(ckpt), "--out", str(out), "--device", "cpu",
               "--precision", args.precision, "--tile", tile, "--overlap", str(args.overlap), str(photo)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    log = out.with_suffix(".log")
    start = time.perf_counter()
    with log.open("w") as stderr:
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"srn-deblur --tile {tile} failed; see {log}:\n{log.read_text()[-2000:]}")
    written = cv2.imread(str(out / f"{photo.stem}_deblurred.png"))
    if written.shape[:2] != PHOTO_SIZE:
        raise RuntimeError(f"srn-deblur --tile {tile} wrote a {written.shape[:2]} image instead of {PHOTO_SIZE}")
    return {"peak_mib": usage.ru_maxrss / 1024, "seconds": seconds, "stderr": log.read_text()}


def tiles_used(stderr: str) -> str:
    """The tiling `srn-deblur` reported, or 'whole image'."""
    found = re.search(r"in (\d+) tiles of up to (\d+)x(\d+) px", stderr)
    return f"{found[1]} tiles of up to {found[2]}x{found[3]} px" if found else "whole image"


def bench_photo(ckpt: Path, photo: Path, tmp: Path, args: argparse.Namespace) -> None:
    print(f"4000x3000 photo, {args.threads} thread(s), precision {args.precision}, overlap {args.overlap} px:")
    for tile in ("auto", "0") if not args.skip_untiled else ("auto",):
        result = run_cli(ckpt, photo, tmp / f"out_tile_{tile}", tile, args)
        print(f"  --tile {tile:4s}: peak RSS {result['peak_mib']:7.0f} MiB, wall {result['seconds']:6.1f} s "
              f"({tiles_used(result['stderr'])})")  # fmt: skip


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) between two uint8 images; inf when they are equal."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def bench_frame(ckpt: Path, frame: Path, args: argparse.Namespace) -> None:
    """Whole vs tiled 8-bit outputs on one frame, for several overlaps."""
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    choice = resolve_precision(args.precision, "cpu")
    module = DeblurModule.load_from_checkpoint(ckpt, map_location=device).eval()
    blur = to_tensor(read_image(frame))[None]
    height, width = blur.shape[-2:]
    print(f"{width}x{height} frame ({frame.name}), tiles of {args.frame_tile} px, 8-bit outputs, tiled vs whole:")
    with torch.inference_mode(), autocast(choice, device):
        start = time.perf_counter()
        whole = to_uint8(from_tensor(module(blur)[0]))
        print(f"  whole image: {time.perf_counter() - start:5.1f} s")
        for overlap in args.frame_overlaps:
            start = time.perf_counter()
            tiled = to_uint8(from_tensor(deblur_tiled(module, blur, args.frame_tile, overlap, progress=False)[0]))
            seconds = time.perf_counter() - start
            diff = np.abs(tiled.astype(np.int16) - whole.astype(np.int16))
            print(f"  overlap {overlap:3d} px: max |diff| {diff.max():3d}/255, mean {diff.mean():.4f}/255, "
                  f"PSNR {psnr(tiled, whole):5.1f} dB, {seconds:5.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", type=Path, help="SR-EDRB3 checkpoint (default: an untrained full-width one)")
    parser.add_argument("--photo", type=Path, help="image resized to 4000x3000 (default: the synthetic frame)")
    parser.add_argument("--frame", type=Path, help="1280x720 frame to compare on (default: a synthetic one)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", default="32", choices=["auto", "32", "bf16"])
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, help="overlap of the 4000x3000 runs")
    parser.add_argument("--frame-tile", type=int, default=512, help="tile size for the 1280x720 comparison")
    parser.add_argument("--frame-overlaps", type=int, nargs="+", default=[32, 64, 96, 128])
    parser.add_argument("--skip-untiled", action="store_true", help="leave out the ~12 GB untiled 4000x3000 run")
    parser.add_argument("--skip-photo", action="store_true", help="only the 1280x720 comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        ckpt = args.ckpt or save_untrained_checkpoint(tmp / "untrained_sr_edrb3.ckpt")
        print(f"checkpoint: {args.ckpt or 'untrained full-width SR-EDRB3'}")
        frame = args.frame or synthetic_frame(tmp)
        if not args.skip_photo:
            bench_photo(ckpt, resized(args.photo or frame, PHOTO_SIZE, tmp / "photo_4000x3000.png"), tmp, args)
        bench_frame(ckpt, frame, args)


if __name__ == "__main__":
    main()
