"""Ids that start like a spreadsheet formula: the run folder's credits.csv and exceptions.csv
show them as text (a leading `'`, the manifest's `csv_writer`), the warehouse, the ledger and the
batch hold them as they are, and the run proves itself, its folder in reach (checked file by
file, by `approve --dry-run`) and not (checked on the warehouse's record, by the approval); a
run sealed before the guard (no `csv_writer`) still proves itself both ways."""

from __future__ import annotations

import csv
import json

from tests.builders import customer, failure, txn
from tests.flows.desk import batch_lines
from transforms.reconcile import outputs

FORMULA = '=HYPERLINK("http://x","click")'
LINES = [
    failure("t1", customer_id=FORMULA),
    failure("t2", customer_id="c2"),
    failure("@t3", customer_id="+cmd|' /C calc'!A0"),  # not in the customer table
]
TABLE = [txn("t1", customer_id=FORMULA), txn("t2", customer_id="c2")]
CUSTOMERS = [customer(FORMULA), customer("c2")]
HOSTILE = {"lines": LINES, "transactions": TABLE, "customers": CUSTOMERS}


def _column(path, name: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [row[name] for row in csv.DictReader(handle)]


def _proves_itself_and_is_approved(desk, run_id: str, elsewhere) -> None:
    """Checked with its folder (`approve --dry-run`, `audit --verify`), then approved from a
    machine that cannot reach it."""
    for command in (("approve", run_id, "--dry-run"), ("audit", "--verify")):
        result = desk.cli(*command)
        assert result.exit_code == 0, result.output
    desk.folder(run_id).rename(elsewhere)
    decision = desk.approve(run_id)
    assert decision.rows == 2 and "not reachable" in decision.notes[0]
    assert sorted(line["customer_id"] for line in batch_lines(decision)) == [FORMULA, "c2"]
    assert desk.paid() == {(FORMULA, "USD"): 1000, ("c2", "USD"): 1000}


def test_formula_ids_read_as_text_in_the_run_folder_and_as_they_are_in_the_batch(desk, tmp_path):
    run_id = desk.run(**HOSTILE)
    folder = desk.folder(run_id)
    assert _column(folder / "credits.csv", "customer_id") == ["'" + FORMULA, "c2"]
    assert _column(folder / "exceptions.csv", "customer_id") == ["'+cmd|' /C calc'!A0"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["csv_writer"] == outputs.CSV_WRITER
    _proves_itself_and_is_approved(desk, run_id, tmp_path / "elsewhere")


def test_a_run_sealed_before_the_guard_still_proves_itself(desk, monkeypatch, tmp_path):
    monkeypatch.setattr(outputs, "CSV_WRITER", None)  # the writer before it: cells as they are
    run_id = desk.run(**HOSTILE)
    monkeypatch.undo()
    folder = desk.folder(run_id)
    assert _column(folder / "credits.csv", "customer_id") == [FORMULA, "c2"]
    assert "csv_writer" not in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    _proves_itself_and_is_approved(desk, run_id, tmp_path / "elsewhere")
