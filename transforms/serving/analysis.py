"""Frames for the analysts' notebooks, read from the warehouse (never re-derived from raw data).

Each function takes a read-only warehouse connection (`support.connect`) and the `RunView` to read
(`pick_run`), and returns a pandas frame whose grain and key its docstring states. Times are
UTC instants in `*_utc` columns and the same instants in the incident's time zone in `*_local`.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

import duckdb
import pandas as pd

from transforms import db, times
from transforms.ingest.incident import WindowDetection
from transforms.quality.gate import SLACK
from transforms.reconcile import classes, window
from transforms.runfolder.manifest_model import WindowCheck
from transforms.serving import support


@dataclass(frozen=True)
class RunView:
    """The run an analysis reads: its incident, time zone, window `[start, end)` and the
    policy's outage error codes."""

    run_id: str
    incident_id: str
    title: str | None
    timezone: str
    status: str
    window_start_utc: datetime
    window_end_utc: datetime
    outage_error_codes: tuple[str, ...]


P = ParamSpec("P")
T = TypeVar("T")


def _reads_a_run(function: Callable[P, T]) -> Callable[P, T]:
    """`function` refusing a `run` that is no `RunView` with the call that picks one: an
    incident's id given for it was an AttributeError deep inside (`'str' object has no
    attribute 'incident_id'`)."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(*args: P.args, **kwargs: P.kwargs) -> T:
        run = signature.bind_partial(*args, **kwargs).arguments.get("run")
        if not isinstance(run, RunView):
            raise TypeError(
                f"{function.__name__}: run: a RunView, as analysis.pick_run(con, incident_id) "
                f"gives, not {run!r}"
            )
        return function(*args, **kwargs)

    return checked


def pick_run(con: duckdb.DuckDBPyConnection, incident_id: str) -> RunView:
    """The incident's answering run (as support's), else its newest run of any status."""
    if not isinstance(incident_id, str):
        raise TypeError(
            f"pick_run: incident_id: a text, such as 'INC-2025-01-07', not {incident_id!r}"
        )
    rows = db.run(con, "analysis_run", incident_id=incident_id).fetchall()
    if not rows and incident_id.strip() != incident_id:  # blanks around what was pasted
        rows = db.run(con, "analysis_run", incident_id=incident_id.strip()).fetchall()
    if not rows:
        raise support.unknown_incident(incident_id, support.answering_runs(con))
    run_id, incident, title, timezone, status, start, end, codes = rows[0]
    return RunView(run_id, incident, title, timezone, status, start, end, tuple(codes))


@_reads_a_run
def failure_minutes(con: duckdb.DuckDBPyConnection, run: RunView) -> pd.DataFrame:
    """Failure lines per minute over the whole log (grain: minute, event, error_code, file).

    Adds `pod` (the log file's name up to its first dot: the sample writes one file per pod and
    hour) and `in_window`. Minutes without a failure line have no row.
    """
    frame = db.run(con, "analysis_failure_minutes", run_id=run.run_id).df()
    frame["minute_local"] = _local(frame["minute_utc"], run)
    frame["pod"] = frame["source_file"].map(_pod)
    frame["in_window"] = in_window(frame["minute_utc"], run)
    return frame


@_reads_a_run
def outage_minutes(minutes: pd.DataFrame, run: RunView) -> list[tuple[datetime, str, int]]:
    """Outage-coded failure lines per minute and code (minute_utc, error_code, lines) from
    `failure_minutes`: what the run's window_check counted."""
    outage = minutes[minutes["error_code"].isin(run.outage_error_codes)]
    grouped = outage.groupby(["minute_utc", "error_code"])["lines"].sum()
    return [(minute.to_pydatetime(), code, int(n)) for (minute, code), n in grouped.items()]


@_reads_a_run
def window_check(con: duckdb.DuckDBPyConnection, run: RunView) -> WindowCheck | None:
    """The run's window_check as its manifest holds it (None for a run from before it)."""
    ((written,),) = db.run(con, "analysis_window_check", run_id=run.run_id).fetchall()
    return None if written is None else WindowCheck.model_validate_json(written)


@_reads_a_run
def detection(minutes: pd.DataFrame, run: RunView, checked: WindowCheck | None) -> window.Detection:
    """The detection the run's window_check rests on, again from its per-minute counts, with
    the settings, span and stretches no log covered it recorded; for a run from before the
    check, the default settings over the counts within `reach` of the window."""
    settings = WindowDetection() if checked is None else checked.detection_settings()
    span = None if checked is None else checked.span()
    gaps = () if checked is None else checked.gaps()
    declared = (run.window_start_utc, run.window_end_utc)
    return window.detect_again(outage_minutes(minutes, run), declared, settings, span, gaps)


@_reads_a_run
def per_minute(minutes: pd.DataFrame, run: RunView, by: str | None = None) -> pd.DataFrame:
    """Failure lines per minute from the first to the last minute of the log, zeros filled in,
    within a day (`gate.SLACK`) of the window: a line stamped decades off (a clock reset to
    1970) would otherwise stretch the frame over millions of minutes.

    Index: `minute_local`; one column `lines`, or one column per value of `by` (e.g. `pod`);
    a `by` the frame lacks is a `ValueError` naming its columns.
    """
    if by is not None and by not in minutes.columns:
        raise ValueError(f"by={by!r}: not a column of the frame ({', '.join(map(repr, minutes))})")
    instants = pd.to_datetime(minutes["minute_local"], utc=True)
    start, end = pd.Timestamp(run.window_start_utc), pd.Timestamp(run.window_end_utc)
    minutes = minutes[(instants >= start - SLACK) & (instants < end + SLACK)]
    if minutes.empty:
        # no failure line near the window: an empty frame of the same (zoned) kind, with no
        # column per value of `by` (no pod or code to draw)
        index = pd.DatetimeIndex([], name="minute_local", tz=run.timezone)
        if by is not None:
            return pd.DataFrame(index=index, dtype="int64")
        return pd.DataFrame({"lines": pd.Series([], dtype="int64", index=index)})
    index = pd.date_range(
        minutes["minute_local"].min(),
        minutes["minute_local"].max(),
        freq="min",
        name="minute_local",
    )
    if by is None:
        counts = minutes.groupby("minute_local")["lines"].sum().to_frame()
    else:
        counts = minutes.pivot_table(
            index="minute_local", columns=by, values="lines", aggfunc="sum", dropna=False
        )
    return counts.reindex(index, fill_value=0).fillna(0).astype("int64")


@_reads_a_run
def normal_rate(
    minutes: pd.DataFrame, run: RunView, found: window.Detection | None = None
) -> float:
    """The normal failure rate: mean failure lines per minute outside the window, zeros
    counted; with `found`, the minutes of its outage intervals left out too (a window too
    narrow leaves outage minutes outside it, which made the outage look a few times the
    normal rate when it was a hundred)."""
    totals = per_minute(minutes, run)
    if totals.empty:
        return 0.0
    instants = totals.index.to_series()
    normal = ~in_window(instants, run).to_numpy()
    for interval in found.intervals if found is not None else ():
        onset = pd.Timestamp(interval.onset_utc).tz_convert(run.timezone)
        recovery = pd.Timestamp(interval.recovery_utc).tz_convert(run.timezone)
        normal &= ~((instants >= onset) & (instants < recovery)).to_numpy()
    return float(totals["lines"][normal].mean()) if normal.any() else 0.0


@_reads_a_run
def transactions(con: duckdb.DuckDBPyConnection, run: RunView) -> pd.DataFrame:
    """The run's candidate transactions (key: txn_id), with customer segment, country, status."""
    frame = db.run(con, "analysis_transactions", run_id=run.run_id).df()
    frame["first_failure_local"] = _local(frame["first_failure_utc"], run)
    frame["last_failure_local"] = _local(frame["last_failure_utc"], run)
    return frame


@_reads_a_run
def customers(con: duckdb.DuckDBPyConnection, run: RunView) -> pd.DataFrame:
    """Support's customer list of the run's incident (key: customer_id, currency), with
    `credit_minor` and `paid_minor` as integers beside the decimal strings."""
    found = support.customers(con, run.incident_id)
    frame = pd.DataFrame(found.rows, columns=support.COLUMNS)
    amounts = db.run(
        con, "analysis_credit_amounts", run_id=found.run.run_id, incident_id=run.incident_id
    ).df()
    merged = frame.merge(amounts, on=["customer_id", "currency"], how="left")
    for column in CUSTOMER_MONEY:  # money stays whole
        merged[column] = merged[column].astype("Int64")
    return merged


CUSTOMER_MONEY = ("credit_minor", "paid_minor", "failed_amount_minor")
"""The money columns `customers` adds, whole minor units."""


def credit_totals(customers: pd.DataFrame) -> pd.DataFrame:
    """Per currency of a `customers` frame: the credit lines, their credits and failed
    amounts, and what the ledger paid, whole minor units. Paid counts every customer: one an
    earlier run paid that the newest run no longer credits too (the batches' totals)."""
    lacking = [c for c in (*CUSTOMER_MONEY, "customer_id", "currency") if c not in customers]
    if lacking:
        raise ValueError(
            "credit_totals: takes analysis.customers(con, run)'s frame: this one has no "
            + ", ".join(lacking)
        )
    credited = customers[customers["credit_minor"].notna()]
    paid = customers.groupby("currency")["paid_minor"].sum().rename("paid_minor")
    return (
        credited.groupby("currency")
        .agg(
            lines=("customer_id", "size"),
            credit_minor=("credit_minor", "sum"),
            failed_amount_minor=("failed_amount_minor", "sum"),
        )
        .join(paid, how="outer")
        .fillna(0)
        .astype("int64")
    )


@_reads_a_run
def exceptions(con: duckdb.DuckDBPyConnection, run: RunView) -> pd.DataFrame:
    """The run's exceptions for finance (grain: one row of its exceptions.csv)."""
    return db.run(con, "analysis_exceptions", run_id=run.run_id).df()


@_reads_a_run
def edge_transactions(con: duckdb.DuckDBPyConnection, run: RunView) -> pd.DataFrame:
    """Transactions within 30 minutes of a window edge (key: txn_id), both clocks side by side.

    `log_seconds_from_edge` and `table_seconds_from_edge` are signed (negative: before the
    edge); `inside_by_log` / `inside_by_table` say which side of the window each clock puts the
    transaction on, and `clocks_disagree` marks those the two clocks put on different sides.
    By the log, inside is a failure line inside: its first or last, or any line that made it a
    candidate of the logs (its class; the window widened by the clock skew, as the run read
    it): a payment that failed before the start and again after it is inside, and credited.
    """
    frame = db.run(con, "analysis_edge_transactions", run_id=run.run_id).df()
    for column in ("log_first_failure_utc", "table_created_at_utc"):
        frame[column.replace("_utc", "_local")] = _local(frame[column], run)
    frame["inside_by_log"] = (
        in_window(frame["log_first_failure_utc"], run)
        | in_window(frame["log_last_failure_utc"], run)
        | frame["class"].isin(LOG_CLASSES)
    )
    frame["inside_by_table"] = in_window(frame["table_created_at_utc"], run)
    both = frame["log_first_failure_utc"].notna() & frame["table_created_at_utc"].notna()
    frame["clocks_disagree"] = both & (frame["inside_by_log"] != frame["inside_by_table"])
    return frame


LOG_CLASSES = tuple(c for c in classes.CLASSES if c != "table_only")
"""The classes of a candidate of the logs: a failure line of it in the (widened) window."""


@_reads_a_run
def clock(instant: datetime, run: RunView) -> str:
    """For people: an instant in the run's time zone, to the minute with the zone's
    abbreviation (`2025-01-07 14:15 EST`), to the second when it falls between two minutes (a
    window edge at `14:15:30`), as `credits window` and the run's window_check show it."""
    return times.clock(instant, times.zone(run.timezone))


def _local(column: pd.Series, run: RunView) -> pd.Series:
    return pd.to_datetime(column, utc=True).dt.tz_convert(run.timezone)


@_reads_a_run
def in_window(column: pd.Series, run: RunView) -> pd.Series:
    """Whether each instant is inside the run's window `[start, end)` (missing: False)."""
    instants = pd.to_datetime(column, utc=True)
    start, end = pd.Timestamp(run.window_start_utc), pd.Timestamp(run.window_end_utc)
    return (instants >= start) & (instants < end)


def _pod(source_file: str) -> str:
    return re.match(r"[^.]*", source_file.rsplit("/", 1)[-1]).group(0)
