"""Scores and figure of the shipped network, written into its model card (src/srnlab/pretrained/README.md).

Scores the weights file (the fp16 file users get, not the training checkpoint) with `srn-eval`'s own code,
plain and with the self-ensemble (`--self-ensemble`): on the default synthetic test split (the two held-out
photos, full frames) and, where the real material is present, on the real GoPro frames of
../shared/realdata/gopro_mini. The figure shows one real GoPro crop
blurry | deblurred | sharp with its PSNRs (docs/pretrained-gopro.png, used by the README).

Run: `make pretrained` (after training), or
`python -m srnlab.studies.pretrained_card --run logs/pretrained-stage1 logs/pretrained-stage2 logs/pretrained
--realdata ../shared/realdata`
(the training runs in order, the last one the network's own).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from srnlab.config import compose_config
from srnlab.evaluation import evaluate
from srnlab.image_io import read_image, to_tensor
from srnlab.lit.metrics import quantize, score_images
from srnlab.lit.module import load_module
from srnlab.models.measure import train_step_gflops
from srnlab.precision import describe_cpu
from srnlab.runs.weights import PRETRAINED
from srnlab.studies.pages import replace_section

CARD = PRETRAINED.parent / "README.md"
FIGURE = Path("docs/pretrained-gopro.png")
SCORES = ("<!-- scores:start -->", "<!-- scores:end -->")
COMPUTE = ("<!-- compute:start -->", "<!-- compute:end -->")
GOPRO_FRAME = "GOPR0384_11_00/{}/000001.png"
CROP = (200, 440, 320, 512)  # top, left, height, width: the walking people in the frame's centre


def score(weights: Path, out: Path, overrides: list[str]) -> dict[str, dict[str, Any]]:
    """srn-eval's summary, plain and with the self-ensemble."""
    return {
        kind: evaluate(compose_config("eval", [
            f"ckpt_path={weights}", f"paths.output_dir={out}-{kind}", f"model.self_ensemble={kind == 'ensemble'}",
            *overrides,
        ]))
        for kind in ("plain", "ensemble")
    }  # fmt: skip


def figure(weights: Path, gopro: Path, path: Path) -> dict[str, float]:
    """The deblurred full frame, cropped next to the blurry and sharp crops; PSNRs of the crop."""
    blur, sharp = (to_tensor(read_image(gopro / "test" / GOPRO_FRAME.format(k)))[None] for k in ("blur", "sharp"))
    with torch.inference_mode():
        output = quantize(load_module(weights)(blur))
    top, left, h, w = CROP
    crops = [im[..., top : top + h, left : left + w] for im in (blur, output, sharp)]
    psnrs = [float(score_images(c, crops[2], ["psnr"])["psnr"][0]) for c in crops[:2]]
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    titles = [f"blurry input, {psnrs[0]:.2f} dB", f"srnlab SR-EDRB3, {psnrs[1]:.2f} dB", "sharp"]
    for ax, crop, title in zip(axes, crops, titles, strict=True):
        ax.imshow(np.clip(crop[0].permute(1, 2, 0).numpy(), 0, 1))
        ax.set_title(title)
        ax.axis("off")
    fig.suptitle(f"Real GoPro frame GOPR0384_11_00/000001, crop {h}x{w} at ({top}, {left}); PSNR on the crop")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return {"blur_psnr": psnrs[0], "psnr": psnrs[1]}


def scores_section(
    synthetic: dict[str, dict[str, Any]], gopro: dict[str, dict[str, Any]] | None, crop: dict[str, float] | None
) -> str:
    def row(name: str, scores: dict[str, dict[str, Any]]) -> str:
        s, e = scores["plain"], scores["ensemble"]
        return (
            f"| {name} | {s['images']} | {s['mean_blur_psnr']:.2f} / {s['mean_blur_ssim']:.4f} | "
            f"{s['mean_psnr']:.2f} / {s['mean_ssim']:.4f} | {s['mean_psnr'] - s['mean_blur_psnr']:+.2f} dB | "
            f"{e['mean_psnr']:.2f} / {e['mean_ssim']:.4f} | {e['mean_psnr'] - e['mean_blur_psnr']:+.2f} dB |"
        )

    lines = [
        "| test set | images | blurry input PSNR / SSIM | deblurred PSNR / SSIM | gain | "
        "with `--self-ensemble` | gain |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("synthetic test split (held-out photos, full frames)", synthetic),
    ]
    if gopro:
        lines.append(row("real GoPro frames (`gopro_mini`, 1280x720)", gopro))
    if crop:
        lines.append(
            f"\nFigure crop (GOPR0384_11_00 frame 1, {CROP[2]}x{CROP[3]} px): blurry {crop['blur_psnr']:.2f} dB, "
            f"deblurred {crop['psnr']:.2f} dB."
        )
    return "\n".join(lines)


def compute_section(runs: list[Path], machine: str) -> str:
    """Steps, samples, FLOPs and wall time of the training runs together (the stages share network, batch
    and crop size, hence the cost of a step), and the machine they ran on."""
    progress = [json.loads((run / "progress.json").read_text()) for run in runs]
    cfg = compose_config("train", ["experiment=pretrained"])
    step_gflops = train_step_gflops(cfg)
    steps = sum(p["global_step"] for p in progress)
    minutes = sum(p["train_time_s"] for p in progress) / 60
    per_stage = " + ".join(f"{p['global_step']:,}" for p in progress)
    stages = f" in {len(runs)} stages ({per_stage})" if len(runs) > 1 else ""
    return (
        f"- {steps:,} steps{stages}, {steps * cfg.data.batch_size:,} crops of "
        f"{cfg.data.crop_size}x{cfg.data.crop_size}; {steps * step_gflops / 1e3:,.0f} TFLOP (forward + backward, "
        f"FlopCounterMode)\n"
        f"- {minutes:.0f} minutes of training on {machine}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=PRETRAINED)
    parser.add_argument(
        "--run",
        type=Path,
        nargs="+",
        default=[Path("logs/pretrained-stage1"), Path("logs/pretrained-stage2"), Path("logs/pretrained")],
        help="the training runs' folders in order; the last one trained the exported network",
    )
    parser.add_argument("--realdata", type=Path, default=Path("../shared/realdata"))
    parser.add_argument("--machine", default=describe_cpu(), help="where it trained (default: this machine)")
    args = parser.parse_args(argv)
    run = args.run[-1]
    synthetic = score(args.weights, run / "card-synthetic", [])
    gopro_root = args.realdata / "gopro_mini"
    gopro = crop = None
    if gopro_root.is_dir():
        gopro = score(args.weights, run / "card-gopro", ["data=gopro", f"data.root={gopro_root.resolve()}"])
        crop = figure(args.weights, gopro_root, FIGURE)
    else:
        print(f"{gopro_root} not found: no real-frame scores or figure")
    section = scores_section(synthetic, gopro, crop)
    replace_section(CARD, SCORES, section)
    replace_section(CARD, COMPUTE, compute_section(args.run, args.machine))
    (run / "card-scores.json").write_text(json.dumps({"synthetic": synthetic, "gopro": gopro, "crop": crop}))
    print(section)


if __name__ == "__main__":
    main()
