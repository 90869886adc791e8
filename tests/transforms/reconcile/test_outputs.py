"""The run's data files as written: evidence a row group at a time, the same bytes as at once."""

from __future__ import annotations

import csv

import duckdb
import pyarrow.parquet as pq
import pytest

from transforms import csv_lf
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


def test_text_that_starts_like_a_formula_is_written_as_text_for_a_spreadsheet(tmp_path):
    # finance opens credits.csv and exceptions.csv in a spreadsheet: a customer id from the
    # tables such as =HYPERLINK(...) or +cmd|... ran there as a formula
    con = duckdb.connect()
    con.execute(
        "create table credits as select * from (values ('=HYPERLINK(\"http://x\")', 'USD', 5),"
        " ('+cmd|'' /C calc''!A0', 'USD', 6), ('-2+3', 'USD', 7), ('@SUM(A1)', 'USD', 8),"
        " ('\tc5', 'USD', 9), ('\rc6', 'USD', 10),"
        " ('-12', 'USD', 11),"  # a plain negative number runs nothing: it stays a number
        " ('c1', 'USD', 12)) t(customer_id, currency, credit_amount_minor)"
    )
    out = tmp_path / "credits.csv"
    columns = ("customer_id", "currency", "credit_amount_minor")
    assert outputs.write_csv(con, "credits", columns, "credit_amount_minor", out) == 8
    with open(out, newline="", encoding="utf-8") as handle:
        assert [row[0] for row in csv.reader(handle)][1:] == [
            '\'=HYPERLINK("http://x")',
            "'+cmd|' /C calc'!A0",
            "'-2+3",
            "'@SUM(A1)",
            "'\tc5",
            "'\rc6",
            "-12",
            "c1",
        ]
    # the proof writes the warehouse's lines again as the file: the same bytes
    lines = con.table("credits").order("credit_amount_minor").to_arrow_table()
    assert csv_lf.file_bytes(columns, lines, guarded=True) == out.read_bytes()
    assert outputs.credit_file_totals(out) == {"USD": 68}


def test_a_run_sealed_before_the_guard_is_written_again_as_it_was(tmp_path):
    # a manifest without csv_writer sealed its files with every cell as it is: the proof of
    # such a run writes them so again, or no older run could be approved any more
    lines = duckdb.sql("select '=x' as customer_id, 'USD' as currency").to_arrow_table()
    columns = ("customer_id", "currency")
    assert not outputs.guarded(None) and outputs.guarded(outputs.CSV_WRITER)
    assert csv_lf.file_bytes(columns, lines) == b"customer_id,currency\n=x,USD\n"
    assert csv_lf.file_bytes(columns, lines, guarded=True) == b"customer_id,currency\n'=x,USD\n"
