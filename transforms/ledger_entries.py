"""The ledger's entries: one row per payment instruction ever published, chained per incident.

Grain and key: entry_id (`<credit_id>-<nn>`, the nth payment of that credit). Each incident's
entries form one hash chain in `seq` order (1, 2, ...; see `chain`) over their canonical
content (seq, entry_id, credit_id, incident_id, customer_id, currency, amount_minor, batch_id,
run_id, published_at), so an edited amount, a deleted entry or an entry moved to another batch
or incident breaks it; each batch trailer records the chain's head after the batch, so entries
cut off the end are found too. A batch's entries are inserted at once from an Arrow table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from transforms import chain, db

SCHEMA = pa.schema(
    [
        ("entry_id", pa.string()),
        ("credit_id", pa.string()),
        ("incident_id", pa.string()),
        ("customer_id", pa.string()),
        ("currency", pa.string()),
        ("amount_minor", pa.int64()),
        ("batch_id", pa.string()),
        ("run_id", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("seq", pa.int64()),
        ("prev_hash", pa.string()),
        ("hash", pa.string()),
        ("link", pa.string()),
    ]
)
CONTENT = tuple(SCHEMA.names[:9])


@dataclass(frozen=True)
class Entry:
    """One ledger entry, its content and its links."""

    entry_id: str
    credit_id: str
    incident_id: str
    customer_id: str
    currency: str
    amount_minor: int
    batch_id: str
    run_id: str
    published_at: datetime
    seq: int | None
    prev_hash: str | None
    hash: str | None
    link: str | None

    def linked(self) -> chain.Linked:
        """The entry as its incident's chain sees it."""
        return chain.Linked(
            f"ledger entry {self.entry_id} ({self.incident_id} #{self.seq})",
            self.seq if self.seq is not None else -1,
            self.prev_hash,
            self.hash,
            self.link,
            _body(self.seq, {name: getattr(self, name) for name in CONTENT}),
        )


def append(
    con: duckdb.DuckDBPyConnection,
    incident_id: str,
    payments: Sequence[dict[str, Any]],
    key: bytes | None,
) -> str:
    """Chains `payments` (each with the `CONTENT` columns) after the incident's head, in their
    order, and inserts them at once; returns the incident's new head (its old one if none)."""
    rows = db.records(db.run(con, "ledger_head", incident_id=incident_id))
    newest = Entry(**rows[0]) if rows else None
    chain.require_key(f"ledger of {incident_id}", newest.linked() if newest else None, key)
    seq, prev_hash = (newest.seq or 0, newest.hash or "") if newest else (0, chain.GENESIS)
    link = chain.link_for(key)
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for payment in payments:
        seq += 1
        digest = chain.digest(link, key, prev_hash, _body(seq, payment))
        for name in CONTENT:
            columns[name].append(payment[name])
        columns["seq"].append(seq)
        columns["prev_hash"].append(prev_hash)
        columns["hash"].append(digest)
        columns["link"].append(link.value)
        prev_hash = digest
    db.run_over(con, "ledger_append", pa.table(columns, schema=SCHEMA))
    return prev_hash


def entries(con: duckdb.DuckDBPyConnection, incident_id: str | None = None) -> list[Entry]:
    """The ledger by incident and seq, optionally one incident's entries only."""
    return [
        Entry(**row) for row in db.records(db.run(con, "ledger_entries", incident_id=incident_id))
    ]


def verify(entries_: Sequence[Entry], key: bytes | None) -> chain.Check:
    """Checks every incident's chain among `entries_` (ordered by incident and seq)."""
    checks = []
    for incident_id in dict.fromkeys(e.incident_id for e in entries_):
        mine = [e.linked() for e in entries_ if e.incident_id == incident_id]
        checks.append(chain.verify(f"ledger of {incident_id}", mine, key))
    return chain.Check(
        [p for c in checks for p in c.tampered],
        [p for c in checks for p in c.unverified],
        frozenset().union(*(c.hashes for c in checks)),
    )


def chain_unchained(con: duckdb.DuckDBPyConnection) -> int:
    """Chains entries written before the ledger was chained (plain links, per incident in the
    order they were published); returns how many. Run once, when the warehouse is upgraded."""
    found = [Entry(**row) for row in db.records(db.run(con, "ledger_unchained"))]
    links: dict[str, list[Any]] = {"entry_id": [], "seq": [], "prev_hash": [], "hash": []}
    heads: dict[str, tuple[int, str]] = {}
    for entry in found:
        seq, prev_hash = heads.get(entry.incident_id, (0, chain.GENESIS))
        content = {name: getattr(entry, name) for name in CONTENT}
        digest = chain.digest(chain.Link.SHA256, None, prev_hash, _body(seq + 1, content))
        for name, value in zip(links, (entry.entry_id, seq + 1, prev_hash, digest), strict=True):
            links[name].append(value)
        heads[entry.incident_id] = (seq + 1, digest)
    if found:
        db.run_over(con, "ledger_link", pa.table(links))
    return len(found)


def _body(seq: int | None, content: dict[str, Any]) -> dict[str, Any]:
    published_at = content["published_at"]
    return {
        **content,
        "seq": seq,
        "amount_minor": int(content["amount_minor"]),
        "published_at": published_at.astimezone(UTC).isoformat(),
    }
