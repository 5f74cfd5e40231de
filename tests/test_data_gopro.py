"""Image reading and the GOPRO-layout dataset: real pairs, and every kind of broken file a user can have."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from srnlab.data.gopro import DatasetError, GoProPairs
from srnlab.data.synth import psnr
from srnlab.image_io import ImageReadError, from_tensor, probe_image, read_image, to_tensor, to_uint8, write_image

REAL_NAMES = ["DeepDeblurExample_seq4_frame1/000001", "GOPR0384_11_00/000001"]


def cv2_rgb(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255


def coded(height: int = 24, width: int = 32, seed: int = 0) -> np.ndarray:
    """A random uint8 BGR image (cv2's order)."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def make_pair(root: Path, sequence: str, stem: str, size=(24, 32), split: str = "train", blurs=("blur",)) -> None:
    for folder in (*blurs, "sharp"):
        path = root / split / sequence / folder / f"{stem}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), coded(*size, seed=len(folder)))


def dataset_error(root: Path, split: str = "train", blur: str = "blur") -> str:
    with pytest.raises(DatasetError) as info:
        GoProPairs(root, split, blur)
    return str(info.value)


# --- real GOPRO_Large pairs -------------------------------------------------------------------------------


def test_real_pairs_blur(realdata: Path) -> None:
    root = realdata / "gopro_mini"
    dataset = GoProPairs(root, "test", "blur")
    assert len(dataset) == 2
    assert [pair.name for pair in dataset.pairs] == REAL_NAMES
    for index, name in enumerate(REAL_NAMES):
        item = dataset[index]
        assert item["name"] == name
        sequence, stem = name.split("/")
        for key in ("blur", "sharp"):
            assert item[key].dtype == torch.float32 and item[key].shape == (3, 720, 1280)
            expected = cv2_rgb(root / "test" / sequence / key / f"{stem}.png")
            np.testing.assert_array_equal(from_tensor(item[key]), expected)


def test_real_psnr_matches_the_index(realdata: Path) -> None:
    sequence = realdata / "gopro_mini" / "test" / "GOPR0384_11_00"
    blur, sharp = read_image(sequence / "blur" / "000001.png"), read_image(sequence / "sharp" / "000001.png")
    assert psnr(to_uint8(blur), to_uint8(sharp)) == pytest.approx(24.05, abs=0.005)


def test_real_pairs_blur_gamma_skip_a_sequence_with_a_warning(realdata: Path) -> None:
    with pytest.warns(UserWarning, match="GOPR0384_11_00"):
        dataset = GoProPairs(realdata / "gopro_mini", "test", "blur_gamma")
    assert [pair.name for pair in dataset.pairs] == REAL_NAMES[:1]
    assert dataset[0]["blur"].shape == (3, 720, 1280)


def test_real_user_photos(realdata: Path) -> None:
    photos = realdata / "photos"
    expected = {
        "gopro_crop_rgba_707x475.png": (475, 707),
        "clock_motion_gray_400x300.png": (300, 400),
        "handheld_night_1080x1349.jpg": (1349, 1080),
        "street_1280x720.jpg": (720, 1280),
    }
    for name, (height, width) in expected.items():
        image = read_image(photos / name)
        assert image.shape == (height, width, 3) and image.dtype == np.float32
        assert image.min() >= 0 and image.max() <= 1
    gray = read_image(photos / "clock_motion_gray_400x300.png")
    assert np.array_equal(gray[..., 0], gray[..., 2])


# --- read_image / write_image -------------------------------------------------------------------------------


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    image = np.random.default_rng(0).random((10, 12, 3), dtype=np.float32)
    write_image(tmp_path / "sub" / "x.png", image)
    back = read_image(tmp_path / "sub" / "x.png")
    assert back.shape == (10, 12, 3) and back.dtype == np.float32
    np.testing.assert_array_equal(back, to_uint8(image) / np.float32(255))
    assert np.abs(back - image).max() <= 0.5 / 255 + 1e-6
    # RGB order: red stays red on disk (cv2 writes BGR)
    red = np.zeros((2, 2, 3), np.float32)
    red[..., 0] = 1
    write_image(tmp_path / "red.png", red)
    assert cv2.imread(str(tmp_path / "red.png"))[0, 0].tolist() == [0, 0, 255]
    with pytest.raises(ValueError, match="H x W x 3"):
        write_image(tmp_path / "bad.png", np.zeros((2, 2, 4)))


def test_tensor_helpers() -> None:
    image = np.random.default_rng(0).random((5, 7, 3), dtype=np.float32)
    tensor = to_tensor(image)
    assert tensor.shape == (3, 5, 7) and tensor.dtype == torch.float32
    np.testing.assert_array_equal(from_tensor(tensor), image)


def test_16_bit_grayscale_and_rgba(tmp_path: Path) -> None:
    deep = np.random.default_rng(0).integers(0, 65536, (6, 8, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    np.testing.assert_allclose(read_image(tmp_path / "deep.png"), deep[..., ::-1] / 65535.0, atol=1e-7)

    gray = coded()[..., 0]
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    image = read_image(tmp_path / "gray.png")
    assert image.shape == (24, 32, 3)
    for channel in range(3):
        np.testing.assert_array_equal(image[..., channel], gray / np.float32(255))

    bgra = np.dstack([coded(), np.full((24, 32), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "rgba.png"), bgra)
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), bgra[..., 2::-1] / np.float32(255))


def test_jpeg(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "x.jpg"), coded())
    assert read_image(tmp_path / "x.jpg").shape == (24, 32, 3)
    assert probe_image(tmp_path / "x.jpg").width == 32


def corrupt_png() -> bytes:
    """A PNG with intact header and trailer but one flipped byte inside the image data."""
    data = bytearray(cv2.imencode(".png", coded(64, 64))[1].tobytes())
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


def damaged_files(tmp_path: Path) -> dict[str, Path]:
    """One file per kind of damage, all of them named .png/.jpg like good images."""
    ok_png = cv2.imencode(".png", coded(64, 64))[1].tobytes()
    ok_jpg = cv2.imencode(".jpg", coded(64, 64))[1].tobytes()
    files = {
        "missing": tmp_path / "missing.png",
        "empty": tmp_path / "empty.png",
        "garbage": tmp_path / "garbage.png",
        "truncated_png": tmp_path / "truncated.png",
        "truncated_jpg": tmp_path / "truncated.jpg",
        "corrupt_chunk": tmp_path / "corrupt_chunk.png",
    }
    files["empty"].write_bytes(b"")
    files["garbage"].write_bytes(b"this is not an image" * 10)
    files["truncated_png"].write_bytes(ok_png[: len(ok_png) * 2 // 3])
    files["truncated_jpg"].write_bytes(ok_jpg[: len(ok_jpg) * 2 // 3])
    files["corrupt_chunk"].write_bytes(corrupt_png())
    return files


def test_read_image_rejects_damaged_files_naming_them(tmp_path: Path) -> None:
    for kind, path in damaged_files(tmp_path).items():
        with pytest.raises(ImageReadError, match=re.escape(str(path))):
            read_image(path)
        if kind != "corrupt_chunk":  # the header-only probe cannot see damage inside a PNG
            with pytest.raises(ImageReadError, match=re.escape(str(path))):
                probe_image(path)
    assert issubclass(ImageReadError, ValueError)


# --- GoProPairs on folders made here -------------------------------------------------------------------------


def test_layout_order_jpeg_and_transform(tmp_path: Path) -> None:
    make_pair(tmp_path, "SEQ_B", "000002")
    make_pair(tmp_path, "SEQ_B", "000001")
    make_pair(tmp_path, "SEQ_A", "000009")
    jpeg = tmp_path / "train" / "SEQ_A" / "blur" / "000010.jpg"
    cv2.imwrite(str(jpeg), coded())
    cv2.imwrite(str(jpeg.parents[1] / "sharp" / "000010.jpeg"), coded())
    (tmp_path / "train" / "SEQ_A" / "blur" / "notes.txt").write_text("ignored")
    dataset = GoProPairs(tmp_path, "train")
    assert [pair.name for pair in dataset.pairs] == ["SEQ_A/000009", "SEQ_A/000010", "SEQ_B/000001", "SEQ_B/000002"]

    def flip_both(image: np.ndarray, sharp: np.ndarray) -> dict[str, np.ndarray]:
        return {"image": image[::-1], "sharp": sharp[::-1]}

    flipped = GoProPairs(tmp_path, "train", transform=flip_both)[0]
    assert torch.equal(flipped["blur"], dataset[0]["blur"].flip(1))
    assert torch.equal(flipped["sharp"], dataset[0]["sharp"].flip(1))


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    make_pair(tmp_path, "SEQ", "000001")
    make_pair(tmp_path, "SEQ", "000002")
    make_pair(tmp_path, "SEQ", "000003")
    make_pair(tmp_path, "SEQ", "000004", size=(24, 30))
    make_pair(tmp_path, "SEQ", "000005")
    make_pair(tmp_path, "SEQ", "000006")
    seq = tmp_path / "train" / "SEQ"
    (seq / "sharp" / "000001.png").unlink()  # blur without its sharp twin
    (seq / "blur" / "000002.png").unlink()  # sharp without its blurry twin
    cv2.imwrite(str(seq / "sharp" / "000004.png"), coded(24, 32))  # sizes differ
    (seq / "blur" / "000005.png").write_bytes(b"garbage")
    data = (seq / "sharp" / "000006.png").read_bytes()
    (seq / "sharp" / "000006.png").write_bytes(data[: len(data) // 2])
    message = dataset_error(tmp_path)
    assert "5 problem(s)" in message
    for offending in (
        seq / "blur" / "000001.png",
        seq / "sharp" / "000002.png",
        seq / "blur" / "000004.png",
        seq / "sharp" / "000004.png",
        seq / "blur" / "000005.png",
        seq / "sharp" / "000006.png",
    ):
        assert str(offending) in message
    assert "no sharp twin" in message and "no blurry twin" in message and "truncated" in message


def test_damage_inside_a_png_is_reported_when_loaded(tmp_path: Path) -> None:
    make_pair(tmp_path, "SEQ", "000001", size=(64, 64))
    sharp = tmp_path / "train" / "SEQ" / "sharp" / "000001.png"
    sharp.write_bytes(corrupt_png())
    dataset = GoProPairs(tmp_path, "train")  # header and trailer are fine
    with pytest.raises(ImageReadError, match=re.escape(str(sharp))):
        dataset[0]


def test_missing_root_split_and_bad_blur(tmp_path: Path) -> None:
    assert str(tmp_path / "nowhere") in dataset_error(tmp_path / "nowhere")
    make_pair(tmp_path, "SEQ", "000001", split="test")
    message = dataset_error(tmp_path, split="train")
    assert str(tmp_path / "train") in message and "test" in message  # names the split folders it did find
    with pytest.raises(DatasetError, match="blur, blur_gamma"):
        GoProPairs(tmp_path, "test", blur="gamma")


def test_empty_split_missing_sharp_folder_and_no_blur_gamma_anywhere(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    assert "empty" in dataset_error(tmp_path)
    make_pair(tmp_path, "SEQ", "000001")
    message = dataset_error(tmp_path, blur="blur_gamma")
    assert "no sequence has a 'blur_gamma' folder" in message
    (tmp_path / "train" / "SEQ" / "sharp" / "000001.png").unlink()
    (tmp_path / "train" / "SEQ" / "sharp").rmdir()
    assert str(tmp_path / "train" / "SEQ" / "sharp") in dataset_error(tmp_path)
