"""Network weights as safetensors: what srnlab ships, and what `srn-export` turns a training checkpoint into.

A safetensors file holds tensors and string metadata only, so loading one can never run code, and it is a
fraction of a training checkpoint's size (no optimizer state). The metadata carries the network config and
the variant, so a weights file rebuilds its own network exactly as a checkpoint does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

import srnlab
from srnlab.runs.checkpoints import (
    WEIGHTS_FORMAT,
    WEIGHTS_SUFFIX,
    CheckpointError,
    checkpoint_hparams,
    load_checkpoint,
    read_hparams,
)
from srnlab.runs.files import replaced_atomically

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained" / "sr_edrb3_synthetic.safetensors"
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def export_weights(
    net: nn.Module, hparams: Mapping[str, Any], path: str | Path, dtype: torch.dtype = torch.float16
) -> Path:
    """Write the network's weights (cast to `dtype`) with its config and variant from `hparams`; atomically, so
    a reader never sees half a file."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in net.state_dict().items()}
    metadata = {
        "format": WEIGHTS_FORMAT,
        "srnlab_version": srnlab.__version__,
        "net": json.dumps(hparams["net"]),
        "variant": json.dumps(hparams.get("variant")),
    }
    with replaced_atomically(path) as partial:
        save_file(tensors, partial, metadata=metadata)
    return path


def read_network(path: str | Path, *, trust: bool = False) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """The hyperparameters and the network's fp32 tensors of a safetensors weights file or a training
    checkpoint (its state dict's `net.` entries, unprefixed); a .ckpt is read weights-only unless `trust`."""
    path = Path(path)
    if path.suffix == WEIGHTS_SUFFIX:
        hparams = read_hparams(path)
        return hparams, {k: v.float() for k, v in load_file(path).items()}
    ckpt = load_checkpoint(path, trust=trust)
    hparams = checkpoint_hparams(path, ckpt)
    state = ckpt.get("state_dict") or {}
    return hparams, {k.removeprefix("net."): v.float() for k, v in state.items() if k.startswith("net.")}


def load_network(
    path: str | Path, map_location: str | torch.device = "cpu", *, trust: bool = False
) -> tuple[nn.Module, dict[str, Any]]:
    """The network a checkpoint or weights file holds, rebuilt from its own config, in fp32 and eval mode, and
    its hyperparameters. No Lightning: this is the whole of what deblurring needs (srnlab.infer.deblurrer)."""
    hparams, state = read_network(path, trust=trust)
    net = instantiate(hparams["net"])
    check_tensors_fit(Path(path), state, net.state_dict())
    net.load_state_dict(state)
    return net.to(map_location).eval(), hparams


def check_tensors_fit(path: Path, tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Refuse a file whose tensors are not those of the network its saved config describes, naming the first
    differences (a file edited by hand, or metadata copied from another export)."""
    problems = [f"missing {k}" for k in sorted(expected.keys() - tensors.keys())]
    problems += [f"unexpected {k}" for k in sorted(tensors.keys() - expected.keys())]
    problems += [
        f"{k}: file {tuple(tensors[k].shape)} vs network {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        remedy = "Re-export it with srn-export from the checkpoint it came from"
        if path.suffix != WEIGHTS_SUFFIX:
            remedy = "Pass a checkpoint as srn-train wrote it"
        raise CheckpointError(f"{path}: its tensors do not fit the network its config describes ({shown}). {remedy}.")
