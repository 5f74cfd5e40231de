"""Why SR-EDRB3's margin over its blurry input stalls at a few tenths of a dB (docs/learning-budget.md).

Three measurements, each a candidate explanation ruled in or out:

1. **Generic sharpening.** The best single linear filter (least squares, k x k, one filter for every pair and
   channel) fitted on the training pairs and scored on the test split. A network that gains no more than
   this has learned to sharpen, not to undo each pair's own motion.
2. **Over-fitting.** A trained network's margin on training pairs against its margin on the held-out test
   pairs. Equal margins mean it under-fits: it has not learned the training blur either. With `--seen` (new
   pairs of the training photos, e.g. `srn-synth --seed 7`), a third margin tells which it learned: each
   training pair, or the training scenes (it deblurs new blur of the photos it saw, not of unseen ones).
3. **An ill-posed target.** `sharp` is the middle sub-frame in time, while a blind deblurrer recovers the scene
   where the blur kernel's mass lies. The offset between the two, and the score of a perfect deblurrer that
   lands on the kernel's centroid, say how much of the gain the target's position takes away.

Scores follow the project's convention (8-bit outputs, mean per-image PSNR). Run:
`python -m srnlab.studies.plateau_diagnostics --weights src/srnlab/pretrained/sr_edrb3_synthetic.safetensors
--train data/synthetic-pretrained-dl33/train --test data/synthetic/test`. Several `--weights PATH=LABEL` with
`--plot PNG` draw their margins side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from srnlab.data.synth import SKIMAGE_SOURCES, BlurSynthesizer, Recipe, split_sources
from srnlab.data.synth.render import Pose
from srnlab.data.synth.sources import load_source
from srnlab.image_io import read_image, to_tensor
from srnlab.lit.metrics import per_image_psnr, quantize
from srnlab.lit.module import load_module


def pairs(root: Path, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` blurry/sharp pairs spread evenly over a GOPRO-layout split (every sequence, not the first)."""
    blurs = sorted(root.glob("*/blur/*.png"))
    if not blurs:
        raise SystemExit(f"{root}: no */blur/*.png pairs; generate the set first (srn-synth or srn-train).")
    picks = np.unique(np.linspace(0, len(blurs) - 1, min(count, len(blurs))).astype(int))
    return [(read_image(blurs[i]), read_image(blurs[i].parent.parent / "sharp" / blurs[i].name)) for i in picks]


def psnr(output: np.ndarray, sharp: np.ndarray) -> float:
    return float(per_image_psnr(quantize(to_tensor(output)[None]), to_tensor(sharp)[None])[0])


def mean_margin(outputs: list[np.ndarray], split: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Mean PSNR of the blurry inputs and the mean gain of `outputs` over them."""
    blur = [psnr(b, s) for b, s in split]
    gain = [psnr(o, s) - p for o, (_, s), p in zip(outputs, split, blur, strict=True)]
    return float(np.mean(blur)), float(np.mean(gain))


def linear_filter(train: list[tuple[np.ndarray, np.ndarray]], size: int, samples: int, seed: int) -> np.ndarray:
    """The k x k filter minimising the squared error from blurry to sharp pixels over random training pixels."""
    rng = np.random.default_rng(seed)
    r = size // 2
    rows, targets = [], []
    for blur, sharp in train:
        ys = rng.integers(r, blur.shape[0] - r, samples)
        xs = rng.integers(r, blur.shape[1] - r, samples)
        windows = np.lib.stride_tricks.sliding_window_view(blur, (size, size), axis=(0, 1))  # H' x W' x C x k x k
        rows.append(windows[ys - r, xs - r].reshape(-1, size * size))
        targets.append(sharp[ys, xs].reshape(-1))
    weights, *_ = np.linalg.lstsq(np.concatenate(rows), np.concatenate(targets), rcond=None)
    return weights.reshape(size, size).astype(np.float32)


def network_outputs(module: torch.nn.Module, split: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    with torch.inference_mode():
        return [module(to_tensor(b)[None])[0].permute(1, 2, 0).numpy() for b, _ in split]


def weights_and_label(text: str) -> tuple[Path, str]:
    """PATH or PATH=LABEL; the label defaults to the file's run folder for a `last.ckpt`, else its name."""
    path, _, label = text.partition("=")
    weights = Path(path)
    if not label:
        label = weights.resolve().parent.parent.name if weights.name == "last.ckpt" else weights.name
    return weights, label


SPLIT_LABELS = {
    "train": "pairs of the --train split",
    "seen": "new pairs of the training photos",
    "test": "held-out photos (test split)",
}


def plot_margins(gains: dict[str, dict[str, float]], floor: float | None, path: Path) -> None:
    """Grouped bars, one group per network, one bar per split; the best linear filter's test gain as a line."""
    splits = list(next(iter(gains.values())))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(gains) + 3), 4.5))
    width = 0.8 / len(splits)
    for i, split in enumerate(splits):
        xs = np.arange(len(gains)) + (i - (len(splits) - 1) / 2) * width
        ax.bar(xs, [g[split] for g in gains.values()], width, color=f"C{i}", label=SPLIT_LABELS[split])
    if floor is not None:
        ax.axhline(floor, color="black", ls="--", lw=1, label="best linear filter, held-out photos")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xticks(np.arange(len(gains)), list(gains), fontsize=8)
    ax.set_ylabel("gain over the blurry input (dB)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def centroid_target(count: int, seed: int) -> tuple[float, float, float]:
    """Mean offset of the kernel's centroid from the middle sub-frame (as a fraction of the camera path's
    length), and mean PSNR of blur and of a perfect deblurrer landing on the centroid, on the test photos'
    scenes drawn by the default synthesiser (camera motion only: the moving objects are left out)."""
    synthesizer = BlurSynthesizer(object_probability=0.0)
    rng = np.random.default_rng(seed)
    _, names = split_sources(list(SKIMAGE_SOURCES), Recipe.n_train, Recipe.n_test)  # the default held-out photos
    offsets, blur_psnr, centroid_psnr = [], [], []
    for i in range(count):
        pair = synthesizer.render(load_source(None, names[i % len(names)]), rng)
        xy = np.array([[p.x, p.y] for p in pair.poses])
        middle = pair.poses[len(pair.poses) // 2]
        centre = xy.mean(axis=0)
        at_centroid = synthesizer.warp(pair.source, Pose(centre[0], centre[1], middle.angle, middle.scale))
        offsets.append(np.linalg.norm(centre - xy[len(xy) // 2]) / np.linalg.norm(np.diff(xy, axis=0), axis=1).sum())
        blur_psnr.append(psnr(pair.blur, pair.sharp))
        centroid_psnr.append(psnr(at_centroid, pair.sharp))
    return float(np.mean(offsets)), float(np.mean(blur_psnr)), float(np.mean(centroid_psnr))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True, help="training split of a synthetic set")
    parser.add_argument("--test", type=Path, required=True, help="test split (the default set's held-out photos)")
    parser.add_argument(
        "--weights", type=weights_and_label, nargs="+", default=[], help="trained networks: PATH or PATH=LABEL"
    )
    parser.add_argument("--seen", type=Path, help="new pairs of the training photos (a set made with another seed)")
    parser.add_argument("--plot", type=Path, help="bar chart of the networks' gains per split (.png)")
    parser.add_argument("--pairs", type=int, default=24, help="pairs per split")
    parser.add_argument("--filter-sizes", type=int, nargs="+", default=[5, 11, 21])
    parser.add_argument(
        "--centroid-pairs", type=int, default=32, help="rendered pairs for the target's position (0: skip it)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train, test = pairs(args.train, 60), pairs(args.test, args.pairs)
    splits = {"train": train[:: max(len(train) // args.pairs, 1)][: args.pairs]}
    if args.seen:
        splits["seen"] = pairs(args.seen, args.pairs)
    splits["test"] = test

    print("| what | split | blurry input | gain |\n|---|---|---:|---:|")
    floor = None  # the best filter's gain: the line a deblurrer must clear
    for size in args.filter_sizes:
        kernel = linear_filter(train, size, samples=800, seed=args.seed)
        outputs = [cv2.filter2D(b, -1, kernel, borderType=cv2.BORDER_REFLECT) for b, _ in test]
        blur, gain = mean_margin(outputs, test)
        floor = gain if floor is None else max(floor, gain)
        what = f"best linear {size}x{size} filter (fitted on training pairs)"
        print(f"| {what} | test | {blur:.2f} dB | {gain:+.2f} dB |")
    gains: dict[str, dict[str, float]] = {}
    for weights, label in args.weights:
        module = load_module(weights)  # once per network, not once per split
        gains[label] = {}
        for name, split in splits.items():
            blur, gains[label][name] = mean_margin(network_outputs(module, split), split)
            print(f"| {label} | {name} | {blur:.2f} dB | {gains[label][name]:+.2f} dB |")
    if args.plot and gains:
        plot_margins(gains, floor, args.plot)
        print(f"\nwrote {args.plot}")
    if args.centroid_pairs <= 0:
        return
    offset, blur, centroid = centroid_target(count=args.centroid_pairs, seed=args.seed)
    print(
        f"\nMiddle sub-frame vs the kernel's centroid (default synthesiser, camera motion, {args.centroid_pairs} "
        f"pairs): offset {offset:.1%} of the path length; blurry input {blur:.2f} dB, a perfect deblurrer "
        f"landing on the centroid {centroid:.2f} dB."
    )


if __name__ == "__main__":
    main()
