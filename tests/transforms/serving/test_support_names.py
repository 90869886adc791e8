"""Support's search by name, pastes with hidden characters, and incidents that cannot answer yet,
on a few inline rows on each store; the command and the support page on the same rows."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from flows.cli import app as cli
from flows.support_page import app as page_app
from tests.support_warehouse import add_candidate, add_credit, add_customer, add_run, insert
from transforms import db
from transforms.errors import InputError
from transforms.finance import warehouse
from transforms.serving import names, support

NAMES = {
    "n1": "José López",
    "n2": "Jose LOPEZ",  # another person, the same name but for case and accent
    "n3": "Felix Weiß",
    "n4": "鈴木 陽菜",
    "n5": "Ana Lopez-Garcia",
}


@pytest.fixture(scope="module")
def warehouse_at(module_warehouse_location) -> warehouse.Location:
    """INC-N: run m1 pending, crediting n1..n5 (named in NAMES). INC-Z: one run z1, declined by
    finance, with n3 in it."""
    with warehouse.writer(module_warehouse_location) as con:
        add_run(con, "m1", "pending_approval", "2025-01-08T02:00:00Z", incident="INC-N")
        for customer_id, name in NAMES.items():
            add_candidate(con, "m1", f"t-{customer_id}", customer_id, incident="INC-N")
            add_credit(con, "m1", customer_id, 1000, incident="INC-N")
            add_customer(con, "m1", customer_id, name=name)
        add_run(con, "z1", "declined", "2025-01-09T02:00:00Z", incident="INC-Z")
        add_candidate(con, "z1", "t-z-n3", "n3", incident="INC-Z")
        add_customer(con, "z1", "n3", name=NAMES["n3"])
    return module_warehouse_location


@pytest.fixture
def con(warehouse_at):
    with support.connect(warehouse_at) as connection:
        yield connection


@pytest.mark.parametrize(
    ("query", "customer_id"),
    [
        ("felix weiss", "n3"),  # without case; ß as ss
        (" FELIX Weiß ", "n3"),  # blanks around, another case
        ("weiß felix", "n3"),  # the words in any order
        ("鈴木", "n4"),  # a word of a name in another script
        ("ana lopez-garcia", "n5"),  # punctuation between words
        ("ana garc", "n5"),  # the start of each word
    ],
)
def test_one_customer_whose_name_matches_is_found(con, query, customer_id):
    found = support.search(con, query)
    assert (found.customer_id, found.by_name) == (customer_id, query.strip())
    assert found.customer["name"] == NAMES[customer_id]


@pytest.mark.parametrize(
    ("query", "customer_ids"),
    [
        ("jose lopez", ("n1", "n2")),  # the same name but for accent and case: both, never one
        ("José López", ("n1", "n2")),
        ("lopez", ("n1", "n2", "n5")),
    ],
)
def test_several_customers_whose_name_matches_are_listed_never_guessed(con, query, customer_ids):
    with pytest.raises(names.SeveralNamed) as several:
        support.search(con, query)
    assert several.value.customer_ids == customer_ids and several.value.exit_code == 2
    assert [m.name for m in several.value.matches] == [NAMES[c] for c in customer_ids]
    for customer_id in customer_ids:
        assert f"{customer_id} {NAMES[customer_id]} <{customer_id}@example.com>" in str(
            several.value
        )


@pytest.mark.parametrize("query", ["Maria Lopez", "lopezz", "ez"])
def test_a_name_nobody_has_says_so(con, query):
    # negative cases: another first name, a letter too many, the middle of a word
    with pytest.raises(InputError, match=f"no customer's name matches '{query}'"):
        support.search(con, query)


@pytest.mark.parametrize(
    ("query", "customer_ids"),
    [
        ("felx weiss", ("n3",)),  # a letter missing
        ("feilx", ("n3",)),  # two swapped
        ("jose lopes", ("n1", "n2")),  # a letter wrong: both, never one guessed
    ],
)
def test_a_name_one_typo_away_is_named_never_taken(con, query, customer_ids):
    # "jose lopes" said only "no customer's name matches": José López was one letter away
    with pytest.raises(InputError) as refused:
        support.search(con, query)
    said = str(refused.value)
    assert f"no customer's name matches '{query}'" in said  # one word: maybe an id mistyped
    assert "; one typo away (look one up by its id):\n" in said
    assert [line.split()[0] for line in said.splitlines()[1:]] == list(customer_ids)


@pytest.mark.parametrize("query", ["Maria Lopez", "ez", "xyz", "n9"])
def test_a_name_further_off_or_short_names_nobody(con, query):
    with pytest.raises(InputError) as refused:
        support.search(con, query)
    assert "typo away" not in str(refused.value)


def test_many_matches_are_cut_and_counted(con, monkeypatch):
    monkeypatch.setattr(names, "NAMES_LISTED", 2)
    with pytest.raises(names.SeveralNamed) as several:
        support.search(con, "lopez")
    assert several.value.customer_ids == ("n1", "n2") and several.value.total == 3
    assert "and 1 more: type more of the name" in str(several.value)


@pytest.mark.parametrize(
    "query",
    [
        "a" * 5_000,  # one long word: a pasted token, a page
        " ".join(["ana"] * (names.NAME_WORDS + 1)),  # more words than a name search reads
    ],
)
def test_a_paste_too_long_for_a_name_is_not_compared_with_names(con, query):
    # A paste of 100,000 characters kept the warehouse busy five minutes (each word against
    # every word of every name, a typo's distance each) and was said back twice, whole
    with pytest.raises(InputError) as refused:
        support.search(con, query)
    said = str(refused.value)
    assert "too long for a name" in said and "nor is it a customer's id or a payment's" in said
    assert len(said) < 400


def test_a_name_of_as_many_words_as_a_search_reads_is_found(con):
    typed = " ".join(["ana"] * (names.NAME_WORDS - 2) + ["lopez", "garcia"])
    assert support.search(con, typed).customer_id == "n5"


@pytest.mark.parametrize("hidden", ["\u200b", "\ufeff", "\u00a0", "\u2028", "\t"])
def test_a_pasted_id_with_a_hidden_character_is_found(con, hidden):
    # a zero-width space, a byte-order mark, a no-break space, a line separator, a tab
    for pasted in (f"n1{hidden}", f"{hidden}n1", f"n{hidden}1"):
        assert support.search(con, pasted).customer_id == "n1"
    assert support.lookup(con, txn_id=f"t-n1{hidden}").customer_id == "n1"


def test_an_incident_that_cannot_answer_is_named_beside_the_ones_that_do(con):
    found = support.lookup(con, "n3")
    assert [story.run.incident_id for story in found.incidents] == ["INC-N"]
    assert [u.incident_id for u in found.unanswered] == ["INC-Z"]
    assert "newest run z1 was declined by finance" in found.unanswered[0].why


def test_an_incident_without_an_answer_says_why_on_the_home_page(warehouse_at):
    page = TestClient(page_app.create(warehouse_at)).get("/")
    assert "newest run z1 was declined by finance" in page.text
    assert "no run passed the quality gate" not in page.text  # z1 passed it


def test_the_command_lists_the_customers_a_name_matches(warehouse_at):
    result = CliRunner().invoke(cli, ["lookup", "lopez", "--warehouse", str(warehouse_at)])
    assert result.exit_code == 2, result.output
    for customer_id in ("n1", "n2", "n5"):
        assert f"{customer_id} {NAMES[customer_id]}" in result.output
    found = CliRunner().invoke(cli, ["lookup", "felix weiss", "--warehouse", str(warehouse_at)])
    assert found.exit_code == 0, found.output
    assert "name 'felix weiss' matches one customer: n3" in found.output
    assert "INC-Z: no answer yet" in found.output


def test_the_page_lists_the_customers_a_name_matches(warehouse_at):
    client = TestClient(page_app.create(warehouse_at))
    page = client.get("/", params={"q": "jose lopez"})
    assert page.status_code == 200 and "Several customers match this name" in page.text
    assert 'href="/customers/n1"' in page.text and 'href="/customers/n2"' in page.text
    assert "José López" in page.text and "n5" not in page.text
    one = client.get("/", params={"q": "felix weiss"})
    assert one.status_code == 200 and "Felix Weiß" in one.text and "INC-Z" in one.text


def test_the_page_links_the_customers_a_name_one_typo_away_matches(warehouse_at):
    # "jose lopes" was a "not found" page, its suggestions a line of text with "?" for breaks
    page = TestClient(page_app.create(warehouse_at)).get("/", params={"q": "jose lopes"})
    assert page.status_code == 404 and "No customer has this name" in page.text
    assert "one typo away" in page.text and "?  n1" not in page.text
    assert 'href="/customers/n1"' in page.text and 'href="/customers/n2"' in page.text


@pytest.fixture
def runs_named(warehouse_location) -> warehouse.Location:
    """INC-R: s1 killed while sealing (Sam Sealed), x1 rejected (Rex Rejected), d1 declined by
    finance (Dee Declined). INC-Q: q1 and q2 both see Quinn, q2 started after q1 in the journal
    but on a clock a day behind, as Quinn New; q3 sealing, newest of all, as Quinn Sealing.
    Customer p is a candidate of q2 (INC-Q's answer) missing from its customer table, seen by
    q0 (declined, first in the journal, on a clock days ahead) as Pat Clock, q1 as Pat Old
    and q3 as Pat Sealing."""
    with warehouse.writer(warehouse_location) as con:
        for run_id, status, customer_id, name in [
            ("s1", "sealing", "r-s", "Sam Sealed"),
            ("x1", "rejected", "r-x", "Rex Rejected"),
            ("d1", "declined", "r-d", "Dee Declined"),
        ]:
            add_run(con, run_id, status, "2025-01-08T02:00:00Z", incident="INC-R")
            add_customer(con, run_id, customer_id, name=name)
        for seq, (run_id, status, started, name) in enumerate(
            [
                ("q0", "declined", "2025-01-12T02:00:00Z", "Quinn Clock"),
                ("q1", "published", "2025-01-09T02:00:00Z", "Quinn Old"),
                ("q2", "pending_approval", "2025-01-08T02:00:00Z", "Quinn New"),
                ("q3", "sealing", "2025-01-10T02:00:00Z", "Quinn Sealing"),
            ],
            start=0,
        ):
            add_run(con, run_id, status, started, incident="INC-Q")
            add_customer(con, run_id, "q", name=name)
            if run_id != "q2":
                add_customer(con, run_id, "p", name=name.replace("Quinn", "Pat"))
            insert(
                con,
                "journal",
                seq=seq,
                recorded_at=started,
                incident_id="INC-Q",
                run_id=run_id,
                event="started",
                actor="test",
                detail="{}",
                prev_hash="",
                hash="",
            )
        add_candidate(con, "q2", "t-p", "p", incident="INC-Q")
        add_run(con, "q4", "pending_approval", "2025-01-08T02:00:00Z", incident="INC-Q2")
        add_customer(con, "q4", "q-other", name="Quinn Other")
    return warehouse_location


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("sam sealed", []),  # a run killed before its seal never answers support
        ("quinn sealing", []),
        ("rex rejected", []),  # nor one the gate rejected
        ("dee declined", [("r-d", "Dee Declined")]),  # finance declined it: it passed the gate
        # by the journal's order of starts, not the clocks: q2 is newer than q1
        ("quinn", [("q", "Quinn New"), ("q-other", "Quinn Other")]),
        ("quinn old", [("q", "Quinn New")]),  # an older name still finds them
        ("pat", [("p", "Pat Old")]),
    ],
)
def test_names_are_the_gate_passed_runs_and_shown_as_the_newest_started(runs_named, typed, found):
    with support.connect(runs_named) as con:
        rows = db.records(
            db.run(con, "support_customers_named", typed_name=typed, typos=0, limit=20)
        )
    assert [(row["customer_id"], row["name"]) for row in rows] == found


@pytest.mark.parametrize(
    ("address", "found"),
    [
        ("r-d@example.com", [("r-d",)]),  # declined by finance: it passed the gate
        ("r-s@example.com", []),  # seen only by a run killed while sealing
        ("r-x@example.com", []),  # only by a rejected run
    ],
)
def test_an_address_is_a_customer_s_as_sealed_runs_that_passed_the_gate_saw_it(
    runs_named, address, found
):
    with support.connect(runs_named) as con:
        assert db.run(con, "support_customer_by_email", email=address).fetchall() == found


def test_a_customer_missing_from_the_answering_run_is_shown_as_the_newest_sealed_run_saw_them(
    runs_named,
):
    # q2 answers INC-Q without p in its customer table: p as q1 saw them (Pat Old), not as q3,
    # still sealing, nor as q0, first in the journal whatever its clock said
    with support.connect(runs_named) as con:
        found = support.lookup(con, "p")
    assert found.customer["name"] == "Pat Old"


@pytest.mark.parametrize("query", ["jose lopes", "Maria Lopez"])
def test_a_name_with_a_blank_is_answered_as_a_name_not_as_an_id(con, query):
    # "jose lopes" said "customer jose lopes: no failed payment, ... or the id is mistyped; and
    # no payment jose lopes failed ...": a name read first as an id and a payment's
    with pytest.raises(InputError) as refused:
        support.search(con, query)
    said = str(refused.value)
    assert said.startswith(
        f"no customer's name matches '{query}', nor is it a customer's id or a payment's"
    )
    assert "mistyped" not in said and "no payment" not in said
