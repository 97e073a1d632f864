"""Giving memory back to the operating system after large work (a job, a big upload).

Freed image buffers go back to glibc's malloc arenas, not to the system: without a trim the
process keeps its peak size for good, and in embedded mode the whole server carries it."""
from __future__ import annotations

import ctypes
import ctypes.util
import gc


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_malloc_trim = getattr(_libc(), "malloc_trim", None)  # glibc only; elsewhere a no-op


def release_memory(*, collect: bool = True) -> None:
    """Return every free page of every malloc arena to the system; with ``collect``, first
    collect reference cycles (an exception's frames can hold a job's arrays)."""
    if collect:
        gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)
