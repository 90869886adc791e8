"""A run's report for people: `report.html` in the run folder, one self-contained page.

What the run found at a glance: the verdict, the window, the log funnel, the classes, the credit
totals per currency, failures per minute with the window marked, the gate's findings and the
exceptions by kind, with examples. Written for passing and rejected runs alike, before the
manifest (which lists it). Self-contained: inline CSS and an inline SVG chart, no script, and a
content security policy that forbids loading anything. This module computes what the page shows
(counts, times, money, tables, the chart drawn by matplotlib); `templates/report.html` lays it
out, and escapes every value from the data.
"""

from __future__ import annotations

import functools
import html
import io
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from transforms import commands, db, files, money, pages
from transforms.ingest.incident import Incident
from transforms.quality.gate import SLACK, Verdict
from transforms.reconcile import window
from transforms.runfolder.manifest import Accounting
from transforms.runfolder.manifest_model import Candidates, LogFunnel
from transforms.runfolder.runs import Run, RunStatus

NAME = "report.html"
TOP_EXCEPTIONS_PER_KIND = 3
# How far beyond the window the chart reaches (the gate's slack for log times): a line stamped
# decades off (a clock reset to 1970) would otherwise stretch it over millions of minutes.
CHART_REACH = SLACK
# What the summary escapes once its `<`, `>` and `&` are entities: the inline markup only, so that
# its text stays as it has always been (`pages.MARKDOWN_PUNCTUATION` would escape `(){}#+-!~` too).
MARKDOWN_MARKUP = "\\`*_[]|"


@dataclass(frozen=True)
class Table:
    """A table on the page: column titles, rows of text, and the columns that hold numbers."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Report:
    """The written report and its markdown summary (for a Prefect artifact)."""

    path: Path
    markdown: str


def write(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    run: Run,
    accounting: Accounting,
    verdict: Verdict,
    window_check: window.Check | None = None,
    warehouse: str | None = None,
) -> Report:
    """Writes `report.html` into the run folder from the work database, the gate's verdict and
    the window_check; its commands name `warehouse`, the one the run loads into (None: the
    default, named by none)."""
    content = summarize(con, incident, run, accounting, verdict, window_check, warehouse)
    rows = db.run(
        con,
        "report_failure_minutes",
        outage_error_codes=list(incident.policy.outage_error_codes),
        chart_start=incident.window_start - CHART_REACH,
        chart_end=incident.window_end + CHART_REACH,
    ).fetchall()
    minutes = [row for row in rows if row[0] is not None]
    off_chart = sum(outage + other for minute, outage, other in rows if minute is None)
    path = run.folder / NAME
    files.write_text(path, render(content, minutes, off_chart))
    return Report(path, markdown(content))


def summarize(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    run: Run,
    accounting: Accounting,
    verdict: Verdict,
    window_check: window.Check | None = None,
    warehouse: str | None = None,
) -> dict[str, Any]:
    """What the report shows, shaped like the manifest (same keys where they overlap), and the
    warehouse its commands name."""
    per_currency = db.records(db.run(con, "report_credit_totals"))
    top = db.records(db.run(con, "report_top_exceptions", per_kind=TOP_EXCEPTIONS_PER_KIND))
    exceptions = con.table("exceptions").aggregate("exception, count(*)", "exception").fetchall()
    return {
        "run_id": run.run_id,
        "verdict": RunStatus.PENDING_APPROVAL if verdict.passed else RunStatus.REJECTED,
        "incident": {"id": incident.id, "title": incident.title, "timezone": incident.timezone},
        "window": {
            "start_utc": incident.window_start,
            "end_utc": incident.window_end,
        },
        "policy": {"version": incident.policy.version, "basis": incident.policy.basis},
        "log_funnel": accounting.funnel,
        "candidates": accounting.candidates,
        "credit_totals": [row for row in per_currency if row["currency"] is not None],
        "credit_overall": next(row for row in per_currency if row["currency"] is None),
        "exceptions": dict(sorted(exceptions)),
        "top_exceptions": top,
        "validation": {"blocking": list(verdict.blocking), "warnings": list(verdict.warnings)},
        "window_check": None if window_check is None else window_check.as_json(incident),
        "started_at": run.started_at,
        "warehouse": warehouse,
    }


def artifact_key(incident_id: str) -> str:
    """The Prefect artifact key of an incident's run report (lowercase letters, digits, dashes)."""
    return "run-report-" + re.sub(r"[^a-z0-9-]+", "-", incident_id.lower())


def markdown(content: dict[str, Any]) -> str:
    """A short markdown summary of the run (Prefect's artifact), values escaped for markdown."""
    incident = content["incident"]
    tz = ZoneInfo(incident["timezone"])
    declared = content["window"]
    lines = [
        f"# {_md(incident['id'])}: {_md(content['verdict'].replace('_', ' '))}",
        "",
        f"{_md(incident['title'])}  ",
        f"Run `{content['run_id']}`, window {_local(declared['start_utc'], tz)} to "
        f"{_local(declared['end_utc'], tz)} ({_md(incident['timezone'])}), "
        f"policy {_md(content['policy']['version'])}",
        "",
        "| currency | credit lines | customers | total |",
        "|---|---:|---:|---:|",
    ]
    for row in content["credit_totals"]:
        lines.append(
            f"| {row['currency']} | {row['credit_lines']:,} | {row['customers']:,} | "
            f"{_money(row['credit_minor'], row['currency'])} |"
        )
    classes = ", ".join(f"{k} {v:,}" for k, v in content["candidates"].by_class.items())
    exceptions = ", ".join(f"{k} {v:,}" for k, v in content["exceptions"].items()) or "none"
    lines += ["", f"Classes: {_md(classes)}  ", f"Exceptions: {_md(exceptions)}"]
    blocking = content["validation"]["blocking"]
    if blocking:
        lines += ["", "Blocked by the quality gate:", *(f"- {_md(b)}" for b in blocking)]
    checked = content.get("window_check")
    if checked and checked["status"] == window.WARNING:
        lines += ["", "Window check (not blocking):"]
        lines += [f"- {_md(message)}" for message in checked["messages"]]
    return "\n".join(lines) + "\n"


def render(
    content: dict[str, Any], minutes: Sequence[tuple[datetime, int, int]], off_chart: int = 0
) -> str:
    """The report as one HTML page; `minutes` are (minute_utc, outage_lines, other_lines) within
    `CHART_REACH` of the window, `off_chart` the failure lines farther away."""
    incident = content["incident"]
    tz = ZoneInfo(incident["timezone"])
    start, end = content["window"]["start_utc"], content["window"]["end_utc"]
    totals = content["credit_totals"]
    warehouse = content["warehouse"]
    return pages.render(
        "report.html",
        title=f"{incident['id']} run {content['run_id']}: {incident['title']}",
        incident_id=incident["id"],
        rejected=content["verdict"] == RunStatus.REJECTED,
        run_id=content["run_id"],
        approve_command=commands.saved(
            commands.on_warehouse(f"approve {shlex.quote(content['run_id'])} --by NAME", warehouse)
        ),
        runs_command=commands.saved(
            commands.on_warehouse(commands.runs_of(incident["id"]), warehouse)
        ),
        timezone=incident["timezone"],
        window_local=(_local(start, tz), _local(end, tz)),
        window_utc=(_utc(start), _utc(end)),
        started_local=_local(content["started_at"], tz),
        started_utc=_utc(content["started_at"]),
        policy_version=content["policy"]["version"],
        policy_basis=content["policy"]["basis"],
        totals=[money.display(row["credit_minor"], row["currency"]) for row in totals],
        cards=_cards(content),
        chart=chart_svg(minutes, start, end, tz),
        off_chart=f"{off_chart:,}" if off_chart else "",
        chart_reach_days=CHART_REACH.days,
        funnel=_funnel_table(content["log_funnel"]),
        classes=_class_table(content["candidates"]),
        credit_totals=_totals_table(totals),
        blocking=content["validation"]["blocking"],
        warnings=content["validation"]["warnings"],
        window_check=content.get("window_check"),
        exception_counts=Table(
            ("exception", "rows"),
            tuple((kind, f"{count:,}") for kind, count in content["exceptions"].items()),
            numeric=frozenset({1}),
        ),
        top_exceptions=_top_exceptions_table(content["top_exceptions"]),
        top_per_kind=TOP_EXCEPTIONS_PER_KIND,
    )


NO_CHART = "<p>No failure lines in the logs: no chart to draw.</p>"


def preload() -> None:
    """Imports matplotlib (about half a second): a caller may run it in a background thread
    while it waits for something else (Prefect's start-up)."""
    import matplotlib.figure  # noqa: F401


def chart_svg(
    minutes: Sequence[tuple[datetime, int, int]], start: datetime, end: datetime, tz: ZoneInfo
) -> str:
    """Failures per minute (outage codes stacked under the rest), the window shaded: inline SVG;
    without a failure line, a sentence (no chart to draw, and no matplotlib to import)."""
    if not minutes:
        return NO_CHART
    return _drawn(tuple(tuple(row) for row in minutes), start, end, tz)


@functools.lru_cache(maxsize=8)
def _drawn(
    minutes: tuple[tuple[datetime, int, int], ...], start: datetime, end: datetime, tz: ZoneInfo
) -> str:
    """`chart_svg`'s drawing, kept for the process: the same counts, window and zone draw the
    same bytes, and drawing is about a tenth of a small run's CPU (0.08 s), paid again by every
    run of the same incident in one process (the long-lived server, a finance desk's reruns, the
    tests). Nothing the process changes reaches the drawing: matplotlib's settings are the
    defaults and this chart's own."""
    import matplotlib  # imported here: only the report draws
    from matplotlib import dates
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.2), dpi=96, layout="constrained")
    ax = figure.add_subplot()
    ax.axvspan(start, end, color="#f4a261", alpha=0.25, lw=0, label="outage window")
    times, outage, other = _every_minute(minutes)
    total = [a + b for a, b in zip(outage, other, strict=True)]
    ax.fill_between(times, outage, step="post", color="#c0392b", lw=0, label="outage error codes")
    ax.fill_between(times, outage, total, step="post", color="#7f8c8d", lw=0, label="other codes")
    margin = (end - start) / 10  # the window's edges stay visible
    ax.set_xlim(min(times[0], start - margin), max(times[-1], end + margin))
    locator = dates.AutoDateLocator(tz=tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, tz=tz))
    ax.set_ylabel("failure lines / minute")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#ddd", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    figure.legend(loc="outside upper left", ncols=3, frameon=False, fontsize="small")
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "report"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: the page is HTML


def _every_minute(
    minutes: Sequence[tuple[datetime, int, int]],
) -> tuple[list[datetime], list[int], list[int]]:
    """The per-minute counts with the minutes without a failure filled in as zero."""
    counts = {minute: (outage, other) for minute, outage, other in minutes}
    first, last = minutes[0][0], minutes[-1][0]
    times = [
        first + timedelta(minutes=i) for i in range(int((last - first).total_seconds() // 60) + 2)
    ]
    filled = [counts.get(t, (0, 0)) for t in times]
    return times, [f[0] for f in filled], [f[1] for f in filled]


def _cards(content: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The counts shown as cards beside the credit totals: (label, value)."""
    overall = content["credit_overall"]
    return (
        ("customers credited", f"{overall['customers']:,}"),
        ("credit lines", f"{overall['credit_lines']:,}"),
        ("candidate transactions", f"{content['candidates'].total:,}"),
        ("exceptions", f"{sum(content['exceptions'].values()):,}"),
    )


def _funnel_table(funnel: LogFunnel) -> Table:
    rows = [(k.replace("_", " "), f"{v:,}") for k, v in funnel.counts.items()]
    rows.append(("every line in one bucket", "yes" if funnel.identity_holds else "NO"))
    return Table(("log lines", "count"), tuple(rows), numeric=frozenset({1}))


def _class_table(candidates: Candidates) -> Table:
    rows = [(k, f"{v:,}") for k, v in candidates.by_class.items()]
    rows.append(("total", f"{candidates.total:,}"))
    return Table(("class", "transactions"), tuple(rows), numeric=frozenset({1}))


def _totals_table(credit_totals: list[dict[str, Any]]) -> Table:
    rows = tuple(
        (
            row["currency"],
            f"{row['credit_lines']:,}",
            f"{row['credited_txns']:,}",
            _money(row["credit_minor"], row["currency"]),
            _money(row["failed_minor"], row["currency"]),
        )
        for row in credit_totals
    )
    columns = ("currency", "credit lines", "credited payments", "total credit", "failed amount")
    return Table(columns, rows, numeric=frozenset({1, 2, 3, 4}))


def _top_exceptions_table(top: list[dict[str, Any]]) -> Table:
    rows = tuple(
        (
            e["exception"],
            e["customer_id"] or "",
            e["txn_id"] or "",
            "" if e["txn_count"] is None else f"{e['txn_count']:,}",
            _money(e["credit_owed_minor"], e["currency"]),
            _money(e["failed_amount_minor"], e["currency"]),
            e["detail"] or "",
        )
        for e in top
    )
    columns = (
        "exception",
        "customer",
        "transaction",
        "payments",
        "credit owed",
        "failed amount",
        "detail",
    )
    return Table(columns, rows, numeric=frozenset({3, 4, 5}))


def _money(amount_minor: int | None, currency: str | None) -> str:
    return "" if amount_minor is None or currency is None else money.display(amount_minor, currency)


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _utc(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def _md(value: Any) -> str:
    """Text that markdown shows as written: any HTML as entities, then `MARKDOWN_MARKUP`
    escaped."""
    return pages.markdown_text(html.escape(str(value), quote=False), MARKDOWN_MARKUP)
