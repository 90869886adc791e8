"""A JSON array written one record a line: `[`, each record and its comma on a line of its
own, `]` (an exporter's array, a hand-edited dump). Read by line, each record but the last is
no JSON (`{...},`): quarantined, the failure in one was one item under the quarantine limit
beside the other files' lines, and the run passed. The run stops on it instead, as on an array
on one line (`lost.batched`) or printed over many (`lost.pretty`)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.incident import LogFormat
from transforms.ingest.logs.lost import (
    NO_PAYLOAD,
    NOT_JSON,
    QUARANTINED,
    payload_events,
    record_events,
)

# A quarantined line that may be a record and its comma: a JSON object's end, then the comma
RECORD_AND_COMMA = r"\}\s*,\s*$"


def arrayed(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a line quarantined as no record (not valid JSON, or without
    the payload's string) that is a JSON object and a comma, the object a failure record itself
    or at the payload (with none set, at any key as text: a collector's record). Other text
    after the comma, or no failure record, leaves the line to the quarantine. `names`: file_id
    -> name."""
    reasons = pc.fill_null(
        pc.or_(
            pc.starts_with(staged.column("quarantine_reason"), NOT_JSON),
            pc.starts_with(staged.column("quarantine_reason"), NO_PAYLOAD),
        ),
        False,
    )
    quarantined = staged.filter(reasons)
    ending = pc.fill_null(
        pc.match_substring_regex(quarantined.column("raw"), RECORD_AND_COMMA), False
    )
    for row in quarantined.filter(ending).to_pylist():
        text = row["raw"].strip().removesuffix(",").rstrip()
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        if fmt.payload is not None:
            events = payload_events(value, fmt, failure_events)
        else:  # the record itself, or a collector's record holding it as text at a key
            texts = [text, *(found for found in value.values() if isinstance(found, str))]
            events = next(
                (found for one in texts if (found := record_events(one, fmt, failure_events))),
                [],
            )
        if events:
            return InputError(
                f"{names[row['file_id']]}: line {row['line']} is a record of a JSON array "
                "written one record a line (the record, then a comma), holding a failure event "
                f"({', '.join(events)}): {QUARANTINED} Write one record a line, without the "
                "array's brackets and commas (jq -c '.[]' FILE; Azure Monitor's resource logs "
                'as storage kept them before November 2018, {"records": [...]}: jq -c '
                "'.records[]' FILE; a file of such lines without the brackets: sed "
                "'s/,[[:space:]]*$//' FILE), then run again"
            )
    return None
