"""`srn-summary`: parameter counts and forward FLOPs of every Table 1 variant, the paper's full model and the
official release's networks, next to the counts of the paper and the released checkpoints."""

from __future__ import annotations

import argparse

from srnlab.config import OTHER_EXPERIMENTS, TABLE1_IDS
from srnlab.report.summary import format_table, summarize


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "ids",
        nargs="*",
        default=[*TABLE1_IDS, *OTHER_EXPERIMENTS],
        help="Table 1 ids (sr_edrb3) or experiment paths (srn_full, release/color); default: all of them",
    )
    args = parser.parse_args(argv)
    print(format_table([summarize(i) for i in args.ids]))


if __name__ == "__main__":
    main()
