"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cli import REPO, SMALL_DATA, offline_env


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The third-party real blur material (../shared/realdata, or $SRN_REALDATA); skips when absent."""
    default = Path(__file__).resolve().parents[2] / "shared" / "realdata"
    root = Path(os.environ.get("SRN_REALDATA", default))
    if not root.is_dir():
        pytest.skip(f"real test data not found at {root} (set SRN_REALDATA to its folder)")
    return root


@pytest.fixture(scope="session")
def smoke_checkpoint(tmp_path_factory) -> Path:
    """An SR-EDRB1 checkpoint trained for the smoke profile's 4 steps on a tiny synthetic set."""
    from srnlab.config import compose_config
    from srnlab.training import train

    tmp = tmp_path_factory.mktemp("smoke-checkpoint")
    cfg = compose_config(
        "train",
        ["profile=smoke", "experiment=table1/sr_edrb1", "logger=csv", "test=false", f"paths.output_dir={tmp}/run",
         f"data.root={tmp}/data", "data.synthesize.n_train=4", "data.synthesize.n_test=2",
         "data.synthesize.size=[64,64]"],
    )  # fmt: skip
    return Path(train(cfg).best_ckpt)


@pytest.fixture(scope="session")
def smoke_sweep(tmp_path_factory) -> Path:
    """The README's command with PROFILE=smoke, into a temporary log and results folder: the results folder
    (its sweep folder: `smoke_sweep_runs`)."""
    tmp = tmp_path_factory.mktemp("table1")
    results = tmp / "results"
    proc = subprocess.run(
        ["make", "-C", str(REPO), "reproduce-table1", "PROFILE=smoke", f"LOG_DIR={tmp}/logs", f"RESULTS={results}",
         f"ARGS=paths.data_dir={tmp}/data {SMALL_DATA}"],
        env=offline_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return results


@pytest.fixture(scope="session")
def smoke_sweep_runs(smoke_sweep) -> Path:
    """The sweep folder of `smoke_sweep`: one job folder, with its offline W&B run, per variant."""
    return smoke_sweep.parent / "logs" / "table1" / "smoke-synthetic"
