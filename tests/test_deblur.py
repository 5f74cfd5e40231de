"""`srn-deblur` on real photos of awkward sizes and kinds, with a checkpoint trained for a few steps."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np

from srnlab.cli.deblur import main
from srnlab.image_io import read_image


def test_every_real_photo_comes_back_deblurred_at_its_own_size(realdata, smoke_checkpoint, tmp_path, capsys) -> None:
    photos = sorted((realdata / "photos").iterdir())
    photos = [p for p in photos if p.suffix in (".png", ".jpg")]
    main(["--ckpt", str(smoke_checkpoint), "--out", str(tmp_path), "--device", "cpu", str(realdata / "photos")])
    for photo in photos:
        out = tmp_path / f"{photo.stem}_deblurred.png"
        written = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
        assert written.shape == (*read_image(photo).shape[:2], 3), photo.name  # RGBA, gray, JPEG: all RGB
    assert str(tmp_path / "gopro_crop_rgba_707x475_deblurred.png") in capsys.readouterr().out


def test_a_damaged_photo_is_skipped_and_named_and_the_others_are_written(smoke_checkpoint, tmp_path) -> None:
    good, bad = tmp_path / "in" / "good.png", tmp_path / "in" / "bad.png"
    good.parent.mkdir()
    cv2.imwrite(str(good), np.random.default_rng(0).integers(0, 256, (33, 47, 3), dtype=np.uint8))
    bad.write_bytes(good.read_bytes()[:200])
    proc = subprocess.run(
        [sys.executable, "-m", "srnlab.cli.deblur", "--ckpt", str(smoke_checkpoint), "--out", str(tmp_path / "out"),
         str(good.parent)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "skipped" in proc.stderr and "bad.png" in proc.stderr
    assert (tmp_path / "out" / "good_deblurred.png").exists()
    assert not (tmp_path / "out" / "bad_deblurred.png").exists()


def test_a_missing_checkpoint_is_a_clear_error(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "srnlab.cli.deblur", "--ckpt", str(tmp_path / "none.ckpt"), str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "checkpoint not found" in proc.stderr and "none.ckpt" in proc.stderr
