"""Dead-leaves scenes: deterministic, scale-invariant like photographs, and used by training only."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from srnlab.cli.synth import main
from srnlab.data.synth import RECIPE_FILE, Recipe, synthesize_dataset
from srnlab.data.synth.dead_leaves import SIZE, _power_law_radii, dead_leaves_image, dead_leaves_names
from srnlab.errors import ConfigError


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    return dead_leaves_image("dead_leaves_0000")


def test_a_name_gives_the_same_image_and_another_name_another(scene) -> None:
    assert scene.shape == (*SIZE, 3) and scene.dtype == np.float32
    assert scene.min() >= 0.0 and scene.max() <= 1.0
    np.testing.assert_array_equal(dead_leaves_image("dead_leaves_0000"), scene)
    assert np.abs(dead_leaves_image("dead_leaves_0001") - scene).mean() > 0.1


def test_radii_follow_the_inverse_cube_law() -> None:
    """For density r^-3 on [a, b], P(r > x) = (x^-2 - b^-2) / (a^-2 - b^-2): check it at a few x."""
    low, high = 3.0, 300.0
    radii = _power_law_radii(np.random.default_rng(0), 200_000, low, high)
    assert low <= radii.min() and radii.max() <= high
    for x in (4.0, 10.0, 50.0):
        expected = (x**-2 - high**-2) / (low**-2 - high**-2)
        assert np.mean(radii > x) == pytest.approx(expected, rel=0.05)


def test_the_power_spectrum_falls_like_a_photographs(scene) -> None:
    """Photographs have power spectra falling as 1/f^a with a near 2 (Field 1987; the packaged photos
    measure 2.5 to 2.9) and white noise has a = 0; a dead-leaves image with r^-3 radii falls like a photo.
    The slope is fitted over mid frequencies."""
    grey = scene.mean(axis=2)
    power = np.abs(np.fft.fftshift(np.fft.fft2(grey - grey.mean()))) ** 2
    fy, fx = np.meshgrid(*(np.fft.fftshift(np.fft.fftfreq(n)) for n in grey.shape), indexing="ij")
    radius = np.hypot(fy, fx)
    bands = np.geomspace(0.01, 0.2, 12)
    centres = np.sqrt(bands[:-1] * bands[1:])
    means = [power[(radius >= lo) & (radius < hi)].mean() for lo, hi in itertools.pairwise(bands)]
    slope = np.polyfit(np.log(centres), np.log(means), 1)[0]
    assert -3.0 < slope < -1.8


def test_dead_leaves_train_only_and_old_recipes_stay_valid(tmp_path) -> None:
    assert Recipe().to_json()["extra_training_names"] == []  # sets made before the option stay up to date
    with pytest.raises(ConfigError, match="dead_leaves=-1"):
        Recipe(dead_leaves=-1)
    out = tmp_path / "set"
    synthesize_dataset(out, Recipe(6, 2, 0, (48, 64), dead_leaves=2), progress=False)
    train = sorted(p.name for p in (out / "train").iterdir())
    assert [name for name in train if "dead_leaves" in name] == [f"SYN_{n}" for n in dead_leaves_names(2)]
    assert not any("dead_leaves" in p.name for p in (out / "test").iterdir())
    assert json.loads((out / RECIPE_FILE).read_text())["extra_training_names"] == dead_leaves_names(2)


def test_srn_synth_takes_a_number_of_dead_leaves_scenes(tmp_path, capsys) -> None:
    out = tmp_path / "cli"
    main(["--out", str(out), "--n-train", "4", "--n-test", "2", "--size", "48", "64", "--dead-leaves", "1"])
    assert "wrote 6 pairs" in capsys.readouterr().out
    assert (out / "train" / "SYN_dead_leaves_0000" / "sharp" / "000001.png").is_file()
