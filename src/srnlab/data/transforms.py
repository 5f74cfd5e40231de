"""Paired augmentation: one random geometry applied to the blurry image and its sharp ground truth.

Built with albumentations: `additional_targets={"sharp": "image"}` makes the sharp image a second "image"
target, so every geometric choice (crop position, flip, rotation) is drawn once and applied to both. The
pipelines take and return `dict(image=blur, sharp=sharp)` with H x W x 3 float32 arrays.

Only geometric transforms belong here: albumentations applies pixel-level transforms (noise, colour) to
the sharp target too, which would corrupt the ground truth.
"""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network check for a newer version at import

import albumentations as A
import cv2

from srnlab.errors import ConfigError

PAIR_TARGETS = {"sharp": "image"}


def train_transform(
    crop_size: int = 256,
    hflip: bool = False,
    vflip: bool = False,
    rot90: bool = False,
    seed: int | None = None,
) -> A.Compose:
    """Random `crop_size` square crop of the pair, then the optional flips and 90-degree rotations.

    Images smaller than the crop are first padded by reflection (identically for both images), so small
    user photos still train. Flips and rotations are off by default: the official SRN code uses none.
    `seed` fixes albumentations' private generator, which ignores the global seed.
    """
    if crop_size < 1:
        raise ConfigError(f"data.crop_size must be a positive number of pixels, got {crop_size}.")
    steps: list[A.BasicTransform] = [
        A.RandomCrop(crop_size, crop_size, pad_if_needed=True, border_mode=cv2.BORDER_REFLECT_101)
    ]
    if hflip:
        steps.append(A.HorizontalFlip(p=0.5))
    if vflip:
        steps.append(A.VerticalFlip(p=0.5))
    if rot90:
        steps.append(A.RandomRotate90(p=1.0))
    return A.Compose(steps, additional_targets=PAIR_TARGETS, seed=seed)


def eval_transform(crop_size: int | None) -> A.Compose | None:
    """Deterministic centre crop of the pair for cheap validation, or None (full frames, the paper's protocol).

    Frames smaller than the crop are padded by reflection, as in training.
    """
    if crop_size is None:
        return None
    if crop_size < 1:
        raise ConfigError(f"data.val_crop_size must be a positive number of pixels or null, got {crop_size}.")
    crop = A.CenterCrop(crop_size, crop_size, pad_if_needed=True, border_mode=cv2.BORDER_REFLECT_101)
    return A.Compose([crop], additional_targets=PAIR_TARGETS)
