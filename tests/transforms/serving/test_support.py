"""Support's list and lookup on a small warehouse of inline rows; safe exports; no Prefect."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests import quick_commands, stores
from tests.support_warehouse import HOSTILE, build, one_pending_run
from transforms import commands
from transforms.errors import ConfigError, InputError
from transforms.finance import warehouse
from transforms.serving import answers, exports, support, views


@pytest.fixture(scope="module")
def warehouse_at(module_warehouse_location) -> warehouse.Location:
    """INC-A: r1 published and paid c1; r2 pending (the answer); r3 newer but rejected.
    INC-B (Tokyo): c1 again, pending; an unattributable payment t90. On each store."""
    return build(module_warehouse_location)


@pytest.fixture
def con(warehouse_at):
    with support.connect(warehouse_at) as connection:
        yield connection


def by_customer(rows):
    return {(row["customer_id"], row["currency"]): row for row in rows}


def test_the_answer_comes_from_the_newest_passing_run_and_says_so(con):
    found = support.customers(con, "INC-A")
    assert found.run.run_id == "r2"
    assert "newest run r3 was rejected by the quality gate" in found.run.note
    assert {row["run_id"] for row in found.rows} == {"r2"}


def test_a_run_declined_by_finance_never_answers_either(con):
    found = support.customers(con, "INC-D")
    assert found.run.run_id == "d1"
    assert "newest run d2 was declined by finance" in found.run.note


@pytest.mark.parametrize(
    ("key", "status", "credit", "paid", "why"),
    [
        # paid in full by an earlier run's batch
        (("c1", "USD"), "published", "10.00", "10.00", "paid USD 10.00 in batch INC-A-B001"),
        # a new credit of the run waiting for approval
        (("c2", "USD"), "pending", "10.00", None, "waiting for finance's approval of run r2"),
        # partly paid: the rest waits
        (("c3", "EUR"), "pending", "9.00", "5.00", "EUR 5.00 already paid"),
        # excluded, each saying why
        (("c4", "USD"), "excluded", None, None, "segment 'internal' is not credited"),
        # a closed account: the credit is owed, finance pays it by hand (never "excluded"); what
        # the pending run owes is not yet what finance listed (r1's batch: 5.00)
        (
            ("c5", "USD"),
            "by_hand",
            "10.00",
            None,
            "credit owed, paid by finance by hand, once finance approves run r2; USD 5.00 "
            "already listed to pay by hand",
        ),
        (("c6", "USD"), "excluded", None, None, "declined by the card issuer"),
        # reopened: what r1's batch listed to pay by hand counts as paid, as approval counts it
        (
            ("c22", "USD"),
            "published",
            "10.00",
            None,
            "USD 10.00 listed to pay by hand (the account was closed)",
        ),
        # closed since a batch paid it: the rest of what r2 owes is for finance to pay by hand
        (
            ("c23", "USD"),
            "by_hand",
            "12.00",
            "10.00",
            "credit owed, paid by finance by hand, once finance approves run r2; paid USD 10.00 "
            "in batch INC-A-B001",
        ),
        # in no customer table: owed, not "no credit" above a line owing it (it was excluded)
        (
            ("c24", "USD"),
            "by_hand",
            "10.00",
            None,
            "not in the customer table: credit owed, finance finds out who it is, pays by hand",
        ),
    ],
)
def test_each_customer_gets_a_status_and_the_reason(con, key, status, credit, paid, why):
    row = by_customer(support.customers(con, "INC-A").rows)[key]
    assert (row["status"], row["credit_amount"], row["paid_amount"]) == (status, credit, paid)
    assert why in row["detail"]


def test_failed_payments_are_counted_with_times_in_the_incident_zone(con):
    row = by_customer(support.customers(con, "INC-A").rows)[("c2", "USD")]
    assert row["failed_txn_count"] == 2
    assert row["first_failure_local"] == "2025-01-07T14:20:00-05:00"
    assert row["last_failure_local"] == "2025-01-07T16:05:30-05:00"
    assert list(row) == list(support.COLUMNS)


def test_the_customers_csv_holds_the_credit_and_status_the_table_shows(con):
    # The CSV had the credit only as a decimal beside `currency` (a paid credit's table cell
    # comes from `paid_amount`) and the status only as its code: not what the table says.
    found = support.customers(con, "INC-A")
    headings, cells = views.table(views.CUSTOMERS, found.rows, found.run.timezone, wide=True)
    text = views.customers_csv(found.rows)
    read = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(read[0]) == [*support.COLUMNS, "credit", "credit_minor", "status_words"]
    for shown, row in zip(cells, read, strict=True):
        table = dict(zip(headings, shown, strict=True))
        assert (row["credit"], row["status_words"]) == (table["credit"], table["status"])
    got = {r["customer_id"]: (r["credit"], r["credit_minor"], r["status_words"]) for r in read}
    assert got["c1"] == ("USD 10.00", "1000", "paid")
    assert got["c3"] == ("EUR 9.00", "900", "waiting for approval")
    assert got["c4"] == ("", "", "no credit")  # excluded: no credit, empty cells


@pytest.mark.parametrize(
    ("timezone", "shown"),
    [
        ("America/New_York", "2025-01-07T14:20:00-05:00"),  # winter: UTC-5
        ("Asia/Tokyo", "2025-01-08T04:20:00+09:00"),  # the next day
        ("UTC", "2025-01-07T19:20:00+00:00"),
    ],
)
def test_local_time_is_the_incident_zone_to_the_second(timezone, shown):
    from datetime import UTC, datetime

    instant = datetime(2025, 1, 7, 19, 20, 0, 999_999, tzinfo=UTC)  # truncated, never rounded
    assert answers.local_time(instant, timezone) == shown


@pytest.mark.parametrize(
    ("segment", "status", "expected"),
    [
        (
            None,
            "all",
            {
                "c1",
                "c2",
                "c3",
                "c4",
                "c5",
                "c6",
                "c13",
                "c20",
                "c21",
                "c22",
                "c23",
                "c24",
                *HOSTILE,
            },
        ),
        (None, "pending", {"c2", "c3", "c13", *HOSTILE}),
        (None, "published", {"c1", "c20", "c22"}),
        (None, "excluded", {"c4", "c6"}),
        (None, "by_hand", {"c5", "c21", "c23", "c24"}),  # c21: listed by r1's batch, not in r2
        ("internal", "all", {"c4"}),
        ("internal", "pending", set()),  # filters combine
        (" internal ", " pending\t", set()),  # blanks around a paste: as the support page reads
        (" internal\n", "", {"c4"}),  # an empty status is all (the page's empty box)
        ("  ", " published", {"c1", "c20", "c22"}),  # a blank segment is none
    ],
)
def test_filters_by_segment_and_status(con, segment, status, expected):
    rows = support.customers(con, "INC-A", segment=segment, status=status).rows
    assert {row["customer_id"] for row in rows} == expected


@pytest.mark.parametrize(
    ("incident_id", "error", "message"),
    [
        ("INC-NOPE", InputError, "incident INC-NOPE: not in the warehouse (incidents: INC-A"),
        (  # only a rejected run: which, and what became of it
            "INC-X",
            InputError,
            "incident INC-X: no answer yet: its newest run x1 was rejected by the quality gate,"
            " and no run of it waits for approval or is published: nobody can say yet",
        ),
    ],
)
def test_an_incident_without_an_answer_is_named(con, incident_id, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(")):
        support.customers(con, incident_id)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("pendin", "pending"),
        ("paid", "published"),  # the word the table's status column shows
        ("By Hand", "by_hand"),
        ("by-hand", "by_hand"),
        ("Pending", "pending"),
        # each of the other words the table's status column shows
        ("Waiting for approval", "pending"),
        ("owed, paid by hand", "by_hand"),
        ("no credit", "excluded"),
        ("xyz", None),
    ],
)
def test_a_bad_status_filter_is_a_usage_error_with_what_was_meant(con, typed, meant):
    with pytest.raises(ConfigError) as raised:
        support.customers(con, "INC-A", status=typed)
    message = str(raised.value)
    assert message.startswith(f"--status: '{typed}' is not one of pending, published, by_hand")
    assert message.endswith(f"; did you mean '{meant}'?" if meant else ", excluded, all")


def test_lookup_tells_a_customers_story_across_incidents(con):
    found = support.lookup(con, "c1")
    assert found.customer == {
        "name": "Name c1",
        "email": "c1@example.com",
        "country": "US",
        "segment": "consumer",
    }
    stories = {story.run.incident_id: story for story in found.incidents}
    assert set(stories) == {"INC-A", "INC-B"}
    assert [c["status"] for c in stories["INC-A"].credits] == ["published"]
    assert [c["status"] for c in stories["INC-B"].credits] == ["pending"]
    assert stories["INC-B"].transactions[0]["first_failure_local"] == "2025-01-08T04:20:00+09:00"


@pytest.mark.parametrize(
    "pasted",
    [
        *("c2", "  c2\t", "c2@example.com", " C2@Example.COM \n", "\u00a0c2"),
        # as a mail client gives it
        *(
            "Customer Two <c2@example.com>",
            "<C2@example.com>",
            "mailto:c2@example.com",
            "c2@example.com,",
        ),
        # copied from the end of a sentence in a mail ("write to c2@example.com.")
        *("c2@example.com.", "(c2@example.com)."),
    ],
)
def test_lookup_forgives_blanks_and_the_case_of_an_email(con, pasted):
    assert support.lookup(con, pasted).customer_id == "c2"


@pytest.mark.parametrize(
    "pasted",
    [
        "Two, Customer <c2@example.com>",  # Outlook's "Last, First" without quotes
        "Customer Two [mailto:c2@example.com]",  # Outlook's "From:" of a reply
        "<mailto:c2@example.com>",  # a link copied
        "Customer Two (c2@example.com)",
        "[c2@example.com]",
        "From: c2@example.com (Customer Two)",
        '"C2@Example.com" <c2@example.com>',  # the address as its own name, in another case
        '"Two (c8@example.com)" <c2@example.com>',  # the address in brackets is the sender's
        "mailto:c2@example.com?subject=Refund",  # a link with its subject
        "<mailto:c2@example.com?subject=Refund>",
    ],
)
def test_an_address_in_what_other_mail_clients_copy_is_found(con, pasted):
    # Each said "e-mail ...: no customer with this address": the address as pasted, whole
    assert support.lookup(con, pasted).customer_id == "c2"


def test_an_address_no_customer_has_is_said_as_found_in_the_paste(con):
    # it said "e-mail x9@example.complease": the words around it run into the address
    with pytest.raises(InputError, match="^e-mail x9@example.com: no customer with this address"):
        support.lookup(con, "write to x9@example.com please")


def test_a_paste_of_two_addresses_is_never_read_as_the_first(con):
    # it answered for c8, the first: support would have told c2 about c8's credit
    with pytest.raises(InputError) as refused:
        support.lookup(con, "c8@example.com, C2@example.com")
    assert str(refused.value) == (
        "'c8@example.com, C2@example.com' holds 2 e-mail addresses: look them up one at a "
        "time: c8@example.com, C2@example.com"
    )


@pytest.mark.parametrize(
    ("pasted", "customer_id"),
    [
        ('"c2"', "c2"),  # a cell of a CSV or JSON, quotes and all
        ("'c2'", "c2"),
        ("\u201cc2\u201d", "c2"),  # a word processor's quotes
        ("c2,", "c2"),  # a row of a spreadsheet, its comma
        ("(c2).", "c2"),  # the end of a sentence in a ticket
        ("t3.", "c2"),  # a payment's id, as well
        ('"t3",', "c2"),
        ("#t3", "c2"),  # a ticket's "payment #t3"
        ('"name c5"', "c5"),  # a name in quotes
    ],
)
def test_an_id_pasted_with_quotes_or_punctuation_around_it_is_found(con, pasted, customer_id):
    # Only an e-mail address was read without a trailing comma or period: '"c2"' or 't3.',
    # pasted from a spreadsheet or a ticket, was "not affected, or not found".
    assert support.search(con, pasted).customer_id == customer_id


@pytest.mark.parametrize("pasted", ["#t3", '"t3",', "(t3).", " t3 "])
def test_a_payment_given_with_punctuation_around_it_is_found_as_the_search_box_finds_it(
    con, pasted
):
    # `credits lookup --txn "#t3"` said "not a candidate failure ... (or the id is mistyped)":
    # support would have told the customer their payment did not fail in an outage
    assert support.lookup_payment(con, pasted).customer_id == "c2"


@pytest.mark.parametrize(
    ("pasted", "said"),
    [
        ("#t-none", "transaction #t-none: not a candidate failure"),  # nothing inside either
        ('"T3"', "no transaction T3; did you mean t3?"),  # what it nearly is, as the box says
    ],
)
def test_a_payment_not_found_inside_punctuation_either_says_so(con, pasted, said):
    with pytest.raises(InputError) as refused:
        support.lookup_payment(con, pasted)
    assert str(refused.value).startswith(said)


def test_punctuation_around_what_is_not_an_id_still_says_not_found(con):
    with pytest.raises(InputError, match='customer "nobody",'):
        support.search(con, '"nobody",')


def test_an_incident_id_looked_up_as_a_customer_names_the_list_of_its_customers(con):
    # `credits lookup INC-A` said "customer INC-A: no failed payment ... not affected"
    with pytest.raises(support.IncidentGiven, match=r"INC-A is an incident's id, not a custom"):
        support.search(con, " INC-A")
    with pytest.raises(
        InputError, match=r"a name: `.*credits customers INC-A` lists its customers"
    ):
        support.search(con, "INC-A")
    with pytest.raises(support.NotAffected):  # what no incident is named is not found, as before
        support.lookup(con, "INC-Z")


@pytest.mark.parametrize("pasted", ['"INC-A"', "INC-A.", "#INC-A", "(INC-A),"])
def test_an_incident_id_pasted_with_punctuation_is_named_as_an_incident(con, pasted):
    # as an id of a customer or a payment is: it was "customer ...: not affected"
    with pytest.raises(support.IncidentGiven, match=r"INC-A is an incident's id, not a custom"):
        support.search(con, pasted)


def test_a_customer_id_given_for_an_incident_names_its_lookup(con):
    # `credits customers c2` said only "incident c2: not in the warehouse (incidents: ...)"
    with pytest.raises(InputError, match=r"c2 is a customer's id: `.*credits lookup c2`"):
        support.customers(con, "c2")


@pytest.mark.parametrize("pasted", ["\u200b", "\x00", "\x1b", " \ufeff "])
def test_a_search_of_only_invisible_characters_says_so(con, pasted):
    # It was the command line's usage error ("give a CUSTOMER_ID or --txn"), a 503 on the page.
    with pytest.raises(InputError, match="only characters no one sees"):
        support.search(con, pasted)


@pytest.mark.parametrize("pasted", ["", "  "])
def test_a_search_of_nothing_asks_for_an_id(con, pasted):
    with pytest.raises(ConfigError, match="give a CUSTOMER_ID or --txn TXN_ID"):
        support.search(con, pasted)


@pytest.mark.parametrize("customer_id", ["@at", " case", "case", "\ttab", "case "])
def test_an_id_with_an_at_sign_or_blanks_that_is_known_is_taken_as_it_is(tmp_path, customer_id):
    # The incident page links each customer by id: "@at" was read as an e-mail address, and
    # " case" trimmed into another customer, "case".
    from tests.support_warehouse import add_candidate, add_credit, add_customer, add_run

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as writing:
        add_run(writing, "r1", "pending_approval", "2025-01-08T01:00:00Z")
        for number, known in enumerate(["@at", " case", "case", "\ttab", "case "]):
            add_candidate(writing, "r1", f"t{number}", known)
            add_credit(writing, "r1", known, 100 + number)
            add_customer(writing, "r1", known, name=f"person {number}")
    with support.connect(path) as reading:
        found = support.lookup(reading, customer_id)
        assert found.customer_id == customer_id
        assert found.incidents[0].credits[0]["name"].startswith("person")
        assert support.lookup(reading, "  case\n").customer_id == "case"  # a paste, trimmed


def test_lookup_by_transaction_trims_what_was_pasted(con):
    assert support.lookup(con, txn_id=" t3 ").customer_id == "c2"


@pytest.mark.parametrize(
    ("customer_id", "txn_id", "message"),
    [
        ("C2", None, "no customer C2; did you mean c2?"),
        (None, "T3", "no transaction T3; did you mean t3?"),
        (None, "c2", "transaction c2: no such payment, but c2 is a customer's id: `{lookup}`"),
        ("nobody@example.com", None, "e-mail nobody@example.com: no customer"),
    ],
)
def test_ids_stay_case_sensitive_but_a_case_slip_is_named(con, customer_id, txn_id, message):
    with pytest.raises(InputError) as refused:
        support.lookup(con, customer_id, txn_id)
    assert message.format(lookup=commands.credits("lookup c2")) in str(refused.value)


def test_a_customer_paid_by_an_earlier_run_shows_that_runs_payments(con):
    (story,) = support.lookup(con, "c20").incidents
    assert story.run.run_id == "r2" and story.paid_by == ("r1",)
    assert [t["txn_id"] for t in story.transactions] == ["t20"]
    (credit,) = story.credits
    assert credit["status"] == "published"
    assert "paid USD 7.00 in batch INC-A-B001 on 2025-01-08 (run r1)" in credit["detail"]


def test_a_payment_an_earlier_run_paid_is_found_by_its_id(con):
    # The newer pending run r2 no longer lists t20: "not a candidate failure in any incident".
    found = support.lookup(con, txn_id="t20")
    assert found.customer_id == "c20"
    (story,) = found.incidents
    assert story.paid_by == ("r1",) and [t["txn_id"] for t in story.transactions] == ["t20"]


def test_a_closed_account_an_earlier_batch_listed_to_pay_by_hand_is_not_unaffected(con):
    # r2 no longer lists c21: the answer was "not affected", though B001 listed them.
    (story,) = support.lookup(con, "c21").incidents
    assert story.run.run_id == "r2" and story.paid_by == ("r1",)
    assert [t["txn_id"] for t in story.transactions] == ["t21"]
    assert [(e["exception"], e["credit_owed"]) for e in story.exceptions] == [
        ("closed_account", "10.00")
    ]


def test_a_customer_of_the_answering_run_shows_only_its_payments(con):
    (story, _) = support.lookup(con, "c1").incidents
    assert story.paid_by == () and [t["txn_id"] for t in story.transactions] == ["t1"]


@pytest.mark.parametrize(
    ("local", "timezone", "shown"),
    [
        ("2025-01-07T15:08:59-05:00", "America/New_York", "2025-01-07 15:08 EST"),
        ("2025-07-07T15:08:00-04:00", "America/New_York", "2025-07-07 15:08 EDT"),
        ("2025-01-08T04:20:00+09:00", "Asia/Tokyo", "2025-01-08 04:20 JST"),
        (None, "UTC", ""),
    ],
)
def test_times_for_people_read_with_the_zone_abbreviation(local, timezone, shown):
    assert answers.time_shown(local, timezone) == shown


def test_lookup_shows_the_exceptions_for_finance(con):
    story = support.lookup(con, "c5").incidents[0]
    assert [e["exception"] for e in story.exceptions] == ["closed_account"]
    assert (story.exceptions[0]["credit_owed"], story.exceptions[0]["failed_amount"]) == (
        "10.00",
        None,
    )


def test_lookup_says_which_segment_a_payment_was_not_credited_for(con):
    # It said "segment 'of this customer' is not credited": the segment was never passed on.
    (story,) = support.lookup(con, "c4").incidents
    (payment,) = story.transactions
    assert payment["why"] == "segment 'internal' is not credited by the policy"


def test_lookup_by_transaction_finds_its_customer(con):
    found = support.lookup(con, txn_id="t3")
    assert found.customer_id == "c2"
    assert [t["txn_id"] for t in found.incidents[0].transactions] == ["t2", "t3"]


def test_lookup_of_an_unattributable_transaction_has_no_customer(con):
    found = support.lookup(con, txn_id="t90")
    assert found.customer_id is None and found.customer is None
    story = found.incidents[0]
    assert [t["class"] for t in story.transactions] == ["unattributable"]
    assert [e["exception"] for e in story.exceptions] == ["unattributable"]
    # what is missing, not "cannot be tied to a customer" when the log names one
    assert answers.reason_words("unattributable") == (
        "not in the transaction table; the log lacks or disagrees on customer, amount or currency"
    )


@pytest.mark.parametrize(
    ("customer_id", "txn_id", "error", "message"),
    [
        ("nobody", None, InputError, "customer nobody: no failed payment, credit or exception"),
        (None, "t-none", InputError, "transaction t-none: not a candidate failure"),
        # both said "(one of them; or an e-mail address)": which mistake, and what an id may be
        (None, None, ConfigError, "TXN_ID: a customer's id, an e-mail address, a payment's id or"),
        ("c1", "t1", ConfigError, "give a CUSTOMER_ID or --txn TXN_ID, not both$"),
    ],
)
def test_an_unknown_or_missing_id_gets_a_clear_message(con, customer_id, txn_id, error, message):
    with pytest.raises(error, match=message):
        support.lookup(con, customer_id, txn_id)


@pytest.mark.parametrize(
    ("pasted", "meant"),
    [
        ("C20@exmaple.com", "c20@example.com"),  # a typo in the domain
        ("c20@example.org", None),  # a short mailbox at another domain: anyone's
        ("person1@example.com", None),  # no mailbox of that name
    ],
)
def test_a_mistyped_address_names_the_known_one_of_the_same_mailbox(con, pasted, meant):
    # "david.wilson@example.com" said only "no customer with this address": it is .net
    with pytest.raises(InputError) as refused:
        support.lookup(con, pasted)
    said = str(refused.value)
    assert said.startswith(f"e-mail {pasted}: no customer with this address")
    assert said.endswith(f"; did you mean {meant}?") if meant else "did you mean" not in said


def test_a_mistyped_address_in_a_mailbox_name_is_named_when_the_name_is_long(tmp_path):
    path = tmp_path / "wh.duckdb"
    one_pending_run(path, [("t0", "david.wilson"), ("t1", "ab")])
    with support.connect(path) as reading:
        with pytest.raises(InputError, match=r"; did you mean david.wilson@example.com\?$"):
            support.lookup(reading, "davd.wilson@example.com")
        with pytest.raises(InputError, match=r"mistyped\)$"):  # two letters: too short to say
            support.lookup(reading, "ac@example.com")
        with pytest.raises(InputError, match=r"; did you mean david.wilson@example.com\?$"):
            support.lookup(reading, "david.wilson@example.net")  # a long mailbox, another domain
        with pytest.raises(InputError, match=r"mistyped\)$"):  # "ab@gmail.com" is anyone's
            support.lookup(reading, "ab@gmail.com")


@pytest.mark.parametrize(
    ("pasted", "meant"),
    [
        ("david.wilson+shop@example.com", "david.wilson@example.com"),  # a tag the table lacks
        ("QA@example.com", "qa+00003@example.com"),  # the table's address has the tag
        ("qa+other@example.com", "qa+00003@example.com"),  # another tag, the same mailbox
        ("qa+x@example.org", None),  # a short mailbox at another domain: anyone's
        ("ab+x@example.com", None),  # no mailbox of that name, tag or not
    ],
)
def test_a_plus_address_names_the_known_address_of_its_mailbox(warehouse_location, pasted, meant):
    # "david.wilson+shop@example.com" said only "no customer with this address": everything
    # after a `+` in a mailbox is a tag its owner adds (a shop's, a newsletter's)
    one_pending_run(warehouse_location, [("t0", "david.wilson"), ("t1", "qa+00003")])
    with support.connect(warehouse_location) as reading, pytest.raises(InputError) as refused:
        support.lookup(reading, pasted)
    said = str(refused.value)
    assert said.startswith(f"e-mail {pasted}: no customer with this address")
    assert said.endswith(f"; did you mean {meant}?") if meant else "did you mean" not in said


def test_a_search_that_finds_nothing_says_no_payment_has_the_id_either(con):
    # a payment's id pasted in the search box read "customer t-none: ...", a customer's answer
    with pytest.raises(InputError) as raised:
        support.search(con, " t-none ")
    said = str(raised.value)
    assert said.startswith("customer t-none: no failed payment, credit or exception")
    assert said.endswith(
        "; and no payment t-none failed inside an outage window; no customer's name matches "
        "'t-none'"
    )
    with pytest.raises(InputError, match=r"no customer with this address[^;]*$"):
        support.search(con, "nobody@example.net")  # an address is no payment's id


def test_a_missing_warehouse_is_named(warehouse_location):
    with pytest.raises(InputError) as refused:
        support.connect(warehouse_location)
    assert f"yet; `{commands.credits('run INCIDENT_FILE')}` creates it" in str(refused.value)


# Safe exports


def test_csv_text_neutralises_every_cell_and_round_trips():
    rows = [{"name": name, "n": 1, "empty": None} for name in HOSTILE.values()]
    text = exports.csv_text(("name", "n", "empty"), rows)
    read = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["name"] for r in read] == [f"'{name}" for name in HOSTILE.values()]
    assert {r["empty"] for r in read} == {""}


# Kinds of export, as the commands give them
DIFF = exports.Kind("`credits diff` CSV", ("customer_id", "currency", "change"))
WHAT_IF = exports.Kind("`credits what-if` CSV", ("customer_id", "currency"), per_policy=True)
AS_JSON = exports.Kind("`credits customers` JSON", ("incident_id", "customers"), json=True)


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_an_export_is_readable_by_its_owner_only(tmp_path, umask):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,currency,change\r\n")
    path.chmod(0o644)  # an older, readable file is replaced, not reused
    previous = os.umask(umask)
    try:
        exports.write_private(path, "ä\n", DIFF)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == "ä\n".encode()


def test_an_export_into_a_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        exports.write_private(tmp_path / "no" / "x.csv", "", DIFF)


def test_an_export_onto_a_folder_is_a_usage_error_naming_the_option(tmp_path):
    with pytest.raises(ConfigError, match=f"^--csv {tmp_path}: is a folder; name a file"):
        exports.write_private(tmp_path, "", DIFF, "--csv")


@pytest.mark.parametrize("kind", ["link", "fifo", "device"])
def test_an_export_onto_a_link_a_pipe_or_a_device_is_refused_and_leaves_it(tmp_path, kind):
    # It replaced whatever was there with a regular file: as root, /dev/stdout and /dev/full.
    path = tmp_path / "out.csv"
    if kind == "link":
        (tmp_path / "kept.csv").write_text("kept")
        path.symlink_to(tmp_path / "kept.csv")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/null")
    with pytest.raises(ConfigError, match=f"^--out {path}: is a link, a device or a pipe"):
        exports.write_private(path, "x\n", DIFF)
    assert path.is_symlink() if kind != "fifo" else stat.S_ISFIFO(path.lstat().st_mode)
    assert kind != "link" or (tmp_path / "kept.csv").read_text() == "kept"


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("INC-2025-01-07.toml", 'id = "INC-2025-01-07"\n'),
        ("customers.parquet", "PAR1"),
        ("notes", "kept"),
        # an input table, a run folder's file: a .csv or .json name is no licence
        ("transactions.csv", "txn_id,customer_id,currency\r\nt1,c1,USD\r\n"),
        ("credits.csv", "credit_id,incident_id,customer_id,currency\r\n"),
        ("manifest.json", '{"incident_id": "INC-A", "run_id": "r1"}\n'),
        ("half.csv", "customer_id,currency\r\n"),  # the start of the header is not it
        ("latin.csv", "customer_id,currency,change\r\nc\xe9,USD,added\r\n".encode("latin-1")),
    ],
)
def test_an_export_onto_a_file_that_is_no_earlier_export_is_refused_and_leaves_it(
    tmp_path, name, kept
):
    # `credits diff RUN --csv data/sample/INC-2025-01-07.toml` (a completion one Tab too far)
    # replaced the incident file; `credits customers INC --out RUN/credits.csv` a run's credit
    # file, `--out RUN/manifest.json` its manifest, `--out data/tables/transactions.csv` a table
    path = tmp_path / name
    kept = kept if isinstance(kept, bytes) else kept.encode()  # latin-1: no export of ours
    path.write_bytes(kept)
    with pytest.raises(ConfigError) as refused:
        exports.write_private(path, "customer_id,currency,change\r\n", DIFF, "--csv")
    assert str(refused.value) == (
        f"--csv {path}: is a file this command did not write (not an earlier `credits diff` "
        f"CSV): it would be replaced whole; name a new file (e.g. {tmp_path / 'x.csv'}) or "
        "move this one away"
    )
    assert path.read_bytes() == kept


@pytest.mark.parametrize(
    ("folder", "what"),
    [
        ("run=r1", "run"),
        ("batch=INC-A-B001", "batch"),
        ("run=r1/sub/..", "run"),  # the run folder itself, however written
        ("run=r1/sub", None),
        ("mine", None),
    ],
)
def test_an_export_into_a_run_or_batch_folder_is_refused(tmp_path, folder, what):
    # `credits customers INC --out data/outbox/<batch>/support.csv` made the batch fail its proof
    # (`verify-batch`, `audit --verify`: exit 3, "in the batch folder, but no batch is written
    # with it"); the refusal of a run's credits.csv even named a new file beside it
    where = tmp_path / "incident=INC-A" / folder
    where.mkdir(parents=True, exist_ok=True)
    (where / "sub").mkdir(exist_ok=True)
    path = where / "support.csv"
    if what is None:  # any other folder, even below a run folder, takes the file
        exports.write_private(path, "x\n", DIFF, "--csv")
        assert path.read_text() == "x\n"
        return
    with pytest.raises(ConfigError) as refused:
        exports.write_private(path, "x\n", DIFF, "--csv")
    assert str(refused.value) == (
        f"--csv {path}: {where.resolve()} is a {what} folder: a file added there would be "
        f"taken for part of the {what}; write it in another folder"
    )
    assert not path.exists()


@pytest.mark.parametrize(
    ("kind", "earlier"),
    [
        (DIFF, "customer_id,currency,change\r\nc1,USD,added\r\n"),
        (DIFF, "\ufeffcustomer_id,currency,change\nc1,USD,added\n"),  # saved by a spreadsheet
        (DIFF, ""),  # an empty file holds nothing to lose
        # another run of what-if, with other policies: other columns, amounts or nothing
        (WHAT_IF, "customer_id,currency,INC-A.toml,'=p.toml\r\nc1,USD,10.00,\r\nc2,JPY,,1500\r\n"),
        (AS_JSON, '{\n  "incident_id": "INC-B",\n  "customers": []\n}\n'),
        # longer than what is read of it: the rows read, the last one maybe cut, still tell
        (WHAT_IF, "customer_id,currency,a.toml\r\n" + "c1234,USD,1234.50\r\n" * 9000),
        (AS_JSON, '{"incident_id": "I", "customers": ["' + "x" * 100_000 + '"]}'),
    ],
)
def test_an_export_replaces_an_earlier_export_of_its_kind(tmp_path, kind, earlier):
    path = tmp_path / "old.csv"
    path.write_text(earlier, newline="")
    exports.write_private(path, "new\n", kind)
    assert path.read_text() == "new\n"


@pytest.mark.parametrize(
    ("kind", "other"),
    [
        # a diff export starts as a what-if export does; its rows hold words, not amounts
        (WHAT_IF, "customer_id,currency,change\r\nc1,USD,added\r\n"),
        (WHAT_IF, "customer_id,currency,name\r\nc1,USD,Ann\r\n"),  # a table of one's own
        (DIFF, "customer_id,currency,INC-A.toml\r\nc1,USD,10.00\r\n"),
        (AS_JSON, '{"incident_id": "INC-B", "customers": [], "run_id": "r1"}'),
        (AS_JSON, '["incident_id", "customers"]'),
        (AS_JSON, "customer_id,currency,change\r\n"),
        (AS_JSON, '{"run_id": "r1", "incident_id": "INC-B", "customers": []}'),  # a manifest
        (DIFF, "customer_id,currency," + "x" * 70_000 + "\r\n"),  # a header never read whole
    ],
)
def test_an_export_never_replaces_another_kind_of_file(tmp_path, kind, other):
    path = tmp_path / "other.csv"
    path.write_text(other, newline="")
    with pytest.raises(ConfigError, match="is a file this command did not write"):
        exports.write_private(path, "new\n", kind)
    assert path.read_bytes() == other.encode()


def test_an_export_to_a_name_the_system_refuses_is_a_usage_error(tmp_path):
    # "File name too long" was an internal error (exit 1).
    path = tmp_path / f"{'x' * 300}.csv"
    with pytest.raises(ConfigError, match="cannot be written there \\(File name too long\\)"):
        exports.write_private(path, "x\n", DIFF)


# The commands


runner = CliRunner()


@pytest.mark.parametrize("typed", ["CSV", " Csv "])
def test_customers_format_is_read_without_case_or_blanks(warehouse_at, typed):
    # `--format CSV` was "'CSV' is not one of table, csv, json", exit 2
    args = ["customers", "INC-A", "--format", typed, "--warehouse", str(warehouse_at)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("customer_id,name,")


def test_lookup_txn_answers_a_payment_pasted_from_a_ticket(warehouse_at):
    # `credits lookup --txn "#t3"` said "not a candidate failure", exit 2
    args = ["lookup", "--txn", "#t3", "--warehouse", str(warehouse_at)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("transaction t3 belongs to customer c2\n")


def test_customers_csv_is_owner_only_spreadsheet_safe_utf8(warehouse_at, tmp_path):
    out = tmp_path / "notice.csv"
    result = runner.invoke(
        app,
        [
            "customers",
            "INC-A",
            "--format",
            "csv",
            "--out",
            str(out),
            "--warehouse",
            str(warehouse_at),
        ],
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    names = {row["customer_id"]: row["name"] for row in rows}
    assert all(names[c] == f"'{name}" for c, name in HOSTILE.items())
    assert list(rows[0]) == list(views.CUSTOMERS_CSV)


def test_customers_json_carries_the_answering_run(warehouse_at):
    result = runner.invoke(
        app,
        [
            "customers",
            "INC-A",
            "--format",
            "json",
            "--status",
            "published",
            "--warehouse",
            str(warehouse_at),
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["run_id"], document["timezone"]) == ("r2", "America/New_York")
    assert [row["customer_id"] for row in document["customers"]] == ["c1", "c20", "c22"]


def test_customers_table_shows_names_as_text(warehouse_at):
    args = ["customers", "INC-A", "--warehouse", str(warehouse_at)]
    result = runner.invoke(app, args, env={"COLUMNS": "120"})  # xdist's workers have 80
    assert result.exit_code == 0, result.output
    assert "from run r2 (pending_approval)" in result.stdout
    assert '=HYPERLINK("http://x","click")' in result.stdout
    assert (
        "\r" not in result.stdout and "\t=1" not in result.stdout
    )  # control characters shown as ?


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["customers", "INC-NOPE"], "incident INC-NOPE: not in the warehouse"),
        (["customers", "INC-A", "--out", "x.txt"], "--out: cannot tell the format from 'x.txt'"),
        (["customers", "INC-A", "--out", "x.txt", "--format", "table"], "--out: choose --format"),
        # a .json file of CSV was written without a word
        (
            ["customers", "INC-A", "--out", "x.json", "--format", "csv"],
            "--out x.json names a .json file, --format csv another format",
        ),
        # a typo in a segment: none has it, and the known ones are listed
        (
            ["customers", "INC-A", "--segment", "internl"],
            "--segment: no customer of INC-A has segment 'internl'; did you mean 'internal'? "
            "(segments: consumer, internal)",
        ),
        (["customers", "INC-A", "--segment", "busines"], "(segments: consumer, internal)"),
        # only the case differs: named, as an id's case slip is (difflib missed 'INTERNAL')
        (
            ["customers", "INC-A", "--segment", " INTERNAL "],
            "segment 'INTERNAL'; did you mean 'internal'? (segments are case-sensitive)",
        ),
        (["audit", "--incident", "INC-NOPE"], "incident INC-NOPE: unknown to the warehouse"),
        (["runs", "--incident", "INC-NOPE"], "incident INC-NOPE: unknown to the warehouse"),
        (["runs", "--status", "pending"], "--status: 'pending' is not a run status"),
        (["customers", "INC-A", "--format", "xlsx"], "--format: 'xlsx'"),
        (["lookup", "nobody"], "customer nobody: no failed payment"),
        (["lookup"], "give a CUSTOMER_ID or --txn"),
    ],
)
def test_command_errors_exit_2_with_a_message(warehouse_at, args, message):
    result = runner.invoke(app, [*args, "--warehouse", str(warehouse_at)])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_customers_trims_its_filters_as_the_support_page_does(warehouse_at):
    # `--segment " internal "` exited 2 ("no customer has segment ' internal '"); the page trims
    args = ["customers", "INC-A", "--segment", " internal ", "--status", " all ", "--format"]
    result = runner.invoke(app, [*args, "csv", "--warehouse", str(warehouse_at)])
    assert result.exit_code == 0, result.output
    assert [row["customer_id"] for row in csv.DictReader(io.StringIO(result.stdout))] == ["c4"]


@pytest.mark.parametrize("command", ["customers", "runs", "audit"])
def test_an_incident_pasted_with_blanks_around_it_is_read_as_the_one_held(warehouse_at, command):
    # `customers " INC-A "` read it; `runs --incident` and `audit --incident` refused it (exit 2)
    args = [command, " INC-A\t"] if command == "customers" else [command, "--incident", " INC-A "]
    wide = ["--wide"] if command == "runs" else []  # the incident's column whatever the width
    result = runner.invoke(app, [*args, *wide, "--warehouse", str(warehouse_at)])
    assert result.exit_code == 0, result.output
    # audit: exit 0 is the check (it refused the padded id, exit 2); this warehouse has no journal
    assert "INC-A" in result.stdout or command == "audit"


@pytest.mark.parametrize(
    "args", [["lookup", "cus_0000012"], ["customers", "INC-A"], ["runs"]], ids=lambda a: a[0]
)
def test_run_from_another_folder_names_the_absolute_path_and_warehouse(tmp_path, monkeypatch, args):
    # It said "data/warehouse.duckdb: no warehouse yet", the current folder unsaid.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CREDITS_WAREHOUSE", raising=False)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert " ".join(result.stderr.split()) == (
        f"error: {tmp_path / 'data' / 'warehouse.duckdb'} (data/warehouse.duckdb, relative to"
        f" the current folder): no warehouse yet; `{commands.credits('run INCIDENT_FILE')}`"
        " creates it. If the warehouse is elsewhere, give it as --warehouse PATH (or set"
        " CREDITS_WAREHOUSE)"
    )
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("below", "by_venv"),
    [
        ("data/sample", False),
        ("data", False),
        ("notebooks/x", False),
        # `/repo/.venv/bin/credits lookup ...` from /tmp: that very venv's project unsaid
        ("../elsewhere", True),
    ],
)
def test_run_from_a_folder_of_the_project_names_the_projects_warehouse(
    tmp_path, monkeypatch, below, by_venv
):
    # From data/sample it said "no warehouse yet", the project's one folder up unsaid
    from transforms import commands

    project = tmp_path / "repo"
    (project / "data").mkdir(parents=True)
    (project / "data" / "warehouse.duckdb").write_bytes(b"")
    (project / below).mkdir(parents=True, exist_ok=True)
    if by_venv:
        monkeypatch.setattr(commands, "venv_project", lambda: project)
    monkeypatch.chdir(project / below)
    monkeypatch.delenv("CREDITS_WAREHOUSE", raising=False)
    result = runner.invoke(app, ["lookup", "cus_0000012"])
    assert result.exit_code == 2, result.output
    assert " ".join(result.stderr.split()).endswith(
        f"; one is at {project / 'data' / 'warehouse.duckdb'}: give it as --warehouse PATH (or"
        f" set CREDITS_WAREHOUSE), or run from {project}"
    )


@pytest.mark.parametrize("args", [["lookup", "c1"], ["customers", "INC-A"], ["runs"]])
def test_a_read_only_command_stopped_says_nothing_changed_and_to_run_it_again(
    warehouse_at, monkeypatch, args
):
    # A Ctrl-C in a lookup said "(what it committed stays)": had it committed something?
    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt("SIGINT")

    monkeypatch.setattr(support, "connect", stopped)
    result = runner.invoke(app, [*args, "--warehouse", str(warehouse_at)])
    assert result.exit_code == 130
    assert result.stderr == (
        "stopped by SIGINT: the command ended there; it only reads, so nothing changed: run it "
        "again\n"
    )


@pytest.mark.parametrize("suffix", ["csv", "json", "CSV"])
def test_out_without_format_takes_the_format_from_the_suffix(warehouse_at, tmp_path, suffix):
    out = tmp_path / f"notice.{suffix}"
    args = ["customers", "INC-A", "--out", str(out), "--warehouse", str(warehouse_at)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("{") is (suffix == "json")


@pytest.mark.parametrize("name", ["credits.csv", "manifest.json"])
def test_customers_out_onto_a_run_folders_file_exits_2_and_leaves_it(warehouse_at, tmp_path, name):
    # `credits customers INC --out RUN/credits.csv` replaced the run's credit file (0600, exit 0)
    kept = tmp_path / name
    kept.write_text("credit_id,incident_id\r\n" if name.endswith("csv") else '{"run_id": "r2"}\n')
    before = kept.read_bytes()
    args = ["customers", "INC-A", "--out", str(kept), "--warehouse", str(warehouse_at)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"--out {kept}: is a file this command did not write" in result.stderr
    assert kept.read_bytes() == before


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_customers_out_replaces_its_own_earlier_export(warehouse_at, tmp_path, suffix):
    out = tmp_path / f"notice.{suffix}"
    args = ["customers", "INC-A", "--out", str(out), "--warehouse", str(warehouse_at)]
    first = runner.invoke(app, [*args, "--status", "published"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert out.read_bytes() != b""


def test_runs_lists_every_run_with_its_current_status(warehouse_at):
    wide_enough = {"COLUMNS": "120"}  # pytest-xdist's workers have COLUMNS=80
    result = runner.invoke(app, ["runs", "--warehouse", str(warehouse_at)], env=wide_enough)
    assert result.exit_code == 0, result.output
    header, rule, *lines = result.stdout.splitlines()
    assert header.split()[:4] == ["run", "incident", "window", "status"]
    shown = {line.split()[0]: line for line in lines}
    assert {"r1", "r2", "r3", "b1"} <= shown.keys()
    assert "2025-01-07 14:15 EST to 2025-01-07 18:15 EST" in shown["r2"]
    assert "pending_approval" in shown["r2"] and "rejected" in shown["r3"]
    only = runner.invoke(
        app,
        ["runs", "--status", "rejected", "--incident", "INC-A", "--warehouse", str(warehouse_at)],
        env=wide_enough,
    )
    assert [line.split()[0] for line in only.stdout.splitlines()[2:]] == ["r3"]


def test_runs_fits_120_columns_and_shows_every_column_with_wide(warehouse_at):
    narrow = runner.invoke(app, ["runs", "--warehouse", str(warehouse_at)], env={"COLUMNS": "120"})
    wide = runner.invoke(app, ["runs", "--wide", "--warehouse", str(warehouse_at)])
    assert narrow.exit_code == 0 and wide.exit_code == 0, (narrow.output, wide.output)
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 120, narrow.stdout
    assert "sha256" not in narrow.stdout.splitlines()[0]
    heading = wide.stdout.splitlines()[0].split()
    assert heading[:5] == ["run", "incident", "window", "started", "status"]
    assert "sha256" in heading and "batch" in heading


def test_lookup_prints_credits_payments_and_exceptions(warehouse_at):
    result = runner.invoke(app, ["lookup", "c5", "--warehouse", str(warehouse_at)])
    assert result.exit_code == 0, result.output
    for text in (
        "customer c5: Name c5 <c5@example.com>",
        "credit owed, paid by finance by hand",
        "t6",
    ):
        assert text in result.stdout


def test_support_commands_never_import_prefect(warehouse_at):
    """Nor, on a DuckDB file, the PostgreSQL driver or pandas (a quarter of a lookup's CPU)."""
    wh = str(warehouse_at)
    commands = [["customers", "INC-A"], ["lookup", "c1"], ["lookup", "--txn", "t90"], ["runs"]]
    result = quick_commands.without_prefect(
        [[*args, "--warehouse", wh] for args in commands],
        cwd=Path(__file__).parents[3],
        nor=() if stores.kind(warehouse_at) == "postgres" else ("adbc_driver_manager", "pandas"),
    )
    assert result.returncode == 0, result.stderr


@stores.duckdb_only  # DuckDB's file lock: a PostgreSQL reader reads a snapshot, never waits
def test_a_busy_warehouse_is_waited_for_then_named(warehouse_location, monkeypatch):
    path = warehouse_location
    warehouse.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"c = duckdb.connect({str(path)!r})\nprint('ready', flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"  # a writer holds the file
        monkeypatch.setattr(support, "BUSY_WAIT_SECONDS", 0.3)
        with pytest.raises(warehouse.WarehouseBusy, match="try again in a moment"):
            support.connect(path)
    finally:
        holder.kill()
        holder.wait()


def test_the_default_tables_fit_120_columns_and_wide_shows_every_column(warehouse_at):
    args = ["--warehouse", str(warehouse_at)]
    narrow = runner.invoke(app, ["customers", "INC-A", *args], env={"COLUMNS": "120"})
    wide = runner.invoke(app, ["customers", "INC-A", "--wide", *args])
    assert narrow.exit_code == wide.exit_code == 0, narrow.output + wide.output
    table = narrow.stdout.splitlines()[1:]
    assert table and all(len(line) <= 120 for line in table)
    assert "email" not in table[0] and "c1@example.com" in wide.stdout
    assert max(len(line) for line in wide.stdout.splitlines()) > 120
    assert "paid USD 10.00 in batch INC-A-B001 on 2025-01-08 (run r1)" in wide.stdout
    assert "2025-01-07 14:20 EST" in wide.stdout  # local time, its zone's abbreviation
    # a cut cell says how to see it whole; COLUMNS widens the table, as for `credits runs`
    assert "…" in narrow.stdout and "--wide, or a wider COLUMNS, shows it whole" in narrow.stderr
    wider = runner.invoke(app, ["customers", "INC-A", *args], env={"COLUMNS": "250"})
    assert max(len(line) for line in wider.stdout.splitlines()[1:]) > 120
    assert "--wide" not in wide.stderr


def test_lookup_shows_money_local_times_and_the_paying_run(warehouse_at):
    result = runner.invoke(app, ["lookup", " C20@EXAMPLE.com ", "--warehouse", str(warehouse_at)])
    assert result.exit_code == 0, result.output
    for text in ("USD 7.00", "failed payments (from run r1, which paid them)", "15:08 EST"):
        assert text in result.stdout
    assert "700" not in result.stdout  # never minor units


def test_lookup_of_a_case_slip_names_the_known_id(warehouse_at):
    result = runner.invoke(app, ["lookup", "C20", "--warehouse", str(warehouse_at)])
    assert result.exit_code == 2
    assert "no customer C20; did you mean c20?" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["lookup", "c1"],
        ["customers", "INC-A"],
        ["runs"],
        ["customers", "INC-A", "--format", "csv"],
        ["lookup", "--help"],
    ],
    ids=["lookup", "customers", "runs", "csv", "help"],
)
def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly_with_0(warehouse_at, args):
    # `credits lookup c1 | head -1`: the reader is gone before the first line is written.
    command = [sys.executable, "-m", "flows.cli", *args, "--warehouse", str(warehouse_at)]
    if args[-1] == "--help":
        command = command[:-2]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[3],
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, stderr
    # no error: only the notes the command gives whoever reads it (a cut table's), if any
    assert set(stderr.splitlines()) <= {
        "(text cut with … to fit: --wide, or a wider COLUMNS, shows it whole)"
    }


@pytest.mark.parametrize(
    "args",
    [["lookup", "c1"], ["customers", "INC-A"], ["runs"], ["customers", "INC-A", "--format", "csv"]],
    ids=["lookup", "customers", "runs", "csv"],
)
def test_output_into_a_full_disk_is_one_line_and_exit_4_not_a_traceback(warehouse_at, args):
    # `credits customers INC-A --format csv > notice.csv` on a full disk (here /dev/full): a
    # traceback and exit 1, "a bug", for what the README's exit 4 promises a message.
    command = [sys.executable, "-m", "flows.cli", *args, "--warehouse", str(warehouse_at)]
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            command, stdout=full, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[3]
        )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: standard output: No space left on device")
    assert len(result.stderr.splitlines()) == 1


def test_a_full_stderr_is_exit_4_not_a_bug_s_exit_1(warehouse_at):
    # `2>> log` on a full disk: a note that could not be written ended a lookup that printed
    # its answer in a traceback (itself unwritable) and exit 1, "a bug".
    command = [sys.executable, "-m", "flows.cli", "lookup", "c1", "--warehouse", str(warehouse_at)]
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
            cwd=Path(__file__).parents[3],
            env={**os.environ, "COLUMNS": "60"},  # the table is cut: a note goes to stderr
        )
    assert result.returncode == 4
    assert "customer c1" in result.stdout


def test_a_closed_stdout_is_refused_before_the_command_not_a_traceback(warehouse_at):
    # `credits lookup c1 >&-`: Python starts with no sys.stdout; the output had nowhere to go
    # and the command ended in an AttributeError's traceback (exit 1) after doing its work.
    command = [sys.executable, "-m", "flows.cli", "lookup", "c1", "--warehouse", str(warehouse_at)]
    result = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "standard output is closed" in result.stderr


@pytest.mark.parametrize(
    ("pasted", "shown"),
    [
        ("t6", "transaction t6 belongs to customer c5"),  # a payment id, as the page takes it
        (" t6 ", "transaction t6 belongs to customer c5"),  # pasted with blanks
        ("c5", "customer c5: Name c5"),  # a customer id stays a customer id
    ],
)
def test_lookup_recognises_a_payment_id_without_txn(warehouse_at, pasted, shown):
    result = runner.invoke(app, ["lookup", pasted, "--warehouse", str(warehouse_at)])
    assert result.exit_code == 0, result.output
    assert shown in result.stdout


def test_the_analysts_customer_frame_counts_what_an_earlier_run_paid(con):
    # c20, paid 7.00 by r1 and absent from the newer r2, had paid_minor NaN: the notebook's
    # total of what was paid left it out. Money columns are whole numbers, never floats.
    from transforms.serving import analysis

    at = datetime(2025, 1, 7, 19, tzinfo=UTC)
    run = analysis.RunView("r2", "INC-A", None, "America/New_York", "pending_approval", at, at, ())
    frame = analysis.customers(con, run)
    c20 = frame[frame["customer_id"] == "c20"]
    assert c20["paid_minor"].tolist() == [700]
    assert {str(frame[c].dtype) for c in ("credit_minor", "paid_minor")} == {"Int64"}
    # c1, c3 (EUR), c20 and c23 (closed since): the ledger
    assert frame["paid_minor"].sum() == 1000 + 500 + 700 + 1000


def test_the_analysts_totals_count_what_the_ledger_paid_a_customer_no_longer_credited():
    # notebook 02's "paid" left out a customer the newest run no longer credits (USD 10.00
    # short of the batches' totals); a currency only paid has its row
    from transforms.serving import analysis

    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "currency": ["USD", "USD", "USD", "EUR"],
            "credit_minor": pd.array([1000, 1200, None, None], "Int64"),
            "paid_minor": pd.array([1000, None, 1000, 500], "Int64"),
            "failed_amount_minor": pd.array([5000, 7000, None, None], "Int64"),
        }
    )
    totals = analysis.credit_totals(customers)
    assert totals.loc["USD"].to_dict() == {
        "lines": 2,
        "credit_minor": 2200,
        "failed_amount_minor": 12000,
        "paid_minor": 2000,
    }
    assert totals.loc["EUR"].to_dict() == {
        "lines": 0,
        "credit_minor": 0,
        "failed_amount_minor": 0,
        "paid_minor": 500,
    }


@stores.duckdb_only  # the rule is the store's query, the same on both
def test_not_affected_names_the_incidents_that_have_no_answer_yet(warehouse_location):
    # An incident whose only run the gate rejected answers nobody: "not affected" alone would
    # be told to a customer the re-run may well credit.
    from tests.support_warehouse import add_candidate, add_run

    with warehouse.writer(warehouse_location) as writer:
        add_run(writer, "x1", "rejected", "2025-01-08T01:00:00Z", incident="INC-R")
        add_candidate(writer, "x1", "t1", "c1", incident="INC-R")
    with (
        support.connect(warehouse_location) as reader,
        pytest.raises(InputError, match="not known yet for INC-R: no run of it passed"),
    ):
        support.lookup(reader, "c1")


@pytest.mark.parametrize("typed", ["INCA", "INC-A1", "INC_A"])
def test_an_incident_id_with_a_typo_names_the_closest(con, typed):
    # "INC-2025-1-7" for INC-2025-01-07 got the list only; `credits runs --incident` names it
    with pytest.raises(InputError) as refused:
        support.customers(con, typed)
    assert str(refused.value).endswith("; did you mean INC-A?")


@pytest.mark.parametrize("typed", ["INC-NOPE", "INC-XYZW", "OUTAGE-A"])
def test_an_incident_id_far_from_every_held_one_names_none(con, typed):
    # `credits customers INC-NOPE` asked "did you mean INC-X?": a guess, not a typo's fix
    with pytest.raises(InputError) as refused:
        support.customers(con, typed)
    assert "did you mean" not in str(refused.value)
    assert refused.value.meant is None


def test_an_incident_id_is_trimmed_and_a_case_slip_is_named(con):
    # " INC-A" (pasted) was not in the warehouse; "inc-a" got no hint.
    assert support.customers(con, " INC-A ").run.incident_id == "INC-A"
    with pytest.raises(InputError, match=r"inc-a: not in the warehouse .* did you mean INC-A\?"):
        support.customers(con, "inc-a")


@pytest.fixture(scope="module")
def padded(tmp_path_factory) -> Path:
    """Ids as two systems write them: `cus_0000012` and `txn_0031436` padded, `42` without."""
    path = tmp_path_factory.mktemp("padded") / "wh.duckdb"
    one_pending_run(path, [("txn_0031436", "cus_0000012"), ("t42", "42")])
    return path


@pytest.mark.parametrize(
    ("pasted", "meant"),
    [
        ("0000012", "no customer 0000012; did you mean cus_0000012?"),  # the prefix left off
        ("12", "no customer 12; did you mean cus_0000012?"),  # the zeros and the prefix
        ("cus_12", "no customer cus_12; did you mean cus_0000012?"),  # the zeros
        ("cus_00000012", "no customer cus_00000012; did you mean cus_0000012?"),  # one too many
        ("cus 0000012", "no customer cus 0000012; did you mean cus_0000012?"),  # a blank for _
        ("CUS_12", "no customer CUS_12; did you mean cus_0000012?"),  # and the case
        ("0042", "no customer 0042; did you mean 42?"),  # stored without the zeros
        ("txn_31436", "no transaction txn_31436; did you mean txn_0031436?"),  # a payment's
        ("31436", "no transaction 31436; did you mean txn_0031436?"),
        ('"0000012",', "no customer 0000012; did you mean cus_0000012?"),  # a cell, pasted
        ("(txn_31436).", "no transaction txn_31436; did you mean txn_0031436?"),
    ],
)
def test_an_id_with_its_zeros_or_prefix_off_names_the_known_id(padded, pasted, meant):
    # "0000012" said only "not affected ... or the id is mistyped": the id was right there
    with support.connect(padded) as con, pytest.raises(InputError) as refused:
        support.search(con, pasted)
    assert str(refused.value) == f"{meant} (ids are matched exactly, zeros and all)"


def test_a_case_slip_pasted_with_quotes_around_it_names_the_known_id(padded):
    # '"CUS_0000012"' said only "not affected": the quotes hid the case slip's suggestion
    with support.connect(padded) as con, pytest.raises(InputError) as refused:
        support.search(con, '"CUS_0000012"')
    assert str(refused.value) == (
        "no customer CUS_0000012; did you mean cus_0000012? (ids are case-sensitive)"
    )


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ({"customer_id": "cus_12"}, "not known yet for INC-R"),  # only a rejected run's
        ({"customer_id": "12"}, "not affected by a recorded outage"),  # known, not credited
        ({"txn_id": "txn_31436"}, "not a candidate failure"),  # only the rejected run holds it
    ],
)
def test_a_known_id_is_answered_not_taken_for_a_slip_in_another(tmp_path, typed, answer):
    # "cus_12", known only to a rejected run, got "no customer cus_12; did you mean
    # cus_0000012?": false, and the "not known yet for INC-R" was lost
    from tests.support_warehouse import add_candidate, add_customer, add_run

    path = tmp_path / "wh.duckdb"
    one_pending_run(path, [("txn_0031436", "cus_0000012")])
    with warehouse.writer(path) as writer:
        add_customer(writer, "r1", "12")
        add_run(writer, "x1", "rejected", "2025-01-08T02:00:00Z", incident="INC-R")
        add_candidate(writer, "x1", "t1", "cus_12", incident="INC-R")
        add_candidate(writer, "x1", "txn_31436", "c9", incident="INC-R")
    with support.connect(path) as reader, pytest.raises(InputError) as refused:
        support.lookup(reader, **typed)
    assert answer in str(refused.value)
    assert "did you mean" not in str(refused.value)


@pytest.mark.parametrize("pasted", ["13", "cus_13", "ord_12", "cus_12a", "7"])
def test_another_number_or_prefix_is_no_suggestion(padded, pasted):
    with support.connect(padded) as con, pytest.raises(InputError) as refused:
        support.search(con, pasted)
    assert "did you mean" not in str(refused.value)


@pytest.mark.parametrize(
    ("detail", "what"),
    [
        # the exceptions' detail names a customer-table id in another case or with other zeros:
        # support's "for finance" column, all the default lookup shows, said only "not in the
        # customer table"
        (
            "customer is not in the customer table; the customer table has 'C001' (differs in "
            "case and leading zeros)",
            "not in the customer table: finance checks it by hand; the customer table has 'C001' "
            "(differs in case and leading zeros)",
        ),
        # no near id: as before
        ("customer is not in the customer table", answers.EXCEPTIONS["unknown_customer"]),
    ],
)
def test_an_unknown_customer_s_exception_shows_the_near_id_the_table_has(detail, what):
    row = {
        "exception": "unknown_customer",
        "currency": "USD",
        "txn_id": None,
        "txn_count": 1,
        "credit_owed_minor": 1000,
        "failed_amount_minor": None,
        "detail": detail,
    }
    assert answers.exception_row(row)["what"] == what


def test_a_payment_two_published_runs_paid_is_listed_once_from_the_newer(warehouse_location):
    # c40 paid by p1's batch, then an increase by p2's, absent from the pending p3: t40 was
    # listed twice, once per paying run, as two failed payments; c41, a closed account both
    # batches listed to pay by hand, showed both runs' amounts owed.
    from tests.support_warehouse import (
        add_candidate,
        add_closed_account,
        add_credit,
        add_customer,
        add_listed_by_hand,
        add_payment,
        add_run,
    )

    with warehouse.writer(warehouse_location) as writing:
        for run_id, started, owed in (("p1", "01", 1000), ("p2", "02", 1500)):
            add_run(writing, run_id, "published", f"2025-01-08T{started}:00:00Z")
            add_candidate(writing, run_id, "t40", "c40")
            add_credit(writing, run_id, "c40", owed)
            add_customer(writing, run_id, "c40")
            add_candidate(writing, run_id, "t41", "c41", credited=False, reason="closed_account")
            add_customer(writing, run_id, "c41", status="closed")
            add_closed_account(writing, run_id, "c41", owed)
        add_payment(writing, "c40", 1000, batch="INC-A-B001", run_id="p1")
        add_payment(writing, "c40", 500, batch="INC-A-B002", run_id="p2")
        add_listed_by_hand(writing, "c41", 1000, batch="INC-A-B001", run_id="p1")
        add_listed_by_hand(writing, "c41", 500, batch="INC-A-B002", run_id="p2")
        add_run(writing, "p3", "pending_approval", "2025-01-08T03:00:00Z")
        add_candidate(writing, "p3", "t42", "c42")
        add_credit(writing, "p3", "c42", 1000)
        add_customer(writing, "p3", "c42")
    with support.connect(warehouse_location) as reading:
        (paid,) = support.lookup(reading, "c40").incidents
        assert paid.paid_by == ("p1", "p2")
        assert [t["txn_id"] for t in paid.transactions] == ["t40"]
        (listed,) = support.lookup(reading, "c41").incidents
        assert [t["txn_id"] for t in listed.transactions] == ["t41"]
        assert [e["credit_owed"] for e in listed.exceptions] == ["15.00"]


def test_a_credit_paid_by_an_earlier_run_counts_the_payments_shown_for_it(con):
    # c20 is paid by r1 and absent from r2, the answering run: its credit said 0 failed
    # payments above the list of r1's failed payment t20; c21, listed by hand, the same
    for customer_id, txn_id in (("c20", "t20"), ("c21", "t21")):
        (story,) = [s for s in support.lookup(con, customer_id).incidents if s.paid_by]
        assert [t["txn_id"] for t in story.transactions] == [txn_id]
        assert [c["failed_txn_count"] for c in story.credits] == [1]


def test_an_unknown_customer_s_credit_says_what_is_owed_and_what_was_paid(warehouse_location):
    # c50 is in no customer table and the policy works its credit out to 0 (10% of JPY 4):
    # support read "JPY 0, owed, paid by hand: credit owed, finance finds out who it is", a
    # credit nobody will pay; c51, owed USD 10.00, still is one. c52 was paid USD 10.00 by an
    # earlier run's batch when the customer table had it: its why left that payment out, and
    # support told the customer a credit was owed that the ledger had paid.
    from tests.support_warehouse import add_candidate, add_closed_account, add_payment, add_run

    with warehouse.writer(warehouse_location) as writing:
        add_run(writing, "u0", "published", "2025-01-08T00:00:00Z", incident="INC-U")
        add_payment(writing, "c52", 1000, incident="INC-U", batch="INC-U-B001", run_id="u0")
        add_run(writing, "u1", "pending_approval", "2025-01-08T01:00:00Z", incident="INC-U")
        for customer_id, owed in (("c50", 0), ("c51", 1000), ("c52", 1000)):
            add_candidate(
                writing,
                "u1",
                f"t{customer_id[1:]}",
                customer_id,
                credited=False,
                reason="unknown_customer",
                incident="INC-U",
            )
            add_closed_account(
                writing, "u1", customer_id, owed, incident="INC-U", kind="unknown_customer"
            )
    with support.connect(warehouse_location) as reading:
        rows = by_customer(support.customers(reading, "INC-U").rows)
    shown = {
        key[0]: (row["status"], row["credit_amount"], row["detail"]) for key, row in rows.items()
    }
    assert shown == {
        "c50": (
            "excluded",
            None,
            "the policy's credit comes to zero; not in the customer table: finance checks it by "
            "hand",
        ),
        "c51": ("by_hand", "10.00", answers.UNKNOWN_OWED),
        "c52": (
            "by_hand",
            "10.00",
            f"{answers.UNKNOWN_OWED}; paid USD 10.00 in batch INC-U-B001 on 2025-01-08 (run u0)",
        ),
    }


def test_a_credit_of_an_approved_run_whose_batch_is_unfinished_is_not_said_to_wait_for_approval():
    # An approval killed after its commit, before its batch was marked published: the run is
    # published, its credits not paid yet. Support said they waited for finance's approval.
    run = answers.AnsweringRun("INC-A", None, "UTC", "r2", "published", "r2", "published")
    row = {"currency": "USD", "credit_amount_minor": 1000, "paid_minor": 400, "paid_run_ids": []}
    row |= {"batch_ids": ["INC-A-B001"], "last_published_on_local": "2025-01-08"}
    status, why = answers.credit_status({**row, "credit_status": "pending"}, run)
    assert status == "pending" and "waiting for finance's approval" not in why
    assert why.startswith("approved in run r2, not paid yet: its batch is unfinished")
    assert why.endswith("; USD 4.00 already paid")
