"""srn-dashboard: a sweep's W&B workspace and report, built offline from its results and checked against what
its runs logged (read back from the offline .wandb files). Publishing needs a network and is not run here."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import wandb
import wandb_workspaces.reports.v2 as wr
import wandb_workspaces.workspaces as ws
from cli import REPO, offline_env

from srnlab.cli.dashboard import main as dashboard_main
from srnlab.config import TABLE1_IDS
from srnlab.report.colors import variant_colors
from srnlab.report.dashboard import publish as dashboard_publish
from srnlab.report.dashboard.figure import render
from srnlab.report.dashboard.offline_runs import find_runs, read_run
from srnlab.report.dashboard.publish import to_report, to_workspace
from srnlab.report.dashboard.spec import (
    PANEL_SOURCES,
    STEP,
    SUMMARY_COLUMNS,
    SweepSource,
    all_panels,
    build_spec,
    panel_keys,
)
from srnlab.report.sweep import Sweep

MINI = REPO / "ablations" / "results" / "mini"


@pytest.fixture(scope="module")
def mini_spec(tmp_path_factory) -> dict[str, Any]:
    """The specification of the committed mini results, its sweep folder absent (composed from overrides)."""
    overrides = ["profile=mini", "data=synthetic", f"paths.log_dir={tmp_path_factory.mktemp('no-sweep')}"]
    return build_spec(SweepSource.of(Sweep.configured(overrides), MINI, overrides))


def logged(run: dict[str, Any], source: str, key: str) -> bool:
    """Whether a run logged `key` to its history or summary (media and tables: as `key/...` entries)."""
    keys = {k for row in run["history"] for k in row} if source == "history" else set(run["summary"])
    return key in keys or any(k.startswith(key + "/") for k in keys)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_committed_mini_results_give_every_variant_its_plot_colour_and_panels_on_logged_metrics(
    mini_spec,
) -> None:
    spec = json.loads(json.dumps(mini_spec))  # plain JSON
    assert [v["id"] for v in spec["variants"]] == list(TABLE1_IDS)
    assert {v["id"]: v["color"] for v in spec["variants"]} == variant_colors()
    assert [v["order"] for v in spec["variants"]] == list(range(len(TABLE1_IDS)))
    assert spec["runs"] == {"variants": {"group": "table1-mini-synthetic", "job_type": "table1"},
                            "table": {"group": "table1-mini-synthetic", "job_type": "table"}}  # fmt: skip
    assert [s["name"] for s in spec["workspace"]["sections"]] == ["Table 1", "Curves", "Budget", "Samples"]

    columns = set(csv_rows(MINI / "table1.csv")[0])
    for curve in sorted((MINI / "curves").glob("*.csv")):
        logged_keys = set(csv_rows(curve)[0]) | {STEP}  # the CSV log's `step` is W&B's trainer/global_step
        for which, panel in all_panels(spec):
            for key in panel_keys(panel):
                if which == "variants" and PANEL_SOURCES[panel["kind"]] == "summary":
                    assert SUMMARY_COLUMNS[key] in columns, key
                elif panel["kind"] == "line":
                    assert key in logged_keys, (curve.name, key)

    report = spec["report"]
    assert report["title"] == "SRN-DeblurNet Table 1: table1-mini-synthetic"
    text = "\n".join(b.get("text", b.get("code", "")) for b in report["blocks"])
    spearman = next(line for line in (MINI / "table1.md").read_text().splitlines() if line.startswith("Spearman"))
    assert spearman in text and "Pairs: " in text  # srn-table1's reading
    assert "srn-train --config-name table1 profile=mini data=synthetic" in text and "width_mult" in text
    committed = json.loads((MINI / "wandb-dashboard.json").read_text())
    assert committed["workspace"] == spec["workspace"] and committed["variants"] == spec["variants"]
    assert str(REPO) not in (MINI / "wandb-dashboard.json").read_text()


def test_the_spec_becomes_wandb_workspaces_objects_without_a_network(mini_spec, monkeypatch) -> None:
    monkeypatch.setattr(wandb, "Api", lambda *a, **k: pytest.fail("building the objects asked W&B"))
    colors = {v["id"]: v["color"] for v in mini_spec["variants"]}
    view = to_workspace(mini_spec, "an-entity")._to_model()  # the library's wire format, built locally
    section = view.spec.section
    assert [s.name for s in section.panel_bank_config.sections] == ["Table 1", "Curves", "Budget", "Samples"]
    assert sorted(section.custom_run_colors.values()) == sorted(colors.values())
    assert all("variant.value.id" in key for key in section.custom_run_colors)  # colours of the variant groups
    filters = json.dumps(section.run_sets[0].filters)
    assert '"table1-mini-synthetic"' in filters and '"jobType"' in filters and '"table1"' in filters

    report = to_report(mini_spec, "an-entity")
    assert len(report.blocks) == len(mini_spec["report"]["blocks"])
    (variants_grid,) = [b for b in report.blocks if getattr(b, "custom_run_colors", None)]
    assert {group.keys[0].value: color for group, color in variants_grid.custom_run_colors.items()} == colors


def test_the_dashboard_figure_draws_the_workspace_from_the_results(mini_spec, tmp_path) -> None:
    path = render(mini_spec, MINI, tmp_path / "dashboard.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (MINI / "wandb-dashboard.png").is_file()  # the README's figure


def test_make_wandb_dashboard_offline_selects_every_variant_run_and_reads_only_keys_they_logged(
    smoke_sweep, smoke_sweep_runs, tmp_path
) -> None:
    results = tmp_path / "results"
    shutil.copytree(smoke_sweep, results)
    proc = subprocess.run(
        ["make", "-C", str(REPO), "wandb-dashboard", "PROFILE=smoke", f"LOG_DIR={smoke_sweep_runs.parents[1]}",
         f"RESULTS={results}"],
        env=offline_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "offline: nothing published" in proc.stdout and "workspace 'Table 1: table1-smoke-synthetic'" in proc.stdout
    spec = json.loads((results / "wandb-dashboard.json").read_text())
    assert (results / "wandb-dashboard.png").is_file()

    runs = [read_run(r) for r in find_runs(smoke_sweep_runs)]
    (table_run,) = [read_run(r) for r in find_runs(smoke_sweep)]
    selection = spec["runs"]["variants"]
    selected = [r for r in runs if r["group"] == selection["group"] and r["job_type"] == selection["job_type"]]
    variant_ids = sorted(r["config"]["variant"]["id"] for r in selected)  # the group_by key
    assert variant_ids == sorted(v["id"] for v in spec["variants"]) == sorted(TABLE1_IDS)
    assert all(f"variant={r['config']['variant']['id']}" in r["tags"] and "seed=1" in r["tags"] for r in selected)
    assert all(r["name"] == f"{r['config']['variant']['id']}-seed1" for r in selected)
    assert (table_run["group"], table_run["job_type"]) == tuple(spec["runs"]["table"].values())
    assert {v["id"]: v["color"] for v in spec["variants"]} == variant_colors()

    for which, panel in all_panels(spec):
        for key in panel_keys(panel):
            for r in selected if which == "variants" else [table_run]:
                assert logged(r, PANEL_SOURCES[panel["kind"]], key), (r["name"], panel["title"], key)

    table = {row["id"]: row for row in csv_rows(smoke_sweep / "table1.csv")}
    for r in selected:  # the bar charts show the table's numbers (one seed: the mean is that seed's)
        variant = r["config"]["variant"]["id"]
        summary, row = r["summary"], table[variant]
        assert summary["variant/order"] == TABLE1_IDS.index(variant)
        for key, column in SUMMARY_COLUMNS.items():
            assert summary[key] == pytest.approx(float(row[column]), rel=1e-6), key
    (table_file,) = Path(find_runs(smoke_sweep)[0]).glob("files/media/table/table1_*.table.json")
    assert json.loads(table_file.read_text())["columns"] == list(csv_rows(smoke_sweep / "table1.csv")[0])


def test_srn_dashboard_says_what_to_run_when_a_sweep_has_no_results(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        dashboard_main(["profile=smoke", f"paths.log_dir={tmp_path}", "--results", str(tmp_path / "none"), "--offline"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"srn-dashboard: error: no results in {tmp_path / 'none'}: run srn-table1" in error

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "table1.csv").write_text("id,model,status\nss,SS,missing\n")
    with pytest.raises(SystemExit):
        dashboard_main(["profile=smoke", f"paths.log_dir={tmp_path}", "--results", str(unfinished), "--offline"])
    error = capsys.readouterr().err
    assert f"no variant of {unfinished / 'table1.csv'} finished" in error and "make reproduce-table1" in error


def test_publishing_again_updates_the_workspace_and_report_it_saved_before(mini_spec, tmp_path, monkeypatch) -> None:
    """The library's network calls (save, from_url, url) replaced by stand-ins: what `publish` does around them."""
    saved, loaded = [], []

    def from_url(cls, url):
        loaded.append((to_workspace if cls is ws.Workspace else to_report)(mini_spec, "an-entity"))
        return loaded[-1]

    monkeypatch.setattr(dashboard_publish, "sync", lambda runs: None)
    monkeypatch.setattr(wandb, "Api", lambda: SimpleNamespace(default_entity="an-entity"))
    for cls, kind in ((ws.Workspace, "workspace"), (wr.Report, "report")):
        monkeypatch.setattr(cls, "save", lambda self: saved.append(self) or self)
        monkeypatch.setattr(cls, "url", property(lambda self, kind=kind: f"https://w.example/{kind}/{len(saved)}"))
        monkeypatch.setattr(cls, "from_url", classmethod(from_url))

    first = dashboard_publish.publish(mini_spec, tmp_path, [], entity=None)
    assert first == {"workspace": "https://w.example/workspace/1", "report": "https://w.example/report/2"}
    assert not loaded
    recorded = json.loads((tmp_path / dashboard_publish.PUBLISHED_FILE).read_text())
    assert recorded == {"entity": "an-entity", "project": "srnlab", **first}

    renamed = json.loads(json.dumps(mini_spec))
    renamed["workspace"]["name"] = "Table 1, renamed"
    dashboard_publish.publish(renamed, tmp_path, [], entity=None)
    assert len(saved) == 4 and all(s is o for s, o in zip(saved[2:], loaded, strict=True))  # loaded, saved over
    assert loaded[0].name == "Table 1, renamed"
