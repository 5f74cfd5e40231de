"""A Table 1 sweep's W&B dashboards as data: the comparison workspace and the report, one JSON-able
specification built from the sweep's results folder (what srn-table1 wrote) and from the sweep's config (which
runs it logged where). Nothing here talks to W&B: srnlab.report.dashboard.publish turns the specification into
wandb-workspaces objects and saves them, srnlab.report.dashboard.figure draws the same panels with matplotlib, and
`srn-dashboard` (srnlab.cli.dashboard) is the command.

Runs are selected by the sweep's group and job type, never by run id, so that one definition serves any
profile on any data, and publishing it again changes the same workspace and report."""

from __future__ import annotations

import contextlib
import csv
import json
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from srnlab.config import compose_config, variant_order
from srnlab.errors import UserError
from srnlab.report.claims import CLAIMS_KEY
from srnlab.report.colors import variant_colors
from srnlab.report.sweep import MULTIRUN_FILE, Sweep
from srnlab.report.table1 import PAIRS_KEY, PICTURES, TABLE_JOB_TYPE, TABLE_KEY

SPEC_FILE = "wandb-dashboard.json"
SPEC_VERSION = 1
STEP = "trainer/global_step"  # Lightning's WandbLogger logs every metric with the trainer's step under this key
GROUP_BY = "variant.id"  # config key: one group, one colour per variant (ids are safe in W&B's colour keys)
ORDER_BY = "variant/order"  # summary key (srnlab.lit.loggers.run_summary): bars in the paper's row order
SAMPLES = "val/grid"  # the validation grids (srnlab.lit.images.ValidationGrids)
CURVES = ("val/psnr", "val/ssim", "train/loss")  # history keys the Curves section plots
SUMMARY_COLUMNS = {  # summary key of a variant's run -> the table1.csv column holding the same number
    "test/psnr": "psnr",
    "test/ssim": "ssim",
    "test/ssim_3d": "ssim_3d",
    "paper/psnr": "paper_psnr",
    "paper/ssim": "paper_ssim",
    "params": "params",
    "train/time_min": "train_time_min",
}
PANEL_SOURCES = {"line": "history", "media": "history", "bar": "summary", "scatter": "summary", "table": "summary"}


@dataclass(frozen=True)
class SweepRuns:
    """Where a sweep's W&B runs are: the project, the group, and the job types of the variants' runs and of
    the table's run (srn-table1's)."""

    project: str
    group: str
    job_type: str
    table_job_type: str = TABLE_JOB_TYPE

    def selection(self, which: str) -> dict[str, str]:
        """The filter of the variants' runs ('variants') or of the table's run ('table')."""
        return {"group": self.group, "job_type": self.job_type if which == "variants" else self.table_job_type}


@dataclass(frozen=True)
class SweepSource:
    """Everything a specification is built from: the sweep, its results folder, the overrides it was run
    with, its config as recorded (or composed, where the sweep folder is gone) and its W&B runs."""

    sweep: Sweep
    results_dir: Path
    overrides: tuple[str, ...]
    config: DictConfig
    runs: SweepRuns

    @classmethod
    def of(cls, sweep: Sweep, results_dir: Path, overrides: Sequence[str]) -> SweepSource:
        """The overrides come from the sweep folder's multirun.yaml when it has one, else from the command
        line (`overrides`): the same `srn-train --config-name table1 <overrides>` composes the config that
        names the runs' group (whichever experiments it swept)."""
        recorded_file = sweep.runs_dir / MULTIRUN_FILE
        recorded = OmegaConf.load(recorded_file) if recorded_file.is_file() else None
        if recorded is not None:
            overrides = [*recorded.hydra.overrides.hydra, *recorded.hydra.overrides.task]
        swept = ("experiment=", "seed=")  # a swept list (a,b,...) does not compose, and names no run
        composed = compose_config("table1", [o for o in overrides if not o.startswith(swept)])
        config = recorded if recorded is not None else composed
        return cls(sweep, results_dir, tuple(overrides), config, _sweep_runs(composed))


def _sweep_runs(cfg: DictConfig) -> SweepRuns:
    wandb_cfg = (cfg.get("logger") or {}).get("wandb")
    if wandb_cfg is None:
        raise UserError("this sweep logs no W&B runs (its logger config has no `wandb`): run it with logger=default")
    with _hydra_runtime(cfg):
        return SweepRuns(str(wandb_cfg.project), str(wandb_cfg.group), str(wandb_cfg.job_type))


@contextlib.contextmanager
def _hydra_runtime(cfg: DictConfig) -> Iterator[None]:
    """`${hydra:...}` resolves against this composed config while inside (the group names the sweep's data),
    as in a running job; whatever HydraConfig held before is restored."""
    instance = HydraConfig.instance()
    saved = instance.cfg
    instance.set_config(cfg)
    try:
        yield
    finally:
        instance.cfg = saved


def read_variants(results_dir: Path) -> list[dict[str, Any]]:
    """The variants of table1.csv, in its (the sweep's) order, with their colour and Table 1 row."""
    table = results_dir / "table1.csv"
    if not table.is_file():
        raise UserError(f"no {table}: run srn-table1 for this sweep first (make table1 PROFILE=... DATA=...)")
    with table.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not any(r["status"] == "ok" for r in rows):
        raise UserError(f"no variant of {table} finished: run the sweep first (make reproduce-table1 PROFILE=...)")
    colors = variant_colors(r["id"] for r in rows)
    return [
        {"id": r["id"], "name": r["model"], "order": variant_order(r["id"]), "color": colors[r["id"]],
         "status": r["status"]}
        for r in rows
    ]  # fmt: skip


def table_columns(results_dir: Path) -> set[str]:
    """The columns of table1.csv: which scores the sweep computed (ssim_3d only from the sweeps after it)."""
    with (results_dir / "table1.csv").open(newline="") as f:
        return set(next(csv.reader(f), []))


def logged_metrics(results_dir: Path) -> set[str]:
    """The metric names the variants logged, read from the CSV logs srn-table1 copies into `curves/`: the
    CSV logger is handed the same metrics as the W&B logger (plus `step`, which W&B calls `trainer/global_step`)."""
    curves = sorted((results_dir / "curves").glob("*.csv"))
    if not curves:
        raise UserError(f"no training logs in {results_dir / 'curves'}: run srn-table1 for this sweep first")
    names: set[str] = set()
    for path in curves:
        with path.open(newline="") as f:
            names.update(next(csv.reader(f), []))
    missing = [k for k in CURVES if k not in names]
    if missing:
        raise UserError(f"the training logs in {results_dir / 'curves'} have no {', '.join(missing)}")
    return names


def learning_rate_keys(metrics: set[str]) -> list[str]:
    """Lightning's LearningRateMonitor names its key after the optimizer (`lr-Adam`, `lr-AdamW`)."""
    keys = sorted(k for k in metrics if k.startswith("lr-"))
    if not keys:
        raise UserError("the training logs have no learning rate (lr-<optimizer>): keep callbacks.lr_monitor")
    return keys


def _line(title: str, y: list[str], log_y: bool = False) -> dict[str, Any]:
    return {"kind": "line", "title": title, "x": STEP, "y": y, "log_y": log_y}


def _bar(title: str, metrics: list[str]) -> dict[str, Any]:
    return {"kind": "bar", "title": title, "metrics": metrics}


def _media(title: str, keys: list[str]) -> dict[str, Any]:
    return {"kind": "media", "title": title, "keys": keys}


def table1_panels(columns: set[str]) -> list[dict[str, Any]]:
    """Ours beside the paper's per variant, and PSNR against size: the workspace's first section and the
    report's comparison. Where the sweep computed MATLAB's 3-D SSIM (table1.csv `columns`), it gets its own
    panel beside the paper's SSIM, which is that convention (docs/metric-conventions.md)."""
    matlab_ssim = [_bar("test SSIM 3-D (MATLAB, the paper's convention): ours and the paper's",
                        ["test/ssim_3d", "paper/ssim"])] if "ssim_3d" in columns else []  # fmt: skip
    return [
        _bar("test PSNR (dB): ours and the paper's", ["test/psnr", "paper/psnr"]),
        _bar("test SSIM: ours and the paper's", ["test/ssim", "paper/ssim"]),
        *matlab_ssim,
        {"kind": "scatter", "title": "test PSNR (dB) against parameters at the paper's width", "x": "params",
         "y": "test/psnr"},
    ]  # fmt: skip


def workspace_sections(lr_keys: list[str], columns: set[str]) -> list[dict[str, Any]]:
    return [
        {"name": "Table 1", "panels": table1_panels(columns)},
        {"name": "Curves", "panels": [
            _line("validation PSNR (dB)", ["val/psnr"]),
            _line("validation SSIM", ["val/ssim"]),
            _line("training loss (multi-scale MSE)", ["train/loss"], log_y=True),
        ]},
        {"name": "Budget", "panels": [
            _line("learning rate", lr_keys, log_y=True),
            _bar("training time (min)", ["train/time_min"]),
        ]},
        {"name": "Samples", "panels": [_media("validation images: blurry | output | sharp", [SAMPLES])]},
    ]  # fmt: skip


def reading(results_dir: Path) -> str:
    """srn-table1's own words around its table: budget, machine, what the scores mean, the rank correlation."""
    table_md = results_dir / "table1.md"
    if not table_md.is_file():
        raise UserError(f"no {table_md}: run srn-table1 for this sweep first")
    lines = table_md.read_text().splitlines()
    return "\n\n".join(line for line in lines if line.strip() and not line.startswith(("#", "|")))


def provenance(source: SweepSource) -> dict[str, str]:
    """The commands that made the results, and the sweep's config (unresolved, as Hydra composed it)."""
    task = [o for o in source.overrides if not o.startswith("hydra")]
    cfg = source.config
    return {
        "command": "\n".join([
            shlex.join(["srn-train", "--config-name", "table1", *source.overrides]),
            shlex.join(["srn-table1", *task]),
        ]),
        "experiments": str(cfg.hydra.sweeper.params.experiment),
        "config": OmegaConf.to_yaml(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])),
        "config_source": "as Hydra recorded it in the sweep folder's multirun.yaml"
        if (source.sweep.runs_dir / MULTIRUN_FILE).is_file()
        else "composed from these overrides, the sweep folder not being on the machine that built this report",
    }  # fmt: skip


def claims_blocks(results_dir: Path) -> list[dict[str, Any]]:
    """The paper's design claims judged on this sweep (srnlab.report.claims), where srn-table1 wrote them."""
    claims_md = results_dir / f"{CLAIMS_KEY}.md"
    if not claims_md.is_file():
        return []
    tally = next(line for line in claims_md.read_text().splitlines() if line and not line.startswith(("#", "|")))
    return [
        {"kind": "heading", "text": "The paper's claims"},
        {"kind": "markdown", "text": tally},
        {"kind": "panels", "runs": "table", "panels": [
            {"kind": "table", "title": "Each claim: our difference, its interval and verdict (claims.csv)",
             "key": CLAIMS_KEY},
            _media("our difference per claim beside the paper's", [CLAIMS_KEY]),
        ]},
    ]  # fmt: skip


def report_blocks(source: SweepSource, made: dict[str, str]) -> list[dict[str, Any]]:
    runs = source.runs
    intro = (
        f"Table 1 of SRN-DeblurNet (Tao et al., CVPR 2018) as reproduced by srnlab, profile "
        f"`{source.sweep.profile}` on `{source.sweep.data}` data. Runs: W&B group `{runs.group}`, job type "
        f"`{runs.job_type}` (one run per variant) and `{runs.table_job_type}` (the table and its pictures)."
    )
    commands = f"```bash\n{made['command']}\n```\n\nExperiments swept: `{made['experiments']}`."
    return [
        {"kind": "markdown", "text": intro},
        {"kind": "heading", "text": "The table"},
        {"kind": "panels", "runs": "table", "panels": [
            {"kind": "table", "title": "Table 1: ours and the paper's", "key": TABLE_KEY},
            _media("PSNR against parameters, the paper's and ours", [PICTURES[0]]),
            _media("one test crop through every variant", [PICTURES[1]]),
            {"kind": "table", "title": "Every pair of variants, image by image (pairs.csv)", "key": PAIRS_KEY},
            _media("row minus column, hatched where not distinguishable", [PAIRS_KEY]),
        ]},
        *claims_blocks(source.results_dir),
        {"kind": "heading", "text": "Ours beside the paper's"},
        {"kind": "panels", "runs": "variants", "panels": table1_panels(table_columns(source.results_dir))},
        {"kind": "heading", "text": "Reading"},
        {"kind": "markdown", "text": reading(source.results_dir)},
        {"kind": "heading", "text": "How these results were made"},
        {"kind": "markdown", "text": commands},
        {"kind": "markdown", "text": f"The sweep's configuration, {made['config_source']}:"},
        {"kind": "code", "language": "yaml", "code": made["config"]},
    ]  # fmt: skip


def build_spec(source: SweepSource) -> dict[str, Any]:
    """The workspace and report of one sweep as plain data (written to wandb-dashboard.json)."""
    variants = read_variants(source.results_dir)
    lr_keys = learning_rate_keys(logged_metrics(source.results_dir))
    runs = source.runs
    return {
        "version": SPEC_VERSION,
        "project": runs.project,
        "sweep": {"group": runs.group, "profile": source.sweep.profile, "data": source.sweep.data},
        "runs": {"variants": runs.selection("variants"), "table": runs.selection("table")},
        "group_by": GROUP_BY,
        "order_by": ORDER_BY,
        "variants": variants,
        "workspace": {
            "name": f"Table 1: {runs.group}",
            "x_axis": STEP,
            "sections": workspace_sections(lr_keys, table_columns(source.results_dir)),
        },
        "report": {
            "title": f"SRN-DeblurNet Table 1: {runs.group}",
            "description": reading(source.results_dir).split("\n\n")[0],
            "blocks": report_blocks(source, provenance(source)),
        },
    }


def panel_keys(panel: dict[str, Any]) -> list[str]:
    """The W&B keys a panel reads (from the runs' history or summary: PANEL_SOURCES)."""
    kind = panel["kind"]
    if kind == "line":
        return [panel["x"], *panel["y"]]
    if kind == "bar":
        return list(panel["metrics"])
    if kind == "scatter":
        return [panel["x"], panel["y"]]
    if kind == "media":
        return list(panel["keys"])
    return [panel["key"]]


def all_panels(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every panel of the workspace and the report, with the runs it reads ('variants' or 'table')."""
    for section in spec["workspace"]["sections"]:
        for panel in section["panels"]:
            yield "variants", panel
    for block in spec["report"]["blocks"]:
        for panel in block.get("panels", []):
            yield block["runs"], panel


def write_spec(spec: dict[str, Any], results_dir: Path) -> Path:
    path = results_dir / SPEC_FILE
    path.write_text(json.dumps(spec, indent=2) + "\n")
    return path


def describe(spec: dict[str, Any]) -> str:
    """What publishing the specification creates or updates, for a person to read before it does."""
    runs = spec["runs"]
    variants = ", ".join(v["id"] for v in spec["variants"])
    lines = [
        f"W&B project {spec['project']}: runs of group {runs['variants']['group']}, job type "
        f"{runs['variants']['job_type']} ({len(spec['variants'])} variants: {variants}) and job type "
        f"{runs['table']['job_type']} (the table)",
        f"workspace {spec['workspace']['name']!r}: runs grouped by config {spec['group_by']}, coloured as the "
        f"plots, sorted by summary {spec['order_by']}, x axis {spec['workspace']['x_axis']}",
    ]
    for section in spec["workspace"]["sections"]:
        panels = "; ".join(f"{p['kind']} {', '.join(panel_keys(p))}" for p in section["panels"])
        lines.append(f"  {section['name']}: {panels}")
    lines.append(f"report {spec['report']['title']!r}:")
    for block in spec["report"]["blocks"]:
        if block["kind"] == "panels":
            panels = "; ".join(f"{p['kind']} {', '.join(panel_keys(p))}" for p in block["panels"])
            lines.append(f"  panels of the {block['runs']} runs: {panels}")
        elif block["kind"] == "heading":
            lines.append(f"  ## {block['text']}")
        else:
            text = block.get("text", block.get("code", ""))
            lines.append(f"  {block['kind']}: {text.splitlines()[0][:100]} ({len(text)} characters)")
    return "\n".join(lines)
