"""The warehouse's schema on a DuckDB file: its version, whether a reader can read it as it is,
and a writer's upgrade of one an earlier version made (`SCHEMA_VERSION`: 2 chained the ledger,
3 split an exception's amount in two), once a process while its catalog is unchanged."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from transforms import db
from transforms.finance import journal, ledger_entries

ACTOR = "pipeline"
SCHEMA_VERSION = 3


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a reader can read the warehouse as it is: its schema's version, and the views
    this build reads (a view added without a new version: a writer makes it)."""
    return (
        schema_version(con) >= SCHEMA_VERSION
        and db.run(con, "warehouse_views_current").fetchall()[0][0]
    )


def opened(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
    """A DuckDB file's connection made ready to read: a writer's file brought to the current
    schema first (`upgrade`), then this build's own views given to it (`shadow_views`)."""
    if not read_only:
        upgrade(con, path)
    shadow_views(con)


def shadow_views(con: duckdb.DuckDBPyConnection) -> None:
    """Gives the connection this build's own views (`paid_credits`, `runs_ordered`, ...) as
    temporary views, which DuckDB resolves before the file's: what is paid and which run is the
    newest are never read from a view whoever can write the file re-created (keeping its name
    and columns, which `upgrade`'s digest compares, a process that had opened the file read it;
    a reader always did). Only on a current schema (`is_current`): an older file's tables may
    lack what the views read (its reader upgrades it first: `warehouse.connect_current`)."""
    if not is_current(con):
        return
    for statement in _temporary_views():
        con.execute(statement)


@cache
def _temporary_views() -> tuple[str, ...]:
    """The schema's `create or replace view` statements, each as a temporary view, in order."""
    text = db.statement("warehouse_schema")
    found = re.findall(r"^create or replace view\b.*?;$", text, flags=re.M | re.S)
    return tuple(
        s.replace("create or replace view", "create or replace temp view", 1) for s in found
    )


def views_not_this_build(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Each of this build's views whose definition in the DuckDB file is another (re-created
    behind the product's back, or by an earlier build no writer of this one followed), as a
    warning: every command reads its own (`shadow_views`), a tool opening the file itself the
    file's. The next writer (`upgrade`, in a new process) writes this build's again."""
    own = _own_views()
    return [
        f"view {name} in the DuckDB file is not this version's definition: every credits "
        "command reads its own, but a notebook or a tool opening the file itself reads this "
        "one (what is paid, which run is the newest); the next `credits run`, `approve` or "
        "`decline` writes this version's again"
        for name, sql in sorted(_views(con).items())
        if name in own and sql != own[name]
    ]


@cache
def _own_views() -> dict[str, str]:
    """This build's views, made in a database of their own (`_views`)."""
    with db.connect() as con:
        con.execute(db.statement("warehouse_schema"))
        return _views(con)


def _views(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The views of `con`'s database as DuckDB records their definitions, each `EXCLUDE (...)`
    list sorted (DuckDB records its columns in no fixed order)."""
    return {
        name: re.sub(
            r"EXCLUDE \(([^)]*)\)",
            lambda m: f"EXCLUDE ({', '.join(sorted(m.group(1).split(', ')))})",
            sql,
        )
        for name, sql in db.run(con, "warehouse_views_defined").fetchall()
    }


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version of the warehouse's schema (1: made before versions were recorded)."""
    try:
        return db.run(con, "schema_version").fetchall()[0][0] or 1
    except duckdb.CatalogException:
        return 1


# The DuckDB warehouses this process brought to this build's schema: each one's catalog digest
# then (`warehouse_catalog_fingerprint`), by its resolved path.
_UPGRADED: dict[Path, str] = {}


def upgrade(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Brings the schema to `SCHEMA_VERSION`: the columns are added by the schema's statements
    (idempotent); what must happen once (chaining the ledger's older entries) happens here.

    Once a process: a warehouse whose catalog is still the one this process's last upgrade of
    it left (its digest, a few ms) is not upgraded again (the schema's statements, about 20 ms,
    and the views they re-create written at close). Any other process's change to its tables,
    columns, views' names or version (its own upgrade, the file replaced by an older one)
    changes the digest, and the upgrade runs again; a view another build re-created under the
    same name and columns is left as it is, as readers leave it (`is_current`)."""
    key = path.resolve()
    if key in _UPGRADED and _UPGRADED[key] == _catalog_digest(con):
        return
    _upgrade_schema(con)
    _UPGRADED[key] = _catalog_digest(con)


def _catalog_digest(con: duckdb.DuckDBPyConnection) -> str | None:
    """The catalog's digest; None for a file without the warehouse's `schema_versions`."""
    try:
        return db.run(con, "warehouse_catalog_fingerprint").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def _upgrade_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(db.statement("warehouse_schema"))
    if db.run(con, "warehouse_exceptions_unsplit").fetchall():
        _split_exception_amounts(con)
    if db.run(con, "warehouse_keyed_run_tables").fetchall():
        _unkey_run_tables(con)
    if schema_version(con) >= SCHEMA_VERSION:
        return
    with db.transaction(con):
        db.run(con, "journal_link_plain")
        chained = ledger_entries.chain_unchained(con)
        if journal.entries(con):
            journal.append(
                con,
                "upgraded",
                actor=ACTOR,
                key=None,
                detail={"schema_version": SCHEMA_VERSION, "ledger_entries_chained": chained},
            )
        db.run(con, "schema_version_record", version=SCHEMA_VERSION, at=datetime.now(UTC))


def _split_exception_amounts(con: duckdb.DuckDBPyConnection) -> None:
    """Version 3: run_exceptions' `amount_minor` (the credit owed on a credit line's exception,
    the failed amount on a transaction's) into `credit_owed_minor` and `failed_amount_minor`."""
    with db.transaction(con):
        db.run(con, "warehouse_exceptions_split")
        db.run(con, "warehouse_exceptions_drop_amount")


def _unkey_run_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuilds the per-run tables of a warehouse made when they had keys, keeping every row.

    Their keys refused a rejected run's rows (a duplicated txn_id); see warehouse_schema.sql.
    Writers hold the write lock; readers never migrate (they read either form alike).
    """
    with db.transaction(con):
        con.execute(db.statement("warehouse_unkey_rename"))
        con.execute(db.statement("warehouse_schema"))
        con.execute(db.statement("warehouse_unkey_copy"))
