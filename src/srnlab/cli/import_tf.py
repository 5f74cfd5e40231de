"""`srn-import-tf`: an official SRN-DeblurNet checkpoint (TensorFlow 1) as an srnlab checkpoint, with no
TensorFlow installed (srnlab.release)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from srnlab.cli.runtime import user_errors
from srnlab.errors import UserError
from srnlab.models.measure import count_parameters
from srnlab.release.importer import MODELS, import_release, save_imported
from srnlab.runs.checkpoints import WEIGHTS_SUFFIX


def main(argv: list[str] | None = None) -> None:
    """`srn-import-tf CKPT_PREFIX --model color|gray|lstm --out model.ckpt`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "prefix", type=Path, help="the checkpoint prefix, e.g. checkpoints/color/deblur.model-523000 (or its .index)"
    )
    parser.add_argument("--model", choices=MODELS, required=True, help="which release it is (experiment=release/MODEL)")
    parser.add_argument(
        "--out", type=Path, required=True, help=f"the .ckpt or {WEIGHTS_SUFFIX} to write (srn-eval, srn-deblur)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    with user_errors("srn-import-tf", "--out <file>.ckpt"):
        if args.out.suffix not in (".ckpt", WEIGHTS_SUFFIX):
            raise UserError(f"--out must end in .ckpt or {WEIGHTS_SUFFIX}, got {args.out}")
        module = import_release(args.prefix, args.model)
        path = save_imported(module, args.out)
    print(
        f"{path}: the official '{args.model}' model, {count_parameters(module.net):,} parameters "
        f"(experiment=release/{args.model}). Deblur with: srn-deblur PHOTO --ckpt {path}"
    )


if __name__ == "__main__":
    main()
