"""Scheduled runs for finance: every incident file in `data/incidents/`, daily at 07:00 in
finance's time zone, served from a long-lived local Prefect server (`make serve`).

Two deployments: `scheduled-credit-runs/daily-finance` (the schedule; runs every incident file)
and `credit-reconciliation/on-demand` (one incident file, for a run triggered from the UI or
`prefect deployment run`). Runs wait for approval in the warehouse as usual.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from prefect import flow, get_run_logger, serve
from prefect.schedules import Cron

from flows.credit_reconciliation import credit_reconciliation
from flows.settings import INCIDENTS_DIR, OUTPUT_DIR, WAREHOUSE
from transforms.errors import CreditsError

CRON = "0 7 * * *"
TIMEZONE = "America/New_York"


@flow(name="scheduled-credit-runs", log_prints=True)
def scheduled_credit_runs(
    incidents_dir: str = str(INCIDENTS_DIR),
    output_dir: str = str(OUTPUT_DIR),
    warehouse_path: str = str(WAREHOUSE),
) -> dict[str, str]:
    """Runs every incident file of the folder; one bad incident does not stop the others."""
    verdicts = {}
    for path in sorted(Path(incidents_dir).glob("*.toml")):
        try:
            summary = credit_reconciliation(str(path), output_dir, warehouse_path)
            verdicts[path.name] = str(summary.verdict)
        except CreditsError as error:
            verdicts[path.name] = f"{type(error).__name__}: {error}"
    get_run_logger().info("verdicts: %s", verdicts)
    return verdicts


def deployments(cron: str = CRON, timezone: str = TIMEZONE):
    """The scheduled deployment and the on-demand one, ready to serve or apply."""
    scheduled = scheduled_credit_runs.to_deployment(
        name="daily-finance",
        schedules=[Cron(cron, timezone=timezone)],
        parameters={
            "incidents_dir": INCIDENTS_DIR,
            "output_dir": OUTPUT_DIR,
            "warehouse_path": WAREHOUSE,
        },
        description=f"Every incident file in {INCIDENTS_DIR}/, daily {cron} ({timezone}).",
    )
    on_demand = credit_reconciliation.to_deployment(
        name="on-demand",
        parameters={"output_dir": OUTPUT_DIR, "warehouse_path": WAREHOUSE},
        description="One incident file: set incident_file when you run it.",
    )
    return scheduled, on_demand


def _wait_for_api(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"no Prefect server answered at {url} within {seconds:.0f} s"
                ) from None
            time.sleep(1)


def main() -> None:
    """Serves both deployments against the server at PREFECT_API_URL (see `make serve`)."""
    _wait_for_api(os.environ["PREFECT_API_URL"])
    serve(*deployments())


if __name__ == "__main__":
    main()
