"""The run's data files as written: evidence a row group at a time, the same bytes as at once."""

from __future__ import annotations

import csv

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


def test_a_customer_id_holding_a_cr_or_an_lf_is_quoted_and_reads_back_whole(tmp_path):
    # Python's csv quotes only its line terminator's characters: with LF line ends a bare CR
    # went out unquoted, and every reader cut the row there (a credit to "x", a junk row).
    con = duckdb.connect()
    con.execute(
        "create table credits as select * from (values ('x\ry', 'USD', 500), ('a\nb', 'USD', 1),"
        " ('c1', 'EUR', 7)) t(customer_id, currency, credit_amount_minor)"
    )
    out = tmp_path / "credits.csv"
    columns = ("customer_id", "currency", "credit_amount_minor")
    assert outputs.write_csv(con, "credits", columns, "customer_id", out) == 3
    assert (
        out.read_bytes()
        == b'customer_id,currency,credit_amount_minor\n"a\nb",USD,1\nc1,EUR,7\n"x\ry",USD,500\n'
    )
    assert outputs.credit_file_totals(out) == {"EUR": 7, "USD": 501}
    with open(out, newline="", encoding="utf-8") as handle:
        assert [row[0] for row in csv.reader(handle)] == ["customer_id", "a\nb", "c1", "x\ry"]
