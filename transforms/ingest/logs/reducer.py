"""The reduce: the extracts of every read file into the work database's log tables.

`log_files`, `stg_log_lines`, `stg_log_events`, `stg_log_quarantine`, `int_log_line_duplicates`
(found across all files by the lines' hashes), `int_log_events_bucketed` and `stg_failures` (the
window's: `bucket`), `int_log_lines_bucketed` (a view: one row per physical line),
`int_failure_lines` (a view), `int_quarantined_failure_lines` and `int_file_profile`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from transforms import db
from transforms.ingest.incident import Incident
from transforms.ingest.logs import lost
from transforms.ingest.logs.mapper import EXTRACTS, UNCHECKED_SCHEMA, Extract
from transforms.ingest.logs.plan import LogFile

# A run of characters no JSON or logfmt syntax holds: a txn_id as a quarantined line's text
# holds it (`int_quarantined_failure_lines`).
ID_TOKEN = r"""[^\s"'=,{}\[\]\\]+"""
# What stands between a key and its value: JSON's `": "` (escaped too, `\": \"`, in another
# envelope's text), logfmt's `=`, and an OTLP attribute's `", "value": {"stringValue": "`.
KEY_TO_VALUE = r"""(?:[\s"'\\:=]|,\s*\\*"value\\*"\s*:\s*\{\s*\\*"stringValue\\*"\s*:)+"""


def txn_id_pattern(path: str) -> str:
    """The RE2 pattern whose group 1 is the value a text gives the txn_id's key: `path` (the
    field as [sources.log_format] names it, `txn_id` by default) or its last name (`id` of
    `payment.id`), as a whole name. Only there, not as any token of the text: another field's
    value (a customer_id, an error code, a note) naming a candidate's txn_id left a failure line
    out of the warning. A regex format's line has no key: its lines are always warned of."""
    keys = "|".join(re.escape(key) for key in sorted({path, path.rsplit(".", 1)[-1]}))
    return rf"(?:^|[^\w.])(?:{keys}){KEY_TO_VALUE}({ID_TOKEN})"


def reduce(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    extracts: Sequence[Extract],
    pruned: Sequence[LogFile] = (),
) -> list[LogFile]:
    """The reduce: the extracts of every read file into the work database's log tables.

    Returns every matched file, read or pruned, in file order.
    """
    extracts = sorted(extracts, key=lambda e: e.files[0].file_id)
    con.from_arrow(_listing(extracts)).create("log_files")
    con.from_arrow(_duplicate_lines(extracts)).create("int_log_line_duplicates")
    for name, schema in EXTRACTS.items():
        if extracts:
            db.run(con, f"stg_log_{name}", paths=[str(e.path(name)) for e in extracts])
        else:  # every file pruned
            con.from_arrow(schema.empty_table()).create(f"stg_log_{name}")
    if extracts:
        db.run(con, "stg_log_unchecked", paths=[str(e.path("unchecked")) for e in extracts])
    else:
        con.from_arrow(UNCHECKED_SCHEMA.empty_table()).create("stg_log_unchecked")
    bucket(con, incident)
    db.run(con, "int_log_lines_bucketed")
    db.run(con, "int_failure_lines")
    names = lost.names_pattern(incident.policy.failure_events)
    txn_id = txn_id_pattern(incident.sources.log_format.txn_id)
    db.run(con, "int_quarantined_failure_lines", failure_names=names, txn_id=txn_id)
    db.run(con, "int_file_profile", min_quarantined_lines=incident.min_quarantined_lines)
    read = [f for e in extracts for f in e.files]
    return sorted(read + list(pruned), key=lambda f: f.file_id)


def bucket(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """The staged log events put in the incident window's buckets (the clock skew allowed), and
    its candidate lines (`stg_failures`): all that depends on the window, so that another window
    re-buckets the same staged lines."""
    db.run(
        con,
        "int_log_events_bucketed",
        window_start=incident.window_start,
        window_end=incident.window_end,
        skew=incident.sources.log_clock_skew,
    )
    db.run(con, "stg_failures")


def _listing(extracts: Sequence[Extract]) -> pa.Table:
    """`log_files`: one row per read file (key: file_id), with its time spans (all its lines;
    those within the window's `reach`)."""
    read = sorted((f for e in extracts for f in e.files), key=lambda f: f.file_id)
    spans = {k: v for e in extracts for k, v in e.spans.items()}
    near = {k: v for e in extracts for k, v in e.near.items()}
    return pa.table(
        {
            "file_id": pa.array([f.file_id for f in read], pa.int32()),
            "name": pa.array([f.name for f in read], pa.string()),
            "lines": pa.array([f.lines for f in read], pa.int64()),
            "bytes": pa.array([f.bytes for f in read], pa.int64()),
            "min_ts_utc": pa.array(
                [spans.get(f.file_id, (None, None))[0] for f in read], pa.timestamp("us", "UTC")
            ),
            "max_ts_utc": pa.array(
                [spans.get(f.file_id, (None, None))[1] for f in read], pa.timestamp("us", "UTC")
            ),
            # the same, of the lines within the window's `reach`: what the window's counts cover
            "near_min_ts_utc": pa.array(
                [near.get(f.file_id, (None, None))[0] for f in read], pa.timestamp("us", "UTC")
            ),
            "near_max_ts_utc": pa.array(
                [near.get(f.file_id, (None, None))[1] for f in read], pa.timestamp("us", "UTC")
            ),
        }
    )


def _read(path: Path, columns: list[str]) -> pa.Table:
    return pq.ParquetFile(path).read(columns=columns, use_threads=False)


def _duplicate_lines(extracts: Sequence[Extract]) -> pa.Table:
    """`int_log_line_duplicates`: the well-formed lines, other than failure events, whose bytes
    came earlier (files in name order, then line) (key: file_id, line).

    Found by the lines' 64-bit hashes: all of them sorted once to find the repeated values, then
    only lines with a repeated value are ordered. Failure-event lines are compared on a second
    hash (md5) too, in SQL (`int_log_events_bucketed`), so a credit never rests on one hash.
    """
    total = sum(pq.read_metadata(e.path("lines")).num_rows for e in extracts)
    hashes = np.empty(total, np.uint64)
    at = 0
    for e in extracts:
        column = _read(e.path("lines"), ["line_hash"]).column(0).to_numpy()
        hashes[at : at + len(column)] = column
        at += len(column)
    hashes.sort()
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(repeated):
        # A table on the low bits of the repeated values rules most lines out at one lookup each.
        low = np.uint64((1 << 22) - 1)
        maybe = np.zeros(1 << 22, bool)
        maybe[repeated & low] = True
        for e in extracts:
            table = _read(e.path("lines"), ["file_id", "line", "line_hash"])
            values = table.column("line_hash").to_numpy()
            near = np.flatnonzero(maybe[values & low])
            where = np.searchsorted(repeated, values[near]).clip(max=len(repeated) - 1)
            hit = near[repeated[where] == values[near]]
            found.append(
                (
                    values[hit],
                    table.column("file_id").to_numpy()[hit],
                    table.column("line").to_numpy()[hit],
                )
            )
    if not found:
        return pa.table({"file_id": pa.array([], pa.int32()), "line": pa.array([], pa.int64())})
    values, file_ids, lines = (np.concatenate(column) for column in zip(*found, strict=True))
    order = np.lexsort((lines, file_ids, values))
    later = np.zeros(len(order), bool)
    later[1:] = values[order][1:] == values[order][:-1]
    return pa.table(
        {
            "file_id": pa.array(file_ids[order][later], pa.int32()),
            "line": pa.array(lines[order][later], pa.int64()),
        }
    )
