"""The quality gate over a real run's datasets: bad data blocks, with the offending keys named."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.builders import (
    customer,
    failure,
    reconcile_incident,
    txn,
    with_sources,
    write_csv_tables,
    write_incident,
)
from transforms import db
from transforms.ingest import incident, logs, tables
from transforms.quality import gate, quarantine, validation_page
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


def test_a_succeeded_row_without_created_at_passes(tmp_path):
    # a payment that went through is never a table-only failure: an old row with no time
    # rejected every run
    row = {**txn("t9", status="succeeded", error_code=None), "created_at": None}
    result = verdict(tmp_path, lines=GOOD_LINES, transactions=[*GOOD_TABLE, row])
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
        # a CSV file passed as logs: every line quarantined (the run's share; two lines are
        # fewer than min_quarantined_lines for the file's own)
        (
            {"lines": ["txn_id,amount", "t1,100"]},
            "file_profile: expect_column_sum_to_be_between(quarantined)",
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
        # a table-only failure in the window written `FAILED`: no candidate uses it, so it
        # would have been left out of the credits unseen
        (
            {"transactions": [*GOOD_TABLE, txn("t9", status="FAILED")]},
            "transactions: expect_column_values_to_be_in_set(status)",
        ),
        # a failed row with an outage code and no time: it could be a table-only failure of the
        # window, and no candidate used it, so it was left out of the credits unseen
        (
            {"transactions": [*GOOD_TABLE, {**txn("t9"), "created_at": None}]},
            "transactions: expect_column_values_to_not_be_null(created_at)",
        ),
        # a table-only failure whose outage code is written in lower case: no candidate either
        (
            {"transactions": [*GOOD_TABLE, txn("t9", error_code="db_pool_timeout ")]},
            "inputs: 1 failed transaction(s) inside the window carry an outage code written "
            "otherwise (e.g. t9: 'db_pool_timeout ')",
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


@pytest.mark.parametrize(
    "code",
    [
        "DB_POOL_TIMEOUT\t",  # a tab, a CR, an LF: ASCII white space, as a space is
        "DB_POOL_TIMEOUT\r",
        "\nDB_POOL_TIMEOUT",
        "DB_POOL_TIMEOUT\u200b",  # a hidden character, at an end or inside
        "\ufeffDB_POOL_TIMEOUT",
        "DB_POOL_\u200bTIMEOUT",
    ],
)
def test_a_table_only_failure_whose_outage_code_holds_a_tab_or_a_hidden_character_blocks(
    tmp_path, code
):
    # codes compare exactly, so such a row is no table-only candidate: only a space around
    # the code was seen, and the failed payment in the window was left out of the credits unseen
    settings = {"lines": GOOD_LINES, "transactions": [*GOOD_TABLE, txn("t9", error_code=code)]}
    result = verdict(tmp_path, **settings)
    assert not result.passed
    message = "inputs: 1 failed transaction(s) inside the window carry an outage code written "
    assert any(line.startswith(message) for line in result.blocking), result.blocking


@pytest.mark.parametrize("code", ["DB_POOL_TIMEOUT", "DB POOL TIMEOUT", "CARD_DECLINED\t"])
def test_a_failed_row_whose_code_is_no_outage_code_written_otherwise_passes(tmp_path, code):
    # an outage code as written is a table-only candidate; an inner space is the code's own
    # (another code), and a decline code with a tab is no outage code however written
    table = [*GOOD_TABLE, txn("t9", error_code=code)]
    assert verdict(tmp_path, lines=GOOD_LINES, transactions=table).passed


# A failure event written otherwise: in another case, with a blank, tab or hidden character at an
# end or a hidden character inside, or coloured. Events compare exactly, so its line was
# irrelevant and the run passed: a failed payment the table lacks went uncredited unseen.
WRITTEN_OTHERWISE = [
    "\x1b[31mpayment.failed\x1b[0m",  # a terminal's colour codes around it (a logger's red)
    "Payment.Failed",  # another case
    "PAYMENT.FAILED",
    "payment.failed ",  # a blank at an end
    "payment.failed\t",  # a tab at an end
    "payment.failed\u200b",  # a hidden character (zero-width space), at an end
    "\ufeffpayment.failed",  # a byte-order mark before it
    "pay\u200bment.failed",  # a hidden character inside
    "PAYMENT.FAILED\ufeff",  # both
]
# Other events, however folded: an inner blank (a space, a tab) is another name's.
NOT_WRITTEN_OTHERWISE = [
    "payment.succeeded",
    "payment. failed",
    "payment.\tfailed",
    "Payment.Failed.Retry",
]


def event_line(event: str, kind: str, txn_id: str = "t9") -> str:
    """A line of `event` (raw UTF-8, no escape) as JSON or logfmt."""
    fields = {"ts": "2025-01-07T20:00:00Z", "event": event, "txn_id": txn_id}
    fields["error_code"] = "DB_POOL_TIMEOUT"
    if kind == "jsonl":
        return json.dumps(fields, ensure_ascii=False)
    return " ".join(
        f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()
    )


def event_run(tmp_path, events, kind: str, line_checks: str) -> tuple[gate.Verdict, dict]:
    """The verdict and the line buckets of three good failure lines and a line of each event."""
    lines = [event_line("payment.failed", kind, f"t{n}") for n in (1, 2, 3)]
    lines += [event_line(event, kind, f"t{n}") for n, event in enumerate(events, 9)]
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        transactions=GOOD_TABLE,
        sources={"log_format": {"kind": kind}},
        quality={"line_checks": line_checks},
    )
    con = reconcile_incident(path, tmp_path)
    credit_file = tmp_path / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, credit_file)
    result = gate.check(con, incident.load(path), credit_file, manifest.credit_totals(con))
    buckets = con.sql("select bucket, count(*) from int_log_lines_bucketed group by bucket")
    return result, dict(buckets.fetchall())


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("kind", ["jsonl", "logfmt"])
def test_a_failure_event_written_otherwise_blocks_naming_file_line_and_event(
    tmp_path, kind, line_checks
):
    # every spelling counted (the other events' lines, among them, are not), the first named
    # with its character escaped; nothing lost: every line in one bucket
    events = [*WRITTEN_OTHERWISE, *NOT_WRITTEN_OTHERWISE]
    result, buckets = event_run(tmp_path, events[::-1], kind, line_checks)
    (found,) = [b for b in result.blocking if "failure event written otherwise" in b]
    assert found.startswith(
        "inputs: 9 log line(s) carry a failure event written otherwise (e.g. logs/pod-a.jsonl "
        "line 8: 'PAYMENT.FAILED\\ufeff', which is 'payment.failed' once case, blanks and hidden "
        "characters are set aside)"
    ), found
    assert "add that spelling to policy.failure_events; else fix the service's logger" in found
    assert buckets == {"relevant": 3, "irrelevant": 13}


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("kind", ["jsonl", "logfmt"])
def test_a_failure_event_as_written_is_a_candidate_as_before(tmp_path, kind, line_checks):
    result, buckets = event_run(tmp_path, ["payment.failed"], kind, line_checks)
    assert result.passed, result.blocking
    assert buckets == {"relevant": 4}


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("kind", ["jsonl", "logfmt"])
def test_another_event_is_irrelevant_and_rejects_nothing(tmp_path, kind, line_checks):
    result, buckets = event_run(tmp_path, NOT_WRITTEN_OTHERWISE, kind, line_checks)
    assert result.passed, result.blocking
    assert buckets == {"relevant": 3, "irrelevant": 4}


def test_rows_outside_the_window_or_of_known_statuses_are_not_the_gate_s(tmp_path):
    table = [*GOOD_TABLE, txn("t8", status="FAILED", created_at="2025-01-06T20:00:00Z")]
    assert verdict(tmp_path, lines=GOOD_LINES, transactions=table).passed


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


@pytest.mark.parametrize(
    ("lines", "table", "blocked"),
    [
        # a table exported empty (a CSV of its header alone): every log failure was classed by
        # its line alone, the table's own failures left out, and the run passed
        (GOOD_LINES, [], True),
        # one row is a table: the gate's other checks judge it
        (GOOD_LINES, GOOD_TABLE[:1], False),
        # no candidate at all: an empty table changes no credit
        ([{"ts": "2025-01-07T20:00:00Z", "event": "http.request"}], [], False),
    ],
)
def test_an_empty_transaction_table_beside_candidates_is_blocked(tmp_path, lines, table, blocked):
    result = verdict(tmp_path, lines=lines, transactions=table)
    found = [b for b in result.blocking if "transaction table" in b and "holds no row" in b]
    assert bool(found) == blocked, result.blocking
    if blocked:
        assert found[0].startswith("inputs: the transaction table (transactions.parquet)")
        assert "3 candidate transaction(s)" in found[0]


@pytest.mark.parametrize(
    ("lines", "table", "customers", "blocked"),
    [
        # a customer table exported empty: every credit line was an unknown_customer exception,
        # no one was paid, and the run passed
        (GOOD_LINES, GOOD_TABLE, [], True),
        # one customer is a table: the others' lines are unknown_customer exceptions, as before
        (GOOD_LINES, GOOD_TABLE, [customer("c1")], False),
        # no credit line to pay: an empty customer table changes no credit
        ([{"ts": "2025-01-07T20:00:00Z", "event": "http.request"}], [], [], False),
    ],
)
def test_an_empty_customer_table_beside_credit_lines_is_blocked(
    tmp_path, lines, table, customers, blocked
):
    result = verdict(tmp_path, lines=lines, transactions=table, customers=customers)
    found = [b for b in result.blocking if "customer table" in b and "holds no row" in b]
    assert bool(found) == blocked, result.blocking
    if blocked:
        assert found[0].startswith(
            "inputs: the customer table (customers.parquet) holds no row, while the run has 3 "
            "credit line(s) to pay"
        ), found
        assert "unknown_customer" in found[0] and "run again" in found[0]


def test_a_customer_csv_cut_to_its_header_is_blocked_naming_the_file(tmp_path):
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    write_csv_tables(path.parent)
    (path.parent / "customers.csv").write_text(
        "customer_id,name,email,country,segment,status\n", encoding="utf-8"
    )
    path = with_sources(path, "csv.toml", customers="customers.csv")
    result = _checked(path, tmp_path)
    assert any(
        b.startswith("inputs: the customer table (customers.csv) holds no row")
        for b in result.blocking
    ), result.blocking


def test_a_run_whose_every_log_file_was_pruned_by_its_hour_is_blocked(tmp_path):
    loaded = incident.load(write_incident(tmp_path / "inc", sources={"logs_timezone": "UTC"}))

    def log_file(file_id: int, name: str, lines: int, pruned: bool) -> logs.LogFile:
        return logs.LogFile(file_id, tmp_path / name, name, 10, "", lines, pruned=pruned)

    every = [log_file(i, f"logs/a.2025-01-07T0{i}.jsonl", 0, True) for i in range(5)]
    (problem,) = gate.unread_logs(loaded, every)
    assert problem.startswith("no log line was read: every log file the globs matched")
    assert "logs/a.2025-01-07T00.jsonl" in problem and "and 2 more" in problem
    assert "sources.logs_timezone = 'UTC'" in problem
    # one file opened, even an empty one (file_profile refuses that), or no file at all: none
    assert gate.unread_logs(loaded, [*every, log_file(9, "logs/b.jsonl", 0, False)]) == ()
    assert gate.unread_logs(loaded, []) == ()


def customers_padded(count: int, padded: int, unknown: int = 0) -> dict:
    """`count` credited customers c0..; the first `padded` written in the customer table in
    upper case (as another system may: a blank at an end rejects the run on its own,
    test_id_checks.py), and `unknown` more that the table does not hold."""
    ids = [f"c{n}" for n in range(count + unknown)]
    return {
        "lines": [failure(f"t{n}") for n in range(len(ids))],
        "transactions": [txn(f"t{n}", customer_id=i) for n, i in enumerate(ids)],
        "customers": [customer(i.upper() if n < padded else i) for n, i in enumerate(ids[:count])],
    }


def test_a_run_paying_almost_no_one_because_the_tables_ids_differ_is_blocked(tmp_path):
    result = verdict(tmp_path, **customers_padded(20, padded=20))
    (problem,) = [b for b in result.blocking if b.startswith("inputs: ")]
    assert problem.startswith("inputs: 20 of 20 credit lines (100.0%) are for a customer id")
    assert "at most 5% may be ([quality] max_unknown_customer_share)" in problem
    assert "e.g. 'c0', which the customer table holds as 'C0'" in problem


@pytest.mark.parametrize(
    ("padded", "unknown", "share", "blocked"),
    [
        (
            9,
            0,
            None,
            False,
        ),  # fewer than 10 unknown lines: exceptions for finance, never a rejection
        (10, 0, None, True),  # 10 of 40: above 5 %
        (2, 0, None, False),
        (0, 12, "0.5", False),  # 12 of 52 (23 %), with the limit raised to a half
        (0, 12, None, True),  # ids the customer table has nothing like
    ],
)
def test_unknown_customers_block_from_ten_lines_above_the_share(
    tmp_path, padded, unknown, share, blocked
):
    quality = {"max_unknown_customer_share": float(share)} if share else None
    result = verdict(tmp_path, **customers_padded(40, padded, unknown), quality=quality)
    assert any(b.startswith("inputs: ") for b in result.blocking) is blocked, result.blocking


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


def other_line(n: int) -> dict:
    return {"ts": "2025-01-07T20:00:00Z", "event": "payment.attempt", "txn_id": f"x{n}"}


QUARANTINE_RULE = "file_profile: expect_column_values_to_be_between(quarantined_share)"
RUN_RULE = "file_profile: expect_column_sum_to_be_between(quarantined)"


@pytest.mark.parametrize(
    ("bad", "good", "blocked_by"),
    [
        # 10 bad lines of 110 in the file, 10 of 1110 in the run: the file's share blocks
        (10, 100, {QUARANTINE_RULE}),
        # 9 bad lines of 20 (45%): fewer than min_quarantined_lines, the file's share does not
        # count; 9 of 1020 in the run (0.9%) is within the limit
        (9, 11, set()),
        # 11 bad lines of 1011 in the file (1.09%) and 11 of 2011 in the run: the file blocks
        (11, 1000, {QUARANTINE_RULE}),
    ],
)
def test_a_file_blocks_with_enough_quarantined_lines_above_the_share(
    tmp_path, bad, good, blocked_by
):
    path = write_incident(
        tmp_path / "inc",
        lines=[*GOOD_LINES, *(other_line(n) for n in range(1000))],
        transactions=GOOD_TABLE,
        log_name="logs/big.jsonl",
    )
    lines = ["{truncated"] * bad + [other_line(n) for n in range(good)]
    (path.parent / "logs/small.jsonl").write_bytes(_jsonl(lines))
    result = _checked(path, tmp_path)
    assert _rules(result) == blocked_by, result.blocking


def three_small_files_each_a_third_quarantined(tmp_path):
    """9 bad lines in each of three small files: none has min_quarantined_lines, but 27 of 87
    lines in the run are quarantined."""
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    for name in ("a", "b", "c"):
        lines = ["{truncated"] * 9 + [other_line(n) for n in range(19)]
        (path.parent / f"logs/{name}.jsonl").write_bytes(_jsonl(lines))
    return path


def test_the_run_blocks_on_its_share_over_all_files(tmp_path):
    path = three_small_files_each_a_third_quarantined(tmp_path)
    result = _checked(path, tmp_path)
    assert _rules(result) == {RUN_RULE}, result.blocking
    # The line shows the numbers and what to do, not only that the rule failed.
    (line,) = result.blocking
    assert "measured: 27 of " in line and "the limit is " in line
    assert "worst files: logs/a.jsonl 9 of 28 (32.1%), logs/b.jsonl 9 of 28" in line
    assert "quarantine.jsonl" in line and "raise max_quarantined_share" in line


def test_validation_json_and_html_show_the_quarantine_numbers_and_what_to_do(tmp_path):
    # the rule's own row says FAIL with 0 unexpected rows: the numbers sit beside it
    path = three_small_files_each_a_third_quarantined(tmp_path)
    document, page = _reported(_checked(path, tmp_path), tmp_path)
    measured = document["quarantine"]
    assert measured["quarantined"] == 27 and measured["within_limit"] is False
    assert measured["share"] == round(27 / measured["lines"], 6)
    assert measured["max_quarantined_share"] == 0.01
    assert [f["file"] for f in measured["worst_files"]] == [
        "logs/a.jsonl",
        "logs/b.jsonl",
        "logs/c.jsonl",
    ]
    assert measured["worst_files"][0] == {
        "file": "logs/a.jsonl",
        "lines": 28,
        "quarantined": 9,
        "share": round(9 / 28, 6),
    }
    assert "quarantine.jsonl" in measured["what_to_do"]
    assert "over the limit" in page and "32.1%" in page and "<code>logs/a.jsonl</code>" in page
    assert "Measured: 27 of " in page and "raise max_quarantined_share" in page


def _reported(result: gate.Verdict, tmp_path) -> tuple[dict, str]:
    """`validation.json` (read) and `validation.html` of the verdict, written as a run does."""
    json_path, html_path = validation_page.write_report(
        result.results,
        tmp_path / "run",
        incident_id="INC",
        run_id="r1",
        quarantine=result.quarantine,
    )
    return json.loads(json_path.read_text()), html_path.read_text()


def test_a_run_within_its_quarantine_limit_says_so_without_advice(tmp_path):
    path = write_incident(tmp_path / "inc", lines=GOOD_LINES, transactions=GOOD_TABLE)
    verdict = _checked(path, tmp_path)
    document = validation_page.report_document(verdict.results, verdict.quarantine)
    assert document["quarantine"]["quarantined"] == 0
    assert document["quarantine"]["within_limit"] is True
    assert document["quarantine"]["worst_files"] == []
    page = validation_page.render_html(
        verdict.results, incident_id="INC", run_id="r1", quarantine=verdict.quarantine
    )
    assert "within the limit" in page and "Measured:" not in page
    assert "raise max_quarantined_share" not in page


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_small_file_cut_off_mid_line_does_not_reject_the_run(tmp_path, line_checks):
    # an hourly file of 20 lines whose pod died mid-write: its last line is cut off (5% of
    # the file quarantined, one line), beside a full file; a line of no failure event (a cut
    # failure stops the run: `test_log_rotated.py`)
    path = write_incident(
        tmp_path / "inc",
        lines=[*GOOD_LINES, *(other_line(n) for n in range(200))],
        transactions=GOOD_TABLE,
        quality={"line_checks": line_checks},
    )
    text = _jsonl([other_line(n) for n in range(20)])
    (path.parent / "logs/pod-b.jsonl").write_bytes(text[: len(text) - 25])
    con = reconcile_incident(path, tmp_path)
    assert con.table("stg_log_quarantine").count("*").fetchall() == [(1,)]
    result = _checked(path, tmp_path, con)
    assert result.passed, result.blocking


def _rules(result: gate.Verdict) -> set[str]:
    """Which of the two quarantine rules block, and nothing else may."""
    found = {
        r for r in (QUARANTINE_RULE, RUN_RULE) if any(b.startswith(r) for b in result.blocking)
    }
    assert len(result.blocking) == len(found), result.blocking
    return found


def _jsonl(lines) -> bytes:
    import json

    return b"".join(
        (line if isinstance(line, str) else json.dumps(line)).encode() + b"\n" for line in lines
    )


def _checked(path, tmp_path, con=None) -> gate.Verdict:
    con = con or reconcile_incident(path, tmp_path)
    credit_file = tmp_path / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, credit_file)
    return gate.check(con, incident.load(path), credit_file, manifest.credit_totals(con))


@pytest.mark.parametrize(
    ("composed", "decomposed"),
    [
        ("tx-caf\u00e9", "tx-cafe\u0301"),
        ("TXN-K", "TXN-\u212a"),  # a Kelvin sign: its normal form is ASCII
        ("tx-1", "tx-\uff11"),  # a fullwidth digit: one only in compatibility form (NFKC)
    ],
)
def test_one_payment_id_in_two_unicode_forms_is_refused_not_credited_twice(
    tmp_path, composed, decomposed
):
    # composed in the log (log_only), decomposed in the table (table_only): flat per payment
    # paid the customer twice, without a word
    result = verdict(
        tmp_path,
        lines=[*GOOD_LINES, failure(composed, customer_id="c1", amount_minor=500, currency="USD")],
        transactions=[*GOOD_TABLE, txn(decomposed)],
        policy={"basis": "flat_per_transaction"},
    )
    first, second = sorted((composed, decomposed))
    assert any(
        f"1 pair(s) of payment ids are one id written in two Unicode forms (e.g. {first!r} and "
        f"{second!r}" in b
        for b in result.blocking
    ), result.blocking


def test_ids_alike_but_for_their_case_are_two_payments_not_one_in_two_forms(tmp_path):
    lines = [*GOOD_LINES, failure("tx-\u00e9", customer_id="c1", amount_minor=500, currency="USD")]
    result = verdict(tmp_path, lines=lines, transactions=[*GOOD_TABLE, txn("tx-\u00c9")])
    assert not any("Unicode forms" in b for b in result.blocking)


@pytest.mark.parametrize(
    ("table_row", "shown", "why"),
    [
        # the table's id with a zero-width space: the log's plain t9 is a log_only candidate
        # beside the table's table_only one, and flat per payment paid the customer twice
        (
            txn("t9\u200b", customer_id="c1"),
            "transaction 't9\\u200b' (customer 'c1') holds U+200B",
            "credited twice",
        ),
        # a customer id with one: test_id_checks.py
    ],
)
def test_a_candidate_id_with_a_hidden_character_in_the_table_is_refused(
    tmp_path, table_row, shown, why
):
    lines = [*GOOD_LINES, failure("t9", customer_id="c1", amount_minor=500, currency="USD")]
    result = verdict(
        tmp_path,
        lines=lines,
        transactions=[*GOOD_TABLE, table_row],
        policy={"basis": "flat_per_transaction"},
    )
    assert any(
        "1 candidate transaction(s) with an id in the transaction table that holds a hidden" in b
        and shown in b
        and why in b
        for b in result.blocking
    ), result.blocking


@pytest.mark.parametrize(
    ("table_id", "shown"),
    [
        # the payment went through on a retry, its table id with a zero-width space: no
        # candidate of its own, and the log's failed t9 was credited as log_only
        ("t9\u200b", "'t9\\u200b' (it holds U+200B)"),
        ("t\uff19", "'t９' (another Unicode form)"),  # a fullwidth 9: equal in NFKC
    ],
)
def test_a_table_row_whose_id_is_a_candidates_but_for_hidden_characters_is_refused(
    tmp_path, table_id, shown
):
    lines = [*GOOD_LINES, failure("t9", customer_id="c1", amount_minor=500, currency="USD")]
    table = [*GOOD_TABLE, txn(table_id, status="succeeded", error_code=None)]
    result = verdict(tmp_path, lines=lines, transactions=table)
    assert any(f"transaction table row {shown} is candidate 't9'" in b for b in result.blocking), (
        result.blocking
    )


LOOK_ALIKE = "1 pair(s) of payment ids look alike"


@pytest.mark.parametrize(
    ("log_id", "table_row", "shown"),
    [
        # the log's id with a Cyrillic х (U+0445): no table row, so log_only, credited for a
        # payment that went through as txn9
        ("t\u0445n9", txn("txn9", status="succeeded", error_code=None), "'t\\u0445n9' (U+0445"),
        # a fullwidth 9 in the log, the table's plain t9 succeeded: the same, found only from the
        # table's side before (its ids beyond ASCII)
        ("t\uff19", txn("t9", status="succeeded", error_code=None), "'t\\uff19' (U+FF19"),
        # a Greek capital iota for an I: two candidates (log_only and table_only) credited twice
        ("TX-\u0399D", txn("TX-ID"), "'TX-\\u0399D' (U+0399"),
        # the table's row in Cyrillic (о, U+043E) went through: the log's failed txn-o9 credited
        (
            "txn-o9",
            txn("txn-\u043e9", status="succeeded", error_code=None),
            "'txn-\\u043e9' (U+043E",
        ),
    ],
)
def test_ids_that_look_alike_in_two_scripts_are_refused_not_credited(
    tmp_path, log_id, table_row, shown
):
    lines = [*GOOD_LINES, failure(log_id, customer_id="c1", amount_minor=500, currency="USD")]
    table = [*GOOD_TABLE, table_row]
    result = verdict(
        tmp_path, lines=lines, transactions=table, policy={"basis": "flat_per_transaction"}
    )
    assert any(LOOK_ALIKE in b and shown in b for b in result.blocking), result.blocking


@pytest.mark.parametrize(
    ("log_id", "table_id"),
    [
        ("t\u0445n9", "tyn9"),  # Cyrillic х looks like x, not y
        ("tx-\u00e9", "tx-\u00c9"),  # ids alike but for their case are two
        ("\u0442\u0445-9", "th-9"),  # Cyrillic т looks like no ASCII letter in lowercase
    ],
)
def test_ids_beyond_ascii_that_look_like_no_other_id_pass(tmp_path, log_id, table_id):
    lines = [*GOOD_LINES, failure(log_id, customer_id="c1", amount_minor=500, currency="USD")]
    table = [*GOOD_TABLE, txn(table_id, status="succeeded", error_code=None)]
    result = verdict(tmp_path, lines=lines, transactions=table)
    assert result.passed, result.blocking


def test_a_log_customer_id_with_a_hidden_character_is_an_unknown_customer_not_refused(tmp_path):
    # one candidate, read as written: it matches no customer (unknown_customer), and refusing
    # the run for it would hold back every other customer's credit
    lines = [*GOOD_LINES, failure("t9", customer_id="c1\u00a0", amount_minor=500, currency="USD")]
    result = verdict(tmp_path, lines=lines, transactions=GOOD_TABLE)
    assert not any("hidden" in b for b in result.blocking), result.blocking


def test_an_id_with_an_inner_ascii_space_is_no_hidden_character(tmp_path):
    lines = [*GOOD_LINES, failure("t 9", customer_id="c 1", amount_minor=500, currency="USD")]
    result = verdict(tmp_path, lines=lines, transactions=[*GOOD_TABLE, txn("t 9", "c 1")])
    assert not any("hidden" in b for b in result.blocking), result.blocking


QUIET = [other_line(n) for n in range(300)]  # enough lines that one quarantined is under the limits


def _logged(currency: str, event: str = "payment.failed") -> dict:
    """A log line of payment t9 (no table row) in `currency`, of `event`."""
    return failure("t9", event=event, customer_id="c1", amount_minor=500, currency=currency)


@pytest.mark.parametrize("currency", ["usd", "DEM"])
@pytest.mark.parametrize(
    ("event", "rejected"),
    [
        ("payment.failed", True),  # a failure in it would go uncredited: rejected, not lost
        ("payment.succeeded", False),  # no credit reads it: quarantined, and the run goes on
        ("payment.refunded", False),  # the same for any other payment event
    ],
)
def test_only_a_failure_line_in_a_currency_that_is_no_money_rejects_the_run(
    tmp_path, currency, event, rejected
):
    # under line_checks = "all" every payment line is checked in full: a success line in `usd`
    # rejected the run, which the default line checks (a shape check of it) passed
    path = write_incident(
        tmp_path / "inc",
        lines=[*GOOD_LINES, *QUIET, _logged(currency, event)],
        transactions=GOOD_TABLE,
        quality={"line_checks": "all"},
    )
    con = reconcile_incident(path, tmp_path)
    assert con.table("stg_log_quarantine").count("*").fetchall() == [(1,)]
    result = _checked(path, tmp_path, con)
    assert result.passed is not rejected, result.blocking
    assert any(b.startswith("inputs: ") and "currenc" in b for b in result.blocking) is rejected


def _otlp_request(line: dict) -> str:
    """An OTLP/JSON export request of one log record: the line's fields but its time."""
    attributes = [
        {"key": k, "value": {"intValue" if isinstance(v, int) else "stringValue": str(v)}}
        for k, v in line.items()
        if k != "ts"
    ]
    logs = [{"timeUnixNano": "1736280000500000000", "attributes": attributes}]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": logs}]}]})


@pytest.mark.parametrize("currency", ["usd", "DEM"])
def test_a_failure_record_of_an_envelope_in_a_currency_that_is_no_money_rejects_the_run(
    tmp_path, currency
):
    # an OTLP record's reason names its position (`... (envelope = "otlp": line 4, record 1)`):
    # the gate matched `usd`'s reason exactly, missed it, and the failure went uncredited
    lines = [*GOOD_LINES, *QUIET, _logged(currency)]
    path = write_incident(
        tmp_path / "inc",
        lines=[_otlp_request(line) for line in lines],
        transactions=GOOD_TABLE,
        sources={"log_format": {"envelope": "otlp"}},
    )
    result = _checked(path, tmp_path)
    assert not result.passed
    assert any(b.startswith("inputs: ") and "currenc" in b for b in result.blocking)


FAILURE_LINES_WARNING = "file_profile: expect_column_values_to_be_between(quarantined_failures)"


def _failure_lines_warning(result: gate.Verdict) -> str | None:
    """The warning of the failure lines quarantined, if the gate gave it."""
    found = [w for w in result.warnings if w.startswith(FAILURE_LINES_WARNING)]
    assert len(found) <= 1, result.warnings
    return found[0] if found else None


def _cri(record: dict) -> str:
    """`record` as a CRI line, the kubelet's own."""
    return f"2025-01-07T20:00:00.000000000Z stdout F {json.dumps(record)}"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # a failure the service logged with a fractional amount: quarantined under the limits,
        # its payment went uncredited and the run passed with nothing said
        (failure("t9", customer_id="c1", amount_minor=12.5), "amount_minor is not an integer"),
        # amount 0, a customer_id that is a number: the same
        (failure("t9", customer_id="c1", amount_minor=0), "amount_minor is not positive"),
        (failure("t9", customer_id=17), "customer_id is not a string"),
        # a failure record cut off mid-line (never read, its text names the event)
        ('{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t9", "er', None),
    ],
)
def test_a_failure_line_quarantined_under_the_limits_warns_naming_its_line(tmp_path, line, reason):
    result = verdict(tmp_path, lines=[*GOOD_LINES, *QUIET, line], transactions=GOOD_TABLE)
    assert result.passed, result.blocking
    warning = _failure_lines_warning(result)
    assert warning is not None, result.warnings
    assert "1 quarantined log line(s) are failure lines" in warning, warning
    assert "first: logs/pod-a.jsonl line 304" in warning, warning
    assert f"{reason or 'not valid JSON'} (1)" in warning, warning
    assert "quarantine.jsonl" in warning and "by hand" in warning, warning


def test_a_failure_record_of_another_envelope_warns(tmp_path):
    # a CRI line inside a Docker json-file file: no Docker entry, quarantined unread, and its
    # text names the failure event
    def docker(record: dict) -> str:
        return json.dumps({"log": json.dumps(record) + "\n", "time": "2025-01-07T20:00:00Z"})

    lines = [docker(line) for line in [*GOOD_LINES, *QUIET]] + [_cri(failure("t9"))]
    result = verdict(
        tmp_path,
        lines=lines,
        transactions=GOOD_TABLE,
        sources={"log_format": {"envelope": "docker"}},
    )
    assert result.passed, result.blocking
    warning = _failure_lines_warning(result)
    assert warning is not None and "not a Docker json-file entry" in warning, result.warnings


@pytest.mark.parametrize(
    "line",
    [
        # a success line checked in full under line_checks = "all": it changes no credit
        {**failure("t9", amount_minor=12.5), "event": "payment.succeeded"},
        # a line of no record that names no failure event
        "{truncated",
    ],
)
def test_a_quarantined_line_of_no_failure_gives_no_warning(tmp_path, line):
    result = verdict(
        tmp_path,
        lines=[*GOOD_LINES, *QUIET, line],
        transactions=GOOD_TABLE,
        quality={"line_checks": "all"},
    )
    assert result.passed, result.blocking
    assert result.quarantine is not None and result.quarantine.quarantined == 1
    assert _failure_lines_warning(result) is None, result.warnings


@pytest.mark.parametrize(
    "line",
    [
        # the sample's case: a failure record cut off before its whole copy (t2's, below)
        '{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t2", "er',
        # a retry of t2 logged with a fractional amount
        failure("t2", customer_id="c2", amount_minor=12.5),
    ],
)
def test_a_quarantined_failure_line_of_a_payment_read_from_another_line_gives_no_warning(
    tmp_path, line
):
    result = verdict(tmp_path, lines=[*GOOD_LINES, *QUIET, line], transactions=GOOD_TABLE)
    assert result.passed, result.blocking
    assert result.quarantine is not None and result.quarantine.quarantined == 1
    assert _failure_lines_warning(result) is None, result.warnings


@pytest.mark.parametrize(
    "line",
    [
        # t9's failure (amount 12.5) names candidate t1 only as its customer_id: every token of
        # the text was matched against the window's txn_ids, and t9 went uncredited unseen
        failure("t9", customer_id="t1", amount_minor=12.5),
        # the same in its error code, and in a record cut off mid-line
        failure("t9", code="t1", amount_minor=12.5),
        '{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t9", '
        '"customer_id": "t1", "er',
        # in a logfmt-looking value of another key
        failure("t9", note="retry=t1", amount_minor=12.5),
    ],
)
def test_a_quarantined_failure_line_naming_a_candidate_s_txn_id_elsewhere_warns(tmp_path, line):
    result = verdict(tmp_path, lines=[*GOOD_LINES, *QUIET, line], transactions=GOOD_TABLE)
    assert result.passed, result.blocking
    assert _failure_lines_warning(result) is not None, result.warnings


@pytest.mark.parametrize(
    ("line", "log_format"),
    [
        # t2's retry as an OTLP record: its txn_id the value of the attribute keyed txn_id
        (_otlp_request(failure("t2", customer_id="c2", amount_minor=12.5)), {"envelope": "otlp"}),
        # a logfmt line
        (
            "ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t2 amount_minor=12.5",
            {"kind": "logfmt"},
        ),
        # a txn_id read from a path, cut off: the key is its last name
        (
            '{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "payment": {"id": "t2", "er',
            {"txn_id": "payment.id"},
        ),
    ],
)
def test_a_quarantined_retry_keyed_by_txn_id_in_another_shape_gives_no_warning(
    tmp_path, line, log_format
):
    def shaped(record: dict) -> str:
        if log_format.get("envelope") == "otlp":
            return _otlp_request(record)
        if log_format.get("kind") == "logfmt":
            return " ".join(f"{k}={v}" for k, v in record.items())
        if "txn_id" in log_format:
            txn_id = record.pop("txn_id")
            return json.dumps({**record, "payment": {"id": txn_id}})
        return json.dumps(record)

    lines = [shaped(dict(r)) for r in [*GOOD_LINES, *QUIET]] + [line]
    result = verdict(
        tmp_path, lines=lines, transactions=GOOD_TABLE, sources={"log_format": log_format}
    )
    assert result.passed, result.blocking
    assert result.quarantine is not None and result.quarantine.quarantined == 1
    assert _failure_lines_warning(result) is None, result.warnings


def test_a_failure_line_quarantined_for_its_currency_still_rejects_the_run(tmp_path):
    result = verdict(tmp_path, lines=[*GOOD_LINES, *QUIET, _logged("usd")], transactions=GOOD_TABLE)
    assert any(
        b.startswith("inputs: a currency of 1 quarantined log line(s)") for b in result.blocking
    )
    assert _failure_lines_warning(result) is not None, result.warnings


def test_validation_json_and_html_show_the_failure_lines_quarantined(tmp_path):
    line = failure("t9", customer_id="c1", amount_minor=12.5)
    result = verdict(tmp_path, lines=[*GOOD_LINES, *QUIET, line], transactions=GOOD_TABLE)
    document, page = _reported(result, tmp_path)
    assert document["warnings"] == 1
    assert document["quarantine"]["failure_lines"] == {
        "lines": 1,
        "first": {"file": "logs/pod-a.jsonl", "line": 304},
        "reasons": [{"reason": "amount_minor is not an integer", "lines": 1}],
        "other_reasons": 0,
        "what_to_do": quarantine.FAILURE_LINES_WHAT_TO_DO,
    }
    assert "1 quarantined log line(s) are failure lines" in page, page
    assert "<code>logs/pod-a.jsonl</code> line 304" in page and "by hand" in page


def test_the_failure_lines_reasons_are_grouped_without_a_records_position(tmp_path):
    # an OTLP record's reason names its position (`... (envelope = "otlp": line 304, record 1)`):
    # two records quarantined for one reason are one reason, of 2 lines
    bad = [failure(f"t{n}", customer_id="c1", amount_minor=12.5) for n in (8, 9)]
    result = verdict(
        tmp_path,
        lines=[_otlp_request(line) for line in [*GOOD_LINES, *QUIET, *bad]],
        transactions=GOOD_TABLE,
        sources={"log_format": {"envelope": "otlp"}},
    )
    assert result.quarantine is not None
    assert result.quarantine.failures.reasons == (("amount_minor is not an integer", 2),)
    assert result.quarantine.failures.first == ("logs/pod-a.jsonl", 304)
