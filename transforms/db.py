"""DuckDB connections and the SQL models in `transforms/<stage>/sql/`, run with bound parameters.

A statement is named by its file name alone (`credits` is `reconcile/sql/credits.sql`): the names
are unique across the stages, so a caller never says which stage's folder holds it.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

ROOT = Path(__file__).parent
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
# The connections `connect` made that are still open, for `interrupt_all`.
_OPEN: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_OPEN_LOCK = threading.Lock()


def connect(
    database: Path | str = ":memory:", spill_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC, offline, spilling to `spill_dir` past its memory limit."""
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
        "TimeZone": "UTC",
        "memory_limit": "512MB",
        "preserve_insertion_order": False,
    }
    if spill_dir is not None:
        config["temp_directory"] = str(spill_dir)
    con = duckdb.connect(str(database), config=config)
    with _OPEN_LOCK:
        _OPEN.add(con)
    return con


def release_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Hands the memory DuckDB's allocator keeps cached for reuse back to the system, as the
    instance's end would: for a connection whose instance stays open after it (another
    connection to the same file holds it). Flushing on every bulk free while the setting is
    zero, it flushes at once."""
    con.execute("set allocator_bulk_deallocation_flush_threshold = '0MB'")
    con.execute("reset allocator_bulk_deallocation_flush_threshold")


def interrupt_all() -> None:
    """Interrupts the query each open connection runs, from any thread: a stopped `credits
    run` does not wait for a long scan to end (the query fails with DuckDB's interrupt)."""
    with _OPEN_LOCK:
        running = list(_OPEN)
    for con in running:
        with suppress(Exception):  # closed meanwhile: nothing to interrupt
            con.interrupt()


_ON_COMMIT: dict[int, Callable[[], None]] = {}
_ON_FINAL: dict[int, Callable[[], None]] = {}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The block as one transaction: committed when it ends, rolled back when it raises (any
    exception, an interrupt included), which is then raised again. A connection given a hook
    (`on_commit`) runs it after each commit: a PostgreSQL store's mirror sends it to the server.
    """
    con.begin()
    try:
        yield con
    except BaseException:
        # A rollback that fails (the transaction already ended, with a full disk writing the
        # WAL) must never hide the error that brought us here.
        with suppress(duckdb.Error):
            con.rollback()
        raise
    # Outside the `try`: a commit that fails has ended the transaction already, and its own error
    # (a full disk) is the one to raise, not a rollback's "no transaction is active".
    con.commit()
    hook = _ON_COMMIT.get(id(con))
    if hook is not None:
        hook()


@contextmanager
def on_commit(con: duckdb.DuckDBPyConnection, hook: Callable[[], None]) -> Iterator[None]:
    """Runs `hook` after every `transaction(con)` that commits inside the block."""
    _ON_COMMIT[id(con)] = hook
    try:
        yield
    finally:
        _ON_COMMIT.pop(id(con), None)


@contextmanager
def on_final(con: duckdb.DuckDBPyConnection, hook: Callable[[], None]) -> Iterator[None]:
    """Runs `hook` before each file that makes work final is written (`before_final`): a
    PostgreSQL store's writer checks that it still holds the store's writer lock."""
    _ON_FINAL[id(con)] = hook
    try:
        yield
    finally:
        _ON_FINAL.pop(id(con), None)


def before_final(con: duckdb.DuckDBPyConnection) -> None:
    """Called just before a file that makes work final (a batch's trailer) is written."""
    hook = _ON_FINAL.get(id(con))
    if hook is not None:
        hook()


def sql_files() -> dict[str, list[Path]]:
    """Every statement's name and the files of that name under `transforms/*/sql/`."""
    found: dict[str, list[Path]] = {}
    for path in sorted(ROOT.glob("*/sql/*.sql")):
        found.setdefault(path.stem, []).append(path)
    return found


@cache
def _paths() -> dict[str, Path]:
    return {name: paths[0] for name, paths in sql_files().items()}


@cache
def statement(name: str) -> str:
    """The text of `<stage>/sql/<name>.sql`."""
    try:
        path = _paths()[name]
    except KeyError:
        raise FileNotFoundError(f"no statement {name}.sql under {ROOT}/*/sql/") from None
    return path.read_text(encoding="utf-8")


def run(con: duckdb.DuckDBPyConnection, name: str, **parameters: Any) -> duckdb.DuckDBPyConnection:
    """Runs `sql/<name>.sql`, binding the parameters it names (and only those); fetch from it."""
    return con.execute(*_bound(name, parameters))


def arrow(con: duckdb.DuckDBPyConnection, name: str, **parameters: Any) -> pa.Table:
    """The rows of `sql/<name>.sql` (parameters bound as in `run`) as an Arrow table."""
    return relation(con, name, **parameters).to_arrow_table()


def relation(
    con: duckdb.DuckDBPyConnection, name: str, **parameters: Any
) -> duckdb.DuckDBPyRelation:
    """`sql/<name>.sql` (parameters bound as in `run`) as a relation, to read or to register."""
    sql, bound = _bound(name, parameters)
    return con.sql(sql, params=bound)


def _bound(name: str, parameters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    sql = statement(name)
    wanted = set(_PARAMETER.findall(re.sub(r"--[^\n]*", "", sql)))
    missing = wanted - parameters.keys()
    if missing:
        raise TypeError(f"{name}.sql needs parameters {sorted(missing)}")
    return sql, {key: parameters[key] for key in sorted(wanted)}


def fragment(
    name: str, tag: str, views: tuple[str, ...], parameters: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """`sql/<name>.sql` as a part of a larger statement (a CTE's body), with the values it
    binds: its comments dropped, and the `views` it reads and its parameters suffixed with
    `_<tag>`, so that several parts, each with its own views and values, sit in one statement.
    Text only: a `--` or `$` inside a string literal would be taken for a comment or a parameter
    (no statement made a part holds one: `tests/transforms/test_db.py`)."""
    sql, bound = _bound(name, parameters)
    sql = re.sub(r"--[^\n]*", "", sql)
    if views:
        sql = re.sub(rf"\b({'|'.join(map(re.escape, views))})\b", rf"\1_{tag}", sql)
    sql = _PARAMETER.sub(rf"$\1_{tag}", sql)
    return sql, {f"{key}_{tag}": value for key, value in bound.items()}


def run_over(
    con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table, **parameters: Any
) -> duckdb.DuckDBPyConnection:
    """Runs `sql/<name>.sql` with `rows` readable as the table `arrow_rows`: bulk, in one step."""
    con.register("arrow_rows", rows)
    try:
        return run(con, name, **parameters)
    finally:
        con.unregister("arrow_rows")


def records(result: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every row of an executed statement as a dict keyed by column name."""
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
