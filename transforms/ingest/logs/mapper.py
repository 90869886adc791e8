"""The map over partitions: each partition's files framed, the lines to check in full checked in
DuckDB (`stg_logs.sql`; every line with `line_checks = "all"`, else the failure-capable ones and
those with a framing or shape problem, see `screen`), and four small Parquet extracts written
per partition: its quarantined lines, its failure-event lines with their fields, one (line,
hash) row per other well-formed line checked in full, and the runs of lines checked by their
shape only.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms import db
from transforms.ingest.incident.sections import ENVELOPE_FIELDS
from transforms.ingest.logs import (
    arrayed,
    collected,
    flood,
    hints,
    lost,
    misread,
    parts,
    rotated,
    staging,
    syslog,
    texted,
)
from transforms.ingest.logs.framed import FRAMED_SCHEMA
from transforms.ingest.logs.framing import Framer
from transforms.ingest.logs.plan import LogFile, Partition, Reading
from transforms.ingest.logs.screen import CRI_LINE, PREFIX_PATTERNS
from transforms.ingest.logs.source import Source
from transforms.ingest.logs.unnesting import Unnester

LINES_SCHEMA = pa.schema(
    [
        ("file_id", pa.int32()),
        ("line", pa.int64()),
        ("line_hash", pa.uint64()),
        ("is_payment_event", pa.bool_()),
        ("event_written_otherwise", pa.string()),
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
        ("is_quarantined_failure", pa.bool_()),
    ]
)
UNCHECKED_SCHEMA = pa.schema(
    [("file_id", pa.int32()), ("first_line", pa.int64()), ("last_line", pa.int64())]
)
EXTRACTS = {"lines": LINES_SCHEMA, "events": EVENTS_SCHEMA, "quarantine": QUARANTINE_SCHEMA}
Spans = dict[int, tuple[datetime, datetime]]  # file_id -> its first and last line's time
COALESCE_ROWS = 1 << 16  # framed lines handed to DuckDB at once, at least
UNNESTED = ("otlp", "cloudwatch")  # many records to an envelope: framed by `Unnester`
# A line of a prefix and the record, in three groups (`log_envelope_prefixed`): fluentd's
# out_file, `<time>`, `<tag>` and `<record>` separated by tabs, Fluent Bit's file output,
# `<tag>: [<time>, <record>]`, and CloudWatch Logs' export, `<timestamp> <message>`; the
# prefixes and suffixes are the shape check's (`screen.PREFIX_PATTERNS`).
PREFIXED_LINES = {
    envelope: f"^{pattern}([^\\n]*){re.escape(suffix)}\\n$"
    for envelope, (pattern, suffix, _) in PREFIX_PATTERNS.items()
}

# A fluentd out_file line written with its delimiter SPACE or COMMA (`<time> <tag> {...}`): not
# read (a time may hold spaces), but named so in the reason, with how to put tabs back
SPACED_FLUENTD_LINE = r"^[^ ,\t\n]+[ ,][^ ,\t\n]+[ ,]\{"
SPACED_FLUENTD_HINT = (
    " (its fields are separated by a space or a comma: out_file's delimiter SPACE or COMMA, "
    "which is not read; have out_file write its default delimiter, a tab, or put tabs back: "
    "sed -E 's/^([^ ,]+)[ ,]([^ ,]+)[ ,]/\\1\\t\\2\\t/' FILE)"
)


@dataclass(frozen=True)
class Extract:
    """The map's result for one partition: its files as read, their time spans (file_id ->
    earliest and latest ts of a well-formed line; `near`: of those within the window's `reach`,
    what the window's counts cover) and the folder of its three extracts."""

    files: tuple[LogFile, ...]
    spans: dict[int, tuple[datetime, datetime]]
    folder: Path
    near: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.parquet"


def extract(partition: Partition, reading: Reading, out_dir: Path) -> Extract:
    """The map: reads every line of the partition's files into four extracts under `out_dir`.

    One DuckDB query per partition, streaming: it pulls framed blocks of lines, file after file,
    and its results are split into the extracts as they come. They are written under this
    attempt's own folder and renamed into place at the end: a partition run again (its Dask
    worker died mid-map) never mixes with a dead attempt's partial files.
    """
    folder = out_dir / f"part={partition.files[0].file_id:06d}"
    attempt = out_dir / f".{folder.name}.{uuid.uuid4().hex}"
    attempt.mkdir(parents=True)
    try:
        (spans, near), joined, framers = _extract_into(partition, reading, attempt)
        folder.mkdir(exist_ok=True)
        for name in [*EXTRACTS, "unchecked"]:
            os.replace(attempt / f"{name}.parquet", folder / f"{name}.parquet")
    finally:
        shutil.rmtree(attempt, ignore_errors=True)
    read = []
    for framer, (file_id, path, name, _) in zip(framers, partition.files, strict=True):
        digest, size = framer.source.finish()
        records = framer.lines - joined.get(file_id, 0)
        wrapped = reading.log_format.envelope != "none" or reading.log_format.payload is not None
        envelope_lines = framer.envelope_lines if wrapped else None
        read.append(
            LogFile(file_id, path, name, size, digest, records, envelope_lines=envelope_lines)
        )
    return Extract(tuple(read), spans, folder, near)


def _extract_into(
    partition: Partition, reading: Reading, folder: Path
) -> tuple[tuple[Spans, Spans], dict[int, int], list[Framer]]:
    """Writes the partition's four extracts into `folder`; returns the files' time spans (of
    the lines checked in full; and of those within the window's `reach`: a line stamped 1970
    must not stretch the window's counts over minutes no log covers), the lines joined onto
    records per file, and the framers."""
    screen = reading.screen()
    fmt = reading.log_format
    framers: list[Framer | Unnester] = [
        Unnester(file_id, name, Source(path, listed), fmt, screen)
        if fmt.envelope in UNNESTED
        else Framer(
            file_id,
            name,
            Source(path, listed),
            screen,
            cri=fmt.envelope == "cri",
            failure_events=reading.failure_events,
            streams=rotated.STREAMS.get(fmt.envelope),
        )
        for file_id, path, name, listed in partition.files
    ]
    blocks = _coalesced(block for framer in framers for block in framer.blocks())
    framed = pa.RecordBatchReader.from_batches(FRAMED_SCHEMA, blocks)
    spans: Spans = {}
    near: Spans = {}
    joined: dict[int, int] = {}
    with ExitStack() as stack:
        writers = stack.enter_context(_Writers(folder))
        stage = _Stager(reading, folder, stack)
        names = {file.file_id: file.name for file in partition.files}
        ends = {f.file_id: f.ends for f in framers if isinstance(f, Framer)}
        misread_files = misread.Misread(reading.failure_events, reading.log_format.envelope)
        flooded = flood.Flood(reading.max_quarantined_lines)
        for staged in stage(framed, joined):
            error = (
                lost.batched(staged, names)
                or collected.batch(staged, names, reading.log_format, reading.failure_events)
                or lost.unfinished(staged, names, reading.failure_events)
                or lost.oversized(staged, names, reading.failure_events)
                or lost.pretty(staged, names, reading.log_format, reading.failure_events)
                or lost.coloured(staged, names, reading.log_format, reading.failure_events)
                or lost.glued(staged, names, reading.log_format, reading.failure_events)
                or lost.streamed(staged, names, reading.log_format, reading.failure_events)
                or arrayed.arrayed(staged, names, reading.log_format, reading.failure_events)
                or lost.unheld(staged, names, reading.log_format, reading.failure_events)
                or texted.texted(staged, names, reading.log_format, reading.failure_events)
                or rotated.cut(staged, ends, names, fmt, reading.failure_events)
                # last: a file the checks above name more precisely is named so
                or flooded.flooded(staged, names)
            )
            if error is not None:
                raise error
            writers.write(staged)
            misread_files.note(staged)
            _widen(spans, staged)
            _widen(near, _within(staged, reading.reach))
        # The lines only shape-checked carry no time; the first and the last few of each file
        # (`Framer.bookends`) are staged as well, for their time within the window's reach
        # alone, so that a file's span runs from its first to its last well-formed line
        # whatever `line_checks` is (the window's baseline counts its quiet minutes from it).
        ends = [batch for framer in framers if (batch := framer.bookends()) is not None]
        if ends:
            for staged in stage(pa.RecordBatchReader.from_batches(FRAMED_SCHEMA, ends)):
                misread_files.note(staged)
                _widen(spans, within := _within(staged, reading.reach))
                _widen(near, within)
        misread_files.note_read(
            framer.file_id
            for framer in framers
            if isinstance(framer, Unnester) and framer.unchecked_runs().num_rows
        )
        if (error := misread_files.error(names)) is not None:
            raise error
    for framer in framers:
        if framer.error is not None:
            raise framer.error
    if (error := misread_files.foreign_error(names)) is not None:
        raise error
    runs = [framer.unchecked_runs() for framer in framers]
    pq.write_table(pa.concat_tables(runs).cast(UNCHECKED_SCHEMA), folder / "unchecked.parquet")
    return (spans, near), joined, framers


class _Stager:
    """The map's queries over framed lines, their connections opened once for the partition:
    the envelope and the payload unwrapped first, each by a query of its own reading the one
    before it, then `stg_logs`, which checks records as it checks lines."""

    def __init__(self, reading: Reading, folder: Path, stack: ExitStack):
        self.reading, self.folder, self.stack = reading, folder, stack
        self.cons: dict[str, duckdb.DuckDBPyConnection] = {}

    def _con(self, name: str) -> duckdb.DuckDBPyConnection:
        if name not in self.cons:
            if name == "stg_logs":
                con = self.stack.enter_context(_connect())
                with_macros(con, self.reading.currencies)
            else:  # joining partial lines sorts a whole partition's lines: it may spill
                con = self.stack.enter_context(_connect(self.folder / f"spill-{name}"))
                db.run(con, "log_key_twice")
            self.cons[name] = con
        return self.cons[name]

    def __call__(
        self, framed: pa.RecordBatchReader, joined: dict[int, int] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """The staged batches of `framed`; `joined` counts the lines joined onto records."""
        for name, parameters in _unwrapping(self.reading):
            if name == "log_payload_parts":
                framed = parts.joined(framed, lambda: self._con("log_payload_parts"), COALESCE_ROWS)
                continue
            con = self._con(name)
            con.register("framed_lines", framed)
            unwrapped = con.sql(db.statement(name), params=parameters or None)
            framed = unwrapped.to_arrow_reader(COALESCE_ROWS)
        fmt = self.reading.log_format
        if joined is not None and (fmt.envelope != "none" or fmt.payload is not None):
            framed = _counting_joined(framed, joined)
        con = self._con("stg_logs")
        con.register("framed_lines", framed)
        staged = con.sql(db.statement("stg_logs"), params=staging.parameters(self.reading))
        yield from staged.to_arrow_reader(1 << 17)


def _connect(spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A connection of the map: one thread (partitions run side by side, on threads or Dask
    workers), a bounded memory (spilling to `spill_dir`, if given, past it)."""
    con = db.connect(spill_dir=spill_dir)
    con.execute("set threads = 1")
    con.execute("set memory_limit = '512MB'")
    return con


def with_macros(
    con: duckdb.DuckDBPyConnection, currencies: Sequence[str]
) -> duckdb.DuckDBPyConnection:
    """`con` with the macros `stg_logs.sql` calls; `currencies` are the incident's money."""
    db.run(con, "log_json_kind")
    db.run(con, "log_local_instant")
    db.run(con, "log_iso_currency", currencies=list(currencies))
    db.run(con, "log_key_twice")
    db.run(con, "log_number_text")
    db.run(con, "log_plain_number")
    db.run(con, "log_lone_surrogates")
    return con


def _unwrapping(reading: Reading) -> list[tuple[str, dict[str, object]]]:
    """The queries that unwrap the records of a log format, in order, with their parameters."""
    fmt = reading.log_format
    steps: list[tuple[str, dict[str, object]]] = []
    # a record still partial when its file ends is whole when it is a JSON object
    json_records = fmt.kind == "jsonl" or fmt.payload is not None
    if fmt.envelope == "cri":
        steps.append(("log_envelope_cri", {"cri_line": CRI_LINE, "json_records": json_records}))
    elif fmt.envelope == "docker":
        steps.append(("log_envelope_docker", {"json_records": json_records}))
    elif fmt.envelope == "syslog":
        assert reading.reach is not None  # the window's, as `Reading.of` gives it
        parameters = syslog.parameters(reading.reach, reading.logs_timezone)
        steps.append(("log_envelope_syslog", parameters))
    elif fmt.envelope in PREFIXED_LINES:
        parameters = {
            "prefixed": fmt.envelope,
            "prefixed_line": PREFIXED_LINES[fmt.envelope],
            "spaced_line": SPACED_FLUENTD_LINE,
            "spaced_hint": SPACED_FLUENTD_HINT,
        }
        steps.append(("log_envelope_prefixed", parameters))
    if fmt.payload is not None:
        steps.append(
            (
                "log_payload",
                {
                    "payload": staging.json_path(fmt.payload),
                    "payload_key": fmt.payload,
                    "payload_keys": staging.levels(fmt.payload),
                    "payload_object": fmt.kind == "jsonl",
                    # a subscription's Lambda event: its reason names it (`misread` unpacks it)
                    "lambda_hint": f"{hints.LOOKS_LIKE}{hints.LAMBDA_HINT} in [sources."
                    "log_format])",
                    # the envelope's own fields fill those the object around it lacks (when
                    # a path reads them: each record's keys are listed for it)
                    "fill_envelope": fmt.envelope in ENVELOPE_FIELDS
                    and any(path.startswith("envelope.") for _, path in fmt.fields),
                },
            )
        )
        if fmt.kind == "jsonl":  # Fluent Bit's records of CRI parts: whole when a JSON object
            steps.append(("log_payload_parts", {}))
    return steps


def _counting_joined(records: pa.RecordBatchReader, joined: dict[int, int]) -> pa.RecordBatchReader:
    """The records as they pass, counting in `joined` the lines of each file (file_id) that
    were joined onto a record's first line (records = lines - joined)."""

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in records:
            extra = pc.subtract(pc.fill_null(batch.column("envelope_lines"), 1), 1)
            if pc.max(extra).as_py():
                table = pa.table({"file_id": batch.column("file_id"), "extra": extra})
                summed = table.group_by("file_id").aggregate([("extra", "sum")])
                for file_id, count in zip(*(c.to_pylist() for c in summed.columns), strict=True):
                    joined[file_id] = joined.get(file_id, 0) + count
            yield batch

    return pa.RecordBatchReader.from_batches(records.schema, batches())


def _coalesced(blocks: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The framed blocks joined into batches of at least `COALESCE_ROWS` lines: a screened
    block keeps few lines, and each batch costs DuckDB a fixed overhead."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for block in blocks:
        pending.append(block)
        rows += block.num_rows
        if rows >= COALESCE_ROWS:
            yield from pa.Table.from_batches(pending, FRAMED_SCHEMA).combine_chunks().to_batches()
            pending, rows = [], 0
    if pending:
        yield from pa.Table.from_batches(pending, FRAMED_SCHEMA).combine_chunks().to_batches()


def _within(staged: pa.RecordBatch, reach: tuple[datetime, datetime] | None) -> pa.RecordBatch:
    """The staged lines whose time is within `reach` (all of them without one)."""
    if reach is None:
        return staged
    ts = staged.column("ts_utc")
    inside = pc.and_(pc.greater_equal(ts, reach[0]), pc.less(ts, reach[1]))
    return staged.filter(inside)


def _widen(spans: Spans, staged: pa.RecordBatch) -> None:
    """Widens each file's time span by the well-formed lines of a staged batch."""
    timed = pa.Table.from_batches([staged]).filter(pc.is_valid(staged.column("ts_utc")))
    grouped = timed.group_by("file_id").aggregate([("ts_utc", "min"), ("ts_utc", "max")])
    for file_id, low, high in zip(
        *(grouped.column(c).to_pylist() for c in ("file_id", "ts_utc_min", "ts_utc_max")),
        strict=True,
    ):
        old = spans.get(file_id, (low, high))
        spans[file_id] = (min(old[0], low), max(old[1], high))


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
