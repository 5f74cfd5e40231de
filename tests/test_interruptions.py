"""Stopped jobs: a signal saves a checkpoint, records `status: interrupted` and exits 128 + signal; the next run
resumes; SLURM's warning signal requeues; srn-table1 tells an interrupted variant from a missing one; and the
submitit launcher runs a sweep for real."""

from __future__ import annotations

import csv
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli import REPO, SMALL_DATA, offline_env
from signal_at import MOMENTS

from srnlab.cli.table1 import main as table1_main
from srnlab.config import compose_config
from srnlab.lit.callbacks import Interrupted
from srnlab.runs.results import RunResult
from srnlab.training import train

SMALL = ["data.synthesize.n_train=4", "data.synthesize.n_test=2", "data.synthesize.size=[64,80]"]
FOREVER = ["trainer.max_steps=100000", "trainer.val_check_interval=5", "logger=csv", "test=false"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("interruptions") / "synthetic"


def job_args(run_dir: Path, data_root: Path, *overrides: str) -> list[str]:
    folders = [f"hydra.run.dir={run_dir}", f"paths.output_dir={run_dir}"]
    return ["profile=smoke", f"data.root={data_root}", *SMALL, *folders, *FOREVER, *overrides]


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "srnlab.cli.train", *args], cwd=REPO, env=env or offline_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def saved_step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1], ids=lambda s: s.name)
def test_a_signal_saves_a_checkpoint_records_the_stop_and_exits_128_plus_the_signal(tmp_path, data_root, signum):
    run_dir = tmp_path / "run"
    proc = start(job_args(run_dir, data_root))
    last = run_dir / "checkpoints" / "last.ckpt"
    wait_for(last, proc)
    first_save = saved_step(last)
    time.sleep(1.0)  # some steps past that validation's checkpoint
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, stderr[-3000:]
    result = RunResult.read(run_dir)
    assert result.status == "interrupted" and result.interrupted["signal"] == signum.name
    step = result.interrupted["step"]
    assert saved_step(last) == step > first_save, "the checkpoint is the step it stopped at, not the last validation"
    assert f"interrupted by {signum.name} at step {step}" in stderr and "run the same command again" in stderr
    assert "Traceback" not in stderr

    resumed = train(compose_config("train", job_args(run_dir, data_root, f"trainer.max_steps={step + 3}")))
    assert resumed.status == "ok" and resumed.global_step == step + 3
    with (run_dir / "csv" / "metrics.csv").open() as f:
        steps = [int(r["step"]) for r in csv.DictReader(f) if r.get("train/loss")]
    assert steps == list(range(step + 3)), "the resumed run trained on from the saved step"


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_stop_at_any_moment_resumes_logging_every_step_once(tmp_path, data_root, moment) -> None:
    """Validation runs every 5 steps: a stop during one, right after one (where Lightning's own resume logic
    would count the step twice) or between two."""
    run_dir = tmp_path / "run"
    stop_at = 11 if moment == "between validations" else 10
    stopper = ["+callbacks.stop._target_=signal_at.SignalAt", f"+callbacks.stop.step={stop_at}",
               f"+callbacks.stop.moment={moment}"]  # fmt: skip
    with pytest.raises(Interrupted) as stopped:
        train(compose_config("train", job_args(run_dir, data_root, *stopper)))
    assert stopped.value.step == stop_at == saved_step(run_dir / "checkpoints" / "last.ckpt")

    resumed = train(compose_config("train", job_args(run_dir, data_root, f"trainer.max_steps={stop_at + 3}")))
    assert resumed.status == "ok" and resumed.global_step == stop_at + 3
    with (run_dir / "csv" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows if r.get("train/loss")] == list(range(stop_at + 3))
    validated = [int(r["step"]) for r in rows if r.get("val/psnr")]
    assert validated == sorted(set(validated)), "no validation is logged twice"


def test_sigusr1_under_slurm_saves_an_hpc_checkpoint_requeues_and_the_job_resumes(tmp_path, data_root) -> None:
    bin_dir, calls = tmp_path / "bin", tmp_path / "scontrol-calls"
    bin_dir.mkdir()
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    scontrol.chmod(scontrol.stat().st_mode | stat.S_IEXEC)
    slurm = {"SLURM_NTASKS": "1", "SLURM_JOB_NAME": "table1", "SLURM_JOB_ID": "4242", "SLURM_PROCID": "0",
             "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NTASKS_PER_NODE": "1"}  # fmt: skip
    env = offline_env() | slurm | {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    run_dir = tmp_path / "run"
    proc = start(job_args(run_dir, data_root), env)
    wait_for(run_dir / "checkpoints" / "last.ckpt", proc)
    proc.send_signal(signal.SIGUSR1)  # SLURM's warning before the time limit
    wait_for(calls, proc)
    assert calls.read_text().split() == ["requeue", "4242"]
    (hpc,) = run_dir.glob("hpc_ckpt_*.ckpt")
    proc.send_signal(signal.SIGTERM)  # what SLURM sends when it requeues the job
    proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM
    stopped = RunResult.read(run_dir).interrupted["step"]
    assert stopped >= saved_step(hpc)

    resumed = train(compose_config("train", job_args(run_dir, data_root, f"trainer.max_steps={stopped + 2}")))
    assert resumed.status == "ok" and resumed.global_step == stopped + 2


def test_srn_table1_shows_an_interrupted_variant_as_resumable_and_refuses_an_empty_folder(tmp_path, capsys) -> None:
    sweep = tmp_path / "sweep"
    killed = sweep / "ss" / "seed1"
    (killed / "checkpoints").mkdir(parents=True)
    (killed / "checkpoints" / "last.ckpt").write_bytes(b"a checkpoint")
    (killed / "progress.json").write_text('{"global_step": 40, "train_time_s": 3.0, "val_history": []}')
    table1_main(["--runs", str(sweep), "--out", str(tmp_path / "out"), "--no-wandb"])
    with (tmp_path / "out" / "table1.csv").open() as f:
        status = {r["id"]: r["status"] for r in csv.DictReader(f)}
    assert status["ss"] == "interrupted at step 40 (resumable)" and status["sc"] == "missing"

    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", REPO / "docs"):
        with pytest.raises(SystemExit) as exit_info:
            table1_main(["--runs", str(folder), "--out", str(tmp_path / "never"), "--no-wandb"])
        assert exit_info.value.code == 2 and "holds no Table 1 job" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_a_two_variant_sweep_runs_through_the_submitit_launcher(tmp_path) -> None:
    cmd = [sys.executable, "-m", "srnlab.cli.train", "--config-name", "table1", "profile=smoke",
           f"paths.log_dir={tmp_path}", f"paths.data_dir={tmp_path}/data", *SMALL_DATA.split(), "logger=csv",
           "experiment=table1/sr_edrb1,table1/ss", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10",
           "callbacks.divergence.max_loss=1e9"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=offline_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = tmp_path / "table1" / "smoke-synthetic"
    assert sorted(p.name for p in (sweep / ".submitit").iterdir()), "submitit ran the jobs"
    table1_main(["--runs", str(sweep), "--out", str(tmp_path / "results"), "--no-wandb"])
    with (tmp_path / "results" / "table1.csv").open() as f:
        rows = {r["id"]: r["status"] for r in csv.DictReader(f)}
    assert rows == {"sr_edrb1": "ok", "ss": "ok"}
