"""A record the fields' paths miss because its collector kept it as text: a Cloud Logging
export of a container's lines holds each JSON line parsed into `jsonPayload`, any other as text
in `textPayload`. Read with the JSON entries' fields (`event = "jsonPayload.event"`), a text
entry holding a failure record is quarantined (`missing ts`), one item under the quarantine
limit: the run stops on it instead, as a JSON entry read with `payload = "textPayload"` does
(`lost.unheld`)."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import dotted
from transforms.ingest.logs.lost import QUARANTINED, json_value

# The reasons of a record a field's path does not reach (`stg_logs`): `missing ts`, `missing
# event`, with the setting named for a collector's line or not
MISSING = "missing "
# A key jq reads as `.key`; another is quoted, `."key"`
JQ_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def texted(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a line of JSON records read at a key (`root`, the first key
    of the event's path: `jsonPayload`) that lacks that key and holds, as the text of another
    key, a JSON record whose event, at the rest of the path, is a failure event. A line the
    paths do reach, or whose text holds no failure record, is quarantined as before. `names`:
    file_id -> name."""
    root, dot, rest = fmt.event.partition(".")
    if fmt.payload is not None or fmt.envelope != "none" or not dot or root == "envelope":
        return None
    reasons = pc.fill_null(pc.starts_with(staged.column("quarantine_reason"), MISSING), False)
    for row in staged.filter(reasons).to_pylist():
        line = json_value(row["raw"] or "")
        if not isinstance(line, dict) or root in line:
            continue
        for key, text in line.items():
            event = _event(json_value(text) if isinstance(text, str) else None, rest)
            if event in failure_events:
                return InputError(
                    f"{names[row['file_id']]}: line {row['line']} has no {root} "
                    f'(sources.log_format.event is "{fmt.event}") but holds a failure record '
                    f"({event}) as text in its {key}: {QUARANTINED} The file holds records as "
                    f"objects in {root} and as text in {key} (a Cloud Logging export mixing "
                    "JSON and text entries): make each text entry one, then run again: "
                    f"jq -c 'if {_jq(root)} then . else {_jq(root)} = ({_jq(key)} | fromjson? "
                    f"// .) | del({_jq(key)}) end' FILE"
                )
    return None


def _event(record: object, path: str) -> object:
    """The value at the dotted `path` of a JSON record; None where it has none."""
    return dotted.value(record, path)


def _jq(key: str) -> str:
    """`key` as jq reads an object's key."""
    return f".{key}" if JQ_NAME.fullmatch(key) else '."' + key.replace('"', '\\"') + '"'
