"""The ledger's chain: each incident's entries chained in seq order, so an edited amount, a
deleted entry or an entry moved to another batch, place or incident is named."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from transforms.errors import ConfigError
from transforms.finance import chain, ledger_entries, warehouse

AT = ledger_entries.microseconds(datetime(2025, 1, 8, 12, tzinfo=UTC))
CHANGED = "its content was changed after it was written"


def payments(incident_id: str, batch_id: str, *rows: tuple[str, int]) -> pa.Table:
    """Payment entries of one batch: (customer_id, amount_minor) each."""
    return pa.table(
        {
            "entry_id": [f"{incident_id}-{c}-01" for c, _ in rows],
            "credit_id": [f"{incident_id}-{c}" for c, _ in rows],
            "incident_id": [incident_id] * len(rows),
            "customer_id": [c for c, _ in rows],
            "currency": ["USD"] * len(rows),
            "amount_minor": pa.array([a for _, a in rows], pa.int64()),
            "batch_id": [batch_id] * len(rows),
            "run_id": ["r1"] * len(rows),
            "published_at_us": pa.array([AT] * len(rows), pa.int64()),
        }
    )


@pytest.fixture
def con(tmp_path):
    con = warehouse.connect(tmp_path / "wh.duckdb")
    ledger_entries.append(con, "A", payments("A", "A-B001", ("c1", 1000), ("c2", 500)), None)
    ledger_entries.append(con, "B", payments("B", "B-B001", ("c9", 700)), None)
    ledger_entries.append(con, "A", payments("A", "A-B002", ("c3", 900)), None)
    return con


def problems(con, key: bytes | None = None) -> list[str]:
    return ledger_entries.verify(ledger_entries.entries(con), key).tampered


def test_each_incident_has_its_own_chain_and_an_untouched_ledger_verifies(con):
    found = ledger_entries.entries(con)
    assert [(e.incident_id, e.seq, e.customer_id) for e in found] == [
        ("A", 1, "c1"),
        ("A", 2, "c2"),
        ("A", 3, "c3"),
        ("B", 1, "c9"),
    ]
    assert found[0].prev_hash == chain.GENESIS and found[1].prev_hash == found[0].hash
    assert problems(con) == []


def test_the_head_returned_is_the_newest_entry_of_the_incident(tmp_path):
    con = warehouse.connect(tmp_path / "wh.duckdb")
    head = ledger_entries.append(con, "A", payments("A", "A-B001", ("c1", 1000)), None)
    assert head == ledger_entries.entries(con, "A")[-1].hash
    # a batch with nothing to pay (only decreases) leaves the head where it was
    assert ledger_entries.append(con, "A", payments("A", "A-B002"), None) == head


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        # an amount raised after the fact
        (
            "update ledger set amount_minor = 5000 where entry_id = 'A-c2-01'",
            [f"ledger entry A-c2-01 (A #2): {CHANGED}"],
        ),
        # an entry deleted: the next one no longer follows
        (
            "delete from ledger where entry_id = 'A-c2-01'",
            [
                "ledger entry A-c3-01 (A #3): expected entry 2 here (deleted or reordered)",
                "ledger entry A-c3-01 (A #3): does not follow the entry before it",
            ],
        ),
        # an entry moved to another batch
        (
            "update ledger set batch_id = 'A-B002' where entry_id = 'A-c1-01'",
            [f"ledger entry A-c1-01 (A #1): {CHANGED}"],
        ),
        # an entry moved to another incident: changed, and a gap where it was
        (
            "update ledger set incident_id = 'B' where entry_id = 'A-c3-01'",
            [
                "ledger entry A-c3-01 (B #3): expected entry 2 here (deleted or reordered)",
                "ledger entry A-c3-01 (B #3): does not follow the entry before it",
                f"ledger entry A-c3-01 (B #3): {CHANGED}",
            ],
        ),
        # two entries swapped in the chain
        (
            "update ledger set seq = 3 - seq where incident_id = 'A' and seq in (1, 2)",
            [
                "ledger entry A-c2-01 (A #1): does not follow the entry before it",
                f"ledger entry A-c2-01 (A #1): {CHANGED}",
                "ledger entry A-c1-01 (A #2): does not follow the entry before it",
                f"ledger entry A-c1-01 (A #2): {CHANGED}",
                "ledger entry A-c3-01 (A #3): does not follow the entry before it",
            ],
        ),
        # an entry added by hand, without links
        (
            "insert into ledger (entry_id, credit_id, incident_id, customer_id, currency, "
            "amount_minor, batch_id, run_id, published_at) values ('A-c4-01', 'A-c4', 'A', "
            "'c4', 'USD', 100, 'A-B002', 'r1', now())",
            [
                "ledger entry A-c4-01 (A #None): has no valid seq, hash or link (written outside "
                "the code)"
            ],
        ),
    ],
)
def test_a_changed_ledger_names_the_entry(con, tamper, expected):
    con.execute(tamper)
    assert problems(con) == expected


def test_an_entry_cut_off_the_end_is_not_seen_by_the_chain_alone(con):
    # Documented limit: the batch trailers' ledger heads find this (see the finance tests).
    con.execute("delete from ledger where entry_id = 'A-c3-01'")
    assert problems(con) == []


def test_a_keyed_ledger_verifies_with_its_key_only(tmp_path):
    con = warehouse.connect(tmp_path / "wh.duckdb")
    key = b"k" * 32
    ledger_entries.append(con, "A", payments("A", "A-B001", ("c1", 1000)), None)
    ledger_entries.append(con, "A", payments("A", "A-B002", ("c2", 500), ("c3", 1)), key)
    assert [e.link for e in ledger_entries.entries(con)] == ["sha256"] + ["hmac-sha256"] * 2
    assert problems(con, key) == []
    found = ledger_entries.verify(ledger_entries.entries(con), None)
    assert found.tampered == [] and "2 keyed entries" in found.unverified[0]
    assert "none of its 2 keyed entries verifies" in problems(con, b"x" * 32)[0]
    with pytest.raises(ConfigError, match="the ledger of A is keyed"):
        ledger_entries.append(con, "A", payments("A", "A-B003", ("c4", 5)), None)


def test_the_canonical_text_is_the_sorted_compact_json_of_the_entry():
    content = ('e"1é\\', "c", "INC", "cus", "USD", 1500, "B", "r", AT)
    body = {"seq": 7, **dict(zip(ledger_entries.CONTENT, content, strict=True))}
    entry = ledger_entries.Entry(*content, 7, chain.GENESIS, None, "sha256")
    assert entry.linked().body == chain.canonical(body)
