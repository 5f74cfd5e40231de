"""The console commands, one module each: thin layers that parse a command line (argparse or Hydra) and call
the modules where each concept lives (srnlab.training, srnlab.evaluation, srnlab.infer.photos, srnlab.report.table1,
srnlab.report.summary, srnlab.runs.weights, srnlab.data.synth). `python -m srnlab.cli.<command>` runs one."""

from __future__ import annotations

import argparse


def add_trust_option(parser: argparse.ArgumentParser, what: str) -> None:
    """`--trust-checkpoint`, the same in every command that reads checkpoints (srnlab.runs.checkpoints)."""
    parser.add_argument(
        "--trust-checkpoint",
        action="store_true",
        help=f"unpickle {what} fully, which may run code: only for files you made yourself",
    )
