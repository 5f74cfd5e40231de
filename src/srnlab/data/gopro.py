"""The GOPRO_Large layout, `<root>/<split>/<SEQUENCE>/{blur,blur_gamma,sharp}/<name>.png` (data/pairs=gopro).

The same layout is written by `srnlab.data.synth`, so one dataset class serves the real GOPRO set, the
synthetic set and a user's own pairs laid out the same way. Other layouts: srnlab.data.pairs.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from srnlab.data.pairs import DatasetError, ImagePair, PairDataset, PairTransform, images_by_stem, twins_by_stem

BLUR_CHOICES = ("blur", "blur_gamma")


class GoProPairs(PairDataset):
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
        self, root: str | Path, split: str, blur: str = "blur", transform: PairTransform | None = None
    ) -> None:
        if blur not in BLUR_CHOICES:
            raise DatasetError(f"blur={blur!r} is not a GOPRO blur folder; choose one of {', '.join(BLUR_CHOICES)}.")
        self.blur = blur
        super().__init__(root, split, transform)

    def describe(self) -> str:
        return f"blur={self.blur!r}"

    def find_pairs(self, problems: list[str]) -> list[ImagePair]:
        split_dir = self.root / self.split
        if not split_dir.is_dir():
            found = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
            raise DatasetError(
                f"split folder {split_dir} does not exist (folders in {self.root}: {', '.join(found) or 'none'}); "
                "expected the GOPRO_Large layout <root>/{train,test}/<SEQUENCE>/{blur,blur_gamma,sharp}/."
            )
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
                stacklevel=4,
            )
        if not problems and not pairs:
            problems.append(f"{split_dir}: empty; no <SEQUENCE>/{self.blur}/ and <SEQUENCE>/sharp/ image pairs found.")
        return pairs

    def _pair_sequence(self, sequence: Path, problems: list[str]) -> list[ImagePair]:
        """Pair a sequence's blurry and sharp images by file stem, appending what is wrong to `problems`."""
        sharp_dir = sequence / "sharp"
        if not sharp_dir.is_dir():
            count = len(images_by_stem(sequence / self.blur, problems))
            problems.append(f"{sharp_dir}: missing, so none of the {count} blurry images has a sharp twin.")
            return []
        return twins_by_stem(sequence / self.blur, sharp_dir, problems, prefix=f"{sequence.name}/")
