"""`srn-deblur` on real photos of awkward sizes and kinds, with a checkpoint trained for a few steps."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest
from cli import assert_one_line_error, run

from srnlab.cli.deblur import main
from srnlab.image_io import ImageReadError, ImageTooLarge, read_image
from srnlab.infer.photos import deblur_files


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
    _png(tmp_path / "a.png")
    proc = subprocess.run(
        [sys.executable, "-m", "srnlab.cli.deblur", "--ckpt", str(tmp_path / "none.ckpt"), str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "checkpoint not found" in proc.stderr and "none.ckpt" in proc.stderr


def _png(path, height: int = 24, width: int = 32, seed: int = 0):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _huge_header_png(path, side: int = 60_000):
    """A complete, valid 1-KB PNG whose header declares side x side RGB pixels (its one row of data is short)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    path.write_bytes(data + _chunk(b"IEND", b""))
    return path


def test_deblurring_a_folder_into_itself_overwrites_nothing_and_loses_no_result(smoke_checkpoint, tmp_path) -> None:
    folder = tmp_path / "photos"
    _png(folder / "a.png", seed=1)
    own = _png(folder / "a_deblurred.png", seed=2)  # the user's own file, named like a result
    _png(folder / "b.png", seed=3)
    cv2.imwrite(str(folder / "b.jpg"), cv2.imread(str(_png(tmp_path / "b.png", seed=4))))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    args = ["--ckpt", str(smoke_checkpoint), "--out", str(folder), "--device", "cpu", str(folder)]
    first = subprocess.run([sys.executable, "-m", "srnlab.cli.deblur", *args], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
    assert own.read_bytes() == before["a_deblurred.png"], "the user's file is untouched"
    assert f"{own}: named like an earlier result" in first.stderr
    assert f"{folder / 'a.png'}: {own} exists and is left alone (--overwrite replaces it)" in first.stderr
    results = {p.name for p in folder.iterdir()} - set(before)
    assert results == {"b_png_deblurred.png", "b_jpg_deblurred.png"}, "b.png and b.jpg both get their result"
    assert all(p.read_bytes() == before[p.name] for p in folder.iterdir() if p.name in before)
    written = {name: (folder / name).read_bytes() for name in results}

    again = subprocess.run([sys.executable, "-m", "srnlab.cli.deblur", *args], capture_output=True, text=True)
    assert again.returncode == 0 and not again.stdout.strip(), "a re-run deblurs no result again and replaces none"
    assert "b_png_deblurred.png: named like an earlier result" in again.stderr
    assert {p.name for p in folder.iterdir()} == set(before) | results
    assert all((folder / name).read_bytes() == data for name, data in written.items())
    assert not list(folder.glob(".*partial")), "no temporary file is left behind"


def test_two_inputs_for_one_output_refuse_the_run_before_anything_is_written(smoke_checkpoint, tmp_path) -> None:
    one, two = _png(tmp_path / "one" / "a.png"), _png(tmp_path / "two" / "a.png", seed=1)
    proc = run("srnlab.cli.deblur", "--ckpt", str(smoke_checkpoint), "--out", str(tmp_path / "out"), str(one), str(two))
    assert_one_line_error(proc, "srn-deblur", "would write one output file", str(one), str(two), "nothing was written")
    assert not (tmp_path / "out").exists()


def test_overwrite_replaces_an_existing_output_atomically(smoke_checkpoint, tmp_path, monkeypatch) -> None:
    photo = _png(tmp_path / "in" / "a.png")
    old = _png(tmp_path / "out" / "a_deblurred.png", seed=9)
    old_bytes = old.read_bytes()

    def fails_halfway(path, image):
        path.write_bytes(b"half a PNG")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("srnlab.infer.photos.write_image", fails_halfway)
    with pytest.raises(OSError):
        deblur_files(smoke_checkpoint, [photo], tmp_path / "out", "cpu", overwrite=True)
    assert old.read_bytes() == old_bytes and sorted(p.name for p in old.parent.iterdir()) == ["a_deblurred.png"]
    monkeypatch.undo()
    written, failed, skipped = deblur_files(smoke_checkpoint, [photo], tmp_path / "out", "cpu", overwrite=True)
    assert written == [old] and not failed and not skipped and old.read_bytes() != old_bytes


def test_an_image_over_the_pixel_limit_is_skipped_by_name_from_its_header_and_the_rest_run(
    smoke_checkpoint, tmp_path
) -> None:
    folder = tmp_path / "in"
    _png(folder / "small.png")
    huge = _huge_header_png(folder / "huge.png")
    proc = run("srnlab.cli.deblur", "--ckpt", str(smoke_checkpoint), "--out", str(tmp_path / "out"), str(folder))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"skipped {huge}: 60000 x 60000 pixels (3,600 megapixels) is over the limit of 100 megapixels" in proc.stderr
    assert "--max-pixels 3600000000" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["small_deblurred.png"]


def test_the_pixel_limit_is_read_from_png_and_jpeg_headers_before_decoding(tmp_path, monkeypatch) -> None:
    png = _png(tmp_path / "a.png", height=30, width=40)
    jpeg = tmp_path / "a.jpg"
    cv2.imwrite(str(jpeg), cv2.imread(str(png)))
    assert read_image(png, max_pixels=1200).shape == read_image(jpeg, max_pixels=1200).shape == (30, 40, 3)
    monkeypatch.setattr(cv2, "imdecode", lambda *a: pytest.fail("decoded an image over the limit"))
    for path in (png, jpeg):
        with pytest.raises(ImageTooLarge, match=r"40 x 30 pixels .* over the limit of 0 megapixels"):
            read_image(path, max_pixels=1199)


def test_an_image_opencv_refuses_to_decode_is_a_named_read_error(tmp_path) -> None:
    bmp = tmp_path / "huge.bmp"  # a BMP header declaring 60000 x 60000 pixels: OpenCV's own limit refuses it
    bmp.write_bytes(b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 60000, 60000, 1, 24,
                                                                                0, 0, 0, 0, 0, 0))  # fmt: skip
    with pytest.raises(ImageReadError, match=r"huge.bmp: OpenCV refused to decode this file"):
        read_image(bmp)
