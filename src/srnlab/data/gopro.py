"""The GOPRO_Large dataset layout: `<root>/<split>/<SEQUENCE>/{blur,blur_gamma,sharp}/<name>.png`.

The same layout is written by `srnlab.data.synth`, so one dataset class serves the real GOPRO set, the
synthetic set and a user's own pairs laid out the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from srnlab.errors import UserError
from srnlab.image_io import IMAGE_SUFFIXES, ImageReadError, probe_image, read_image, to_tensor

BLUR_CHOICES = ("blur", "blur_gamma")

PairTransform = Callable[..., dict[str, np.ndarray]]


class DatasetError(UserError, ValueError):
    """A dataset folder that cannot be used as it is; the message lists every offending path."""


@dataclass(frozen=True)
class ImagePair:
    """One blurry image and its sharp ground truth; `name` is "<SEQUENCE>/<stem>"."""

    name: str
    blur: Path
    sharp: Path


class GoProPairs(Dataset):
    """Blurry/sharp pairs of one split of a GOPRO_Large-style folder, in sorted, deterministic order.

    Items are dicts: `blur` and `sharp` (float32 tensors 3 x H x W in [0, 1]) and `name`
    ("<SEQUENCE>/<stem>", e.g. "GOPR0384_11_00/000001").

    The whole split is checked at construction so that a broken dataset fails at once, listing all its
    problems in one `DatasetError`, instead of hours into training: a missing root or split, a blurry image
    without its sharp twin or the reverse, unreadable or truncated files, pairs whose sizes differ, an empty
    split. PNGs are checked from their header and trailer only (fast on thousands of frames); JPEGs are
    decoded. Damage in the middle of a PNG is reported, naming the file, when the item is loaded.

    A sequence without the requested blur folder is skipped with a warning naming it (real GOPRO_Large
    copies lack some `blur_gamma` folders); only if no sequence has it is that an error. Files in the image
    folders whose suffix is not .png/.jpg/.jpeg (thumbnails, notes) are ignored.

    Args:
        root: the folder holding the split folders (`train`, `test`).
        split: the split folder's name.
        blur: "blur" (linear averaging, the paper's training set) or "blur_gamma" (averaged after inverting
            a gamma-2.2 response).
        transform: optional paired transform called as `transform(image=blur, sharp=sharp)` on H x W x 3
            float32 arrays and returning a dict with the same keys (see `srnlab.data.transforms`).
    """

    def __init__(
        self,
        root: str | Path,
        split: str,
        blur: str = "blur",
        transform: PairTransform | None = None,
    ) -> None:
        if blur not in BLUR_CHOICES:
            raise DatasetError(f"blur={blur!r} is not a GOPRO blur folder; choose one of {', '.join(BLUR_CHOICES)}.")
        self.root = Path(root)
        self.split = split
        self.blur = blur
        self.transform = transform
        self.pairs = self._scan_and_check()

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        pair = self.pairs[index]
        blur, sharp = read_image(pair.blur), read_image(pair.sharp)
        if blur.shape != sharp.shape:  # possible only if a JPEG's EXIF rotation differs between the twins
            raise DatasetError(f"{pair.blur} is {_hw(blur)} but its sharp twin {pair.sharp} is {_hw(sharp)}.")
        if self.transform is not None:
            out = self.transform(image=blur, sharp=sharp)
            blur, sharp = out["image"], out["sharp"]
        return {"blur": to_tensor(blur), "sharp": to_tensor(sharp), "name": pair.name}

    def _scan_and_check(self) -> list[ImagePair]:
        split_dir = self.root / self.split
        if not self.root.is_dir():
            raise DatasetError(f"dataset root {self.root} does not exist or is not a folder; check the path.")
        if not split_dir.is_dir():
            found = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
            raise DatasetError(
                f"split folder {split_dir} does not exist (folders in {self.root}: {', '.join(found) or 'none'}); "
                "expected the GOPRO_Large layout <root>/{train,test}/<SEQUENCE>/{blur,blur_gamma,sharp}/."
            )
        problems: list[str] = []
        pairs: list[ImagePair] = []
        skipped: list[str] = []
        sequences = sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        for sequence in sequences:
            if not (sequence / self.blur).is_dir():
                skipped.append(sequence.name)
                continue
            pairs += self._pair_sequence(sequence, problems)
        if skipped and len(skipped) == len(sequences):
            other = [b for b in BLUR_CHOICES if b != self.blur]
            problems.append(f"{split_dir}: no sequence has a '{self.blur}' folder; try blur={other[0]!r}.")
        elif skipped:
            warnings.warn(
                f"{split_dir}: skipping {len(skipped)} sequence(s) without a '{self.blur}' folder: "
                f"{', '.join(skipped)}.",
                stacklevel=3,
            )
        if not problems and not pairs:
            problems.append(f"{split_dir}: empty; no <SEQUENCE>/{self.blur}/ and <SEQUENCE>/sharp/ image pairs found.")
        if problems:
            raise DatasetError(
                f"{len(problems)} problem(s) in the '{self.split}' split of {self.root} (blur={self.blur!r}); "
                "fix or remove these files:\n  - " + "\n  - ".join(problems)
            )
        return pairs

    def _pair_sequence(self, sequence: Path, problems: list[str]) -> list[ImagePair]:
        """Pair a sequence's blurry and sharp images by file stem, appending what is wrong to `problems`."""
        blur_files = _images_by_stem(sequence / self.blur, problems)
        sharp_dir = sequence / "sharp"
        if not sharp_dir.is_dir():
            problems.append(f"{sharp_dir}: missing, so none of the {len(blur_files)} blurry images has a sharp twin.")
            return []
        sharp_files = _images_by_stem(sharp_dir, problems)
        problems += [f"{blur_files[s]}: no sharp twin {s}.* in {sharp_dir}" for s in blur_files.keys() - sharp_files]
        problems += [
            f"{sharp_files[s]}: no blurry twin {s}.* in {sequence / self.blur}" for s in sharp_files.keys() - blur_files
        ]
        pairs = []
        for stem in sorted(blur_files.keys() & sharp_files.keys()):
            pair = ImagePair(f"{sequence.name}/{stem}", blur_files[stem], sharp_files[stem])
            if _check_pair(pair, problems):
                pairs.append(pair)
        return pairs


def _images_by_stem(folder: Path, problems: list[str]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith("."):
            continue
        if path.stem in files:
            problems.append(f"{path}: same name as {files[path.stem].name}; keep one of them.")
        else:
            files[path.stem] = path
    return files


def _check_pair(pair: ImagePair, problems: list[str]) -> bool:
    """Probe both files; record unreadable ones and size mismatches. True if the pair is usable."""
    sizes = []
    for path in (pair.blur, pair.sharp):
        try:
            sizes.append(probe_image(path))
        except ImageReadError as err:
            problems.append(str(err))
    if len(sizes) < 2:
        return False
    blur_size, sharp_size = sizes
    if blur_size != sharp_size:
        problems.append(
            f"{pair.blur} is {blur_size.height}x{blur_size.width} (HxW) but its sharp twin {pair.sharp} is "
            f"{sharp_size.height}x{sharp_size.width}."
        )
        return False
    return True


def _hw(image: np.ndarray) -> str:
    return f"{image.shape[0]}x{image.shape[1]} (HxW)"
