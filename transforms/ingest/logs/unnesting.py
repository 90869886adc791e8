"""Framing of the envelopes that hold many records (`envelope = "otlp"`: an OTLP JSON line;
`"cloudwatch"`: a CloudWatch Logs subscription object): each file framed by JSON value
(`json_stream`, a few MiB of text at a time), each envelope's records read in Python.

Each record is one item, and so is each envelope that gives none (a line or object that does not
parse, an OTLP line without log records, a CloudWatch `CONTROL_MESSAGE`): items are numbered
from 1 in their file, and the number is their key (`line`), so every envelope is in at least one
bucket and the funnel counts records. `position` says where a record is: the envelope's line (or
byte offset) and the record's number in it.

The screen reads the envelope's text before any JSON is decoded: the records of a line or
object that is not failure-capable get the shape check and are counted (`unchecked_runs`). A
CloudWatch object that is has every record checked in full; an OTLP line that is has each
record screened again as decoded (`Screen.capable_value`), and only those that hold a failure
event checked in full. An envelope without a record is `irrelevant` (it is
counted and shape-checked: it carries nothing to check), whatever `line_checks`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from transforms.errors import CreditsError, InputError
from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import cloudwatch, json_stream, otlp, otlp_count
from transforms.ingest.logs.framed import FRAMED_SCHEMA, MAX_LINE_BYTES
from transforms.ingest.logs.screen import Screen
from transforms.ingest.logs.source import (
    STREAM_ERRORS,
    Source,
    appended,
    compressed,
    stream_error,
)

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
    error: CreditsError | None = None
    _rows: dict[str, list] = field(default_factory=lambda: _empty_rows(), repr=False)
    _runs: list[list[int]] = field(default_factory=list, repr=False)

    def blocks(self) -> Iterator[pa.RecordBatch]:
        otlp_lines = self.log_format.envelope == "otlp"
        resync = json_stream.next_line_opening if otlp_lines else cloudwatch.next_object
        read = self._otlp if otlp_lines else self._cloudwatch
        capable = self.screen.capable_text if self.screen is not None else (lambda text: True)
        # An OTLP line that is not failure-capable only has its records counted
        # (`otlp_count.counted`).
        light = otlp_count.counted if otlp_lines else None
        paths = otlp.Fields.of(self.log_format.fields)
        where = "line 1"
        try:
            pieces = self.source.pieces()
            for found in json_stream.values(pieces, resync, capable, otlp_lines, light):
                self.envelope_lines += 1
                where = found.lines if otlp_lines else f"the object at byte {found.offset}"
                if found.too_long:  # one item would stand for any number of records
                    self.error = _too_long(self.name, where, found)
                    break
                if found.problem is not None and (  # only a quarantined item is examined
                    kind := compressed(found.text.encode("utf-8", "surrogateescape"))
                ):
                    self.error = appended(self.name, where, kind)
                    break
                read(found, paths)
                if len(self._rows["line"]) >= BATCH_ROWS:
                    yield self._batch()
        except STREAM_ERRORS as error:
            self.error = stream_error(self.name, error, where)
        if self._rows["line"]:
            yield self._batch()

    def bookends(self) -> None:
        """None: an envelope's unchecked records are counted, not decoded, so they give a
        file's span no time (its failure-capable records do)."""
        return None

    def unchecked_runs(self) -> pa.Table:
        runs = np.array(self._runs, np.int64).reshape(-1, 2)
        return pa.table(
            {
                "file_id": pa.array(np.full(len(runs), self.file_id, np.int32)),
                "first_line": pa.array(runs[:, 0]),
                "last_line": pa.array(runs[:, 1]),
            }
        )

    # OTLP: each line an `ExportLogsServiceRequest`, each of its log records a record ----------
    def _otlp(self, found: json_stream.Found, paths: otlp.Fields) -> None:
        where = f"{otlp.OTLP}: {found.lines}"
        if found.problem is not None:
            self._bad(f"not an OTLP JSON line ({where}): {found.problem}", found.preview)
            return
        try:
            items = self._otlp_items(found, paths, where)
        except otlp.Rounded:  # read again, every integer exact
            items = self._otlp_items(json_stream.exactly(found), paths, where)
        if type(items) is int:
            self._unchecked(items)
            return
        for item in items:
            if item is None:
                self._unchecked(1)
            else:
                self._add(*item)

    def _otlp_items(
        self, found: json_stream.Found, paths: otlp.Fields, where: str
    ) -> list[tuple | None] | int:
        """The items of one line, each as the arguments of `_add` (None: unchecked), or how
        many there are when none is checked."""
        if type(found.value) is otlp_count.Counted:
            return found.value.records or 1  # a request without log records: one item
        try:
            groups = otlp.request(found.value, found.exact)
        except otlp.BadEnvelope as error:
            reason = f"not an OTLP JSON line ({where}): {error}"
            return [(None, reason, _preview(found.value), None, None)]
        if not found.capable:
            records = [record for group in groups for record in group.records]
            if all(type(record) is dict for record in records):
                return len(records) or 1  # a request without log records: one item
        capable = self.screen.capable_value if self.screen is not None else (lambda value: True)
        items: list[tuple | None] = []
        number = 0
        for group in groups:
            for record in group.records:
                number += 1
                position = f"{where}, record {number}"
                if isinstance(record, dict) and not (found.capable and capable(record)):
                    items.append(None)
                    continue
                try:
                    plain = otlp.view(record, found.exact)
                    if (part := otlp.split_part(plain)) is not None:
                        reason = otlp.PART.format(position=position)
                        items.append((None, reason, part[: json_stream.PREVIEW_CHARS], None, None))
                        continue
                    fields = paths.json(plain, group)
                except otlp.BadRecord as error:
                    reason = f"not an OTLP log record ({position}): {error}"
                    items.append((None, reason, _preview(record), None, None))
                    continue
                items.append((otlp.text(plain), None, None, fields, position))
        return items or [None]  # a request without log records: one item, irrelevant

    # CloudWatch: each object's log events, each message a record ------------------------------
    def _cloudwatch(self, found: json_stream.Found, paths: object) -> None:
        where = f"{cloudwatch.CLOUDWATCH}: byte {found.offset}"
        if found.problem is not None:
            self._bad(f"not a CloudWatch Logs object ({where}): {found.problem}", found.preview)
            return
        try:
            items, around = cloudwatch.events(found.value)
        except ValueError as error:
            self._bad(f"not a CloudWatch Logs object ({where}): {error}", _preview(found.value))
            return
        if not items:
            self._unchecked(1)  # a CONTROL_MESSAGE, or no log event
            return
        for number, item in enumerate(items, 1):
            position = f"{where}, event {number}"
            try:
                message, fields = cloudwatch.event(item, around)
            except ValueError as error:
                self._bad(f"not a CloudWatch log event ({position}): {error}", _preview(item))
                continue
            size = len(message.encode())
            if size > MAX_LINE_BYTES:
                reason = f"record is {size} bytes, longer than the 1 MiB limit ({position})"
                self._bad(reason, message[: json_stream.PREVIEW_CHARS])
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


def _too_long(name: str, where: str, found: json_stream.Found) -> InputError:
    """A value longer than is read at once stops the run: quarantined, it was one item under
    the quarantine limit, whatever number of records (and failures) it holds."""
    return InputError(
        f"{name}: {where}: {found.problem}, which is not read (a collector's batch of that many "
        "records, or a value that never closes): its records cannot be counted. Have the "
        "collector write smaller batches, or split the file, then run again"
    )


def _preview(value: object) -> str:
    """A decoded value as compact JSON, for the quarantine."""
    return json.dumps(value, separators=(",", ":"))[: json_stream.PREVIEW_CHARS]


def _empty_rows() -> dict[str, list]:
    return {name: [] for name in ("line", "raw", "problem", "preview", "envelope", "position")}
