"""`make gpu-check`'s script, run as its CPU dry run: every step ends well and writes what it promises."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEPS = ("bench-model", "loader", "loader-on-device", "table1", "precision-accuracy", "eval-32-true", "eval-bf16-mixed")


def test_gpu_check_dry_run_writes_every_result(tmp_path) -> None:
    out, work = tmp_path / "results", tmp_path / "work"
    env = {
        **os.environ, "GPU_CHECK_DRY_RUN": "1", "GPU_CHECK_OUT": str(out), "GPU_CHECK_WORK": str(work),
        "PY": sys.executable, "WANDB_MODE": "offline", "SRN_LOG_DIR": str(tmp_path / "logs"),
    }  # fmt: skip
    proc = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = (out / "summary.md").read_text()
    for step in STEPS:
        assert f"- {step}: exit 0 " in summary, summary
    bench = (out / "bench-model.md").read_text()
    assert "matmul ceiling 32-true" in bench and "| sr_edrb3 train step 1x32^2 | default before: fp32 NCHW |" in bench
    assert "| smoke |" in (out / "loader.md").read_text()
    assert "batches cut on the device (data.on_device=True" in (out / "loader-on-device.md").read_text()
    with (out / "table1.csv").open() as f:
        status = {row["id"]: row["status"] for row in csv.DictReader(f)}
    assert status["sr_edrb3"] == status["ss"] == "ok"
    assert "bf16 - fp32 test PSNR" in (out / "precision-accuracy.md").read_text()
    assert (work / "sr_edrb3-best.ckpt").is_file()

    # a check split over two calls: the second runs only the step named and adds to the summary
    accuracy = (out / "precision-accuracy.md").read_text()
    env["GPU_CHECK_STEPS"] = "loader-on-device"
    proc = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = (out / "summary.md").read_text()
    assert again.startswith(summary) and "- steps: loader-on-device" in again
    assert again.count("- loader-on-device: exit 0 ") == 2 and again.count("- table1: exit") == 1
    assert (out / "precision-accuracy.md").read_text() == accuracy
