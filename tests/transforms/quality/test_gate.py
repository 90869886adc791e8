"""The quality gate over a real run's datasets: bad data blocks, with the offending keys named."""

from __future__ import annotations

import dataclasses

import pytest

from tests.builders import customer, failure, reconcile_incident, txn, write_incident
from transforms import db
from transforms.ingest import incident, logs, tables
from transforms.quality import gate
from transforms.reconcile import classes, credits, outputs
from transforms.runfolder import manifest


def verdict(tmp_path, **settings) -> gate.Verdict:
    path = write_incident(tmp_path / "inc", **settings)
    con = reconcile_incident(path, tmp_path)
    credit_file = tmp_path / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, credit_file)
    return gate.check(con, incident.load(path), credit_file, manifest.credit_totals(con))


GOOD_LINES = [failure(f"t{n}") for n in range(1, 4)]
GOOD_TABLE = [txn("t1"), txn("t2", customer_id="c2"), txn("t3", customer_id="c3")]


def test_a_clean_run_passes(tmp_path):
    result = verdict(tmp_path, lines=GOOD_LINES, transactions=GOOD_TABLE)
    assert result.passed, result.blocking


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        # a duplicate txn_id in the transaction table
        (
            {"transactions": [*GOOD_TABLE, txn("t1", customer_id="c2")]},
            "transactions: expect_column_values_to_be_unique(txn_id)",
        ),
        # a zero and a negative amount
        (
            {"transactions": [txn("t1", amount_minor=0), txn("t2", amount_minor=-5), txn("t3")]},
            "transactions: expect_column_values_to_be_between(amount_minor)",
        ),
        # an unknown currency
        (
            {"transactions": [txn("t1", currency="XYZ"), *GOOD_TABLE[1:]]},
            "transactions: expect_column_values_to_be_in_set(currency)",
        ),
        # an empty log file
        ({"lines": []}, "file_profile: expect_column_values_to_be_between(lines)"),
        # a CSV file passed as logs: every line quarantined
        (
            {"lines": ["txn_id,amount", "t1,100"]},
            "file_profile: expect_column_values_to_be_between(quarantined_share)",
        ),
        # a table row without its key, used by no candidate: it could be any candidate's row
        (
            {"transactions": [*GOOD_TABLE, txn(None, status="succeeded")]},
            "transactions: expect_column_values_to_not_be_null(txn_id)",
        ),
        (
            {"customers": [customer("c1"), customer("c2"), customer("c3"), customer(None)]},
            "customers: expect_column_values_to_not_be_null(customer_id)",
        ),
        # a customer listed twice
        (
            {"customers": [customer("c1"), customer("c1"), customer("c2"), customer("c3")]},
            "customers: expect_column_values_to_be_unique(customer_id)",
        ),
    ],
)
def test_bad_data_blocks_the_run_and_names_what_failed(tmp_path, settings, fragment):
    settings = {"lines": GOOD_LINES, "transactions": GOOD_TABLE, **settings}
    result = verdict(tmp_path, **settings)
    assert not result.passed
    assert any(line.startswith(fragment) for line in result.blocking), result.blocking


def test_offending_keys_are_named(tmp_path):
    result = verdict(
        tmp_path, lines=GOOD_LINES, transactions=[*GOOD_TABLE, txn("t2", customer_id="c3")]
    )
    assert any("e.g. t2" in line for line in result.blocking), result.blocking


def test_a_file_far_outside_the_window_only_warns(tmp_path):
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    (path.parent / "logs/old.jsonl").write_text(
        '{"ts": "2024-12-01T00:00:00Z", "event": "payment.attempt", "txn_id": "old"}\n'
    )
    con = reconcile_incident(path, tmp_path)
    credit_file = tmp_path / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, credit_file)
    result = gate.check(con, incident.load(path), credit_file, manifest.credit_totals(con))
    assert result.passed, result.blocking
    assert any("logs/old.jsonl" in line for line in result.warnings), result.warnings


def test_credit_file_totals_must_match_the_manifest(tmp_path):
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    con = reconcile_incident(path, tmp_path)
    credit_file = tmp_path / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, credit_file)
    totals = manifest.credit_totals(con)
    result = gate.check(con, incident.load(path), credit_file, {**totals, "USD": totals["USD"] + 1})
    assert any(line.startswith("credit_totals:") for line in result.blocking), result.blocking


def test_accounting_problems_block(tmp_path):
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    con = reconcile_incident(path, tmp_path)
    credit_file = tmp_path / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, credit_file)
    result = gate.check(
        con, incident.load(path), credit_file, manifest.credit_totals(con), ("lines lost",)
    )
    assert result.blocking == ("accounting: lines lost",)


def test_the_accounting_identities_close_and_fail_when_a_line_is_lost(tmp_path):
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    loaded = incident.load(path)
    con = db.connect()
    read = logs.stage(con, loaded, tmp_path)
    tables.stage(con, loaded)
    classes.classify(con, loaded)
    credits.build(con, loaded)
    assert manifest.account(con, read).problems == ()
    lost = [dataclasses.replace(read[0], lines=read[0].lines + 1)]
    assert manifest.account(con, lost).problems == (
        "log lines read != parsed + duplicates + quarantined",
        "log lines read != log lines bucketed",
    )
