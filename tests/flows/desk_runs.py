"""The finance desk's runs and approvals, remembered for the session: a step whose every input
and starting state a test before it already had is restored from that test's copy instead of
done again.

Most finance tests start the same way: the default run, or the default run then one with a
lowered policy, perhaps approved, from an empty warehouse. The flow and the approval give the
same warehouse rows and files for the same inputs and starting state, so the second test on a
worker takes a copy of what the first one's real steps left (the desk's folder, and the DuckDB
file or a PostgreSQL template database) and gets the same run id or decision. Each test still
works on its own copy: nothing is shared.

A step is restored only when all of this holds, else it is done for real (and no later step of
the test is restored):
- every earlier step of the test was a desk run or approval (real or restored) with the same
  settings, in the same order, from the same start (an empty warehouse): a CLI command, a
  tamper or a `write` of the desk, an approval with a `show` callback or off the main thread, a
  step that raised, or one whose PostgreSQL database could not be copied ends the chain;
- the desk's folder and the warehouse are exactly as the last step left them (every file's and
  folder's path and mode, a file's size, time and bytes; the DuckDB file's and WAL's bytes or
  the PostgreSQL rows), so a test that changed either by hand does the next step for real;
- the test has patched the same things through `monkeypatch` as the tests before it, and the
  environment and working folder are the same.
A restored state is checked against the kept one's fingerprint. Not seen: `mock.patch`,
`monkeypatch.context()` and state outside the desk's folder and warehouse; the finance tests
use none of them between steps.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Hashable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import adbc_driver_manager
import pytest

from tests import stores
from transforms.finance import pg_location, warehouse

# Every table's schema, name and the md5 of its rows, as text, in order.
TABLE_DIGESTS = """
select table_schema, table_name,
       md5(query_to_xml(format('select t::text as line from %I.%I t order by 1',
                               table_schema, table_name), false, false, '')::text)
from information_schema.tables
where table_schema not in ('pg_catalog', 'information_schema')
order by table_schema, table_name
"""

# The environment variables that are not an input of a run: pytest's note of the current test.
_NOT_INPUTS = frozenset({"PYTEST_CURRENT_TEST"})


class Key(NamedTuple):
    """What a remembered step is found by."""

    store: str  # one of `stores.STORES`
    environment: str  # sha256 of the environment (but pytest's note) and the working folder
    start: str  # the fingerprint of the state the desk started from (an empty warehouse)
    patched: Hashable  # what was patched when the desk was made (the desk's own GX answers)
    chain: tuple[str, ...]  # the steps so far, this one last


@dataclass(frozen=True)
class Snapshot:
    """What a real step left: a copy of the desk's folder, of the warehouse (a folder with the
    DuckDB file and its WAL if any, or a template database's name), the step's result (a
    run's id, an approval's decision) and the state's fingerprint."""

    folder: Path
    warehouse: Path | str
    result: object
    fingerprint: str


class DeskRuns:
    """The session's remembered desk steps, by `Key`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.snapshots: dict[Key, Snapshot] = {}
        self.hits = 0
        self._templates = ExitStack()  # the kept PostgreSQL databases, dropped by `close`
        self._server: str | None = None

    def server(self) -> str:
        """The PostgreSQL server's DSN, asked once (a database is copied from outside it)."""
        if self._server is None:
            self._server = stores.server()
        return self._server

    def key(
        self,
        location: warehouse.Location,
        start: str,
        patched: Hashable,
        chain: tuple[str, ...],
    ) -> Key:
        environment = sorted((k, v) for k, v in os.environ.items() if k not in _NOT_INPUTS)
        digest = hashlib.sha256(repr((environment, os.getcwd())).encode()).hexdigest()
        return Key(stores.kind(location), digest, start, patched, chain)

    def keep(self, key: Key, root: Path, location: warehouse.Location, result: object) -> bool:
        """Copies what a real step left; False if the store will not copy it now (someone is
        still connected to the database), and the test's later steps are real."""
        copy = self.folder / f"s{len(self.snapshots)}"
        if pg_location.is_url(location):
            try:
                kept: Path | str = self._templates.enter_context(
                    stores.database(self.server(), template=_name(location))
                )
            except adbc_driver_manager.Error:
                return False
        else:
            kept = copy / "warehouse"
            kept.mkdir(parents=True)
            for path in _duckdb_files(location):
                shutil.copy2(path, kept / path.name)
        shutil.copytree(root, copy / "root", symlinks=True)
        self.snapshots[key] = Snapshot(copy / "root", kept, result, fingerprint(root, location))
        return True

    def restore(
        self, snapshot: Snapshot, root: Path, location: warehouse.Location, databases: ExitStack
    ) -> warehouse.Location:
        """Puts a test's desk folder and warehouse in the snapshot's state, checks they are,
        and returns the warehouse: on PostgreSQL a new copy of the kept database, which
        `databases` drops."""
        empty(root)
        shutil.copytree(snapshot.folder, root, dirs_exist_ok=True, symlinks=True)
        if pg_location.is_url(location):
            template = _name(str(snapshot.warehouse))
            location = databases.enter_context(stores.database(self.server(), template=template))
        else:
            for path in _duckdb_files(location):
                path.unlink()
            for path in Path(snapshot.warehouse).iterdir():
                shutil.copy2(path, Path(location).parent / path.name)
        if fingerprint(root, location) != snapshot.fingerprint:
            raise AssertionError(f"the desk restored in {root} differs from what was kept")
        self.hits += 1
        return location

    def close(self) -> None:
        self._templates.close()


def patched(monkeypatch: pytest.MonkeyPatch) -> tuple | None:
    """What the test has patched through `monkeypatch`: each attribute's owner and name, each
    item's key (None: pytest no longer says, and no desk step is restored)."""
    try:
        attributes = [
            (getattr(owner, "__name__", type(owner).__name__), name)
            for owner, name, _ in monkeypatch._setattr
        ]
        items = [repr(key) for _, key, _ in monkeypatch._setitem]
    except AttributeError:
        return None
    return (*attributes, *items)


def fingerprint(root: Path, location: warehouse.Location) -> str:
    """sha256 of the desk's state: every file and folder under its folder (path, mode; a
    file's size, time and bytes; a link's target) and the warehouse (the DuckDB file's and its
    WAL's bytes; PostgreSQL's rows, table by table, hashed on the server)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_mode}\0".encode())
        if path.is_symlink():
            digest.update(os.readlink(path).encode() + b"\0")
        elif path.is_file():
            digest.update(f"{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(_warehouse_state(location).encode())
    return digest.hexdigest()


def empty(folder: Path) -> None:
    """Makes `folder` an empty folder, whatever a test left in it (read-only folders too)."""
    if folder.exists():
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _duckdb_files(location: Path) -> list[Path]:
    """The DuckDB warehouse's file and its WAL, those that exist."""
    return [p for p in (Path(location), Path(f"{location}.wal")) if p.exists()]


def _warehouse_state(location: warehouse.Location) -> str:
    if not pg_location.is_url(location):
        files = _duckdb_files(location)
        return repr([(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files])
    # every table's rows as text, hashed on the server (`format` quotes each name there)
    return repr(stores.fetch(location, TABLE_DIGESTS))


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
