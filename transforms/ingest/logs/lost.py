"""Records the map stops the run on (exit 2) rather than quarantine: each would be one item
under the quarantine limit, and the failures in it never credited."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import dotted, hints

# The starts of the reasons of parts of a record: still partial when its file ends (CRI,
# Docker: `log_envelope_*`), or marked by the collector that split it (`log_payload`).
UNFINISHED = "unfinished partial line"
PARTS = (UNFINISHED, "part of a record the collector split")
QUARANTINED = (
    "quarantined, it would be one item under the quarantine limit and its failure never credited."
)
# The reason of a line or a joined record over the 1 MiB limit (`framing`, `log_envelope_*`,
# `unnesting`): only its first 4096 characters are kept, as its preview.
OVERSIZED = r"^(line|record) is [0-9]+ bytes, longer than the 1 MiB limit"
# A line of a JSON document printed over many lines: an object's member, indented, on a line
# of its own (`  "event": "payment.failed",`; journalctl -o json-pretty's `\t"MESSAGE" : ...`)
PRETTY_MEMBER = r'^[ \t]+"([^"\\\n]|\\.)*"[ \t]*:'
# The exports that print so, and how to write one record a line instead
PRETTY_HINT = (
    "The file is pretty-printed JSON (gcloud logging read --format=json, journalctl -o "
    "json-pretty, jq without -c, the AWS CLI's aws logs get-log-events): write one record a "
    "line (jq -c '.[]' FILE for an array of records, jq -c . FILE for records one after "
    "another, jq -c '.events[]' FILE for aws logs; journalctl -o json), then run again"
)
PRINTED_HINT = (  # ... or, a line of it unwrapped from a collector's, the service printed so
    "The service printed each record over many lines, each kept as a record of its own by the "
    "collector: have it log each record on one line (compact JSON), then run again"
)
# A terminal's colour code (SGR: ESC [ parameters m), and how one starts
COLOUR = r"\x1b\[[0-9;]*m"
COLOUR_START = "\x1b["
# The reason of a record that does not parse (`stg_logs`), and how many starts of a record a
# glued line is tried at (each a parse of the text after it)
NOT_JSON = "not valid JSON"
# The reason of a JSON object without the payload's string (`log_payload`)
NO_PAYLOAD = "not a JSON object with a string at "
GLUED_TRIES = 64
# A file of records as text at one key and as objects at another, and how to read it: a Cloud
# Logging export of a container's lines, JSON ones parsed into jsonPayload, others textPayload
MIXED_HINT = (
    "; or a Cloud Logging export mixing text and JSON entries, read with the JSON entries' "
    "fields once each text entry is made one: jq -c 'if .textPayload then .jsonPayload = "
    "(.textPayload | fromjson? // .) | del(.textPayload) else . end' FILE"
)
# Two JSON objects on one line, one right after the other (`streamed`)
ONE_AFTER_ANOTHER = r"\}[ \t\r]*\{"
# The writers that put records so, and how to have one record a line
STREAM_HINT = (
    "Have the writer end each record with a line feed (Fluent Bit: format json_lines, not "
    "json_stream; Firehose: its new line delimiter, AppendDelimiterToRecord), or write one "
    "record a line (jq -c . FILE), then run again"
)
# A JSON string's escapes that can spell an event's characters: `\u0070`, `\"`, `\\`, `\/`
ESCAPE = re.compile(r'\\u([0-9a-fA-F]{4})|\\(["\\/])')
# What may stand next to an event named in a record's text: a quote, `=`, a blank, its ends;
# not a character that makes a longer name (`payment.failed_retry`)
NAME_CHARACTER = r"[\w.\-/:]"


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
    """The error that stops a run on a part of a record whose text (its first 4096 characters,
    the quarantine's preview) holds a failure event: quarantined, the failure would be lost.
    A record still partial when its file ends (a CRI or Docker runtime split it, and the file
    was rotated between its parts, or is still being written: its rest, if any, opens the next
    file), or a part of a record a collector split around its payload. `names`: file_id ->
    name."""
    reasons = staged.column("quarantine_reason")
    starts = [pc.fill_null(pc.starts_with(reasons, prefix), False) for prefix in PARTS]
    found = pc.indices_nonzero(pc.or_(*starts))
    for row in staged.take(found).to_pylist():
        events = held(row["raw"] or "", failure_events)
        if not events:
            continue
        name, holding = names[row["file_id"]], f"holding a failure event ({', '.join(events)})"
        if row["quarantine_reason"].startswith(UNFINISHED):
            lines = row["quarantine_reason"].rsplit(", ", 1)[-1]
            return InputError(
                f"{name}: {lines} are the start of a record {holding} that the file ends inside: "
                f"{QUARANTINED} The file was rotated between the parts of the record (its rest "
                "opens the next file: join the two, in order, into one file) or is still being "
                "written (run again once it is complete)"
            )
        advice = row["quarantine_reason"].split("): ", 1)[-1]  # how to have the parts joined
        return InputError(
            f"{name}: line {row['line']} is part of a record the collector split, {holding}: "
            f"{QUARANTINED} {advice[:1].upper()}{advice[1:]}, or join them in the file, then "
            "run again"
        )
    return None


def oversized(
    staged: pa.RecordBatch, names: dict[int, str], failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a line or record over the 1 MiB limit whose preview (its
    first 4096 characters) holds a failure event: quarantined, the failure would be lost under
    the quarantine limit (a service that logs a failure with a large field, a request's body).
    `names`: file_id -> name."""
    reasons = pc.fill_null(
        pc.match_substring_regex(staged.column("quarantine_reason"), OVERSIZED), False
    )
    for row in staged.take(pc.indices_nonzero(reasons)).to_pylist():
        events = held(row["raw"] or "", failure_events)
        if events:
            reason = row["quarantine_reason"].replace("line is", f"line {row['line']} is", 1)
            return InputError(
                f"{names[row['file_id']]}: {reason}, holding a failure event "
                f"({', '.join(events)}) in its first 4096 characters: {QUARANTINED} Have the "
                "service log the failure without its large fields (or cut them out of the "
                "record), then run again"
            )
    return None


def named(data: bytes, failure_events: tuple[str, ...]) -> set[str]:
    """The failure events that bytes name literally, each as a whole name (`held`): a line over
    the 1 MiB limit is read so past its preview, a block at a time."""
    found = tuple(event for event in failure_events if event.encode() in data)
    return set(held(data.decode("utf-8", "replace"), found)) if found else set()


def beyond_preview(name: str, number: int, size: int, head: bytes, events: set[str]):
    """The error that stops a run on a line over the 1 MiB limit that names a failure event
    (`events`, `named`) only after its preview, `head` (one in the preview: `oversized`)."""
    if not events or held(head.decode("utf-8", "backslashreplace"), tuple(events)):
        return None
    return InputError(
        f"{name}: line {number} is {size} bytes, longer than the 1 MiB limit, holding a failure "
        f"event ({', '.join(sorted(events))}) after its first 4096 characters: {QUARANTINED} "
        "Have the service log the failure without its large fields (or cut them out of the "
        "record), then run again"
    )


def pretty(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a quarantined line of a JSON document printed over many
    lines (`PRETTY_MEMBER`) that is a failure record's event member (`"event": "payment.failed"`,
    the key the event's path ends in), or a member holding a failure record as text (journalctl
    -o json-pretty's `"MESSAGE" : "{...}"`, aws logs' `"message"`): each such line is
    quarantined, no record, and the failure would be lost under the quarantine limit. Another
    member naming the event (a debug dump's `"payment.failed": 12`) is the service's own text:
    quarantined as before. `names`: file_id -> name."""
    for row in _quarantined(staged, lambda raw: pc.match_substring_regex(raw, PRETTY_MEMBER)):
        events = _member_events(row["raw"], fmt, failure_events)
        line = not fmt.payload or row["quarantine_reason"].startswith(NO_PAYLOAD)
        if events:
            return InputError(
                f"{names[row['file_id']]}: line {row['line']} is a line of a JSON document "
                f"printed over many lines, holding a failure event ({', '.join(events)}): "
                f"{QUARANTINED} {PRETTY_HINT if line and fmt.envelope == 'none' else PRINTED_HINT}"
            )
    return None


def streamed(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a line quarantined as no record (not valid JSON, or without
    the payload's string) that is two or more JSON objects written one after another, one of
    them a failure record, itself or at the payload: Fluent Bit's format json_stream, Firehose's
    objects without its new line delimiter. Each record is whole, but the line is one quarantined
    item, and its failures would be lost under the quarantine limit. `names`: file_id -> name."""
    for row in _quarantined(staged, lambda raw: pc.match_substring_regex(raw, ONE_AFTER_ANOTHER)):
        if not row["quarantine_reason"].startswith((NOT_JSON, NO_PAYLOAD)):
            continue
        records = _one_after_another(row["raw"])
        failing = [
            events
            for record in records
            if (events := _streamed_events(record, fmt, failure_events))
        ]
        if len(records) > 1 and failing:
            events = ", ".join(sorted({event for found in failing for event in found}))
            return InputError(
                f"{names[row['file_id']]}: line {row['line']} is {len(records)} JSON records "
                f"written one after another with no line feed between them, {len(failing)} of "
                f"them a failure record ({events}): {QUARANTINED} {STREAM_HINT}"
            )
    return None


def glued(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a line quarantined as not valid JSON that ends with a whole
    record holding a failure event after other text: a line that did not end in a line feed
    (its writer killed mid-line) joined to the next file's first (`cat a.log b.log`, gzip
    members), or a prefix a collector wrote before the record (its reason names the setting
    that reads the known ones). The record's failure would be lost under the quarantine limit.
    A record whose event is another (`stats {"payment.failed": 3}`) is the service's own text:
    quarantined as before.
    A line with NULs is left to zero padding's own check (`padding.after_cut_line`). `names`:
    file_id -> name."""
    reasons = pc.fill_null(pc.starts_with(staged.column("quarantine_reason"), NOT_JSON), False)
    for row in staged.filter(reasons).to_pylist():
        raw = row["raw"] or ""
        record = _last_record(raw) if "\x00" not in raw else None
        events = record_events(record, fmt, failure_events, "jsonl") if record else []
        if events:
            return InputError(
                f"{names[row['file_id']]}: line {row['line']} holds a record holding a failure "
                f"event ({', '.join(events)}) after other text ({row['quarantine_reason']}): "
                f"{QUARANTINED} The text is the end of a file that did not end in a line feed, "
                "joined to the next (cat, gzip members of rotated files: put a line feed before "
                "the record), or a prefix a collector writes before each record (set the "
                "envelope that reads it, or have the collector write the record alone); then "
                "run again"
            )
    return None


def unheld(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a line without the payload (`NO_PAYLOAD`) that is a
    failure record itself, or holds one as the text of another key (a Docker entry's `log`
    under `payload = "message"`): a file the setting does not read (the service's own lines,
    another collector's, caught by the same glob) has its quiet lines counted irrelevant by
    their shape and its failure lines alone quarantined, each one item under the quarantine
    limit. `names`: file_id -> name."""
    reasons = pc.fill_null(pc.starts_with(staged.column("quarantine_reason"), NO_PAYLOAD), False)
    for row in staged.filter(reasons).to_pylist():
        line = json_value(row["raw"] or "")
        if not isinstance(line, dict):
            continue
        held_at = [("is a record itself", row["raw"], "jsonl")] + [
            (f"holds one in its {key}", value, None)
            if isinstance(value, str)
            else (f"holds one as an object in its {key}", orjson.dumps(value).decode(), "jsonl")
            for key, value in line.items()
            # an object at the payload's (first) key holds the record, read or not by its kind
            if isinstance(value, str)
            or (isinstance(value, dict) and key != (fmt.payload or "").split(".")[0])
        ]
        for where, text, kind in held_at:
            events = record_events(text, fmt, failure_events, kind)
            if events:
                mixed = MIXED_HINT if " as an object " in where else ""
                return InputError(
                    f"{names[row['file_id']]}: line {row['line']} has no string at "
                    f"{fmt.payload} (sources.log_format.payload) but {where}, holding a failure "
                    f"event ({', '.join(events)}): {QUARANTINED} The file is not one the setting "
                    f"reads (the service's own lines, or another collector's{mixed}): read it in "
                    "a run whose [sources.log_format] reads it, or leave it out of "
                    "sources.logs, then run again"
                )
    return None


def coloured(
    staged: pa.RecordBatch, names: dict[int, str], fmt: LogFormat, failure_events: tuple[str, ...]
) -> InputError | None:
    """The error that stops a run on a quarantined line that is a failure record once a
    terminal's colour codes (`COLOUR`) are taken out: a logger colouring its error lines red,
    journald's message of one read as its bytes. No record, and the failure would be lost under
    the quarantine limit beside the service's other lines. A coloured line that is no record
    without its codes either (a traceback naming the event) is quarantined, as it would be
    uncoloured. `names`: file_id -> name."""
    for row in _quarantined(staged, lambda raw: pc.match_substring(raw, COLOUR_START)):
        events = record_events(re.sub(COLOUR, "", row["raw"]), fmt, failure_events)
        if events:
            return InputError(
                f"{names[row['file_id']]}: line {row['line']} holds a failure event "
                f"({', '.join(events)}) among terminal colour codes (ESC [ ... m): "
                f"{QUARANTINED} Have the service log without colour when its output is not a "
                "terminal (many loggers honour NO_COLOR=1), or remove the codes from the file "
                "(sed 's/\\x1b\\[[0-9;]*m//g'), then run again"
            )
    return None


def json_value(text: str) -> Any:
    """The JSON value `text` is; None when it is no JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _quarantined(
    staged: pa.RecordBatch, matching: Callable[[pa.Array], pa.Array]
) -> list[dict[str, Any]]:
    """The quarantined rows of `staged` whose text `matching` selects (a mask of `raw`)."""
    quarantined = staged.filter(pc.is_valid(staged.column("quarantine_reason")))
    return quarantined.filter(pc.fill_null(matching(quarantined.column("raw")), False)).to_pylist()


def record_events(
    text: str, fmt: LogFormat, failure_events: tuple[str, ...], kind: str | None = None
) -> list[str]:
    """The failure event `text` holds as its event when read as a record of the format's kind
    (or `kind`): a JSON object's value at the event's path, a logfmt key's value, the
    pattern's `event` group. [] when it is no such record or its event is another. An event
    the envelope holds (`envelope.`) cannot be read from the record: any failure event the
    text names counts (`held`)."""
    kind = kind or fmt.kind
    if fmt.event.startswith("envelope."):
        return held(text, failure_events)
    if kind == "jsonl":
        try:
            value: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            return []
        value = dotted.value(value, fmt.event)
    elif kind == "logfmt":
        found = re.search(rf'(?:^|\s){re.escape(fmt.event)}=(?:"((?:[^"\\]|\\.)*)"|(\S*))', text)
        value = (found[1] if found[1] is not None else found[2]) if found else None
    else:
        try:
            found = re.search(fmt.pattern or "", text)
        except re.error:  # an RE2 pattern Python reads otherwise
            return held(text, failure_events)
        value = found.groupdict().get("event") if found else None
    return [value] if isinstance(value, str) and value in failure_events else []


def _member_events(line: str, fmt: LogFormat, failure_events: tuple[str, ...]) -> list[str]:
    """The failure event a line of a JSON document printed over many lines gives as a record's
    event: its member is the event's (the key a way of reading its path ends in) with a failure
    event for value, or text holding a failure record (the payload's, or another key's:
    `"message"` of `aws logs get-log-events`, `"textPayload"` of `gcloud logging read`). [] for
    any other line."""
    try:
        member = orjson.loads("{" + line.strip().removesuffix(",") + "}")
    except orjson.JSONDecodeError:
        return []
    if len(member) != 1:
        return []
    [(key, value)] = member.items()
    if key in {keys[-1] for keys in dotted.splits(fmt.event)} and value in failure_events:
        return [value]
    if isinstance(value, str):  # the payload's, or any member's (no payload set yet)
        return record_events(value, fmt, failure_events)
    return []


def _one_after_another(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The JSON objects `text` is, written one after another (white space between them), each
    as its text and its value; [] when it is anything else."""
    decoder, records, at = json.JSONDecoder(), [], 0
    while at < len(text):
        start = at
        try:
            value, at = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            return []
        if not isinstance(value, dict):
            return []
        records.append((text[start:at], value))
        while at < len(text) and text[at] in " \t\r":
            at += 1
    return records


def _streamed_events(
    record: tuple[str, dict[str, Any]], fmt: LogFormat, failure_events: tuple[str, ...]
) -> list[str]:
    """The failure event a JSON object written beside others gives as a record: itself, or the
    record at its payload (text read by the format's kind, or an object)."""
    text, value = record
    if fmt.payload is None:
        return record_events(text, fmt, failure_events, "jsonl")
    return payload_events(value, fmt, failure_events)


def payload_events(
    value: dict[str, Any], fmt: LogFormat, failure_events: tuple[str, ...]
) -> list[str]:
    """The failure event a collector's JSON object gives as the record at its payload (which
    is set): text read by the format's kind, or an object (`parse_json` into `.message`)."""
    found: Any = value
    for key in (fmt.payload or "").split("."):
        found = found.get(key) if isinstance(found, dict) else None
    if isinstance(found, dict):
        return record_events(json.dumps(found), fmt, failure_events, "jsonl")
    return record_events(found, fmt, failure_events) if isinstance(found, str) else []


def _last_record(text: str) -> str | None:
    """The JSON object that ends `text` after other text, the longest such (None if none): the
    `{` of each key's opening quote tried from the left, `GLUED_TRIES` at most."""
    at = text.find('{"', 1)
    for _ in range(GLUED_TRIES):
        if at < 0:
            return None
        try:
            if isinstance(orjson.loads(text[at:]), dict):
                return text[at:]
        except orjson.JSONDecodeError:
            pass
        at = text.find('{"', at + 1)
    return None


def names_pattern(failure_events: tuple[str, ...]) -> str:
    """The RE2 pattern of a text that names one of the failure events as a whole name, as `held`
    finds them (JSON escapes in the name aside): DuckDB's, over the quarantine's previews."""
    names = "|".join(re.escape(event) for event in sorted(failure_events))
    return rf"(^|[^{NAME_CHARACTER[1:-1]}])({names})($|[^{NAME_CHARACTER[1:-1]}])"


def held(text: str, failure_events: tuple[str, ...]) -> list[str]:
    """The failure events a part of a record names, sorted: each as a whole name (a longer name
    is another event), spelt with JSON escapes or not, within as many levels of JSON strings as
    a collector nests (a Docker `log` holding the service's record: its quotes escaped)."""
    for _ in range(3):
        text = ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else m[2], text)
    return sorted(
        event
        for event in set(failure_events)
        if re.search(rf"(?<!{NAME_CHARACTER}){re.escape(event)}(?!{NAME_CHARACTER})", text)
    )
