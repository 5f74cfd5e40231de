"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The third-party real blur material (../shared/realdata, or $SRN_REALDATA); skips when absent."""
    default = Path(__file__).resolve().parents[2] / "shared" / "realdata"
    root = Path(os.environ.get("SRN_REALDATA", default))
    if not root.is_dir():
        pytest.skip(f"real test data not found at {root} (set SRN_REALDATA to its folder)")
    return root
