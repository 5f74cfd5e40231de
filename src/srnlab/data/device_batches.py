"""Training batches cut where the network trains, from pairs loaded there once.

A GPU step of a few milliseconds leaves a DataLoader no time to read, crop and copy 16 pairs from the host;
the synthetic set (96 pairs of 256x320, 47 MB as 8-bit) fits in GPU memory many times over, and GOPRO_Large's
training split (12 GB as 8-bit) on a large one. `data.on_device` loads the pairs onto the training device
once and draws each batch there: the same shuffled pass over the pairs per epoch as the DataLoader (each pair
`train_repeats` times), one random crop position per pair applied to blur and sharp alike, and the optional
flips and 90-degree rotations. Nothing crosses the bus during training.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import IterableDataset

from srnlab.data.pairs import PairDataset

DeviceBatch = dict[str, Tensor]


class DeviceBatches(IterableDataset):
    """One epoch of training batches ({"blur", "sharp"}: B x 3 x crop x crop float32 in [0, 1]) per iteration.

    Pairs are kept as 8-bit where they are exactly 8-bit (every PNG/JPEG set), float32 otherwise. Images
    smaller than the crop are padded by reflection first, as the DataLoader's transform pads them. The
    order is drawn from `seed` and the epoch number (`epoch`, set by the DataModule from the trainer), so a
    run resumed at an epoch boundary sees the batches the uninterrupted run saw; with several processes
    (DDP) each takes every `world_size`-th pair of that order.
    """

    def __init__(
        self,
        pairs: PairDataset,
        device: torch.device,
        batch_size: int,
        crop_size: int,
        hflip: bool = False,
        vflip: bool = False,
        rot90: bool = False,
        repeats: int = 1,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__()
        self.images = [_load(pairs[i], crop_size, device) for i in range(len(pairs))]
        self.crop, self.hflip, self.vflip, self.rot90 = crop_size, hflip, vflip, rot90
        self.seed, self.epoch, self.rank, self.world_size = seed, 0, rank, world_size
        self.order_size = len(self.images) * repeats
        items = self.order_size // world_size  # each process takes every world_size-th pick, as DistributedSampler
        # the DataLoader's rule: full batches only, unless the set is smaller than one batch
        self.batch_size = max(min(batch_size, items), 1)
        self.batches = max(items // self.batch_size, 1)

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for pair in self.images for t in pair)

    def __len__(self) -> int:
        return self.batches

    def __iter__(self) -> Iterator[DeviceBatch]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        self.epoch += 1
        order = (torch.randperm(self.order_size, generator=generator) % len(self.images))[self.rank :: self.world_size]
        for b in range(self.batches):
            picks = order[b * self.batch_size : (b + 1) * self.batch_size].tolist()
            crops = [self._crop(i, generator) for i in picks]
            yield {key: torch.stack([c[k] for c in crops]) for k, key in enumerate(("blur", "sharp"))}

    def _crop(self, index: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """One random window of pair `index`, blur and sharp alike, with its random flips and rotation."""
        blur, sharp = self.images[index]
        height, width = blur.shape[-2:]
        top = int(torch.randint(height - self.crop + 1, (1,), generator=generator))
        left = int(torch.randint(width - self.crop + 1, (1,), generator=generator))
        window = [t[:, top : top + self.crop, left : left + self.crop] for t in (blur, sharp)]
        dims = [d for d, on in ((-1, self.hflip), (-2, self.vflip)) if on and torch.rand(1, generator=generator) < 0.5]
        turns = int(torch.randint(4, (1,), generator=generator)) if self.rot90 else 0
        out = []
        for t in window:
            t = t.flip(dims) if dims else t
            t = torch.rot90(t, turns, dims=(-2, -1)) if turns else t
            out.append(t.float() / 255 if t.dtype == torch.uint8 else t)
        return out[0], out[1]


def _load(item: dict, crop_size: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """A pair as device tensors (3 x H x W), 8-bit where that loses nothing, padded by reflection to the crop."""
    pair = []
    for key in ("blur", "sharp"):
        image = item[key].numpy()
        pads = [(0, 0)] + [
            ((crop_size - s + 1) // 2, (crop_size - s) // 2) if s < crop_size else (0, 0) for s in image.shape[1:]
        ]
        image = np.pad(image, pads, mode="reflect")
        as_bytes = np.rint(image * 255).astype(np.uint8)
        exact = np.array_equal(as_bytes.astype(np.float32) / np.float32(255), image)  # srnlab.image_io's scaling
        pair.append(torch.from_numpy(as_bytes if exact else np.ascontiguousarray(image)).to(device))
    return pair[0], pair[1]
