"""A CSV table file's text before its values are parsed: its header line, read first, and the
first line whose bytes are not UTF-8. A file that is no UTF-8 CSV as a spreadsheet may save it
(UTF-16, old Mac OS's line ends, Excel's `sep=` line, compressed or Parquet data) is named so,
with what to save instead.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.logs.source import not_text

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# What to do with a file named `.csv` that holds no text: what a log's first bytes are checked
# for (`source.not_text`), and gzip's or Parquet's data, which no log is refused for.
INSTEAD = {
    "gzip data": "decompress it (gunzip)",
    "zstd data": "decompress it (zstd -d)",
    "bzip2 data": "decompress it (bunzip2)",
    "xz data": "decompress it (unxz)",
    "zip data": "unzip it, or save a spreadsheet's workbook (.xlsx) as CSV UTF-8",
    "a tar archive": "extract it (tar -xf)",
    "Parquet data": "name it .parquet in the incident file",
}
ALSO_PACKED = {b"\x1f\x8b": "gzip data", b"PAR1": "Parquet data"}


def header(path: Path, name: str) -> list[str]:
    """The header line's column names (the first line alone is decoded: a byte that is not
    UTF-8 further down is named with its own line, when the rows are read).
    `FileNotFoundError` when there is no file."""
    with open(path, "rb") as handle:
        first = handle.readline()
    held = not_text(first) or next(
        (what for magic, what in ALSO_PACKED.items() if first.startswith(magic)), None
    )
    if held in INSTEAD:  # each byte not UTF-8 was named, with advice to save it as UTF-8
        raise InputError(f"{name}: the file holds {held}, not CSV text; {INSTEAD[held]}")
    if first.startswith(UTF16_BOMS) or b"\0" in first[:2]:  # an ASCII name in UTF-16
        raise InputError(
            f'{name}: the file is UTF-16 (a spreadsheet\'s "Unicode text"), not UTF-8; save it '
            "as CSV UTF-8 (comma-separated)"
        )
    if b"\r" in first.rstrip(b"\r\n"):  # read by LF, the header ran on to the file's end
        raise InputError(
            f"{name}: its lines end in a CR alone (old Mac OS's), so its header line runs on; "
            "save it with LF or CR LF line ends"
        )
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: line 1: {not_utf8(first, error)}") from None
    hint = re.fullmatch(r"sep=(.)", text.rstrip("\r\n"))
    if hint:  # Excel's own line naming the delimiter: the header is the next line
        raise InputError(
            f"{name}: line 1 is Excel's {hint.group()!r} hint, not the header; delete it so "
            "that the header line comes first, its names separated by commas"
        )
    try:
        return next(csv.reader([text]), [])
    except csv.Error as error:
        raise InputError(f"{name}: the header line cannot be read ({error})") from None


def header_alone(path: Path) -> bool:
    """The file is its header line alone, without a line end (a file cut to its header)."""
    with open(path, "rb") as handle:
        first = handle.readline()
        return not first.endswith(b"\n") and not handle.read(1)


def not_utf8(line: bytes, error: UnicodeDecodeError) -> str:
    return (
        f"byte {line[error.start]:#04x} at byte {error.start + 1} of the line is not UTF-8 (save "
        "the file as UTF-8)"
    )


def first_not_utf8(path: Path, name: str) -> InputError | None:
    """The first line of the file that is not UTF-8, named, if any."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                return InputError(f"{name}: line {number}: {not_utf8(line, error)}")
    return None


def has_blank_row(batch: pa.RecordBatch) -> bool:
    """A row of the batch (the contract's columns) is null in every column: a spreadsheet's
    empty row saved as commas (`,,,,,,,`), which no table means (a blank line is skipped)."""
    blank = functools.reduce(pc.and_, (pc.is_null(column) for column in batch.columns))
    return bool(pc.any(blank).as_py())


def blank_row(path: Path, name: str, columns: list[str]) -> InputError:
    """The first row of the file whose `columns` are all blank, named by its line: the gate
    rejected such rows for their missing id, naming neither the file nor a line."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        at = [header.index(column) for column in columns]
        line = rows.line_num
        for row in rows:
            if row and all(not row[i] for i in at if i < len(row)):
                return InputError(
                    f"{name}: line {line + 1}: every column is blank (a spreadsheet's empty row, "
                    "saved as commas): delete the line, and any other like it"
                )
            line = rows.line_num
    return InputError(f"{name}: a row has every column blank: delete it")
