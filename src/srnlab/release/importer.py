"""`srn-import-tf`: an official TF1 checkpoint as an srnlab checkpoint that srn-eval and srn-deblur use like any
other (srnlab.release.tf_checkpoint reads it, srnlab.release.mapping says where each variable goes)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf

from srnlab.config import compose_config
from srnlab.lit.module import DeblurModule
from srnlab.release.mapping import SCOPE, tf_names, to_torch, torch_shape
from srnlab.release.tf_checkpoint import TFCheckpoint
from srnlab.runs.checkpoints import WEIGHTS_SUFFIX, CheckpointError
from srnlab.runs.files import replaced_atomically
from srnlab.runs.weights import export_weights

log = logging.getLogger(__name__)
MODELS = ("color", "gray", "lstm")  # the released checkpoints, configs experiment=release/<model>


def release_module(model: str) -> DeblurModule:
    """A DeblurModule of the release config `experiment=release/<model>`, freshly initialised."""
    return DeblurModule.from_config(compose_config("train", [f"experiment=release/{model}"]))


def import_release(prefix: str | Path, model: str) -> DeblurModule:
    """The official checkpoint at `prefix` loaded into the network of `experiment=release/<model>`, after checking
    that its variables and ours pair up one to one with the same shapes, and every tensor's size and checksum."""
    checkpoint = TFCheckpoint(prefix)
    module = release_module(model)
    problems = mismatches(checkpoint, module)
    if problems:
        fitting = [other for other in MODELS if other != model and not mismatches(checkpoint, release_module(other))]
        hint = f"It holds the '{fitting[0]}' model: pass --model {fitting[0]}" if fitting else "Is it an SRN release?"
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise CheckpointError(f"{checkpoint.index_path} does not hold the '{model}' model ({shown}). {hint}")
    _check_shard_blob(checkpoint, module.hparams.variant["release"])
    state = {key: to_torch(checkpoint.read(tf_name), tf_name) for key, tf_name in tf_names(module.net).items()}
    module.net.load_state_dict(state)
    return module.eval()


def mismatches(checkpoint: TFCheckpoint, module: DeblurModule) -> list[str]:
    """Why the checkpoint's model variables and the module's parameters do not pair one to one: variables
    missing or unexpected, and shapes that differ in PyTorch's layout. Empty when they pair."""
    names = tf_names(module.net)
    theirs = {name for name in checkpoint.entries if name.startswith(f"{SCOPE}/")}
    problems = [f"missing {name}" for name in sorted(set(names.values()) - theirs)]
    problems += [f"unexpected {name}" for name in sorted(theirs - set(names.values()))]
    state = module.net.state_dict()
    for key, tf_name in names.items():
        if tf_name in theirs and torch_shape(checkpoint.entries[tf_name].shape) != tuple(state[key].shape):
            shape = checkpoint.entries[tf_name].shape
            problems.append(f"{tf_name} is {shape}, the network's {key} {tuple(state[key].shape)}")
    return problems


def _check_shard_blob(checkpoint: TFCheckpoint, release: dict[str, Any]) -> None:
    """Warn when the shard is not byte for byte the released one (reference/official_srn/README.md lists each
    shard's git blob id): a re-saved or fine-tuned checkpoint imports as well, but is not the authors' model."""
    path = checkpoint.shard_path(0)
    if not path.is_file():
        raise CheckpointError(f"checkpoint shard not found: {path} (listed by {checkpoint.index_path})")
    blob = git_blob_id(path)
    if blob != release["shard_git_blob"]:
        log.warning(
            "%s has git blob id %s, not the official '%s' release's %s: importing it anyway, but it is not "
            "the authors' released checkpoint",
            path,
            blob,
            release["model"],
            release["shard_git_blob"],
        )


def git_blob_id(path: Path) -> str:
    """What `git hash-object` prints for the file: the SHA-1 of 'blob <size>\\0' and the contents."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_imported(module: DeblurModule, out: Path) -> Path:
    """A .safetensors weights file (fp32) or a .ckpt that `DeblurModule.load_from_checkpoint` reads
    weights-only: the state dict and plain-dict hyperparameters, no trainer state."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == WEIGHTS_SUFFIX:
        return export_weights(module.net, module.flat_hparams, out, torch.float32)
    checkpoint = {
        "state_dict": module.state_dict(),
        "hyper_parameters": OmegaConf.to_container(OmegaConf.create(dict(module.hparams))),
        "pytorch-lightning_version": pl.__version__,
    }
    with replaced_atomically(out) as partial:
        torch.save(checkpoint, partial)
    return out
