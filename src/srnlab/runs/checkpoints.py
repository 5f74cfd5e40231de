"""Reading checkpoints as data, never as programs, and checks that turn cryptic state-dict errors into messages
a user can act on.

A `.ckpt` is a pickle, and unpickling can call any function the file names. Every checkpoint srnlab reads goes
through `load_checkpoint`, which uses torch's weights-only unpickler: it builds tensors and plain containers
only, and refuses a file that names any other global before building a single object from it. srnlab's own
checkpoints hold nothing else (their hyperparameters are plain dicts). `trust=True` (the `--trust-checkpoint`
/ `trust_checkpoint=true` options) is the documented way back to full unpickling, for a file you made
yourself with an older tool; it logs a warning.
"""

from __future__ import annotations

import inspect
import json
import logging
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class
from safetensors import SafetensorError, safe_open

from srnlab.errors import UserError

log = logging.getLogger(__name__)
WEIGHTS_SUFFIX = ".safetensors"
WEIGHTS_FORMAT = "srnlab-weights/1"  # metadata['format'] of the weights files srn-export writes
# Our choice: 1 GiB, ten times the largest srnlab checkpoint (SC at the paper's width with Adam's moments,
# about 100 MB). A .ckpt is a zip whose directory states each entry's size before anything is read.
MAX_CHECKPOINT_BYTES = 2**30


class CheckpointError(UserError, ValueError):
    """A checkpoint that is missing, unreadable, or holds another variant than the config asks for."""


class UnreadableCheckpoint(CheckpointError):
    """A file that exists but cannot be read as a checkpoint: truncated, empty, or not a checkpoint at all."""


class UntrustedCheckpoint(CheckpointError):
    """A checkpoint whose pickle names code to run (a function or class beyond tensors and plain containers)."""


def load_checkpoint(path: str | Path, *, trust: bool = False, map_location: Any = "cpu") -> dict[str, Any]:
    """The checkpoint's contents, unpickled weights-only unless `trust` is set. Memory-mapped where the file
    allows it, so reading only the hyperparameters of a large file stays cheap."""
    path = _existing(path)
    check_zip_sizes(path)
    if trust:
        log.warning("loading %s with trust_checkpoint: its pickle may run code. Use this only for files you made", path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=not trust, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as e:
        refusal = None if trust else untrusted(path, e)
        if refusal:
            raise refusal from None
        raise _unreadable(path) from e
    except Exception as e:
        raise _unreadable(path) from e
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path} is not an srnlab checkpoint (it holds a {type(ckpt).__name__}, not a dict)")
    return ckpt


def check_zip_sizes(path: Path, limit: int = MAX_CHECKPOINT_BYTES) -> None:
    """Refuse a zip checkpoint that would unpack to more than `limit` bytes, or whose entries are compressed
    (torch.save stores them as they are, so that they can be memory-mapped): a few MB of compressed zeros
    would otherwise take gigabytes of memory before torch notices that they are no checkpoint. Reads only
    the zip's directory, so the check costs the same whatever the file claims."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a zip (an old-format pickle) or unreadable: torch.load reports it
    declared = sum(e.file_size for e in entries)
    packed = [e.filename for e in entries if e.compress_type != zipfile.ZIP_STORED]
    if declared > limit or packed:
        if declared > limit:
            why = f"it would unpack to {declared / 2**30:,.1f} GiB, more than any srnlab checkpoint (limit {limit:,} B)"
        else:
            why = f"{len(packed)} of its entries are compressed ({packed[0]}, ...), which torch.save never writes"
        raise UnreadableCheckpoint(f"refused checkpoint {path}: {why}. Pass a .ckpt written by srn-train or a "
                                   ".safetensors written by srn-export")  # fmt: skip


def untrusted(path: Path, error: pickle.UnpicklingError) -> UntrustedCheckpoint | None:
    """The refusal of a file that weights-only unpickling stopped at a global, naming the file and the
    functions and classes it would have called; None for a file that is merely damaged. The names come from
    disassembling the pickle (never running it), else from torch's own refusal (old non-zip format)."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # an old-format or damaged pickle: torch's message names the global it refused
        names = []
    names = names or re.findall(r"GLOBAL ([\w.]+)", str(error))
    if not names:
        return None
    return UntrustedCheckpoint(
        f"refused checkpoint {path}: loading it would call {', '.join(names)}. srnlab loads checkpoints as data "
        "only and refuses untrusted ones, since a pickle can run any code. If you made this file yourself with "
        "an older tool, pass --trust-checkpoint (srn-deblur, srn-export, srn-table1) or trust_checkpoint=true "
        "(srn-train, srn-eval) to load it anyway, then keep its weights as .safetensors (srn-export)"
    )


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        inside = sorted(path.rglob("*.ckpt"), key=lambda p: (p.name != "last.ckpt", str(p)))[:3]
        found = f" It holds {', '.join(map(str, inside))}." if inside else " It holds no .ckpt file."
        raise CheckpointError(f"{path} is a folder, not a checkpoint file.{found} Pass one file: a .ckpt written by "
                              "srn-train or a .safetensors written by srn-export")  # fmt: skip
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint not found: {path}. Pass a .ckpt written by srn-train or a .safetensors written by srn-export."
        )
    return path


def _unreadable(path: Path) -> UnreadableCheckpoint:
    return UnreadableCheckpoint(
        f"cannot read checkpoint {path}: it is not a complete srn-train checkpoint (truncated, empty, or "
        "another kind of file). Copy it again, or pass another one"
    )


def read_hparams(path: str | Path, *, trust: bool = False) -> dict[str, Any]:
    """The hyperparameters a DeblurModule checkpoint was saved with (for a weights file: its net and variant)."""
    path = _existing(path)
    if path.suffix == WEIGHTS_SUFFIX:
        return _weights_metadata(path)
    return checkpoint_hparams(path, load_checkpoint(path, trust=trust))


def checkpoint_hparams(path: Path, ckpt: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters of a loaded `.ckpt` as one flat dict (`net`, `variant`, the model's options), or the
    error that it is no srnlab checkpoint. DeblurModule saves {model, variant}; checkpoints from before it
    took the model node saved the model's keys at the top level: both read the same."""
    saved = ckpt.get("hyper_parameters")
    if isinstance(saved, dict) and isinstance(saved.get("model"), dict):
        saved = {**saved["model"], "variant": saved.get("variant")}
    if not isinstance(saved, dict) or "net" not in saved:
        raise CheckpointError(f"{path} is not an srnlab checkpoint (no 'net' hyperparameters)")
    return saved


def _weights_metadata(path: Path) -> dict[str, Any]:
    try:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError) as e:
        raise UnreadableCheckpoint(f"cannot read weights file {path}: {e}. Is it a complete .safetensors file?") from e
    if metadata.get("format") != WEIGHTS_FORMAT or "net" not in metadata:
        raise CheckpointError(f"{path} is not an srnlab weights file (no '{WEIGHTS_FORMAT}' metadata): use srn-export")
    try:
        return {"net": json.loads(metadata["net"]), "variant": json.loads(metadata.get("variant") or "null")}
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: its 'net' or 'variant' metadata is not valid JSON ({e}): re-export it") from e


def check_variant(path: str | Path, expected_net: dict[str, Any], *, trust: bool = False) -> dict[str, Any]:
    """Refuse a checkpoint whose network config differs from the expected one, naming every difference."""
    hparams = read_hparams(path, trust=trust)
    diffs = _differences(with_defaults(hparams["net"]), with_defaults(expected_net))
    if diffs:
        saved = (hparams.get("variant") or {}).get("id", "unknown")
        lines = "\n".join(f"  {key}: checkpoint {a!r} vs config {b!r}" for key, a, b in diffs)
        raise CheckpointError(
            f"checkpoint {path} holds variant '{saved}', whose network differs from the configured one:\n{lines}\n"
            "Pick the matching experiment (experiment=table1/<id>) or another checkpoint."
        )
    return hparams


def with_defaults(net: dict[str, Any]) -> dict[str, Any]:
    """A net config completed with the constructor defaults of options it does not name: a checkpoint written
    before an option existed (say, model.net.resize) was built with that option's default, so it still holds
    the same variant."""
    try:
        parameters = inspect.signature(get_class(net["_target_"])).parameters.values()
    except (KeyError, ImportError, ValueError):
        return net
    defaults = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    return {**defaults, **net}


def _differences(a: Any, b: Any, prefix: str = "model.net") -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in _differences(a.get(key), b.get(key), f"{prefix}.{key}")]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        a, b = list(a), list(b)
    return [] if a == b else [(prefix, a, b)]
