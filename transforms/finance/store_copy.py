"""Moving a DuckDB warehouse into an empty PostgreSQL store, chains and all
(`credits warehouse copy`).

What a copy guarantees:

* **Into an empty store only.** A store holding a run, a batch, a ledger or journal entry is
  refused (`TargetNotEmpty`, exit 2): checked before the source is opened, and again under the
  store's writer lock, so that a copy never mixes with another copy or a run.
* **From the current schema, proved.** The source is opened as every reader of it is
  (`warehouse.connect_current`: a warehouse an earlier version made is upgraded in place, once)
  and must prove itself first: a journal or ledger chain that breaks there is not moved
  (`ProofFailed`, exit 3), nor are keyed links that cannot be checked without the key.
* **All or nothing.** Every table of `pg_store.TABLES` goes in bulk (the store's append path:
  ADBC's COPY, streamed in record batches) in ONE server transaction under the writer lock,
  which also makes the tables when the database has none (`pg_store.loader`).
* **Verified before it commits.** The target is read back through that transaction into a
  DuckDB mirror, as any reader of the store reads it, and compared with the source: each
  table's row count and content fingerprint (`sql/store_copy_fingerprint.sql`), and the
  journal's and every incident's ledger chain must verify there. A difference rolls the
  transaction back (`CopyMismatch`, exit 3): the target is left as it was found.

The source is held open read-write, under its write lock, from the read to the record of the
move: a run, an approval or a reader of it waits for the copy (60 s), so the copy is of one
state of it, and a writer then finds the file moved and refuses (`warehouse.require_not_moved`).
The move is journaled in the file twice: `moving` just before the store commits, `moved` once it
did. A copy killed between the two leaves `moving`, which refuses writers as `moved` does, since
the store may have committed: never two writable warehouses with a ledger each. (Killed before
`moving`, the store rolls back and the file is as it was.) The outbox is
not moved; `credits audit --verify --warehouse URL` checks the copied store against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import commands, db
from transforms.errors import ConfigError, ProofFailed, StorageError
from transforms.finance import (
    chain,
    journal,
    ledger_entries,
    pg_location,
    pg_session,
    pg_store,
    proof,
    warehouse,
)

# What is compared of each table: every column, except of schema_versions, whose rows a store
# made before the copy keeps with its own time (`store_insert_versions.sql`): its versions alone.
COMPARED_COLUMNS = {"schema_versions": ("version",)}
INSERTS = {"schema_versions": "store_insert_versions"}  # every other table: store_insert
SHOWN = 20  # chain findings listed before "and N more"


class TargetNotEmpty(ConfigError):
    """The PostgreSQL store already holds runs, batches or chains (exit 2)."""


class CopyMismatch(ProofFailed):
    """What the target holds after the load is not what the source holds (exit 3): nothing was
    committed."""


@dataclass(frozen=True)
class Chains:
    """The journal's and the ledger's chains in one warehouse, and what their check found."""

    journal_entries: int
    ledger_entries: int
    ledger_chains: int
    keyed: bool
    tampered: tuple[str, ...]
    unverified: tuple[str, ...]


@dataclass(frozen=True)
class Copied:
    """What a copy committed: each table's rows (in `pg_store.TABLES` order), equal on both
    sides, and the chains verified on the target."""

    source: Path
    target: str  # the URL as messages show it: its password masked
    rows: dict[str, int]
    chains: Chains


def copy(source: Path | str, target: str, key: bytes | None) -> Copied:
    """Copies the DuckDB warehouse at `source` into the empty PostgreSQL store `target`, in one
    server transaction, verified before it commits (see the module's docstring)."""
    path = _require_locations(source, target)
    if not pg_store.empty(target):  # before the source is upgraded or read: nothing to undo
        raise _not_empty(target)
    with warehouse.connect_current(path) as con:  # a warehouse, upgraded first if older
        proof.require_tables(con)  # before a read-write open would make a dropped one again
    # One read-write connection from the read to the record of the move: DuckDB keeps every
    # other process out of the file meanwhile, by whatever path or link it is reached, so a
    # writer that waited for the copy finds the file moved rather than paying what the store
    # will pay too.
    with warehouse.write_lock(path), warehouse.connect(path) as con:
        _require_proved(path, _chains(con, key))
        found, after = _load(con, path, target, key)
        _record(con, path, target, key, "moved")  # still in the same connection
    rows = {name: count for name, (count, _) in found.items()}
    return Copied(path, pg_location.shown(target), rows, after)


def _load(
    con: duckdb.DuckDBPyConnection, path: Path, target: str, key: bytes | None
) -> tuple[dict[str, tuple[int, str]], Chains]:
    """Every table of the file (`con`) into the empty store `target`, in one transaction,
    read back and compared before it commits: each table's fingerprint, and its chains. The
    file records `moving` just before the commit: from then on it refuses writers, whether
    the commit is done, fails or is killed half way (its outcome then unknown here)."""
    # Its commit's outcome unknown, the copy run again into a store that holds it is refused
    verify = commands.credits(commands.verify_at(pg_location.shown(target)))
    then = (
        f"`{verify}` shows whether the store holds the copy: if it does, run and approve there; "
        "if it is empty, run the copy again"
    )
    with pg_store.loader(
        target, warehouse.LOCK_WAIT_SECONDS, warehouse.WarehouseBusy, then
    ) as store:
        if not pg_store.holds_nothing(store.row_counts()):  # written since the first look
            raise _not_empty(target)
        columns = {t.name: store.columns(t.name) for t in pg_store.TABLES}
        expected = _fingerprints(con, columns)
        for table in pg_store.TABLES:
            select = pg_session.statement(
                "store_select", table=table.name, columns=", ".join(columns[table.name])
            )
            insert = INSERTS.get(table.name, "store_insert")
            store.append(table.name, con.sql(select).to_arrow_reader(), insert)
        store.copy_in()  # read back through the transaction: what a reader will see
        found = _fingerprints(store.mirror, columns)
        after = _chains(store.mirror, key)
        problems = _differences(expected, found) + [*after.tampered, *after.unverified]
        if problems:
            raise CopyMismatch(
                f"the copy of {path} into {pg_location.shown(target)} does not match its source; "
                "it was rolled back, the target holds nothing of it. Report this with the "
                "findings below",
                problems[:SHOWN],
            )
        _record(con, path, target, key, "moving")  # then the commit, as the block ends
    return found, after


def _record(
    con: duckdb.DuckDBPyConnection, path: Path, target: str, key: bytes | None, event: str
) -> None:
    """Journals a step of the move in the DuckDB file (`con`, the copy's own connection):
    `moving` just before the store commits, `moved` once it did. From `moving` on a writer
    refuses the file (`warehouse.require_not_moved`), so that runs and approvals cannot go on in
    both."""
    try:
        with db.transaction(con):
            journal.append(
                con, event, actor=warehouse.ACTOR, key=key, detail={"to": pg_location.shown(target)}
            )
    except (OSError, duckdb.Error) as error:
        if event == "moving":
            raise StorageError(
                f"{path}: cannot record the copy's start ({error}); nothing was copied"
            ) from None
        raise StorageError(
            f"copied into {pg_location.shown(target)} and committed there, but {path} could not "
            f"record the move ({error}): run and approve on the store only, never on the file "
            "again (it refuses writers: its copy's start is recorded)"
        ) from None


def _require_locations(source: Path | str, target: str) -> Path:
    if pg_location.is_url(source):
        raise ConfigError(
            f"--from {pg_location.shown(str(source))}: the copy's source is a DuckDB warehouse file"
        )
    pg_location.require_location(target, "--to")
    if not pg_location.is_url(target):
        raise ConfigError(
            f"--to {target}: the copy's target is a PostgreSQL store, a "
            "postgresql://user@host:port/database URL"
        )
    return Path(source)


def _not_empty(target: str) -> TargetNotEmpty:
    return TargetNotEmpty(
        f"warehouse {pg_location.shown(target)}: not empty (it holds runs, batches or journal "
        "entries): a copy goes only into an empty store, so that nothing already there mixes "
        "with the copied chains. Create a new database (`createdb`) and copy into it; nothing "
        "was read or written"
    )


def _fingerprints(
    con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]]
) -> dict[str, tuple[int, int]]:
    """Each table's row count and content fingerprint (over `COMPARED_COLUMNS`, else over
    `columns`, the warehouse schema's)."""
    found = {}
    for table in pg_store.TABLES:
        compared = ", ".join(COMPARED_COLUMNS.get(table.name, columns[table.name]))
        sql = pg_session.statement("store_copy_fingerprint", table=table.name, columns=compared)
        rows, fingerprint = con.execute(sql).fetchall()[0]
        found[table.name] = (rows, int(fingerprint))
    return found


def _chains(con: duckdb.DuckDBPyConnection, key: bytes | None) -> Chains:
    """The journal's chain and every incident's ledger chain, checked (with `key`, if any)."""
    entries = journal.entries(con)
    ledger = ledger_entries.entries(con)
    journal_check = chain.verify(journal.NAME, [e.linked() for e in entries], key)
    ledger_check = ledger_entries.verify(ledger, key)
    links = {e.link for e in entries} | {e.link for e in ledger}
    return Chains(
        len(entries),
        len(ledger),
        len({e.incident_id for e in ledger}),
        chain.Link.HMAC in links,
        (*journal_check.tampered, *ledger_check.tampered),
        (*journal_check.unverified, *ledger_check.unverified),
    )


def _verify(source: Path) -> str:
    return commands.credits(commands.verify_at(source))


def _require_proved(source: Path, found: Chains) -> None:
    if found.tampered:
        raise ProofFailed(
            f"{source}: its journal or ledger does not prove itself, so it is not copied; "
            f"nothing was written. `{_verify(source)}` lists every finding",
            list(found.tampered[:SHOWN]),
        )
    if found.unverified:
        raise ConfigError(
            f"{source}: its chains have keyed links: set {chain.KEY_VARIABLE} so that the copy "
            "can verify them; nothing was written"
        )


def _differences(
    expected: dict[str, tuple[int, int]], found: dict[str, tuple[int, int]]
) -> list[str]:
    """Each table whose rows differ between the source and the target, as a sentence."""
    problems = []
    for name, (rows, fingerprint) in expected.items():
        got_rows, got_fingerprint = found[name]
        if got_rows != rows:
            problems.append(f"{name}: {rows:,} row(s) in the source, {got_rows:,} in the target")
        elif got_fingerprint != fingerprint:
            problems.append(f"{name}: {rows:,} row(s) on each side, but their content differs")
    return problems
