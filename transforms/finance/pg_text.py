"""Text as a PostgreSQL store holds it: its text cannot hold a NUL (U+0000), which input data
may (a hostile customer name), so on the server a NUL is DLE (U+0010) then "0" and a DLE is DLE
then "1"; what is sent is escaped, what is read is unescaped, and every command sees the text
exactly as it was."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from transforms.finance.pg_session import statement

# Text on the server: DLE escapes itself and NUL. Escaped in this order, unescaped in the reverse
# one: every DLE on the server starts a pair, so neither step can misread the other's pairs.
_DLE = "\x10"
_ESCAPES = ((_DLE, _DLE + "1"), ("\x00", _DLE + "0"))


def escaped_value(value: Any) -> Any:
    """A value as the server holds it: text escaped (see the module's docstring)."""
    if not isinstance(value, str):
        return value
    for plain, pair in _ESCAPES:
        value = value.replace(plain, pair)
    return value


def escaped(rows: pa.Table) -> pa.Table:
    return _text_replaced(rows, _ESCAPES)


def escaped_stream(rows: pa.Table | pa.RecordBatchReader) -> pa.Table | pa.RecordBatchReader:
    """`escaped` of a table, or of each batch of a stream as it is read."""
    if isinstance(rows, pa.Table):
        return escaped(rows)
    batches = (
        done
        for batch in rows
        for done in escaped(pa.Table.from_batches([batch], rows.schema)).to_batches()
    )
    return pa.RecordBatchReader.from_batches(rows.schema, batches)


def unescaped(rows: pa.Table) -> pa.Table:
    return _text_replaced(rows, tuple((new, old) for old, new in reversed(_ESCAPES)))


def _text_replaced(rows: pa.Table, replacements: tuple[tuple[str, str], ...]) -> pa.Table:
    """The rows with, in every text column, each (old, new) of `replacements` in turn."""
    for i, field in enumerate(rows.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = rows.column(i)
            for old, new in replacements:
                column = pc.replace_substring(column, old, new)
            rows = rows.set_column(i, field, column)
    return rows


def json_kept(mirror: duckdb.DuckDBPyConnection, rows: pa.Table, column: str) -> pa.Table:
    """`rows` with each value of `column` that is not JSON (edited on the server, which keeps
    it as text) made the JSON string of its text: the mirror loads it, and the proof names the
    entry or the record it no longer matches, where the cast to json stopped every command
    (exit 1)."""
    mirror.register("arrow_rows", rows)
    try:
        valid = mirror.execute(statement("mirror_json_valid", column=column))
        flags = [ok for (ok,) in valid.fetchall()]
    finally:
        mirror.unregister("arrow_rows")
    if False not in flags:
        return rows
    values = rows[column].to_pylist()
    kept = [json.dumps(v) if ok is False else v for v, ok in zip(values, flags, strict=True)]
    index = rows.column_names.index(column)
    return rows.set_column(index, column, pa.array(kept, rows.schema.field(index).type))
