"""The table's columns, as one list: each column's name (the CSV and W&B key), its Markdown header, how its value
is read from a row and written, and the convention its number follows. table1.md, table1.csv, the W&B table and
the notebook all read this list, so a header and its values cannot drift apart.

Score columns keep the names they had (psnr, ssim, ...) and their Markdown headers name the convention
(srnlab.lit.metrics.CONVENTIONS, docs/metric-conventions.md): SSIM differs by 0.02 to 0.10 between conventions,
more than most differences in Table 1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from srnlab.lit.metrics import CONVENTIONS, metric_header
from srnlab.report.claims import ClaimVerdict, tally
from srnlab.report.rows import Row, spearman
from srnlab.report.significance import Significance
from srnlab.runs.results import RunResult

OURS = "our test split, mean over images, 8-bit outputs"  # how all our scores are computed
PAPER = "the paper's Table 1, GOPRO test set"
PAPER_SCORES = PAPER + ", MATLAB psnr()/ssim() on the colour results (the official README)"
ROW_FIELDS = frozenset(f.name for f in fields(Row))  # any other column is a test metric (Row.other_scores)


def ours(metric: str, *more: str) -> str:
    """The convention of our score `metric` (or of its blurry-input twin `blur_<metric>`)."""
    name = metric.removeprefix("blur_")
    text = CONVENTIONS[name].text if name in CONVENTIONS else "a metric this srnlab does not know"
    whose = ["the blurry input's"] if metric != name else []
    return "; ".join([OURS, *whose, text, *more])


@dataclass(frozen=True)
class Column:
    """One column. `header` None: the value is shown inside another column's Markdown cell (`cell`), and is a
    column of its own in the CSV and in W&B only."""

    name: str
    header: str | None
    fmt: str = ""
    convention: str = ""
    cell: Callable[[Row], str] | None = None

    def value(self, row: Row) -> object:
        return getattr(row, self.name) if self.name in ROW_FIELDS else row.other_scores.get(self.name)

    def markdown(self, row: Row) -> str:
        return self.cell(row) if self.cell else fmt(self.value(row), self.fmt)


def fmt(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _pm(mean: float | None, std: float | None, spec: str) -> str:
    return fmt(mean, spec) + (f" ± {std:{spec}}" if std is not None else "")


# fmt: off
COLUMNS = (
    Column("id", "id"),
    Column("model", "model"),
    Column("params", "params", ",", "at the paper's width"),
    Column("trained_params", "trained params", ",", "at the profile's width"),
    Column("paper_params", "paper params", cell=lambda r: f"{r.paper_params / 1e6:.2f}M", convention=PAPER),
    Column("gflops", "GFLOPs", ",.0f", "one 720p forward pass at the paper's width"),
    Column("psnr", metric_header("psnr"), ".2f", ours("psnr", "mean ± sd over seeds"),
           lambda r: _pm(r.psnr, r.psnr_std, ".2f")),
    Column("psnr_std", None, ".2f", "sample standard deviation over seeds"),
    Column("psnr_ci_low", "PSNR 95 % CI", ".2f", "bootstrap over seeds and test images",
           lambda r: f"{fmt(r.psnr_ci_low, '.2f')} - {fmt(r.psnr_ci_high, '.2f')}"),
    Column("psnr_ci_high", None, ".2f", "bootstrap over seeds and test images"),
    Column("ssim", metric_header("ssim"), ".4f", ours("ssim", "mean ± sd over seeds"),
           lambda r: _pm(r.ssim, r.ssim_std, ".4f")),
    Column("ssim_std", None, ".4f", "sample standard deviation over seeds"),
    Column("paper_psnr", "paper PSNR (MATLAB)", ".2f", PAPER_SCORES),
    Column("paper_ssim", "paper SSIM (MATLAB 3-D)", ".4f", PAPER_SCORES),
    Column("ssim_3d", metric_header("ssim_3d"), ".4f",
           ours("ssim_3d", "mean over seeds; the SSIM to set beside the paper's")),
    Column("blur_psnr", "blurry input PSNR / SSIM (RGB, skimage)", ".2f", ours("blur_psnr"),
           lambda r: f"{fmt(r.blur_psnr, '.2f')} / {fmt(r.blur_ssim, '.4f')}"),
    Column("blur_ssim", None, ".4f", ours("blur_ssim")),
    Column("val_first_psnr", "val PSNR first -> last", ".2f", "validation split, lead seed",
           lambda r: f"{fmt(r.val_first_psnr, '.2f')} -> {fmt(r.val_last_psnr, '.2f')}"),
    Column("val_last_psnr", None, ".2f", "validation split, lead seed"),
    Column("rank", "rank", "d", "by mean test PSNR"),
    Column("rank_stability", "rank stability", ".2f", "share of bootstrap resamples keeping the rank"),
    Column("paper_rank", "paper rank", "d", PAPER),
    Column("seeds", "seeds", "d", "seeds that finished"),
    Column("train_time_min", "train min", ".1f", "lead seed, all attempts of a resumed run"),
    Column("status", "status"),
)
# fmt: on


def columns_for(rows: list[Row]) -> list[Column]:
    """The table's columns for these rows: the list, with one column per further test metric they hold. A
    metric column of the list (ssim_3d) is left out where no row holds it: sweeps from before it was computed
    keep their table as it was."""
    scored = dict.fromkeys(k for r in rows for k in r.other_scores)
    listed = [c for c in COLUMNS if c.name in ROW_FIELDS or c.name in scored]
    names = {c.name for c in COLUMNS}
    extra = [Column(k, metric_header(k), ".2f" if "psnr" in k else ".4f", ours(k)) for k in scored if k not in names]
    return [*listed[:-1], *extra, listed[-1]]  # further test metrics (model.metrics) go before the status


def records(rows: list[Row]) -> list[dict[str, object]]:
    """One flat record per row, keyed by column name: table1.csv's rows and the W&B table's."""
    columns = columns_for(rows)
    return [{c.name: c.value(r) for c in columns} for r in rows]


def markdown_table(rows: list[Row]) -> list[str]:
    columns = [c for c in columns_for(rows) if c.header is not None]
    align = ["---:" if c.fmt or c.cell else "---" for c in columns]  # numbers right, text left
    lines = ["| " + " | ".join(c.header for c in columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(c.markdown(r) for c in columns) + " |" for r in rows]
    return lines


def budget_line(results: list[RunResult]) -> str:
    """The training budget every variant of the sweep got, read from a finished job."""
    if not results:
        return "Budget: no variant finished."
    return f"Budget per variant: {results[0].budget.describe()} (profile `{results[0].profile}`)."


def scoring_line(results: list[RunResult]) -> str:
    """How our scores were computed, each header naming its convention, and which to set beside the paper's."""
    cuts = sorted({r.crop_border for r in results})
    cut = "no border cut" if cuts in ([], [0]) else "border cut per job: " + ", ".join(f"{c} px" for c in cuts)
    return (
        f"Scores: {OURS}, {cut} (model.crop_border); each header names its convention "
        "(docs/metric-conventions.md). The paper's: MATLAB psnr()/ssim() on the colour results, so its SSIM "
        f"compares with {metric_header('ssim_3d')}, not with {metric_header('ssim')}, which reads lower (0.07 to 0.10 "
        "on srnlab's test images, 0.02 on NAFNet's GoPro outputs)."
    )


def machine_line(results: list[RunResult]) -> str:
    """Which machine(s) trained the sweep: timings and bf16 results compare only within one kind."""
    machines = list(dict.fromkeys(r.machine for r in results if r.machine))
    return "Machine: " + "; ".join(machines) + "." if machines else "Machine: not recorded."


def significance_lines(
    significance: Significance | None, rows: list[Row], claims: list[ClaimVerdict] | None = None
) -> list[str]:
    """How to read the intervals, the pairs and the claims, under the table."""
    rho = spearman(rows) if significance is None else significance.spearman
    if significance is None:
        return [f"Spearman rank correlation of our PSNR with the paper's: {fmt(rho, '.3f')}", "",
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
    tau = fmt(significance.kendall, ".3f") + (f" (95 % bootstrap interval {tau_ci[0]:.2f} to {tau_ci[1]:.2f})"
                                                if tau_ci else "")  # fmt: skip
    return [
        f"Spearman rank correlation of our PSNR with the paper's: {fmt(rho, '.3f')}{interval}",
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
    lines = [
        "# Table 1 reproduction",
        "",
        budget_line(results),
        machine_line(results),
        scoring_line(results),
        "params: the variant at the paper's width; trained params: at the profile's width.",
        "",
        *markdown_table(rows),
        "",
        *significance_lines(significance, rows, claims),
        "",
    ]
    return "\n".join(lines)
