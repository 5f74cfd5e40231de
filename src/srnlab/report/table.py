"""The table's columns, as one list: each column's name (the CSV and W&B key), its Markdown header, how its value
is read from a row and written, and the convention its number follows. table1.md, table1.csv, the W&B table and
the notebook all read this list, so a header and its values cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from srnlab.report.claims import ClaimVerdict, tally
from srnlab.report.rows import Row, spearman
from srnlab.report.significance import Significance
from srnlab.runs.results import RunResult

OURS = "our test split, mean over images, 8-bit outputs, RGB"  # how our scores are computed
SSIM_OURS = OURS + ", scikit-image SSIM (per-channel mean, 7x7 uniform window)"
PAPER = "the paper's Table 1, GOPRO test set"


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
        return row.other_scores.get(self.name) if self.name in row.other_scores else getattr(row, self.name)

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
    Column("psnr", "PSNR", ".2f", OURS + "; mean ± sd over seeds", lambda r: _pm(r.psnr, r.psnr_std, ".2f")),
    Column("psnr_std", None, ".2f", "sample standard deviation over seeds"),
    Column("psnr_ci_low", "PSNR 95 % CI", ".2f", "bootstrap over seeds and test images",
           lambda r: f"{fmt(r.psnr_ci_low, '.2f')} - {fmt(r.psnr_ci_high, '.2f')}"),
    Column("psnr_ci_high", None, ".2f", "bootstrap over seeds and test images"),
    Column("ssim", "SSIM", ".4f", SSIM_OURS + "; mean ± sd over seeds", lambda r: _pm(r.ssim, r.ssim_std, ".4f")),
    Column("ssim_std", None, ".4f", "sample standard deviation over seeds"),
    Column("paper_psnr", "paper PSNR", ".2f", PAPER),
    Column("paper_ssim", "paper SSIM", ".4f", PAPER),
    Column("blur_psnr", "blurry input PSNR / SSIM", ".2f", OURS,
           lambda r: f"{fmt(r.blur_psnr, '.2f')} / {fmt(r.blur_ssim, '.4f')}"),
    Column("blur_ssim", None, ".4f", SSIM_OURS),
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
_BEFORE_OTHERS = len(COLUMNS) - 1  # further test metrics (model.metrics) go before the status


def columns_for(rows: list[Row]) -> list[Column]:
    """The table's columns for these rows: the list, with one column per further test metric they hold."""
    others = list(dict.fromkeys(k for r in rows for k in r.other_scores))
    extra = [Column(k, k.replace("_", " "), ".4f", OURS) for k in others]
    return [*COLUMNS[:_BEFORE_OTHERS], *extra, *COLUMNS[_BEFORE_OTHERS:]]


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
        "PSNR/SSIM: our test split, mean over images, 8-bit outputs, scikit-image SSIM; paper: GOPRO test set. "
        "params: the variant at the paper's width; trained params: at the profile's width.",
        "",
        *markdown_table(rows),
        "",
        *significance_lines(significance, rows, claims),
        "",
    ]
    return "\n".join(lines)
