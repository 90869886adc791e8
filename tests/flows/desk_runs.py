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
  settings, in the same order, from an empty warehouse: a CLI command, a tamper or a `write`
  of the desk, or an approval with a `show` callback or off the main thread, ends the chain;
- the desk's folder and the warehouse are exactly as the last step left them (every file's
  path, size, time and bytes; the DuckDB file's bytes or the PostgreSQL rows), so a test that
  changed either by hand does the next step for real;
- the test has patched nothing since the desk was made (`monkeypatch`'s own record) and the
  environment is the same.
Steps that raise (a rejected or killed run, a refused approval) are never remembered.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import adbc_driver_postgresql.dbapi

from tests import stores
from transforms.finance import warehouse

# The environment variables that are not an input of a run: pytest's note of the current test.
_NOT_INPUTS = frozenset({"PYTEST_CURRENT_TEST"})


@dataclass(frozen=True)
class Snapshot:
    """What a real step left: a copy of the desk's folder, of the warehouse (a DuckDB file's
    copy, or a template database's name), the step's result (a run's id, an approval's
    decision) and the state's fingerprint."""

    folder: Path
    warehouse: Path | str
    result: object
    fingerprint: str


class DeskRuns:
    """The session's remembered desk steps, by store, environment and chain of steps."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.snapshots: dict[tuple, Snapshot] = {}
        self.hits = 0
        self._templates: list[str] = []
        self._server: str | None = None

    def server(self) -> str:
        """The PostgreSQL server's DSN, asked once (a database cannot be copied or dropped
        from inside itself)."""
        if self._server is None:
            self._server = stores.server()
        return self._server

    def key(self, location: warehouse.Location, chain: tuple[str, ...]) -> tuple:
        environment = sorted((k, v) for k, v in os.environ.items() if k not in _NOT_INPUTS)
        digest = hashlib.sha256(repr(environment).encode()).hexdigest()
        return (stores.kind(location), digest, chain)

    def keep(self, key: tuple, root: Path, location: warehouse.Location, result: object) -> None:
        """Copies what a real step left, unless the store will not copy it now."""
        copy = self.folder / f"s{len(self.snapshots)}"
        if isinstance(location, str):
            template = f"credits_snap_{uuid.uuid4().hex[:16]}"
            try:
                stores.execute(
                    self.server(), f"create database {template} template {_name(location)}"
                )
            except Exception:  # noqa: BLE001 (someone is still connected: run for real next time)
                return
            self._templates.append(template)
            kept: Path | str = template
        else:
            copy.mkdir(parents=True)
            kept = copy / "wh.duckdb"
            shutil.copy2(location, kept)
        shutil.copytree(root, copy / "root", symlinks=True)
        self.snapshots[key] = Snapshot(copy / "root", kept, result, fingerprint(root, location))

    def restore(self, snapshot: Snapshot, root: Path, location: warehouse.Location) -> None:
        """Puts a test's desk folder and warehouse in the snapshot's state."""
        shutil.rmtree(root)
        shutil.copytree(snapshot.folder, root, symlinks=True)
        if isinstance(location, str):
            name = _name(location)
            stores.execute(
                self.server(),
                f"drop database {name} with (force)",
                f"create database {name} template {snapshot.warehouse}",
            )
        else:
            Path(f"{location}.wal").unlink(missing_ok=True)
            shutil.copy2(snapshot.warehouse, location)
        self.hits += 1

    def close(self) -> None:
        for template in self._templates:
            stores.execute(self.server(), f"drop database if exists {template} with (force)")


def fingerprint(root: Path, location: warehouse.Location) -> str:
    """sha256 of the desk's state: every file under its folder (path, size, time, bytes) and
    the warehouse (the DuckDB file's bytes; PostgreSQL's rows, table by table, hashed on the
    server)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            digest.update(f"{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(_warehouse_state(location).encode())
    return digest.hexdigest()


def _warehouse_state(location: warehouse.Location) -> str:
    if not isinstance(location, str):
        files = [Path(location), Path(f"{location}.wal")]
        return repr([hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()])
    with (
        adbc_driver_postgresql.dbapi.connect(location, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"
        )
        state = []
        for schema, table in cursor.fetchall():
            name = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))
            # every row as text, hashed on the server (a name cannot be bound)
            cursor.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, chr(10) order by t::text),"
                f" '')) from {name} t"
            )
            state.append((schema, table, *cursor.fetchone()))
        return repr(state)


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
