"""The declared window against the one the logs show, for `credits window`.

Every log file within `window_detection.reach` of the window is read (a run prunes files dated
outside the window; here the baseline and the edges need them), the outage is found
(`window.find`), and each window's candidates are classified and priced by the run's own stages
in one work database staged once: which customers, transactions and credits per currency the
detected window would add or remove. No quality gate, no outputs, nothing kept: not a run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from transforms import db
from transforms.ingest import logs, tables
from transforms.ingest.incident import Incident
from transforms.reconcile import credits, window


@dataclass(frozen=True)
class Credited:
    """What one window credits: customers, transactions and (customer, currency) amounts."""

    customers: frozenset[str]
    transactions: frozenset[str]
    amounts: dict[tuple[str, str], int]  # (customer_id, currency) -> credit in minor units


@dataclass(frozen=True)
class CurrencyChange:
    """Credits in one currency, minor units: each window's total, and what the detected window
    adds (new or larger lines) and removes (lines gone or smaller)."""

    currency: str
    declared_minor: int
    detected_minor: int
    added_minor: int
    removed_minor: int


@dataclass(frozen=True)
class CountChange:
    """How many customers (or transactions) each window credits, and which the detected window
    adds and removes."""

    declared: int
    detected: int
    added: int
    removed: int

    @staticmethod
    def of(declared: frozenset[str], detected: frozenset[str]) -> CountChange:
        return CountChange(
            len(declared), len(detected), len(detected - declared), len(declared - detected)
        )


@dataclass(frozen=True)
class Change:
    """The detected window against the declared one."""

    customers: CountChange
    transactions: CountChange
    credits: tuple[CurrencyChange, ...]


@dataclass(frozen=True)
class Comparison:
    """`credits window`'s answer: the detection, the detected window (None: no outage found)
    and, when there is one, the change it makes."""

    incident: Incident
    detection: window.Detection
    detected: tuple[datetime, datetime] | None
    change: Change | None


def compare(incident: Incident, work_dir: Path) -> Comparison:
    """Reads the logs and tables into a work database under `work_dir` and compares.

    The stages are the run's (`logs.stage`, `tables.stage`, `credits.reconcile`); the logs are
    staged once, every file within `window_detection.reach` of the window read, and each window
    re-buckets the same staged lines (`logs.bucket`) before its candidates are priced.
    """
    con = db.connect(work_dir / "window.duckdb", work_dir)
    try:
        reach = incident.window_detection.reach
        log_files = logs.stage(con, incident, work_dir, logs.on_threads, reach=reach)
        detection = _with_unread(window.find(con, incident), incident, log_files)
        declared = (incident.window_start, incident.window_end)
        detected = window.detected_window(detection, declared, incident.window_detection)
        if detected is None:
            return Comparison(incident, detection, None, None)
        hull = _with_window(
            incident, (min(declared[0], detected[0]), max(declared[1], detected[1]))
        )
        logs.bucket(con, hull)  # the tables' candidates (a PostgreSQL source) cover both windows
        tables.stage(con, hull)
        before = credited(con, incident)
        after = credited(con, _with_window(incident, detected))
        return Comparison(incident, detection, detected, change(before, after))
    finally:
        con.close()


def _with_unread(
    detection: window.Detection,
    incident: Incident,
    log_files: Sequence[logs.LogFile],
    shown: int = 3,
) -> window.Detection:
    """The detection, its `problem` saying which log files were left out by the hour in their
    names when there is no baseline and some were: all of them (a window on the wrong day)
    opens none, and "no outage-coded failure line in the logs" would blame the logs."""
    pruned = [f for f in log_files if f.pruned]
    if detection.baseline is not None or not pruned:
        return detection
    reach = f"{_duration(incident.window_detection.reach)} (window_detection.reach)"
    if len(pruned) < len(log_files):
        read = len(log_files) - len(pruned)
        problem = (
            f"{detection.problem} ({_files(read)} read; {_files(len(pruned))} left out, each "
            f"dated by its name to an hour more than {reach} from the window)"
        )
        return dataclasses.replace(detection, problem=problem)
    names = ", ".join(f.name for f in pruned[:shown])
    more = f" and {len(pruned) - shown:,} more" if len(pruned) > shown else ""
    zone = incident.sources.logs_timezone
    problem = (
        f"no log file covers the window's hours: the globs matched {_files(len(pruned))} "
        f"({names}{more}), each dated by its name to an hour more than {reach} from the window "
        f"(hours read in UTC and in sources.logs_timezone = {zone!r}), so none was opened. "
        "Check the window's date (window_start, window_end); if the names carry another "
        "zone's hours, set sources.logs_timezone to it"
    )
    return dataclasses.replace(detection, problem=problem)


def _files(count: int) -> str:
    return f"{count:,} log file{'' if count == 1 else 's'}"


def _duration(duration: timedelta) -> str:
    """`1 day`, `6 hours`, `90 minutes`: the largest whole unit (durations are whole minutes)."""
    minutes = int(duration / timedelta(minutes=1))
    count, unit = next(
        (minutes // n, u)
        for n, u in ((1440, "day"), (60, "hour"), (1, "minute"))
        if not minutes % n
    )
    return f"{count} {unit}{'' if count == 1 else 's'}"


def credited(con: duckdb.DuckDBPyConnection, incident: Incident) -> Credited:
    """Re-buckets the staged logs by the incident's window and reconciles its candidates as a
    run would; returns what it credits."""
    logs.bucket(con, incident)
    credits.reconcile(con, incident)
    lines = db.run(con, "window_credited_lines").fetchall()
    txns = db.run(con, "window_credited_transactions").fetchall()
    return Credited(
        customers=frozenset(customer for customer, _, _ in lines),
        transactions=frozenset(txn for (txn,) in txns),
        amounts={(customer, currency): amount for customer, currency, amount in lines},
    )


def change(declared: Credited, detected: Credited) -> Change:
    """What using the detected window instead of the declared one adds and removes."""
    currencies = sorted({c for _, c in declared.amounts} | {c for _, c in detected.amounts})
    keys = declared.amounts.keys() | detected.amounts.keys()
    rows = []
    for currency in currencies:
        pairs = [
            (declared.amounts.get(k, 0), detected.amounts.get(k, 0))
            for k in keys
            if k[1] == currency
        ]
        rows.append(
            CurrencyChange(
                currency,
                declared_minor=sum(a for a, _ in pairs),
                detected_minor=sum(b for _, b in pairs),
                added_minor=sum(max(b - a, 0) for a, b in pairs),
                removed_minor=sum(max(a - b, 0) for a, b in pairs),
            )
        )
    return Change(
        customers=CountChange.of(declared.customers, detected.customers),
        transactions=CountChange.of(declared.transactions, detected.transactions),
        credits=tuple(rows),
    )


def as_json(comparison: Comparison) -> dict[str, Any]:
    """The comparison as plain JSON values: times in the incident's zone, money in minor units."""
    incident, detection = comparison.incident, comparison.detection
    baseline = detection.baseline
    return {
        "incident": incident.id,
        "timezone": incident.timezone,
        "declared": _window_json(incident, (incident.window_start, incident.window_end)),
        "detected": comparison.detected and _window_json(incident, comparison.detected),
        "problem": detection.problem,
        "baseline": baseline and dataclasses.asdict(baseline),
        "settings": window.settings_json(incident.window_detection),
        "intervals": [window.interval_json(incident, i) for i in detection.intervals],
        "gaps": [_window_json(incident, gap) for gap in detection.gaps],
        "change": comparison.change and _change_json(comparison.change),
    }


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "customers": dataclasses.asdict(change.customers),
        "transactions": dataclasses.asdict(change.transactions),
        "credits_minor": {
            row.currency: {
                "declared": row.declared_minor,
                "detected": row.detected_minor,
                "added": row.added_minor,
                "removed": row.removed_minor,
            }
            for row in change.credits
        },
    }


def _window_json(incident: Incident, window_utc: Sequence[datetime]) -> dict[str, str]:
    return {
        "start_local": incident.local(window_utc[0]).isoformat(),
        "end_local": incident.local(window_utc[1]).isoformat(),
    }


def _with_window(incident: Incident, window_utc: tuple[datetime, datetime]) -> Incident:
    return dataclasses.replace(incident, window_start=window_utc[0], window_end=window_utc[1])
