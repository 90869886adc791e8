"""The run's data files as written: evidence a row group at a time, the same bytes as at once."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

from transforms.reconcile import outputs


@pytest.mark.parametrize("rows", [0, 3, 1000, 2500])
def test_evidence_written_a_row_group_at_a_time_is_the_file_written_at_once(
    tmp_path, monkeypatch, rows
):
    monkeypatch.setattr(outputs, "EVIDENCE_ROW_GROUP", 1000)
    con = duckdb.connect()
    con.execute(
        "create table evidence as select 't' || lpad(i::varchar, 6, '0') as txn_id, "
        "(i % 7)::decimal(18, 0) as amount, 'c' || (i % 13) as class "
        "from range($rows) r(i) order by hash(i)",
        {"rows": rows},
    )
    streamed, whole = tmp_path / "streamed.parquet", tmp_path / "whole.parquet"
    assert outputs.write_evidence(con, streamed) == rows
    table = con.table("evidence").order("txn_id").to_arrow_table()
    pq.write_table(table, whole, compression="zstd", row_group_size=1000)
    assert streamed.read_bytes() == whole.read_bytes()
    read = pq.ParquetFile(streamed)
    assert read.metadata.num_rows == rows
    assert read.metadata.num_row_groups == max(1, -(-rows // 1000))
    assert read.read().column("txn_id").to_pylist() == sorted(table.column("txn_id").to_pylist())
