"""A warehouse DuckDB cannot read whole, named as such (exit 3, as any other tampering) with what
to do, never as an internal error: its write-ahead log changed on disk, or left beside a file
that was replaced (a restore from a backup, a copy), the file cut short or changed, a table of
it dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from transforms import commands
from transforms.errors import CreditsError

_CUT_OR_CHANGED = ("Could not read enough bytes from file", "Corrupt database file")
_LOG_CHANGED = ("Failure while replaying WAL", "Corrupt WAL file")
_LOG_OF_ANOTHER = ("WAL checkpoint iteration does not match", "WAL was created for")


class WarehouseDamaged(CreditsError):
    """DuckDB cannot read the warehouse whole (exit 3): the message names the file and says
    what to do."""

    exit_code = 3


@contextmanager
def named(path: Path) -> Iterator[None]:
    """Opening the warehouse's file at `path`: DuckDB's refusal of a damaged one is raised as
    `WarehouseDamaged`; any other error (the file busy) as it is."""
    try:
        yield
    except duckdb.Error as error:
        told = damaged(error, path)
        if told is None:
            raise
        raise WarehouseDamaged(told) from None


def damaged(error: BaseException, path: Path | None = None) -> str | None:
    """What to say of `error` when it is DuckDB finding the file at `path` (else the file its
    message names) damaged; None for any other error."""
    if not isinstance(error, duckdb.Error):
        return None
    text = str(error)
    quoted = re.search(r'file "([^"]+)"', text)
    file = str(path) if path is not None else quoted.group(1) if quoted else None
    file = (file or "the warehouse's DuckDB file").removesuffix(".wal")
    said = text.splitlines()[0] if text else type(error).__name__
    check = f"`{commands.credits('audit --verify')}` checks it"
    if any(part in text for part in _LOG_OF_ANOTHER):
        return (
            f"{file}.wal: this write-ahead log belongs to another version of the warehouse file "
            f"{file} (the file was replaced, by a restore from a backup or a copy, while the "
            "log of the one before stayed beside it), so DuckDB will not open it. Nothing was "
            f"read or written. If the file was restored on purpose, move {file}.wal out of the "
            "way (its commits are the replaced file's); else restore the file and its log from "
            f"one backup. Then {check}"
        )
    if any(part in text for part in _LOG_CHANGED):
        return (
            f"{file}.wal: the warehouse's write-ahead log is damaged (changed on disk: {said}), "
            f"so DuckDB will not open {file}. Nothing was read or written; restore the file and "
            f"its log from one backup, then {check}"
        )
    if any(part in text for part in _CUT_OR_CHANGED):
        return (
            f"{file}: the warehouse file is damaged (cut short or changed on disk: {said}). "
            f"The command stopped there; restore the file from a backup, then {check}"
        )
    return None


def dropped_table(error: BaseException, tables: set[str]) -> str | None:
    """The message for DuckDB's "no such table" when the table is one of the warehouse's
    `tables` (dropped by hand, or the file is not whole): exit 3, as for any other tampering."""
    if not isinstance(error, duckdb.CatalogException):
        return None
    found = re.search(r"Table with name (\w+) does not exist", str(error))
    if found is None or found.group(1) not in tables:
        return None
    return (
        f"the warehouse has no table {found.group(1)}: it was dropped, or the file is not a "
        "whole warehouse. Nothing was written; restore the warehouse from a backup "
        f"(`{commands.credits('audit --verify')}` checks it)"
    )
