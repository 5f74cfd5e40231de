"""Freed memory kept for the next forward pass instead of handed back to the kernel.

A 720p forward allocates dozens of feature maps of 30-120 MB. glibc serves every block over 32 MB with a
fresh mmap and unmaps it on free, so each forward pass touched ~300,000 new pages: the kernel zeroing them
took 0.3-0.5 s of the 1.3 s forward on a 2-core Xeon, time no operator profile shows (docs/speed.md). Told
to serve large blocks from its heap and keep what is freed, glibc hands the same pages back at the next
pass. The cost is that the process keeps its peak memory until it exits, which is what a deblurring or
training command does anyway.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import platform

log = logging.getLogger(__name__)

SWITCH = "SRNLAB_MALLOC"  # keep (default) or system (glibc's own thresholds)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # mallopt parameters, glibc's malloc.h
_NEVER_TRIM = 2**31 - 1


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"
    )]  # fmt: skip


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """This process's C library where it is glibc, else None (`platform.libc_ver` reads the interpreter's
    binary: once is enough; the tile planner asks on every image)."""
    return ctypes.CDLL(None) if platform.libc_ver()[0] == "glibc" else None


def reusable_bytes() -> int:
    """Bytes glibc holds free for the next allocations (mallinfo2's fordblks; 0 where it cannot say). Kept
    memory stays resident, so what the process really holds is its resident size less this."""
    mallinfo2 = getattr(_glibc(), "mallinfo2", None)  # glibc >= 2.33
    if mallinfo2 is None:
        return 0
    mallinfo2.restype = _MallInfo2
    return int(mallinfo2().fordblks)


def keep_freed_memory() -> bool:
    """Have glibc keep freed memory for reuse (process-wide); True when it took effect. A no-op on other C
    libraries (macOS, musl) and with SRNLAB_MALLOC=system."""
    choice = os.environ.get(SWITCH, "keep").strip().lower()
    if choice not in ("keep", "system"):
        log.warning("%s=%s is neither keep nor system: glibc's thresholds are left as they are", SWITCH, choice)
        return False
    libc = _glibc()
    if choice == "system" or libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
