"""src/srnlab/studies/kernel_families.py: its line kernels and the probe sets it writes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from srnlab.studies import kernel_families as families


def test_a_line_kernel_has_its_length_and_direction():
    horizontal = families.line_kernel(11.0, 0.0)
    assert horizontal.sum() == pytest.approx(1.0, abs=1e-6)
    rows = np.flatnonzero(horizontal.sum(axis=1) > 1e-6)
    columns = np.flatnonzero(horizontal.sum(axis=0) > 1e-6)
    assert rows.tolist() == [10] and columns.min() == 5 and columns.max() == 15  # 11 px through the centre
    np.testing.assert_allclose(families.line_kernel(11.0, 90.0), horizontal.T, atol=1e-7)
    diagonal = families.line_kernel(11.0, 45.0)
    np.testing.assert_allclose(diagonal, diagonal.T, atol=1e-7)  # symmetric about the 45-degree axis
    assert np.count_nonzero(diagonal > 1e-3) > 11  # anti-aliased: the diagonal spreads over neighbours


def test_a_set_holds_the_source_frames_blurred_by_one_of_the_allowed_kernels(tmp_path):
    rng = np.random.default_rng(0)
    source = tmp_path / "source"
    for split, sequence in (("train", "SYN_a"), ("test", "SYN_b")):
        for k in range(3):
            folder = source / split / sequence / "sharp"
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{k:06d}.png"), rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    assert families.write_family(source, tmp_path / "two", directions=2, lengths=(7.0, 7.0), seed=0) == 6
    used = set()
    for sharp_path in sorted((tmp_path / "two").glob("*/*/sharp/*.png")):
        sharp = cv2.imread(str(sharp_path)).astype(np.float32)
        blur = cv2.imread(str(sharp_path.parent.parent / "blur" / sharp_path.name)).astype(np.float32)
        np.testing.assert_array_equal(sharp, cv2.imread(str(source / sharp_path.relative_to(tmp_path / "two"))))
        errors = {
            angle: np.abs(cv2.filter2D(sharp, -1, families.line_kernel(7.0, angle), borderType=cv2.BORDER_REFLECT)
                          - blur).max()
            for angle in (0.0, 90.0)
        }  # fmt: skip
        angle = min(errors, key=errors.get)
        assert errors[angle] <= 0.5 < max(errors.values())  # exactly one kernel made it (8-bit rounding aside)
        used.add(angle)
    assert used == {0.0, 90.0}
    with pytest.raises(SystemExit, match="exists"):
        families.write_family(source, tmp_path / "two", directions=2, lengths=(7.0, 7.0), seed=0)


def test_lengths_are_one_value_or_log_uniform_over_the_range():
    rng = np.random.default_rng(0)
    assert families.draw_length(rng, (11.0, 11.0)) == 11.0
    assert rng.bit_generator.state == np.random.default_rng(0).bit_generator.state  # a fixed length draws nothing
    drawn = np.array([families.draw_length(rng, (4.0, 16.0)) for _ in range(4000)])
    assert drawn.min() >= 4.0 and drawn.max() <= 16.0
    assert np.mean(drawn < 8.0) == pytest.approx(0.5, abs=0.03)  # 8 is the range's geometric middle
