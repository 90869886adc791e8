"""CSV with LF line ends that never leaves a CR unquoted.

Python's `csv` quotes a cell holding a character of its line terminator: with `"\n"` it quotes
an LF but not a bare CR, and a reader (Python's, DuckDB's, Arrow's) cuts the row at that CR. A
customer id from a hostile table can hold one. The files finance reads (`credits.csv`,
`exceptions.csv`, a batch's files) keep LF line ends, so a row holding a CR is written by a
writer whose terminator is CRLF (which quotes both), its own CRLF turned back into an LF.

A guarded writer (the run folder's `credits.csv` and `exceptions.csv`, which finance opens in a
spreadsheet) also writes a text cell that starts like a formula as `spreadsheet.safe` has it (a
leading `'`). A batch's files are written unguarded: a payment system matches on their ids.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.compute as pc

from transforms import spreadsheet


class Writer:
    """`csv.writer(handle, lineterminator="\\n")`, a CR in a cell quoted; `guarded`: every
    cell `spreadsheet.safe`."""

    def __init__(self, handle: TextIO, *, guarded: bool = False):
        self._handle = handle
        self._guarded = guarded
        self._lf = csv.writer(handle, lineterminator="\n")
        self._row = io.StringIO()
        self._crlf = csv.writer(self._row, lineterminator="\r\n")

    def writerow(self, row: Sequence[Any]) -> None:
        if self._guarded:
            row = [spreadsheet.safe(cell) for cell in row]
        if not any(isinstance(cell, str) and "\r" in cell for cell in row):
            self._lf.writerow(row)
            return
        self._row.seek(0)
        self._row.truncate()
        self._crlf.writerow(row)
        self._handle.write(self._row.getvalue()[:-2] + "\n")

    def write_columns(self, columns: Sequence[pa.Array | pa.ChunkedArray]) -> None:
        """The rows of equal-length Arrow columns; a row at a time only when a text column
        holds a CR, or a cell that starts like a formula when guarded (C's loop otherwise)."""
        rows = zip(*(column.to_pylist() for column in columns), strict=True)
        texts = [text for text in map(_text, columns) if text is not None]
        if any(pc.any(pc.match_substring(text, "\r")).as_py() for text in texts) or (
            self._guarded and any(_starts_like_formula(text) for text in texts)
        ):
            for row in rows:
                self.writerow(row)
        else:
            self._lf.writerows(rows)


def file_bytes(columns: Sequence[str], rows: pa.Table, *, guarded: bool = False) -> bytes:
    """`rows`' `columns` as a CSV file's bytes: a header, LF line ends, UTF-8 (the bytes
    `Writer` writes to a file)."""
    text = io.StringIO(newline="")
    writer = Writer(text, guarded=guarded)
    writer.writerow(columns)
    writer.write_columns([rows[c] for c in columns])
    return text.getvalue().encode("utf-8")


def _text(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """A text column as one Arrow's string functions take; None for any other column."""
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or kind == pa.string_view()):
        return None
    if kind == column.type and kind != pa.string_view():
        return column
    return column.cast(pa.large_string())


def _starts_like_formula(text: pa.Array | pa.ChunkedArray) -> bool:
    return any(pc.any(pc.starts_with(text, start)).as_py() for start in spreadsheet.FORMULA_STARTS)
