"""The outage window found in the sample incident's logs (`credits sample`), as it is and with an
outage planted in it: an early onset, a second burst; and logs at a steady baseline."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.builders import failure, reconcile_incident, write_incident
from transforms.ingest import incident
from transforms.reconcile import window, window_compare

NEW_YORK = ZoneInfo("America/New_York")
TOLERANCE = timedelta(minutes=2)
PLANTED_CUSTOMERS = 10


def new_york(clock: str) -> datetime:
    return datetime.fromisoformat(f"2025-01-07T{clock}").replace(tzinfo=NEW_YORK)


@pytest.fixture(scope="module")
def sample_folder(sample_incident) -> Path:
    """The session's sample folder (read only: `planted` works on a copy)."""
    return sample_incident.parent


def planted(sample_folder: Path, tmp_path: Path, first: str, minutes: int) -> Path:
    """A copy of the sample with 12 outage-coded lines a minute for `minutes` minutes from
    `first` (New York), from customers who have no transaction at all (log_only payments)."""
    folder = tmp_path / "planted"
    shutil.copytree(sample_folder, folder)
    customers = [
        row[0]
        for row in duckdb.connect()
        .sql(
            "select customer_id from read_parquet($c) where segment = 'consumer' "
            "and status = 'active' and customer_id not in "
            "(select customer_id from read_parquet($t)) order by customer_id limit $n",
            params={
                "c": str(folder / "customers.parquet"),
                "t": str(folder / "transactions.parquet"),
                "n": PLANTED_CUSTOMERS,
            },
        )
        .fetchall()
    ]
    start = new_york(first)
    lines = [
        failure(
            f"planted_{m:03d}_{k:02d}",
            ts=(start + timedelta(minutes=m, seconds=4 * k)).astimezone(UTC).isoformat(),
            customer_id=customers[(m * 12 + k) % len(customers)],
            amount_minor=2000,
            currency="USD",
        )
        for m in range(minutes)
        for k in range(12)
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (folder / "logs" / "planted.jsonl.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    return folder / "INC-2025-01-07.toml"


def compare(path: Path, tmp_path: Path) -> window_compare.Comparison:
    work = tmp_path / "work"
    work.mkdir(parents=True)
    return window_compare.compare(incident.load(path), work)


def close(instant: datetime, clock: str) -> bool:
    return abs(instant - new_york(clock)) <= TOLERANCE


def test_the_sample_outage_is_found_within_two_minutes_of_its_edges(sample_folder, tmp_path):
    found = compare(sample_folder / "INC-2025-01-07.toml", tmp_path)
    (outage,) = found.detection.intervals
    assert close(outage.onset_utc, "14:15") and close(outage.recovery_utc, "18:15")
    assert set(dict(outage.codes)) <= set(
        incident.load(found.incident.path).policy.outage_error_codes
    )
    assert outage.rate_during > 10 * (outage.rate_before or 0)
    change = found.change
    assert change.customers.declared == change.customers.detected > 0
    assert all(row.added_minor == row.removed_minor == 0 for row in change.credits)


def test_an_early_onset_is_found_and_its_customers_would_be_added(sample_folder, tmp_path):
    path = planted(sample_folder, tmp_path, "13:45", 30)  # 30 minutes before the declared start
    found = compare(path, tmp_path)
    assert close(found.detected[0], "13:45") and close(found.detected[1], "18:15")
    # the planted customers and payments, and the sample's own baseline failures in those minutes
    change = found.change
    assert change.customers.added >= PLANTED_CUSTOMERS and change.customers.removed == 0
    assert change.transactions.added >= 30 * 12 and change.transactions.removed == 0
    usd = next(row for row in change.credits if row.currency == "USD")
    assert usd.added_minor >= PLANTED_CUSTOMERS * 1000 and usd.removed_minor == 0
    assert usd.detected_minor - usd.declared_minor == usd.added_minor
    declared = compare(sample_folder / "INC-2025-01-07.toml", tmp_path / "declared")
    assert declared.change.customers.declared == change.customers.declared


def test_an_early_onset_gives_a_run_a_window_check_warning(sample_folder, tmp_path):
    path = planted(sample_folder, tmp_path, "13:45", 30)
    loaded = incident.load(path)
    con = reconcile_incident(path, tmp_path)  # as a run reads: files dated outside are pruned
    checked = window.check(con, loaded)
    assert checked.status == window.WARNING
    (finding,) = checked.findings
    assert finding.edge == "start" and close(finding.from_utc, "13:45")
    assert finding.to_utc == loaded.window_start
    # the planted customers, and those of the sample's own baseline failures in those minutes
    assert finding.customers_left_out >= PLANTED_CUSTOMERS and finding.lines >= 30 * 12


def test_a_second_burst_is_found_apart_from_the_outage(sample_folder, tmp_path):
    path = planted(sample_folder, tmp_path, "03:00", 30)
    found = compare(path, tmp_path)
    burst, outage = found.detection.intervals
    assert close(burst.onset_utc, "03:00") and close(burst.recovery_utc, "03:30")
    assert close(outage.onset_utc, "14:15") and close(outage.recovery_utc, "18:15")
    assert found.detected == (outage.onset_utc, outage.recovery_utc)  # the burst is not it


def test_the_sample_run_passes_its_window_check(sample_folder, tmp_path):
    path = sample_folder / "INC-2025-01-07.toml"
    checked = window.check(reconcile_incident(path, tmp_path), incident.load(path))
    assert (checked.status, checked.findings, checked.unchecked) == (window.OK, (), ())


def test_logs_at_a_steady_baseline_show_no_outage(tmp_path):
    # two outage-coded lines every minute for a day, around the declared window
    first = datetime(2025, 1, 7, 8, 0, tzinfo=UTC)
    lines = [
        failure(f"t{m}_{k}", ts=(first + timedelta(minutes=m, seconds=20 * k)).isoformat())
        for m in range(24 * 60)
        for k in range(2)
    ]
    found = compare(write_incident(tmp_path / "inc", lines=lines), tmp_path)
    assert found.detection.baseline.median == 2
    assert found.detection.intervals == () and found.detected is None and found.change is None
