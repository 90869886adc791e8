"""`credits window`: the outage window the logs show, against the declared one (analysts).

Reads the incident's logs and tables itself (no Prefect, no warehouse, nothing written but a
scratch folder it removes); times in the incident's time zone.
"""

from __future__ import annotations

import enum
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from flows.cli.common import app, guarded, out, print_whole
from flows.cli.options import IncidentFileArgument


class WindowFormat(enum.StrEnum):
    """How `credits window` answers."""

    table = "table"
    json = "json"


@app.command()
def window(
    incident_file: IncidentFileArgument,
    output_format: Annotated[
        WindowFormat, typer.Option("--format", help="table or json")
    ] = WindowFormat.table,
) -> None:
    """Finds the outage in the logs and compares it with the incident's declared window.

    Outage-coded failure lines per minute against a median/MAD baseline (settings:
    `[window_detection]` in the incident file); for the detected window, the customers,
    transactions and credits per currency it would add or remove.
    """
    from transforms.ingest import incident
    from transforms.reconcile import window_compare

    def examine():
        loaded = incident.load(incident_file)
        with tempfile.TemporaryDirectory(prefix="credits-window-") as scratch:
            return window_compare.compare(loaded, Path(scratch))

    found = guarded(examine)
    answer = window_compare.as_json(found)
    if output_format == WindowFormat.json:
        sys.stdout.write(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
        return
    _print_answer(answer)


def _print_answer(answer: dict) -> None:
    zone = answer["timezone"]
    out.print(f"{answer['incident']}: times in {zone}", markup=False)
    declared = answer["declared"]
    start, end = _clock(declared["start_local"], zone), _clock(declared["end_local"], zone)
    out.print(f"declared window {start} to {end}")
    for gap in answer["gaps"]:  # counted as no failure, they would pass for a quiet stretch
        out.print(
            f"the logs cover no line from {_clock(gap['start_local'], zone)} to "
            f"{_clock(gap['end_local'], zone)} (no file holds one there): failures in it are "
            "unseen, and left out of the counts",
            markup=False,
        )
    baseline = answer["baseline"]
    if baseline is None:
        out.print(f"no baseline: {answer['problem']}", markup=False)
        return
    out.print(
        f"baseline {baseline['median']:g} outage-coded lines/min (MAD {baseline['mad']:g}, "
        f"{baseline['minutes']:,} minutes outside the window); above baseline: "
        f"{baseline['threshold']:g} lines/min or more"
    )
    if not answer["intervals"]:
        out.print(
            "no outage found: outage-coded failures stay at baseline, inside the declared window"
            " too; if the logs hold little but the outage, the baseline is the outage itself"
        )
        return
    intervals = Table(title="outages in the logs (lines per minute)")
    for column in ("onset", "recovery", "lines", "before", "during", "peak"):
        left = column in ("onset", "recovery")
        intervals.add_column(column, justify="left" if left else "right", no_wrap=True)
    for row in answer["intervals"]:
        before = row["rate_before_per_minute"]
        intervals.add_row(
            _clock(row["onset_local"], zone),
            _clock(row["recovery_local"], zone),
            f"{row['lines']:,}",
            "" if before is None else f"{before:.1f}",
            f"{row['rate_during_per_minute']:.1f}",
            f"{row['peak_lines']:,}",
        )
    print_whole(intervals)
    for row in answer["intervals"]:
        codes = ", ".join(f"{code} {lines:,}" for code, lines in row["codes"].items())
        out.print(f"  codes from {_clock(row['onset_local'], zone)}: {codes}", markup=False)
    detected, change = answer["detected"], answer["change"]
    start, end = _clock(detected["start_local"], zone), _clock(detected["end_local"], zone)
    out.print(f"detected window {start} to {end}")
    table = Table(title="the detected window instead of the declared one")
    for column in ("credited", "declared", "detected", "added", "removed"):
        table.add_column(column, justify="left" if column == "credited" else "right")
    for key in ("customers", "transactions"):
        table.add_row(key, *(f"{change[key][k]:,}" for k in _COLUMNS))
    from transforms import money

    for currency, row in change["credits_minor"].items():
        table.add_row(
            f"credits {currency}",
            *(money.display(row[k], currency) for k in _COLUMNS),
        )
    print_whole(table)


_COLUMNS = ("declared", "detected", "added", "removed")


def _clock(local_iso: str, zone: str) -> str:
    """`2025-01-07T14:15:00-05:00` in America/New_York as `2025-01-07 14:15 EST` (seconds when
    it has them): the zone's abbreviation tells the two 01:30s of a night the clocks go back
    apart."""
    from transforms import times

    return times.clock(datetime.fromisoformat(local_iso), ZoneInfo(zone))
