"""The synthetic blur generator: realistic strength, exact ground truth, determinism, disjoint splits."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from srnlab.cli.synth import main
from srnlab.config import compose_config
from srnlab.data.gopro import GoProPairs
from srnlab.data.synth import (
    RECIPE_FILE,
    SKIMAGE_SOURCES,
    BlurSynthesizer,
    Recipe,
    psnr,
    read_recipe,
    split_sources,
    synthesize_dataset,
)
from srnlab.image_io import read_image, to_uint8, write_image

SMALL = {"n_train": 4, "n_test": 2, "seed": 0, "size": (64, 96), "progress": False}


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def astronaut() -> np.ndarray:
    return skdata.astronaut().astype(np.float32) / 255


@pytest.fixture(scope="module")
def default_set(tmp_path_factory) -> tuple[Path, dict[str, float]]:
    """A small set with the default recipe's frame size and blur settings."""
    root = tmp_path_factory.mktemp("synth") / "default"
    return root, synthesize_dataset(root, n_train=10, n_test=4, seed=0, progress=False)


def test_blur_strength_is_gopro_like(default_set) -> None:
    root, scores = default_set
    assert len(scores) == 14
    for name, score in scores.items():
        split, sequence, stem = name.split("/")
        blur = read_image(root / split / sequence / "blur" / f"{stem}.png")
        sharp = read_image(root / split / sequence / "sharp" / f"{stem}.png")
        assert blur.shape == (256, 320, 3)
        measured = psnr(to_uint8(blur), to_uint8(sharp))
        assert measured == pytest.approx(score)  # what render() reported is what the files hold
        assert 20.0 <= measured <= 32.0, name


def test_the_set_reads_as_gopro(default_set) -> None:
    root, scores = default_set
    for split in ("train", "test"):
        for blur in ("blur", "blur_gamma"):
            dataset = GoProPairs(root, split, blur)
            assert sorted(f"{split}/{pair.name}" for pair in dataset.pairs) == sorted(
                name for name in scores if name.startswith(split)
            )
    assert read_recipe(root) == Recipe(n_train=10, n_test=4, seed=0).to_json()


def test_train_and_test_photos_are_disjoint(default_set) -> None:
    root, _ = default_set
    train = {p.name for p in (root / "train").iterdir()}
    test = {p.name for p in (root / "test").iterdir()}
    assert train and test and not train & test
    train_names, test_names = split_sources(list(SKIMAGE_SOURCES), 96, 24)
    assert sorted(train_names + test_names) == sorted(SKIMAGE_SOURCES) and not set(train_names) & set(test_names)
    many = [f"photo{i}" for i in range(40)]
    train_names, test_names = split_sources(many, 80, 20)
    assert len(test_names) == 8 and len(train_names) == 32 and split_sources(many[::-1], 80, 20)[1] == test_names


@pytest.mark.parametrize("object_probability", [0.0, 1.0])
def test_sharp_is_the_source_warped_to_the_middle_pose(object_probability: float) -> None:
    synth = BlurSynthesizer(size=(96, 128), object_probability=object_probability)
    pair = synth.render(astronaut(), np.random.default_rng(1))
    count = len(pair.poses)
    assert count % 2 == 1 and 7 <= count <= 13
    middle = pair.poses[count // 2]
    np.testing.assert_array_equal(pair.sharp, synth.warp(pair.source, middle))
    # the middle pose is an exact crop: no interpolation softens the ground truth
    assert middle.angle == 0 and middle.scale == 1
    top, left = int(middle.y - (96 - 1) / 2), int(middle.x - (128 - 1) / 2)
    np.testing.assert_array_equal(pair.sharp, pair.source[top : top + 96, left : left + 128])
    frames = np.stack([synth.warp(pair.source, pose) for pose in pair.poses])
    if object_probability == 0:
        assert pair.moving_object is None
        np.testing.assert_allclose(pair.blur, frames.mean(axis=0), atol=1e-6)
        np.testing.assert_allclose(pair.blur_gamma, np.mean(frames**2.2, axis=0) ** (1 / 2.2), atol=1e-5)
    else:  # away from everywhere the object passes, the blur is the camera's alone
        touched = np.zeros(pair.sharp.shape[:2], np.uint8)
        for dx, dy in pair.moving_object.path:
            touched |= np.roll(pair.moving_object.mask > 0, (round(dy), round(dx)), axis=(0, 1))
        outside = cv2.dilate(touched, np.ones((5, 5), np.uint8)) == 0  # 2 px for sub-pixel shifts
        assert outside.mean() > 0.2
        np.testing.assert_allclose(pair.blur[outside], frames.mean(axis=0)[outside], atol=1e-6)
        assert np.abs(pair.blur - frames.mean(axis=0)).max() > 0.05  # the object moves on its own


@pytest.mark.parametrize(("acceleration", "jerk", "straight"), [(0.0, 0.0, True), (0.7, 0.0, False), (0.0, 0.5, False)])
def test_acceleration_and_jerk_bend_the_camera_path(acceleration: float, jerk: float, straight: bool) -> None:
    camera_only = {"rotation": 0.0, "zoom": 0.0, "object_probability": 0.0}
    synth = BlurSynthesizer(size=(64, 80), acceleration=acceleration, jerk=jerk, **camera_only)
    pair = synth.render(astronaut(), np.random.default_rng(5))
    steps = np.diff([(pose.x, pose.y) for pose in pair.poses], axis=0)
    deviation = np.abs(steps - steps[0]).max() / np.linalg.norm(steps[0])
    assert bool(deviation < 1e-9) is straight, deviation  # equal steps: a straight line at constant speed


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    synthesize_dataset(tmp_path / "a", **SMALL)
    synthesize_dataset(tmp_path / "b", **SMALL)
    synthesize_dataset(tmp_path / "c", **{**SMALL, "seed": 1})
    first = files_of(tmp_path / "a")
    assert len(first) == 6 * 3 + 1
    assert first == files_of(tmp_path / "b")
    other = files_of(tmp_path / "c")
    assert other.keys() == first.keys() and other != first


def test_own_photos_small_ones_upscaled(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name, shape in (("beach.png", (40, 50)), ("city.jpg", (300, 400)), ("forest 1.png", (120, 90))):
        image = rng.random((*shape, 3), dtype=np.float32)
        if name.endswith(".jpg"):
            cv2.imwrite(str(photos / name), to_uint8(image))
        else:
            write_image(photos / name, image)
    (photos / "readme.txt").write_text("not a photo")
    scores = synthesize_dataset(tmp_path / "out", sources=photos, **SMALL)
    sequences = {name.split("/")[1] for name in scores}
    assert sequences == {"SYN_beach", "SYN_city", "SYN_forest_1"}
    assert read_recipe(tmp_path / "out")["sources"] == str(photos.resolve())
    assert len(GoProPairs(tmp_path / "out", "train")) == 4


def test_never_replaces_a_folder_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("...")
    with pytest.raises(FileExistsError, match=str(precious)):
        synthesize_dataset(precious, overwrite=True, **SMALL)
    assert (precious / "thesis.tex").exists()


def test_interrupted_generation_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    calls = []

    def failing_render(self, source, rng):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, source, rng)

    original = BlurSynthesizer.render
    monkeypatch.setattr(BlurSynthesizer, "render", failing_render)
    with pytest.raises(KeyboardInterrupt):
        synthesize_dataset(tmp_path / "set", **SMALL)
    assert list(tmp_path.iterdir()) == []


def test_cli(tmp_path: Path, capsys) -> None:
    args = ["--out", str(tmp_path / "cli"), "--n-train", "2", "--n-test", "1", "--size", "64", "80", "--seed", "3"]
    main(args)
    assert "wrote 3 pairs" in capsys.readouterr().out
    recipe = json.loads((tmp_path / "cli" / RECIPE_FILE).read_text())
    assert recipe["synthesizer"]["size"] == [64, 80] and recipe["seed"] == 3
    main(args)
    assert "nothing to do" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "x"), "--sources", str(tmp_path / "no_such_folder")])
    assert "no_such_folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "tiny"), "--size", "4", "4"])
    assert exit_info.value.code == 2 and not (tmp_path / "tiny").exists()
    assert capsys.readouterr().err == (
        "srn-synth: error: BlurSynthesizer: size must be (height, width) of at least 8 pixels, got (4, 4).\n"
    )


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="frames"):
        BlurSynthesizer(frames=(8, 8))
    with pytest.raises(ValueError, match="at least 2 source photos"):
        split_sources(["only"], 1, 1)
    with pytest.raises(ValueError, match="n_train"):
        Recipe(n_train=0, n_test=0)
    with pytest.raises(ValueError, match=r"acceleration=-0\.1"):
        BlurSynthesizer(acceleration=-0.1)


def set_digest(out: Path) -> str:
    """SHA-256 over every PNG's path and bytes."""
    sha = hashlib.sha256()
    for path in sorted(out.rglob("*.png")):
        sha.update(str(path.relative_to(out)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


@pytest.mark.parametrize(
    ("extra", "digest"),
    [
        (False, "3286653f0ecccae25dd74b30b03fdae342b80fb00fc15e0da055a16a50ddef9b"),
        (True, "37990f1c9696f98b2922a20a99926149f580f8b6f36a6c8535308605fc0ecc7a"),
    ],
)
def test_the_same_recipe_gives_the_same_bytes_on_every_machine(tmp_path, extra, digest) -> None:
    """One digest per recipe, whatever the CPU: recorded on an AVX2 machine before the synth package was split
    up, and since generator version 2 the same on AVX-512 ones (version 1 gave another there)."""
    out = tmp_path / "set"
    synthesize_dataset(out, Recipe(14, 4, 3, (48, 64), extra_training_photos=extra), progress=False)
    assert set_digest(out) == digest


# The recipe is the digest test's: under generator version 1 numpy's AVX-512 power moved one of its pixels.
RENDER_AND_DIGEST = """
import hashlib, sys
from pathlib import Path
from numpy._core._multiarray_umath import __cpu_features__
from srnlab.data.synth import Recipe, synthesize_dataset
from srnlab.data.synth.dead_leaves import dead_leaves_image
from test_data_synth import set_digest
synthesize_dataset(Path(sys.argv[1]), Recipe(14, 4, 3, (48, 64)), progress=False)
print(set_digest(Path(sys.argv[1])), hashlib.sha256(dead_leaves_image("dead_leaves_0000").tobytes()).hexdigest())
print(",".join(name for name in sys.argv[2:] if __cpu_features__[name]))
"""


def test_the_set_does_not_depend_on_numpys_or_opencvs_vector_kernels(tmp_path) -> None:
    """This project's CPUs differ in their vector extensions (AVX2 only, or AVX-512 too), and numpy and OpenCV
    pick kernels by them at import. A child process with every numpy kernel above numpy's baseline and
    OpenCV's AVX-512 ones switched off renders the same bytes as this process: on an AVX-512 machine that is
    an AVX2 machine's run. (OpenCV's AVX2 kernels stay on: every machine here has AVX2, and OpenCV's
    SSE-only kernels give other bits.)"""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    dispatched = [name for name in __cpu_dispatch__ if __cpu_features__[name]]
    if not dispatched:
        pytest.skip("numpy runs only its baseline kernels on this CPU: there is nothing to switch off")
    as_it_is = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    }
    switched_off = as_it_is | {
        "NPY_DISABLE_CPU_FEATURES": ",".join(dispatched),
        "OPENCV_CPU_DISABLE": "AVX512F,AVX512-SKX,AVX512-COMMON",
    }
    runs = {}
    for name, env in (("as it is", as_it_is), ("switched off", switched_off)):
        proc = subprocess.run(
            [sys.executable, "-c", RENDER_AND_DIGEST, str(tmp_path / name), *dispatched],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[name] = proc.stdout.split("\n")
    assert runs["as it is"][1] == ",".join(dispatched) and runs["switched off"][1] == "", "the switch took"
    assert runs["switched off"][0] == runs["as it is"][0]


def test_the_data_config_states_the_recipe_defaults() -> None:
    stated = compose_config("train", []).data.synthesize
    default = Recipe()
    assert (stated.n_train, stated.n_test, stated.seed, tuple(stated.size)) == (
        default.n_train, default.n_test, default.seed, default.size
    )  # fmt: skip
    assert stated.sources is None and stated.extra_training_photos is default.extra_training_photos
    assert stated.dead_leaves == default.dead_leaves
    assert Recipe.of(**stated).to_json() == Recipe().to_json()
