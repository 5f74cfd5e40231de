"""A synthetic GOPRO-style blur dataset, made offline from sharp photographs.

GOPRO_Large makes a blurry frame by averaging 7-13 consecutive sharp frames of a 240 fps video and takes the
middle one as ground truth. We imitate that with still photos: a random smooth camera trajectory
(translation, in-plane rotation, a little zoom) over the exposure gives 7-13 sub-frames, each a warp of the
photo; optionally an object region moves on a path of its own (spatially varying blur). `blur` is the plain
average of the sub-frames, `blur_gamma` the average taken after inverting a gamma-2.2 camera response, and
`sharp` is the middle sub-frame, an exact crop of the photo. The result is written in the GOPRO_Large
layout, so `GoProPairs` reads it unchanged and a model trained on it runs on real GOPRO data as is.

Sources are the colour photographs shipped inside scikit-image's wheel (no download) or a folder of the
user's own sharp photos. Each photo becomes one sequence of one split, never both, so the test set measures
deblurring of unseen scenes.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from srnlab.data.images import IMAGE_SUFFIXES, read_image, to_uint8, write_image
from srnlab.errors import UserError

GENERATOR_VERSION = 1  # bump whenever rendering changes, so that DataModules regenerate stale sets
RECIPE_FILE = "recipe.json"
SPLITS = ("train", "test")
GAMMA = 2.2  # the camera response GOPRO_Large's blur_gamma inverts


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


@dataclass(frozen=True)
class Pose:
    """Where one sub-frame looks in the source photo.

    Output pixel p (x right, y down) shows source point `(x, y) + scale * R(angle) @ (p - output centre)`.
    """

    x: float
    y: float
    angle: float = 0.0  # radians
    scale: float = 1.0  # source pixels per output pixel


@dataclass(frozen=True)
class MovingObject:
    """A soft-edged elliptical region of the sharp frame that moves on a path of its own during the exposure.

    At the middle sub-frame it sits where it belongs, so `sharp` stays an untouched crop of the photo; only
    the blurry images show it moving differently from the background.
    """

    mask: np.ndarray  # H x W float32 in [0, 1], at the middle sub-frame
    path: np.ndarray  # K x 2 image-plane displacement in pixels per sub-frame, zero at the middle one


@dataclass(frozen=True)
class SynthPair:
    """One rendered pair with everything needed to check it: float32 H x W x 3 images in [0, 1]."""

    blur: np.ndarray
    blur_gamma: np.ndarray
    sharp: np.ndarray
    source: np.ndarray  # the photo as rescaled for this pair: the poses refer to its pixels
    poses: tuple[Pose, ...]  # the camera trajectory, one pose per sub-frame; the middle one made `sharp`
    moving_object: MovingObject | None
    psnr: float  # PSNR(blur, sharp) in dB after 8-bit quantisation, as the files on disk will measure


@dataclass(frozen=True)
class _Scene:
    """The random draws of one pair, before the blur strength (`gain`) is fixed."""

    source: np.ndarray
    centre: Pose  # the middle sub-frame: integer offset, no rotation, unit scale
    translation: np.ndarray  # K x 2, pixels, path length `path_length[0]`...`[1]`
    rotation: np.ndarray  # K, radians
    log_scale: np.ndarray  # K
    moving_object: MovingObject | None
    max_gain: float  # the strongest motion the source margin allows


@dataclass(frozen=True)
class BlurSynthesizer:
    """Renders GOPRO-style blurry/sharp pairs from a sharp photo.

    The blur strength is drawn per pair (`path_length`); when a pair's PSNR(blur, sharp) falls outside
    `psnr_range` (flat photo regions hardly change under motion, busy ones a lot), the motion is scaled up
    or down until it lands inside, trying a new crop if even the strongest allowed motion cannot. The
    default band, 21-31 dB, brackets the real GOPRO pairs we have (24.05 and 25.11 dB).

    Args:
        size: output (height, width) in pixels.
        frames: inclusive range of sub-frame counts (GOPRO_Large: 7-13); only odd counts are drawn so that
            the middle sub-frame lies exactly at mid-exposure.
        path_length: range of the camera's translation path over the exposure in output pixels,
            drawn log-uniformly.
        rotation: largest in-plane rotation, as the arc its image corners travel relative to the path length.
        zoom: largest zoom, as the radial distance its corners travel relative to the path length.
        object_probability: chance that a pair has an independently moving object.
        object_size: range of the object's semi-axes as fractions of the shorter image side.
        psnr_range: target band of PSNR(blur, sharp) in dB.
    """

    size: tuple[int, int] = (256, 320)
    frames: tuple[int, int] = (7, 13)
    path_length: tuple[float, float] = (5.0, 32.0)
    rotation: float = 0.3
    zoom: float = 0.15
    object_probability: float = 0.5
    object_size: tuple[float, float] = (0.12, 0.3)
    psnr_range: tuple[float, float] = (21.0, 31.0)

    def __post_init__(self) -> None:
        # configs and JSON hand over lists; store tuples so that recipes compare and hash reliably
        for name, kind in (("size", int), ("frames", int), ("path_length", float), ("object_size", float)):
            object.__setattr__(self, name, tuple(kind(v) for v in getattr(self, name)))
        object.__setattr__(self, "psnr_range", tuple(float(v) for v in self.psnr_range))
        low, high = self.frames
        if min(self.size) < 8 or len(self.size) != 2:
            raise ValueError(f"BlurSynthesizer: size must be (height, width) of at least 8 pixels, got {self.size}.")
        if not 1 <= low <= high or not any(k % 2 for k in range(low, high + 1)):
            raise ValueError(f"BlurSynthesizer: frames={self.frames} must be a range containing an odd count.")
        if not 0 < self.path_length[0] <= self.path_length[1]:
            raise ValueError(f"BlurSynthesizer: path_length={self.path_length} must be 0 < low <= high pixels.")
        if not 0 <= self.object_probability <= 1:
            raise ValueError(f"BlurSynthesizer: object_probability={self.object_probability} must lie in [0, 1].")
        if not self.psnr_range[0] < self.psnr_range[1]:
            raise ValueError(f"BlurSynthesizer: psnr_range={self.psnr_range} must be (low, high) with low < high.")

    @property
    def max_path_length(self) -> float:
        """The longest path (camera or object) the PSNR fitting may stretch a motion to."""
        return 2.0 * self.path_length[1]

    @property
    def margin(self) -> int:
        """Source pixels needed around the output window so that no sub-frame samples outside the photo."""
        return math.ceil(self.max_path_length * (1.0 + self.rotation + self.zoom)) + 3  # +3: bicubic support

    def render(self, source: np.ndarray, rng: np.random.Generator) -> SynthPair:
        """Render one pair from a float32 H x W x 3 photo in [0, 1], drawing every random choice from `rng`."""
        low, high = self.psnr_range
        for _ in range(4):  # a crop flat enough to defeat the strongest motion is rare; retry a few times
            pair = self._fit_gain(self._sample_scene(source, rng))
            if low <= pair.psnr <= high:
                break
        return pair

    def warp(self, source: np.ndarray, pose: Pose) -> np.ndarray:
        """The sub-frame the camera sees at `pose`: a bicubic affine warp of `source`, clipped to [0, 1].

        At an integer-offset pose with no rotation and unit scale this is an exact crop of `source`.
        """
        height, width = self.size
        cos, sin = math.cos(pose.angle) * pose.scale, math.sin(pose.angle) * pose.scale
        ox, oy = (width - 1) / 2, (height - 1) / 2
        matrix = np.array([[cos, -sin, pose.x - cos * ox + sin * oy], [sin, cos, pose.y - sin * ox - cos * oy]])
        frame = cv2.warpAffine(
            source,
            matrix,
            (width, height),
            flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT_101,
        )
        return np.clip(frame, 0.0, 1.0)

    def _sample_scene(self, source: np.ndarray, rng: np.random.Generator) -> _Scene:
        height, width = self.size
        margin = self.margin
        source = _rescale(source, height + 2 * margin, width + 2 * margin, rng)
        # the middle sub-frame: a window at an integer offset, `margin` inside the source, so `sharp` is a crop
        x0 = int(rng.integers(margin, source.shape[1] - width - margin + 1))
        y0 = int(rng.integers(margin, source.shape[0] - height - margin + 1))
        centre = Pose(x0 + (width - 1) / 2, y0 + (height - 1) / 2)
        counts = [k for k in range(self.frames[0], self.frames[1] + 1) if k % 2]
        count = int(rng.choice(counts))
        times = (np.arange(count) - count // 2) / max(count - 1, 1)  # in [-0.5, 0.5], exactly 0 at the middle
        length = _log_uniform(rng, *self.path_length)
        radius = math.hypot(height - 1, width - 1) / 2  # centre-to-corner distance
        translation = length * _smooth_path(rng, times, 2)
        rotation = length * self.rotation * rng.uniform() / radius * _smooth_path(rng, times, 1)[:, 0]
        log_scale = length * self.zoom * rng.uniform() / radius * _smooth_path(rng, times, 1)[:, 0]
        moving_object = None
        longest = length
        if rng.uniform() < self.object_probability:
            object_length = _log_uniform(rng, *self.path_length)
            longest = max(longest, object_length)
            mask = _ellipse_mask(self.size, self.object_size, rng)
            moving_object = MovingObject(mask, object_length * _smooth_path(rng, times, 2))
        return _Scene(source, centre, translation, rotation, log_scale, moving_object, self.max_path_length / longest)

    def _fit_gain(self, scene: _Scene) -> SynthPair:
        """Scale the scene's motion by bisection until PSNR(blur, sharp) lies in `psnr_range`, or give up."""
        low, high = self.psnr_range
        gain, gain_low, gain_high = 1.0, 0.0, scene.max_gain
        for _ in range(10):
            pair = self._compose(scene, gain)
            if pair.psnr > high:  # too little blur
                gain_low = gain
            elif pair.psnr < low:
                gain_high = gain
            else:
                break
            gain = (gain_low + gain_high) / 2
        return pair

    def _compose(self, scene: _Scene, gain: float) -> SynthPair:
        poses = tuple(
            Pose(
                scene.centre.x + gain * dx,
                scene.centre.y + gain * dy,
                gain * angle,
                math.exp(gain * log_scale),
            )
            for (dx, dy), angle, log_scale in zip(scene.translation, scene.rotation, scene.log_scale, strict=True)
        )
        frames = [self.warp(scene.source, pose) for pose in poses]
        obj = scene.moving_object
        if obj is not None:
            obj = MovingObject(obj.mask, gain * obj.path)
            frames = [self._paste_object(frame, scene, obj, k) for k, frame in enumerate(frames)]
        stack = np.stack(frames)
        blur = stack.mean(axis=0)
        blur_gamma = np.mean(stack**GAMMA, axis=0) ** (1 / GAMMA)
        sharp = frames[len(frames) // 2]
        return SynthPair(blur, blur_gamma, sharp, scene.source, poses, obj, psnr(to_uint8(blur), to_uint8(sharp)))

    def _paste_object(self, frame: np.ndarray, scene: _Scene, obj: MovingObject, k: int) -> np.ndarray:
        """Composite the object, moved to sub-frame k, over that sub-frame with its moved soft mask."""
        dx, dy = obj.path[k]
        texture = self.warp(scene.source, Pose(scene.centre.x - dx, scene.centre.y - dy))
        shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
        mask = cv2.warpAffine(obj.mask, shift, (frame.shape[1], frame.shape[0]), flags=cv2.INTER_LINEAR)
        return frame + mask[..., None] * (texture - frame)  # exactly `frame` where the mask is 0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two uint8 images (inf if identical)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _smooth_path(rng: np.random.Generator, times: np.ndarray, dims: int) -> np.ndarray:
    """A random cubic path through 0 at t=0, sampled at `times` (len(times) x dims).

    A dominant linear motion in a random direction plus random curvature, like a hand-held camera over a
    few milliseconds. Normalised to unit path length over t in [-0.5, 0.5] (2-D) or unit peak (1-D).
    """
    direction = rng.normal(size=dims)
    direction /= np.linalg.norm(direction)
    coefficients = np.stack([direction, rng.normal(0.0, 0.7, dims), rng.normal(0.0, 0.5, dims)])

    def at(t: np.ndarray) -> np.ndarray:
        return np.stack([t, t**2, t**3], axis=1) @ coefficients

    dense = at(np.linspace(-0.5, 0.5, 129))
    size = np.linalg.norm(np.diff(dense, axis=0), axis=1).sum() if dims == 2 else np.abs(dense).max()
    return at(times) / size


def _ellipse_mask(size: tuple[int, int], axes: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    height, width = size
    centre = (int(rng.uniform(0.2, 0.8) * width), int(rng.uniform(0.2, 0.8) * height))
    semi_axes = tuple(max(1, int(rng.uniform(*axes) * min(size))) for _ in range(2))
    mask = np.zeros(size, np.float32)
    cv2.ellipse(mask, centre, semi_axes, float(rng.uniform(0, 180)), 0, 360, 1.0, thickness=-1, lineType=cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), 1.5)  # a soft edge, as a real object's boundary is never one pixel sharp


def _rescale(source: np.ndarray, min_height: int, min_width: int, rng: np.random.Generator) -> np.ndarray:
    """Resize the photo by a random factor between 'whole photo fits the window' and native resolution.

    A photo too small for the window plus margin is upscaled just enough; large ones are shown anywhere
    from their native detail to the whole scene, with area averaging so that downscaling does not alias.
    """
    height, width = source.shape[:2]
    fit = max(min_height / height, min_width / width)
    scale = fit if fit >= 1 else _log_uniform(rng, fit, 1.0)
    if scale == 1:
        return source
    new_size = (max(min_width, round(width * scale)), max(min_height, round(height * scale)))
    resized = cv2.resize(source, new_size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return np.clip(resized, 0.0, 1.0)


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
                raise ValueError(f"{path} and {files[name]} give the same sequence name {name!r}; rename one.")
            files[name] = path
    return files


def _load_source(sources: str | Path | None, name: str) -> np.ndarray:
    packaged = {**SKIMAGE_SOURCES, **EXTRA_TRAINING_SOURCES}
    if sources is None or (name in EXTRA_TRAINING_SOURCES and name not in _source_files(Path(sources))):
        return packaged[name]().astype(np.float32) / np.float32(255.0)
    return read_image(_source_files(Path(sources))[name])


def split_sources(names: Sequence[str], n_train: int, n_test: int) -> tuple[list[str], list[str]]:
    """Split source photos between train and test, every photo in exactly one split.

    Photos are ordered by a CRC-32 of their name (a fixed shuffle, so that alphabetical runs of similar
    photos spread over both splits) and the first ones go to test, in proportion to n_test rounded up, at
    least one per split. The seed plays no part: a new seed gives new crops and blur of the same test scenes.
    For scikit-image's photos this puts the busy motorcycle and coffee scenes in test.
    """
    if len(names) < 2:
        raise ValueError(f"need at least 2 source photos for disjoint train and test scenes, got {len(names)}.")
    ordered = sorted(names, key=lambda name: (zlib.crc32(name.encode()), name))
    n_test_sources = min(max(math.ceil(len(names) * n_test / max(n_train + n_test, 1)), 1), len(names) - 1)
    return sorted(ordered[n_test_sources:]), sorted(ordered[:n_test_sources])


def make_recipe(
    n_train: int = 96,
    n_test: int = 24,
    seed: int = 0,
    size: Sequence[int] = (256, 320),
    sources: str | Path | None = None,
    extra_training_photos: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Everything that determines a synthetic set, as stored in its recipe.json (JSON types only)."""
    if n_train < 0 or n_test < 0 or n_train + n_test == 0:
        raise ValueError(f"n_train={n_train}, n_test={n_test}: need non-negative counts, not both zero.")
    synthesizer = BlurSynthesizer(size=tuple(size), **options)
    recipe = {
        "generator_version": GENERATOR_VERSION,
        "n_train": int(n_train),
        "n_test": int(n_test),
        "seed": int(seed),
        "sources": None if sources is None else str(Path(sources).expanduser().resolve()),
        "source_names": source_names(sources),
        "extra_training_names": list(EXTRA_TRAINING_SOURCES) if extra_training_photos else [],
        "synthesizer": asdict(synthesizer),
    }
    return json.loads(json.dumps(recipe))  # tuples -> lists, as they come back from the file


def read_recipe(out_dir: str | Path) -> dict[str, Any] | None:
    """The recipe of the synthetic set in `out_dir`, or None if there is none (or it is unreadable)."""
    try:
        return json.loads((Path(out_dir) / RECIPE_FILE).read_text())
    except (OSError, ValueError):
        return None


def synthesize_dataset(
    out_dir: str | Path,
    n_train: int = 96,
    n_test: int = 24,
    seed: int = 0,
    size: Sequence[int] = (256, 320),
    sources: str | Path | None = None,
    extra_training_photos: bool = False,
    *,
    overwrite: bool = False,
    progress: bool = True,
    **options: Any,
) -> dict[str, float]:
    """Write a synthetic set in the GOPRO_Large layout and return PSNR(blur, sharp) per pair name.

    Layout: `<out_dir>/{train,test}/SYN_<photo>/{blur,blur_gamma,sharp}/NNNNNN.png` plus `recipe.json`.
    Pair i of a split uses the split's photo i mod (number of photos) and a random generator seeded by
    (seed, split, i): the same arguments give byte-identical files. The set is built in a temporary
    sibling folder and renamed into place, so an interrupted run never leaves a half-written set.

    Args:
        out_dir: the set's folder; an existing one is replaced only if `overwrite` and it holds a recipe.json
            (a folder that this function did not make is never deleted).
        n_train, n_test: number of pairs per split.
        seed: the random seed.
        size: (height, width) of the frames.
        sources: a folder of sharp photos, or None for scikit-image's bundled photographs.
        extra_training_photos: add EXTRA_TRAINING_SOURCES to the training split only (the test split keeps
            its photos).
        overwrite: replace an existing synthetic set.
        progress: show a progress bar.
        **options: further `BlurSynthesizer` fields (e.g. object_probability, psnr_range).
    """
    out_dir = Path(out_dir)
    recipe = make_recipe(n_train, n_test, seed, size, sources, extra_training_photos, **options)
    _check_replaceable(out_dir, overwrite)
    synthesizer = BlurSynthesizer(**recipe["synthesizer"])
    splits = dict(zip(SPLITS, split_sources(recipe["source_names"], n_train, n_test), strict=True))
    splits["train"] = sorted({*splits["train"], *recipe["extra_training_names"]})
    counts = {"train": n_train, "test": n_test}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    scores: dict[str, float] = {}
    try:
        with tqdm(total=n_train + n_test, desc=f"srn-synth {out_dir}", unit="pair", disable=not progress) as bar:
            for split_index, split in enumerate(SPLITS):
                names = splits[split]
                for source_index, name in enumerate(names):  # photo by photo: one photo in memory at a time
                    photo = _load_source(sources, name)
                    for i in range(source_index, counts[split], len(names)):
                        pair = synthesizer.render(photo, np.random.default_rng([seed, split_index, i]))
                        sequence = tmp / split / f"SYN_{name}"
                        file = f"{i // len(names) + 1:06d}.png"
                        for folder, image in (("blur", pair.blur), ("blur_gamma", pair.blur_gamma)):
                            write_image(sequence / folder / file, image)
                        write_image(sequence / "sharp" / file, pair.sharp)
                        scores[f"{split}/SYN_{name}/{file[:-4]}"] = pair.psnr
                        bar.update()
        (tmp / RECIPE_FILE).write_text(json.dumps(recipe, indent=2, sort_keys=True) + "\n")
        _install(tmp, out_dir, recipe)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    low, high = synthesizer.psnr_range
    outside = sorted(name for name, score in scores.items() if not low <= score <= high)
    if outside:
        warnings.warn(
            f"{len(outside)} pair(s) missed the PSNR band {low}-{high} dB (nearly featureless photo crops?): "
            f"{', '.join(outside[:10])}",
            stacklevel=2,
        )
    return scores


def ensure_synthetic_dataset(out_dir: str | Path, progress: bool = True, **recipe: Any) -> bool:
    """Make sure `out_dir` holds the synthetic set of this recipe: reuse it, or (re)generate it.

    Returns True if it generated. A set made with any other recipe (or generator version) is replaced.
    """
    if read_recipe(out_dir) == make_recipe(**recipe):
        return False
    synthesize_dataset(out_dir, overwrite=True, progress=progress, **recipe)
    return True


class NotASyntheticSet(UserError, FileExistsError):
    """The output folder holds something else than a synthetic set: never overwritten."""


def _check_replaceable(out_dir: Path, overwrite: bool) -> None:
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return
    if read_recipe(out_dir) is None:
        raise NotASyntheticSet(
            f"{out_dir} exists and is not a synthetic set (no readable {RECIPE_FILE}), so it is left as it is. "
            "Choose another folder (data.root=... / srn-synth --out ...); for your own blurry/sharp pairs use "
            "data=gopro data.root=<folder>"
        )
    if not overwrite:
        raise FileExistsError(f"{out_dir} already holds a synthetic set; pass overwrite=True to replace it.")


def _install(tmp: Path, out_dir: Path, recipe: dict[str, Any]) -> None:
    """Move the finished set into place, replacing an older one (a rename each, never a half set)."""
    if read_recipe(out_dir) == recipe:  # a concurrent job (e.g. a Hydra sweep) finished the same set first
        shutil.rmtree(tmp)
        return
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        out_dir.rename(old / out_dir.name)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old)


def main(argv: Sequence[str] | None = None) -> None:
    """`srn-synth`: write (or refresh) a synthetic GOPRO-style set; an up-to-date set is left alone."""
    parser = argparse.ArgumentParser(
        prog="srn-synth",
        description="Make a GOPRO_Large-style blurry/sharp dataset from sharp photos (default: scikit-image's).",
    )
    parser.add_argument("--out", type=Path, default=Path("data/synthetic"), help="output folder (default: %(default)s)")
    parser.add_argument("--n-train", type=int, default=96, help="training pairs (default: %(default)s)")
    parser.add_argument("--n-test", type=int, default=24, help="test pairs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--size", type=int, nargs=2, default=(256, 320), metavar=("H", "W"), help="frame size (default: 256 320)"
    )
    parser.add_argument("--sources", type=Path, default=None, help="folder of your own sharp photos (PNG/JPEG)")
    parser.add_argument(
        "--extra-training-photos",
        action="store_true",
        help="also train on the other sharp photos inside installed packages (the test photos stay the same)",
    )
    args = parser.parse_args(argv)
    recipe = {"n_train": args.n_train, "n_test": args.n_test, "seed": args.seed, "size": args.size,
              "extra_training_photos": args.extra_training_photos}  # fmt: skip
    if args.sources is not None:
        recipe["sources"] = args.sources
    try:
        if read_recipe(args.out) == make_recipe(**recipe):
            print(f"{args.out} already holds this recipe; nothing to do.")
            return
        start = time.perf_counter()
        scores = synthesize_dataset(args.out, overwrite=True, **recipe)
    except (OSError, ValueError) as err:
        parser.exit(2, f"srn-synth: error: {err}\n")
    values = sorted(scores.values())
    print(
        f"wrote {len(values)} pairs to {args.out} in {time.perf_counter() - start:.1f} s; PSNR(blur, sharp): "
        f"min {values[0]:.2f}, median {values[len(values) // 2]:.2f}, max {values[-1]:.2f} dB"
    )
