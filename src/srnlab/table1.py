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
import numpy as np
import torch
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from scipy.stats import spearmanr

from srnlab.claims import CLAIMS_KEY, ClaimVerdict, judge, read_pairs, table1_claims, tally, write_claims
from srnlab.config import TABLE1_IDS, compose_config, experiment_ids
from srnlab.deblurrer import Deblurrer
from srnlab.errors import UserError
from srnlab.lit.metrics import per_image_psnr, quantize
from srnlab.plotting import variant_colors
from srnlab.results import PROGRESS_FILE, RunResult, read_test_images
from srnlab.runfiles import csv_columns, read_json, write_csv
from srnlab.significance import Significance, analyse
from srnlab.summary import VariantSummary, summarize


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
    seeds: int = 0  # seeds that finished; psnr, ssim and other_scores are their means
    psnr_std: float | None = None  # over seeds
    ssim_std: float | None = None
    psnr_ci_low: float | None = None  # 95 % bootstrap interval of the mean PSNR over seeds and test images
    psnr_ci_high: float | None = None
    rank_stability: float | None = None  # share of bootstrap resamples in which the variant keeps its rank

    def record(self) -> dict[str, object]:
        """A flat record for CSV and W&B: one column per other metric."""
        flat = {k: v for k, v in asdict(self).items() if k != "other_scores"}
        return flat | self.other_scores


PAPER_METRICS = ("psnr", "ssim", "blur_psnr", "blur_ssim")
TABLE_JOB_TYPE = "table"  # the W&B job type of the run that holds a sweep's table and pictures
TABLE_KEY = "table1"  # the W&B key of that table
PAIRS_KEY = "pairs"  # pairs.csv / pairs.png, and the W&B key of the pairwise comparisons
MULTIRUN_FILE = "multirun.yaml"  # what Hydra records of a sweep in its folder
PICTURES = ("psnr_vs_params", "qualitative")  # the pictures next to the table: <name>.png, W&B key <name>


@dataclass(frozen=True)
class Sweep:
    """A Table 1 sweep as Hydra recorded it in the sweep folder's multirun.yaml: which variants it ran with which
    seeds, with which profile on which data. Each job's folder is <variant>/seed<n>; `seeds` is empty for a
    sweep from before seeds were an axis, whose jobs are <variant>/."""

    runs_dir: Path
    ids: tuple[str, ...]
    profile: str | None = None
    data: str | None = None
    seeds: tuple[int, ...] = ()

    @classmethod
    def read(cls, runs_dir: Path) -> Sweep:
        """The sweep in `runs_dir`; a folder without multirun.yaml (jobs copied by hand) is read as holding
        Table 1's variants, with the seeds its folders show."""
        recorded = runs_dir / MULTIRUN_FILE
        if not recorded.is_file():
            seeds = {int(p.name.removeprefix("seed")) for p in runs_dir.glob("*/seed*") if p.name[4:].isdigit()}
            return cls(runs_dir, TABLE1_IDS, seeds=tuple(sorted(seeds)))
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
        """From the sweep's config with its `hydra` node: the experiments and seeds given on the command line,
        else the swept lists."""
        swept = {**cfg.hydra.sweeper.params, **dict(o.split("=", 1) for o in cfg.hydra.overrides.task if "=" in o)}
        return cls(
            runs_dir,
            experiment_ids(swept["experiment"]),
            cfg.get("profile_name"),
            cfg.hydra.runtime.choices.get("data"),
            _swept_values("seed", swept["seed"]) if "seed" in swept else (),
        )

    def results_dir(self) -> Path:
        """ablations/results/<profile>, or <profile>-<data> for other data than the synthetic default."""
        if self.profile is None:
            raise UserError(f"{self.runs_dir} has no multirun.yaml to name its results folder: pass --out")
        name = self.profile if self.data in (None, "synthetic") else f"{self.profile}-{self.data}"
        return Path("ablations") / "results" / name

    def job_dir(self, exp_id: str, seed: int | None) -> Path:
        return self.runs_dir / exp_id if seed is None else self.runs_dir / exp_id / f"seed{seed}"

    @cached_property
    def seed_results(self) -> dict[str, dict[int | None, RunResult | None]]:
        """Every job's result record (None for a job that has not finished), per variant and seed, read once."""
        seeds = self.seeds or (None,)
        return {exp_id: {s: RunResult.read(self.job_dir(exp_id, s)) for s in seeds} for exp_id in self.ids}

    def lead_seed(self, exp_id: str) -> int | None:
        """The seed whose job stands for the variant where one job must (best checkpoint, curves)."""
        return lead_seed(self.seed_results[exp_id])

    def unfinished(self) -> dict[str, str]:
        """The status of each variant none of whose jobs left a record but one of which left a checkpoint (it
        was killed, or is still training): 'interrupted at step N (resumable)', N from its progress.json."""
        statuses = {}
        for exp_id, jobs in self.seed_results.items():
            folders = [self.job_dir(exp_id, s) for s, r in jobs.items() if r is None]
            started = [f for f in folders if (f / "checkpoints" / "last.ckpt").is_file()]
            if started and not any(jobs.values()):
                steps = [(read_json(f / PROGRESS_FILE) or {}).get("global_step") for f in started]
                statuses[exp_id] = f"interrupted at step {max(s or 0 for s in steps)} (resumable)"
        return statuses

    def has_jobs(self) -> bool:
        """Whether any job of the sweep left a record or a checkpoint."""
        return any(r is not None for jobs in self.seed_results.values() for r in jobs.values()) or bool(
            self.unfinished()
        )

    @cached_property
    def results(self) -> dict[str, RunResult | None]:
        """Each variant's lead job's record."""
        return {exp_id: self.seed_results[exp_id][self.lead_seed(exp_id)] for exp_id in self.ids}

    def finished(self) -> list[RunResult]:
        return [r for jobs in self.seed_results.values() for r in jobs.values() if r and r.ok]

    def per_image_psnr(self) -> dict[str, np.ndarray]:
        """Each variant's test PSNR per finished seed (rows) and test image (columns, in name order), for the
        variants whose finished jobs all wrote their per-image scores."""
        scores = {}
        for exp_id, jobs in self.seed_results.items():
            images = [read_test_images(self.job_dir(exp_id, s)) for s, r in jobs.items() if r and r.ok]
            if images and all(images):
                scores[exp_id] = np.array([[i[name]["psnr"] for name in sorted(i)] for i in images])
        return scores

    def wandb_group(self) -> str | None:
        """The W&B group the variants' runs logged to, so that the table's run joins them."""
        return next((r.sweep_group for r in self.results.values() if r and r.sweep_group), None)


def _swept_values(key: str, value: str) -> tuple[int, ...]:
    """The values of a swept key as Hydra's sweeper reads it ('1,2,3', 'range(1,4)' or '1')."""
    override = OverridesParser.create().parse_override(f"{key}={value}")
    if override.is_sweep_override():
        return tuple(int(v) for v in override.sweep_string_iterator())
    return (int(override.get_value_element_as_str()),)


def lead_seed(jobs: Mapping[int | None, RunResult | None]) -> int | None:
    """Of one variant's jobs (seed -> record, None where none was written), the seed that stands for it: the
    first that finished, else the first with a record (its failure is what the table shows), else the first."""
    seeds = list(jobs)
    with_record = [s for s in seeds if jobs[s]]
    return next((s for s in with_record if jobs[s].ok), with_record[0] if with_record else seeds[0])


def collect_rows(
    seed_results: Mapping[str, Mapping[int | None, RunResult | None]],
    summaries: dict[str, VariantSummary],
    unfinished: Mapping[str, str] | None = None,
) -> list[Row]:
    """One row per Table 1 variant, whether its jobs finished, failed, were interrupted or never ran: test
    scores are the mean over the seeds that finished, everything else is the lead job's (Sweep.lead_seed);
    `unfinished` gives the status of variants whose jobs left no record (Sweep.unfinished)."""
    rows = []
    for exp_id, s in summaries.items():
        paper = s.paper
        jobs = seed_results.get(exp_id, {})
        finished = [r for r in jobs.values() if r and r.ok]
        result = jobs[lead_seed(jobs)] if jobs else None
        ok = result is not None and result.ok
        rows.append(
            Row(
                id=exp_id,
                model=s.name,
                params=s.params,
                trained_params=result.params if ok else None,
                paper_params=paper["params"],
                gflops=s.gflops,
                psnr=_mean(finished, "psnr"),
                ssim=_mean(finished, "ssim"),
                paper_psnr=paper["psnr"],
                paper_ssim=paper["ssim"],
                blur_psnr=result.test_score("blur_psnr") if result else None,
                blur_ssim=result.test_score("blur_ssim") if result else None,
                val_first_psnr=(result.val_first or {}).get("val/psnr") if ok else None,
                val_last_psnr=(result.val_last or {}).get("val/psnr") if ok else None,
                rank=None,
                paper_rank=0,
                train_time_min=result.train_time_s / 60 if ok and result.train_time_s else None,
                status=result.describe_status() if result else (unfinished or {}).get(exp_id, "missing"),
                other_scores=_other_scores(finished),
                seeds=len(finished),
                psnr_std=_std(finished, "psnr"),
                ssim_std=_std(finished, "ssim"),
            )
        )
    _assign_ranks(rows)
    return rows


def _scores(results: list[RunResult], metric: str) -> list[float]:
    return [v for v in (r.test_score(metric) for r in results) if v is not None]


def _mean(results: list[RunResult], metric: str) -> float | None:
    values = _scores(results, metric)
    return float(np.mean(values)) if values else None


def _std(results: list[RunResult], metric: str) -> float | None:
    """The spread over seeds (sample standard deviation); None with fewer than two seeds."""
    values = _scores(results, metric)
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def _other_scores(results: list[RunResult]) -> dict[str, float]:
    """The test metrics a sweep computed beyond the paper's PSNR and SSIM (and their blurry-input twins), as
    means over seeds."""
    names = dict.fromkeys(k.removeprefix("test/") for r in results for k in r.test if k.startswith("test/"))
    return {k: _mean(results, k) for k in names if k not in PAPER_METRICS}


def _assign_ranks(rows: list[Row]) -> None:
    for rank, row in enumerate(sorted(rows, key=lambda r: -r.paper_psnr), start=1):
        row.paper_rank = rank
    scored = [r for r in rows if r.psnr is not None]
    for rank, row in enumerate(sorted(scored, key=lambda r: -r.psnr), start=1):
        row.rank = rank


def spearman(rows: list[Row]) -> float | None:
    """Rank correlation between our PSNR column and the paper's, over the variants that finished: for sweeps
    without per-image scores (otherwise srnlab.significance computes it, with its interval)."""
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


def analyse_sweep(sweep: Sweep, rows: list[Row]) -> Significance | None:
    """Seed spread, bootstrap intervals, paired per-image tests and rank stability over the variants whose jobs
    wrote per-image scores (srnlab.significance); None when fewer than two did. Fills the rows' interval and
    stability columns."""
    scores = sweep.per_image_psnr()
    if len(scores) < 2 or len({x.shape[1] for x in scores.values()}) > 1:
        return None
    paper = {r.id: r.paper_psnr for r in rows}
    significance = analyse(scores, paper)
    for row in rows:
        stats = significance.variants.get(row.id)
        if stats:
            row.psnr_ci_low, row.psnr_ci_high = stats.ci_low, stats.ci_high
            row.rank_stability = significance.rank_stability[row.id]
    return significance


def _pm(mean: float | None, std: float | None, spec: str) -> str:
    return _fmt(mean, spec) + (f" ± {std:{spec}}" if std is not None else "")


def significance_lines(
    significance: Significance | None, rows: list[Row], claims: list[ClaimVerdict] | None = None
) -> list[str]:
    """How to read the intervals, the pairs and the claims, under the table."""
    rho = spearman(rows) if significance is None else significance.spearman
    if significance is None:
        return [f"Spearman rank correlation of our PSNR with the paper's: {_fmt(rho, '.3f')}", "",
                "No per-image test scores in this sweep (its jobs predate test_images.csv): no intervals or paired "
                "tests."]  # fmt: skip
    ci = significance.spearman_ci
    interval = f" (95 % bootstrap interval {ci[0]:.2f} to {ci[1]:.2f})" if ci else ""
    distinct = [p for p in significance.pairs if p.verdict != "not distinguishable"]
    seeds = (
        "One seed per variant: the intervals come from the test images only, not from training noise; run "
        "`make reproduce-table1 SEEDS=3` to include it."
        if significance.single_seed
        else "PSNR is the mean ± standard deviation over seeds; the 95 % interval resamples seeds and test images."
    )
    tau_ci = significance.kendall_ci
    tau = _fmt(significance.kendall, ".3f") + (f" (95 % bootstrap interval {tau_ci[0]:.2f} to {tau_ci[1]:.2f})"
                                                 if tau_ci else "")  # fmt: skip
    return [
        f"Spearman rank correlation of our PSNR with the paper's: {_fmt(rho, '.3f')}{interval}",
        f"Kendall tau with the paper's ranking (the share of its pairwise orderings kept, less those reversed): {tau}",
        "",
        seeds,
        f"Pairs: {len(distinct)} of {len(significance.pairs)} differ (paired Wilcoxon signed-rank test per test "
        "image, Holm-corrected over all pairs, 5 %): pairs.csv, pairs.png. Rank stability: the share of bootstrap "
        "resamples in which a variant keeps its rank.",
        *(
            [f"The paper's claims: {tally(claims)} (Holm over the claims): claims.md, claims.csv, claims.png."]
            if claims
            else []
        ),
    ]


def format_markdown(
    rows: list[Row],
    results: list[RunResult],
    significance: Significance | None = None,
    claims: list[ClaimVerdict] | None = None,
) -> str:
    others = list(dict.fromkeys(k for r in rows for k in r.other_scores))
    lines = [
        "# Table 1 reproduction",
        "",
        budget_line(results),
        machine_line(results),
        "PSNR/SSIM: our test split, mean over images, 8-bit outputs, scikit-image SSIM; paper: GOPRO test set. "
        "params: the variant at the paper's width; trained params: at the profile's width.",
        "",
        "| id | model | params | trained params | paper params | GFLOPs | PSNR | PSNR 95 % CI | SSIM | paper PSNR | "
        "paper SSIM | blurry input PSNR / SSIM | val PSNR first -> last | rank | rank stability | paper rank | "
        "seeds | train min | " + "".join(f"{k.replace('_', ' ')} | " for k in others) + "status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        + "---:|" * len(others)
        + "---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.id} | {r.model} | {r.params:,} | {_fmt(r.trained_params, ',')} | {r.paper_params / 1e6:.2f}M | "
            f"{r.gflops:,.0f} | "
            f"{_pm(r.psnr, r.psnr_std, '.2f')} | {_fmt(r.psnr_ci_low, '.2f')} - {_fmt(r.psnr_ci_high, '.2f')} | "
            f"{_pm(r.ssim, r.ssim_std, '.4f')} | {r.paper_psnr:.2f} | {r.paper_ssim:.4f} | "
            f"{_fmt(r.blur_psnr, '.2f')} / {_fmt(r.blur_ssim, '.4f')} | "
            f"{_fmt(r.val_first_psnr, '.2f')} -> {_fmt(r.val_last_psnr, '.2f')} | "
            f"{_fmt(r.rank, 'd')} | {_fmt(r.rank_stability, '.2f')} | {r.paper_rank} | {r.seeds} | "
            f"{_fmt(r.train_time_min, '.1f')} | "
            + "".join(f"{_fmt(r.other_scores.get(k), '.4f')} | " for k in others)
            + f"{r.status} |"
        )
    lines += ["", *significance_lines(significance, rows, claims), ""]
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
                if "ours" in title and r.psnr_ci_low is not None:
                    ax.errorbar(r.params / 1e6, r.psnr, yerr=[[r.psnr - r.psnr_ci_low], [r.psnr_ci_high - r.psnr]],
                                color=colors[r.id], capsize=3)  # fmt: skip
                ax.annotate(r.model, (r.params / 1e6, value(r)), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if baseline is not None:
            ax.axhline(baseline, color="gray", linestyle="--", label=f"blurry input {baseline:.2f} dB")
            ax.legend(loc="lower right")
        ax.set_title(title + (" (bars: 95 % interval)" if "ours" in title and rows[0].psnr_ci_low else ""))
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
    lead = finished[0][0].id
    blur, sharp = _test_crop(sweep.job_dir(lead, sweep.lead_seed(lead)), crop)
    panels = [("blurry input", blur, per_image_psnr(blur, sharp))]
    for row, ckpt in finished:
        with torch.inference_mode():
            out = quantize(Deblurrer.load(ckpt, trust=trust)(blur))
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


def plot_pairs(significance: Significance, rows: list[Row], path: Path) -> None:
    """Variant x variant heat map of the mean per-image PSNR difference (row minus column); pairs the paired test
    cannot tell apart are hatched."""
    names = {r.id: r.model for r in rows}
    ids = list(significance.variants)
    diff = np.zeros((len(ids), len(ids)))
    unclear = np.zeros_like(diff, dtype=bool)
    for pair in significance.pairs:
        i, j = ids.index(pair.a), ids.index(pair.b)
        diff[i, j], diff[j, i] = pair.mean_diff, -pair.mean_diff
        unclear[i, j] = unclear[j, i] = pair.verdict == "not distinguishable"
    limit = max(float(np.abs(diff).max()), 1e-6)
    size = max(4.5, 0.7 * len(ids))
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(diff, cmap="RdBu", vmin=-limit, vmax=limit)
    for i, j in np.argwhere(~np.eye(len(ids), dtype=bool)):
        color = "white" if abs(diff[i, j]) > 0.6 * limit else "black"
        ax.text(j, i, f"{diff[i, j]:+.2f}", ha="center", va="center", fontsize=7, color=color)
        if unclear[i, j]:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.5", lw=0))
    ax.set_xticks(range(len(ids)), [names[i] for i in ids], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(ids)), [names[i] for i in ids], fontsize=8)
    ax.set_title("PSNR of row minus column, mean over test images (dB)\nhatched: not distinguishable (Holm, 5 %)",
                 fontsize=9)  # fmt: skip
    fig.colorbar(image, ax=ax, shrink=0.8, label="dB")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def copy_curves(sweep: Sweep, out_dir: Path) -> None:
    """Each variant's CSV training log (its lead seed's) next to the table, so the results folder stands on its
    own."""
    curves = out_dir / "curves"
    curves.mkdir(parents=True, exist_ok=True)
    for exp_id in sweep.ids:
        src = sweep.job_dir(exp_id, sweep.lead_seed(exp_id)) / "csv" / "metrics.csv"
        if src.exists():
            shutil.copyfile(src, curves / f"{exp_id}.csv")


def log_to_wandb(
    rows: list[Row], out_dir: Path, group: str, pairs: list[dict[str, object]], claims: list[dict[str, object]]
) -> None:
    """The table (its columns named as in table1.csv), the pairwise comparisons (as in pairs.csv), the claims (as
    in claims.csv) and the pictures as one W&B run of the sweep's group, job type `table` (offline unless
    WANDB_MODE says otherwise)."""
    import os

    import wandb

    mode = os.environ.get("WANDB_MODE", "offline")
    run = wandb.init(project="srnlab", group=group, job_type=TABLE_JOB_TYPE, name=group, dir=str(out_dir), mode=mode)
    try:
        records = [r.record() for r in rows]
        columns = csv_columns(records)
        run.log({TABLE_KEY: wandb.Table(columns=columns, data=[[rec.get(c) for c in columns] for rec in records])})
        if pairs:
            run.log({PAIRS_KEY: wandb.Table(columns=csv_columns(pairs), data=[list(p.values()) for p in pairs])})
        if claims:
            run.log({CLAIMS_KEY: wandb.Table(columns=csv_columns(claims), data=[list(c.values()) for c in claims])})
        for name in (*PICTURES, PAIRS_KEY, CLAIMS_KEY):
            if (out_dir / f"{name}.png").exists():
                run.log({name: wandb.Image(str(out_dir / f"{name}.png"))})
    finally:
        run.finish()


def build_results(sweep: Sweep, out_dir: Path, wandb_group: str | None = None, trust: bool = False) -> list[Row]:
    """The table, CSV, plots and curves of a sweep in `out_dir`, and (with a group) the table as a W&B run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = collect_rows(sweep.seed_results, {i: summarize(i) for i in sweep.ids}, sweep.unfinished())
    significance = analyse_sweep(sweep, rows)
    claims = judge(significance.pairs, table1_claims()) if significance else None
    (out_dir / "table1.md").write_text(format_markdown(rows, sweep.finished(), significance, claims))
    write_csv(out_dir / "table1.csv", [r.record() for r in rows])
    pairs = [p.record() for p in significance.pairs] if significance else []
    if significance:
        write_csv(out_dir / f"{PAIRS_KEY}.csv", pairs)
        plot_pairs(significance, rows, out_dir / f"{PAIRS_KEY}.png")
        write_claims(claims, out_dir, f"Table 1's claims, profile {sweep.profile or 'unnamed'}")
    plot_psnr_vs_params(rows, out_dir / "psnr_vs_params.png")
    plot_qualitative(sweep, rows, out_dir / "qualitative.png", trust=trust)
    copy_curves(sweep, out_dir)
    if wandb_group:
        log_to_wandb(rows, out_dir, wandb_group, pairs, [c.record() for c in claims or []])
    return rows


def rejudge_claims(results_dir: Path) -> str:
    """The claims of a results folder judged from its pairs.csv alone (for folders whose sweep is gone); returns
    claims.md's text."""
    pairs = results_dir / f"{PAIRS_KEY}.csv"
    if not pairs.is_file():
        raise UserError(f"no {pairs}: the claims need the paired tests srn-table1 writes there")
    write_claims(judge(read_pairs(pairs), table1_claims()), results_dir, f"Table 1's claims, {results_dir.name}")
    return (results_dir / f"{CLAIMS_KEY}.md").read_text()
