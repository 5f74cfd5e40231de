"""Learning-budget study: how much training compute SR-EDRB3 needs before it beats its own blurry input.

Trains one SR-EDRB3 per recipe with `srn-train` (same data, same steps, same pixels per step), validates
on the whole synthetic test split at full frame, and plots validation PSNR against training compute
(TFLOP, counted by torch's FlopCounterMode for one forward + backward, 1 multiply-add = 2 FLOPs) and
against minutes on this machine, with the blurry input drawn. The table gives, per recipe, the compute at
which it first beats the input and its best margin. Results go between the markers of
docs/learning-budget.md, the plot to docs/learning-budget.png, the curves to docs/learning-budget.json.

Runs are ordinary srn-train jobs: an interrupted study resumes each run from its last.ckpt, and a run that
finished is not trained again. `--jobs 2 --threads 1` trains two recipes at once, one core each.

Run: `make learning-budget` (ARGS="--steps 250 --jobs 2 --threads 1"), or
`python -m srnlab.studies.learning_budget --recipes residual-cosine --steps 100`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from hydra.utils import instantiate

from srnlab.config import compose_config
from srnlab.models.measure import train_step_gflops
from srnlab.precision import describe_cpu
from srnlab.studies.pages import replace_section

DOC = Path("docs/learning-budget.md")
START, END = "<!-- learning-budget:start -->", "<!-- learning-budget:end -->"


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    overrides: tuple[str, ...]


WARMUP = "model.scheduler.warmup_steps={warmup}"  # our choice: a tenth of the steps (recipe_overrides)
RECIPES = (
    Recipe("paper", "lr 1e-4, poly 0.3 (the paper's)", ()),
    Recipe("poly-5e-4", "lr 5e-4 after a 10 % warm-up, poly 0.3", ("model.optimizer.lr=5e-4", WARMUP)),
    Recipe(
        "cosine-5e-4",
        "lr 5e-4 after a 10 % warm-up, cosine",
        ("model.optimizer.lr=5e-4", WARMUP, "model/scheduler=cosine"),
    ),
    Recipe("residual-paper", "global residual, lr 1e-4, poly 0.3", ("model.net.residual=true",)),
    Recipe(
        "residual-cosine-5e-4",
        "global residual, lr 5e-4 after a 10 % warm-up, cosine",
        ("model.net.residual=true", "model.optimizer.lr=5e-4", WARMUP, "model/scheduler=cosine"),
    ),
    Recipe(
        "residual-cosine-5e-4-crop64",
        "as residual-cosine-5e-4, batch 16 of 64x64 (half the pixels per step)",
        (
            "model.net.residual=true",
            "model.optimizer.lr=5e-4",
            WARMUP,
            "model/scheduler=cosine",
            "data.crop_size=64",
            "data.batch_size=16",
        ),
    ),
)


def base_overrides(args: argparse.Namespace) -> list[str]:
    """SR-EDRB3 on the default synthetic data, validated on the whole test split at full frame."""
    return [
        "experiment=table1/sr_edrb3",
        f"model.net.width_mult={args.width}",
        "data.crop_size=128",
        "data.batch_size=8",
        "data.val_crop_size=null",
        "data.val_max_images=null",
        f"trainer.max_steps={args.steps}",
        f"trainer.val_check_interval={args.val_every}",
        "callbacks.progress_bar.refresh_rate=0",
        "logger=csv",
        "test=false",
    ]


def recipe_overrides(recipe: Recipe, args: argparse.Namespace) -> list[str]:
    own = [o.format(warmup=max(1, args.steps // 10)) for o in recipe.overrides]
    return [*base_overrides(args), *own, f"hydra.run.dir={args.out / recipe.name}"]


def train_step_tflop(overrides: list[str]) -> float:
    """TFLOP of one training step of this recipe."""
    cfg = compose_config("train", [o for o in overrides if not o.startswith("hydra.")])
    return train_step_gflops(cfg) / 1e3


def run(recipe: Recipe, args: argparse.Namespace) -> int:
    """One srn-train job, its log in the run folder; resumes or skips as srn-train does."""
    folder = args.out / recipe.name
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)} if args.threads else dict(os.environ)
    cmd = [sys.executable, "-m", "srnlab.cli.train", *recipe_overrides(recipe, args)]
    with (folder / "study.log").open("a") as log:
        print(f"[{recipe.name}] training: log in {folder / 'study.log'}", flush=True)
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    print(f"[{recipe.name}] exit code {code}", flush=True)
    return code


def ensure_data(args: argparse.Namespace) -> None:
    """Synthesise the data once, before parallel jobs would race to."""
    instantiate(compose_config("train", base_overrides(args)).data).prepare_data()


def curve(recipe: Recipe, args: argparse.Namespace) -> dict[str, Any] | None:
    progress = args.out / recipe.name / "progress.json"
    if not progress.exists():
        return None
    history = json.loads(progress.read_text())["val_history"]
    tflop = train_step_tflop(recipe_overrides(recipe, args))
    return {
        "recipe": recipe.name,
        "summary": recipe.summary,
        "overrides": list(recipe.overrides),
        "tflop_per_step": tflop,
        "points": [
            {
                "step": h["step"],
                "tflop": h["step"] * tflop,
                "minutes": h.get("train_time_s", float("nan")) / 60,
                "psnr": h["val/psnr"],
                "ssim": h["val/ssim"],
                "blur_psnr": h["val/blur_psnr"],
            }
            for h in history
        ],
    }


def crossing(points: list[dict[str, float]]) -> dict[str, float] | None:
    """The first validation at which the output beats the blurry input."""
    return next((p for p in points if p["psnr"] > p["blur_psnr"]), None)


def table(curves: list[dict[str, Any]]) -> str:
    lines = [
        "| recipe | what | steps | TFLOP | minutes | first beats the input at | best PSNR | best margin |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for c in curves:
        last, best = c["points"][-1], max(c["points"], key=lambda p: p["psnr"] - p["blur_psnr"])
        cross = crossing(c["points"])
        when = f"step {cross['step']} ({cross['tflop']:,.1f} TFLOP, {cross['minutes']:.1f} min)" if cross else "not yet"
        lines.append(
            f"| {c['recipe']} | {c['summary']} | {last['step']} | {last['tflop']:,.1f} | {last['minutes']:.1f} | "
            f"{when} | {best['psnr']:.2f} | {best['psnr'] - best['blur_psnr']:+.2f} dB |"
        )
    return "\n".join(lines)


def plot(curves: list[dict[str, Any]], path: Path) -> None:
    """PSNR against compute and against minutes, and a zoom on the margin over the blurry input."""
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
    blur = curves[0]["points"][0]["blur_psnr"]
    axis_labels = {"tflop": "training compute (TFLOP)", "minutes": "minutes on this machine"}
    for ax, (key, label) in zip(axes, axis_labels.items(), strict=False):
        for i, c in enumerate(curves):
            xs, ys = [p[key] for p in c["points"]], [p["psnr"] for p in c["points"]]
            ax.plot(xs, ys, marker="o", ms=3, color=f"C{i}", label=c["recipe"])
        ax.axhline(blur, color="black", ls="--", lw=1, label=f"blurry input ({blur:.2f} dB)")
        ax.set_xlabel(label)
        ax.set_ylabel("validation PSNR (dB)")
    for i, c in enumerate(curves):
        xs, ys = [p["tflop"] for p in c["points"]], [p["psnr"] - p["blur_psnr"] for p in c["points"]]
        if max(ys) > -1.0:
            axes[2].plot(xs, ys, marker="o", ms=3, color=f"C{i}", label=c["recipe"])
    axes[2].axhline(0.0, color="black", ls="--", lw=1)
    axes[2].set_xlabel("training compute (TFLOP)")
    axes[2].set_ylabel("margin over the blurry input (dB)")
    axes[2].set_title("zoom: recipes within 1 dB of the input", fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower right")
    fig.suptitle("SR-EDRB3: validation PSNR against training compute (docs/learning-budget.md)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(curves: list[dict[str, Any]], args: argparse.Namespace) -> None:
    plot(curves, DOC.with_suffix(".png"))
    study = {"machine": describe_cpu(), "base_overrides": base_overrides(args), "curves": curves}
    DOC.with_suffix(".json").write_text(json.dumps(study, indent=2) + "\n")
    section = (
        f"Machine: {study['machine']}; {args.jobs} job(s) at a time, "
        f"{args.threads or 'all'} thread(s) each. SR-EDRB3 at width x{args.width:g}, "
        f"{curves[0]['tflop_per_step']:.3f} TFLOP per step.\n\n{table(curves)}\n\n"
        f"![validation PSNR against compute](learning-budget.png)"
    )
    if not DOC.exists():
        DOC.write_text(f"# Learning budget\n\n{START}\n{END}\n")
    replace_section(DOC, (START, END), section)
    print(table(curves))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", choices=[r.name for r in RECIPES], help="default: all")
    parser.add_argument("--steps", type=int, default=250, help="training steps per recipe")
    parser.add_argument("--val-every", type=int, default=25, help="validate every N steps")
    parser.add_argument("--width", type=float, default=0.5, help="channel multiplier (1.0 = the paper's)")
    parser.add_argument("--jobs", type=int, default=1, help="recipes trained at once")
    parser.add_argument("--threads", type=int, help="torch threads per job (default: torch's choice)")
    parser.add_argument("--out", type=Path, default=Path("logs/learning-budget"), help="run folders")
    parser.add_argument("--report-only", action="store_true", help="rebuild the report from finished runs")
    args = parser.parse_args(argv)
    recipes = [r for r in RECIPES if not args.recipes or r.name in args.recipes]
    if not args.report_only:
        ensure_data(args)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(lambda r: run(r, args), recipes))
    curves = [c for c in (curve(r, args) for r in recipes) if c]
    if not curves:
        raise SystemExit(f"no finished runs under {args.out}: train them first (without --report-only)")
    report(curves, args)


if __name__ == "__main__":
    main()
