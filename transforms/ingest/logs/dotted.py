"""A dotted path of `[sources.log_format]` into a JSON record: each way its dots allow, the key
written whole first (ECS loggers write `"event.action"`, `"transaction.id"` as one key), then
nested (`{"event": {"action": ...}}`), as `otlp_body.lookup` reads an OTLP record."""

from __future__ import annotations

from typing import Any


def splits(dotted: str) -> list[list[str]]:
    """Each way of reading a dotted path as keys: the key written whole with its dots first,
    then the longest head first (`a.b.c` is `["a.b.c"]`, `["a.b", "c"]`, `["a", "b.c"]`,
    `["a", "b", "c"]`)."""
    parts = dotted.split(".")
    return [[dotted]] + [
        [".".join(parts[:cut]), *rest]
        for cut in range(len(parts) - 1, 0, -1)
        for rest in splits(".".join(parts[cut:]))
    ]


def value(record: object, dotted: str) -> Any:
    """The value at a dotted path of a JSON record, read the first way the record holds
    (`splits`); None where it holds none."""
    for keys in splits(dotted):
        found: Any = record
        for key in keys:
            found = found.get(key, None) if isinstance(found, dict) else None
        if found is not None:
            return found
    return None
