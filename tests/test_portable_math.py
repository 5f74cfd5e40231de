"""The CPU-independent power of the synthesiser's camera response, against Python's math.pow (the C library)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srnlab.data.synth.portable_math import power, series_power

EXPONENTS = (2.2, 1 / 2.2, 0.5, 3.0)


def reference(values: np.ndarray, exponent: float) -> np.ndarray:
    return np.array([math.pow(float(v), exponent) for v in values.ravel()]).reshape(values.shape)


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / want))


@pytest.fixture(scope="module")
def bases() -> np.ndarray:
    """Pixel-like values over [0, 1] and dark ones down to 1e-30, as float64."""
    rng = np.random.default_rng(0)
    return np.concatenate([rng.uniform(size=20_000), 10.0 ** rng.uniform(-30, 0, 5_000), [1.0, 0.5, 0.25]])


@pytest.mark.parametrize("exponent", EXPONENTS)
def test_series_power_is_accurate_to_1e_13(bases, exponent) -> None:
    assert relative_error(series_power(bases, exponent), reference(bases, exponent)) < 1e-13


@pytest.mark.parametrize("exponent", EXPONENTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_power_is_as_accurate_as_its_table_allows_in_either_input_dtype(bases, exponent, dtype) -> None:
    """Linear interpolation between mantissas 2**-16 apart: |p (p - 1)| 2**-35 relative error at most."""
    values = bases.astype(dtype)
    got = power(values, exponent)
    assert got.dtype == np.float64 and got.shape == values.shape
    bound = abs(exponent * (exponent - 1)) * 2.0**-35 + 1e-14
    assert relative_error(got, reference(values.astype(np.float64), exponent)) < bound


def test_squares_of_powers_of_two_are_exact() -> None:
    assert power(np.array([1.0, 0.5, 0.25, 2.0**-20]), 2.0).tolist() == [1.0, 0.25, 0.0625, 2.0**-40]


def test_zero_minus_zero_and_subnormals_give_zero_and_shapes_survive() -> None:
    images = np.zeros((2, 3, 4), np.float32)
    images[0, 0] = [-0.0, 1e-40, 1.0, 0.5]
    out = power(images, 2.2)
    assert out.shape == (2, 3, 4) and out[0, 0].tolist() == [0.0, 0.0, 1.0, pytest.approx(0.5**2.2, rel=1e-12)]
    assert power(np.array([5e-324]), 1 / 2.2).tolist() == [0.0]


def test_a_negative_base_is_refused() -> None:
    with pytest.raises(ValueError, match=r"base must be >= 0, got values down to -0\.25"):
        power(np.array([0.5, -0.25]), 2.2)


def test_a_non_contiguous_view_gives_what_its_copy_gives(bases) -> None:
    grid = bases[:20_000].reshape(100, 200)
    np.testing.assert_array_equal(power(grid[:, ::3], 2.2), power(np.ascontiguousarray(grid[:, ::3]), 2.2))
