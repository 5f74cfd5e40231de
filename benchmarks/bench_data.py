"""Loader throughput: training pairs per second, random 256x256 crops from 1280x720 PNG pairs.

Generates a small temporary GOPRO-size set with the synthesiser, then times the DataModule's training
loader with 0, 1 and 2 worker processes (persistent, first batch excluded: steady state, as in a long run).
Run: `python benchmarks/bench_data.py` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from srnlab.data.datamodule import DeblurDataModule
from srnlab.data.synth import synthesize_dataset


def pairs_per_second(root: Path, workers: int, crop: int, batch_size: int, epochs: int) -> float:
    data = DeblurDataModule(
        root, crop_size=crop, batch_size=batch_size, num_workers=workers, persistent_workers=workers > 0
    )
    data.setup("fit")
    loader = data.train_dataloader()
    batches = iter(loader)
    next(batches)  # worker start-up and the first decode are not steady state
    start, count = time.perf_counter(), 0
    for epoch in range(epochs):
        for batch in batches if epoch == 0 else loader:
            count += batch["blur"].shape[0]
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=16, help="1280x720 training pairs to generate")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--crop", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the loader's work is decoding and cropping; keep torch from competing for cores
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "gopro_size"
        start = time.perf_counter()
        synthesize_dataset(root, n_train=args.pairs, n_test=2, seed=0, size=(720, 1280), progress=False)
        print(f"generated {args.pairs + 2} 1280x720 pairs in {time.perf_counter() - start:.1f} s")
        crops = f"{args.crop}x{args.crop} crops"
        print(f"cpu cores: {os.cpu_count()}, batch {args.batch_size}, {crops}, {args.epochs} epochs")
        for workers in (0, 1, 2):
            rate = pairs_per_second(root, workers, args.crop, args.batch_size, args.epochs)
            print(f"num_workers={workers}: {rate:6.1f} pairs/s ({1000 / rate:5.1f} ms per pair)")


if __name__ == "__main__":
    main()
