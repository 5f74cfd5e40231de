"""Several runs' validation margin over their blurry input against the training step, as a table and a plot.

Probes of docs/learning-budget.md train on sets whose blurry inputs differ, so their PSNRs do not compare;
their margins do. Each run folder's progress.json (srn-train rewrites it at every validation) holds the
history. Run:
`python -m srnlab.studies.margin_curves --out docs/kernel-families.png logs/a=label-a logs/b=label-b`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from srnlab.runs.files import read_json
from srnlab.runs.results import PROGRESS_FILE

MILESTONES = (500, 1000, 2000)  # steps the table reports, where a run reached them


def margins(run: Path) -> dict[int, float]:
    """Step -> validation PSNR minus the blurry input's, from the run's progress.json."""
    path = run / PROGRESS_FILE
    progress = read_json(path)
    if progress is None:
        raise SystemExit(f"{path}: not found; pass the folder of an srn-train run (hydra.run.dir)")
    return {int(h["step"]): h["val/psnr"] - h["val/blur_psnr"] for h in progress["val_history"]}


def table(curves: dict[str, dict[int, float]]) -> str:
    heads = " | ".join(f"step {s:,}" for s in MILESTONES)
    lines = [f"| run | {heads} | last | best |", "|---|" + "---:|" * (len(MILESTONES) + 2)]
    for label, curve in curves.items():
        at = " | ".join(f"{curve[s]:+.2f}" if s in curve else "" for s in MILESTONES)
        last, best = max(curve), max(curve, key=curve.get)
        lines.append(f"| {label} | {at} | {curve[last]:+.2f} (step {last:,}) | {curve[best]:+.2f} (step {best:,}) |")
    return "\n".join(lines)


def plot(curves: dict[str, dict[int, float]], path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for i, (label, curve) in enumerate(curves.items()):
        steps = sorted(curve)
        ax.plot(steps, [curve[s] for s in steps], marker="o", ms=3, color=f"C{i}", label=label)
    ax.axhline(0.0, color="black", ls="--", lw=1, label="blurry input")
    ax.set_xlabel("training step")
    ax.set_ylabel("validation margin over the blurry input (dB)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the curves
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_and_label(text: str) -> tuple[Path, str]:
    run, sep, label = text.partition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"expected RUN_FOLDER=LABEL, got {text!r}")
    return Path(run), label


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=run_and_label, help="RUN_FOLDER=LABEL, in legend order")
    parser.add_argument("--out", type=Path, required=True, help="the plot to write (.png)")
    parser.add_argument("--title", default="validation margin over the blurry input")
    args = parser.parse_args(argv)
    curves = {label: margins(run) for run, label in args.runs}
    plot(curves, args.out, args.title)
    print(table(curves))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
