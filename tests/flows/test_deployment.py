"""The scheduled deployment for finance registers with its schedule and parameters."""

from __future__ import annotations

from tests import golden_incident


def test_the_deployments_register_with_the_finance_schedule(prefect_harness):
    from prefect import get_client

    from flows import deployment

    scheduled, on_demand = deployment.deployments()
    ids = [scheduled.apply(), on_demand.apply()]
    with get_client(sync_client=True) as client:
        daily, manual = (client.read_deployment(i) for i in ids)
    (schedule,) = daily.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 7 * * *", "America/New_York")
    assert schedule.active
    assert daily.parameters == {
        "incidents_dir": "data/incidents",
        "output_dir": "data/output",
        "warehouse_path": "data/warehouse.duckdb",
    }
    assert manual.schedules == []
    assert manual.parameters == {
        "output_dir": "data/output",
        "warehouse_path": "data/warehouse.duckdb",
    }


def test_a_scheduled_run_runs_every_incident_file_and_survives_a_bad_one(prefect_harness, tmp_path):
    from flows.deployment import scheduled_credit_runs

    incidents = tmp_path / "incidents"
    golden_incident.write(incidents)
    (incidents / "zz-broken.toml").write_text('id = "X"\nwindow_strat = 1\n')
    verdicts = scheduled_credit_runs(
        str(incidents), str(tmp_path / "out"), str(tmp_path / "wh.duckdb")
    )
    assert verdicts["incident.toml"] == "pending_approval"
    assert verdicts["zz-broken.toml"].startswith("ConfigError:")
    assert "window_strat: unknown key" in verdicts["zz-broken.toml"]
