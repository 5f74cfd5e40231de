"""Small files that runs leave behind: JSON (progress, results) written atomically, CSV tables of records."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from srnlab.errors import UserError

LOCK_FILE = ".lock"
HYDRA_RECORD = ".hydra"  # the job's config as Hydra composed it: config.yaml, hydra.yaml, overrides.yaml
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK")  # set for the other processes of a DDP job


class RunFolderBusy(UserError):
    """Another process is training in this run folder."""


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """Yield a hidden temporary path next to `path` for the new content. When the block ends without an
    error, the file is fsynced and renamed over `path`, and the folder fsynced: a rename within one folder is
    atomic, so a kill or a power cut at any moment leaves the old file or the new one, never half of either.
    On an error the temporary file is removed and `path` is as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        _fsync(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's data to disk (a no-op where a folder cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data: Any) -> None:
    """Write atomically, so a kill never leaves half a file."""
    with replaced_atomically(path) as partial:
        partial.write_text(json.dumps(data, indent=2))


def read_json(path: Path) -> Any | None:
    """The file's content, or None when it does not exist."""
    return json.loads(path.read_text()) if path.exists() else None


def csv_columns(records: list[dict[str, Any]]) -> list[str]:
    """Every key of any record, in order of first appearance: the columns of `write_csv` (and of any copy of
    the same records, such as a W&B table, that must read the same)."""
    return list(dict.fromkeys(k for r in records for k in r))


def write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    """One row per record; the columns are `csv_columns(records)`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=csv_columns(records))
        writer.writeheader()
        writer.writerows(records)


def is_launching_process() -> bool:
    """False in the other processes of a multi-process (DDP, SLURM) job, which share the first one's folder."""
    return all(os.environ.get(name, "0") == "0" for name in RANK_VARIABLES)


@contextmanager
def run_folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<folder>/.lock` (with this process's PID in it) while a job runs, so that
    two jobs never write checkpoints into one folder. The kernel releases the lock when the process dies,
    however it dies: there is no stale lock to clean up. Only the first process of a DDP job takes it."""
    if not is_launching_process():
        yield
        return
    import fcntl  # POSIX only, like the rest of the training stack's multiprocessing

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise RunFolderBusy(
                f"{folder} is in use by another job (PID {holder}). Wait for it to finish, or give this job its "
                "own folder (hydra.run.dir=...)"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_hydra_record(folder: Path, task_cfg: Any) -> None:
    """The `.hydra/` record Hydra would write into a job folder (config.yaml, hydra.yaml, overrides.yaml), written
    by the job once it holds the folder's lock (`hydra.output_subdir: null` stops Hydra writing it earlier): a
    job refused for a busy folder must leave the running job's record as it was."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    record = folder / HYDRA_RECORD
    record.mkdir(parents=True, exist_ok=True)
    hydra_cfg = HydraConfig.instance().cfg
    for name, content in (("config.yaml", task_cfg), ("hydra.yaml", hydra_cfg),
                          ("overrides.yaml", hydra_cfg.hydra.overrides.task)):  # fmt: skip
        with replaced_atomically(record / name) as partial:
            OmegaConf.save(content, partial)
