"""The Lightning DataModule: GOPRO-layout pairs for training, validation and test, optionally synthesised."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, Dataset, Subset, get_worker_info

from srnlab.data.device_batches import DeviceBatches
from srnlab.data.gopro import GoProPairs
from srnlab.data.pairs import PairDataset
from srnlab.data.synth import ensure_synthetic_dataset
from srnlab.data.transforms import eval_transform, train_transform
from srnlab.errors import ConfigError
from srnlab.image_io import probe_image

log = logging.getLogger(__name__)


class DeblurDataModule(pl.LightningDataModule):
    """Train on split "train", validate on `val_max_images` pairs spread over "test", test on all of "test".

    Args:
        root: a GOPRO_Large-style folder (`<root>/{train,test}/<SEQUENCE>/{blur,blur_gamma,sharp}/`).
        blur: which blurry images to use, "blur" (the paper's) or "blur_gamma".
        crop_size: side of the random square training crops (paper: 256).
        val_crop_size: side of the centre crops for validation; None = full frames (the paper's protocol).
            The test split always uses full frames.
        hflip, vflip, rot90: training augmentations, off by default as in the official code.
        batch_size: training batch size (paper: 16).
        val_batch_size: batch size for validation and test (1: full frames may differ in size).
        num_workers: DataLoader worker processes; 0 loads in the main process.
        pin_memory: pin batches in page-locked memory (faster host-to-GPU copies).
        persistent_workers: keep workers alive between epochs (only used when num_workers > 0).
        train_repeats: each training epoch goes over the training pairs this many times, in one shuffled
            order (BasicSR's `dataset_enlarge_ratio`). Small sets (the synthetic default: 6 batches of 16)
            otherwise end an epoch every few steps, and at every epoch start the loader workers stall the
            GPU; measured with `benchmarks/bench_loader.py` (docs/speed.md).
        val_max_images: validate on N test pairs evenly spaced over the sorted split, or all if None.
        on_device: cut the training batches on the training device from pairs loaded there once
            (srnlab.data.device_batches): true, false, or auto (on a GPU, when the pairs take at most a quarter
            of its free memory).
        synthesize: a synthetic-set recipe (`srnlab.data.synth.Recipe.of` settings: n_train, n_test,
            seed, size, sources, ...). If given, `prepare_data` generates the set into `root` when it is
            missing or was made with another recipe, and reuses it otherwise. It writes the GOPRO layout.
        pairs: the layout of the pairs on disk, a `_partial_` config of a PairDataset (conf/data/pairs/):
            GoProPairs (default, with `blur`), ListPairs or FolderPairs. Called with root, split, transform.
    """

    def __init__(
        self,
        root: str | Path,
        blur: str = "blur",
        crop_size: int = 256,
        val_crop_size: int | None = None,
        hflip: bool = False,
        vflip: bool = False,
        rot90: bool = False,
        batch_size: int = 16,
        val_batch_size: int = 1,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        val_max_images: int | None = None,
        synthesize: Mapping[str, Any] | None = None,
        train_repeats: int = 1,
        pairs: Mapping[str, Any] | None = None,
        on_device: bool | str = False,
    ) -> None:
        super().__init__()
        if on_device not in (True, False, "auto"):
            raise ConfigError(f"data.on_device must be true, false or auto, got {on_device!r}")
        synthesize, pairs = (_plain(node) for node in (synthesize, pairs))
        self.save_hyperparameters()
        self.root = Path(root)
        self.synthesize = synthesize
        self.layout = instantiate(pairs or DEFAULT_PAIRS)
        if synthesize is not None and self.layout.func is not GoProPairs:
            raise ConfigError("data.synthesize writes the GOPRO layout: use it with data/pairs=gopro")
        self.train_set: PairDataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: PairDataset | None = None

    @classmethod
    def real_pairs(cls, **settings: Any) -> DeblurDataModule:
        """A module over a folder of real pairs (`data=gopro`): nothing is generated. An experiment config made
        for synthetic data (say, `experiment=pretrained`) still sets `data.synthesize` when it is merged over
        `data=gopro`; that recipe is dropped here, so fine-tuning it on your own pairs never tries to turn
        them into a synthetic set."""
        return cls(**{**settings, "synthesize": None})

    def prepare_data(self) -> None:
        """Generate (or refresh) the synthetic set when a recipe is given; Lightning runs this on one process."""
        if self.synthesize is not None:
            ensure_synthetic_dataset(self.root, **self.synthesize)

    def setup(self, stage: str | None = None) -> None:
        """Build (and validate) the datasets the stage needs: 'fit', 'validate', 'test' or None for all."""
        hp = self.hparams
        if stage in ("fit", None) and self.train_set is None:
            # albumentations ignores the global seed: derive its seed from torch's, so seed_everything rules
            augment = train_transform(hp.crop_size, hp.hflip, hp.vflip, hp.rot90, seed=torch.initial_seed() % 2**32)
            self.train_set = self.pairs("train", augment)
            check_crop_fits(hp.crop_size, self.train_set)
        if stage in ("fit", "validate", None) and self.val_set is None:
            val_set = self.pairs("test", eval_transform(hp.val_crop_size))
            limit = len(val_set) if hp.val_max_images is None else min(hp.val_max_images, len(val_set))
            self.val_set = Subset(val_set, spread_indices(len(val_set), limit))
        if stage in ("test", None) and self.test_set is None:
            self.test_set = self.pairs("test")

    def pairs(self, split: str, transform: Any = None) -> PairDataset:
        """One split's pairs in the configured layout (GOPRO's takes `data.blur` as well)."""
        extra = {"blur": self.hparams.blur} if self.layout.func is GoProPairs else {}
        return self.layout(root=self.root, split=split, transform=transform, **extra)

    def train_dataloader(self) -> DataLoader:
        """Shuffled batches; the last incomplete batch is dropped, as the official code only sees full batches.

        A training set smaller than one batch would then give no batch at all, so in that case (tiny
        synthetic or user sets) the one smaller batch is kept instead.
        """
        train_set = self._require(self.train_set, "fit")
        device = self._batch_device(train_set)
        if device is not None:
            return DataLoader(self._device_batches(device), batch_size=None)
        drop_last = len(train_set) >= self.hparams.batch_size
        epoch = RepeatedDataset(train_set, self.hparams.train_repeats)
        return self._loader(epoch, self.hparams.batch_size, shuffle=True, drop_last=drop_last)

    def _batch_device(self, train_set: PairDataset) -> torch.device | None:
        """Where `data.on_device` has the batches cut: the trainer's device, or None for the DataLoader."""
        trainer = self.trainer
        device = trainer.strategy.root_device if trainer is not None else torch.device("cpu")
        setting = self.hparams.on_device
        if setting is False or (setting == "auto" and device.type != "cuda"):
            return None
        if setting == "auto":
            needed = sum(2 * 3 * s.height * s.width for s in map(probe_image, (p.blur for p in train_set.pairs)))
            free = torch.cuda.mem_get_info(device)[0]
            if needed > free / 4:
                log.info("data.on_device=auto: %d MB of pairs, %d MB free: DataLoader", needed >> 20, free >> 20)
                return None
        return device

    def _device_batches(self, device: torch.device) -> DeviceBatches:
        hp, trainer = self.hparams, self.trainer
        rank, world_size, epoch = (0, 1, 0) if trainer is None else (
            trainer.global_rank, trainer.world_size, trainer.current_epoch
        )  # fmt: skip
        batches = DeviceBatches(
            self.pairs("train"), device, hp.batch_size, hp.crop_size, hp.hflip, hp.vflip, hp.rot90, hp.train_repeats,
            seed=torch.initial_seed() % 2**31, rank=rank, world_size=world_size,
        )  # fmt: skip
        batches.epoch = epoch
        log.info("data.on_device: %d training pairs (%d MB) on %s", len(batches.images), batches.nbytes >> 20, device)
        return batches

    def val_dataloader(self) -> DataLoader:
        return self._loader(self._require(self.val_set, "validate"), self.hparams.val_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self._require(self.test_set, "test"), self.hparams.val_batch_size)

    def _loader(self, dataset: Dataset, batch_size: int, shuffle: bool = False, drop_last: bool = False) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            num_workers=workers,
            pin_memory=self.hparams.pin_memory,
            persistent_workers=self.hparams.persistent_workers and workers > 0,
            # fork: spawned workers crash under Hydra's joblib launcher ('Process' object has no attribute
            # 'env'); fork is
            # POSIX-only, so elsewhere the platform default is used
            multiprocessing_context=_FORK if workers > 0 else None,
            worker_init_fn=reseed_worker_augmentation if workers > 0 else None,
        )

    @staticmethod
    def _require(dataset: Dataset | None, stage: str) -> Dataset:
        if dataset is None:
            raise RuntimeError(f"DeblurDataModule: call setup('{stage}') before asking for this DataLoader.")
        return dataset


def check_crop_fits(crop_size: int, pairs: PairDataset) -> None:
    """Refuse a training crop larger than the largest training image: every crop would be mostly reflected
    padding. (Single smaller images in a user's set are padded; see train_transform.)"""
    sizes = [probe_image(pair.blur) for pair in pairs.pairs[:: max(1, len(pairs) // 16)]]
    largest = max(sizes, key=lambda s: min(s.height, s.width))
    if crop_size > min(largest.height, largest.width):
        raise ConfigError(
            f"data.crop_size={crop_size} is larger than the training images in {pairs.root} "
            f"({largest.width}x{largest.height} px): choose data.crop_size <= {min(largest.height, largest.width)}"
        )


DEFAULT_PAIRS = {"_target_": "srnlab.data.GoProPairs", "_partial_": True}  # configs saved before data/pairs


def _plain(node: Any) -> Any:
    """A config node from Hydra as plain Python, to be saved in checkpoints and compared as JSON."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


class RepeatedDataset(Dataset):
    """A dataset seen `times` times per epoch: index i is item i mod len(dataset)."""

    def __init__(self, dataset: Dataset, times: int) -> None:
        if times < 1:
            raise ValueError(f"data.train_repeats must be >= 1, got {times}")
        self.dataset, self.times = dataset, times

    def __len__(self) -> int:
        return len(self.dataset) * self.times

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index % len(self.dataset)]


def spread_indices(n: int, k: int) -> list[int]:
    """k of n sorted indices, evenly spaced from the first to the last: a validation subset of a sorted
    split then covers every sequence (scene) instead of only the first one."""
    if k >= n:
        return list(range(n))
    return [round(i * (n - 1) / max(k - 1, 1)) for i in range(k)]


_FORK = "fork" if "fork" in multiprocessing.get_all_start_methods() else None


def reseed_worker_augmentation(worker_id: int) -> None:
    """Give each DataLoader worker its own augmentation stream.

    albumentations keeps a private generator that every worker would inherit in the same state: all
    workers, in every epoch, would draw the same sequence of crop positions. torch hands each worker a
    different seed in every epoch (derived from the global seed, so runs stay reproducible).
    """
    info = get_worker_info()
    dataset = info.dataset
    while isinstance(dataset, Subset | RepeatedDataset):
        dataset = dataset.dataset
    reseed = getattr(dataset.transform, "set_random_seed", None)
    if reseed is not None:
        reseed(info.seed % 2**32)
