"""The ledger's entries: one row per payment instruction ever published, chained per incident.

Grain and key: entry_id (`<credit_id>-<nn>`, the nth payment of that credit). Each incident's
entries form one hash chain in `seq` order (1, 2, ...; see `chain`) over their canonical
content (seq, entry_id, credit_id, incident_id, customer_id, currency, amount_minor, batch_id,
run_id, published_at in microseconds since 1970 UTC), so an edited amount, a deleted entry or
an entry moved to another batch or incident breaks it; each batch trailer records the chain's
head after the batch, so entries cut off the end are found too. A batch's entries are inserted
at once from an Arrow table, and read back as Arrow columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa

from transforms import db
from transforms.finance import chain

CONTENT = (
    "entry_id",
    "credit_id",
    "incident_id",
    "customer_id",
    "currency",
    "amount_minor",
    "batch_id",
    "run_id",
    "published_at_us",
)
LINKS = ("seq", "prev_hash", "hash", "link")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Entry(NamedTuple):
    """One ledger entry, its content and its links (a tuple: the ledger can be long)."""

    entry_id: str
    credit_id: str
    incident_id: str
    customer_id: str
    currency: str
    amount_minor: int
    batch_id: str
    run_id: str
    published_at_us: int
    seq: int | None
    prev_hash: str | None
    hash: str | None
    link: str | None

    def linked(self) -> chain.Linked:
        """The entry as its incident's chain sees it."""
        return chain.Linked(
            f"ledger entry {self.entry_id} ({self.incident_id} #{self.seq})",
            -1 if self.seq is None else self.seq,
            self.prev_hash,
            self.hash,
            self.link,
            _body(self.seq, self[: len(CONTENT)]),
        )


def microseconds(at: datetime) -> int:
    """An instant as the ledger's content holds it: microseconds since 1970-01-01 UTC."""
    return (at - EPOCH) // timedelta(microseconds=1)


def append(
    con: duckdb.DuckDBPyConnection, incident_id: str, payments: pa.Table, key: bytes | None
) -> str:
    """Chains `payments` (the `CONTENT` columns) after the incident's head, in their order, and
    inserts them at once; returns the incident's new head (its old one when there are none)."""
    heads = _entries(db.arrow(con, "ledger_head", incident_id=incident_id))
    newest = heads[0] if heads else None
    chain.require_key(f"ledger of {incident_id}", newest.linked() if newest else None, key)
    seq, prev_hash = (newest.seq or 0, newest.hash or "") if newest else (0, chain.GENESIS)
    link = chain.link_for(key)
    links: dict[str, list[Any]] = {name: [] for name in LINKS}
    for content in zip(*(payments[name].to_pylist() for name in CONTENT), strict=True):
        seq += 1
        digest = chain.digest(link, key, prev_hash, _body(seq, content))
        for name, value in zip(LINKS, (seq, prev_hash, digest, link.value), strict=True):
            links[name].append(value)
        prev_hash = digest
    rows = payments.select(list(CONTENT))
    for name, values in links.items():
        rows = rows.append_column(name, pa.array(values))
    db.run_over(con, "ledger_append", rows)
    return prev_hash


def entries(con: duckdb.DuckDBPyConnection, incident_id: str | None = None) -> list[Entry]:
    """The ledger by incident and seq, optionally one incident's entries only."""
    return _entries(db.arrow(con, "ledger_entries", incident_id=incident_id))


def verify(found: Sequence[Entry], key: bytes | None) -> chain.Check:
    """Checks every incident's chain among `found` (ordered by incident and seq)."""
    by_incident: dict[str, list[chain.Linked]] = {}
    for entry in found:
        by_incident.setdefault(entry.incident_id, []).append(entry.linked())
    checks = [chain.verify(f"ledger of {i}", mine, key) for i, mine in by_incident.items()]
    return chain.Check(
        [p for c in checks for p in c.tampered],
        [p for c in checks for p in c.unverified],
        frozenset().union(*(c.hashes for c in checks)),
    )


def chain_unchained(con: duckdb.DuckDBPyConnection) -> int:
    """Chains entries written before the ledger was chained (plain links, per incident in the
    order they were published); returns how many. Run once, when the warehouse is upgraded."""
    found = _entries(db.arrow(con, "ledger_unchained"))
    links: dict[str, list[Any]] = {"entry_id": [], "seq": [], "prev_hash": [], "hash": []}
    heads: dict[str, tuple[int, str]] = {}
    for entry in found:
        seq, prev_hash = heads.get(entry.incident_id, (0, chain.GENESIS))
        content = entry[: len(CONTENT)]
        digest = chain.digest(chain.Link.SHA256, None, prev_hash, _body(seq + 1, content))
        for name, value in zip(links, (entry.entry_id, seq + 1, prev_hash, digest), strict=True):
            links[name].append(value)
        heads[entry.incident_id] = (seq + 1, digest)
    if found:
        db.run_over(con, "ledger_link", pa.table(links))
    return len(found)


def _entries(table: pa.Table) -> list[Entry]:
    columns = (table[name].to_pylist() for name in Entry._fields)
    return [Entry._make(row) for row in zip(*columns, strict=True)]


def _body(seq: int | None, content: Sequence[Any]) -> str:
    """The entry's canonical JSON (keys sorted, no spaces, UTF-8 as is: `chain.canonical` of
    the same mapping), written out field by field: a batch hashes every one of its entries."""
    entry_id, credit_id, incident_id, customer_id, currency, amount, batch_id, run_id, at = content
    return (
        f'{{"amount_minor":{_json(amount)},"batch_id":{_json(batch_id)},'
        f'"credit_id":{_json(credit_id)},"currency":{_json(currency)},'
        f'"customer_id":{_json(customer_id)},"entry_id":{_json(entry_id)},'
        f'"incident_id":{_json(incident_id)},"published_at_us":{_json(at)},'
        f'"run_id":{_json(run_id)},"seq":{_json(seq)}}}'
    )


def _json(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if type(value) is int:
        return int.__repr__(value)
    return chain.canonical(value)  # null, or whatever an edit put there
