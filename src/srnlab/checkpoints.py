"""Checkpoint checks that turn cryptic state-dict errors into messages a user can act on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from srnlab.errors import UserError

WEIGHTS_SUFFIX = ".safetensors"
WEIGHTS_FORMAT = "srnlab-weights/1"  # metadata['format'] of the weights files srn-export writes


class CheckpointError(UserError, ValueError):
    """A checkpoint that is missing, unreadable, or holds another variant than the config asks for."""


class UnreadableCheckpoint(CheckpointError):
    """A file that exists but cannot be read as a checkpoint: truncated, empty, or not a checkpoint at all."""


def read_hparams(path: str | Path) -> dict[str, Any]:
    """The hyperparameters a DeblurModule checkpoint was saved with (for a weights file: its net and variant)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint not found: {path}. Pass a .ckpt written by srn-train or a .safetensors written by srn-export."
        )
    if path.suffix == WEIGHTS_SUFFIX:
        return _weights_metadata(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as e:
        raise UnreadableCheckpoint(
            f"cannot read checkpoint {path}: it is not a complete srn-train checkpoint (truncated, empty, or "
            "another kind of file). Copy it again, or pass another one"
        ) from e
    if "hyper_parameters" not in ckpt or "net" not in ckpt["hyper_parameters"]:
        raise CheckpointError(f"{path} is not an srnlab checkpoint (no 'net' hyperparameters)")
    return ckpt["hyper_parameters"]


def _weights_metadata(path: Path) -> dict[str, Any]:
    try:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError) as e:
        raise UnreadableCheckpoint(f"cannot read weights file {path}: {e}. Is it a complete .safetensors file?") from e
    if metadata.get("format") != WEIGHTS_FORMAT or "net" not in metadata:
        raise CheckpointError(f"{path} is not an srnlab weights file (no '{WEIGHTS_FORMAT}' metadata): use srn-export")
    return {"net": json.loads(metadata["net"]), "variant": json.loads(metadata.get("variant") or "null")}


def check_variant(path: str | Path, expected_net: dict[str, Any]) -> dict[str, Any]:
    """Refuse a checkpoint whose network config differs from the expected one, naming every difference."""
    hparams = read_hparams(path)
    diffs = _differences(hparams["net"], expected_net)
    if diffs:
        saved = (hparams.get("variant") or {}).get("id", "unknown")
        lines = "\n".join(f"  {key}: checkpoint {a!r} vs config {b!r}" for key, a, b in diffs)
        raise CheckpointError(
            f"checkpoint {path} holds variant '{saved}', whose network differs from the configured one:\n{lines}\n"
            "Pick the matching experiment (experiment=table1/<id>) or another checkpoint."
        )
    return hparams


def _differences(a: Any, b: Any, prefix: str = "model.net") -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in _differences(a.get(key), b.get(key), f"{prefix}.{key}")]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        a, b = list(a), list(b)
    return [] if a == b else [(prefix, a, b)]
