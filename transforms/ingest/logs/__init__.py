"""Reading payment-service log files: every physical line framed, checked and bucketed, none lost.

The work is a map over partitions of the log files and one reduce, so that the same code runs in
this process, on threads or on a Dask cluster:

* `plan` lists the files the globs match and prunes those whose name or hive path dates them to
  an hour wholly outside the window widened by `sources.log_clock_skew`: they are not opened.
* `extract` (the map; a partition is a few files) frames each file's lines with numpy over
  decompressed blocks, checks every block in DuckDB (`sql/stg_logs.sql`) and writes three small
  Parquet extracts per partition: its quarantined lines, its failure-event lines with their
  fields, and one (line, hash) row per other well-formed line.
* `load` (the reduce) finds duplicate lines across all files and builds the work database's log
  tables: `log_files`, `stg_log_lines`, `stg_log_events`, `stg_log_quarantine`,
  `int_log_line_duplicates`, `int_log_events_bucketed`, `int_log_lines_bucketed` (a view: one
  row per physical line), `int_failure_lines` (a view), `stg_failures` and `int_file_profile`.

`stage` runs the three in this process (tests, notebooks); the flow maps `extract` as Prefect
tasks. A line's text is its bytes without its line end (LF or CRLF) and, on a file's first
line, without a UTF-8 byte-order mark. A line that is not UTF-8 or is longer than
`MAX_LINE_BYTES` keeps an escaped preview and is quarantined, never dropped.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from isal import isal_zlib

from transforms import db, files
from transforms.errors import InputError
from transforms.ingest.incident import ISO_CURRENCIES, Incident, LogFormat

MAX_LINE_BYTES = 1024 * 1024
QUARANTINE_PREVIEW_CHARS = 4096
PARTITIONS = 16  # map tasks over the log files: a few per worker keep every worker busy
BLOCK_BYTES = 16 << 20  # decompressed bytes framed and checked at once: bounds a file's memory
READ_BYTES = 4 << 20  # compressed bytes read at once
BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
LF, CR = 10, 13

# A file dated to one hour: `<name>.2025-01-07T14.<ext>` or a hive path `dt=2025-01-07/hour=14/`.
HOURLY_NAME = re.compile(r"(?<![0-9])(\d{4}-\d{2}-\d{2})T(\d{2})\.")
HIVE_HOUR = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})(?:/|$)")

FRAMED_SCHEMA = pa.schema(
    [
        ("file_id", pa.int32()),
        ("line", pa.int64()),
        ("raw", pa.large_string()),
        ("problem", pa.string()),
        ("preview", pa.string()),
    ]
)
LINES_SCHEMA = pa.schema(
    [
        ("file_id", pa.int32()),
        ("line", pa.int64()),
        ("line_hash", pa.uint64()),
        ("is_payment_event", pa.bool_()),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("file_id", pa.int32()),
        ("line", pa.int64()),
        ("line_hash", pa.uint64()),
        ("line_md5", pa.uint64()),
        ("ts_utc", pa.timestamp("us", tz="UTC")),
        ("event", pa.string()),
        ("txn_id", pa.string()),
        ("customer_id", pa.string()),
        ("amount_minor", pa.int64()),
        ("currency", pa.string()),
        ("error_code", pa.string()),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("file_id", pa.int32()),
        ("line", pa.int64()),
        ("quarantine_reason", pa.string()),
        ("raw", pa.string()),
    ]
)
EXTRACTS = {"lines": LINES_SCHEMA, "events": EVENTS_SCHEMA, "quarantine": QUARANTINE_SCHEMA}


@dataclass(frozen=True)
class LogFile:
    """One matched log file: its id, name as shown, size, hash and line count.

    A pruned file was not opened (its hour is outside the window): it has no hash and no lines.
    """

    file_id: int
    path: Path
    name: str
    bytes: int
    sha256: str
    lines: int
    pruned: bool = False


@dataclass(frozen=True)
class Reading:
    """What the map needs to know besides the files: the format, time zone and failure events."""

    log_format: LogFormat
    logs_timezone: str
    failure_events: tuple[str, ...]

    @staticmethod
    def of(incident: Incident) -> Reading:
        sources = incident.sources
        return Reading(sources.log_format, sources.logs_timezone, incident.policy.failure_events)


@dataclass(frozen=True)
class Partition:
    """A unit of the map: a few log files (id, path, name), read one after the other."""

    files: tuple[tuple[int, Path, str], ...]


@dataclass(frozen=True)
class Extract:
    """The map's result for one partition: its files as read, their time spans (file_id ->
    earliest and latest ts of a well-formed line) and the folder of its three extracts."""

    files: tuple[LogFile, ...]
    spans: dict[int, tuple[datetime, datetime]]
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.parquet"


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


def plan(incident: Incident, partitions: int) -> tuple[list[Partition], list[LogFile]]:
    """Splits the files to read into at most `partitions` partitions of about equal size.

    Returns the partitions and the pruned files: those dated to an hour (in
    `sources.logs_timezone`) that ends before the window's start less the clock skew or starts
    at or after its end plus the skew.
    """
    root = incident.path.parent
    skew = incident.sources.log_clock_skew
    lower, upper = incident.window_start - skew, incident.window_end + skew
    zone = ZoneInfo(incident.sources.logs_timezone)
    to_read: list[tuple[int, Path, str, int]] = []
    pruned: list[LogFile] = []
    for file_id, path in enumerate(expand(incident.sources.logs, root)):
        name, size = files.display_name(path, root), path.stat().st_size
        hour = _hour_of(name, zone)
        if hour is not None and (hour[1] <= lower or hour[0] >= upper):
            pruned.append(LogFile(file_id, path, name, size, "", 0, pruned=True))
        else:
            to_read.append((file_id, path, name, size))
    # Largest first onto the least loaded partition: about equal work, the same plan every time.
    loads: list[list[tuple[int, Path, str, int]]] = [[] for _ in range(max(1, partitions))]
    for entry in sorted(to_read, key=lambda f: (-f[3], f[0])):
        min(loads, key=lambda p: (sum(f[3] for f in p), len(p))).append(entry)
    chosen = [Partition(tuple((f[0], f[1], f[2]) for f in sorted(p))) for p in loads if p]
    return sorted(chosen, key=lambda p: p.files[0][0]), pruned


def _hour_of(name: str, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The UTC span of the hour a file's name or hive path dates it to, if any."""
    match = HIVE_HOUR.search(name) or HOURLY_NAME.search(name)
    if match is None:
        return None
    try:
        local = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}:00")
    except ValueError:
        return None
    # Both readings of an hour repeated by a DST change: the span covers either.
    starts = [local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    return min(starts), max(starts) + timedelta(hours=1)


def extract(partition: Partition, reading: Reading, out_dir: Path) -> Extract:
    """The map: reads every line of the partition's files into three extracts under `out_dir`.

    One DuckDB query per partition, streaming: it pulls framed blocks of lines, file after file,
    and its results are split into the extracts as they come. They are written under this
    attempt's own folder and renamed into place at the end: a partition run again (its Dask
    worker died mid-map) never mixes with a dead attempt's partial files.
    """
    folder = out_dir / f"part={partition.files[0][0]:06d}"
    attempt = out_dir / f".{folder.name}.{uuid.uuid4().hex}"
    attempt.mkdir(parents=True)
    try:
        spans, framers = _extract_into(partition, reading, attempt)
        folder.mkdir(exist_ok=True)
        for name in EXTRACTS:
            os.replace(attempt / f"{name}.parquet", folder / f"{name}.parquet")
    finally:
        shutil.rmtree(attempt, ignore_errors=True)
    read = []
    for framer, (file_id, path, name) in zip(framers, partition.files, strict=True):
        digest, size = framer.source.finish()
        read.append(LogFile(file_id, path, name, size, digest, framer.lines))
    return Extract(tuple(read), spans, folder)


def _extract_into(
    partition: Partition, reading: Reading, folder: Path
) -> tuple[dict[int, tuple[datetime, datetime]], list[_Framer]]:
    """Writes the partition's three extracts into `folder`; returns the files' time spans."""
    framers = [_Framer(file_id, name, _Source(path)) for file_id, path, name in partition.files]
    blocks = (block for framer in framers for block in framer.blocks())
    spans: dict[int, tuple[datetime, datetime]] = {}
    with db.connect() as con, _Writers(folder) as writers:
        # One thread per map (partitions run side by side, on threads or Dask workers).
        con.execute("set threads = 1")
        con.execute("set memory_limit = '512MB'")
        db.run(con, "log_json_kind")
        db.run(con, "log_local_instant")
        db.run(con, "log_iso_currency", currencies=ISO_CURRENCIES)
        con.register("framed_lines", pa.RecordBatchReader.from_batches(FRAMED_SCHEMA, blocks))
        staging = con.sql(db.statement("stg_logs"), params=_parameters(reading))
        for staged in staging.to_arrow_reader(1 << 17):
            writers.write(staged)
            _widen(spans, staged)
    for framer in framers:
        if framer.error is not None:
            raise framer.error
    return spans, framers


def _widen(spans: dict[int, tuple[datetime, datetime]], staged: pa.RecordBatch) -> None:
    """Widens each file's time span by the well-formed lines of a staged batch."""
    timed = pa.Table.from_batches([staged]).filter(pc.is_valid(staged.column("ts_utc")))
    grouped = timed.group_by("file_id").aggregate([("ts_utc", "min"), ("ts_utc", "max")])
    for file_id, low, high in zip(
        *(grouped.column(c).to_pylist() for c in ("file_id", "ts_utc_min", "ts_utc_max")),
        strict=True,
    ):
        old = spans.get(file_id, (low, high))
        spans[file_id] = (min(old[0], low), max(old[1], high))


def load(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    extracts: Sequence[Extract],
    pruned: Sequence[LogFile] = (),
) -> list[LogFile]:
    """The reduce: the extracts of every read file into the work database's log tables.

    Returns every matched file, read or pruned, in file order.
    """
    extracts = sorted(extracts, key=lambda e: e.files[0].file_id)
    con.from_arrow(_listing(extracts)).create("log_files")
    con.from_arrow(_duplicate_lines(extracts)).create("int_log_line_duplicates")
    for name, schema in EXTRACTS.items():
        if extracts:
            db.run(con, f"stg_log_{name}", paths=[str(e.path(name)) for e in extracts])
        else:  # every file pruned
            con.from_arrow(schema.empty_table()).create(f"stg_log_{name}")
    db.run(
        con,
        "int_log_events_bucketed",
        window_start=incident.window_start,
        window_end=incident.window_end,
        skew=incident.sources.log_clock_skew,
    )
    db.run(con, "int_log_lines_bucketed")
    db.run(con, "int_failure_lines")
    db.run(con, "stg_failures")
    db.run(con, "int_file_profile")
    read = [f for e in extracts for f in e.files]
    return sorted(read + list(pruned), key=lambda f: f.file_id)


def stage(
    con: duckdb.DuckDBPyConnection, incident: Incident, work_dir: Path, partitions: int = 1
) -> list[LogFile]:
    """Plans, maps (in this thread) and reduces the incident's logs into the work database."""
    chosen, pruned = plan(incident, partitions)
    reading = Reading.of(incident)
    out_dir = work_dir / "log_extracts"
    found = [extract(partition, reading, out_dir) for partition in chosen]
    return load(con, incident, found, pruned)


# ---------------------------------------------------------------------------------------------
# The map: one file
# ---------------------------------------------------------------------------------------------
def _parameters(reading: Reading) -> dict[str, object]:
    """The bound parameters of `stg_logs.sql` for a log format."""
    fmt = reading.log_format
    where = dict(fmt.fields)
    names = [where[name] for name in where]
    group_names = ["_1"]
    if fmt.kind == "regex":
        groups = re.compile(fmt.pattern or "").groupindex
        by_index = {index: group for group, index in groups.items()}
        count = re.compile(fmt.pattern or "").groups
        group_names = [by_index.get(i, f"_{i}") for i in range(1, count + 1)]
    if fmt.kind == "jsonl":
        paths = ["$" + "".join(f'."{key}"' for key in where[name].split(".")) for name in where]
    else:
        paths = [f'$."{name}"' for name in names]
    strptime = fmt.ts_format not in ("rfc3339", "epoch_s", "epoch_ms")
    return {
        "kind": fmt.kind,
        "paths": paths,
        "keys": names,
        "pattern": fmt.pattern if fmt.kind == "regex" else "(x)",
        "group_names": group_names,
        "ts_format": "strptime" if strptime else fmt.ts_format,
        "ts_pattern": fmt.ts_format if strptime else "%Y",
        "ts_naive": strptime and not re.search(r"%[zZ]", fmt.ts_format),
        "logs_timezone": reading.logs_timezone,
        "failure_events": list(reading.failure_events),
    }


class _Writers:
    """The three Parquet extracts of one partition, written batch by batch."""

    def __init__(self, folder: Path):
        self.writers = {
            name: pq.ParquetWriter(
                folder / f"{name}.parquet",
                schema,
                compression={c: "none" if c == "line_hash" else "zstd" for c in schema.names},
                use_dictionary=["file_id", "is_payment_event", "event", "quarantine_reason"],
                column_encoding={"line": "DELTA_BINARY_PACKED"},
            )
            for name, schema in EXTRACTS.items()
        }

    def write(self, staged: pa.RecordBatch) -> dict[str, int]:
        """Splits a staged block into the extracts; returns the rows of each."""
        quarantined = pc.is_valid(staged.column("quarantine_reason"))
        failure = pc.fill_null(staged.column("is_failure_event"), False)
        other = pc.invert(pc.or_(quarantined, failure))
        parts = {
            "quarantined": ("quarantine", staged.filter(quarantined)),
            "failure_lines": ("events", staged.filter(failure)),
            "other_lines": ("lines", staged.filter(other)),
        }
        for name, rows in parts.values():
            schema = EXTRACTS[name]
            self.writers[name].write_table(
                pa.Table.from_batches([rows]).select(schema.names).cast(schema)
            )
        return {key: rows.num_rows for key, (_, rows) in parts.items()}

    def __enter__(self) -> _Writers:
        return self

    def __exit__(self, *exc: object) -> None:
        for writer in self.writers.values():
            writer.close()


# ---------------------------------------------------------------------------------------------
# Framing: bytes -> numbered lines, with numpy over blocks
# ---------------------------------------------------------------------------------------------
class _GzipError(Exception):
    """The gzip stream ended early or is corrupt."""


class _Source:
    """The decompressed bytes of one log file in pieces, hashing the file's own bytes on the way.

    Gzip is recognised by its magic bytes, not the name; members are read one after the other
    and zero padding after a member is skipped, as `gzip` does.
    """

    def __init__(self, path: Path):
        self.path = path
        self._hash = hashlib.sha256()
        self._size = 0

    def pieces(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            first = handle.read(READ_BYTES)
            self._count(first)
            if first.startswith(GZIP_MAGIC):
                yield from self._inflate(first, handle)
                return
            data = first
            while data:
                yield data
                data = handle.read(BLOCK_BYTES)
                self._count(data)

    def _inflate(self, first: bytes, handle) -> Iterator[bytes]:
        inflater = isal_zlib.decompressobj(wbits=31)
        data = first
        while data:
            while data:
                if inflater.eof:
                    data = data.lstrip(b"\x00")
                    if not data:
                        break
                    inflater = isal_zlib.decompressobj(wbits=31)
                try:
                    out = inflater.decompress(data, BLOCK_BYTES)
                except isal_zlib.error as error:
                    raise _GzipError(str(error)) from None
                if out:
                    yield out
                data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            data = handle.read(READ_BYTES)
            self._count(data)
        try:
            tail = inflater.flush()
        except isal_zlib.error as error:
            raise _GzipError(str(error)) from None
        if tail:
            yield tail
        if not inflater.eof:
            raise _GzipError("the stream ends before its end marker")

    def _count(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)

    def finish(self) -> tuple[str, int]:
        """Hashes what no reader consumed and returns the file's sha256 and size."""
        with open(self.path, "rb") as handle:
            handle.seek(self._size)
            while data := handle.read(READ_BYTES):
                self._count(data)
        return self._hash.hexdigest(), self._size


@dataclass
class _LongLine:
    """A line already longer than the limit, skipped to its end: only a preview is kept."""

    head: bytes
    size: int
    last: int = -1  # its last byte so far (a CR before the LF is not part of the line)


@dataclass
class _Framer:
    """Cuts a file's decompressed pieces into blocks of whole lines, numbered from 1."""

    file_id: int
    name: str
    source: _Source
    lines: int = 0
    error: InputError | None = None  # set when the stream broke: the blocks stop there
    _bom_pending: bool = field(default=True, repr=False)

    def blocks(self) -> Iterator[pa.RecordBatch]:
        carry = b""
        long: _LongLine | None = None
        try:
            for piece in self.source.pieces():
                if long is not None:
                    cut = piece.find(b"\n")
                    part = piece if cut < 0 else piece[:cut]
                    long.head += part[: QUARANTINE_PREVIEW_CHARS - len(long.head)]
                    long.size += len(part)
                    long.last = part[-1] if part else long.last
                    if cut < 0:
                        continue
                    yield self._long(long)
                    long, piece = None, piece[cut + 1 :]
                data = carry + piece if carry else piece
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    if len(carry) > MAX_LINE_BYTES + len(BOM) + 1:
                        skip = self._skip(carry)
                        long = _LongLine(
                            carry[skip : skip + QUARANTINE_PREVIEW_CHARS],
                            len(carry) - skip,
                            carry[-1],
                        )
                        carry = b""
                    continue
                carry = data[cut + 1 :]
                yield self._frame(data, cut + 1)
        except _GzipError as error:
            self.error = InputError(
                f"{self.name}: the gzip stream is truncated or corrupt after line {self.lines} "
                f"({error}); fetch the file again or leave it out of sources.logs"
            )
            return
        if long is not None:
            yield self._long(long)
        elif carry:
            last = carry + b"\n"
            yield self._frame(last, len(last))

    def _skip(self, data: bytes) -> int:
        """Bytes to skip at the start of `data`: a byte-order mark before the file's first line."""
        skip = len(BOM) if self._bom_pending and data.startswith(BOM) else 0
        self._bom_pending = False
        return skip

    def _long(self, long: _LongLine) -> pa.RecordBatch:
        size = long.size - (long.last == CR)
        self.lines += 1
        return _framed(
            self.file_id,
            np.array([self.lines]),
            pa.nulls(1, pa.large_string()),
            [f"line is {size} bytes, longer than the 1 MiB limit"],
            [long.head.decode("utf-8", "backslashreplace")],
        )

    def _frame(self, data: bytes, end: int) -> pa.RecordBatch:
        """Frames the whole lines in `data[:end]` (it ends with an LF)."""
        skip = self._skip(data)
        raw = np.frombuffer(data, np.uint8, count=end)
        ends = np.flatnonzero(raw == LF)  # the LF of each line
        starts = np.empty_like(ends)
        starts[0], starts[1:] = skip, ends[:-1] + 1
        crlf = (ends > starts) & (raw[ends - 1] == CR)
        sizes = ends - starts - crlf
        problems = self._problems(data, starts, ends, sizes)
        if crlf.any():
            # Drop each CR before an LF, so every line's text ends with exactly one LF.
            dropped = np.cumsum(crlf)
            buffer = np.delete(raw, ends[crlf] - 1)
            offsets = np.concatenate([[skip], ends + 1 - dropped])
        else:
            buffer = raw
            offsets = np.concatenate([[skip], ends + 1])
        numbers = self.lines + 1 + np.arange(len(ends))
        self.lines += len(ends)
        validity = None
        if problems:
            valid = np.ones(len(ends), bool)
            valid[list(problems)] = False
            validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        text = pa.LargeStringArray.from_buffers(
            len(ends),
            pa.py_buffer(offsets.astype(np.int64)),
            pa.py_buffer(buffer),
            validity,
            len(problems),
        )
        if not problems:
            return _framed(self.file_id, numbers, text, None, None)
        reasons = [problems[i][0] if i in problems else None for i in range(len(ends))]
        previews = [problems[i][1] if i in problems else None for i in range(len(ends))]
        return _framed(self.file_id, numbers, text, reasons, previews)

    @staticmethod
    def _problems(
        data: bytes, starts: np.ndarray, ends: np.ndarray, sizes: np.ndarray
    ) -> dict[int, tuple[str, str]]:
        """Lines that cannot be text: too long, or not UTF-8 (index -> reason, preview)."""
        problems: dict[int, tuple[str, str]] = {}
        view = memoryview(data)
        for i in np.flatnonzero(sizes > MAX_LINE_BYTES).tolist():
            head = bytes(view[starts[i] : starts[i] + min(sizes[i], QUARANTINE_PREVIEW_CHARS)])
            problems[i] = (
                f"line is {sizes[i]} bytes, longer than the 1 MiB limit",
                head.decode("utf-8", "backslashreplace"),
            )
        position = int(starts[0])
        end = int(ends[-1]) + 1
        while position < end:
            try:
                codecs.utf_8_decode(view[position:end], "strict", True)
                break
            except UnicodeDecodeError as error:
                bad = position + error.start
                i = int(np.searchsorted(ends, bad))
                if i not in problems:
                    line = bytes(view[starts[i] : starts[i] + sizes[i]])
                    problems[i] = (
                        f"invalid UTF-8 at byte {bad - starts[i] + 1} of the line",
                        line.decode("utf-8", "backslashreplace"),
                    )
                position = int(ends[i]) + 1
        return problems


def _framed(file_id: int, numbers, text, reasons, previews) -> pa.RecordBatch:
    rows = len(numbers)
    return pa.record_batch(
        [
            pa.array(np.full(rows, file_id, np.int32)),
            pa.array(numbers, pa.int64()),
            text,
            pa.array(reasons, pa.string()) if reasons else pa.nulls(rows, pa.string()),
            pa.array(previews, pa.string()) if previews else pa.nulls(rows, pa.string()),
        ],
        schema=FRAMED_SCHEMA,
    )


# ---------------------------------------------------------------------------------------------
# The reduce
# ---------------------------------------------------------------------------------------------
def _listing(extracts: Sequence[Extract]) -> pa.Table:
    """`log_files`: one row per read file (key: file_id), with its time span."""
    read = sorted((f for e in extracts for f in e.files), key=lambda f: f.file_id)
    spans = {k: v for e in extracts for k, v in e.spans.items()}
    return pa.table(
        {
            "file_id": pa.array([f.file_id for f in read], pa.int32()),
            "name": pa.array([f.name for f in read], pa.string()),
            "lines": pa.array([f.lines for f in read], pa.int64()),
            "bytes": pa.array([f.bytes for f in read], pa.int64()),
            "min_ts_utc": pa.array(
                [spans.get(f.file_id, (None, None))[0] for f in read], pa.timestamp("us", "UTC")
            ),
            "max_ts_utc": pa.array(
                [spans.get(f.file_id, (None, None))[1] for f in read], pa.timestamp("us", "UTC")
            ),
        }
    )


def _read(path: Path, columns: list[str]) -> pa.Table:
    return pq.ParquetFile(path).read(columns=columns, use_threads=False)


def _duplicate_lines(extracts: Sequence[Extract]) -> pa.Table:
    """`int_log_line_duplicates`: the well-formed lines, other than failure events, whose bytes
    came earlier (files in name order, then line) (key: file_id, line).

    Found by the lines' 64-bit hashes: all of them sorted once to find the repeated values, then
    only lines with a repeated value are ordered. Failure-event lines are compared on a second
    hash (md5) too, in SQL (`int_log_events_bucketed`), so a credit never rests on one hash.
    """
    total = sum(pq.read_metadata(e.path("lines")).num_rows for e in extracts)
    hashes = np.empty(total, np.uint64)
    at = 0
    for e in extracts:
        column = _read(e.path("lines"), ["line_hash"]).column(0).to_numpy()
        hashes[at : at + len(column)] = column
        at += len(column)
    hashes.sort()
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(repeated):
        # A table on the low bits of the repeated values rules most lines out at one lookup each.
        low = np.uint64((1 << 22) - 1)
        maybe = np.zeros(1 << 22, bool)
        maybe[repeated & low] = True
        for e in extracts:
            table = _read(e.path("lines"), ["file_id", "line", "line_hash"])
            values = table.column("line_hash").to_numpy()
            near = np.flatnonzero(maybe[values & low])
            where = np.searchsorted(repeated, values[near]).clip(max=len(repeated) - 1)
            hit = near[repeated[where] == values[near]]
            found.append(
                (
                    values[hit],
                    table.column("file_id").to_numpy()[hit],
                    table.column("line").to_numpy()[hit],
                )
            )
    if not found:
        return pa.table({"file_id": pa.array([], pa.int32()), "line": pa.array([], pa.int64())})
    values, file_ids, lines = (np.concatenate(column) for column in zip(*found, strict=True))
    order = np.lexsort((lines, file_ids, values))
    later = np.zeros(len(order), bool)
    later[1:] = values[order][1:] == values[order][:-1]
    return pa.table(
        {
            "file_id": pa.array(file_ids[order][later], pa.int32()),
            "line": pa.array(lines[order][later], pa.int64()),
        }
    )
