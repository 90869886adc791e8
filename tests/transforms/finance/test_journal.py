"""The audit journal: append-only and hash-chained; an edit, a deletion or a move is detected.
With a key the links are HMACs: unverifiable without it, failing with another, and a chain can
go from plain links to keyed ones but never back."""

from __future__ import annotations

import pytest

from transforms.errors import ConfigError
from transforms.finance import chain, journal, warehouse

KEY = b"k" * 32
CHANGED = "its content was changed after it was written"


@pytest.fixture
def con(tmp_path):
    con = warehouse.connect(tmp_path / "wh.duckdb")
    for n, event in enumerate(["started", "validated", "approved", "published"], start=1):
        journal.append(
            con,
            event,
            actor="alice",
            key=None,
            incident_id="INC-1",
            run_id=f"r{n % 2}",
            detail={"n": n},
        )
    return con


def test_an_untouched_journal_verifies_and_chains(con):
    entries = journal.entries(con)
    assert [e.event for e in entries] == ["started", "validated", "approved", "published"]
    assert entries[0].prev_hash == journal.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert journal.verify(con).tampered == []


def test_an_edited_entry_is_detected(con):
    con.execute("update journal set actor = 'mallory' where seq = 2")
    assert journal.verify(con).tampered == [f"journal entry 2: {CHANGED}"]


def test_an_edited_detail_is_detected(con):
    con.execute("""update journal set detail = '{"n": 99}' where seq = 3""")
    assert journal.verify(con).tampered == [f"journal entry 3: {CHANGED}"]


def test_a_deleted_entry_is_detected(con):
    con.execute("delete from journal where seq = 2")
    assert journal.verify(con).tampered == [
        "journal entry 3: expected entry 2 here (deleted or reordered)",
        "journal entry 3: does not follow the entry before it",
    ]


def test_reordered_entries_are_detected(con):
    con.execute(
        "update journal set seq = case seq when 2 then 3 when 3 then 2 end where seq in (2, 3)"
    )
    problems = journal.verify(con).tampered
    assert "journal entry 2: its content was changed after it was written" in problems
    assert "journal entry 2: does not follow the entry before it" in problems


def test_entries_filter_by_incident(con):
    journal.append(con, "started", actor="pipeline", key=None, incident_id="INC-2", run_id="x")
    assert [e.seq for e in journal.entries(con, "INC-2")] == [5]
    assert journal.verify(con).tampered == []


def keyed(con, key: bytes | None, n: int = 2) -> None:
    for _ in range(n):
        journal.append(con, "approved", actor="bob", key=key, incident_id="INC-1", run_id="r1")


def test_keyed_entries_verify_with_their_key_after_plain_ones(con):
    keyed(con, KEY)  # a key added to a warehouse that started without one
    assert [e.link for e in journal.entries(con)] == ["sha256"] * 4 + ["hmac-sha256"] * 2
    found = journal.verify(con, KEY)
    assert (found.tampered, found.unverified) == ([], [])


def test_keyed_entries_without_the_key_are_unverified_not_tampered(con):
    keyed(con, KEY)
    found = journal.verify(con, None)
    assert found.tampered == []
    assert found.unverified == [
        "journal: 2 keyed entries (the first: journal entry 5) cannot be checked without "
        "CREDITS_JOURNAL_KEY; their links were followed, their content not"
    ]


def test_keyed_entries_fail_with_another_key(con):
    keyed(con, KEY)
    (problem,) = journal.verify(con, b"x" * 32).tampered
    assert problem.startswith("journal: none of its 2 keyed entries verifies with")


def test_an_edited_keyed_entry_fails_with_the_key(con):
    keyed(con, KEY)
    con.execute("update journal set actor = 'mallory' where seq = 6")
    assert journal.verify(con, KEY).tampered == [
        f"journal entry 6: {CHANGED} (or CREDITS_JOURNAL_KEY is not the key it was written with)"
    ]


def test_a_keyed_chain_recomputed_with_plain_links_is_detected(con):
    keyed(con, KEY)
    # Whoever lacks the key rewrites the keyed entries as plain sha256 links: the chain holds,
    # but a plain link may never follow a keyed one, and the first rewritten one breaks it.
    con.execute("update journal set link = 'sha256' where seq = 6")
    entry = journal.entries(con)[5]
    digest = chain.digest(chain.Link.SHA256, None, entry.prev_hash, entry.linked().body)
    con.execute("update journal set hash = $1 where seq = 6", [digest])
    assert journal.verify(con, KEY).tampered == [
        "journal entry 6: a plain sha256 link after keyed ones (written without the key, or "
        "rewritten)"
    ]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "the journal is keyed"),  # a writer that forgot the key
        (b"x" * 32, "does not verify the newest journal entry"),  # a writer with another key
    ],
)
def test_a_keyed_journal_refuses_a_writer_without_its_key(con, key, message):
    keyed(con, KEY, 1)
    with pytest.raises(ConfigError, match=message):
        keyed(con, key, 1)
    assert len(journal.entries(con)) == 5


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "the journal is keyed"),  # no key
        (b"x" * 32, "does not verify the newest journal entry"),  # another key
    ],
)
def test_a_writer_s_key_is_checked_before_anything_else(con, key, message):
    keyed(con, KEY)
    with pytest.raises(ConfigError, match=message):
        journal.require_key(con, key)
    journal.require_key(con, KEY)  # its own key


def test_a_newest_entry_changed_under_the_right_key_is_tampering_not_a_wrong_key(con):
    keyed(con, KEY)
    con.execute("update journal set actor = 'mallory' where seq = 6")
    journal.require_key(con, KEY)  # it verifies entry 5: the chain's check names entry 6
    assert journal.verify(con, KEY).tampered[0].startswith(f"journal entry 6: {CHANGED}")
    with pytest.raises(ConfigError, match="does not verify the newest journal entry"):
        journal.require_key(con, b"x" * 32)


def test_a_plain_journal_needs_no_key(con):
    journal.require_key(con, None)
    journal.require_key(con, KEY)  # a key added later: its first keyed entry comes next


DEEP = "[" * 100_000 + "]" * 100_000  # valid JSON, deeper than Python's json decodes


def test_a_detail_edited_into_json_nested_too_deep_to_read_is_named(con):
    # `audit --verify` stopped with "internal error: RecursionError" (exit 1) on it.
    con.execute("update journal set detail = $deep where seq = 2", {"deep": DEEP})
    assert journal.verify(con).tampered == [f"journal entry 2: {CHANGED}"]
