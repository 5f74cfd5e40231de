"""Does bf16 training end where fp32 training ends? Two runs of one variant with the same seed, data and
budget, one per precision, and their final validation and test PSNR side by side.

Target (docs/speed.md): within 0.3 dB after a few hundred steps. On a CPU without native bf16 the bf16 run
is emulated (slow, same numerics). Run: `python benchmarks/precision_accuracy.py --steps 300`, or with
`--accelerator gpu` on a GPU.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from srnlab.config import compose_config
from srnlab.precision import BF16, FP32
from srnlab.runs.results import RunResult
from srnlab.training import train


def run(precision: str, args: argparse.Namespace, out: Path) -> RunResult:
    overrides = [
        f"experiment=table1/{args.variant}",
        f"profile={args.profile}",
        f"trainer.accelerator={args.accelerator}",
        f"trainer.precision={precision}",
        f"trainer.max_steps={args.steps}",
        f"trainer.val_check_interval={args.steps}",
        "logger=csv",
        "test=true",
        f"paths.output_dir={out / precision}",
        *args.overrides,
    ]
    return train(compose_config("train", overrides))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="sr_edrb3")
    parser.add_argument("--profile", default="mini")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides (e.g. data.root=...)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = {p: run(p, args, Path(tmp)) for p in (FP32, BF16)}
    print(f"\n{args.variant}, profile {args.profile}, {args.steps} steps on {args.accelerator}, same seed")
    print("| precision | val PSNR | test PSNR | test SSIM | train s |")
    print("|---|---:|---:|---:|---:|")
    for precision, r in results.items():
        print(
            f"| {precision} | {r.val_last['val/psnr']:.2f} | {r.test['test/psnr']:.2f} | "
            f"{r.test['test/ssim']:.4f} | {r.train_time_s:.0f} |"
        )
    gap = results[BF16].test["test/psnr"] - results[FP32].test["test/psnr"]
    print(f"bf16 - fp32 test PSNR: {gap:+.3f} dB")


if __name__ == "__main__":
    main()
