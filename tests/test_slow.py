"""Minutes-long checks of the README's promises, run by `make test-slow` (not by `make test`)."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srnlab.config import TABLE1_IDS, compose_config
from srnlab.lit.module import DeblurModule
from srnlab.training import train

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_mini_profile_sr_edrb3_gains_2_db_between_first_and_last_validation(tmp_path) -> None:
    cfg = compose_config(
        "train",
        ["experiment=table1/sr_edrb3", "profile=mini", "logger=csv", f"paths.data_dir={tmp_path}/data",
         f"paths.output_dir={tmp_path}/run"],
    )  # fmt: skip
    result = train(cfg)
    first, last = result.val_first["val/psnr"], result.val_last["val/psnr"]
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


@pytest.mark.parametrize("option", ["model.compile=true", "model.cuda_graphs=true"])
def test_compiled_training_resumes_and_its_checkpoint_loads_uncompiled(tmp_path, option) -> None:
    """`model.compile=true` and `model.cuda_graphs=true` (TorchInductor, needs a C++ compiler; on a CPU the
    graphed step compiles without graphs) train, resume from their own last.ckpt, and write state-dict keys that
    an uncompiled module loads (no `_orig_mod.` prefixes)."""
    out = tmp_path / "run"
    overrides = [
        "profile=smoke", option, "logger=csv", f"paths.output_dir={out}",
        f"data.root={tmp_path}/data", "data.synthesize.n_train=4", "data.synthesize.n_test=2",
        "data.synthesize.size=[64,80]", "test=false",
    ]  # fmt: skip
    assert train(compose_config("train", overrides)).status == "ok"
    resumed = train(compose_config("train", [*overrides, "trainer.max_steps=6", "skip_finished=false"]))
    assert resumed.global_step == 6
    module = DeblurModule.load_from_checkpoint(out / "checkpoints" / "last.ckpt", compile=False)
    assert not any("_orig_mod" in key for key in module.state_dict())


CHAOS_VARIANTS = ("ss", "sr_edrb1", "wo_r")
CHAOS_EXPERIMENTS = ",".join(f"table1/{v}" for v in CHAOS_VARIANTS)
CHAOS_STEPS = 40  # enough work that five kills land before the sweep is done
SLOW_WRITER = """
import sys, time
import srnlab.lit.checkpoint_io as checkpoint_io
real_save = checkpoint_io.torch.save

def save_in_two_halves(obj, f):
    # Widen the write window: half the bytes, a pause, the rest. A kill in the pause leaves a torn
    # temporary file next to the previous complete checkpoint.
    import io
    buffer = io.BytesIO()
    real_save(obj, buffer)
    data = buffer.getvalue()
    f.write(data[: len(data) // 2]); f.flush(); time.sleep(0.4); f.write(data[len(data) // 2 :])

checkpoint_io.torch.save = save_in_two_halves
sys.argv = ["srn-train", *sys.argv[1:]]
from srnlab.cli.train import main
main()
"""


def chaos_sweep_args(sweep_dir: Path, data_root: Path) -> list[str]:
    return [
        "--config-name", "table1", "profile=smoke", "logger=csv",
        f"hydra.sweep.dir={sweep_dir}", f"experiment={CHAOS_EXPERIMENTS}",
        f"data.root={data_root}", "data.synthesize.n_train=8", "data.synthesize.n_test=3",
        "data.synthesize.size=[64,80]", f"trainer.max_steps={CHAOS_STEPS}", "trainer.val_check_interval=5",
    ]  # fmt: skip


def start_sweep(sweep_dir: Path, data_root: Path) -> subprocess.Popen:
    env = {**os.environ, "WANDB_MODE": "offline"}
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, *chaos_sweep_args(sweep_dir, data_root)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def kill_when(proc: subprocess.Popen, sweep_dir: Path, mid_write: bool, rng: random.Random) -> bool:
    """SIGKILL the sweep's process group during a checkpoint write (as soon as a fresh temporary checkpoint
    appears), or at a random moment after this attempt saved a complete checkpoint (so that the next attempt
    resumes); False if the sweep finished first."""
    started = time.time()
    stale = {(p, p.stat().st_mtime_ns) for p in sweep_dir.rglob(".*.ckpt.partial")}  # torn by an earlier kill
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if mid_write and _fresh_partials(sweep_dir, stale):
            break
        if not mid_write and _saved_since(sweep_dir, started):
            time.sleep(rng.uniform(0.0, 2.0))
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def _saved_since(sweep_dir: Path, started: float) -> bool:
    try:
        return any(p.stat().st_mtime > started for p in sweep_dir.glob("*/checkpoints/last.ckpt"))
    except FileNotFoundError:
        return False


def _fresh_partials(sweep_dir: Path, stale: set[tuple[Path, int]]) -> bool:
    try:
        return any((p, p.stat().st_mtime_ns) not in stale for p in sweep_dir.rglob(".*.ckpt.partial"))
    except FileNotFoundError:  # renamed while we looked: the write just finished
        return False


def test_chaos_sweep_killed_again_and_again_finishes_with_the_same_table(tmp_path) -> None:
    """Kill a 3-variant smoke sweep with SIGKILL at least 5 times (3 during checkpoint writes, the others at a
    random moment after a complete checkpoint), re-run the same command until it finishes, and compare with
    an uninterrupted sweep.

    Equal by construction: parameters, steps trained, the blurry input's scores (same data). Not equal: the
    output's PSNR/SSIM. A resumed epoch restarts its shuffled batch order (Lightning restores the step, not
    the sampler's position), so the killed sweep sees other batches after each resume; in the smoke setting
    that moves the test PSNR by well under a dB.
    """
    rng = random.Random(0)
    data_root, chaos_dir, calm_dir = tmp_path / "data", tmp_path / "chaos", tmp_path / "calm"
    calm = start_sweep(calm_dir, data_root)
    assert calm.wait(timeout=900) == 0
    kills = 0
    for attempt in range(40):
        proc = start_sweep(chaos_dir, data_root)
        if kills >= 5 or not kill_when(proc, chaos_dir, mid_write=attempt < 3, rng=rng):
            assert proc.wait(timeout=900) == 0
            break
        kills += 1
    assert kills >= 5
    logs = "".join(p.read_text() for p in chaos_dir.glob("*/table1.log"))
    assert "resuming from" in logs  # the kills after a complete checkpoint made attempts resume

    for variant in CHAOS_VARIANTS:
        chaos, quiet = (json.loads((d / variant / "result.json").read_text()) for d in (chaos_dir, calm_dir))
        assert chaos["status"] == quiet["status"] == "ok", variant
        assert chaos["params"] == quiet["params"] and chaos["global_step"] == quiet["global_step"] == CHAOS_STEPS
        for key in ("test/blur_psnr", "test/blur_ssim"):
            assert chaos["test"][key] == pytest.approx(quiet["test"][key], abs=1e-6), key
        assert abs(chaos["test"]["test/psnr"] - quiet["test"]["test/psnr"]) < 1.0, variant
        with (chaos_dir / variant / "csv" / "metrics.csv").open() as f:
            steps = [int(r["step"]) for r in csv.DictReader(f) if r.get("train/loss")]
        assert steps == list(range(CHAOS_STEPS)), (variant, steps)
