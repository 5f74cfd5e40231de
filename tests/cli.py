"""Running srnlab's commands as a user does, in a fresh process, and reading how they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMALL_DATA = "data.synthesize.n_train=8 data.synthesize.n_test=3 data.synthesize.size=[96,128]"  # sweeps in tests


def offline_env() -> dict[str, str]:
    """This process's environment with W&B offline and quiet: no test may reach wandb.ai."""
    return {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}


def run(module: str, *args: str, full_error: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"} | {"WANDB_MODE": "offline"}
    if full_error:
        env["HYDRA_FULL_ERROR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, prog: str, *fragments: str) -> str:
    assert proc.returncode == 2, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith(f"{prog}: error: ")]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]
