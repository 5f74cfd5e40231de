"""Mistakes end with one line `<command>: error: ...`, exit code 2, no traceback, and nothing written or lost."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli import assert_one_line_error, run

from srnlab.cli.runtime import user_message
from srnlab.config import compose_config
from srnlab.data.datamodule import DeblurDataModule
from srnlab.data.synth.dataset import UnwritableDataRoot
from srnlab.data.synth.render import BlurSynthesizer
from srnlab.training import train

SMALL = ["data.synthesize.n_train=4", "data.synthesize.n_test=2", "data.synthesize.size=[64,80]"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("errors") / "synthetic"
    cfg = compose_config("train", ["profile=smoke", f"data.root={root}", *SMALL])
    DeblurDataModule(**{k: v for k, v in cfg.data.items() if not k.startswith("_")}).prepare_data()
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
    cv2.imwrite(str(tmp_path / "photo.png"), np.zeros((16, 16, 3), np.uint8))
    proc = run("srnlab.cli.deblur", "--ckpt", str(garbage), "--out", str(tmp_path / "out"), str(tmp_path / "photo.png"))
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
        names = ("config.yaml", "hydra.yaml", "overrides.yaml")
        record = {name: f"the first job's {name}\n".encode() for name in names}
        (run_dir / ".hydra").mkdir()
        for name, content in record.items():
            (run_dir / ".hydra" / name).write_bytes(content)
        (run_dir / "train.log").write_bytes(b"the first job's log\n")
        before = snapshot(run_dir / "checkpoints")
        proc = run("srnlab.cli.train", "profile=smoke", "logger=csv", f"data.root={data_root}", *SMALL,
                   f"hydra.run.dir={run_dir}", "seed=7", "model.optimizer.lr=0.5")  # fmt: skip
    assert_one_line_error(proc, "srn-train", f"{run_dir} is in use by another job (PID 4242)", "hydra.run.dir")
    assert snapshot(run_dir / "checkpoints") == before
    assert {p.name: p.read_bytes() for p in (run_dir / ".hydra").iterdir()} == record, "the refused job wrote nothing"
    assert (run_dir / "train.log").read_bytes() == b"the first job's log\n"


def test_a_full_disk_while_checkpointing_is_one_line_that_names_the_cause(tmp_path, data_root, monkeypatch) -> None:
    def full_disk(obj, f, *args, **kwargs):  # what torch raises when the device fills up mid-write
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4160 vs 4054") from None

    monkeypatch.setattr("srnlab.lit.checkpoint_io.torch.save", full_disk)
    out = tmp_path / "run"
    cfg = compose_config("train", ["profile=smoke", "logger=csv", f"data.root={data_root}", *SMALL,
                                   f"paths.output_dir={out}", f"paths.log_dir={tmp_path}"])  # fmt: skip
    with pytest.raises(RuntimeError) as raised:
        train(cfg)
    message = user_message(raised.value, "paths.log_dir=<folder>")
    assert message.startswith("no space left on the device: free some space, or write elsewhere (paths.log_dir=")
    assert "\n" not in message and "run the command again to resume" in message
    assert not list((out / "checkpoints").glob("*")), "no checkpoint, whole or partial, was left"


def test_a_read_only_data_root_is_named_before_any_pair_is_rendered(tmp_path, monkeypatch) -> None:
    root = tmp_path / "read-only"
    root.mkdir()
    root.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: answer as the kernel answers anyone else
        monkeypatch.setattr(os, "access", lambda path, mode: bool(os.stat(path).st_mode & stat.S_IWUSR))
    monkeypatch.setattr(BlurSynthesizer, "render", lambda *a: pytest.fail("rendered into a folder it cannot write"))
    cfg = compose_config("train", ["profile=smoke", f"data.root={root}", *SMALL])
    with pytest.raises(UnwritableDataRoot) as raised:
        DeblurDataModule(**{k: v for k, v in cfg.data.items() if not k.startswith("_")}).prepare_data()
    assert f"cannot write the synthetic set to {root}: {root} is not writable" in str(raised.value)
    assert "data.root=<folder>" in str(raised.value)
    root.chmod(0o755)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["read-only"] and not any(root.iterdir())


def test_srn_eval_given_a_folder_names_the_checkpoints_inside(tmp_path, data_root, smoke_checkpoint) -> None:
    folder = smoke_checkpoint.parent
    proc = run("srnlab.cli.evaluate", f"ckpt_path={folder}", "profile=smoke", f"data.root={data_root}", *SMALL,
               f"hydra.run.dir={tmp_path}/eval")  # fmt: skip
    assert_one_line_error(proc, "srn-eval", f"{folder} is a folder, not a checkpoint file", str(smoke_checkpoint))


def test_training_without_any_logger_works(tmp_path, data_root) -> None:
    proc, run_dir = train_case(tmp_path, data_root, "logger=none")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run_dir / "result.json").is_file() and not (run_dir / "csv").exists()


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
