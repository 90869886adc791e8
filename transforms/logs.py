"""Reading payment-service log files into numbered raw lines, losing none.

Grain of the output (`raw_lines.parquet`): one row per physical line of every input file, keyed
by (`file_id`, `line`), line numbers from 1. The text is the line's bytes without its line end
(LF or CRLF) and without a UTF-8 byte-order mark at the start of a file. A line that cannot be
text (invalid UTF-8, longer than `MAX_LINE_BYTES`) keeps a readable escaped copy and a
`problem`, so it is quarantined downstream instead of vanishing. Parsing is DuckDB's job
(`sql/stg_logs.sql`); this module only frames lines, which DuckDB's readers cannot number.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms import db, files
from transforms.errors import InputError
from transforms.incident import ISO_CURRENCIES, Incident

MAX_LINE_BYTES = 1024 * 1024
QUARANTINE_PREVIEW_CHARS = 4096
BATCH_LINES = 65_536
BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
RAW_LINES_SCHEMA = pa.schema(
    [
        ("file_id", pa.int32()),
        ("line", pa.int64()),
        ("raw", pa.large_string()),
        ("problem", pa.string()),
    ]
)


@dataclass(frozen=True)
class LogFile:
    """One input log file: its id in `raw_lines`, name as shown, size, hash and line count."""

    file_id: int
    path: Path
    name: str
    bytes: int
    sha256: str
    lines: int


def expand(globs: Sequence[str], root: Path) -> list[Path]:
    """The files the globs match, sorted and without repeats; a glob matching nothing fails."""
    found: set[Path] = set()
    for pattern in globs:
        matched = [Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file()]
        if not matched:
            shown = files.display_name(Path(pattern), root)
            raise InputError(f"sources.logs: '{shown}' matches no file")
        found.update(p.resolve() for p in matched)
    return sorted(found)


def write_raw_lines(paths: Sequence[Path], root: Path, out: Path) -> list[LogFile]:
    """Frames every line of `paths` into the Parquet file `out`; returns what was read."""
    read: list[LogFile] = []
    with pq.ParquetWriter(out, RAW_LINES_SCHEMA, compression="zstd") as writer:
        for file_id, path in enumerate(paths):
            name = files.display_name(path, root)
            with _HashingReader(path) as source:
                lines = 0
                for batch in _batches(file_id, name, source):
                    writer.write_batch(batch)
                    lines += batch.num_rows
                digest, size = source.finish()
            read.append(LogFile(file_id, path, name, size, digest, lines))
    return read


def _batches(file_id: int, name: str, source: _HashingReader) -> Iterator[pa.RecordBatch]:
    columns: tuple[list, list, list, list] = ([], [], [], [])
    for number, raw, problem in _lines(name, source):
        for column, value in zip(columns, (file_id, number, raw, problem), strict=True):
            column.append(value)
        if len(columns[0]) == BATCH_LINES:
            yield pa.record_batch(list(columns), schema=RAW_LINES_SCHEMA)
            columns = ([], [], [], [])
    if columns[0]:
        yield pa.record_batch(list(columns), schema=RAW_LINES_SCHEMA)


def _lines(name: str, source: _HashingReader) -> Iterator[tuple[int, str, str | None]]:
    stream: BinaryIO = gzip.GzipFile(fileobj=source) if source.is_gzip else source
    number = 0
    try:
        for number, data in enumerate(stream, start=1):  # noqa: B007 (number used after loop)
            if number == 1 and data.startswith(BOM):
                data = data[len(BOM) :]
            yield (number, *_text(data.rstrip(b"\n").removesuffix(b"\r")))
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(
            f"{name}: the gzip stream is truncated or corrupt after line {number} ({error}); "
            "fetch the file again or leave it out of sources.logs"
        ) from None


def _text(data: bytes) -> tuple[str, str | None]:
    """The line as text, or an escaped preview and the reason it cannot be read."""
    if len(data) > MAX_LINE_BYTES:
        preview = data[:QUARANTINE_PREVIEW_CHARS].decode("utf-8", "backslashreplace")
        return preview, f"line is {len(data)} bytes, longer than the 1 MiB limit"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return (
            data.decode("utf-8", "backslashreplace"),
            f"invalid UTF-8 at byte {error.start + 1} of the line",
        )


class _HashingReader:
    """A binary file that hashes every byte read through it (the file's sha256 as a side effect)."""

    def __init__(self, path: Path):
        self._file = open(path, "rb")  # noqa: SIM115 (closed in __exit__)
        self._hash = hashlib.sha256()
        self._size = 0
        self.is_gzip = self._file.read(2) == GZIP_MAGIC
        self._file.seek(0)

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._hash.update(data)
        self._size += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._file.readline(size)
        self._hash.update(data)
        self._size += len(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def finish(self) -> tuple[str, int]:
        """Hashes what no reader consumed (e.g. bytes after a gzip end) and returns the digest."""
        while self.read(1 << 20):
            pass
        return self._hash.hexdigest(), self._size

    def __enter__(self) -> _HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()



def stage(con: duckdb.DuckDBPyConnection, incident: Incident, work_dir: Path) -> list[LogFile]:
    """Frames, parses and buckets every log line of the incident into the work database.

    Makes `log_files`, `stg_logs`, `int_log_lines_bucketed`, `stg_failures` and
    `int_file_profile` (see their SQL for grain and keys).
    """
    root = incident.path.parent
    raw_lines = work_dir / "raw_lines.parquet"
    read = write_raw_lines(expand(incident.sources.logs, root), root, raw_lines)
    listing = pa.table(
        {
            "file_id": pa.array([f.file_id for f in read], pa.int32()),
            "name": [f.name for f in read],
            "lines": pa.array([f.lines for f in read], pa.int64()),
        }
    )
    con.from_arrow(listing).create("log_files")
    policy = incident.policy
    db.run(
        con,
        "stg_logs",
        raw_lines=str(raw_lines),
        logs_timezone=incident.sources.logs_timezone,
        failure_events=list(policy.failure_events),
        currencies=ISO_CURRENCIES,
    )
    db.run(
        con,
        "int_log_lines_bucketed",
        failure_events=list(policy.failure_events),
        window_start=incident.window_start,
        window_end=incident.window_end,
    )
    db.run(con, "stg_failures")
    db.run(con, "int_file_profile")
    raw_lines.unlink()
    return read
