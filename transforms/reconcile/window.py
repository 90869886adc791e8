"""The outage window from the evidence: outage-coded failure lines per minute against a robust
baseline, the outage intervals they show, and every run's `window_check`.

`detect` is pure (per-minute counts in, intervals out), so that a run, `credits window` and
notebook 01 find the same outage in the same counts. The rule, every number a setting of the
incident file's `[window_detection]` (`incident.WindowDetection`, with defaults):

* counts: outage-coded failure lines (codes in `policy.outage_error_codes`, duplicates once) per
  minute, every minute of the logs' span within `reach` of the window, a minute without a line
  counting 0 (`sql/window_outage_minutes.sql`, `sql/window_log_span.sql`); but a stretch longer
  than `max_gap` that no log file covers is left out: unseen, not zero (`sql/window_log_gaps.sql`;
  near the window it leaves the check unchecked);
* baseline: the median and MAD of the minutes wholly outside the declared window;
* a minute is above baseline when its count exceeds the median by at least
  max(`mad_multiplier` x 1.4826 x MAD, `min_rise_lines`);
* an interval is a run of minutes above baseline, joined across at most `max_gap` of minutes
  back at baseline, kept when it lasts at least `min_duration`; onset is its first minute above
  baseline, recovery the minute after its last;
* evidence per interval: lines per minute over the `edge_margin` before the onset and during
  it, its peak minute and the codes involved.

The window_check warns (never blocks) when an interval reaches into the `edge_margin` outside
either edge of the declared window: outage-coded failures stayed above baseline there.
"""

from __future__ import annotations

import enum
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from transforms import commands, db, times
from transforms.ingest.incident import Incident, WindowDetection

MINUTE = timedelta(minutes=1)
MAD_TO_SIGMA = 1.4826  # MAD x this estimates the standard deviation of normal data


class Status(enum.StrEnum):
    """How a run's window_check came out (the manifest writes the value)."""

    OK = "ok"  # outage-coded failures at baseline within edge_margin outside both edges
    WARNING = "warning"  # above baseline outside an edge: see the findings
    UNCHECKED = "unchecked"  # no baseline, or the logs read do not reach the margin


OK, WARNING, UNCHECKED = Status.OK, Status.WARNING, Status.UNCHECKED


@dataclass(frozen=True)
class Baseline:
    """The normal rate: outage-coded lines per minute outside the declared window."""

    median: float
    mad: float
    threshold: float  # a minute with at least this many lines is above baseline
    minutes: int  # how many minutes it was taken from


@dataclass(frozen=True)
class Interval:
    """One outage found in the logs: `[onset_utc, recovery_utc)`, whole minutes, and its
    evidence (lines per minute; `rate_before` is None when the logs start at the onset)."""

    onset_utc: datetime
    recovery_utc: datetime
    lines: int
    peak_lines: int
    rate_before: float | None
    rate_during: float
    codes: tuple[tuple[str, int], ...]  # outage codes and their lines, most lines first

    @property
    def minutes(self) -> int:
        return int((self.recovery_utc - self.onset_utc) / MINUTE)


@dataclass(frozen=True)
class Detection:
    """What the logs show: their span in whole minutes, the baseline and the intervals in time
    order. `problem` says why there is no baseline (then there are no intervals)."""

    first_minute_utc: datetime | None
    last_minute_utc: datetime | None
    baseline: Baseline | None
    intervals: tuple[Interval, ...]
    problem: str | None = None
    # [from, to) stretches of the span no log file covers: left out of the counts (unseen, not
    # zero), at least `max_gap` long (a shorter one, between two files' rotations, is joined)
    gaps: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class EdgeFinding:
    """Outage-coded failures above baseline outside one edge of the declared window:
    `[from_utc, to_utc)`, its lines, and the customers no candidate transaction covers."""

    edge: str  # start | end
    from_utc: datetime
    to_utc: datetime
    lines: int
    customers_left_out: int


@dataclass(frozen=True)
class Check:
    """The run's window_check: ok, warning (with its findings) or unchecked (with why)."""

    status: Status
    findings: tuple[EdgeFinding, ...] = ()
    unchecked: tuple[str, ...] = ()
    detection: Detection | None = None

    def messages(self, incident: Incident, spell: Callable[[str], str]) -> list[str]:
        """One line per finding or unchecked edge, times in the incident's zone; the last names
        the command to run, once (`spell` spells it: `commands.credits` printed,
        `commands.saved` in the manifest)."""
        typed = spell(commands.window_of(incident.path))
        shown = [
            f"window_check: outage-coded failures above baseline {_clock(incident, f.from_utc)}"
            f" to {_clock(incident, f.to_utc)}, outside the window's {f.edge} "
            f"({f.lines:,} lines; {f.customers_left_out:,} customers left out)"
            for f in self.findings
        ]
        shown += [f"window_check: not checked: {why}" for why in self.unchecked]
        if not shown:
            return []
        # The run reads only the logs near its window; `credits window` reads around it.
        see = f"; `{typed}` checks the edges against all the logs" if self.unchecked else ""
        return [*shown[:-1], shown[-1] + (see or f"; see `{typed}`")]

    def as_json(self, incident: Incident) -> dict[str, Any]:
        """The manifest's `window_check`, with the detection it rests on: its settings and the
        logs' span, from which the per-minute counts give the same detection again."""
        found = self.detection
        return {
            "status": self.status,
            "edge_margin_minutes": int(incident.window_detection.edge_margin / MINUTE),
            "settings": settings_json(incident.window_detection),
            "span_utc": None
            if found is None or found.first_minute_utc is None
            else [times.iso_utc(found.first_minute_utc), times.iso_utc(found.last_minute_utc)],
            "baseline": None if found is None else found.baseline and asdict(found.baseline),
            "gaps_utc": []
            if found is None
            else [[times.iso_utc(low), times.iso_utc(high)] for low, high in found.gaps],
            "intervals": []
            if found is None
            else [interval_json(incident, i) for i in found.intervals],
            "findings": [
                {
                    "edge": f.edge,
                    "from_local": incident.local(f.from_utc).isoformat(),
                    "to_local": incident.local(f.to_utc).isoformat(),
                    "lines": f.lines,
                    "customers_left_out": f.customers_left_out,
                }
                for f in self.findings
            ],
            "unchecked": list(self.unchecked),
            "messages": self.messages(incident, commands.saved),
        }


def detect(
    counts: Iterable[tuple[datetime, str | None, int]],
    declared: tuple[datetime, datetime],
    span: tuple[datetime, datetime] | None,
    settings: WindowDetection,
    gaps: tuple[tuple[datetime, datetime], ...] = (),
) -> Detection:
    """Finds the outage intervals in per-minute counts of outage-coded lines.

    `counts` are (minute_utc, error_code, lines) rows, `span` the first and last minute the logs
    cover (None: the first and last minute of `counts`); minutes outside the span, and in
    `gaps` (stretches no log file covers), are left out: no line there is not zero lines.
    """
    rows = [(minute, code, lines) for minute, code, lines in counts if lines]
    if span is None and rows:
        span = (min(r[0] for r in rows), max(r[0] for r in rows))
    if span is None:
        return Detection(None, None, None, (), "no outage-coded failure line in the logs")
    first, last = span
    grid = [first + i * MINUTE for i in range(int((last - first) / MINUTE) + 1)]
    grid = [m for m in grid if not any(low <= m < high for low, high in gaps)]
    per_minute = dict.fromkeys(grid, 0)
    per_code: dict[datetime, Counter[str]] = {}
    for minute, code, lines in rows:
        if minute in per_minute:
            per_minute[minute] += lines
            per_code.setdefault(minute, Counter())[code or "(no code)"] += lines
    start, end = declared
    outside = [n for m, n in per_minute.items() if m + MINUTE <= start or m >= end]
    if not outside:
        problem = "the logs have no minute outside the declared window to take a baseline from"
        return Detection(first, last, None, (), problem, gaps)
    baseline = _baseline(outside, settings)
    above = [m for m, n in per_minute.items() if n >= baseline.threshold]
    intervals = tuple(
        _interval(onset, recovery, per_minute, per_code, settings)
        for onset, recovery in _runs(above, settings)
    )
    return Detection(first, last, baseline, intervals, gaps=gaps)


def detect_again(
    counts: Iterable[tuple[datetime, str | None, int]],
    declared: tuple[datetime, datetime],
    settings: WindowDetection,
    span: tuple[datetime, datetime] | None,
    gaps: tuple[tuple[datetime, datetime], ...] = (),
) -> Detection:
    """The detection a run's window_check rests on, from the run's per-minute counts and the
    settings, logs' span and stretches no log covered its manifest wrote (`Check.as_json`);
    without a span (a run from before the check), over the counts within `reach` of the
    window."""
    if span:
        return detect(counts, declared, span, settings, gaps)
    low, high = declared[0] - settings.reach, declared[1] + settings.reach
    return detect([c for c in counts if low <= c[0] < high], declared, None, settings)


def detected_window(
    detection: Detection, declared: tuple[datetime, datetime], settings: WindowDetection
) -> tuple[datetime, datetime] | None:
    """The window the logs point to: from the first onset to the last recovery of the intervals
    that reach within `edge_margin` of the declared window, else the longest interval."""
    low, high = declared[0] - settings.edge_margin, declared[1] + settings.edge_margin
    near = [i for i in detection.intervals if i.onset_utc < high and i.recovery_utc > low]
    if not near:
        if not detection.intervals:
            return None
        longest = max(detection.intervals, key=lambda i: (i.minutes, -i.onset_utc.timestamp()))
        near = [longest]
    return min(i.onset_utc for i in near), max(i.recovery_utc for i in near)


def find(con: duckdb.DuckDBPyConnection, incident: Incident) -> Detection:
    """`detect` over the work database's failure lines (`int_failure_lines`, `log_files`)."""
    settings = incident.window_detection
    lower = incident.window_start - settings.reach
    upper = incident.window_end + settings.reach
    counts = db.run(
        con,
        "window_outage_minutes",
        outage_error_codes=list(incident.policy.outage_error_codes),
        lower=lower,
        upper=upper,
    ).fetchall()
    ((first, last),) = db.run(con, "window_log_span", lower=lower, upper=upper).fetchall()
    span = None if first is None else (first, last)
    shortest = int(settings.max_gap / MINUTE) + 1
    gaps = tuple(
        tuple(gap)
        for gap in db.run(
            con, "window_log_gaps", lower=lower, upper=upper, min_minutes=shortest
        ).fetchall()
    )
    return detect(counts, (incident.window_start, incident.window_end), span, settings, gaps)


def check(con: duckdb.DuckDBPyConnection, incident: Incident) -> Check:
    """The window_check of a run, from its work database after classification (`evidence`)."""
    margin = incident.window_detection.edge_margin
    start, end = incident.window_start, incident.window_end
    detection = find(con, incident)
    if detection.baseline is None:
        return Check(
            UNCHECKED, unchecked=(detection.problem or "no baseline",), detection=detection
        )
    unchecked = []
    if detection.first_minute_utc is None or detection.first_minute_utc > start - margin:
        unchecked.append(f"the logs read do not reach {_minutes(margin)} before the start")
    if detection.last_minute_utc is None or detection.last_minute_utc + MINUTE < end + margin:
        unchecked.append(f"the logs read do not reach {_minutes(margin)} after the end")
    unchecked += [
        f"the logs cover no line from {_clock(incident, low)} to {_clock(incident, high)} (no "
        "file holds one there): failures in it are unseen, not zero"
        for low, high in detection.gaps
        if low < end + margin and high > start - margin
    ]
    stretches = []
    for interval in detection.intervals:
        if interval.onset_utc < start and interval.recovery_utc > start - margin:
            stretches.append(("start", interval.onset_utc, min(interval.recovery_utc, start)))
        if interval.recovery_utc > end and interval.onset_utc < end + margin:
            stretches.append(("end", max(interval.onset_utc, end), interval.recovery_utc))
    # An edge between two minutes: the onset (or last) minute may hold no line outside it.
    found = (_finding(con, incident, *stretch) for stretch in stretches)
    findings = tuple(finding for finding in found if finding.lines)
    if not findings and not any(
        i.onset_utc < end and i.recovery_utc > start for i in detection.intervals
    ):
        # Nothing above the baseline inside the window either: an edge is only vouched for
        # against an outage seen. Either the window holds no outage the counts show (too few
        # lines), or the minutes read outside it are the outage itself (a window too narrow at
        # both edges leaves little else in the files a run reads), and the baseline with them.
        read = detection.baseline.minutes
        unchecked.append(
            "no outage above the baseline inside the declared window "
            f"({read:,} minutes outside it read, perhaps the outage itself)"
        )
    status = WARNING if findings else UNCHECKED if unchecked else OK
    return Check(status, findings, tuple(unchecked), detection)


def interval_json(incident: Incident, interval: Interval) -> dict[str, Any]:
    """An interval as plain JSON values, times in the incident's zone."""
    return {
        "onset_local": incident.local(interval.onset_utc).isoformat(),
        "recovery_local": incident.local(interval.recovery_utc).isoformat(),
        "minutes": interval.minutes,
        "lines": interval.lines,
        "peak_lines": interval.peak_lines,
        "rate_before_per_minute": interval.rate_before,
        "rate_during_per_minute": interval.rate_during,
        "codes": dict(interval.codes),
    }


DURATIONS = ("max_gap", "min_duration", "edge_margin", "reach")


def settings_json(settings: WindowDetection) -> dict[str, Any]:
    """The settings as plain JSON values: the multiplier exact (a string), durations in minutes."""
    return {
        "mad_multiplier": str(settings.mad_multiplier),
        "min_rise_lines": settings.min_rise_lines,
        **{f"{key}_minutes": int(getattr(settings, key) / MINUTE) for key in DURATIONS},
    }


def _finding(
    con: duckdb.DuckDBPyConnection, incident: Incident, edge: str, low: datetime, high: datetime
) -> EdgeFinding:
    ((lines, customers),) = db.run(
        con,
        "window_left_out",
        outage_error_codes=list(incident.policy.outage_error_codes),
        from_utc=low,
        to_utc=high,
    ).fetchall()
    return EdgeFinding(edge, low, high, lines, customers)


def _baseline(outside: list[int], settings: WindowDetection) -> Baseline:
    median = float(statistics.median(outside))
    mad = float(statistics.median(abs(n - median) for n in outside))
    rise = max(float(settings.mad_multiplier) * MAD_TO_SIGMA * mad, settings.min_rise_lines)
    return Baseline(median, mad, median + rise, len(outside))


def _runs(above: list[datetime], settings: WindowDetection) -> list[tuple[datetime, datetime]]:
    """Minutes above baseline as [onset, recovery) runs: joined across gaps of at most
    `max_gap`, kept when at least `min_duration` long."""
    runs: list[list[datetime]] = []
    for minute in above:
        if runs and minute - runs[-1][1] <= settings.max_gap:
            runs[-1][1] = minute + MINUTE
        else:
            runs.append([minute, minute + MINUTE])
    return [(onset, end) for onset, end in runs if end - onset >= settings.min_duration]


def _interval(
    onset: datetime,
    recovery: datetime,
    per_minute: dict[datetime, int],
    per_code: dict[datetime, Counter[str]],
    settings: WindowDetection,
) -> Interval:
    during = [per_minute[onset + i * MINUTE] for i in range(int((recovery - onset) / MINUTE))]
    before = [
        per_minute[m]
        for m in (onset - (i + 1) * MINUTE for i in range(int(settings.edge_margin / MINUTE)))
        if m in per_minute
    ]
    codes: Counter[str] = Counter()
    for i in range(len(during)):
        codes.update(per_code.get(onset + i * MINUTE, Counter()))
    return Interval(
        onset_utc=onset,
        recovery_utc=recovery,
        lines=sum(during),
        peak_lines=max(during),
        rate_before=sum(before) / len(before) if before else None,
        rate_during=sum(during) / len(during),
        codes=tuple(sorted(codes.items(), key=lambda item: (-item[1], item[0]))),
    )


def _clock(incident: Incident, instant: datetime) -> str:
    return times.clock(instant, ZoneInfo(incident.timezone))


def _minutes(duration: timedelta) -> str:
    return f"{int(duration / MINUTE)} minutes"
