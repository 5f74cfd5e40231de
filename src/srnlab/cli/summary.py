"""`srn-summary`: parameter counts and forward FLOPs of every Table 1 variant, next to the paper's counts."""

from __future__ import annotations

import argparse

from srnlab.config import TABLE1_IDS
from srnlab.summary import format_table, summarize


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ids", nargs="*", default=list(TABLE1_IDS), help="Table 1 experiment ids (default: all)")
    args = parser.parse_args(argv)
    print(format_table([summarize(i) for i in args.ids]))


if __name__ == "__main__":
    main()
