"""Finance's desk for tests: one incident folder, one warehouse (on either store) and one outbox;
run the real flow (Prefect test harness), approve through `transforms.ledger` as `credits
approve` does, look. A run or an approval an earlier test already made from the same state is
restored from its copy (`tests/flows/desk_runs.py`)."""

from __future__ import annotations

import copy
import csv
import threading
from collections.abc import Callable, Hashable
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

from typer.testing import CliRunner

from tests import stores
from tests.builders import failure, txn, write_incident
from tests.flows import desk_runs
from transforms.finance import ledger, warehouse
from transforms.runfolder.summary import RunSummary

T = TypeVar("T")

LINES = [
    failure("t1", customer_id="c1"),
    failure("t2", ts="2025-01-07T23:30:00Z"),  # after the window (23:15Z)
    failure("t3"),
]
TABLE = [
    txn("t1", customer_id="c1"),
    txn("t2", customer_id="c2", created_at="2025-01-07T23:30:00Z"),
    txn("t3", customer_id="c3", currency="EUR"),
]


class Desk:
    """One incident folder, one warehouse and one outbox: run, approve, look."""

    def __init__(
        self,
        root: Path,
        location: warehouse.Location,
        runs: desk_runs.DeskRuns | None = None,
        patches: Callable[[], Hashable] | None = None,
    ):
        """`runs` remembers the desk's steps for the session; `patches` says what the test has
        patched (None: no step is restored)."""
        self.root = root
        self.warehouse = location  # a DuckDB file or a postgresql:// URL (a restored step's copy)
        self.outbox = root / "outbox"
        self._runs = runs
        self._patches = patches
        self._patched = patches() if patches else None
        # the desk's runs and approvals so far, while every step has been one; None after any
        # other step
        self._chain: tuple[str, ...] | None = ()
        self._start = self._state = desk_runs.fingerprint(root, location) if runs else ""
        self._databases = ExitStack()  # the PostgreSQL copies restored steps made

    def close(self) -> None:
        """Drops the databases restored steps made (the first warehouse is the fixture's)."""
        self._databases.close()

    def write(self, **settings) -> Path:
        self._chain = None
        return write_incident(
            self.root / "inc", **{"lines": LINES, "transactions": TABLE, **settings}
        )

    def run(self, **settings) -> str:
        """Runs the flow on the desk's incident changed by `settings`; its run id. Restored
        instead when an earlier test ran it from this very state."""
        return self.sealed(**settings).run_id

    def sealed(self, **settings) -> RunSummary:
        """`run`, and what the flow returned."""
        from flows.credit_reconciliation import credit_reconciliation

        settings = _incident(settings)

        def run() -> RunSummary:
            path = write_incident(self.root / "inc", **settings)
            out = str(self.root / "out")
            return credit_reconciliation(str(path), out, str(self.warehouse))

        return self._step(repr(("run", sorted(settings.items()))), run)

    def approve(self, run_id: str, by: str = "alice", **options) -> ledger.Decision:
        """Approves as `credits approve` does; restored instead when an earlier test approved
        the same run from this very state (not with a `show` callback, not off the main
        thread)."""

        def approve() -> ledger.Decision:
            return ledger.approve(
                self.warehouse, run_id, by=by, note=None, outbox=self.outbox, **options
            )

        if any(callable(value) for value in options.values()):
            self._chain = None
            return approve()
        return self._step(repr(("approve", run_id, by, sorted(options.items()))), approve)

    def _step(self, step: str, do: Callable[[], T]) -> T:
        """`do()`, or its result and what it left restored when an earlier test did it after
        the same steps from the same start (`desk_runs`)."""
        chain, key = self._chain, None
        self._chain = None
        if self._remembers(chain):
            key = self._runs.key(self.warehouse, self._start, self._patched, (*chain, step))
            if snapshot := self._runs.snapshots.get(key):
                self.warehouse = self._runs.restore(
                    snapshot, self.root, self.warehouse, self._databases
                )
                self._chain, self._state = key.chain, snapshot.fingerprint
                return copy.deepcopy(snapshot.result)
        result = do()
        if key is not None and self._runs.keep(
            key, self.root, self.warehouse, copy.deepcopy(result)
        ):
            self._chain = key.chain
            self._state = desk_runs.fingerprint(self.root, self.warehouse)
        return result

    def _remembers(self, chain: tuple[str, ...] | None) -> bool:
        """Whether this state can be matched with an earlier test's (see `desk_runs`)."""
        return (
            self._runs is not None
            and chain is not None
            and threading.current_thread() is threading.main_thread()
            and self._patched is not None
            and self._patches() == self._patched
            and desk_runs.fingerprint(self.root, self.warehouse) == self._state
        )

    def cli(self, *args: str, env: dict[str, str] | None = None):
        """`credits ARGS [--warehouse W] [--outbox O]` in this process (quick commands only); an
        `--outbox` in ARGS is the one given."""
        from flows.cli import app

        self._chain = None
        options = ["--warehouse", str(self.warehouse)]
        if args[0] in ("approve", "audit", "decline", "reject") and "--outbox" not in args:
            options += ["--outbox", str(self.outbox)]
        return CliRunner().invoke(app, [*args, *options], env=env)

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        with warehouse.connect(self.warehouse, read_only=True) as con:
            return con.execute(sql, parameters).fetchall()

    def tamper(self, *statements: str, parameters: tuple | None = None) -> None:
        """Runs SQL valid in both dialects on the store itself, behind the product's back."""
        self._chain = None
        stores.tamper(self.warehouse, *statements, parameters=parameters)

    def contents(self) -> dict[str, list[tuple]]:
        """Every row of every warehouse table, by table."""
        with warehouse.connect(self.warehouse, read_only=True) as con:
            names = [name for (name,) in con.execute("show tables").fetchall()]
            return {name: con.table(name).order("all").fetchall() for name in names}

    def folder(self, run_id: str) -> Path:
        return Path(self.query("select run_folder from runs where run_id = ?", run_id)[0][0])

    def status(self, run_id: str) -> str:
        return self.query("select status from runs where run_id = ?", run_id)[0][0]

    def ledger(self) -> list[tuple]:
        return self.query(
            "select credit_id, customer_id, currency, amount_minor from ledger order by all"
        )

    def paid(self) -> dict[tuple[str, str], int]:
        paid: dict[tuple[str, str], int] = {}
        for _, customer_id, currency, amount in self.ledger():
            paid[customer_id, currency] = paid.get((customer_id, currency), 0) + amount
        return paid


def _incident(settings: dict) -> dict:
    """The desk's incident: its lines and table changed by `settings`."""
    return {"lines": LINES, "transactions": TABLE, **settings}


def batch_lines(decision: ledger.Decision) -> list[dict[str, str]]:
    with open(decision.batch_folder / "credits.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def approve_killed_writing(desk: Desk, monkeypatch, run_id: str, crash: Callable) -> Path:
    """Approves `run_id` with `files.write_once` replaced by `crash(write_once, final, data)`,
    which stops the approval as SIGKILL would (`KeyboardInterrupt`): its batch's folder."""
    import pytest

    from transforms import files

    write_once = files.write_once
    monkeypatch.setattr(files, "write_once", lambda final, data: crash(write_once, final, data))
    with pytest.raises(KeyboardInterrupt):
        desk.approve(run_id)
    monkeypatch.undo()
    return desk.outbox / "incident=INC-T" / "batch=INC-T-B001"


# A fast machine's clock: an instant after any the other machines' real clocks show (fixed, so
# no test reads the wall clock to make one)
FAST_CLOCK = "2100-01-01T00:00:00+00:00"


def run_on_a_fast_clock(desk: Desk, monkeypatch) -> str:
    """Runs the desk's incident as a machine whose clock runs far ahead would: its run id."""
    from datetime import datetime

    from transforms.runfolder import runs

    start = runs.start

    def fast(incident, output_root, now=None):
        return start(incident, output_root, now=datetime.fromisoformat(FAST_CLOCK))

    monkeypatch.setattr(runs, "start", fast)
    try:
        return desk.run()
    finally:
        monkeypatch.setattr(runs, "start", start)
