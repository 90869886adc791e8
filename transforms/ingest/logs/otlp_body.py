"""An OTLP log record's body as its fields see it (`otlp.Fields`): a key/value list's object,
or text holding the service's JSON line (or a batch of them), and the dotted paths into it."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

MISSING = object()  # a field not found


class BadRecord(ValueError):
    """A log record that cannot be read as one."""


class Body:
    """A record's body as the fields see it: a key/value list's object, or a string holding one
    JSON object (a collector that read the service's JSON line as text: the filelog receiver
    without a `json_parser`), decoded once when a field is first looked for in it."""

    def __init__(self, value: Any):
        self.value = value
        self.problem: str | None = None  # why text that starts as an object is not JSON
        self._decoded = type(value) is not str

    def lookup(self, path: str) -> Any:
        if not self._decoded:
            self._decode()
        if not isinstance(self.value, dict):
            return MISSING
        value = lookup(self.value, path)
        if type(value) is float and not math.isfinite(value):  # NaN or Infinity: no value JSON
            # holds, and a field could not be told from null
            raise BadRecord(f"body.{path} is {json.dumps(value)}, not a JSON value")
        return value

    def records(self) -> list[dict[str, Any]]:
        """The objects at the top level of a body that is an array (an `arrayValue`, or text
        holding a JSON array: an HTTP output's batch read as one line), an item of text holding
        a JSON object decoded; empty for any other body."""
        items = self.value
        if type(items) is str:
            text = items.removeprefix("\ufeff")
            if not text.lstrip().startswith("["):
                return []
            try:
                items = json.loads(text)
            except ValueError:
                return []
        if type(items) is not list:
            return []
        return [found for item in items if type(found := _json_object(item)) is dict]

    def _decode(self) -> None:
        self._decoded = True
        text = self.value.removeprefix("\ufeff")  # a byte-order mark kept from the file
        if not text.lstrip().startswith("{"):
            return
        try:
            value = json.loads(text, object_pairs_hook=_Object.of, parse_float=_number)
        except ValueError as error:
            self.problem = f"body is text that starts as a JSON object but is not one: {error}"
            return
        if type(value) is _Object:
            self.value = value


def _json_object(item: Any) -> Any:
    """An item of a body's array as a record: an object, or text holding one, decoded."""
    if type(item) is str and item.lstrip().startswith("{"):
        try:
            return json.loads(item)
        except ValueError:
            return None
    return item


def _number(text: str) -> float:
    """A number of a body's JSON text with a fraction or an exponent: a float, or, where a float
    would round it (over 15 digits: 1736280000.999999999 is 1736280001.0), `Digits`."""
    value = float(text)
    if not math.isfinite(value) or Decimal(repr(value)) == Decimal(text):
        return value
    return Digits(text)


class Digits(float):
    """A number a float rounds, with its text as written: orjson writes the text (`_dumps`), so
    that `stg_logs` reads epoch time from its own digits, never moved across a window's edge."""

    def __init__(self, text: str):
        self.text = text


class _Object(dict):
    """An object of a body's JSON text, with the keys it holds twice: a field read through one
    of them is read neither way (a decoder keeps one of the two values)."""

    twice: frozenset[str] = frozenset()

    @staticmethod
    def of(pairs: list[tuple[str, Any]]) -> _Object:
        value = _Object(pairs)
        if len(value) < len(pairs):
            counts = Counter(key for key, _ in pairs)
            value.twice = frozenset(key for key, count in counts.items() if count > 1)
        return value


def lookup(value: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, keys matched whole first, the longest first; `BadRecord` if
    a key it goes through is twice in its object (`_Object`)."""
    if path in value:
        _once(value, path)
        return value[path]
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        inner = value.get(head)
        if isinstance(inner, dict):
            found = lookup(inner, ".".join(parts[cut:]))
            if found is not MISSING:
                _once(value, head)
                return found
    return MISSING


def _once(value: Mapping[str, Any], key: str) -> None:
    if type(value) is _Object and key in value.twice:
        raise BadRecord(f"the key {json.dumps(key)} appears twice in one object of the body's JSON")
