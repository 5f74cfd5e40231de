"""A sweep's results folder (`srn-table1`, srnlab.cli.table1, is the command): the table as Markdown and CSV,
the paired tests and the paper's claims, the figures, the curves, and the table as a W&B run."""

from __future__ import annotations

import shutil
from pathlib import Path

from srnlab.errors import UserError
from srnlab.report.claims import CLAIMS_KEY, judge, read_pairs, table1_claims, write_claims
from srnlab.report.figures import plot_pairs, plot_psnr_vs_params
from srnlab.report.qualitative import plot_qualitative
from srnlab.report.rows import Row, analyse_sweep, collect_rows
from srnlab.report.summary import summarize
from srnlab.report.sweep import Sweep
from srnlab.report.table import format_markdown, records
from srnlab.runs.files import csv_columns, write_csv

TABLE_JOB_TYPE = "table"  # the W&B job type of the run that holds a sweep's table and pictures
TABLE_KEY = "table1"  # the W&B key of that table
PAIRS_KEY = "pairs"  # pairs.csv / pairs.png, and the W&B key of the pairwise comparisons
PICTURES = ("psnr_vs_params", "qualitative")  # the pictures next to the table: <name>.png, W&B key <name>


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
        table = records(rows)
        columns = csv_columns(table)
        run.log({TABLE_KEY: wandb.Table(columns=columns, data=[[rec.get(c) for c in columns] for rec in table])})
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
    write_csv(out_dir / "table1.csv", records(rows))
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
