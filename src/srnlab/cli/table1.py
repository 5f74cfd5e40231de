"""`srn-table1`: gather a Table 1 sweep into a table, a CSV, plots and a W&B table, side by side with the paper
(srnlab.report.table1)."""

from __future__ import annotations

import argparse
from pathlib import Path

from srnlab.cli import add_trust_option
from srnlab.cli.runtime import user_errors
from srnlab.errors import UserError
from srnlab.report.sweep import Sweep
from srnlab.report.table1 import build_results, rejudge_claims


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog="examples: srn-table1 profile=mini data=synthetic | srn-table1 --runs logs/table1/mini-synthetic",
    )
    parser.add_argument(
        "overrides", nargs="*", help="the sweep's own overrides (profile=... data=... paths.log_dir=...) to find it"
    )
    parser.add_argument("--runs", type=Path, default=None, help="the sweep folder, instead of overrides")
    parser.add_argument("--out", type=Path, default=None, help="where the table goes (default: ablations/results/...)")
    parser.add_argument(
        "--wandb-group", default=None, help="W&B group of the table's run (default: the group the sweep logged to)"
    )
    parser.add_argument("--no-wandb", action="store_true", help="do not log the table to W&B")
    parser.add_argument(
        "--claims-from-pairs",
        type=Path,
        metavar="RESULTS",
        help="judge the paper's claims again from a results folder's pairs.csv (no sweep needed) and write its "
        "claims.md, claims.csv and claims.png",
    )
    add_trust_option(parser, "the sweep's checkpoints")
    args = parser.parse_args(argv)
    if args.claims_from_pairs is not None:
        with user_errors("srn-table1", "--claims-from-pairs <results folder>"):
            print(rejudge_claims(args.claims_from_pairs))
        return
    if args.runs is not None and args.overrides:
        parser.error("pass either --runs or the sweep's overrides, not both")
    with user_errors("srn-table1", "--out <folder>"):
        sweep = Sweep.read(args.runs) if args.runs is not None else Sweep.configured(args.overrides)
        if not sweep.runs_dir.is_dir():
            raise UserError(f"no sweep in {sweep.runs_dir}: run `make reproduce-table1` (or srn-train --config-name "
                            "table1 with the same overrides) first")  # fmt: skip
        if not sweep.has_jobs():
            raise UserError(
                f"{sweep.runs_dir} holds no Table 1 job: expected the <variant>/seed<n>/ folders (result.json or "
                "checkpoints/last.ckpt) that srn-train --config-name table1 writes"
            )
        out = args.out or sweep.results_dir()
        group = None if args.no_wandb else args.wandb_group or sweep.wandb_group()
        build_results(sweep, out, group, trust=args.trust_checkpoint)
    print((out / "table1.md").read_text())


if __name__ == "__main__":
    main()
