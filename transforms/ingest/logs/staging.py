"""The bound parameters of `stg_logs.sql` for a reading of the logs: where each field of the
contract is in a record (or its envelope), how its time is written, the keys checked for
repeats, and the collectors' hints (`hints`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from transforms.ingest.incident.amounts import LARGEST_AMOUNT
from transforms.ingest.incident.values import (
    ASCII_SPACE,
    EVENT_SET_ASIDE,
    HIDDEN_CHARACTER,
    TS_FORMATS,
)
from transforms.ingest.logs import hints
from transforms.ingest.logs.dotted import splits
from transforms.ingest.logs.plan import Reading

TS_RANGE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))
"""The instants a log line's time may be (UTC): those every later step can hold as a date-time
(a local year-1 time is year 0 in UTC). A line stamped outside is quarantined."""


def leap_pattern(ts_format: str) -> str | None:
    """The strptime pattern that reads a leap second (second 60, which `%S` refuses): its `%S`
    as a literal 60; None without a `%S` (`%%S` is a literal `%S`)."""
    leap = re.sub(r"%.", lambda spec: "60" if spec[0] == "%S" else spec[0], ts_format)
    return leap if leap != ts_format else None


def parameters(reading: Reading) -> dict[str, object]:
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
    from_envelope = [path.startswith("envelope.") for path in names]
    # each field's ways of reading its path as keys (`splits`), as JSON paths into the record
    ways = [
        splits(path) if fmt.kind == "jsonl" and not inside and fmt.envelope != "otlp" else [[path]]
        for path, inside in zip(names, from_envelope, strict=True)
    ]
    if fmt.kind == "jsonl":
        paths = [key_path(keys) for way in ways for keys in way]
    else:
        paths = [f'$."{name}"' for name in names]
    offsets = [sum(len(way) for way in ways[:i]) for i in range(len(ways))]
    envelope_paths = [
        json_path(path.removeprefix("envelope.")) if inside else "$"
        for path, inside in zip(names, from_envelope, strict=True)
    ]
    if fmt.envelope == "otlp":  # every field found in the record by `otlp.fields`, by its name
        from_envelope = [True] * len(names)
        envelope_paths = [json_path(name) for name in where]
    strptime = fmt.ts_format not in TS_FORMATS
    return {
        "hidden": HIDDEN_CHARACTER,
        "ascii_space": ASCII_SPACE,
        "kind": fmt.kind,
        "paths": paths,
        # the 1-based indexes in `paths` of each field's ways, and the key each path ends in
        "path_of": [
            [offset + j + 1 for j in range(len(way))]
            for offset, way in zip(offsets, ways, strict=True)
        ],
        "path_keys": [keys[-1] for way in ways for keys in way],
        "keys": names,
        "field_names": list(where),
        # a payload's envelope is any object around it: a path may name a key it lacks
        "envelope_may_lack": fmt.payload is not None and fmt.envelope != "otlp",
        # the fields a text format's digits are a number in (`txn_id=12345` is text)
        "numeric_fields": [name in ("ts", "amount_minor") for name in where],
        "pattern": fmt.pattern if fmt.kind == "regex" else "(x)",
        "group_names": group_names,
        "ts_format": "strptime" if strptime else fmt.ts_format,
        "otlp": fmt.envelope == "otlp",  # a record may say its ts is its body's (`otlp.Fields`)
        "ts_pattern": fmt.ts_format if strptime else "%Y",
        "ts_naive": strptime and not re.search(r"%[zZ]", fmt.ts_format),
        "ts_leap_pattern": leap_pattern(fmt.ts_format) if strptime else None,
        "logs_timezone": reading.logs_timezone,
        "failure_events": list(reading.failure_events),
        "event_set_aside": EVENT_SET_ASIDE,
        "money_days": reading.money_days,
        **hints.parameters(fmt),
        "from_envelope": from_envelope,
        "envelope_paths": envelope_paths,
        # the key that holds ts in its object (OTLP's fields are an object keyed by name)
        "ts_key": "ts" if fmt.envelope == "otlp" else where["ts"].split(".")[-1],
        "amount_key": (
            "amount_minor" if fmt.envelope == "otlp" else where["amount_minor"].split(".")[-1]
        ),
        "ts_lowest": TS_RANGE[0],
        "ts_highest": TS_RANGE[1],
        "amount_highest": LARGEST_AMOUNT,
        # each key of a dotted path below the record's own (`payment.id`: `id` in `payment`)
        "nested_keys": [
            level
            for way, inside in zip(ways, from_envelope, strict=True)
            if fmt.kind == "jsonl" and not inside
            for keys in way
            for level in levels(keys)[1:]
        ],
        # each key of an `envelope.` path, in the envelope's object (OTLP's record is rewritten
        # from its key/value lists, which `otlp` checks for a key given twice)
        "envelope_keys": [
            level
            for path in names
            if fmt.envelope != "otlp" and path.startswith("envelope.")
            for level in levels(path.removeprefix("envelope."))
        ],
        # the record's own keys the fields are read from (the first key of each way of reading
        # a dotted path: `event.action` whole, and `event`)
        "contract_keys": sorted(
            {
                keys[0]
                for way, inside in zip(ways, from_envelope, strict=True)
                if not inside
                for keys in way
            }
        ),
    }


def levels(dotted: str | list[str]) -> list[dict[str, str]]:
    """Each key of a dotted path (or of a list of keys) with the JSON path of the object that
    holds it: `a.b` is `a` in `$` and `b` in `$."a"` (`log_key_twice`'s arguments)."""
    keys = dotted.split(".") if isinstance(dotted, str) else dotted
    return [{"parent": key_path(keys[:i]), "key": keys[i]} for i in range(len(keys))]


def key_path(keys: list[str]) -> str:
    """A list of keys as a JSON path (`$` for none)."""
    return "$" + "".join(f'."{key}"' for key in keys)


def json_path(dotted: str) -> str:
    """A dotted path (`payment.id`, keys such as `@timestamp` too) as a JSON path."""
    return key_path(dotted.split("."))
