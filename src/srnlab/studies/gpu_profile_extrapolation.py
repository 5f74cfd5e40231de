"""Size the `gpu` profile from the one measured full-width learning curve: SR-EDRB3 on an H200.

Reads the validation points of the `gpu` profile's SR-EDRB3 run (ablations/results/gpu-check/curves), fits
validation PSNR against the number of training samples seen with a + b * ln(samples), and prints the
number of samples (and steps at the profile's batch) at which the fit reaches the blurry input + margin.
The fit is an extrapolation beyond the measured range and is drawn as one, next to the points, in
docs/gpu-profile-extrapolation.png. A second reading takes the measured gains per interval as a
geometric series and gives the plateau it implies: if the plateau lies below the target, the log fit is
the optimistic one and the profile needs a better recipe, not only more steps.

Run: `python -m srnlab.studies.gpu_profile_extrapolation [--margin 1.0]`.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from srnlab.config import compose_config

CURVE = Path("ablations/results/gpu-check/curves/sr_edrb3.csv")
FIGURE = Path("docs/gpu-profile-extrapolation.png")


def validation_points(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """Steps, validation PSNRs and the blurry input's PSNR of one run's metrics.csv."""
    with path.open() as f:
        rows = [r for r in csv.DictReader(f) if r.get("val/psnr")]
    steps = np.array([int(r["step"]) + 1 for r in rows], dtype=float)  # Lightning logs the 0-based step
    return steps, np.array([float(r["val/psnr"]) for r in rows]), float(rows[0]["val/blur_psnr"])


def log_fit(samples: np.ndarray, psnr: np.ndarray) -> tuple[float, float]:
    """a, b of psnr = a + b * ln(samples), least squares."""
    b, a = np.polyfit(np.log(samples), psnr, 1)
    return float(a), float(b)


def geometric_plateau(psnr: np.ndarray) -> float:
    """The PSNR the curve tends to if each interval's gain keeps shrinking by the mean measured ratio."""
    best = np.maximum.accumulate(psnr)
    gains = np.diff(best)
    ratios = gains[1:][gains[:-1] > 0] / gains[:-1][gains[:-1] > 0]
    ratio = float(np.clip(np.mean(ratios[ratios > 0]) if np.any(ratios > 0) else 0.0, 0.0, 0.95))
    return float(best[-1] + gains[gains > 0][-1] * ratio / (1 - ratio))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--curve", type=Path, default=CURVE)
    parser.add_argument("--margin", type=float, default=1.0, help="dB over the blurry input (issue: 1.0)")
    args = parser.parse_args(argv)
    batch = compose_config("train", ["profile=gpu"]).data.batch_size
    steps, psnr, blur = validation_points(args.curve)
    samples = steps * batch
    a, b = log_fit(samples, psnr)
    target = blur + args.margin
    needed = math.exp((target - a) / b)
    plateau = geometric_plateau(psnr)
    print(
        f"measured: {len(steps)} points, steps {int(steps[0])}-{int(steps[-1])} at batch {batch}; input {blur:.2f} dB"
    )
    print(f"log fit: psnr = {a:.2f} + {b:.3f} ln(samples); target {target:.2f} dB at {needed:,.0f} samples")
    print(f"         = {needed / batch:,.0f} steps of batch {batch} ({needed / samples[-1]:.1f}x the measured range)")
    print(f"geometric reading of the measured gains: plateau {plateau:.2f} dB ({plateau - blur:+.2f} dB vs the input)")

    xs = np.geomspace(samples[0], max(needed, samples[-1]) * 1.3, 200)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(samples, psnr, "o", label="measured (H200, gpu profile, SR-EDRB3)")
    ax.plot(xs, a + b * np.log(xs), "--", label=f"fit {a:.1f} + {b:.2f} ln(samples)")
    ax.axhline(blur, color="black", lw=1, label=f"blurry input {blur:.2f} dB")
    ax.axhline(target, color="green", lw=1, ls=":", label=f"target {target:.2f} dB")
    ax.axhline(plateau, color="red", lw=1, ls="-.", label=f"geometric plateau {plateau:.2f} dB")
    ax.axvline(needed, color="green", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("training samples (crops of 128x128)")
    ax.set_ylabel("validation PSNR (dB)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=120)
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
