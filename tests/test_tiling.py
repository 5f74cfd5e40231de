"""Tiled inference: tile plans, seamless blending, the memory-based tile size and the `srn-deblur` options."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from srnlab.cli.deblur import main
from srnlab.config import compose_config
from srnlab.image_io import read_image, to_uint8
from srnlab.infer import tiling
from srnlab.infer.photos import OptionError, deblur_files
from srnlab.infer.tiling import (
    MIN_AUTO_TILE,
    TILE_MULTIPLE,
    activation_bytes_per_pixel,
    auto_tile,
    axis_spans,
    axis_weights,
    deblur_tiled,
    full_resolution_channels,
    plan_tiles,
)
from srnlab.lit.module import DeblurModule

SMOKE_EDRB3 = ["experiment=table1/sr_edrb3", "profile=smoke"]  # a quarter of the channels: 8 at full resolution


@pytest.fixture(scope="module")
def smoke_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return instantiate(compose_config("train", SMOKE_EDRB3).model.net).eval()


@pytest.fixture(scope="module")
def untrained_checkpoint(tmp_path_factory) -> Path:
    """A smoke-width SR-EDRB3 at its initial weights, saved as srn-train saves a trained one."""
    torch.manual_seed(0)
    module = DeblurModule.from_config(compose_config("train", SMOKE_EDRB3))
    path = tmp_path_factory.mktemp("tiling") / "untrained.ckpt"
    state = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams)}
    torch.save({**state, "pytorch-lightning_version": pl.__version__}, path)
    return path


@pytest.mark.parametrize("height, width", [(1, 1), (17, 33), (64, 64), (65, 64), (200, 300), (301, 97), (1000, 37)])
@pytest.mark.parametrize("tile, overlap", [(64, 16), (128, 96), (928, 64)])
def test_tiles_cover_every_pixel_and_stay_inside_the_image(height, width, tile, overlap) -> None:
    covered = np.zeros((height, width), dtype=int)
    for top, left, h, w in plan_tiles(height, width, tile, overlap):
        assert top >= 0 and left >= 0 and top + h <= height and left + w <= width
        assert top % TILE_MULTIPLE == 0 and left % TILE_MULTIPLE == 0  # on the whole image's sampling grid
        covered[top : top + h, left : left + w] += 1
    assert covered.min() >= 1
    for size in (height, width):
        spans = axis_spans(size, tile, overlap)
        assert spans[-1][0] + spans[-1][1] == size  # the last tile is flush with the border
        assert all(length < tile + TILE_MULTIPLE for _, length in spans)
        assert all(s + n - t >= overlap for (s, n), (t, _) in itertools.pairwise(spans))


def test_an_overlap_as_large_as_the_tile_is_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        plan_tiles(100, 100, 64, 64)


@pytest.mark.parametrize("size", [1, 100, 211, 3000])
def test_blending_weights_add_up_to_one_at_every_pixel(size) -> None:
    total = torch.zeros(size)
    for start, weights in axis_weights(size, 128, 64):
        assert weights.min() > 0
        total[start : start + len(weights)] += weights
    torch.testing.assert_close(total, torch.ones(size), rtol=0, atol=1e-6)


def test_a_pointwise_fn_comes_back_unchanged_from_the_tiles() -> None:
    """Blending is a partition of unity: equal up to float32 rounding (measured: at most 1.2e-7 off)."""
    image = torch.rand(1, 3, 150, 211, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(deblur_tiled(lambda t: t, image, 64, 16, progress=False), image, rtol=0, atol=1e-6)
    doubled = deblur_tiled(lambda t: 2 * t - 0.5, image, 48, 32, progress=False)
    torch.testing.assert_close(doubled, 2 * image - 0.5, rtol=0, atol=1e-6)
    levels = torch.randint(0, 256, (1, 3, 150, 211), generator=torch.Generator().manual_seed(1)) / 255.0
    same = deblur_tiled(lambda t: t, levels, 64, 16, progress=False)
    assert np.array_equal(to_uint8(same.numpy()), to_uint8(levels.numpy()))  # the 8-bit PNG is bit-identical


def test_tiled_network_output_matches_the_whole_image(smoke_net) -> None:
    """6 tiles (2 x 3, about 160x176 px) of a 200x300 image, generous overlap, untrained network (seed 0).

    An untrained network is far more sensitive to the cut at a tile's edge than a trained one (its output
    spans about -6..15 here, std 2.2). Measured: mean |diff| = 0.024 x std, max = 0.65 x std. Tiles off the
    16-px grid give 0.30 x std (max 5.3 x std) and tiles averaged without the ramp 0.14 x std (max 3.1 x
    std), so the bounds below catch both.
    """
    image = torch.rand(1, 3, 200, 300, generator=torch.Generator().manual_seed(1))
    assert len(plan_tiles(200, 300, 192, 96)) == 6
    with torch.inference_mode():
        whole = smoke_net(image)[-1]
        tiled = deblur_tiled(lambda t: smoke_net(t)[-1], image, 192, 96, progress=False)
    diff, spread = (tiled - whole).abs(), whole.std()
    assert diff.mean() < 0.05 * spread
    assert diff.max() < spread


def test_fn_must_keep_the_tile_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        deblur_tiled(lambda t: t[..., :-1], torch.zeros(1, 3, 100, 100), 64, 16, progress=False)


def test_the_memory_estimate_reads_the_width_from_the_network(smoke_net) -> None:
    full = instantiate(compose_config("train", [*SMOKE_EDRB3, "model.net.width_mult=1.0"]).model.net)
    assert full_resolution_channels(smoke_net) == 8 and full_resolution_channels(full) == 32
    assert activation_bytes_per_pixel(full) == 2 * activation_bytes_per_pixel(full, torch.bfloat16) == 1664


def test_auto_tile_is_none_when_the_image_fits_else_the_largest_tile_that_fits(smoke_net, monkeypatch) -> None:
    budget = 100 * 2**20
    monkeypatch.setattr(tiling, "memory_budget", lambda device, reserved=0: budget)
    per_pixel = activation_bytes_per_pixel(smoke_net)
    cpu = torch.device("cpu")
    assert auto_tile(300, 400, smoke_net, cpu) is None
    tile = auto_tile(3000, 4000, smoke_net, cpu)
    assert tile % TILE_MULTIPLE == 0 and tile >= MIN_AUTO_TILE
    assert tile**2 * per_pixel <= budget < (tile + TILE_MULTIPLE) ** 2 * per_pixel
    monkeypatch.setattr(tiling, "memory_budget", lambda device, reserved=0: 0)
    assert auto_tile(3000, 4000, smoke_net, cpu) == MIN_AUTO_TILE


def test_the_cpu_budget_keeps_the_process_under_the_cap() -> None:
    assert tiling.available_cpu_bytes() > 0
    budget = tiling.memory_budget(torch.device("cpu"), reserved=10**8)
    assert 0 <= budget <= tiling.CPU_PEAK_BYTES - tiling.resident_bytes() - 10**8 + 2**20


def _write_png(path: Path, height: int, width: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8))
    return path


def test_cli_tiles_and_writes_an_image_of_the_input_size(untrained_checkpoint, tmp_path, capsys) -> None:
    photo = _write_png(tmp_path / "in" / "odd.png", 150, 211)
    args = ["--ckpt", str(untrained_checkpoint), "--out", str(tmp_path / "out"), "--device", "cpu"]
    main([*args, "--tile", "64", "--overlap", "16", "--precision", "32", str(photo)])
    out = capsys.readouterr()
    written = cv2.imread(str(tmp_path / "out" / "odd_deblurred.png"), cv2.IMREAD_UNCHANGED)
    assert written.shape == (150, 211, 3)
    assert "precision 32-true on cpu (set explicitly)" in out.err
    assert "odd.png (211x150) in 12 tiles of up to 70x67 px" in out.err
    assert str(tmp_path / "out" / "odd_deblurred.png") in out.out


def test_deblur_files_keeps_its_signature_and_tiles_on_request(untrained_checkpoint, tmp_path) -> None:
    photo = _write_png(tmp_path / "in" / "photo.png", 160, 224)
    tiled = deblur_files(untrained_checkpoint, [photo], tmp_path / "tiled", "cpu", tile=128, overlap=64)[0][0]
    whole = deblur_files(untrained_checkpoint, [photo], tmp_path / "whole", "cpu", tile=0)[0][0]
    assert tiled.name == whole.name == "photo_deblurred.png"
    assert read_image(tiled).shape == read_image(whole).shape == (160, 224, 3)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--tile", "64", "--overlap", "64"], "--overlap (64 px) must be smaller than --tile (64 px)"),
        (["--tile", "100"], "argument --tile: expected auto, 0 or a multiple of 16, got '100'"),
        (["--overlap", "-8"], "argument --overlap: expected a number of pixels"),
        (["--precision", "16"], "argument --precision: invalid choice"),
    ],
)
def test_bad_tiling_options_are_clear_errors(options, message, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--ckpt", str(tmp_path / "never_read.ckpt"), *options, str(tmp_path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_deblur_files_refuses_a_tile_off_the_grid_before_reading_the_checkpoint(tmp_path) -> None:
    with pytest.raises(OptionError, match="--tile must be auto, 0 or a multiple of 16, got 100"):
        deblur_files(tmp_path / "never_read.ckpt", [tmp_path], tmp_path / "out", tile=100)


def test_real_photos_of_odd_sizes_come_back_whole_from_tiles(realdata, untrained_checkpoint, tmp_path) -> None:
    photos = sorted(p for p in (realdata / "photos").iterdir() if p.suffix in (".png", ".jpg"))
    written, failed, _ = deblur_files(untrained_checkpoint, photos, tmp_path, "cpu", tile=384, overlap=64)
    assert not failed and len(written) == len(photos)
    for photo, out in zip(photos, written, strict=True):
        assert read_image(out).shape == (*read_image(photo).shape[:2], 3), photo.name
