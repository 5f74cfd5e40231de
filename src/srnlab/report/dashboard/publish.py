"""Publishing a dashboard specification (srnlab.report.dashboard.spec) to W&B with W&B's own library for workspaces and
reports as code, `wandb-workspaces`: sync the sweep's offline runs, then save the workspace and the report.

The objects are built from the specification alone (`to_workspace`, `to_report`: no network); only
`publish` talks to W&B. It records what it saved in the results folder (wandb-published.json) and, run again,
loads and updates that workspace and report instead of creating new ones. The tests build the objects but
never publish (no network there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import wandb
import wandb_workspaces.reports.v2 as wr
import wandb_workspaces.workspaces as ws
from wandb_workspaces import expr

from srnlab.errors import UserError
from srnlab.report.dashboard.offline_runs import find_runs
from srnlab.report.dashboard.spec import PANEL_SOURCES

PUBLISHED_FILE = "wandb-published.json"


def run_filter(selection: dict[str, str]) -> expr.And:
    """Runs of one group and job type (the specification's `runs`)."""
    return expr.And(expr.Metric("Group") == selection["group"], expr.Metric("JobType") == selection["job_type"])


def to_panel(panel: dict[str, Any]) -> Any:
    """One wandb-workspaces panel from a specification panel (its kinds: srnlab.report.dashboard.spec.PANEL_SOURCES)."""
    kind = panel["kind"]
    if kind not in PANEL_SOURCES:
        raise ValueError(f"unknown panel kind {kind!r}")
    if kind == "line":
        return wr.LinePlot(title=panel["title"], x=panel["x"], y=panel["y"], log_y=panel["log_y"] or None)
    if kind == "bar":
        return wr.BarPlot(title=panel["title"], metrics=panel["metrics"], orientation="v")
    if kind == "scatter":
        return wr.ScatterPlot(title=panel["title"], x=wr.SummaryMetric(panel["x"]), y=wr.SummaryMetric(panel["y"]))
    if kind == "media":
        return wr.MediaBrowser(title=panel["title"], media_keys=panel["keys"], grid_x_axis="step", grid_y_axis="run")
    return wr.WeavePanelSummaryTable(table_name=panel["key"])


def to_workspace(spec: dict[str, Any], entity: str) -> ws.Workspace:
    """The saved view: one section per specification section, the variants' runs grouped by variant and
    coloured as the matplotlib figures (group colours, so no run id is needed), in Table 1's row order."""
    variants = spec["variants"]
    return ws.Workspace(
        entity=entity,
        project=spec["project"],
        name=spec["workspace"]["name"],
        sections=[
            ws.Section(name=s["name"], panels=[to_panel(p) for p in s["panels"]], is_open=True)
            for s in spec["workspace"]["sections"]
        ],
        settings=ws.WorkspaceSettings(x_axis=spec["workspace"]["x_axis"], max_runs=max(10, len(variants))),
        runset_settings=ws.RunsetSettings(
            filters=run_filter(spec["runs"]["variants"]),
            groupby=[expr.Config(spec["group_by"])],
            order=[expr.Ordering(expr.Summary(spec["order_by"]), ascending=True)],
            group_colors={v["id"]: v["color"] for v in variants},
        ),
    )


def to_report(spec: dict[str, Any], entity: str) -> wr.Report:
    """The report: its blocks read the variants' runs or the table's run, the variants coloured as above."""
    return wr.Report(
        project=spec["project"],
        entity=entity,
        title=spec["report"]["title"],
        description=spec["report"]["description"],
        blocks=[_to_block(b, spec, entity) for b in spec["report"]["blocks"]],
        width="fluid",
    )


def _to_block(block: dict[str, Any], spec: dict[str, Any], entity: str) -> Any:
    kind = block["kind"]
    if kind == "heading":
        return wr.H2(text=block["text"])
    if kind == "markdown":
        return wr.MarkdownBlock(text=block["text"])
    if kind == "code":
        return wr.CodeBlock(code=block["code"], language=block["language"])
    name = f"{block['runs']} runs"
    runset = wr.Runset(
        entity=entity,
        project=spec["project"],
        name=name,
        filters=run_filter(spec["runs"][block["runs"]]),
        groupby=[f"config.{spec['group_by']}"] if block["runs"] == "variants" else [],
        order=[wr.OrderBy(wr.SummaryMetric(spec["order_by"]), ascending=True)],
    )
    colors = {
        wr.RunsetGroup(runset_name=name, keys=(wr.RunsetGroupKey(key=wr.Config(spec["group_by"]), value=v["id"]),)):
        v["color"]
        for v in spec["variants"]
    } if block["runs"] == "variants" else {}  # fmt: skip
    return wr.PanelGrid(runsets=[runset], panels=[to_panel(p) for p in block["panels"]], custom_run_colors=colors)


def offline_runs(folders: list[Path]) -> list[Path]:
    """The offline runs under the sweep folder (the variants') and the results folder (the table's)."""
    return [run for folder in folders if folder.is_dir() for run in find_runs(folder)]


def sync(runs: list[Path]) -> None:
    """`wandb sync` uploads each offline run once: it skips the runs it has already synced."""
    if runs:
        subprocess.run([sys.executable, "-m", "wandb", "sync", *map(str, runs)], check=True)


def read_published(results_dir: Path, entity: str, project: str) -> dict[str, str]:
    """The workspace and report URLs saved before for this entity and project, if any."""
    path = results_dir / PUBLISHED_FILE
    if not path.is_file():
        return {}
    published = json.loads(path.read_text())
    same_place = published.get("entity") == entity and published.get("project") == project
    return published if same_place else {}


def publish(spec: dict[str, Any], results_dir: Path, run_folders: list[Path], entity: str | None) -> dict[str, str]:
    """Sync the offline runs, then save the workspace and the report (updating the ones saved before);
    returns and records their URLs. Needs a network and `wandb login`."""
    sync(offline_runs(run_folders))
    try:
        entity = entity or wandb.Api().default_entity
    except wandb.errors.UsageError as error:
        raise UserError(f"not logged in to W&B ({error}): run `wandb login`, or pass --offline") from error
    if not entity:
        raise UserError("W&B knows no default entity for this login: pass --entity <user or team>")
    before = read_published(results_dir, entity, spec["project"])
    workspace = to_workspace(spec, entity)
    if before.get("workspace"):
        saved = ws.Workspace.from_url(before["workspace"])
        saved.name, saved.sections = workspace.name, workspace.sections
        saved.settings, saved.runset_settings = workspace.settings, workspace.runset_settings
        workspace = saved
    report = to_report(spec, entity)
    if before.get("report"):
        saved = wr.Report.from_url(before["report"])
        saved.title, saved.description, saved.blocks = report.title, report.description, report.blocks
        report = saved
    urls = {"workspace": workspace.save().url, "report": report.save().url}
    published = {"entity": entity, "project": spec["project"], **urls}
    (results_dir / PUBLISHED_FILE).write_text(json.dumps(published, indent=2) + "\n")
    return urls
