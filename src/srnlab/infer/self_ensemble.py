"""Geometric self-ensemble: deblur the image in its eight orientations and average the results.

The motion blur a deblurrer meets has no preferred direction, so a network trained on it should answer a
rotated or mirrored input with the rotated or mirrored output; a trained network only nearly does, and its
errors differ between orientations. Averaging the eight answers of the dihedral group (four rotations by 90
degrees, each with and without a mirror) cancels part of them, at eight times the compute and no more
memory than one pass. Known from super-resolution as "self-ensemble" (Timofte, Rothe & Van Gool, CVPR 2016;
EDSR+, Lim et al. 2017).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

ORIENTATIONS = tuple((turns, mirror) for turns in range(4) for mirror in (False, True))


def self_ensemble(fn: Callable[[Tensor], Tensor], images: Tensor) -> Tensor:
    """The float32 mean of `fn` over the eight orientations of N x C x H x W `images`, each answer turned back.

    `fn` must return images of its input's height and width (they swap for odd numbers of turns).
    """
    total: Tensor | None = None
    for turns, mirror in ORIENTATIONS:
        turned = torch.rot90(images, turns, (-2, -1))
        answer = fn(turned.flip(-1) if mirror else turned).float()
        answer = torch.rot90(answer.flip(-1) if mirror else answer, -turns, (-2, -1))
        total = answer if total is None else total.add_(answer)
    assert total is not None
    return total / len(ORIENTATIONS)
