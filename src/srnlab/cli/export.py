"""`srn-export`: a training checkpoint's network as a safetensors weights file (srnlab.runs.weights)."""

from __future__ import annotations

import argparse
from pathlib import Path

from srnlab.cli import add_trust_option
from srnlab.cli.runtime import user_errors
from srnlab.errors import UserError
from srnlab.runs.checkpoints import WEIGHTS_SUFFIX
from srnlab.runs.weights import DTYPES, export_weights, load_network


def main(argv: list[str] | None = None) -> None:
    """`srn-export CKPT --out model.safetensors`: the network's weights of a training checkpoint."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("ckpt", type=Path, help="a .ckpt written by srn-train")
    parser.add_argument("--out", type=Path, required=True, help="the .safetensors file to write")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float16", help="weights dtype (default float16)")
    add_trust_option(parser, "CKPT")
    args = parser.parse_args(argv)
    with user_errors("srn-export", f"--out <file>{WEIGHTS_SUFFIX}"):
        if args.out.suffix != WEIGHTS_SUFFIX:
            raise UserError(f"--out must end in {WEIGHTS_SUFFIX}, got {args.out}")
        net, hparams = load_network(args.ckpt, trust=args.trust_checkpoint)
        path = export_weights(net, hparams, args.out, DTYPES[args.dtype])
    print(f"{path}: {sum(p.numel() for p in net.parameters()):,} parameters as {args.dtype}")


if __name__ == "__main__":
    main()
