"""Paired augmentation: blur and sharp must always get exactly the same geometry."""

from __future__ import annotations

import numpy as np
import pytest

from srnlab.data.transforms import eval_transform, train_transform

HEIGHT, WIDTH = 40, 56


def coordinate_image(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """Every pixel unique: channel 0 = row, channel 1 = column (both scaled into [0, 1]), channel 2 = 0.5."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.dstack([rows / 255, cols / 255, np.full_like(rows, 0.5)])


def origin(crop: np.ndarray) -> tuple[int, int]:
    return round(float(crop[0, 0, 0]) * 255), round(float(crop[0, 0, 1]) * 255)


def test_random_crops_take_blur_and_sharp_from_the_same_place() -> None:
    blur = coordinate_image()
    sharp = 1.0 - blur  # a different image with the same coordinate code
    transform = train_transform(crop_size=16, seed=0)
    origins = set()
    for _ in range(30):
        out = transform(image=blur, sharp=sharp)
        row, col = origin(out["image"])
        origins.add((row, col))
        np.testing.assert_array_equal(out["image"], blur[row : row + 16, col : col + 16])
        np.testing.assert_array_equal(out["sharp"], sharp[row : row + 16, col : col + 16])
    assert len(origins) > 20  # the crops really move


def test_flips_and_rotations_stay_paired() -> None:
    blur = coordinate_image(32, 32)
    sharp = 1.0 - blur
    transform = train_transform(crop_size=32, hflip=True, vflip=True, rot90=True, seed=1)
    layouts = set()
    for _ in range(40):
        out = transform(image=blur, sharp=sharp)
        np.testing.assert_allclose(out["sharp"], 1.0 - out["image"], atol=1e-6)
        layouts.add(out["image"][0, 0, :2].tobytes())  # which corner ended up top-left
    assert len(layouts) == 4  # every corner, so flips and rotations happened


def test_defaults_do_not_flip() -> None:
    blur = coordinate_image(16, 16)
    out = train_transform(crop_size=16)(image=blur, sharp=blur)
    np.testing.assert_array_equal(out["image"], blur)


def test_images_smaller_than_the_crop_are_padded_identically() -> None:
    blur = coordinate_image(10, 12)
    sharp = 1.0 - blur
    out = train_transform(crop_size=16, seed=0)(image=blur, sharp=sharp)
    assert out["image"].shape == out["sharp"].shape == (16, 16, 3)
    np.testing.assert_allclose(out["sharp"], 1.0 - out["image"], atol=1e-6)


def test_seed_makes_crops_reproducible() -> None:
    blur = coordinate_image()
    first, again = train_transform(16, seed=3), train_transform(16, seed=3)
    origins = [origin(first(image=blur, sharp=blur)["image"]) for _ in range(5)]
    assert origins == [origin(again(image=blur, sharp=blur)["image"]) for _ in range(5)]
    assert len(set(origins)) > 1


def test_eval_transform_centre_crop_or_full_frame() -> None:
    assert eval_transform(None) is None
    blur = coordinate_image()
    sharp = 1.0 - blur
    out = eval_transform(16)(image=blur, sharp=sharp)
    top, left = (HEIGHT - 16) // 2, (WIDTH - 16) // 2
    np.testing.assert_array_equal(out["image"], blur[top : top + 16, left : left + 16])
    np.testing.assert_array_equal(out["sharp"], sharp[top : top + 16, left : left + 16])


@pytest.mark.parametrize("make", [lambda: train_transform(0), lambda: eval_transform(-1)])
def test_bad_crop_size(make) -> None:
    with pytest.raises(ValueError, match="crop_size"):
        make()
