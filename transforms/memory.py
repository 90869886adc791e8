"""Handing freed memory back to the system between the heavy steps of a run.

Python's allocator (glibc malloc) and Arrow's pool keep memory a step has freed for reuse, so a
long run's RSS would grow with each step's peak. `release` returns it: garbage collection,
Arrow's unused pool memory, and glibc's `malloc_trim` (a no-op where the C library is not glibc).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache

import pyarrow as pa


def release() -> None:
    """Frees what is garbage and returns unused heap and Arrow pool memory to the system."""
    gc.collect()
    trim()


def trim() -> None:
    """Returns unused heap and Arrow pool memory to the system, without a garbage collection
    (milliseconds: for after a DuckDB connection is closed, whose memory is no garbage)."""
    pa.default_memory_pool().release_unused()
    malloc_trim = _malloc_trim()
    if malloc_trim is not None:
        malloc_trim(0)


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
