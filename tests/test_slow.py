"""Minutes-long checks of the README's promises, run by `make test-slow` (not by `make test`)."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest

from srnlab.config import TABLE1_IDS, compose_config
from srnlab.train import train

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_mini_profile_sr_edrb3_gains_2_db_between_first_and_last_validation(tmp_path) -> None:
    cfg = compose_config(
        "train",
        ["experiment=table1/sr_edrb3", "profile=mini", "logger=csv", f"paths.data_dir={tmp_path}/data",
         f"paths.output_dir={tmp_path}/run"],
    )  # fmt: skip
    result = train(cfg)
    first, last = result["val_first"]["val/psnr"], result["val_last"]["val/psnr"]
    assert last - first >= 2.0, (first, last)


def test_default_smoke_sweep_through_make(tmp_path) -> None:
    """`make reproduce-table1 PROFILE=smoke` on the default data, exactly as a user types it."""
    env = {**os.environ, "WANDB_MODE": "offline", "SRN_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        ["make", "-C", str(REPO), "reproduce-table1", "PROFILE=smoke", f"LOG_DIR={tmp_path}/logs",
         f"RESULTS={tmp_path}/results"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    with (tmp_path / "results" / "table1.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == list(TABLE1_IDS) and all(r["status"] == "ok" for r in rows)
