"""The DuckDB warehouse's lock file (`warehouse.write_lock`): opened without following a link,
and only when it holds what a writer writes there (its process id), so that taking the lock
never writes over anything else: a warehouse named `*.lock` (its own lock file), a file of that
name beside it, a link planted there."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from transforms.errors import ConfigError

_HELD = re.compile(rb"[0-9]*\n?")  # what a writer writes: its pid and a newline (or nothing yet)
_MOST = 32  # bytes a lock file of this product holds at most


@contextmanager
def opened(lock: Path, warehouse: Path) -> Iterator[BinaryIO]:
    """The lock file `lock` of the warehouse `warehouse`, made if missing, opened for reading
    and writing; `ConfigError` naming it (and nothing written) when it is the warehouse itself,
    a link, a folder or a file holding anything but a writer's process id."""
    if lock == Path(warehouse).resolve():
        raise ConfigError(
            f"{warehouse}: a warehouse whose name ends in .lock is its own write lock file: a "
            "writer would write over it. Nothing was written; rename it (e.g. to "
            f"{lock.with_suffix('.duckdb').name}) and give that name"
        )
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        if error.errno not in (errno.ELOOP, errno.EISDIR):
            raise
        what = "a folder" if error.errno == errno.EISDIR else f"a link (to {os.readlink(lock)})"
        raise ConfigError(_foreign(lock, warehouse, what)) from None
    with os.fdopen(descriptor, "r+b") as handle:
        held = handle.read(_MOST + 1)
        if len(held) > _MOST or not _HELD.fullmatch(held):
            raise ConfigError(_foreign(lock, warehouse, "a file of something else"))
        yield handle


def _foreign(lock: Path, warehouse: Path, what: str) -> str:
    return (
        f"{lock}: {what} where the write lock of the warehouse {warehouse} goes: a writer would "
        "write over it. Nothing was written; move it away (a writer makes the lock file there)"
    )
