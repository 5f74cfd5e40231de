"""Dead-leaves images: procedural sharp scenes with the edge and scale statistics of natural photographs.

Occluding discs with radii drawn from a density proportional to r^-3 give images whose statistics do not
change with scale, like natural photos (Lee, Mumford & Huang, IJCV 2001). Networks trained for restoration
on such images alone come close to ones trained on photos (Achddou, Gousseau & Ladjal, "Fully synthetic
training for image restoration tasks", CVIU 2023). Here they widen the training scenes beyond the few sharp
photos that ship inside our dependencies: each name gives one image, the same on every machine.
"""

from __future__ import annotations

import math
import zlib

import cv2
import numpy as np

PREFIX = "dead_leaves_"
SIZE = (768, 960)  # H, W: well above the default synthesiser's window plus margin (448 x 512)
RADIUS_RANGE = (3.0, 300.0)  # output pixels: from below the blur lengths to most of the image
SUPERSAMPLING = 2  # drawn at twice the size and area-averaged: edges anti-aliased like a lens's
SHADED_RADIUS = 6.0  # output pixels: smaller discs are painted flat (a shading would not show), and fast


def dead_leaves_names(count: int) -> list[str]:
    """The names of `count` dead-leaves scenes, as sources and sequence folders call them."""
    return [f"{PREFIX}{index:04d}" for index in range(count)]


def is_dead_leaves(name: str) -> bool:
    return name.startswith(PREFIX) and name[len(PREFIX) :].isdigit()


def dead_leaves_image(name: str) -> np.ndarray:
    """The float32 H x W x 3 image in [0, 1] of the scene `name`, drawn from a generator seeded by the name.

    Discs are painted back to front until about 10 layers deep, which leaves the top layer (what is seen) as
    the dead-leaves model's. Colours are muted (a grey level plus a little chroma), as most surfaces in
    photographs are; discs larger than a few pixels also get a linear shading, as lit surfaces do.
    """
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    height, width = (side * SUPERSAMPLING for side in SIZE)
    low, high = (r * SUPERSAMPLING for r in RADIUS_RANGE)
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = rng.uniform(0.0, 1.0)
    coverage, target = 0.0, 10.0 * height * width
    while coverage < target:
        radii = _power_law_radii(rng, 4096, low, high)
        for radius in radii:
            _paint_disc(canvas, rng, float(radius))
        coverage += math.pi * float(np.sum(radii**2))
    image = cv2.resize(canvas, SIZE[::-1], interpolation=cv2.INTER_AREA)
    return np.clip(image, 0.0, 1.0)


def _power_law_radii(rng: np.random.Generator, count: int, low: float, high: float) -> np.ndarray:
    """Radii with density proportional to r^-3 on [low, high], by inverting its distribution function."""
    u = rng.uniform(size=count)
    return 1.0 / np.sqrt(low**-2 - u * (low**-2 - high**-2))  # not ** -0.5: numpy's power varies by CPU


def _paint_disc(canvas: np.ndarray, rng: np.random.Generator, radius: float) -> None:
    height, width = canvas.shape[:2]
    cx, cy = rng.uniform(-radius, width + radius), rng.uniform(-radius, height + radius)
    grey = rng.uniform(0.0, 1.0)
    colour = np.clip(grey + rng.uniform(0.0, 0.5) * (rng.uniform(0.0, 1.0, 3) - grey), 0.0, 1.0)
    if radius < SHADED_RADIUS * SUPERSAMPLING:
        cv2.circle(canvas, (round(cx * 16), round(cy * 16)), round(radius * 16), colour.tolist(), -1, cv2.LINE_8, 4)
        return
    x0, x1 = max(int(cx - radius), 0), min(int(cx + radius) + 2, width)
    y0, y1 = max(int(cy - radius), 0), min(int(cy + radius) + 2, height)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2
    slope = rng.normal(0.0, 0.15, 2) / max(radius, 1.0)  # up to a few tenths of brightness across the disc
    shading = slope[0] * (xs - cx) + slope[1] * (ys - cy)
    canvas[y0:y1, x0:x1][inside] = colour + shading[inside][:, None]
