"""The gate's customer id checks on a customer table read from PostgreSQL: the same rejections as
a file's (`test_id_checks.py`), though the read fetches only the rows a run can need."""

from __future__ import annotations

import pytest

from tests.builders import customer, reconcile_incident, txn, with_sources, write_incident
from tests.transforms.ingest.test_postgres import dsn, load, postgres_sources, schema
from tests.transforms.quality.test_gate import GOOD_LINES, GOOD_TABLE
from transforms.ingest import incident
from transforms.quality import gate
from transforms.reconcile import outputs
from transforms.runfolder import manifest

__all__ = ["dsn", "schema"]  # the fixtures, used by name


def postgres_verdict(tmp_path, dsn, schema, **tables) -> gate.Verdict:
    """The gate's verdict on an incident whose two tables are in the schema."""
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, **tables)
    load(dsn, schema, path.parent)
    path = with_sources(path, "pg.toml", **postgres_sources(schema))
    con = reconcile_incident(path, tmp_path)
    credit_file = tmp_path / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, credit_file)
    return gate.check(con, incident.load(path), credit_file, manifest.credit_totals(con))


OTHERS = [customer("c2"), customer("c3")]


@pytest.mark.parametrize(
    ("customers", "transactions", "start"),
    [
        # c1 with a CR, a blank at an end, a hidden character inside: not the candidate's exact
        # id, so the read by the candidates' ids never fetched the row, and c1's credit was an
        # unknown_customer exception, unseen
        ([customer("c1\r"), *OTHERS], GOOD_TABLE, "'c1\\r': U+000D"),
        ([customer(" c1"), *OTHERS], GOOD_TABLE, "' c1': U+0020"),
        ([customer("c\u200b1"), *OTHERS], GOOD_TABLE, "'c\\u200b1': U+200B"),
        # another Unicode form of the transaction table's id
        (
            [customer("cafe\u0301"), *OTHERS],
            [txn("t1", customer_id="caf\u00e9"), *GOOD_TABLE[1:]],
            "'cafe\\u0301': another Unicode form",
        ),
    ],
)
def test_a_postgres_customer_id_written_otherwise_rejects_the_run(
    tmp_path, dsn, schema, customers, transactions, start
):
    result = postgres_verdict(tmp_path, dsn, schema, transactions=transactions, customers=customers)
    name = f"postgres:{schema}.customers"
    assert any(
        b.startswith(f"inputs: 1 customer id(s) in the customer table ({name}) are")
        and f"(e.g. {start}" in b
        for b in result.blocking
    ), result.blocking


@pytest.mark.parametrize(
    ("blank", "rule"),
    [
        (None, "customers: expect_column_values_to_not_be_null(customer_id)"),
        ("", "customers: expect_column_values_to_match_regex(customer_id)"),
        (" \t", "customers: expect_column_values_to_match_regex(customer_id)"),
    ],
)
def test_a_postgres_customer_row_without_an_id_rejects_the_run(tmp_path, dsn, schema, blank, rule):
    # a row without its key could be any candidate's customer, as in a file
    customers = [customer("c1"), *OTHERS, customer(blank)]
    result = postgres_verdict(tmp_path, dsn, schema, transactions=GOOD_TABLE, customers=customers)
    assert any(b.startswith(rule) for b in result.blocking), result.blocking


def test_postgres_customer_ids_as_written_or_of_no_candidate_pass(tmp_path, dsn, schema):
    # a row no candidate's customer is, hidden character and all, changes no credit; an id
    # beyond ASCII written alike in both tables matches
    customers = [customer("c1"), *OTHERS, customer("c9\u200b"), customer("c\u00e94")]
    table = [*GOOD_TABLE, txn("t4", customer_id="c\u00e94")]
    result = postgres_verdict(tmp_path, dsn, schema, transactions=table, customers=customers)
    assert result.passed, result.blocking


def test_a_postgres_candidate_s_customer_id_written_otherwise_rejects_the_run(
    tmp_path, dsn, schema
):
    # the transaction table's candidate rows are read whole: its customer column is checked
    table = [txn("t1", customer_id="c1\r"), *GOOD_TABLE[1:]]
    result = postgres_verdict(tmp_path, dsn, schema, transactions=table)
    name = f"postgres:{schema}.transactions"
    assert any(
        b.startswith(
            f"inputs: 1 candidate transaction(s) whose customer_id in the transaction "
            f"table ({name}) holds a hidden character"
        )
        for b in result.blocking
    ), result.blocking


def test_a_postgres_customer_table_without_the_candidates_customers_rejects_the_run(
    tmp_path, dsn, schema
):
    result = postgres_verdict(
        tmp_path, dsn, schema, transactions=GOOD_TABLE, customers=[customer("c9")]
    )
    assert any(
        b.startswith(f"inputs: the customer table (postgres:{schema}.customers) holds no row")
        for b in result.blocking
    ), result.blocking
