"""`srn-synth`: a synthetic set from the command line, with the recipe's own defaults."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from srnlab.cli.runtime import user_errors
from srnlab.data.synth.dataset import synthesize_dataset
from srnlab.data.synth.recipe import Recipe, read_recipe


def main(argv: Sequence[str] | None = None) -> None:
    """`srn-synth`: write (or refresh) a synthetic GOPRO-style set; an up-to-date set is left alone."""
    parser = argparse.ArgumentParser(
        prog="srn-synth",
        description="Make a GOPRO_Large-style blurry/sharp dataset from sharp photos (default: scikit-image's).",
    )
    parser.add_argument("--out", type=Path, default=Path("data/synthetic"), help="output folder (default: %(default)s)")
    default = Recipe()
    parser.add_argument("--n-train", type=int, default=default.n_train, help="training pairs (default: %(default)s)")
    parser.add_argument("--n-test", type=int, default=default.n_test, help="test pairs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=default.seed, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--size", type=int, nargs=2, default=default.size, metavar=("H", "W"), help="frame size (default: %(default)s)"
    )
    parser.add_argument("--sources", type=Path, default=None, help="folder of your own sharp photos (PNG/JPEG)")
    parser.add_argument(
        "--extra-training-photos",
        action="store_true",
        help="also train on the other sharp photos inside installed packages (the test photos stay the same)",
    )
    parser.add_argument(
        "--dead-leaves",
        type=int,
        default=default.dead_leaves,
        metavar="N",
        help="also train on N procedural dead-leaves scenes (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    with user_errors("srn-synth", "--out <folder>"):
        recipe = Recipe(
            args.n_train, args.n_test, args.seed, args.size, args.sources, args.extra_training_photos, args.dead_leaves
        )
        if read_recipe(args.out) == recipe.to_json():
            print(f"{args.out} already holds this recipe; nothing to do.")
            return
        start = time.perf_counter()
        scores = synthesize_dataset(args.out, recipe, overwrite=True)
    values = sorted(scores.values())
    print(
        f"wrote {len(values)} pairs to {args.out} in {time.perf_counter() - start:.1f} s; PSNR(blur, sharp): "
        f"min {values[0]:.2f}, median {values[len(values) // 2]:.2f}, max {values[-1]:.2f} dB"
    )


if __name__ == "__main__":
    main()
