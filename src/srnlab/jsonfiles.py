"""Small JSON files that runs leave behind (progress, results): written atomically, read tolerantly."""

from __future__ import annotations

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
