"""Rendering one GOPRO-style pair from a sharp photo: a random smooth camera trajectory (translation, in-plane
rotation, a little zoom) over the exposure gives 7-13 sub-frames, each a warp of the photo; optionally an object
region moves on a path of its own. `blur` averages the sub-frames, `blur_gamma` averages them after inverting
a gamma-2.2 camera response, `sharp` is the middle sub-frame, an exact crop of the photo.

Every step gives the same bits on every x86-64 CPU with AVX2, AVX-512 or not, so a recipe names one set of
files: numpy's + - * / are correctly rounded on all their code paths and OpenCV's warps and filters give the
same bits with its AVX2 and AVX-512 kernels (its SSE-only ones, for older CPUs, do not), while numpy's power,
exp and sin switch to other kernels on AVX-512 machines, so none of those touches an image: the camera
response uses `portable_math.power`, the paths only products and sums."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from srnlab.data.synth.portable_math import power
from srnlab.errors import ConfigError
from srnlab.image_io import to_uint8

GAMMA = 2.2  # the camera response GOPRO_Large's blur_gamma inverts


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

    frames: np.ndarray  # K x H x W x 3, the sub-frames of the exposure
    blur: np.ndarray
    sharp: np.ndarray
    source: np.ndarray  # the photo as rescaled for this pair: the poses refer to its pixels
    poses: tuple[Pose, ...]  # the camera trajectory, one pose per sub-frame; the middle one made `sharp`
    moving_object: MovingObject | None
    psnr: float  # PSNR(blur, sharp) in dB after 8-bit quantisation, as the files on disk will measure

    @property
    def blur_gamma(self) -> np.ndarray:
        """The sub-frames averaged in linear light (a gamma-2.2 response inverted, averaged, re-applied), as
        GOPRO_Large's blur_gamma. Made on demand: fitting the blur strength needs only `blur`."""
        linear = power(self.frames, GAMMA).mean(axis=0)
        return power(linear, 1 / GAMMA).astype(np.float32)


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
        acceleration: spread of every path's t^2 term relative to its unit linear motion: bends and changes
            of speed. It also moves the kernel's centroid away from the middle sub-frame (`sharp`).
        jerk: spread of every path's t^3 term relative to its unit linear motion: S-shaped wobble.
            Both 0 give straight paths at constant speed.
    """

    size: tuple[int, int] = (256, 320)
    frames: tuple[int, int] = (7, 13)
    path_length: tuple[float, float] = (5.0, 32.0)
    rotation: float = 0.3
    zoom: float = 0.15
    object_probability: float = 0.5
    object_size: tuple[float, float] = (0.12, 0.3)
    psnr_range: tuple[float, float] = (21.0, 31.0)
    acceleration: float = 0.7
    jerk: float = 0.5

    def __post_init__(self) -> None:
        # configs and JSON hand over lists; store tuples so that recipes compare and hash reliably
        for name, kind in (("size", int), ("frames", int), ("path_length", float), ("object_size", float)):
            object.__setattr__(self, name, tuple(kind(v) for v in getattr(self, name)))
        object.__setattr__(self, "psnr_range", tuple(float(v) for v in self.psnr_range))
        low, high = self.frames
        if min(self.size) < 8 or len(self.size) != 2:
            raise ConfigError(f"BlurSynthesizer: size must be (height, width) of at least 8 pixels, got {self.size}.")
        if not 1 <= low <= high or not any(k % 2 for k in range(low, high + 1)):
            raise ConfigError(f"BlurSynthesizer: frames={self.frames} must be a range containing an odd count.")
        if not 0 < self.path_length[0] <= self.path_length[1]:
            raise ConfigError(f"BlurSynthesizer: path_length={self.path_length} must be 0 < low <= high pixels.")
        if not 0 <= self.object_probability <= 1:
            raise ConfigError(f"BlurSynthesizer: object_probability={self.object_probability} must lie in [0, 1].")
        if not self.psnr_range[0] < self.psnr_range[1]:
            raise ConfigError(f"BlurSynthesizer: psnr_range={self.psnr_range} must be (low, high) with low < high.")
        if self.acceleration < 0 or self.jerk < 0:
            raise ConfigError(
                f"BlurSynthesizer: acceleration={self.acceleration} and jerk={self.jerk} are spreads: 0 or more."
            )

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
        length = log_uniform(rng, *self.path_length)
        radius = math.hypot(height - 1, width - 1) / 2  # centre-to-corner distance
        translation = length * self._smooth_path(rng, times, 2)
        rotation = length * self.rotation * rng.uniform() / radius * self._smooth_path(rng, times, 1)[:, 0]
        log_scale = length * self.zoom * rng.uniform() / radius * self._smooth_path(rng, times, 1)[:, 0]
        moving_object = None
        longest = length
        if rng.uniform() < self.object_probability:
            object_length = log_uniform(rng, *self.path_length)
            longest = max(longest, object_length)
            mask = _ellipse_mask(self.size, self.object_size, rng)
            moving_object = MovingObject(mask, object_length * self._smooth_path(rng, times, 2))
        return _Scene(source, centre, translation, rotation, log_scale, moving_object, self.max_path_length / longest)

    def _smooth_path(self, rng: np.random.Generator, times: np.ndarray, dims: int) -> np.ndarray:
        """A random cubic path through 0 at t=0, sampled at `times` (len(times) x dims).

        A dominant linear motion in a random direction plus random curvature (`acceleration`, `jerk`), like a
        hand-held camera over a few milliseconds. Normalised to unit path length over t in [-0.5, 0.5] (2-D)
        or unit peak (1-D).
        """
        direction = rng.normal(size=dims)
        direction /= np.sqrt(np.sum(direction * direction))
        bend, wobble = rng.normal(0.0, self.acceleration, dims), rng.normal(0.0, self.jerk, dims)

        def at(t: np.ndarray) -> np.ndarray:  # products and sums only: a matmul's BLAS kernel is the CPU's
            t = t[:, None]
            return t * direction + t * t * bend + t * t * t * wobble

        dense = at(np.linspace(-0.5, 0.5, 129))
        steps = np.diff(dense, axis=0)
        size = np.sqrt(np.sum(steps * steps, axis=1)).sum() if dims == 2 else np.abs(dense).max()
        return at(times) / size

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
        sharp = frames[len(frames) // 2]
        return SynthPair(stack, blur, sharp, scene.source, poses, obj, psnr(to_uint8(blur), to_uint8(sharp)))

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


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A value spread evenly over scales (each doubling as likely), as blur lengths and photo scales are."""
    return math.exp(rng.uniform(math.log(low), math.log(high)))


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
    scale = fit if fit >= 1 else log_uniform(rng, fit, 1.0)
    if scale == 1:
        return source
    new_size = (max(min_width, round(width * scale)), max(min_height, round(height * scale)))
    resized = cv2.resize(source, new_size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return np.clip(resized, 0.0, 1.0)
