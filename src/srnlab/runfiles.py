"""Small files that runs leave behind: JSON (progress, results) written atomically, CSV tables of records."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> None:
    """Write through a temporary file so a kill never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def read_json(path: Path) -> Any | None:
    """The file's content, or None when it does not exist."""
    return json.loads(path.read_text()) if path.exists() else None


def write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    """One row per record, the columns of the first record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
