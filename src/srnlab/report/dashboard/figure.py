"""The dashboard's workspace drawn with matplotlib from the results folder: the same sections and panels as the
specification (srnlab.report.dashboard.spec), the same numbers (table1.csv holds each run's summary values, curves/ its
history) and the same colours, so that a sweep's dashboard can be looked at, and shown in the README, with
no network. It is a rendering of ours, not a W&B screenshot."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from srnlab.report.dashboard.spec import SAMPLES, SUMMARY_COLUMNS
from srnlab.report.table1 import PICTURES

FIGURE_FILE = "wandb-dashboard.png"
SAMPLES_STAND_IN = PICTURES[1]  # the results folder keeps no validation grids: qualitative.png shows the same kind


class ResultsData:
    """A results folder read as the runs' summary values (table1.csv) and histories (curves/<id>.csv)."""

    def __init__(self, results_dir: Path) -> None:
        self.results_dir = results_dir
        with (results_dir / "table1.csv").open(newline="") as f:
            self.rows = {r["id"]: r for r in csv.DictReader(f)}

    def summary(self, variant_id: str, key: str) -> float | None:
        value = self.rows[variant_id].get(SUMMARY_COLUMNS[key], "")
        return float(value) if value else None

    def history(self, variant_id: str, key: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one logged metric; W&B's `trainer/global_step` is the CSV log's `step`."""
        path = self.results_dir / "curves" / f"{variant_id}.csv"
        if not path.is_file():
            return [], []
        with path.open(newline="") as f:
            points = [(int(r["step"]), float(r[key])) for r in csv.DictReader(f) if r.get(key)]
        return [s for s, _ in points], [v for _, v in points]


def render(spec: dict[str, Any], results_dir: Path, path: Path) -> Path:
    """One row per workspace section, one plot per panel."""
    data = ResultsData(results_dir)
    sections = spec["workspace"]["sections"]
    columns = max(len(s["panels"]) for s in sections)
    heights = [1.6 if s["panels"][0]["kind"] == "media" else 1.0 for s in sections]
    fig = plt.figure(figsize=(5.2 * columns, 4.2 * sum(heights)), layout="constrained")
    fig.suptitle(
        f"W&B workspace '{spec['workspace']['name']}', drawn offline from {results_dir.name}/ "
        "(matplotlib rendering of the same panels, not a W&B screenshot)",
        fontsize=13,
    )
    for subfig, section in zip(fig.subfigures(len(sections), 1, height_ratios=heights), sections, strict=True):
        subfig.suptitle(section["name"], x=0.01, ha="left", fontweight="bold", fontsize=12)
        panels = section["panels"]
        if len(panels) == 1 and panels[0]["kind"] == "media":
            _media(subfig.subplots(), panels[0], results_dir)
            continue
        for ax, panel in zip(subfig.subplots(1, columns, squeeze=False)[0], [*panels, *[None] * columns], strict=False):
            if panel is None:
                ax.axis("off")
            else:
                DRAW[panel["kind"]](ax, panel, spec["variants"], data)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _bar(ax: Axes, panel: dict[str, Any], variants: list[dict[str, Any]], data: ResultsData) -> None:
    """Grouped bars: the first metric solid, the others (the paper's) hatched and pale, each in its variant's
    colour."""
    metrics = panel["metrics"]
    width = 0.8 / len(metrics)
    for i, v in enumerate(variants):
        for j, key in enumerate(metrics):
            value = data.summary(v["id"], key)
            if value is not None:
                ax.bar(i + (j - (len(metrics) - 1) / 2) * width, value, width, color=v["color"],
                       alpha=1.0 if j == 0 else 0.35, hatch=None if j == 0 else "//", edgecolor="white")  # fmt: skip
    ax.set_xticks(range(len(variants)), [v["name"] for v in variants], rotation=45, ha="right", fontsize=8)
    if len(metrics) > 1:
        styles = [Patch(color="gray", alpha=1.0 if j == 0 else 0.35, hatch=None if j == 0 else "//")
                  for j in range(len(metrics))]  # fmt: skip
        ax.legend(styles, metrics, fontsize=8, loc="lower right")
    _finish(ax, panel["title"], None)


def _scatter(ax: Axes, panel: dict[str, Any], variants: list[dict[str, Any]], data: ResultsData) -> None:
    for v in variants:
        x, y = data.summary(v["id"], panel["x"]), data.summary(v["id"], panel["y"])
        if x is not None and y is not None:
            ax.scatter(x / 1e6 if panel["x"] == "params" else x, y, color=v["color"], s=40)
            ax.annotate(v["name"], (x / 1e6 if panel["x"] == "params" else x, y), textcoords="offset points",
                        xytext=(4, 4), fontsize=7)  # fmt: skip
    _finish(ax, panel["title"], f"{panel['x']} (M)" if panel["x"] == "params" else panel["x"])


def _line(ax: Axes, panel: dict[str, Any], variants: list[dict[str, Any]], data: ResultsData) -> None:
    for v in variants:
        for key in panel["y"]:
            steps, values = data.history(v["id"], key)
            ax.plot(steps, values, color=v["color"], label=v["name"], marker="." if key.startswith("val/") else None)
    if panel["log_y"]:
        ax.set_yscale("log")
    if panel["y"] == ["val/psnr"]:
        ax.legend(fontsize=7, ncol=2)
    _finish(ax, panel["title"], panel["x"])


def _media(ax: Axes, panel: dict[str, Any], results_dir: Path) -> None:
    """W&B shows every run's validation grids; the results folder keeps the test crop through every variant."""
    samples = SAMPLES in panel["keys"]
    image = results_dir / f"{SAMPLES_STAND_IN if samples else panel['keys'][0]}.png"
    ax.axis("off")
    if image.is_file():
        ax.imshow(plt.imread(image))
    note = f" (W&B: each run's {SAMPLES} at every validation; here: {image.name})" if samples else ""
    ax.set_title(panel["title"] + note, fontsize=10)


def _finish(ax: Axes, title: str, xlabel: str | None) -> None:
    ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8)
    ax.grid(alpha=0.3)


DRAW = {"bar": _bar, "scatter": _scatter, "line": _line}
