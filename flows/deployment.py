"""Scheduled runs for finance: every incident file in `data/incidents/`, daily at 07:00 in
finance's time zone, served from a long-lived local Prefect server (`make serve`).

Two deployments: `scheduled-credit-runs/daily-finance` (the schedule; runs every incident file)
and `credit-reconciliation/on-demand` (one incident file, for a run triggered from the UI or
`prefect deployment run`). Runs wait for approval in the warehouse as usual.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, serve
from prefect.schedules import Cron
from prefect.states import Failed

from flows import long_lived
from flows.credit_reconciliation import credit_reconciliation
from flows.quiet import Reported, quiet_expected_tracebacks
from flows.settings import (
    INCIDENTS_DIR,
    OUTPUT_DIR,
    WAREHOUSE,
    warehouse_default,
    warehouse_parameter,
)
from transforms.commands import venv_command
from transforms.errors import CreditsError
from transforms.ingest.incident import folder
from transforms.runfolder.runs import RunStatus

AT = clock(7, 0)  # finance's local time of the daily run
CRON = f"{AT.minute} {AT.hour} * * *"
TIMEZONE = "America/New_York"


class FilesNotRun(Reported):
    """The daily run's outcome when some incident file did not reach `pending_approval` (or
    the folder is none): its flow run ends Failed (red in the UI, for whoever watches the
    schedule), with every file's verdict; calling the flow directly raises it. Each file's
    line has said why: `make serve`'s console shows no traceback of it."""

    def __init__(self, message: str, verdicts: dict[str, str]) -> None:
        super().__init__(message)
        self.verdicts = verdicts

    def __reduce__(self):  # a persisted result reads back
        return type(self), (str(self), self.verdicts)


@flow(name="scheduled-credit-runs", log_prints=True)
def scheduled_credit_runs(
    incidents_dir: str = str(INCIDENTS_DIR),
    output_dir: str = str(OUTPUT_DIR),
    warehouse_path: str = WAREHOUSE,
):
    """Runs every incident file of the folder; one bad incident does not stop the others, and
    each that did not run says why (its verdict), with the file named. The flow run ends
    Failed when any file did not reach `pending_approval` (a hidden file, an editor's lock, and
    an incident file in a subfolder are only noted), else Completed; either way its result is
    every file's verdict."""
    quiet_expected_tracebacks()  # a bad file is its verdict's line, not a traceback as well
    logger = get_run_logger()
    if not Path(incidents_dir).is_dir():  # mistyped or unmounted: nothing would run, unseen
        outcome = FilesNotRun(f"{incidents_dir}: not a folder: no incident file was run", {})
        logger.error("%s", outcome)
        return Failed(message=str(outcome), data=outcome)
    files = folder.incident_files(Path(incidents_dir))
    verdicts = {name: f"left out: {why}" for name, why in files.left_out.items()}
    noted = {name for name, why in files.left_out.items() if why in folder.NOTED}
    for path in files.found:
        try:
            summary = credit_reconciliation(str(path), output_dir, warehouse_path)
            verdicts[path.name] = str(summary.verdict)
        except CreditsError as error:
            verdicts[path.name] = f"{type(error).__name__}: {error}"
        except Exception as error:  # a bug on one file must not cost the others their run
            verdicts[path.name] = f"error: {type(error).__name__}: {error}"
    failed = []
    for name, verdict in sorted(verdicts.items()):
        if verdict == RunStatus.PENDING_APPROVAL:
            continue
        if name in noted:
            logger.warning("%s: %s", Path(incidents_dir) / name, verdict)
            continue
        logger.error("%s: %s", Path(incidents_dir) / name, verdict)
        failed.append(name)
    logger.info("verdicts: %s", verdicts)
    if not files.found and not failed:  # green, but nothing ran: say so where finance looks
        logger.warning("%s: no incident file to run: add one for the daily run", incidents_dir)
    if failed:
        counted = len(verdicts) - len(noted)  # a hidden file, a subfolder's, only noted
        said = f"{len(failed)} of {counted} incident file(s) not run: {', '.join(failed)}"
        outcome = FilesNotRun(said, verdicts)
        return Failed(message=said, data=outcome)
    return verdicts


def deployments(cron: str = CRON, timezone: str = TIMEZONE):
    """The scheduled deployment and the on-demand one, ready to serve or apply."""
    scheduled = scheduled_credit_runs.to_deployment(
        name="daily-finance",
        schedules=[Cron(cron, timezone=timezone)],
        parameters={
            "incidents_dir": INCIDENTS_DIR,
            "output_dir": OUTPUT_DIR,
            "warehouse_path": warehouse_parameter(warehouse_default()),
        },
        description=f"Every incident file in {INCIDENTS_DIR}/, cron {cron} in {timezone}.",
    )
    on_demand = credit_reconciliation.to_deployment(
        name="on-demand",
        parameters={
            "output_dir": OUTPUT_DIR,
            "warehouse_path": warehouse_parameter(warehouse_default()),
        },
        description="One incident file: set incident_file when you run it.",
    )
    return scheduled, on_demand


def schedule_text(now: datetime, at: clock = AT, timezone: str = TIMEZONE) -> str:
    """The daily schedule for people, its time zone named: `daily at 07:00 America/New_York
    (next: 2026-12-01 07:00 EST)`."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    next_run = datetime.combine(today, at, zone)
    if next_run <= now:
        next_run = datetime.combine(today + timedelta(days=1), at, zone)
    return f"daily at {at:%H:%M} {timezone} (next: {next_run:%Y-%m-%d %H:%M %Z})"


def incident_files_text(incidents_dir: Path) -> str:
    """Which incident files the daily run will run, or that there are none and how to add one."""
    files = folder.incident_files(incidents_dir)
    found = files.found
    left_out = "".join(f"; left out: {name} ({why})" for name, why in files.left_out.items())
    if not found:
        return (
            f"no incident file in {incidents_dir}/: the daily run has nothing to run. Add one "
            "like data/sample/INC-2025-01-07.toml, its sources' paths relative to "
            f'{incidents_dir}/ (e.g. logs = ["../sample/logs/*.jsonl.gz"]): the next daily run '
            f"picks it up, no restart needed{left_out}"
        )
    names = ", ".join(path.name for path in found)
    return (
        f"the daily run runs {len(found)} incident file(s) in {incidents_dir}/: {names}{left_out}"
    )


def serving_text(ui_url: str, prefect: str, served) -> str:
    """What `make serve` serves (`deployments()`) and how to trigger a run now, with this
    environment's `prefect` (Prefect's own banner names a bare `prefect`, not on PATH) and this
    server's API (another terminal has no PREFECT_API_URL: its `prefect` would start a server of
    its own and find no deployment there)."""
    names = [f"{d.flow_name}/{d.name}" for d in served]
    return (
        f"the deployments are being served: {', '.join(names)}\n"
        f"run one incident now: PREFECT_API_URL={ui_url}/api {prefect} deployment run "
        f"'{names[-1]}' --param incident_file={INCIDENTS_DIR}/<incident>.toml\n"
        f"  (or from the Prefect UI: {ui_url}/deployments)"
    )


def main() -> None:
    """`make serve`: a local Prefect server at PREFECT_API_URL (which every `credits run` of this
    PREFECT_HOME then uses: `long_lived`), and both deployments served against it until Ctrl-C
    or SIGTERM, which stop the runner and then the server, at once and without a traceback."""
    url = os.environ["PREFECT_API_URL"]
    try:
        port = urlsplit(url).port
    except ValueError:
        port = None
    if not port:  # `PREFECT_PORT=0 make serve` would wait for a server that never answers
        given = url.removeprefix("http://127.0.0.1:").removesuffix("/api")
        print(f"error: PREFECT_PORT={given}: not a port (1 to 65535)", file=sys.stderr)
        sys.exit(2)
    # SIGHUP (its terminal closed) and a SIGTERM before `serve` takes SIGTERM over stop it as
    # Ctrl-C does: the server, in a session of its own, is stopped on the way out.
    signal.signal(signal.SIGHUP, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # and Ctrl-C, even where it was started with SIGINT ignored (`setsid make serve &`)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with long_lived.running(url, long_lived.home()):
            print(f"Prefect UI: {url.removesuffix('/api')}", flush=True)
            print(f"scheduled-credit-runs/daily-finance: {schedule_text(datetime.now(UTC))}")
            print(incident_files_text(Path(INCIDENTS_DIR)), flush=True)
            served = deployments()
            print(
                serving_text(url.removesuffix("/api"), venv_command("prefect"), served), flush=True
            )
            # Returns on Ctrl-C or SIGTERM (Prefect logs which).
            serve(*served, print_starting_message=False)
    except KeyboardInterrupt:  # Ctrl-C while the server was starting
        pass
    except CreditsError as error:  # another server there already, or ours did not start
        print(f"error: {error}", file=sys.stderr, flush=True)
        sys.exit(error.exit_code)
    print("stopped: the runner and the server", flush=True)


if __name__ == "__main__":
    main()
