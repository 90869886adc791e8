"""The run folder's data files, written atomically from the work database.

`credits.csv` and `exceptions.csv` are UTF-8 with LF line ends and a header even when empty,
sorted by their keys, so identical inputs and policy give byte-identical files. Finance opens
them in a spreadsheet: a text cell that starts like a formula (a customer id `=HYPERLINK(...)`
from a table, a txn id from a log) is written with a leading `'` (`CSV_WRITER`).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from transforms import csv_lf, db, files

CREDIT_COLUMNS = (
    "credit_id",
    "incident_id",
    "customer_id",
    "currency",
    "credit_amount",
    "credit_amount_minor",
    "credited_txn_count",
    "failed_amount_minor",
    "reason_code",
    "description",
    "policy_version",
)
CREDIT_ORDER = "customer_id, currency"
EXCEPTION_ORDER = "exception, customer_id, currency, txn_id"
EXCEPTION_COLUMNS = (
    "incident_id",
    "exception",
    "customer_id",
    "currency",
    "txn_id",
    "txn_count",
    "credit_owed_minor",
    "failed_amount_minor",
    "detail",
)
_FETCH_ROWS = 10_000
CSV_WRITER = 2
"""The version of the writer of `credits.csv` and `exceptions.csv`, recorded in the manifest
(`csv_writer`): since 2 every cell is `spreadsheet.safe`. A run sealed before it (no
`csv_writer`) wrote every cell as it is, and its proof writes them so again (`guarded`)."""


def guarded(csv_writer: int | None) -> bool:
    """Whether the files of a run whose manifest records `csv_writer` were written guarded."""
    return csv_writer is not None and csv_writer >= 2


def write_csv(
    con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], order: str, out: Path
) -> int:
    """Writes the work table `table` as CSV sorted by `order`; returns the row count."""
    ordered = con.table(table).select(*columns).order(order)
    rows = 0
    with files.atomic_path(out) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        writer = csv_lf.Writer(handle, guarded=guarded(CSV_WRITER))
        writer.writerow(columns)
        for batch in ordered.to_arrow_reader(_FETCH_ROWS):  # streamed: memory stays flat
            writer.write_columns(batch.columns)
            rows += batch.num_rows
    return rows


EVIDENCE_ROW_GROUP = 1 << 17
"""Rows per row group of `evidence.parquet` (131,072): the file is byte for byte the one
`pq.write_table` writes from the whole table with this `row_group_size`. An eighth of pyarrow's
default: writing 2.9 M rows adds about 270 MB to the peak instead of 630, for a file 16 % larger
(`bench/README.md`)."""


def write_evidence(con: duckdb.DuckDBPyConnection, out: Path) -> int:
    """Writes the `evidence` table as Parquet, ordered by `txn_id`, a row group at a time: at
    most one row group of it is held in memory, never the whole table. Returns the row count."""
    reader = con.table("evidence").order("txn_id").to_arrow_reader(EVIDENCE_ROW_GROUP)
    rows = 0
    with (
        files.atomic_path(out) as temp,
        pq.ParquetWriter(temp, reader.schema, compression="zstd") as writer,
    ):
        pending: list[pa.RecordBatch] = []
        for batch in reader:
            pending.append(batch)
            while sum(b.num_rows for b in pending) >= EVIDENCE_ROW_GROUP:
                table = pa.Table.from_batches(pending, reader.schema)
                writer.write_table(table.slice(0, EVIDENCE_ROW_GROUP))
                rows += EVIDENCE_ROW_GROUP
                pending = table.slice(EVIDENCE_ROW_GROUP).to_batches()
        rest = pa.Table.from_batches(pending, reader.schema)
        if rest.num_rows or not rows:  # an empty evidence is a file with its schema
            writer.write_table(rest)
            rows += rest.num_rows
    return rows


def write_quarantine(con: duckdb.DuckDBPyConnection, out: Path) -> int:
    """Writes every quarantined log line as a JSON object: file, line, reason, raw text."""
    cursor = db.run(con, "quarantine")
    rows = 0
    with files.atomic_path(out) as temp, open(temp, "w", encoding="utf-8", newline="\n") as handle:
        while batch := cursor.fetchmany(_FETCH_ROWS):
            for name, line, reason, raw in batch:
                record = {"file": name, "line": line, "reason": reason, "raw": raw}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            rows += len(batch)
    return rows


def credit_file_totals(path: Path) -> dict[str, int]:
    """Sums `credit_amount_minor` per currency as read back from a written credit file."""
    read = pa_csv.read_csv(
        path,
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),  # a quoted CR or LF in an id
        convert_options=pa_csv.ConvertOptions(
            column_types={"currency": pa.string(), "credit_amount_minor": pa.int64()},
            include_columns=["currency", "credit_amount_minor"],
            strings_can_be_null=False,
        ),
    )
    summed = read.group_by("currency").aggregate([("credit_amount_minor", "sum")])
    totals = zip(*(summed.column(c).to_pylist() for c in summed.column_names), strict=True)
    return dict(sorted(totals))
