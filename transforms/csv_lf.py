"""CSV with LF line ends that never leaves a CR unquoted.

Python's `csv` quotes a cell holding a character of its line terminator: with `"\n"` it quotes
an LF but not a bare CR, and a reader (Python's, DuckDB's, Arrow's) cuts the row at that CR. A
customer id from a hostile table can hold one. The files finance reads (`credits.csv`,
`exceptions.csv`, a batch's files) keep LF line ends, so a row holding a CR is written by a
writer whose terminator is CRLF (which quotes both), its own CRLF turned back into an LF.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.compute as pc


class Writer:
    """`csv.writer(handle, lineterminator="\\n")`, a CR in a cell quoted."""

    def __init__(self, handle: TextIO):
        self._handle = handle
        self._lf = csv.writer(handle, lineterminator="\n")
        self._row = io.StringIO()
        self._crlf = csv.writer(self._row, lineterminator="\r\n")

    def writerow(self, row: Sequence[Any]) -> None:
        if not any(isinstance(cell, str) and "\r" in cell for cell in row):
            self._lf.writerow(row)
            return
        self._row.seek(0)
        self._row.truncate()
        self._crlf.writerow(row)
        self._handle.write(self._row.getvalue()[:-2] + "\n")

    def write_columns(self, columns: Sequence[pa.Array | pa.ChunkedArray]) -> None:
        """The rows of equal-length Arrow columns; a row at a time only when a text column
        holds a CR (C's loop otherwise)."""
        rows = zip(*(column.to_pylist() for column in columns), strict=True)
        if any(_has_cr(column) for column in columns):
            for row in rows:
                self.writerow(row)
        else:
            self._lf.writerows(rows)


def file_bytes(columns: Sequence[str], rows: pa.Table) -> bytes:
    """`rows`' `columns` as a CSV file's bytes: a header, LF line ends, UTF-8 (the bytes
    `Writer` writes to a file)."""
    text = io.StringIO(newline="")
    writer = Writer(text)
    writer.writerow(columns)
    writer.write_columns([rows[c] for c in columns])
    return text.getvalue().encode("utf-8")


def _has_cr(column: pa.Array | pa.ChunkedArray) -> bool:
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or kind == pa.string_view()):
        return False
    text = (
        column
        if kind == column.type and kind != pa.string_view()
        else column.cast(pa.large_string())
    )
    return bool(pc.any(pc.match_substring(text, "\r")).as_py())
