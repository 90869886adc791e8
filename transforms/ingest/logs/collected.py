"""A line that is a JSON array of a collector's records, each holding the service's line as
text: Fluent Bit's stdout or http output in `format json` over its tail input without a parser
(`[{"date": ..., "log": "{\\"ts\\": ...}"}, ...]`). The map stops the run on one holding a
failure record: quarantined, it is one item under the quarantine limit. (An array of the
service's records themselves is `lost.batched`'s.)"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import lost

# The reasons of such a line: read as the record (the default format), or without the
# payload's string (`payload = "log"`: the array is no object)
ARRAY_REASONS = ("JSON array, not an object", lost.NO_PAYLOAD)
# The outputs that write such arrays, and the setting that writes one record a line
BATCH_HINT = 'Fluent Bit\'s stdout and http outputs: format json_lines; then set payload = "log"'


def batch(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on its first quarantined line that is a JSON array whose
    objects hold the service's failure record as the text of a key (the payload's, or any key
    with no payload set). `names`: file_id -> name."""
    reasons = staged.column("quarantine_reason")
    arrays = pc.and_(
        pc.or_(*(pc.fill_null(pc.starts_with(reasons, reason), False) for reason in ARRAY_REASONS)),
        pc.fill_null(pc.starts_with(staged.column("raw"), "["), False),
    )
    for row in staged.filter(arrays).to_pylist():
        records = _records(lost.json_value(row["raw"] or "") or [])  # its text starts with `[`
        failing = [found for record in records if (found := _held(record, fmt, failure_events))]
        if failing:
            events = ", ".join(sorted({event for found in failing for event in found}))
            return InputError(
                f"{names[row['file_id']]}: line {row['line']} is a JSON array of {len(records)} "
                f"records, {len(failing)} of them a collector's record holding a failure record "
                f"({events}) as text: quarantined, it would be one item under the quarantine "
                "limit and its failures never credited; have the collector write one record (a "
                f"JSON object) per line ({BATCH_HINT}), or split the line into one line per "
                "record, then run again"
            )
    return None


def _records(values: list[Any]) -> list[dict[str, Any]]:
    """The collector's records of an array: its objects (Fluent Bit's; fluentd's forward message
    mode, `[tag, time, record]`), and each entry's record in fluentd's forward mode, `[tag,
    [[time, record], ...]]`."""
    entries = [entry for value in values if isinstance(value, list) for entry in value]
    held_in = [entry[1] for entry in entries if isinstance(entry, list) and len(entry) == 2]
    return [value for value in values + held_in if isinstance(value, dict)]


def _held(record: dict[str, Any], fmt: LogFormat, failure_events: tuple[str, ...]) -> list[str]:
    """The failure events a collector's record holds as the service's: the record at the
    payload (its text, or an object, as a line of its own is read), or, with none set, the text
    at any of its keys (read by the format's kind)."""
    if fmt.payload is not None:
        return lost.payload_events(record, fmt, failure_events)
    for text in record.values():
        if isinstance(text, str) and (events := lost.record_events(text, fmt, failure_events)):
            return events
    return []
