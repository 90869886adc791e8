"""Files read with a setting that does not read them (`Misread`): a collector's lines read as
the service's own, or another envelope's lines (or the service's own) read with an envelope.
The map stops the run on one that holds a failure rather than quarantine each of its lines,
its failures lost under the quarantine limit."""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.logs import cloudwatch, hints
from transforms.ingest.logs.lost import held, json_value

# The reasons of a line that is no line of the envelope at all (`log_envelope_*.sql`, and an
# OTLP line or a CloudWatch object, `unnesting`), not a record in it the contract refuses; the
# shape check's (`..., shape check)`) are not staged, and hold no failure event
NOT_THE_ENVELOPE = (
    r"^not an? (CRI line|Docker json-file entry|fluentd out_file line|Fluent Bit file output "
    r"line|CloudWatch Logs export line|syslog line|OTLP JSON line|CloudWatch Logs object) "
    r'\(envelope = "'
)


# An OTLP line's or a CloudWatch object's bytes that are not UTF-8 (`json_stream`): the
# envelope's, its text unreadable, as a line's of any format is (quarantined, never a file of
# another envelope)
NOT_UTF8 = "): not UTF-8"
# How much of a Lambda event's packed object is read for its failure events (a subscription's
# object is at most 1 MiB of messages; a gzip bomb is read no further)
UNPACKED = 16 << 20


class Misread:
    """Files read with the default format whose lines are a collector's (`hints`): each line
    quarantined as the record, which it is not, naming the setting that reads it. A failure
    line among them (or, a journald message written as byte values, counted irrelevant unseen)
    would be one item under the quarantine limit: a file none of whose staged lines (those
    checked in full, and the few at each end staged for its time) is a record stops the run
    when one of its lines naming a setting names a failure event too, or is journald's. A
    collector's line among the service's is only quarantined, and so is a file of another
    program's collected lines without a failure (a sidecar's Docker log that `logs/*` matched).

    So, with an envelope, is a file none of whose lines is the envelope's (`NOT_THE_ENVELOPE`:
    mixed envelopes in one folder, the service's own lines beside its collector's) when one
    of them holds a failure event: each quarantined, its failure lost under the limit (a file
    of a few lines beside large ones passed the gate). A line that is not the envelope's among
    its lines is only quarantined, and so is such a file without a failure.
    """

    def __init__(self, failure_events: tuple[str, ...], envelope: str) -> None:
        self.failure_events, self.envelope = failure_events, envelope
        # file_id -> its first line not the envelope's that holds a failure: line, reason, events
        self.foreign: dict[int, tuple[int, str, list[str]]] = {}
        self.hinted: dict[int, tuple[int, str]] = {}  # file_id -> its first such line, reason
        self.failing: set[int] = set()  # the files with such a line that may hold a failure
        self.read: set[int] = set()  # the files with a record read

    def note(self, staged: pa.RecordBatch) -> None:
        """Notes the staged lines' files that have a record, and their lines naming a setting."""
        reasons = staged.column("quarantine_reason")
        self.read.update(
            pc.unique(staged.filter(pc.is_null(reasons)).column("file_id")).to_pylist()
        )
        named = pc.fill_null(pc.match_substring(reasons, hints.LOOKS_LIKE), False)
        columns = ["file_id", "line", "quarantine_reason", "raw"]
        for row in staged.filter(named).select(columns).to_pylist():
            first = self.hinted.get(row["file_id"])
            if first is None or row["line"] < first[0]:
                self.hinted[row["file_id"]] = (row["line"], row["quarantine_reason"])
            if hints.BYTE_VALUED in row["quarantine_reason"] or self._held(row):
                self.failing.add(row["file_id"])
        foreign = pc.and_not(
            pc.fill_null(pc.match_substring_regex(reasons, NOT_THE_ENVELOPE), False),
            pc.fill_null(pc.ends_with(reasons, NOT_UTF8), False),
        )
        for row in staged.filter(foreign).select(columns).to_pylist():
            first = self.foreign.get(row["file_id"])
            events = self._held(row)
            if events and (first is None or row["line"] < first[0]):
                self.foreign[row["file_id"]] = (row["line"], row["quarantine_reason"], events)

    def _held(self, row: dict[str, Any]) -> list[str]:
        """The failure events a quarantined line names: in its text, or, a subscription's
        Lambda event, in the object its base64 of gzip holds."""
        raw = row["raw"] or ""
        if cloudwatch.LAMBDA_EVENT not in row["quarantine_reason"]:
            return held(raw, self.failure_events)
        return held(raw, self.failure_events) or held(_unpacked(raw), self.failure_events)

    def note_read(self, file_ids: Iterable[int]) -> None:
        """Notes files with records read that were not staged (an OTLP or CloudWatch file's
        records counted unchecked, each in a line or object of the envelope)."""
        self.read.update(file_ids)

    def error(self, names: dict[int, str]) -> InputError | None:
        """The error that stops the run on the first such file. `names`: file_id -> name."""
        for file_id, (line, reason) in sorted(self.hinted.items()):
            if file_id in self.read or file_id not in self.failing:
                continue
            looks = reason.split(hints.LOOKS_LIKE, 1)[1].removesuffix(")")
            return InputError(
                f"{names[file_id]}: no line of it is a record read with [sources.log_format], "
                f"and line {line} looks like {looks}: read so, its failures would each be "
                "quarantined, under the quarantine limit, and never credited; set it, then run "
                "again"
            )
        return None

    def foreign_error(self, names: dict[int, str]) -> InputError | None:
        """The error that stops the run on the first file none of whose lines is the
        envelope's, holding a failure event; after a file's own errors (compressed data in it,
        a corrupt gzip stream: no setting reads it). `names`: file_id -> name."""
        for file_id, (line, reason, events) in sorted(self.foreign.items()):
            if file_id in self.read:
                continue
            return InputError(
                f'{names[file_id]}: no line of it is read with envelope = "{self.envelope}", and '
                f"line {line}, quarantined as {reason}, holds a failure event "
                f"({', '.join(events)}): read so, its failures would each be quarantined, under "
                "the quarantine limit, and never credited. The file is not one the setting reads "
                "(the service's own lines, or another collector's): read it in a run whose "
                "[sources.log_format] reads it, or leave it out of sources.logs, then run again"
            )
        return None


def _unpacked(raw: str) -> str:
    """The text a Lambda event's awslogs.data holds (base64 of gzip; its first `UNPACKED`
    bytes); '' when it holds none."""
    value = json_value(raw)
    data = value.get("awslogs") if isinstance(value, dict) else None
    data = data.get("data") if isinstance(data, dict) else None
    if not isinstance(data, str):
        return ""
    try:
        packed = base64.b64decode(data, validate=True)
        text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(packed, UNPACKED)
    except (binascii.Error, zlib.error):
        return ""
    return text.decode("utf-8", "replace")
