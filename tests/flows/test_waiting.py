"""The test helpers that wait for another process: the paused run a finance test waits for."""

from __future__ import annotations

from tests import waiting


def test_a_paused_run_is_told_from_one_left_paused_into_another_warehouse(
    prefect_harness, tmp_path
):
    # The finance desk's incident file has one path in every test of a worker: a run left paused
    # by an earlier test has the same incident file, and only its warehouse tells it apart. A run
    # that is not paused (here, one that ended) is never the one waited for.
    from prefect import flow, get_client
    from prefect.states import Cancelled, Completed, Paused

    @flow(name="credit-reconciliation-stand-in")
    def stand_in(incident_file: str, warehouse_path: str) -> None:
        """Never run: its flow runs are made in the state the test needs."""

    incident_file = tmp_path / "incident.toml"
    made = []

    def run_into(warehouse: str, state):
        parameters = {"incident_file": str(incident_file), "warehouse_path": warehouse}
        made.append(client.create_flow_run(stand_in, parameters=parameters, state=state))
        return made[-1]

    with get_client(sync_client=True) as client:
        try:
            run_into(str(tmp_path / "earlier.duckdb"), Paused())
            mine = run_into(str(tmp_path / "mine.duckdb"), Paused())
            run_into(str(tmp_path / "ended.duckdb"), Completed())
            found = waiting.paused_for_approval(incident_file, tmp_path / "mine.duckdb")
            ended = waiting.paused_for_approval(
                incident_file, tmp_path / "ended.duckdb", seconds=0.5
            )
            nowhere = waiting.paused_for_approval(incident_file, tmp_path / "none", seconds=0.5)
        finally:
            for run in made:
                client.set_flow_run_state(run.id, Cancelled(), force=True)
    assert found is not None and found.id == mine.id
    assert ended is None
    assert nowhere is None
