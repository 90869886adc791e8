"""Finance's desk for tests: one incident folder, one warehouse (on either store) and one outbox;
run the real flow (Prefect test harness), approve through `transforms.ledger` as `credits
approve` does, look."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from tests import stores
from tests.builders import failure, txn, write_incident
from transforms.finance import ledger, warehouse

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

    def __init__(self, root: Path, location: warehouse.Location):
        self.root = root
        self.warehouse = location  # a DuckDB file or a postgresql:// URL
        self.outbox = root / "outbox"

    def write(self, **settings) -> Path:
        settings = {"lines": LINES, "transactions": TABLE, **settings}
        return write_incident(self.root / "inc", **settings)

    def run(self, **settings) -> str:
        from flows.credit_reconciliation import credit_reconciliation

        path = self.write(**settings)
        summary = credit_reconciliation(str(path), str(self.root / "out"), str(self.warehouse))
        return summary.run_id

    def approve(self, run_id: str, by: str = "alice", **options) -> ledger.Decision:
        return ledger.approve(
            self.warehouse, run_id, by=by, note=None, outbox=self.outbox, **options
        )

    def cli(self, *args: str, env: dict[str, str] | None = None):
        """`credits ARGS [--warehouse W] [--outbox O]` in this process (quick commands only)."""
        from flows.cli import app

        options = [] if args[0] == "verify-batch" else ["--warehouse", str(self.warehouse)]
        if args[0] in ("approve", "audit"):
            options += ["--outbox", str(self.outbox)]
        return CliRunner().invoke(app, [*args, *options], env=env)

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        with warehouse.connect(self.warehouse, read_only=True) as con:
            return con.execute(sql, parameters).fetchall()

    def tamper(self, *statements: str, parameters: tuple | None = None) -> None:
        """Runs SQL valid in both dialects on the store itself, behind the product's back."""
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


def batch_lines(decision: ledger.Decision) -> list[dict[str, str]]:
    with open(decision.batch_folder / "credits.csv", newline="") as handle:
        return list(csv.DictReader(handle))
