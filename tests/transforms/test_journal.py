"""The audit journal: append-only and hash-chained; an edit, a deletion or a move is detected."""

from __future__ import annotations

import pytest

from transforms import journal, warehouse


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
    assert journal.verify(con).tampered == ["journal entry 2: its content was changed after it was written"]


def test_an_edited_detail_is_detected(con):
    con.execute("""update journal set detail = '{"n": 99}' where seq = 3""")
    assert journal.verify(con).tampered == ["journal entry 3: its content was changed after it was written"]


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
