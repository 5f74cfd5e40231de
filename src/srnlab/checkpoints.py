"""Checkpoint checks that turn cryptic state-dict errors into messages a user can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or holds another variant than the config asks for."""


def read_hparams(path: str | Path) -> dict[str, Any]:
    """The hyperparameters a DeblurModule checkpoint was saved with."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}. Pass ckpt_path=<path to a .ckpt written by srn-train>.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e}. Is it a complete srn-train checkpoint?") from e
    if "hyper_parameters" not in ckpt or "net" not in ckpt["hyper_parameters"]:
        raise CheckpointError(f"{path} is not an srnlab checkpoint (no 'net' hyperparameters)")
    return ckpt["hyper_parameters"]


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
