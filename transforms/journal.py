"""The audit journal: an append-only, hash-chained record of what happened to every run.

Each entry's `hash` is the sha256 of the previous entry's hash and the entry's canonical JSON
(seq, at, incident_id, run_id, event, actor, detail), so editing, deleting or reordering an
entry breaks the chain at that point. Events: started, validated, rejected, approved,
declined, published. The chain cannot show that its newest entries were cut off; each batch
trailer in the outbox records the journal head at publication, which does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from transforms import db

GENESIS = "0" * 64


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


def append(
    con: duckdb.DuckDBPyConnection,
    event: str,
    *,
    actor: str,
    incident_id: str | None = None,
    run_id: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Entry:
    """Appends one entry after the current head (call it inside the writer's lock)."""
    head = db.run(con, "journal_head").fetchall()
    seq, prev_hash = (head[0][0] + 1, head[0][1]) if head else (1, GENESIS)
    at = (at or datetime.now(UTC)).astimezone(UTC)
    detail = detail or {}
    digest = _hash(prev_hash, seq, at, incident_id, run_id, event, actor, detail)
    db.run(
        con,
        "journal_append",
        seq=seq,
        recorded_at=at,
        incident_id=incident_id,
        run_id=run_id,
        event=event,
        actor=actor,
        detail=_canonical(detail),
        prev_hash=prev_hash,
        hash=digest,
    )
    return Entry(seq, at, incident_id, run_id, event, actor, detail, prev_hash, digest)


def entries(con: duckdb.DuckDBPyConnection, incident_id: str | None = None) -> list[Entry]:
    """The journal in order, optionally only one incident's entries."""
    found = [
        Entry(seq, at, incident, run, event, actor, json.loads(detail), prev, digest)
        for seq, at, incident, run, event, actor, detail, prev, digest in db.run(
            con, "journal_entries"
        ).fetchall()
    ]
    return [e for e in found if incident_id is None or e.incident_id == incident_id]


def verify(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every break in the chain, as a sentence naming the entry; empty when intact."""
    problems = []
    prev_hash, expected_seq = GENESIS, 1
    for entry in entries(con):
        if entry.seq != expected_seq:
            problems.append(
                f"entry {entry.seq}: expected entry {expected_seq} (deleted or reordered)"
            )
        if entry.prev_hash != prev_hash:
            problems.append(f"entry {entry.seq}: does not follow the entry before it")
        recomputed = _hash(
            entry.prev_hash,
            entry.seq,
            entry.at,
            entry.incident_id,
            entry.run_id,
            entry.event,
            entry.actor,
            entry.detail,
        )
        if recomputed != entry.hash:
            problems.append(f"entry {entry.seq}: its content was changed after it was written")
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    return problems


def head(con: duckdb.DuckDBPyConnection) -> str:
    """The hash of the newest entry (the genesis value for an empty journal)."""
    rows = db.run(con, "journal_head").fetchall()
    return rows[0][1] if rows else GENESIS


def _hash(prev_hash: str, seq: int, at: datetime, incident_id, run_id, event, actor, detail) -> str:
    body = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(),
        "incident_id": incident_id,
        "run_id": run_id,
        "event": event,
        "actor": actor,
        "detail": detail,
    }
    return hashlib.sha256((prev_hash + _canonical(body)).encode()).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
