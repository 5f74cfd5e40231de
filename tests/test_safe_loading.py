"""Checkpoints are data: a hostile pickle never runs, in any command; safetensors files are checked against the
network they describe; `--trust-checkpoint` is the explicit, warned way to load an old file of one's own."""

from __future__ import annotations

import json
import os
import pathlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from cli import assert_one_line_error, run
from omegaconf import OmegaConf
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from srnlab.cli.deblur import main as deblur_main
from srnlab.config import compose_config
from srnlab.infer.deblurrer import Deblurrer
from srnlab.lit.module import DeblurModule, load_module
from srnlab.runs.checkpoints import (
    CheckpointError,
    UnreadableCheckpoint,
    UntrustedCheckpoint,
    check_zip_sizes,
    load_checkpoint,
    read_hparams,
)
from srnlab.runs.results import Budget, RunResult
from srnlab.runs.weights import export_weights

SMALL = ["data.synthesize.n_train=4", "data.synthesize.n_test=2", "data.synthesize.size=[64,64]"]


class Exploit:
    """What an attacker puts in a checkpoint: unpickling it calls `touch <marker>` in a shell."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return os.system, (f"touch {self.marker}",)


@pytest.fixture(scope="module")
def hostile(smoke_checkpoint, tmp_path_factory) -> tuple[Path, Path]:
    """A real srn-train checkpoint with one hostile object added, and the marker file it would create."""
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "PWNED"
    ckpt = torch.load(smoke_checkpoint, map_location="cpu", weights_only=True)
    ckpt["callbacks"]["exploit"] = Exploit(marker)
    path = folder / "evil.ckpt"
    torch.save(ckpt, path)
    return path, marker


@pytest.fixture(scope="module")
def data_root(smoke_checkpoint) -> Path:
    return smoke_checkpoint.parents[2] / "data"


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8))
    return path


def hostile_sweep(folder: Path, evil: Path, data_root: Path) -> Path:
    """A sweep folder whose one finished variant points srn-table1 at the hostile file as its best checkpoint."""
    job = folder / "sweep" / "sr_edrb1"
    (job / ".hydra").mkdir(parents=True)
    cfg = compose_config("train", ["profile=smoke", "experiment=table1/sr_edrb1", f"data.root={data_root}", *SMALL])
    OmegaConf.save(cfg, job / ".hydra" / "config.yaml")
    test = {"test/psnr": 20.0, "test/ssim": 0.5}
    variant = OmegaConf.to_container(cfg.variant)
    RunResult(variant, Budget(4, 32, 2, 0.25), "smoke", test=test, best_ckpt=str(evil)).write(job)
    return job.parent


@pytest.mark.parametrize("command", ["srn-deblur", "srn-eval", "srn-train", "srn-table1", "srn-export"])
def test_a_hostile_checkpoint_never_runs_in_any_command(command, hostile, data_root, photo, tmp_path) -> None:
    evil, marker = hostile
    hydra_common = ["profile=smoke", "experiment=table1/sr_edrb1", f"data.root={data_root}", *SMALL,
                    f"hydra.run.dir={tmp_path / 'run'}", "logger=csv", f"ckpt_path={evil}"]  # fmt: skip
    sweep = hostile_sweep(tmp_path, evil, data_root) if command == "srn-table1" else None
    invocations = {
        "srn-deblur": ("srnlab.cli.deblur", ["--ckpt", str(evil), "--out", str(tmp_path / "out"), str(photo)]),
        "srn-eval": ("srnlab.cli.evaluate", hydra_common),
        "srn-train": ("srnlab.cli.train", hydra_common),
        "srn-table1": ("srnlab.cli.table1", ["--runs", str(sweep), "--out", str(tmp_path / "results")]),
        "srn-export": ("srnlab.cli.export", [str(evil), "--out", str(tmp_path / "model.safetensors")]),
    }
    module, args = invocations[command]
    proc = run(module, *args)
    assert not marker.exists(), f"{command} ran the checkpoint's code"
    assert_one_line_error(proc, command, f"refused checkpoint {evil}", "posix.system", "refuses untrusted")
    assert not (tmp_path / "out").exists() and not (tmp_path / "model.safetensors").exists()


def test_the_python_api_refuses_it_too_before_building_anything(hostile) -> None:
    evil, marker = hostile
    for load in (load_checkpoint, read_hparams, load_module, DeblurModule.load_from_checkpoint, Deblurrer.load):
        with pytest.raises(UntrustedCheckpoint, match=r"refused checkpoint .*evil\.ckpt: loading it would call posix"):
            load(evil)
    old_format = evil.with_name("evil-legacy.ckpt")
    torch.save({"x": Exploit(marker)}, old_format, _use_new_zipfile_serialization=False)
    with pytest.raises(UntrustedCheckpoint, match=r"posix\.system"):
        load_checkpoint(old_format)
    assert not marker.exists()


def test_an_old_file_of_ones_own_loads_only_with_the_trust_flag(smoke_checkpoint, photo, tmp_path, caplog) -> None:
    """Older tools pickled paths and other classes into checkpoints: harmless, but not plain data."""
    ckpt = torch.load(smoke_checkpoint, map_location="cpu", weights_only=True)
    ckpt["callbacks"]["old"] = {"dirpath": pathlib.PurePosixPath("/runs/checkpoints")}
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    with pytest.raises(SystemExit) as exit_info:
        deblur_main(["--ckpt", str(old), "--out", str(tmp_path / "refused"), str(photo)])
    assert exit_info.value.code == 2 and not (tmp_path / "refused").exists()

    deblur_main(["--ckpt", str(old), "--trust-checkpoint", "--out", str(tmp_path / "trusted"), str(photo)])
    deblur_main(["--ckpt", str(smoke_checkpoint), "--out", str(tmp_path / "plain"), str(photo)])
    trusted, plain = (cv2.imread(str(tmp_path / d / "photo_deblurred.png")) for d in ("trusted", "plain"))
    np.testing.assert_array_equal(trusted, plain)
    assert any("may run code" in r.message and r.levelname == "WARNING" for r in caplog.records)


def test_our_own_checkpoints_hold_only_plain_data(smoke_checkpoint) -> None:
    assert torch.serialization.get_unsafe_globals_in_checkpoint(smoke_checkpoint) == []
    assert isinstance(load_checkpoint(smoke_checkpoint)["hyper_parameters"]["model"]["net"], dict)


def test_a_checkpoint_saved_before_the_module_took_the_model_node_still_loads(smoke_checkpoint, tmp_path) -> None:
    """Checkpoints of srnlab up to issue 32 kept the model's keys at the top level of their hyperparameters."""
    module = load_module(smoke_checkpoint)
    model = module.settings
    flat = {"net": model["net"], "optimizer": model["optimizer"], "scheduler": model["scheduler"],
            "loss": {"scale_weights": None}, "recurrent_grad_clip": None, "variant": module.hparams.variant,
            "channels_last": "auto", "compile": False, "metrics": ["psnr", "ssim"], "self_ensemble": False}  # fmt: skip
    old = tmp_path / "old.ckpt"
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": flat, "pytorch-lightning_version": "2.6.0"}, old)
    assert read_hparams(old)["net"] == model["net"] and read_hparams(old)["variant"]["id"] == "sr_edrb1"
    loaded = DeblurModule.load_from_checkpoint(old, map_location="cpu")
    assert loaded.settings["net"] == model["net"] and loaded.loss_fn.pixel == "mse"
    blur = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(Deblurrer.load(old)(blur), Deblurrer.load(smoke_checkpoint)(blur))


@pytest.fixture(scope="module")
def weights(smoke_checkpoint, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "model.safetensors"
    module = load_module(smoke_checkpoint)
    export_weights(module.net, module.flat_hparams, path, torch.float32)
    return path


def rewrite(source: Path, target: Path, metadata_change: dict[str, str], change: Callable | None = None) -> Path:
    """A copy of a weights file with some metadata replaced and its tensors passed through `change`."""
    with safe_open(source, framework="pt") as f:
        metadata = {**f.metadata(), **metadata_change}
    tensors = load_file(source)
    save_file(change(tensors) if change else tensors, target, metadata=metadata)
    return target


def test_a_file_whose_tensors_do_not_fit_its_config_is_refused_naming_them(weights, smoke_checkpoint, tmp_path) -> None:
    net = read_hparams(weights)["net"]
    wider = rewrite(weights, tmp_path / "wider.safetensors", {"net": json.dumps({**net, "width_mult": 1.0})})
    for load in (load_module, Deblurrer.load):
        with pytest.raises(CheckpointError, match=r"do not fit .*: file \(\d+, .*\) vs network \(\d+, .*\)"):
            load(wider)

    def drop_one(tensors: dict) -> dict:
        return dict(list(tensors.items())[1:])

    short = rewrite(weights, tmp_path / "short.safetensors", {}, drop_one)
    with pytest.raises(CheckpointError, match=r"missing "):
        load_module(short)
    ckpt = torch.load(smoke_checkpoint, map_location="cpu", weights_only=True)
    first = next(k for k in ckpt["state_dict"] if k.startswith("net."))
    del ckpt["state_dict"][first]
    torch.save(ckpt, tmp_path / "torn.ckpt")
    with pytest.raises(CheckpointError, match=rf"torn\.ckpt: its tensors .*missing {first[4:]}.*as srn-train wrote it"):
        Deblurrer.load(tmp_path / "torn.ckpt")
    broken = rewrite(weights, tmp_path / "broken.safetensors", {"net": "{not json"})
    with pytest.raises(CheckpointError, match=r"broken\.safetensors: its 'net' .* not valid JSON"):
        read_hparams(broken)


def test_a_zip_bomb_is_refused_from_the_zip_directory_before_torch_reads_it(tmp_path, monkeypatch) -> None:
    bomb = tmp_path / "bomb.ckpt"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("archive/data.pkl", "w") as entry:
        for _ in range(64):
            entry.write(bytes(2**20))  # 64 MB of zeros in about 64 KB
    assert bomb.stat().st_size < 2**20
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load read a refused file"))
    with pytest.raises(UnreadableCheckpoint, match=r"refused checkpoint .*bomb.ckpt: 1 of its entries are compressed"):
        load_checkpoint(bomb)
    cv2.imwrite(str(tmp_path / "photo.png"), np.zeros((16, 16, 3), np.uint8))
    proc = run("srnlab.cli.deblur", "--ckpt", str(bomb), "--out", str(tmp_path / "out"), str(tmp_path / "photo.png"))
    assert_one_line_error(proc, "srn-deblur", "bomb.ckpt", "compressed")


def test_a_checkpoint_declaring_more_than_the_limit_is_refused(tmp_path) -> None:
    path = tmp_path / "big.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}, "hyper_parameters": {}}, path)
    check_zip_sizes(path)  # a real checkpoint passes
    with pytest.raises(UnreadableCheckpoint, match=r"it would unpack to 0.0 GiB, more than any srnlab checkpoint"):
        check_zip_sizes(path, limit=1000)
