"""The DataModule: generate-once synthetic data, loaders, workers, and the Hydra data configs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra.utils import instantiate

from srnlab.config import compose_config
from srnlab.data.datamodule import DeblurDataModule, spread_indices
from srnlab.data.gopro import DatasetError, GoProPairs
from srnlab.data.synth import RECIPE_FILE, read_recipe

RECIPE = {"n_train": 4, "n_test": 3, "seed": 0, "size": [64, 96]}


def module(root: Path, **kwargs) -> DeblurDataModule:
    return DeblurDataModule(root, crop_size=32, batch_size=2, **{"synthesize": RECIPE, **kwargs})


def mtimes(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*.png")} | {root: (root / RECIPE_FILE).stat().st_mtime_ns}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dm") / "synthetic"
    module(root).prepare_data()
    return root


def test_generates_once_reuses_and_regenerates_on_a_new_recipe(tmp_path: Path) -> None:
    root = tmp_path / "synthetic"
    module(root).prepare_data()
    assert read_recipe(root)["n_train"] == 4
    before = mtimes(root)
    assert len(before) == 7 * 3 + 1
    module(root).prepare_data()  # a new run with the same recipe
    assert mtimes(root) == before
    module(root, synthesize={**RECIPE, "seed": 1}).prepare_data()
    assert read_recipe(root)["seed"] == 1
    after = mtimes(root)
    assert after.keys() == before.keys() and all(after[p] != before[p] for p in before)
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic"]  # no temporary folders left behind


def test_loaders(synthetic: Path) -> None:
    dm = DeblurDataModule(synthetic, crop_size=32, batch_size=3, val_max_images=2)
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert loader.drop_last and len(loader) == 1  # 4 pairs, batch 3: the incomplete batch is dropped
    batch = next(iter(loader))
    assert batch["blur"].shape == batch["sharp"].shape == (3, 3, 32, 32)
    assert len(batch["name"]) == 3
    val = list(dm.val_dataloader())
    test_names = sorted(pair.name for pair in GoProPairs(synthetic, "test").pairs)
    assert [b["name"][0] for b in val] == [test_names[0], test_names[-1]]  # spread over the sorted split
    assert val[0]["blur"].shape == (1, 3, 64, 96)  # full frames
    dm.setup("test")
    assert len(dm.test_dataloader()) == 3


def test_train_set_smaller_than_a_batch_still_trains(synthetic: Path) -> None:
    dm = DeblurDataModule(synthetic, crop_size=16, batch_size=8)
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert len(batches) == 1 and batches[0]["blur"].shape[0] == 4


def test_one_worker(synthetic: Path) -> None:
    dm = DeblurDataModule(synthetic, crop_size=16, batch_size=2, num_workers=1, persistent_workers=True)
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert loader.multiprocessing_context.get_start_method() == "fork" and loader.persistent_workers
    assert [b["blur"].shape for b in loader] == [(2, 3, 16, 16)] * 2
    in_process = DeblurDataModule(synthetic, crop_size=16, persistent_workers=True)
    in_process.setup("fit")
    assert not in_process.train_dataloader().persistent_workers  # torch refuses it without workers


def test_workers_draw_different_crops_every_epoch(tmp_path: Path) -> None:
    """Without reseeding, forked workers would repeat albumentations' crop positions across workers and epochs."""
    rows, cols = np.mgrid[0:64, 0:64].astype(np.uint8)
    coded = np.dstack([np.zeros_like(rows), rows, cols])  # BGR: green = row, red = column
    for split in ("train", "test"):
        for i in range(4):
            for folder in ("blur", "sharp"):
                path = tmp_path / split / "SEQ" / folder / f"{i:06d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), coded)
    dm = DeblurDataModule(tmp_path, crop_size=8, batch_size=1, num_workers=2)
    dm.setup("fit")
    loader = dm.train_dataloader()

    def origins() -> list[tuple[int, int]]:
        return [(round(b["blur"][0, 1, 0, 0].item() * 255), round(b["blur"][0, 0, 0, 0].item() * 255)) for b in loader]

    first, second = origins(), origins()
    assert first[0] != first[1]  # the two workers' first crops
    assert first != second  # a new epoch, new crops


def test_a_missing_split_is_reported(realdata: Path) -> None:
    dm = DeblurDataModule(realdata / "gopro_mini")
    dm.setup("test")
    assert len(dm.test_dataloader()) == 2
    with pytest.raises(DatasetError, match="train"):
        dm.setup("fit")


@pytest.mark.parametrize(
    ("overrides", "root"),
    [
        ([], "synthetic"),
        (["data=gopro", "data.root=/path/to/GOPRO_Large", "data.blur=blur_gamma"], "/path/to/GOPRO_Large"),
    ],
)
def test_hydra_configs(overrides: list[str], root: str) -> None:
    cfg = compose_config("train", [*overrides, "profile=smoke"])
    dm = instantiate(cfg.data)
    assert isinstance(dm, DeblurDataModule) and str(dm.root).endswith(root)
    assert dm.hparams.crop_size == cfg.data.crop_size  # profiles override the paper defaults
    if not overrides:
        assert dm.synthesize == {
            "n_train": 96, "n_test": 24, "seed": 0, "size": [256, 320], "sources": None, "extra_training_photos": False,
            "dead_leaves": 0,
        }  # fmt: skip
    else:
        assert dm.hparams.blur == "blur_gamma" and dm.synthesize is None


def test_validation_subset_spreads_over_the_split() -> None:
    assert spread_indices(24, 8) == [0, 3, 7, 10, 13, 16, 20, 23]
    assert spread_indices(5, 1) == [0] and spread_indices(3, 10) == [0, 1, 2]
    assert len(set(spread_indices(1111, 64))) == 64


def test_real_pairs_are_never_synthesised_even_when_an_experiment_sets_a_recipe(tmp_path):
    """`srn-train experiment=pretrained data=gopro data.root=<your pairs>` (the README's fine-tuning): the
    experiment's synthetic recipe is merged over `data=gopro`, and must not touch the user's folder."""
    (tmp_path / "my_pairs.txt").write_text("not a synthetic set")
    cfg = compose_config("train", ["experiment=pretrained", "data=gopro", f"data.root={tmp_path}"])
    assert cfg.data.synthesize is not None  # the merge does carry the recipe ...
    dm = instantiate(cfg.data)
    dm.prepare_data()  # ... and the module drops it: nothing is generated, nothing raised
    assert dm.synthesize is None and dm.hparams.synthesize is None
    assert [p.name for p in tmp_path.iterdir()] == ["my_pairs.txt"]
