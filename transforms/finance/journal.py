"""The audit journal: an append-only, hash-chained record of what happened to every run.

Each entry's `hash` links the previous entry's hash and the entry's canonical JSON (seq, at,
incident_id, run_id, event, actor, detail) with a sha256 or, under a key, an HMAC link (see
`chain`), so editing, deleting or reordering an entry breaks the chain at that point. Events:
started, validated, rejected, approved, declined, published, upgraded, moved (`credits
warehouse copy`: the DuckDB file's writers refuse from then on). The chain cannot show
that its newest entries were cut off, nor (sha256 links) that it was recomputed after an edit;
each batch trailer in the outbox records the journal head at publication, which does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import duckdb

from transforms import db
from transforms.finance import chain

GENESIS = chain.GENESIS
NAME = "journal"


@dataclass(frozen=True)
class Entry:
    """One journal entry."""

    seq: int
    at: datetime
    incident_id: str | None
    run_id: str | None
    event: str
    actor: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str
    link: str

    def linked(self) -> chain.Linked:
        """The entry as its chain sees it."""
        body = {
            "seq": self.seq,
            "at": self.at.astimezone(UTC).isoformat(),
            "incident_id": self.incident_id,
            "run_id": self.run_id,
            "event": self.event,
            "actor": self.actor,
            "detail": self.detail,
        }
        return chain.Linked(
            f"journal entry {self.seq}", self.seq, self.prev_hash, self.hash, self.link, body
        )


def append(
    con: duckdb.DuckDBPyConnection,
    event: str,
    *,
    actor: str,
    key: bytes | None,
    incident_id: str | None = None,
    run_id: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Entry:
    """Appends one entry after the current head (call it inside the writer's lock); `key` makes
    an HMAC link (a journal that already holds one refuses a writer without the key)."""
    last = newest(con)
    chain.require_key(NAME, last.linked() if last else None, key)
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = (at or datetime.now(UTC)).astimezone(UTC)
    link = chain.link_for(key)
    entry = Entry(seq, at, incident_id, run_id, event, actor, detail or {}, prev_hash, "", link)
    entry = replace(entry, hash=chain.digest(link, key, prev_hash, entry.linked().body))
    db.run(
        con,
        "journal_append",
        seq=seq,
        recorded_at=at,
        incident_id=incident_id,
        run_id=run_id,
        event=event,
        actor=actor,
        detail=chain.canonical(entry.detail),
        prev_hash=prev_hash,
        hash=entry.hash,
        link=link.value,
    )
    return entry


def require_key(con: duckdb.DuckDBPyConnection, key: bytes | None) -> None:
    """Refuses (`ConfigError`, exit 2) a writer without the journal's key, or with another one,
    as `append` does, before a command does anything else (`approve` checks the chains first,
    and a wrong key must not read as tampering); a key that verifies an earlier keyed entry is
    the journal's (`chain.require_key`)."""
    linked = [e.linked() for e in entries(con)]
    chain.require_key(NAME, linked[-1] if linked else None, key, linked[:-1])


def entries(con: duckdb.DuckDBPyConnection, incident_id: str | None = None) -> list[Entry]:
    """The journal in order, optionally only one incident's entries."""
    found = [_entry(row) for row in db.run(con, "journal_entries").fetchall()]
    return [e for e in found if incident_id is None or e.incident_id == incident_id]


def verify(con: duckdb.DuckDBPyConnection, key: bytes | None = None) -> chain.Check:
    """Every break in the chain, as a sentence naming the entry; keyed links unchecked without
    the key are reported apart."""
    return chain.verify(NAME, [e.linked() for e in entries(con)], key)


def head(con: duckdb.DuckDBPyConnection) -> str:
    """The hash of the newest entry (the genesis value for an empty journal)."""
    last = newest(con)
    return last.hash if last else GENESIS


def newest(con: duckdb.DuckDBPyConnection) -> Entry | None:
    """The newest entry (None: an empty journal)."""
    rows = db.run(con, "journal_head").fetchall()
    return _entry(rows[0]) if rows else None


NOT_AN_OBJECT = "(not an object)"  # the key a detail edited into another JSON value is under


def _entry(row: tuple) -> Entry:
    """An entry as the warehouse holds it. The product writes every detail as a JSON object;
    one edited into another value (a list, a string: PostgreSQL holds it as text) is read as
    `{NOT_AN_OBJECT: value}`, which its link no longer verifies (named as changed), so that no
    reader of the details fails on it."""
    seq, at, incident, run, event, actor, detail, prev, digest, link = row
    try:
        facts = chain.parsed(detail)
    except ValueError:  # nested too deep to read: as text, which its link no longer verifies
        facts = detail
    if not isinstance(facts, dict):
        facts = {NOT_AN_OBJECT: facts}
    return Entry(seq, at, incident, run, event, actor, facts, prev, digest, link)
