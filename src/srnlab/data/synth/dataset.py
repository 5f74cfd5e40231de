"""Writing a synthetic set in the GOPRO_Large layout, atomically, and reusing one that is up to date."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from srnlab.data.synth.recipe import RECIPE_FILE, Recipe, read_recipe
from srnlab.data.synth.sources import load_source, split_sources
from srnlab.errors import UserError
from srnlab.image_io import write_image

SPLITS = ("train", "test")


def synthesize_dataset(
    out_dir: str | Path,
    recipe: Recipe | None = None,
    *,
    overwrite: bool = False,
    progress: bool = True,
    **settings: Any,
) -> dict[str, float]:
    """Write a synthetic set in the GOPRO_Large layout and return PSNR(blur, sharp) per pair name.

    Layout: `<out_dir>/{train,test}/SYN_<photo>/{blur,blur_gamma,sharp}/NNNNNN.png` plus `recipe.json`.
    Pair i of a split uses the split's photo i mod (number of photos) and a random generator seeded by
    (seed, split, i): the same arguments give byte-identical files. The set is built in a temporary
    sibling folder and renamed into place, so an interrupted run never leaves a half-written set.

    Args:
        out_dir: the set's folder; an existing one is replaced only if `overwrite` and it holds a recipe.json
            (a folder that this function did not make is never deleted).
        recipe: what to make; or give its settings as keywords (`Recipe.of`: n_train=..., seed=..., any
            BlurSynthesizer field), the rest keeping the recipe's defaults.
        overwrite: replace an existing synthetic set.
        progress: show a progress bar.
    """
    out_dir = Path(out_dir)
    recipe = recipe or Recipe.of(**settings)
    stored = recipe.to_json()
    _check_replaceable(out_dir, overwrite)
    _check_writable(out_dir)
    synthesizer, seed, sources = recipe.synthesizer(), recipe.seed, recipe.sources
    splits = dict(zip(SPLITS, split_sources(stored["source_names"], recipe.n_train, recipe.n_test), strict=True))
    splits["train"] = sorted({*splits["train"], *stored["extra_training_names"]})
    counts = {"train": recipe.n_train, "test": recipe.n_test}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    scores: dict[str, float] = {}
    try:
        with tqdm(
            total=recipe.n_train + recipe.n_test, desc=f"srn-synth {out_dir}", unit="pair", disable=not progress
        ) as bar:
            for split_index, split in enumerate(SPLITS):
                names = splits[split]
                for source_index, name in enumerate(names):  # photo by photo: one photo in memory at a time
                    photo = load_source(sources, name)
                    for i in range(source_index, counts[split], len(names)):
                        pair = synthesizer.render(photo, np.random.default_rng([seed, split_index, i]))
                        sequence = tmp / split / f"SYN_{name}"
                        file = f"{i // len(names) + 1:06d}.png"
                        for folder, image in (("blur", pair.blur), ("blur_gamma", pair.blur_gamma)):
                            write_image(sequence / folder / file, image)
                        write_image(sequence / "sharp" / file, pair.sharp)
                        scores[f"{split}/SYN_{name}/{file[:-4]}"] = pair.psnr
                        bar.update()
        (tmp / RECIPE_FILE).write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
        _install(tmp, out_dir, stored)
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


def ensure_synthetic_dataset(out_dir: str | Path, progress: bool = True, **settings: Any) -> bool:
    """Make sure `out_dir` holds the synthetic set of this recipe (`Recipe.of(**settings)`): reuse it, or
    (re)generate it. Returns True if it generated. A set made with any other recipe (or generator version)
    is replaced."""
    recipe = Recipe.of(**settings)
    if read_recipe(out_dir) == recipe.to_json():
        return False
    synthesize_dataset(out_dir, recipe, overwrite=True, progress=progress)
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


class UnwritableDataRoot(UserError, PermissionError):
    """The synthetic set's folder, or the folder it goes in, cannot be written: found before rendering a pair."""


def _check_writable(out_dir: Path) -> None:
    """The set is built beside `out_dir` and renamed into place, replacing `out_dir` if it exists: both need
    write access, checked before minutes of rendering rather than at the rename."""
    parent = next(p for p in (out_dir.parent.absolute(), *out_dir.parent.absolute().parents) if p.exists())
    if not parent.is_dir():
        return  # a file where a folder should go: making the folder names it (srnlab.cli.runtime.path_problem)
    blocked = [p for p in (parent, out_dir) if p.is_dir() and not os.access(p, os.W_OK | os.X_OK)]
    if blocked:
        raise UnwritableDataRoot(
            f"cannot write the synthetic set to {out_dir}: {blocked[0]} is not writable. Choose a folder you can "
            "write (data.root=<folder> for srn-train and srn-eval, --out <folder> for srn-synth)"
        )


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
