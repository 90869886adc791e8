"""The gate's id checks on customer ids: a customer id, in the customer table or in the
transaction table's customer column, holding a hidden character or a blank at an end."""

from __future__ import annotations

import pytest

from tests.builders import customer, failure, txn, with_sources, write_csv_tables, write_incident
from tests.transforms.quality.test_gate import GOOD_LINES, GOOD_TABLE, _checked, verdict

CUSTOMERS = [customer("c1"), customer("c2"), customer("c3")]

# Customer ids written otherwise: a CR (a CSV with CRLF line ends read wrongly), a tab, an LF, a
# blank at an end, a hidden character at an end or inside, a no-break space. Ids compare exactly,
# so the customer c1 matched no row and its credit was an unknown_customer exception, unseen.
WRITTEN_OTHERWISE = [
    ("c1\r", "U+000D"),
    ("c1\t", "U+0009"),
    ("\nc1", "U+000A"),
    ("c1 ", "U+0020"),
    (" c1", "U+0020"),
    ("c1\u200b", "U+200B"),
    ("\ufeffc1", "U+FEFF"),
    ("c\u200b1", "U+200B"),
    ("c1\u00a0", "U+00A0"),
]


def written_in(table: str, written: str) -> tuple[dict, str, str]:
    """The incident's tables with c1 written so in `table`, what its rejection line starts
    with (but the id), and the line's id as shown."""
    if table == "customers":
        tables = {"transactions": GOOD_TABLE, "customers": [customer(written), *CUSTOMERS[1:]]}
        start = (
            "inputs: 1 customer id(s) in the customer table (customers.parquet) are a customer's "
            "id written otherwise, with a hidden character, a blank at an end or in another "
            "Unicode form (e.g. "
        )
        return tables, start, ascii(written)
    rows = [txn("t1", customer_id=written), *GOOD_TABLE[1:]]
    start = (
        "inputs: 1 candidate transaction(s) whose customer_id in the transaction table "
        "(transactions.parquet) holds a hidden character or a blank at an end (e.g. "
        "transaction 't1', customer "
    )
    return {"transactions": rows, "customers": CUSTOMERS}, start, ascii(written)


@pytest.mark.parametrize("table", ["customers", "transactions"])
@pytest.mark.parametrize(("written", "code_point"), WRITTEN_OTHERWISE)
def test_a_customer_id_written_otherwise_rejects_the_run_naming_the_table(
    tmp_path, table, written, code_point
):
    tables, start, shown = written_in(table, written)
    result = verdict(tmp_path, lines=GOOD_LINES, **tables)
    found = [b for b in result.blocking if b.startswith(start)]
    assert len(found) == 1, result.blocking
    assert found[0].startswith(f"{start}{shown}: {code_point}"), found
    assert "run again" in found[0], found
    if table == "customers":  # the customer the row stands for
        assert "the row of customer 'c1'" in found[0], found


def test_a_customer_table_id_in_another_unicode_form_rejects_the_run(tmp_path):
    # composed in the transaction table, decomposed (e + U+0301) in the customer table: the two
    # look the same, compare unequal, and the credit was an unknown_customer exception
    table = [txn("t1", customer_id="caf\u00e9"), *GOOD_TABLE[1:]]
    customers = [customer("cafe\u0301"), *CUSTOMERS[1:]]
    result = verdict(tmp_path, lines=GOOD_LINES, transactions=table, customers=customers)
    assert any(
        b.startswith("inputs: 1 customer id(s) in the customer table (customers.parquet)")
        and "(e.g. 'cafe\\u0301': another Unicode form, the row of customer 'caf\u00e9')" in b
        for b in result.blocking
    ), result.blocking


def test_a_customer_csv_cell_ending_in_cr_rejects_the_run_naming_the_file(tmp_path):
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    write_csv_tables(path.parent)
    rows = ["customer_id,name,email,country,segment,status"]
    rows += [f'"{i}",Name,n@example.com,US,consumer,active' for i in ("c1\r", "c2", "c3")]
    (path.parent / "customers.csv").write_bytes(("\n".join(rows) + "\n").encode())
    path = with_sources(path, "csv.toml", customers="customers.csv")
    result = _checked(path, tmp_path)
    assert any(
        b.startswith("inputs: 1 customer id(s) in the customer table (customers.csv) are")
        and "'c1\\r': U+000D" in b
        for b in result.blocking
    ), result.blocking


@pytest.mark.parametrize(
    ("customers", "table"),
    [
        # a row no candidate's customer is, hidden character and all: it changes no credit
        ([*CUSTOMERS, customer("c9\u200b"), customer("c8 ")], GOOD_TABLE),
        # an inner ASCII space is the id's own, and a letter beyond ASCII is seen; one
        # decomposed alike in both tables matches
        (
            [customer("c 1"), customer("c\u00e92"), customer("ce\u03013")],
            [
                txn("t1", customer_id="c 1"),
                txn("t2", customer_id="c\u00e92"),
                txn("t3", customer_id="ce\u03013"),
            ],
        ),
    ],
)
def test_customer_ids_as_written_or_of_no_candidate_pass(tmp_path, customers, table):
    result = verdict(tmp_path, lines=GOOD_LINES, transactions=table, customers=customers)
    assert result.passed, result.blocking


def test_a_log_customer_id_written_otherwise_stays_an_unknown_customer(tmp_path):
    # read as written from the log (no table row): one unknown_customer exception, not a
    # rejection that would hold back every other customer's credit
    lines = [*GOOD_LINES, failure("t9", customer_id="c1\r", amount_minor=500, currency="USD")]
    result = verdict(tmp_path, lines=lines, transactions=GOOD_TABLE, customers=CUSTOMERS)
    assert result.passed, result.blocking


@pytest.mark.parametrize("blank", ["", "  ", "\t"])
def test_a_customer_row_with_a_blank_id_is_the_gate_s_as_one_without_an_id(tmp_path, blank):
    # a row without its key could be any candidate's customer: a null id rejected the run
    # (and a CSV's empty cell is null), but an empty or blank one in a Parquet file passed unseen
    customers = [*CUSTOMERS, customer(blank)]
    result = verdict(tmp_path, lines=GOOD_LINES, transactions=GOOD_TABLE, customers=customers)
    assert any(
        b.startswith("customers: expect_column_values_to_match_regex(customer_id)")
        for b in result.blocking
    ), result.blocking


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        # blank or white space only, in a row the run does not use: a payment that went through,
        # a row created outside the window (trimmed, its id is ''). A null id there rejected the
        # run, and so did a blank one in a row the run used; a blank one here passed unseen
        (txn(" ", status="succeeded", error_code=None), "match_regex"),
        (txn("", created_at="2025-01-01T00:00:00Z"), "match_regex"),
        (txn("\t\r\n", status="pending", error_code=None), "match_regex"),
        # null, as before
        (txn(None, status="succeeded", error_code=None), "not_be_null"),
    ],
)
def test_a_transaction_row_without_its_txn_id_rejects_the_run_naming_the_file_and_row(
    tmp_path, row, rule
):
    result = verdict(tmp_path, lines=GOOD_LINES, transactions=[*GOOD_TABLE, row])
    assert any(
        b.startswith(f"transactions: expect_column_values_to_{rule}(txn_id)")
        for b in result.blocking
    ), result.blocking
    created = row["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert any(
        b.startswith(
            "inputs: 1 transaction table row(s) in transactions.parquet have no txn_id (null or "
            f"blank; e.g. the row of customer 'c1', amount 1000 USD, status {row['status']!r}, "
            f"created {created})"
        )
        for b in result.blocking
    ), result.blocking
