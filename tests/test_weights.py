"""Weights as safetensors: `srn-export`, loading by srn-deblur / srn-eval, and the network srnlab ships."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from srnlab.cli.deblur import main as deblur_main
from srnlab.cli.export import main as export_main
from srnlab.config import compose_config
from srnlab.evaluation import evaluate
from srnlab.image_io import read_image
from srnlab.infer.deblurrer import Deblurrer
from srnlab.lit.module import DeblurModule, load_module
from srnlab.runs.checkpoints import CheckpointError, read_hparams
from srnlab.runs.weights import PRETRAINED


@pytest.fixture(scope="module")
def exported(smoke_checkpoint, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("weights")
    files = {dtype: out / f"smoke-{dtype}.safetensors" for dtype in ("float32", "float16")}
    for dtype, path in files.items():
        export_main([str(smoke_checkpoint), "--out", str(path), "--dtype", dtype])
    return files


def test_export_keeps_the_network_config_and_every_weight(smoke_checkpoint, exported) -> None:
    ckpt = DeblurModule.load_from_checkpoint(smoke_checkpoint, map_location="cpu").eval()
    assert read_hparams(exported["float32"])["net"] == ckpt.settings["net"]
    assert read_hparams(exported["float32"])["variant"]["id"] == "sr_edrb1"
    with safe_open(exported["float16"], framework="pt") as f:
        assert json.loads(f.metadata()["net"]) == ckpt.settings["net"]
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}  # noqa: SIM118 (safe_open has no __iter__)
    assert exported["float16"].stat().st_size < 0.6 * exported["float32"].stat().st_size

    blur = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        reference = ckpt(blur)
        torch.testing.assert_close(load_module(exported["float32"])(blur), reference, rtol=0, atol=0)
        half = load_module(exported["float16"])(blur)
    assert (half - reference).abs().max() < 2e-2 and not torch.equal(half, reference)


def test_the_deblurrer_without_lightning_computes_what_the_training_module_does(smoke_checkpoint, exported) -> None:
    blur = torch.rand(1, 3, 40, 52)
    for path in (smoke_checkpoint, exported["float32"]):
        for ensemble in (False, True):
            with torch.inference_mode():
                expected = load_module(path, self_ensemble=ensemble)(blur)
                deblurrer = Deblurrer.load(path, self_ensemble=ensemble)
                torch.testing.assert_close(deblurrer(blur), expected, rtol=0, atol=0)
            assert deblurrer.hparams["net"] == read_hparams(path)["net"] and not deblurrer.training


def test_deblur_and_eval_take_a_weights_file_like_a_checkpoint(smoke_checkpoint, exported, tmp_path) -> None:
    photo = tmp_path / "in" / "photo.png"
    photo.parent.mkdir()
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 256, (37, 45, 3), dtype=np.uint8))
    for name, ckpt in (("ckpt", smoke_checkpoint), ("weights", exported["float32"])):
        deblur_main(["--ckpt", str(ckpt), "--out", str(tmp_path / name), "--device", "cpu", str(photo)])
    np.testing.assert_array_equal(
        read_image(tmp_path / "ckpt" / "photo_deblurred.png"), read_image(tmp_path / "weights" / "photo_deblurred.png")
    )

    data_root = smoke_checkpoint.parents[2] / "data"
    common = ["profile=smoke", "experiment=table1/sr_edrb1", f"data.root={data_root}", "data.synthesize.n_train=4",
              "data.synthesize.n_test=2", "data.synthesize.size=[64,64]"]  # fmt: skip

    def mean_psnr(ckpt: Path) -> float:
        cfg = compose_config("eval", [*common, f"ckpt_path={ckpt}", f"paths.output_dir={tmp_path / ckpt.suffix}"])
        return evaluate(cfg)["mean_psnr"]

    assert mean_psnr(smoke_checkpoint) == pytest.approx(mean_psnr(exported["float32"]), abs=1e-6)


def test_a_foreign_or_damaged_weights_file_is_refused_by_name(exported, tmp_path) -> None:
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match=r"foreign\.safetensors is not an srnlab weights file"):
        read_hparams(foreign)
    torn = tmp_path / "torn.safetensors"
    torn.write_bytes(exported["float16"].read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"cannot read weights file .*torn\.safetensors"):
        load_module(torn)


def test_export_refuses_an_output_that_is_not_safetensors(smoke_checkpoint, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        export_main([str(smoke_checkpoint), "--out", str(tmp_path / "model.ckpt")])
    assert exit_info.value.code == 2 and "--out must end in .safetensors" in capsys.readouterr().err


def test_the_shipped_network_deblurs_without_any_option(tmp_path, monkeypatch) -> None:
    """`srn-deblur photo.png` with no --ckpt: the SR-EDRB3 in the package, small enough for the repository."""
    assert PRETRAINED.is_file() and PRETRAINED.stat().st_size < 16 * 2**20
    assert read_hparams(PRETRAINED)["variant"]["id"] == "sr_edrb3"
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8))
    monkeypatch.chdir(tmp_path)
    deblur_main([str(photo)])
    assert read_image(tmp_path / "deblurred" / "photo_deblurred.png").shape == (48, 64, 3)
