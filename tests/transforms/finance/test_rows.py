"""A run's and a batch's row as the warehouse holds them (`rows`): a status or a state no
command writes is named (exit 3), not a crash."""

from __future__ import annotations

import pytest

from tests.support_warehouse import add_payment
from transforms.errors import ProofFailed
from transforms.finance import rows, warehouse

RUN = {"run_id": "r1", "status": "pending_approval", "run_folder": "/out/run=r1"}
BATCH = {"batch_id": "INC-T-B001", "state": "published", "totals_minor": "{}", "folder": "/b"}


@pytest.mark.parametrize(
    ("build", "row", "named"),
    [
        # the writer role may update a run's status: set to a word no command writes
        (rows.RunRow.of, RUN | {"status": "bogus"}, "run r1's status is 'bogus'"),
        # and a batch's state
        (rows.BatchRow.of, BATCH | {"state": "paid"}, "batch INC-T-B001's state is 'paid'"),
    ],
    ids=["run-status", "batch-state"],
)
def test_a_status_no_command_writes_is_named_not_a_crash(build, row, named):
    # It was "internal error: ValueError: 'bogus' is not a valid RunStatus" (exit 1) from
    # `audit --verify` and every approval of the incident.
    with pytest.raises(ProofFailed) as failed:
        build(row)
    assert failed.value.exit_code == 3
    assert failed.value.findings[0].startswith(named), failed.value.findings


@pytest.mark.parametrize(("build", "row"), [(rows.RunRow.of, RUN), (rows.BatchRow.of, BATCH)])
def test_a_status_a_command_writes_is_read(build, row):
    assert build(row) is not None


def test_an_incident_s_batches_come_in_the_order_they_were_made(tmp_path):
    # by the text of their ids B1000 came before B999: the newest batch was taken for B999
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        for batch in ("INC-A-B1000", "INC-A-B999", "INC-A-B002"):
            add_payment(con, f"c-{batch}", 100, batch=batch)
        found = [b.batch_id for b in rows.batches(con, "batches_of", incident_id="INC-A")]
    assert found == ["INC-A-B002", "INC-A-B999", "INC-A-B1000"]
