"""Framing of the envelopes that hold many records (`envelope = "otlp"`: an OTLP JSON line;
`"cloudwatch"`: a CloudWatch Logs subscription object), read in Python in blocks of a few MiB.

Each record is one item, and so is each envelope that gives none (a line or object that does not
parse, an OTLP line without log records, a CloudWatch `CONTROL_MESSAGE`): items are numbered
from 1 in their file, and the number is their key (`line`), so every envelope is in at least one
bucket and the funnel counts records. `position` says where a record is: the envelope's line (or
byte offset) and the record's number in it.

The screen reads the envelope's text before any JSON is decoded: a line or object that is
failure-capable has every record checked in full; the records of one that is not get the shape
check and are counted (`unchecked_runs`). An envelope without a record is `irrelevant` (it is
counted and shape-checked: it carries nothing to check), whatever `line_checks`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from transforms.errors import InputError
from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import cloudwatch, otlp
from transforms.ingest.logs.framing import (
    FRAMED_SCHEMA,
    MAX_LINE_BYTES,
    STREAM_ERRORS,
    Framer,
    Source,
    stream_error,
)
from transforms.ingest.logs.screen import Screen

BATCH_ROWS = 1 << 14  # records handed on at once


@dataclass
class Unnester:
    """Cuts a file into items (records, and envelopes without one), numbered from 1; the same
    interface as `Framer` (`blocks`, `lines`: the items, `envelope_lines`, `error`,
    `unchecked_runs`)."""

    file_id: int
    name: str
    source: Source
    log_format: LogFormat
    screen: Screen | None = None  # None: every record is checked in full
    lines: int = 0
    envelope_lines: int = 0
    error: InputError | None = None
    _rows: dict[str, list] = field(default_factory=lambda: _empty_rows(), repr=False)
    _runs: list[list[int]] = field(default_factory=list, repr=False)

    def blocks(self) -> Iterator[pa.RecordBatch]:
        if self.log_format.envelope == "otlp":
            yield from self._otlp()
        else:
            yield from self._cloudwatch()
        if self._rows["line"]:
            yield self._batch()

    def unchecked_runs(self) -> pa.Table:
        runs = np.array(self._runs, np.int64).reshape(-1, 2)
        return pa.table(
            {
                "file_id": pa.array(np.full(len(runs), self.file_id, np.int32)),
                "first_line": pa.array(runs[:, 0]),
                "last_line": pa.array(runs[:, 1]),
            }
        )

    # OTLP: lines framed as any log file's, then each line's records ----------------------------
    def _otlp(self) -> Iterator[pa.RecordBatch]:
        framer = Framer(self.file_id, self.name, self.source)
        paths = self.log_format.fields
        for block in framer.blocks():
            columns = (block.column(c).to_pylist() for c in ("line", "raw", "problem", "preview"))
            for line, text, problem, preview in zip(*columns, strict=True):
                self.envelope_lines += 1
                where = f"{otlp.OTLP}: line {line}"
                if problem is not None:
                    self._bad(f"{problem} ({where})", preview)
                    continue
                try:
                    groups = otlp.request(text)
                except otlp.BadEnvelope as error:
                    self._bad(f"not an OTLP JSON line ({where}): {error}", text[:-1])
                    continue
                self._otlp_records(groups, text, where, paths)
            if len(self._rows["line"]) >= BATCH_ROWS:
                yield self._batch()
        self.error = framer.error

    def _otlp_records(
        self, groups: list[otlp.Group], text: str, where: str, paths: tuple[tuple[str, str], ...]
    ) -> None:
        checked = self.screen is None or self.screen.capable_text(text)
        number = 0
        for group in groups:
            for record in group.records:
                number += 1
                position = f"{where}, record {number}"
                if not checked and isinstance(record, dict):
                    self._unchecked(1)
                    continue
                try:
                    plain = otlp.view(record)
                except otlp.BadRecord as error:
                    raw = otlp.text(record)[:-1]
                    self._bad(f"not an OTLP log record ({position}): {error}", raw)
                    continue
                self._record(otlp.text(plain), otlp.fields(paths, plain, group), position)
        if number == 0:
            self._unchecked(1)  # a request without log records

    # CloudWatch: objects framed by JSON, each event's message a record ------------------------
    def _cloudwatch(self) -> Iterator[pa.RecordBatch]:
        capable = self.screen.capable_text if self.screen is not None else (lambda text: True)
        offset = 0
        try:
            for found in cloudwatch.objects(self.source.pieces(), capable):
                self.envelope_lines += 1
                offset = found.offset
                self._cloudwatch_object(found)
                if len(self._rows["line"]) >= BATCH_ROWS:
                    yield self._batch()
        except STREAM_ERRORS as error:
            self.error = stream_error(self.name, error, f"the object at byte {offset}")

    def _cloudwatch_object(self, found: cloudwatch.Found) -> None:
        where = f"{cloudwatch.CLOUDWATCH}: byte {found.offset}"
        if found.problem is not None:
            self._bad(f"not a CloudWatch Logs object ({where}): {found.problem}", found.preview)
            return
        try:
            _, items, around = cloudwatch.events(found.value)
        except ValueError as error:
            preview = otlp.text(found.value)[: cloudwatch.PREVIEW_CHARS]
            self._bad(f"not a CloudWatch Logs object ({where}): {error}", preview)
            return
        if not items:
            self._unchecked(1)  # a CONTROL_MESSAGE, or no log event
            return
        for number, item in enumerate(items, 1):
            position = f"{where}, event {number}"
            try:
                message, fields = cloudwatch.event(item, around)
            except ValueError as error:
                preview = otlp.text(item)[: cloudwatch.PREVIEW_CHARS]
                self._bad(f"not a CloudWatch log event ({position}): {error}", preview)
                continue
            size = len(message.encode())
            if size > MAX_LINE_BYTES:
                reason = f"record is {size} bytes, longer than the 1 MiB limit ({position})"
                self._bad(reason, message[: cloudwatch.PREVIEW_CHARS])
            elif found.capable:
                self._record(message + "\n", fields, position)
            elif (shape := self.screen.record_shape(message) if self.screen else None) is not None:
                self._bad(f"{shape} ({position})", message)
            else:
                self._unchecked(1)

    # Items -------------------------------------------------------------------------------------
    def _record(self, raw: str, envelope: str, position: str) -> None:
        self._add(raw, None, None, envelope, position)

    def _bad(self, reason: str, preview: str) -> None:
        self._add(None, reason, preview, None, None)

    def _add(self, raw, problem, preview, envelope, position) -> None:
        self.lines += 1
        rows = self._rows
        rows["line"].append(self.lines)
        rows["raw"].append(raw)
        rows["problem"].append(problem)
        rows["preview"].append(preview)
        rows["envelope"].append(envelope)
        rows["position"].append(position)

    def _unchecked(self, count: int) -> None:
        if self._runs and self._runs[-1][1] == self.lines:
            self._runs[-1][1] += count
        else:
            self._runs.append([self.lines + 1, self.lines + count])
        self.lines += count

    def _batch(self) -> pa.RecordBatch:
        rows, self._rows = self._rows, _empty_rows()
        count = len(rows["line"])
        return pa.record_batch(
            [
                pa.array(np.full(count, self.file_id, np.int32)),
                pa.array(rows["line"], pa.int64()),
                pa.array(rows["raw"], pa.large_string()),
                pa.array(rows["problem"], pa.string()),
                pa.array(rows["preview"], pa.string()),
                pa.array(rows["envelope"], pa.string()),
                pa.nulls(count, pa.int64()),
                pa.array(rows["position"], pa.string()),
            ],
            schema=FRAMED_SCHEMA,
        )


def _empty_rows() -> dict[str, list]:
    return {name: [] for name in ("line", "raw", "problem", "preview", "envelope", "position")}
