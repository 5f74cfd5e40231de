"""Minutes-long checks of the README's promises, run by `make test-slow` (not by `make test`)."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest

from srnlab.config import TABLE1_IDS, compose_config
from srnlab.lit import DeblurModule
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


def test_compiled_training_resumes_and_its_checkpoint_loads_uncompiled(tmp_path) -> None:
    """`model.compile=true` (TorchInductor, needs a C++ compiler) trains, resumes from its own last.ckpt, and
    writes state-dict keys that an uncompiled module loads (no `_orig_mod.` prefixes)."""
    out = tmp_path / "run"
    overrides = [
        "profile=smoke", "model.compile=true", "logger=csv", f"paths.output_dir={out}",
        f"data.root={tmp_path}/data", "data.synthesize.n_train=4", "data.synthesize.n_test=2",
        "data.synthesize.size=[64,80]", "test=false",
    ]  # fmt: skip
    assert train(compose_config("train", overrides))["status"] == "ok"
    resumed = train(compose_config("train", [*overrides, "trainer.max_steps=6", "skip_finished=false"]))
    assert resumed["global_step"] == 6
    module = DeblurModule.load_from_checkpoint(out / "checkpoints" / "last.ckpt", compile=False)
    assert not any("_orig_mod" in key for key in module.state_dict())
