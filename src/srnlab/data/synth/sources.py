"""The sharp photographs a synthetic set is made from, and which of them are held out for testing: the colour
photographs inside scikit-image's wheel (no download), more packaged photos for training only, or a folder
of the user's own. Each photo becomes one sequence of one split, never both, so the test set measures
deblurring of unseen scenes."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from srnlab.data.synth.dead_leaves import dead_leaves_image, is_dead_leaves
from srnlab.errors import ConfigError
from srnlab.image_io import IMAGE_SUFFIXES, read_image


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        image = getattr(data, name)()
        image = image[0] if isinstance(image, tuple) else image  # stereo_motorcycle -> (left, right, disparity)
        return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image

    return load


def _matplotlib(file: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from matplotlib import cbook

        return cv2.cvtColor(cv2.imread(str(cbook.get_sample_data(file, asfileobj=False))), cv2.COLOR_BGR2RGB)

    return load


# The real colour photographs inside scikit-image's wheel (no download needed). Left out: cat (= chelsea),
# the right motorcycle view (nearly the left one: it would leak a scene across splits), the retina fundus
# photo (so smooth that even the strongest allowed motion often stays above 31 dB), synthetic and grayscale
# images.
SKIMAGE_SOURCES: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "hubble_deep_field": _skimage("hubble_deep_field"),
    "immunohistochemistry": _skimage("immunohistochemistry"),
    "motorcycle": _skimage("stereo_motorcycle"),
    "rocket": _skimage("rocket"),
}

# More sharp photographs inside installed packages, for training only (`extra_training_photos`): they widen
# the scenes a network learns from while the held-out test photos stay the default set's. Grace Hopper's
# portrait (matplotlib's sample data) and scikit-image's grayscale photographs (the cameraman, coins, and the
# brick, grass and gravel textures; channels replicated). Left out: page and text (documents), clock_motion
# (already motion-blurred), the moon (too flat to reach the PSNR band), cell and the synthetic images.
EXTRA_TRAINING_SOURCES: dict[str, Callable[[], np.ndarray]] = {
    "grace_hopper": _matplotlib("grace_hopper.jpg"),
    **{name: _skimage(name) for name in ("camera", "coins", "brick", "grass", "gravel")},
}


def source_names(sources: str | Path | None) -> list[str]:
    """Names of the source photos: scikit-image's bundled ones for None, else the image files' stems in a folder."""
    return list(SKIMAGE_SOURCES) if sources is None else list(_source_files(Path(sources)))


def _source_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"sources folder {folder} does not exist; point --sources at a folder of sharp photos.")
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
            name = "".join(c if c.isalnum() or c in "-_" else "_" for c in path.stem)
            if name in files:
                raise ConfigError(f"{path} and {files[name]} give the same sequence name {name!r}; rename one.")
            files[name] = path
    return files


def load_source(sources: str | Path | None, name: str) -> np.ndarray:
    """The float32 H x W x 3 photo `name`: a packaged one, a dead-leaves scene, or a file in `sources`."""
    files = {} if sources is None else _source_files(Path(sources))  # a file of the same name comes first
    if is_dead_leaves(name) and name not in files:
        return dead_leaves_image(name)
    if sources is None or (name in EXTRA_TRAINING_SOURCES and name not in files):
        return {**SKIMAGE_SOURCES, **EXTRA_TRAINING_SOURCES}[name]().astype(np.float32) / np.float32(255.0)
    return read_image(files[name])


def split_sources(names: Sequence[str], n_train: int, n_test: int) -> tuple[list[str], list[str]]:
    """Split source photos between train and test, every photo in exactly one split.

    Photos are ordered by a CRC-32 of their name (a fixed shuffle, so that alphabetical runs of similar
    photos spread over both splits) and the first ones go to test, in proportion to n_test rounded up, at
    least one per split. The seed plays no part: a new seed gives new crops and blur of the same test scenes.
    For scikit-image's photos this puts the busy motorcycle and coffee scenes in test.
    """
    if len(names) < 2:
        raise ConfigError(f"need at least 2 source photos for disjoint train and test scenes, got {len(names)}.")
    ordered = sorted(names, key=lambda name: (zlib.crc32(name.encode()), name))
    n_test_sources = min(max(math.ceil(len(names) * n_test / max(n_train + n_test, 1)), 1), len(names) - 1)
    return sorted(ordered[n_test_sources:]), sorted(ordered[:n_test_sources])
