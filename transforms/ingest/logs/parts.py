"""Fluent Bit's records of CRI parts (`_p` P ... F) joined in a partition's stream of framed
lines (`log_payload_parts.sql`), only from the first line that may hold a `_p` key."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from transforms import db

# A JSON object's key `_p` however it is spelt (each character itself or a \\u escape): a line
# whose envelope does not match holds no Fluent Bit tag (`joined`)
P_KEY = r'"(_|\\u005[fF])(p|\\u0070)"'


def joined(
    framed: pa.RecordBatchReader,
    con: Callable[[], duckdb.DuckDBPyConnection],
    coalesce_rows: int,
) -> pa.RecordBatchReader:
    """`framed` with Fluent Bit's `_p` parts joined (`log_payload_parts`, on `con()`). The query
    reads all its lines and sorts them: the lines before the first whose envelope may hold a
    `_p` key pass as they come (most JSON formats never have one), the rest are its."""

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in framed:
            envelope = batch.column("envelope")
            found = pc.indices_nonzero(
                pc.fill_null(pc.match_substring_regex(envelope, P_KEY), False)
            )
            if not len(found):
                yield batch
                continue
            first = found[0].as_py()
            if first:
                yield batch.slice(0, first)
            rest = pa.RecordBatchReader.from_batches(
                framed.schema, itertools.chain([batch.slice(first)], framed)
            )
            joining = con()
            joining.register("framed_lines", rest)
            result = joining.sql(db.statement("log_payload_parts")).to_arrow_reader(coalesce_rows)
            for part in result:
                columns = [part.column(field.name).cast(field.type) for field in framed.schema]
                yield pa.RecordBatch.from_arrays(columns, schema=framed.schema)
            return

    return pa.RecordBatchReader.from_batches(framed.schema, batches())
