"""Checkpoint files that a kill or a power cut can never leave half-written, and that are read as data only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins.io import TorchCheckpointIO

from srnlab.runs.checkpoints import load_checkpoint
from srnlab.runs.files import replaced_atomically


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a hidden temporary file in the same folder, fsyncs it, renames it over the
    target and fsyncs the folder. A rename within one folder is atomic, so at any moment the target is the
    old complete file or the new complete file. (Lightning's own writer goes through an fsspec transaction
    without fsync, and its temporary file may live on another file system.)

    Reads go through `srnlab.runs.checkpoints.load_checkpoint`: weights-only, unless the Trainer entry point is
    called with `weights_only=False` (`trust_checkpoint=true`)."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options (local files only)")
        with replaced_atomically(Path(path)) as partial, partial.open("wb") as f:
            torch.save(checkpoint, f)

    def load_checkpoint(self, path: Any, map_location: Any | None = None, weights_only: bool | None = None) -> dict:
        return load_checkpoint(path, trust=weights_only is False, map_location=map_location)
