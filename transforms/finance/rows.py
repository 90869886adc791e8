"""The finance layer's rows, typed: a run and a batch as the warehouse holds them (tables `runs`
and `batches`, `sql/warehouse_schema.sql`), read by one function each."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb

from transforms import commands, db
from transforms.errors import ProofFailed
from transforms.finance import chain
from transforms.runfolder.runs import RunStatus


class BatchState(StrEnum):
    """`writing`: its ledger entries committed, its files not final yet; `published`: its
    trailer (batch.json) is in the outbox."""

    WRITING = "writing"
    PUBLISHED = "published"


@dataclass(frozen=True)
class RunRow:
    """One run in the warehouse, with finance's decision on it."""

    run_id: str
    incident_id: str
    incident_title: str | None
    timezone: str
    window_start_utc: datetime
    window_end_utc: datetime
    status: RunStatus
    policy_version: str
    policy_sha256: str
    run_folder: Path
    started_at: datetime
    finished_at: datetime
    manifest: str  # the manifest's JSON as the warehouse recorded it
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    batch_id: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> RunRow:
        values = {f.name: row.get(f.name) for f in fields(cls)}
        values["status"] = _member(RunStatus, values["status"], f"run {values['run_id']}'s status")
        values["run_folder"] = Path(values["run_folder"])
        return cls(**values)


@dataclass(frozen=True)
class BatchRow:
    """One batch: what it pays, where its files go, and the heads its trailer records."""

    batch_id: str
    incident_id: str
    run_id: str
    kind: str
    row_count: int
    totals_minor: dict[str, int]
    entry_hash: str
    policy_version: str
    folder: Path
    state: BatchState
    approved_by: str
    created_at: datetime
    published_at: datetime | None
    journal_head: str | None  # null in batches published before version 2
    ledger_head: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> BatchRow:
        values = {f.name: row.get(f.name) for f in fields(cls)}
        with suppress(ValueError):  # nested too deep to read: as text, which no trailer matches
            values["totals_minor"] = chain.parsed(values["totals_minor"])
        values["folder"] = Path(values["folder"])
        values["state"] = _member(
            BatchState, values["state"], f"batch {values['batch_id']}'s state"
        )
        return cls(**values)


def _member(kind: type[StrEnum], value: Any, what: str) -> Any:
    """`value` as a member of `kind`; `ProofFailed` (exit 3) naming the row when it is none: a
    status or state no command writes was set on the server (the writer role may update these
    columns), which no command can act on."""
    try:
        return kind(value)
    except ValueError:
        raise ProofFailed(
            "the warehouse does not prove itself: nothing was paid or written",
            [
                f"{what} is {value!r} in the warehouse, which no command writes (only "
                f"{', '.join(kind)}): edited on the server; `{commands.credits('audit')}` lists "
                "the decisions "
                "the journal records"
            ],
        ) from None


def run(con: duckdb.DuckDBPyConnection, name: str, **parameters: Any) -> RunRow | None:
    """The first run `sql/<name>.sql` gives (None: none)."""
    found = runs(con, name, **parameters)
    return found[0] if found else None


def runs(con: duckdb.DuckDBPyConnection, name: str, **parameters: Any) -> list[RunRow]:
    return [RunRow.of(row) for row in db.records(db.run(con, name, **parameters))]


def batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> BatchRow | None:
    """The batch of that id (None: none)."""
    found = batches(con, "batch_by_id", batch_id=batch_id)
    return found[0] if found else None


def batches(con: duckdb.DuckDBPyConnection, name: str, **parameters: Any) -> list[BatchRow]:
    """The batches `sql/<name>.sql` gives."""
    return [BatchRow.of(row) for row in db.records(db.run(con, name, **parameters))]
