"""`srn-dashboard`: a Table 1 sweep's W&B comparison workspace and report, written as a specification next to
its results (wandb-dashboard.json, and wandb-dashboard.png, our matplotlib rendering of the workspace), and
published to W&B unless offline (srnlab.report.dashboard.spec, srnlab.report.dashboard.publish)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from srnlab.cli.runtime import user_errors
from srnlab.errors import UserError
from srnlab.report.dashboard.figure import FIGURE_FILE, render
from srnlab.report.dashboard.publish import publish
from srnlab.report.dashboard.spec import SweepSource, build_spec, describe, write_spec
from srnlab.report.sweep import MULTIRUN_FILE, Sweep

OFFLINE_MODES = ("offline", "disabled", "dryrun")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog="examples: srn-dashboard profile=mini data=synthetic --offline | "
        "srn-dashboard --runs logs/table1/gpu-synthetic --entity my-team",
    )
    parser.add_argument(
        "overrides", nargs="*", help="the sweep's own overrides (profile=... data=... paths.log_dir=...) to find it"
    )
    parser.add_argument("--runs", type=Path, default=None, help="the sweep folder, instead of overrides")
    parser.add_argument(
        "--results", type=Path, default=None, help="the sweep's results folder (default: ablations/results/...)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="write and print the specification only (also when WANDB_MODE=offline)"
    )
    parser.add_argument("--entity", default=None, help="W&B user or team to publish to (default: the login's)")
    args = parser.parse_args(argv)
    if args.runs is not None and args.overrides:
        parser.error("pass either --runs or the sweep's overrides, not both")
    offline = args.offline or os.environ.get("WANDB_MODE", "online") in OFFLINE_MODES
    with user_errors("srn-dashboard", "--results <folder>"):
        sweep = Sweep.read(args.runs) if args.runs is not None else Sweep.configured(args.overrides)
        if args.results is None and sweep.profile is None:
            raise UserError(f"{sweep.runs_dir} has no {MULTIRUN_FILE} to name its results folder: pass --results")
        results = args.results or sweep.results_dir()
        if not results.is_dir():
            raise UserError(f"no results in {results}: run srn-table1 for this sweep first (make table1 ...)")
        spec = build_spec(SweepSource.of(sweep, results, args.overrides))
        spec_path = write_spec(spec, results)
        figure = render(spec, results, results / FIGURE_FILE)
        print(describe(spec))
        print(f"wrote {spec_path} and {figure}")
        if offline:
            print("offline: nothing published (WANDB_MODE=online make wandb-dashboard ... publishes)")
            return
        urls = publish(spec, results, [sweep.runs_dir, results], args.entity)
    print(f"workspace: {urls['workspace']}\nreport: {urls['report']}")


if __name__ == "__main__":
    main()
