"""Records the map stops the run on (exit 2) rather than quarantine: each would be one item
under the quarantine limit, and the failures in it never credited."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.logs import hints

UNFINISHED = "unfinished partial line"  # the start of the envelopes' reason (`log_envelope_*`)


def batched(staged: pa.RecordBatch, names: dict[int, str]) -> InputError | None:
    """The error that stops a run on its first record that is a JSON array holding a failure
    event (`stg_logs.sql`, `array_failures`): quarantined, it was one item under the quarantine
    limit, and the failures batched in it were never credited. `names`: file_id -> name."""
    found = pc.indices_nonzero(pc.is_valid(staged.column("array_records")))
    if not len(found):
        return None
    row = staged.take(found[:1]).to_pylist()[0]
    where = f"line {row['line']}" + (f" ({row['position']})" if row["position"] else "")
    failures = row["array_failures"]
    return InputError(
        f"{names[row['file_id']]}: {where} is a JSON array of {row['array_records']} records, "
        f"{len(failures)} of them failure events ({', '.join(sorted(set(failures)))}): "
        "quarantined, it would be one item under the quarantine limit and its failures never "
        "credited; have the service or its collector write one record (a JSON object) per line "
        f"({hints.BATCHED_HINT}), or split the line into one line per record, then run again"
    )


def unfinished(
    staged: pa.RecordBatch, names: dict[int, str], failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a record still partial when its file ends (a CRI or Docker
    runtime split it, and the file was rotated between its parts, or is still being written)
    whose text so far holds a failure event (in its first 4096 characters, the quarantine's
    preview): its rest, if any, opens the next file, and the failure would be lost. `names`:
    file_id -> name."""
    reasons = staged.column("quarantine_reason")
    found = pc.indices_nonzero(pc.fill_null(pc.starts_with(reasons, UNFINISHED), False))
    for row in staged.take(found).to_pylist():
        events = sorted({event for event in failure_events if event in (row["raw"] or "")})
        if events:
            lines = row["quarantine_reason"].rsplit(", ", 1)[-1]
            return InputError(
                f"{names[row['file_id']]}: {lines} are the start of a record holding a failure "
                f"event ({', '.join(events)}) that the file ends inside: quarantined, it would "
                "be one item under the quarantine limit and its failure never credited. The "
                "file was rotated between the parts of the record (its rest opens the next "
                "file: join the two, in order, into one file) or is still being written (run "
                "again once it is complete)"
            )
    return None
