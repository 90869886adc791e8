"""OTLP JSON (the OpenTelemetry collector's file exporter): one `ExportLogsServiceRequest` per
line (framed by `json_stream`), `resourceLogs[].scopeLogs[].logRecords[]`, read into plain
records.

A log record is read as plain JSON (its *view*): `AnyValue`s as the values they hold (a
`kvlistValue` as an object, an `arrayValue` as a list), attribute lists as objects, 64-bit
integers (`intValue`, `timeUnixNano`) as exact integers whether written as strings or numbers
(Python's `json` never reads an integer as a float). `timeUnixNano` is the record's time. When
it is 0 or absent (the filelog receiver without a time parser), `ts` read from `timeUnixNano`
is the record's own `ts` (the service's, RFC 3339 as the contract's: `OWN_TS_FORMAT`), found as
any field is (the attribute, as a `json_parser` puts it, then the body's key), else
`observedTimeUnixNano`: when the collector read the record, hours late after a backlog. The
observed time is no part of the record's text, so the same record shipped twice reads the same.

A field path reads the view: `attributes.<key>`, `body.<key>`, `resource.<key>` (the resource's
attributes), `scope.<key>`, or a key of the record (`timeUnixNano`, `severityText`); any other
path is the field's attribute, then the body's key when the body is a key/value list or a string
holding one JSON object (the service's JSON line read as text by the collector). A key
is matched whole first (OpenTelemetry attribute names hold dots: `http.method`), then as a
dotted path into nested lists.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from transforms.ingest.logs import otlp_body
from transforms.ingest.logs.otlp_body import BadRecord

OTLP = 'envelope = "otlp"'
RECORD_KEYS = frozenset(
    {
        "timeUnixNano",
        "observedTimeUnixNano",
        "severityNumber",
        "severityText",
        "body",
        "attributes",
        "droppedAttributesCount",
        "flags",
        "traceId",
        "spanId",
        "eventName",
    }
)
_INTEGER = re.compile(r"-?[0-9]+")
OBSERVED = "observedTimeUnixNano"  # in a view only when the record has no time of its own
# The key of a record's fields (`Fields.json`) that lists the events of the records its body
# batches, when it is an array of them (`stg_logs`, `batched`).
BATCHED = "batched"
# The key and value of a record's fields (`Fields.json`) that say its ts is its own, read
# by `stg_logs` as the contract's, RFC 3339, whatever `ts_format` says of timeUnixNano.
OWN_TS_FORMAT = ("ts_format", "rfc3339")
# The AnyValues that hold a JSON scalar as it is, and the check of each (a double may be
# written "NaN", "Infinity" or "-Infinity"; bytes are base64 text).
_SCALARS = {
    "stringValue": lambda held: isinstance(held, str),
    "boolValue": lambda held: isinstance(held, bool),
    # A finite number (orjson would write an infinite one, 1e400 as read, as null).
    "doubleValue": lambda held: (
        (isinstance(held, int | float) and not isinstance(held, bool) and math.isfinite(held))
        or held in ("NaN", "Infinity", "-Infinity")
    ),
    "bytesValue": lambda held: isinstance(held, str),
}


class BadEnvelope(ValueError):
    """A line that is not an `ExportLogsServiceRequest`: all of its records are lost to it."""


class Rounded(Exception):
    """A line decoded by orjson may hold an integer beyond 64 bits, read as a float: decode it
    again with the standard library (`exact`)."""


@dataclass(frozen=True)
class Group:
    """The log records of one scope of one resource, with the resource's attributes and the
    scope as plain JSON."""

    resource: dict[str, Any]
    scope: dict[str, Any]
    records: list[Any]


def request(value: Any, exact: bool = True) -> list[Group]:
    """The groups of records of one `ExportLogsServiceRequest` (a decoded JSON value), checked
    down to the list of records (a record is checked when it is read, `view`); raises
    `BadEnvelope` naming what is wrong."""
    if not isinstance(value, dict):
        raise BadEnvelope("not a JSON object")
    if (foreign := not_a_request(list(value))) is not None:
        raise BadEnvelope(foreign)
    groups = []
    for i, resource_logs in enumerate(_list(value, "resourceLogs", "")):
        where = f"resourceLogs[{i}]"
        if not isinstance(resource_logs, dict):
            raise BadEnvelope(f"{where} is not an object")
        resource = _object(resource_logs, "resource", where)
        try:
            attributes = key_values(resource.get("attributes"), exact)
        except BadRecord as error:
            raise BadEnvelope(f"{where}.resource.{error}") from None
        for j, scope_logs in enumerate(_list(resource_logs, "scopeLogs", where)):
            inner = f"{where}.scopeLogs[{j}]"
            if not isinstance(scope_logs, dict):
                raise BadEnvelope(f"{inner} is not an object")
            scope = _object(scope_logs, "scope", inner)
            try:
                scope = {**scope, "attributes": key_values(scope.get("attributes"), exact)}
            except BadRecord as error:
                raise BadEnvelope(f"{inner}.scope.{error}") from None
            groups.append(Group(attributes, scope, _list(scope_logs, "logRecords", inner)))
    return groups


# protobuf's own field names, which OTLP JSON spells in lowerCamelCase: a line written with them
# (a protobuf JSON printer keeping field names) would read as a request without records.
PROTO_NAMES = {
    "resourceLogs": "resource_logs",
    "scopeLogs": "scope_logs",
    "logRecords": "log_records",
}


# The requests of OTLP's signals, in OTLP JSON's and protobuf's names: a line of another
# signal (a file exporter's one file for every pipeline) holds no log record, and is none
# of a service's. `not_a_request` names the first keys of an object with none of them.
SIGNALS = frozenset(
    name
    for signal in ("Logs", "Spans", "Metrics", "Profiles")
    for name in (f"resource{signal}", f"resource_{signal.lower()}")
)
FOREIGN_KEYS_NAMED = 5


def not_a_request(keys: list[str]) -> str | None:
    """Why an object with keys, none of them a signal's (`SIGNALS`), is no request: read as one
    without records (all of its fields unknown), a line of the service's own under this setting
    was counted irrelevant, its failure never credited. An empty object is an empty request."""
    if not keys or any(key in SIGNALS for key in keys):
        return None
    named = ", ".join(json.dumps(key) for key in keys[:FOREIGN_KEYS_NAMED])
    more = ", ..." if len(keys) > FOREIGN_KEYS_NAMED else ""
    return (
        f"no resourceLogs, its keys are {named}{more} (a JSON line of the service's own is read "
        "with envelope unset)"
    )


def proto_named(value: Any, key: str, where: str) -> str | None:
    """Why `value` spells `key` as protobuf's field name instead, if it does."""
    if key in value or PROTO_NAMES[key] not in value:
        return None
    return (
        f"{where}{'.' if where else ''}{PROTO_NAMES[key]} is protobuf's field name: OTLP JSON "
        f"writes {key} (lowerCamelCase)"
    )


def _list(value: dict, key: str, where: str) -> list:
    if (proto := proto_named(value, key, where)) is not None:
        raise BadEnvelope(proto)
    found = value.get(key, [])
    if not isinstance(found, list):
        raise BadEnvelope(f"{where}{'.' if where else ''}{key} is not a list")
    return found


def _object(value: dict, key: str, where: str) -> dict:
    found = value.get(key, {})
    if not isinstance(found, dict):
        raise BadEnvelope(f"{where}.{key} is not an object")
    return found


# The reason of a record that is a part of a line the container runtime split (`split_part`).
PART = (
    "part of a record the collector split (its logtag attribute P, {position}): have the "
    "collector join the parts (the filelog receiver's container parser, or a recombine operator "
    "on attributes.logtag, with a max_log_size above the longest record)"
)


def split_part(plain: dict[str, Any]) -> str | None:
    """The body's text of a record (its view) that is a part of a line the container runtime
    split: its `logtag` attribute P (the filelog receiver's container parser) and a body that
    is no JSON object. None for any other record: its recombine operator keeps the first
    part's attributes, P, on the whole record it joins."""
    attributes, body = plain.get("attributes"), plain.get("body")
    if not isinstance(attributes, dict) or attributes.get("logtag") != "P" or type(body) is not str:
        return None
    try:
        whole = isinstance(json.loads(body), dict)
    except ValueError:
        whole = False
    return None if whole else body


def view(record: Any, exact: bool = True) -> dict[str, Any]:
    """A log record as plain JSON (see the module); raises `BadRecord`, and `Rounded` when
    `exact` is false (decoded by orjson) and an integer may have been read as a float."""
    if not isinstance(record, dict):
        raise BadRecord("not an object")
    time = _time(record.get("timeUnixNano"), exact)
    plain: dict[str, Any] = {} if time is None else {"timeUnixNano": time}
    if time is None and (observed := _time(record.get(OBSERVED), exact)) is not None:
        plain[OBSERVED] = observed  # its only time but its own ts, if it has one
    for key, value in record.items():
        if key == "attributes":
            plain[key] = key_values(value, exact)
        elif key == "body":
            plain[key] = _plain(value, "body", exact)
        elif key not in ("timeUnixNano", OBSERVED):
            plain[key] = value
    return plain


def _time(value: Any, exact: bool) -> Any:
    """A time in nanoseconds as an integer (None when absent or 0); a value that is not one
    is kept as it is, for the contract's check to name."""
    _check_rounding(value, exact)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        value = int(value)
    if value is None or (type(value) is int and value == 0):
        return None
    return value


def _check_rounding(value: Any, exact: bool) -> None:
    """orjson reads an integer beyond 64 bits as a float: `Rounded` if that may be so."""
    if not exact and type(value) is float and abs(value) >= 2**63:
        raise Rounded


def key_values(value: Any, exact: bool) -> dict[str, Any]:
    """A key/value list as an object (absent: empty)."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise BadRecord("attributes is not a list")
    plain = {}
    for pair in value:
        key = pair.get("key") if type(pair) is dict else None
        if type(key) is not str:
            raise BadRecord("attributes holds an item that is not {key, value}")
        if key in plain:  # OTLP's keys are unique: read either way, it may be another record
            raise BadRecord(f"the key {json.dumps(key)} appears twice in a key/value list")
        held = pair.get("value")
        # Most values are strings or integers: read without a call (a third of the time).
        if type(held) is dict and len(held) == 1:
            text = held.get("stringValue")
            if type(text) is str:
                plain[key] = text
                continue
            number = held.get("intValue")
            if type(number) is int:
                plain[key] = number
                continue
            if type(number) is str and number.isascii() and number.isdigit():
                plain[key] = int(number)
                continue
        plain[key] = _plain(held, f"attributes.{key}", exact)
    return plain


def _plain(value: Any, where: str, exact: bool) -> Any:
    """An `AnyValue` as the JSON value it holds (an empty one, or none, as null)."""
    if value is None or value == {}:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise BadRecord(f"{where} is not an AnyValue")
    ((kind, held),) = value.items()
    if kind in _SCALARS and _SCALARS[kind](held):
        return held
    if kind == "intValue":
        _check_rounding(held, exact)
        if type(held) is int:
            return held
        if isinstance(held, str) and _INTEGER.fullmatch(held):
            return int(held)
    elif kind == "kvlistValue" and isinstance(held, dict):
        return key_values(held.get("values"), exact)
    elif (
        kind == "arrayValue" and isinstance(held, dict) and isinstance(held.get("values", []), list)
    ):
        return [_plain(item, f"{where}[]", exact) for item in held.get("values", [])]
    raise BadRecord(f"{where} is not an AnyValue ({kind}: {json.dumps(held)[:40]})")


@dataclass(frozen=True)
class Fields:
    """Where each field (name, path) of a log format is in a record's view, resolved once."""

    paths: tuple[tuple[str, str, str, str], ...]  # name, where (resource, scope, record,
    # attribute), the path in it, the path as written

    @staticmethod
    def of(paths: tuple[tuple[str, str], ...]) -> Fields:
        resolved = []
        for name, path in paths:
            head, _, rest = path.partition(".")
            if head in ("resource", "scope"):
                resolved.append((name, head, rest, path))
            elif head in RECORD_KEYS:
                resolved.append((name, "record", path, path))
            else:
                resolved.append((name, "attribute", path, path))
        return Fields(tuple(resolved))

    def json(self, plain: dict[str, Any], group: Group) -> str:
        """The fields of a record's view as a JSON object; a field not found is left out.
        Raises `BadRecord` when a field read from a body's JSON text is NaN or Infinity, or a
        key of its path is twice in one object there, and when no event is found and the body
        is text that starts as a JSON object but is not one."""
        found = {}
        attributes = plain.get("attributes") or {}
        body = otlp_body.Body(plain.get("body"))
        for name, where, path, _ in self.paths:
            if where == "attribute":
                if path in attributes:
                    found[name] = attributes[path]
                    continue
                value = otlp_body.MISSING
                if "." in path:
                    value = otlp_body.lookup(attributes, path)
                if value is otlp_body.MISSING:
                    value = body.lookup(path)
                if value is otlp_body.MISSING and name == path == "event":
                    value = _event_name(plain, attributes)
            elif name == "ts" and path == "timeUnixNano" and path not in plain:
                # No time of its own: the service's ts (in the attributes, as a json_parser
                # puts it, else in the body, as any field is found), else when it was read.
                value = attributes.get("ts", otlp_body.MISSING)
                if value is otlp_body.MISSING:
                    value = body.lookup("ts")
                if value is not otlp_body.MISSING:
                    found[OWN_TS_FORMAT[0]] = OWN_TS_FORMAT[1]
                else:
                    value = plain.get(OBSERVED, otlp_body.MISSING)
            elif where == "record" and path.startswith("body."):
                value = body.lookup(path.removeprefix("body."))
            elif where == "record":
                value = otlp_body.lookup(plain, path)
            else:
                inner = group.resource if where == "resource" else group.scope
                value = otlp_body.lookup(inner, path) if path else inner
            if value is not otlp_body.MISSING:
                found[name] = value
        if "event" not in found and body.problem is not None:
            raise BadRecord(body.problem)
        if (path := self._event_in_body()) is not None and (records := body.records()):
            # A batch of records in one body: their events, for `stg_logs` to stop the run
            # on one that holds a failure (`lost.batched`), never one quarantined item.
            found[BATCHED] = [_text_or_none(otlp_body.lookup(record, path)) for record in records]
        return _dumps(found)

    def _event_in_body(self) -> str | None:
        """The event's path in a record of the body (None when it is read elsewhere)."""
        for name, where, path, _ in self.paths:
            if name == "event" and where == "attribute":
                return path
            if name == "event" and where == "record" and path.startswith("body."):
                return path.removeprefix("body.")
        return None


def _event_name(plain: dict[str, Any], attributes: dict[str, Any]) -> Any:
    """The event a record names as an event of OpenTelemetry's Events API, read where it has no
    `event` of its own: OTLP 1.5's `eventName`, else the semantic conventions' attribute before
    it, `event.name` (MISSING when neither is text)."""
    for value in (plain.get("eventName"), attributes.get("event.name")):
        if isinstance(value, str) and value:
            return value
    return otlp_body.MISSING


def _text_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def text(plain: dict[str, Any]) -> str:
    """A record's view as its text: compact JSON, one line with its LF, without the collector's
    observed time (the same record collected twice is one; where that time is the record's
    `ts`, the duplicates compare it as such)."""
    if OBSERVED in plain:
        plain = {key: value for key, value in plain.items() if key != OBSERVED}
    return _dumps(plain) + "\n"


def _dumps(value: Any) -> str:
    """Compact JSON by orjson (a fifth of the standard library's time), `otlp_body.Digits` as
    written; by the standard library, non-ASCII escaped, where orjson cannot write it exactly (an
    integer beyond 64 bits, a lone surrogate: `otlp_body.Digits` as its float there)."""
    try:
        return orjson.dumps(value, default=_written).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def _written(value: Any) -> orjson.Fragment:
    """orjson's `default`: `otlp_body.Digits` as their text."""
    if type(value) is otlp_body.Digits:
        return orjson.Fragment(value.text)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")
