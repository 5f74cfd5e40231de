"""A Table 1 sweep gathered into a table, a CSV, plots and a W&B table, side by side with the paper (`srn-table1`,
srnlab.cli.table1, is the command)."""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from scipy.stats import spearmanr

from srnlab.config import TABLE1_IDS, compose_config, experiment_ids
from srnlab.errors import UserError
from srnlab.lit.metrics import per_image_psnr, quantize
from srnlab.plotting import variant_colors
from srnlab.results import RunResult
from srnlab.runfiles import csv_columns, write_csv
from srnlab.summary import VariantSummary, summarize
from srnlab.weights import load_module


@dataclass
class Row:
    id: str
    model: str
    params: int
    trained_params: int | None
    paper_params: int
    gflops: float
    psnr: float | None
    ssim: float | None
    paper_psnr: float
    paper_ssim: float
    blur_psnr: float | None
    blur_ssim: float | None
    val_first_psnr: float | None
    val_last_psnr: float | None
    rank: int | None
    paper_rank: int
    train_time_min: float | None
    status: str
    other_scores: dict[str, float] = field(default_factory=dict)  # test metrics beyond PSNR/SSIM (model.metrics)

    def record(self) -> dict[str, object]:
        """A flat record for CSV and W&B: one column per other metric."""
        flat = {k: v for k, v in asdict(self).items() if k != "other_scores"}
        return flat | self.other_scores


PAPER_METRICS = ("psnr", "ssim", "blur_psnr", "blur_ssim")
TABLE_JOB_TYPE = "table"  # the W&B job type of the run that holds a sweep's table and pictures
TABLE_KEY = "table1"  # the W&B key of that table
MULTIRUN_FILE = "multirun.yaml"  # what Hydra records of a sweep in its folder
PICTURES = ("psnr_vs_params", "qualitative")  # the pictures next to the table: <name>.png, W&B key <name>


@dataclass(frozen=True)
class Sweep:
    """A Table 1 sweep as Hydra recorded it in the sweep folder's multirun.yaml: which variants it ran, with
    which profile on which data. Nothing here is rebuilt from naming conventions."""

    runs_dir: Path
    ids: tuple[str, ...]
    profile: str | None = None
    data: str | None = None

    @classmethod
    def read(cls, runs_dir: Path) -> Sweep:
        """The sweep in `runs_dir`; a folder without multirun.yaml (jobs copied by hand) is read as holding
        Table 1's variants."""
        recorded = runs_dir / MULTIRUN_FILE
        if not recorded.is_file():
            return cls(runs_dir, TABLE1_IDS)
        return cls._from_config(runs_dir, OmegaConf.load(recorded))

    @classmethod
    def configured(cls, overrides: list[str]) -> Sweep:
        """The sweep `srn-train --config-name table1 <overrides>` writes (or wrote): as its folder recorded it,
        or as composed where it has not run (its results may be committed while its folder is gone)."""
        cfg = compose_config("table1", overrides)
        runs_dir = Path(cfg.hydra.sweep.dir)
        return cls.read(runs_dir) if (runs_dir / MULTIRUN_FILE).is_file() else cls._from_config(runs_dir, cfg)

    @classmethod
    def _from_config(cls, runs_dir: Path, cfg: DictConfig) -> Sweep:
        """From the sweep's config with its `hydra` node: the experiments given on the command line, else the
        swept list."""
        from_command_line = [o.split("=", 1)[1] for o in cfg.hydra.overrides.task if o.startswith("experiment=")]
        return cls(
            runs_dir,
            experiment_ids(from_command_line[-1] if from_command_line else cfg.hydra.sweeper.params.experiment),
            cfg.get("profile_name"),
            cfg.hydra.runtime.choices.get("data"),
        )

    def results_dir(self) -> Path:
        """ablations/results/<profile>, or <profile>-<data> for other data than the synthetic default."""
        if self.profile is None:
            raise UserError(f"{self.runs_dir} has no multirun.yaml to name its results folder: pass --out")
        name = self.profile if self.data in (None, "synthetic") else f"{self.profile}-{self.data}"
        return Path("ablations") / "results" / name

    @cached_property
    def results(self) -> dict[str, RunResult | None]:
        """Each variant's result record (None for a job that has not finished), read once."""
        return {exp_id: RunResult.read(self.runs_dir / exp_id) for exp_id in self.ids}

    def finished(self) -> list[RunResult]:
        return [r for r in self.results.values() if r and r.ok]

    def wandb_group(self) -> str | None:
        """The W&B group the variants' runs logged to, so that the table's run joins them."""
        return next((r.sweep_group for r in self.results.values() if r and r.sweep_group), None)


def collect_rows(results: Mapping[str, RunResult | None], summaries: dict[str, VariantSummary]) -> list[Row]:
    """One row per Table 1 variant, whether its job finished, failed or never ran."""
    rows = []
    for exp_id, s in summaries.items():
        paper = s.paper
        result = results.get(exp_id)
        ok = result is not None and result.ok
        rows.append(
            Row(
                id=exp_id,
                model=s.name,
                params=s.params,
                trained_params=result.params if ok else None,
                paper_params=paper["params"],
                gflops=s.gflops,
                psnr=result.test_score("psnr") if result else None,
                ssim=result.test_score("ssim") if result else None,
                paper_psnr=paper["psnr"],
                paper_ssim=paper["ssim"],
                blur_psnr=result.test_score("blur_psnr") if result else None,
                blur_ssim=result.test_score("blur_ssim") if result else None,
                val_first_psnr=(result.val_first or {}).get("val/psnr") if ok else None,
                val_last_psnr=(result.val_last or {}).get("val/psnr") if ok else None,
                rank=None,
                paper_rank=0,
                train_time_min=result.train_time_s / 60 if ok and result.train_time_s else None,
                status=result.describe_status() if result else "missing",
                other_scores=_other_scores(result) if ok else {},
            )
        )
    _assign_ranks(rows)
    return rows


def _other_scores(result: RunResult) -> dict[str, float]:
    """The test metrics a sweep computed beyond the paper's PSNR and SSIM (and their blurry-input twins)."""
    scores = {k.removeprefix("test/"): v for k, v in result.test.items() if k.startswith("test/")}
    return {k: v for k, v in scores.items() if k not in PAPER_METRICS}


def _assign_ranks(rows: list[Row]) -> None:
    for rank, row in enumerate(sorted(rows, key=lambda r: -r.paper_psnr), start=1):
        row.paper_rank = rank
    scored = [r for r in rows if r.psnr is not None]
    for rank, row in enumerate(sorted(scored, key=lambda r: -r.psnr), start=1):
        row.rank = rank


def spearman(rows: list[Row]) -> float | None:
    """Rank correlation between our PSNR column and the paper's, over the variants that finished."""
    scored = [r for r in rows if r.psnr is not None]
    if len(scored) < 3:
        return None
    rho = spearmanr([r.psnr for r in scored], [r.paper_psnr for r in scored]).statistic
    return None if math.isnan(rho) else float(rho)


def budget_line(results: list[RunResult]) -> str:
    """The training budget every variant of the sweep got, read from a finished job."""
    if not results:
        return "Budget: no variant finished."
    return f"Budget per variant: {results[0].budget.describe()} (profile `{results[0].profile}`)."


def machine_line(results: list[RunResult]) -> str:
    """Which machine(s) trained the sweep: timings and bf16 results compare only within one kind."""
    machines = list(dict.fromkeys(r.machine for r in results if r.machine))
    return "Machine: " + "; ".join(machines) + "." if machines else "Machine: not recorded."


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_markdown(rows: list[Row], results: list[RunResult]) -> str:
    others = list(dict.fromkeys(k for r in rows for k in r.other_scores))
    lines = [
        "# Table 1 reproduction",
        "",
        budget_line(results),
        machine_line(results),
        "PSNR/SSIM: our test split, mean over images, 8-bit outputs, scikit-image SSIM; paper: GOPRO test set. "
        "params: the variant at the paper's width; trained params: at the profile's width.",
        "",
        "| id | model | params | trained params | paper params | GFLOPs | PSNR | SSIM | paper PSNR | paper SSIM | "
        "blurry input PSNR / SSIM | val PSNR first -> last | rank | paper rank | train min | "
        + "".join(f"{k.replace('_', ' ')} | " for k in others)
        + "status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(others) + "---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.id} | {r.model} | {r.params:,} | {_fmt(r.trained_params, ',')} | {r.paper_params / 1e6:.2f}M | "
            f"{r.gflops:,.0f} | "
            f"{_fmt(r.psnr, '.2f')} | {_fmt(r.ssim, '.4f')} | {r.paper_psnr:.2f} | {r.paper_ssim:.4f} | "
            f"{_fmt(r.blur_psnr, '.2f')} / {_fmt(r.blur_ssim, '.4f')} | "
            f"{_fmt(r.val_first_psnr, '.2f')} -> {_fmt(r.val_last_psnr, '.2f')} | "
            f"{_fmt(r.rank, 'd')} | {r.paper_rank} | {_fmt(r.train_time_min, '.1f')} | "
            + "".join(f"{_fmt(r.other_scores.get(k), '.4f')} | " for k in others)
            + f"{r.status} |"
        )
    rho = spearman(rows)
    lines += ["", f"Spearman rank correlation of our PSNR with the paper's: {_fmt(rho, '.3f')}", ""]
    return "\n".join(lines)


def plot_psnr_vs_params(rows: list[Row], path: Path) -> None:
    """Paper and ours side by side: absolute PSNRs differ (training budget, data), the ordering is the point.
    Each variant has its colour of every figure and dashboard (srnlab.plotting)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    panels = [(axes[0], "paper (GOPRO, 524k steps)", lambda r: r.paper_psnr, None)]
    blur = next((r.blur_psnr for r in rows if r.blur_psnr is not None), None)
    panels.append((axes[1], "ours (this sweep)", lambda r: r.psnr, blur))
    colors = variant_colors(r.id for r in rows)
    for ax, title, value, baseline in panels:
        for r in rows:
            if value(r) is not None:
                ax.scatter(r.params / 1e6, value(r), color=colors[r.id])
                ax.annotate(r.model, (r.params / 1e6, value(r)), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if baseline is not None:
            ax.axhline(baseline, color="gray", linestyle="--", label=f"blurry input {baseline:.2f} dB")
            ax.legend(loc="lower right")
        ax.set_title(title)
        ax.set_xlabel("parameters (M)")
        ax.set_ylabel("PSNR (dB)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_qualitative(sweep: Sweep, rows: list[Row], path: Path, crop: int = 128, trust: bool = False) -> bool:
    """One held-out test crop through every finished variant's best checkpoint (read weights-only unless
    `trust`); False when none finished."""
    ckpts = [(r, sweep.results[r.id].best_ckpt) for r in rows if r.status == "ok"]
    finished = [(r, ckpt) for r, ckpt in ckpts if ckpt and Path(ckpt).exists()]
    if not finished:
        return False
    blur, sharp = _test_crop(sweep.runs_dir / finished[0][0].id, crop)
    panels = [("blurry input", blur, per_image_psnr(blur, sharp))]
    for row, ckpt in finished:
        module = load_module(ckpt, map_location="cpu", trust=trust)
        with torch.no_grad():
            out = quantize(module(blur))
        panels.append((row.model, out, per_image_psnr(out, sharp)))
    panels.append(("sharp", sharp, None))
    cols = 6
    rows_n = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(2.4 * cols, 2.9 * rows_n), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, image, psnr) in zip(axes.flat, panels, strict=False):
        ax.imshow(image[0].permute(1, 2, 0).clamp(0, 1).numpy())
        ax.set_title(title if psnr is None else f"{title}\n{float(psnr):.2f} dB", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _test_crop(run_dir: Path, crop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The centre crop of the first test pair, from the data config the sweep trained with."""
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("test")
    item = datamodule.test_dataloader().dataset[0]
    h, w = item["blur"].shape[-2:]
    size = min(crop, h, w)
    top, left = (h - size) // 2, (w - size) // 2
    return tuple(item[k][None, :, top : top + size, left : left + size] for k in ("blur", "sharp"))


def copy_curves(sweep: Sweep, out_dir: Path) -> None:
    """Each variant's CSV training log next to the table, so the results folder stands on its own."""
    curves = out_dir / "curves"
    curves.mkdir(parents=True, exist_ok=True)
    for exp_id in sweep.ids:
        src = sweep.runs_dir / exp_id / "csv" / "metrics.csv"
        if src.exists():
            shutil.copyfile(src, curves / f"{exp_id}.csv")


def log_to_wandb(rows: list[Row], out_dir: Path, group: str) -> None:
    """The table (its columns named as in table1.csv) and both pictures as one W&B run of the sweep's group, job
    type `table` (offline unless WANDB_MODE says otherwise)."""
    import os

    import wandb

    mode = os.environ.get("WANDB_MODE", "offline")
    run = wandb.init(project="srnlab", group=group, job_type=TABLE_JOB_TYPE, name=group, dir=str(out_dir), mode=mode)
    try:
        records = [r.record() for r in rows]
        columns = csv_columns(records)
        run.log({TABLE_KEY: wandb.Table(columns=columns, data=[[rec.get(c) for c in columns] for rec in records])})
        for name in PICTURES:
            if (out_dir / f"{name}.png").exists():
                run.log({name: wandb.Image(str(out_dir / f"{name}.png"))})
    finally:
        run.finish()


def build_results(sweep: Sweep, out_dir: Path, wandb_group: str | None = None, trust: bool = False) -> list[Row]:
    """The table, CSV, plots and curves of a sweep in `out_dir`, and (with a group) the table as a W&B run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = collect_rows(sweep.results, {i: summarize(i) for i in sweep.ids})
    (out_dir / "table1.md").write_text(format_markdown(rows, sweep.finished()))
    write_csv(out_dir / "table1.csv", [r.record() for r in rows])
    plot_psnr_vs_params(rows, out_dir / "psnr_vs_params.png")
    plot_qualitative(sweep, rows, out_dir / "qualitative.png", trust=trust)
    copy_curves(sweep, out_dir)
    if wandb_group:
        log_to_wandb(rows, out_dir, wandb_group)
    return rows
