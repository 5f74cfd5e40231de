"""Mistakes end with one line `<command>: error: ...`, exit code 2, no traceback, and nothing written or lost."""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli import assert_one_line_error, run

from srnlab.config import compose_config
from srnlab.data.datamodule import DeblurDataModule
from srnlab.errors import user_message

SMALL = ["data.synthesize.n_train=4", "data.synthesize.n_test=2", "data.synthesize.size=[64,80]"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("errors") / "synthetic"
    cfg = compose_config("train", ["profile=smoke", f"data.root={root}", *SMALL])
    DeblurDataModule(**{k: v for k, v in cfg.data.items() if k != "_target_"}).prepare_data()
    return root


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))} if folder.exists() else {}


def train_case(tmp_path: Path, data_root: Path, *overrides: str) -> tuple[subprocess.CompletedProcess, Path]:
    run_dir = tmp_path / "run"
    before = snapshot(data_root)
    data = [] if "data=gopro" in overrides else [f"data.root={data_root}", *SMALL]
    proc = run("srnlab.cli.train", "profile=smoke", "logger=csv", *data, f"hydra.run.dir={run_dir}", *overrides)
    assert snapshot(data_root) == before  # the data is untouched
    return proc, run_dir


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (["model.net.n_scales=0"], ["model.net.n_scales must be >= 1, got 0"]),
        (["data.crop_size=-8"], ["data.crop_size must be a positive number of pixels, got -8"]),
        (["data.crop_size=512"], ["data.crop_size=512 is larger than the training images", "data.crop_size <= 64"]),
        (["experiment=table1/nope"], ["Could not find 'experiment/table1/nope'", "table1/sr_edrb3"]),
        (["model.net.bogus=1"], ["Could not override 'model.net.bogus'", "+model.net.bogus=1"]),
        (["data=gopro"], ["data.root has no value", "data.root=..."]),
    ],
    ids=["n_scales=0", "negative crop", "crop larger than the images", "unknown experiment", "unknown key",
         "gopro without a root"],
)  # fmt: skip
def test_a_config_mistake_is_one_line_and_leaves_nothing(tmp_path, data_root, overrides, fragments) -> None:
    proc, run_dir = train_case(tmp_path, data_root, *overrides)
    assert_one_line_error(proc, "srn-train", *fragments)
    assert not run_dir.exists()  # not even Hydra's bookkeeping


def test_a_data_root_holding_your_own_files_is_never_touched(tmp_path, data_root) -> None:
    mine = tmp_path / "my-photos"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"not really a jpeg, but mine")
    before = snapshot(mine)
    proc, run_dir = train_case(tmp_path, data_root, f"data.root={mine}")
    assert_one_line_error(proc, "srn-train", f"{mine} exists and is not a synthetic set", "data=gopro")
    assert snapshot(mine) == before and not run_dir.exists()


def test_a_garbage_or_foreign_checkpoint_is_one_line(tmp_path, data_root, smoke_checkpoint) -> None:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"\x00garbage" * 100)
    proc, run_dir = train_case(tmp_path, data_root, f"ckpt_path={garbage}")
    assert_one_line_error(proc, "srn-train", f"cannot read checkpoint {garbage}")
    assert not run_dir.exists()
    proc = run("srnlab.cli.deblur", "--ckpt", str(garbage), str(tmp_path))
    assert_one_line_error(proc, "srn-deblur", f"cannot read checkpoint {garbage}")

    proc, run_dir = train_case(tmp_path, data_root, "experiment=table1/sr_edrb3", f"ckpt_path={smoke_checkpoint}")
    assert_one_line_error(proc, "srn-train", "holds variant 'sr_edrb1'", "model.net.body.n_units")
    assert not run_dir.exists()


def test_an_output_folder_that_cannot_be_written_is_named(tmp_path, data_root) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder should go")
    proc = run("srnlab.cli.train", "profile=smoke", f"data.root={data_root}", *SMALL, f"hydra.run.dir={blocker}/run")
    assert_one_line_error(proc, "srn-train", f"cannot use {blocker}", f"{blocker} is a file, not a folder")
    assert blocker.read_text() == "a file where a folder should go"


def test_hydra_full_error_still_shows_the_traceback(tmp_path, data_root) -> None:
    env_proc = run("srnlab.cli.train", "profile=smoke", f"data.root={data_root}", *SMALL,
                   f"hydra.run.dir={tmp_path}/run", "model.net.n_scales=0", full_error=True)  # fmt: skip
    assert env_proc.returncode != 0 and "Traceback" in env_proc.stderr and "n_scales must be >= 1" in env_proc.stderr


def test_a_second_job_in_a_busy_folder_is_refused_and_names_the_holder(tmp_path, data_root) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"the first job's checkpoint")
    with (run_dir / ".lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what the first job holds while it trains
        lock.write("4242\n")
        lock.flush()
        before = snapshot(run_dir / "checkpoints")
        proc = run("srnlab.cli.train", "profile=smoke", "logger=csv", f"data.root={data_root}", *SMALL,
                   f"hydra.run.dir={run_dir}")  # fmt: skip
    assert_one_line_error(proc, "srn-train", f"{run_dir} is in use by another job (PID 4242)", "hydra.run.dir")
    assert snapshot(run_dir / "checkpoints") == before


def test_the_small_commands_name_their_own_output_option(tmp_path, smoke_checkpoint) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder should go")
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.full((32, 48, 3), 128, np.uint8))
    cases = {
        "srn-deblur": ("srnlab.cli.deblur", str(photo), "--ckpt", str(smoke_checkpoint), "--out", f"{blocker}/out"),
        "srn-export": ("srnlab.cli.export", str(smoke_checkpoint), "--out", f"{blocker}/model.safetensors"),
        "srn-synth": ("srnlab.cli.synth", "--out", f"{blocker}/set", "--n-train", "2", "--n-test", "1"),
    }
    hints = {"srn-deblur": "--out <folder>", "srn-export": "--out <file>.safetensors", "srn-synth": "--out <folder>"}
    for prog, (module, *args) in cases.items():
        proc = run(module, *args)
        assert_one_line_error(proc, prog, f"cannot use {blocker}", f"{blocker} is a file, not a folder", hints[prog])
    assert blocker.read_text() == "a file where a folder should go"


def test_a_path_error_says_which_file_is_in_the_way(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for error in (
        FileExistsError(17, "File exists", str(blocker)),
        NotADirectoryError(20, "Not a directory", str(blocker / "deep" / "out")),
    ):
        expected = f"cannot use {error.filename}: {blocker} is a file, not a folder. Choose another path"
        assert user_message(error, "--out <folder>") == f"{expected} (e.g. --out <folder>)"
    denied = user_message(PermissionError(13, "Permission denied", str(tmp_path / "x")), "--out <folder>")
    assert denied == f"cannot use {tmp_path / 'x'}: Permission denied. Choose another path (e.g. --out <folder>)"
