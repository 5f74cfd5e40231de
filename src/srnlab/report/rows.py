"""One row per Table 1 variant: its size, its scores (means over seeds, with intervals) and the paper's."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import spearmanr

from srnlab.report.significance import Significance, analyse
from srnlab.report.summary import VariantSummary
from srnlab.report.sweep import Sweep, lead_seed
from srnlab.runs.results import RunResult


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


PAPER_METRICS = ("psnr", "ssim", "blur_psnr", "blur_ssim")


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
    without per-image scores (otherwise srnlab.report.significance computes it, with its interval)."""
    scored = [r for r in rows if r.psnr is not None]
    if len(scored) < 3:
        return None
    rho = spearmanr([r.psnr for r in scored], [r.paper_psnr for r in scored]).statistic
    return None if math.isnan(rho) else float(rho)


def analyse_sweep(sweep: Sweep, rows: list[Row]) -> Significance | None:
    """Seed spread, bootstrap intervals, paired per-image tests and rank stability over the variants whose jobs
    wrote per-image scores (srnlab.report.significance); None when fewer than two did. Fills the rows' interval and
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
