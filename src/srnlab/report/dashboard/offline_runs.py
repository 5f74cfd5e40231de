"""Read an offline W&B run (`offline-run-*/run-<id>.wandb`) without syncing it.

wandb 0.31 writes offline runs only as a binary log: a 7-byte file header (":W&B", magic 0xBEE1, version 0)
followed by LevelDB-style log blocks of 32 KiB whose records carry serialised `wandb_internal_pb2.Record`
protobufs. Reading them back lets tests and notebooks check what reached W&B on a machine with no network.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

_FILE_HEADER = struct.Struct("<4sHB")
_RECORD_HEADER = struct.Struct("<IHB")
_BLOCK = 32 * 1024
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def iter_records(path: str | Path) -> Iterator[wandb_internal_pb2.Record]:
    """Every record of a .wandb file, in order."""
    data = Path(path).read_bytes()
    ident, magic, _ = _FILE_HEADER.unpack_from(data)
    if ident != b":W&B" or magic != 0xBEE1:
        raise ValueError(f"{path} is not a W&B run file")
    pos, pending = _FILE_HEADER.size, b""
    while pos + _RECORD_HEADER.size <= len(data):
        room = _BLOCK - pos % _BLOCK
        if room < _RECORD_HEADER.size:  # block trailer padding
            pos += room
            continue
        _, length, kind = _RECORD_HEADER.unpack_from(data, pos)
        pos += _RECORD_HEADER.size
        chunk, pos = data[pos : pos + length], pos + length
        if kind == 0 and length == 0:
            continue
        pending = chunk if kind in (_FULL, _FIRST) else pending + chunk
        if kind in (_FULL, _LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """Run metadata, history, summary and config of one `offline-run-*` folder: id, group, job_type, tags, name,
    history rows, and the summary and config as the run left them (later updates replace earlier ones)."""
    (path,) = Path(run_dir).glob("run-*.wandb")
    info: dict[str, Any] = {"history": [], "summary": {}, "config": {}}
    for record in iter_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            info.update(
                id=run.run_id, group=run.run_group, job_type=run.job_type, name=run.display_name, tags=list(run.tags)
            )
        elif kind == "history":
            info["history"].append(_items(record.history.item))
        elif kind == "summary":
            info["summary"].update(_items(record.summary.update))
        elif kind == "config":
            info["config"].update(_items(record.config.update))
    return info


def _items(items: Any) -> dict[str, Any]:
    """Key/value items of a record, nested keys joined by '/'."""
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def find_runs(root: str | Path) -> list[Path]:
    """Every offline run folder under `root`."""
    return sorted(p for p in Path(root).rglob("offline-run-*") if p.is_dir())
