"""The test helpers that wait for another process: the paused run a finance test waits for."""

from __future__ import annotations

from tests import waiting


def test_a_paused_run_is_told_from_one_left_paused_into_another_warehouse(
    prefect_harness, tmp_path
):
    # The finance desk's incident file has one path in every test of a worker: a run left paused
    # by an earlier test has the same incident file, and only its warehouse tells it apart.
    from prefect import flow, get_client
    from prefect.states import Cancelled, Paused

    @flow(name="credit-reconciliation-stand-in")
    def stand_in(incident_file: str, warehouse_path: str) -> None:
        """Never run: its flow runs are made paused, as a run waiting for approval is."""

    incident_file = tmp_path / "incident.toml"

    def paused_into(warehouse: str):
        parameters = {"incident_file": str(incident_file), "warehouse_path": warehouse}
        return client.create_flow_run(stand_in, parameters=parameters, state=Paused())

    with get_client(sync_client=True) as client:
        left = paused_into(str(tmp_path / "earlier.duckdb"))
        mine = paused_into(str(tmp_path / "mine.duckdb"))
        try:
            found = waiting.paused_for_approval(incident_file, tmp_path / "mine.duckdb")
            nowhere = waiting.paused_for_approval(incident_file, tmp_path / "none", seconds=0.5)
        finally:
            for run in (left, mine):
                client.set_flow_run_state(run.id, Cancelled(), force=True)
    assert found is not None and found.id == mine.id
    assert nowhere is None
