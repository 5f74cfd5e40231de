"""Network weights as safetensors: what srnlab ships, and what `srn-export` turns a training checkpoint into.

A safetensors file holds tensors and string metadata only, so loading one can never run code, and it is a
fraction of a training checkpoint's size (no optimizer state). The metadata carries the network config and
the variant, so a weights file rebuilds its own network exactly as a checkpoint does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

import srnlab
from srnlab.checkpoints import WEIGHTS_FORMAT, WEIGHTS_SUFFIX, CheckpointError, read_hparams
from srnlab.lit import DeblurModule
from srnlab.runfiles import replaced_atomically

PRETRAINED = Path(__file__).resolve().parent / "pretrained" / "sr_edrb3_synthetic.safetensors"
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def export_weights(module: DeblurModule, path: str | Path, dtype: torch.dtype = torch.float16) -> Path:
    """Write the network's weights (cast to `dtype`) and its config; atomically, so a reader never sees half a
    file."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in module.net.state_dict().items()}
    metadata = {
        "format": WEIGHTS_FORMAT,
        "srnlab_version": srnlab.__version__,
        "net": json.dumps(module.hparams.net),
        "variant": json.dumps(module.hparams.get("variant")),
    }
    with replaced_atomically(path) as partial:
        save_file(tensors, partial, metadata=metadata)
    return path


def load_module(
    path: str | Path, map_location: str | torch.device = "cpu", *, trust: bool = False, **hparams: Any
) -> DeblurModule:
    """A DeblurModule from a training checkpoint or a safetensors weights file, in fp32 and eval mode; a .ckpt
    is read weights-only unless `trust` is set. `hparams` override saved ones that only steer inference
    (channels_last, compile, self_ensemble)."""
    path = Path(path)
    if path.suffix != WEIGHTS_SUFFIX:
        return DeblurModule.load_from_checkpoint(
            path, map_location=map_location, weights_only=not trust, **hparams
        ).eval()
    saved = read_hparams(path)
    module = DeblurModule(net=saved["net"], optimizer={}, scheduler={}, variant=saved.get("variant"), **hparams)
    state = {k: v.float() for k, v in load_file(path).items()}
    check_tensors_fit(path, state, module.net.state_dict())
    module.net.load_state_dict(state)
    return module.to(map_location).eval()


def check_tensors_fit(path: Path, tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Refuse a weights file whose tensors are not those of the network its metadata describes, naming the
    first differences (a file edited by hand, or metadata copied from another export)."""
    problems = [f"missing {k}" for k in sorted(expected.keys() - tensors.keys())]
    problems += [f"unexpected {k}" for k in sorted(tensors.keys() - expected.keys())]
    problems += [
        f"{k}: file {tuple(tensors[k].shape)} vs network {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise CheckpointError(
            f"{path}: its tensors do not fit the network its metadata describes ({shown}). Re-export it with "
            "srn-export from the checkpoint it came from."
        )
