"""Self-ensemble: the mean of the eight orientations' outputs, in the module, srn-eval and srn-deblur."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from srnlab.cli.deblur import main as deblur_main
from srnlab.config import compose_config
from srnlab.evaluation import evaluate
from srnlab.image_io import read_image, to_tensor
from srnlab.infer.self_ensemble import ORIENTATIONS, self_ensemble
from srnlab.lit.module import load_module


def test_an_orientation_blind_function_is_its_own_ensemble() -> None:
    images = torch.rand(2, 3, 5, 7)
    torch.testing.assert_close(self_ensemble(lambda x: x.exp(), images), images.exp())
    assert len(set(ORIENTATIONS)) == 8


def test_a_one_pixel_shift_averages_over_the_four_directions() -> None:
    """Shifting right by one pixel, seen in all eight orientations and turned back, is a shift by one pixel
    right, left, down and up, twice each: their mean."""
    images = torch.rand(1, 1, 6, 9)
    expected = sum(torch.roll(images, step, dim) for step in (1, -1) for dim in (-1, -2)) / 4
    torch.testing.assert_close(self_ensemble(lambda x: torch.roll(x, 1, -1), images), expected)


def test_the_module_averages_its_network_over_orientations_and_keeps_the_shape(smoke_checkpoint) -> None:
    plain, ensembled = load_module(smoke_checkpoint), load_module(smoke_checkpoint, self_ensemble=True)
    blur = torch.rand(1, 3, 36, 52)  # not square: odd turns swap height and width
    with torch.inference_mode():
        answers = []
        for turns, mirror in ORIENTATIONS:
            turned = torch.rot90(blur, turns, (-2, -1))
            answer = plain(turned.flip(-1) if mirror else turned)
            answers.append(torch.rot90(answer.flip(-1) if mirror else answer, -turns, (-2, -1)))
        expected = torch.stack(answers).mean(0)
        output = ensembled(blur)
        assert output.shape == blur.shape
        torch.testing.assert_close(output, expected, rtol=0, atol=1e-6)
        assert (output - plain(blur)).abs().max() > 1e-4  # a trained network is not orientation blind


def test_srn_eval_and_srn_deblur_take_the_option(smoke_checkpoint, tmp_path) -> None:
    data_root = smoke_checkpoint.parents[2] / "data"
    common = ["profile=smoke", "experiment=table1/sr_edrb1", f"data.root={data_root}", "data.synthesize.n_train=4",
              "data.synthesize.n_test=2", "data.synthesize.size=[64,64]", f"ckpt_path={smoke_checkpoint}"]  # fmt: skip

    def summary(ensemble: bool) -> dict:
        out = tmp_path / f"eval-{ensemble}"
        overrides = [*common, f"model.self_ensemble={ensemble}", f"paths.output_dir={out}"]
        return evaluate(compose_config("eval", overrides))

    plain, ensembled = summary(False), summary(True)
    assert ensembled["mean_blur_psnr"] == plain["mean_blur_psnr"]
    assert ensembled["mean_psnr"] != pytest.approx(plain["mean_psnr"], abs=1e-4)

    photo = tmp_path / "in" / "photo.png"
    photo.parent.mkdir()
    cv2.imwrite(str(photo), np.random.default_rng(2).integers(0, 256, (40, 56, 3), dtype=np.uint8))
    outputs: dict[str, Path] = {}
    for name, flags in (("plain", []), ("ensembled", ["--self-ensemble"])):
        deblur_main(
            [
                "--ckpt",
                str(smoke_checkpoint),
                "--out",
                str(tmp_path / name),
                "--device",
                "cpu",
                "--precision",
                "32",
                *flags,
                str(photo),
            ]
        )  # fmt: skip: fp32, as the reference below
        outputs[name] = tmp_path / name / "photo_deblurred.png"
    expected = load_module(smoke_checkpoint, self_ensemble=True)
    with torch.inference_mode():
        reference = expected(to_tensor(read_image(photo))[None])[0].permute(1, 2, 0).numpy()
    written = read_image(outputs["ensembled"])
    assert np.abs(written - np.clip(reference, 0, 1)).max() <= 1 / 255 + 1e-6
    assert not np.array_equal(written, read_image(outputs["plain"]))
