"""Blurry/sharp pairs as a dataset, whatever lays them out on disk.

Deblurring sets ship in three layouts: GOPRO_Large's sequence folders (srnlab.data.gopro.GoProPairs, also what
the synthesiser writes), list files of `blur sharp` path pairs (RealBlur, HIDE), and two parallel folders of
same-named files (what most people make of their own pairs). Each is a `PairDataset`: it finds its pairs once,
checks every one of them at construction (a missing file, an unpaired name, a size mismatch, a damaged
image), and fails with one `DatasetError` listing every problem, instead of hours into training. `data/pairs`
picks the layout (conf/data/pairs/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from srnlab.errors import UserError
from srnlab.image_io import IMAGE_SUFFIXES, ImageReadError, probe_image, read_image, to_tensor

PairTransform = Callable[..., dict[str, np.ndarray]]


class DatasetError(UserError, ValueError):
    """A dataset that cannot be used as it is; the message lists every offending path."""


@dataclass(frozen=True)
class ImagePair:
    """One blurry image and its sharp ground truth; `name` identifies the pair in per-image scores."""

    name: str
    blur: Path
    sharp: Path


class PairDataset(Dataset):
    """Items are dicts: `blur` and `sharp` (float32 tensors 3 x H x W in [0, 1]) and `name`, in the sorted order
    of the pairs' names. Subclasses find the pairs (`find_pairs`, appending what is wrong to `problems`)."""

    def __init__(self, root: str | Path, split: str, transform: PairTransform | None = None) -> None:
        self.root, self.split, self.transform = Path(root), split, transform
        if not self.root.is_dir():
            raise DatasetError(f"dataset root {self.root} does not exist or is not a folder; check the path.")
        problems: list[str] = []
        found = self.find_pairs(problems)
        self.pairs = sorted((p for p in found if check_pair(p, problems)), key=lambda p: p.name)
        if not problems and not self.pairs:
            problems.append(f"no image pairs in the '{split}' split of {self.root} ({self.describe()})")
        if problems:
            raise DatasetError(
                f"{len(problems)} problem(s) in the '{split}' split of {self.root} ({self.describe()}); fix or "
                "remove these files:\n  - " + "\n  - ".join(problems)
            )

    def find_pairs(self, problems: list[str]) -> list[ImagePair]:
        raise NotImplementedError

    def describe(self) -> str:
        """The layout in a few words, for messages."""
        return type(self).__name__

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


class ListPairs(PairDataset):
    """Pairs listed in a text file per split, one pair per line: two paths relative to `root`, separated by
    white space (RealBlur's and HIDE's lists). `order` says which comes first: RealBlur lists the sharp image
    first (`sharp_blur`). Empty lines and lines starting with # are ignored."""

    def __init__(
        self,
        root: str | Path,
        split: str,
        transform: PairTransform | None = None,
        files: Mapping[str, str] | None = None,
        order: str = "blur_sharp",
    ) -> None:
        if order not in ("blur_sharp", "sharp_blur"):
            raise DatasetError(f"data.pairs.order={order!r}: choose blur_sharp or sharp_blur")
        self.files, self.order = dict(files or {}), order
        super().__init__(root, split, transform)

    def describe(self) -> str:
        return f"list file {self.files.get(self.split)}, {self.order.replace('_', ' then ')}"

    def find_pairs(self, problems: list[str]) -> list[ImagePair]:
        if self.split not in self.files:
            problems.append(f"data.pairs.files has no list for the '{self.split}' split: it names {sorted(self.files)}")
            return []
        listing = self.root / self.files[self.split]
        if not listing.is_file():
            problems.append(f"{listing}: no such list file")
            return []
        pairs = []
        for number, line in enumerate(listing.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) != 2:
                problems.append(f"{listing}, line {number}: expected two paths, found {len(fields)}: {line!r}")
                continue
            blur, sharp = fields if self.order == "blur_sharp" else fields[::-1]
            pairs.append(ImagePair(blur, self.root / blur, self.root / sharp))
        return pairs


class FolderPairs(PairDataset):
    """Two parallel folders per split whose files pair up by name: `<root>/<blur>` and `<root>/<sharp>`, where
    `{split}` in either is replaced by the split's name (default: `<root>/<split>/blur` and `.../sharp`)."""

    def __init__(
        self,
        root: str | Path,
        split: str,
        transform: PairTransform | None = None,
        blur: str = "{split}/blur",
        sharp: str = "{split}/sharp",
    ) -> None:
        self.blur_dir, self.sharp_dir = Path(root) / blur.format(split=split), Path(root) / sharp.format(split=split)
        super().__init__(root, split, transform)

    def describe(self) -> str:
        return f"folders {self.blur_dir} and {self.sharp_dir}"

    def find_pairs(self, problems: list[str]) -> list[ImagePair]:
        missing = [d for d in (self.blur_dir, self.sharp_dir) if not d.is_dir()]
        if missing:
            problems += [f"{d}: no such folder" for d in missing]
            return []
        return twins_by_stem(self.blur_dir, self.sharp_dir, problems, prefix="")


def twins_by_stem(blur_dir: Path, sharp_dir: Path, problems: list[str], prefix: str) -> list[ImagePair]:
    """Pair two folders' images by file stem, naming each pair `<prefix><stem>`; an image without its twin is
    a problem."""
    blur_files, sharp_files = images_by_stem(blur_dir, problems), images_by_stem(sharp_dir, problems)
    blur_only, sharp_only = sorted(blur_files.keys() - sharp_files), sorted(sharp_files.keys() - blur_files)
    problems += [f"{blur_files[s]}: no sharp twin {s}.* in {sharp_dir}" for s in blur_only]
    problems += [f"{sharp_files[s]}: no blurry twin {s}.* in {blur_dir}" for s in sharp_only]
    return [ImagePair(f"{prefix}{s}", blur_files[s], sharp_files[s]) for s in sorted(blur_files.keys() & sharp_files)]


def images_by_stem(folder: Path, problems: list[str]) -> dict[str, Path]:
    """A folder's images by file stem; files of other kinds (thumbnails, notes) and hidden files are ignored."""
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith("."):
            continue
        if path.stem in files:
            problems.append(f"{path}: same name as {files[path.stem].name}; keep one of them.")
        else:
            files[path.stem] = path
    return files


def check_pair(pair: ImagePair, problems: list[str]) -> bool:
    """Probe both files; record missing or unreadable ones and size mismatches. True if the pair is usable."""
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
