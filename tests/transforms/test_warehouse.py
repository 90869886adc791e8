"""The warehouse's per-run tables take a rejected run's rows, and older warehouses still work."""

from __future__ import annotations

import duckdb
import pytest

from tests import golden_incident
from tests.builders import rewrite_with_keyed_schema
from transforms import db, warehouse

PER_RUN_TABLES = (
    "evidence",
    "run_credits",
    "run_exceptions",
    "run_customers",
    "run_failure_minutes",
    "run_edge_transactions",
)


def contents(path) -> dict[str, list[tuple]]:
    with warehouse.connect(path, read_only=True) as con:
        return {t: con.table(t).order("all").fetchall() for t in PER_RUN_TABLES}


def keyed_constraints(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return db.run(con, "warehouse_keyed_run_tables").fetchall()


def test_a_rejected_run_that_repeats_its_keys_is_loaded_row_for_row(tmp_path):
    path = tmp_path / "wh.duckdb"
    run_id = golden_incident.load_run(tmp_path / "a", path, repeat_keys=True)
    with warehouse.connect(path, read_only=True) as con:
        evidence = con.execute(
            "select count(*), count(distinct txn_id) from evidence where run_id = $r",
            {"r": run_id},
        ).fetchone()
        status = con.execute("select status from runs").fetchall()
    assert evidence[0] == 2 * evidence[1] > 0
    assert status == [("rejected",)]


@pytest.fixture
def keyed_warehouse(tmp_path):
    """A warehouse made with the old, keyed schema, holding one run."""
    path = tmp_path / "wh.duckdb"
    golden_incident.load_run(tmp_path / "a", path)
    rewrite_with_keyed_schema(path)
    assert {row[0] for row in keyed_constraints(path)} == {
        "evidence",
        "run_credits",
        "run_customers",
        "run_edge_transactions",
        "run_exceptions",
        "run_failure_minutes",
    }
    return path


def test_a_keyed_warehouse_is_read_as_it_is(keyed_warehouse):
    before = contents(keyed_warehouse)  # a reader never migrates: it reads either form
    assert before["evidence"] and before["run_credits"]
    assert keyed_constraints(keyed_warehouse)


def test_a_writer_rebuilds_the_keyed_tables_once_keeping_every_row(keyed_warehouse, tmp_path):
    before = contents(keyed_warehouse)
    warehouse.connect(keyed_warehouse).close()
    assert keyed_constraints(keyed_warehouse) == []
    assert contents(keyed_warehouse) == before
    warehouse.connect(keyed_warehouse).close()  # the second time there is nothing to do
    assert contents(keyed_warehouse) == before
    golden_incident.load_run(
        tmp_path / "b", keyed_warehouse, repeat_keys=True
    )  # and the keys no longer refuse
    after = contents(keyed_warehouse)
    assert len(after["evidence"]) == 3 * len(before["evidence"])
