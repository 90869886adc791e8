"""A run's report for people: `report.html` in the run folder, one self-contained page.

What the run found at a glance: the verdict, the window, the log funnel, the classes, the credit
totals per currency, failures per minute with the window marked, the gate's findings and the
exceptions by kind, with examples. Written for passing and rejected runs alike, before the
manifest (which lists it). Self-contained: inline CSS and an inline SVG chart, no script, and a
content security policy that forbids loading anything. Every value from the data is escaped.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from transforms import db, files, money, publish
from transforms.gate import SLACK, Verdict
from transforms.incident import Incident
from transforms.manifest import Accounting
from transforms.runs import Run

NAME = "report.html"
TOP_EXCEPTIONS_PER_KIND = 3
# How far beyond the window the chart reaches (the gate's slack for log times): a line stamped
# decades off (a clock reset to 1970) would otherwise stretch it over millions of minutes.
CHART_REACH = SLACK


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
) -> Report:
    """Writes `report.html` into the run folder from the work database and the gate's verdict."""
    content = summarize(con, incident, run, accounting, verdict)
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
) -> dict[str, Any]:
    """What the report shows, shaped like the manifest (same keys where they overlap)."""
    per_currency = db.records(db.run(con, "report_credit_totals"))
    top = db.records(db.run(con, "report_top_exceptions", per_kind=TOP_EXCEPTIONS_PER_KIND))
    exceptions = con.table("exceptions").aggregate("exception, count(*)", "exception").fetchall()
    return {
        "run_id": run.run_id,
        "verdict": publish.PENDING_APPROVAL if verdict.passed else publish.REJECTED,
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
        "started_at": run.started_at,
    }


def artifact_key(incident_id: str) -> str:
    """The Prefect artifact key of an incident's run report (lowercase letters, digits, dashes)."""
    return "run-report-" + re.sub(r"[^a-z0-9-]+", "-", incident_id.lower())


def markdown(content: dict[str, Any]) -> str:
    """A short markdown summary of the run (Prefect's artifact), values escaped for markdown."""
    incident = content["incident"]
    tz = ZoneInfo(incident["timezone"])
    window = content["window"]
    lines = [
        f"# {_md(incident['id'])}: {_md(content['verdict'].replace('_', ' '))}",
        "",
        f"{_md(incident['title'])}  ",
        f"Run `{content['run_id']}`, window {_local(window['start_utc'], tz)} to "
        f"{_local(window['end_utc'], tz)} ({_md(incident['timezone'])}), "
        f"policy {_md(content['policy']['version'])}",
        "",
        "| currency | credit lines | customers | total |",
        "|---|---:|---:|---:|",
    ]
    for row in content["credit_totals"]:
        lines.append(
            f"| {row['currency']} | {row['credit_lines']:,} | {row['customers']:,} | "
            f"{money.display(row['credit_minor'], row['currency'])} |"
        )
    classes = ", ".join(f"{k} {v:,}" for k, v in content["candidates"]["by_class"].items())
    exceptions = ", ".join(f"{k} {v:,}" for k, v in content["exceptions"].items()) or "none"
    lines += ["", f"Classes: {_md(classes)}  ", f"Exceptions: {_md(exceptions)}"]
    blocking = content["validation"]["blocking"]
    if blocking:
        lines += ["", "Blocked by the quality gate:", *(f"- {_md(b)}" for b in blocking)]
    return "\n".join(lines) + "\n"


def render(
    content: dict[str, Any], minutes: Sequence[tuple[datetime, int, int]], off_chart: int = 0
) -> str:
    """The report as one HTML page; `minutes` are (minute_utc, outage_lines, other_lines) within
    `CHART_REACH` of the window, `off_chart` the failure lines farther away."""
    incident = content["incident"]
    tz = ZoneInfo(incident["timezone"])
    window = content["window"]
    rejected = content["verdict"] == publish.REJECTED
    title = f"{incident['id']}: {incident['title']}"
    body = [
        f"<h1>{_h(title)}</h1>",
        _verdict_banner(content),
        "<p class=meta>"
        f"Window <b>{_h(_local(window['start_utc'], tz))}</b> to "
        f"<b>{_h(_local(window['end_utc'], tz))}</b> ({_h(incident['timezone'])}; "
        f"{_h(_utc(window['start_utc']))} to {_h(_utc(window['end_utc']))} UTC, end exclusive)"
        f"<br>Run <code>{_h(content['run_id'])}</code>, started {_h(_utc(content['started_at']))} "
        f"UTC. Policy <b>{_h(content['policy']['version'])}</b> "
        f"({_h(content['policy']['basis'])}).</p>",
        _cards(content, rejected),
        "<h2>Payment failures per minute</h2>",
        f"<figure>{chart_svg(minutes, window['start_utc'], window['end_utc'], tz)}"
        f"<figcaption>Failure lines per minute over the log, in "
        f"{_h(incident['timezone'])} time; the shaded band is the outage window."
        f"{_off_chart_note(off_chart)}</figcaption>"
        "</figure>",
        "<div class=cols>",
        _section("Log funnel", _funnel_table(content["log_funnel"])),
        _section("Candidate transactions by class", _class_table(content["candidates"])),
        "</div>",
        _section(
            "Credits per currency" + (" (proposed, not published)" if rejected else ""),
            _totals_table(content),
        ),
        _section("Quality gate", _gate(content["validation"])),
        _section("Exceptions for finance", _exceptions(content)),
    ]
    return _PAGE.format(title=_h(title), style=_STYLE, body="\n".join(body))


def chart_svg(
    minutes: Sequence[tuple[datetime, int, int]], start: datetime, end: datetime, tz: ZoneInfo
) -> str:
    """Failures per minute (outage codes stacked under the rest), the window shaded: inline SVG."""
    import matplotlib  # imported here: only the report draws
    from matplotlib import dates
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.2), dpi=96, layout="constrained")
    ax = figure.add_subplot()
    ax.axvspan(start, end, color="#f4a261", alpha=0.25, lw=0, label="outage window")
    if minutes:
        times, outage, other = _every_minute(minutes)
        total = [a + b for a, b in zip(outage, other, strict=True)]
        ax.fill_between(
            times, outage, step="post", color="#c0392b", lw=0, label="outage error codes"
        )
        ax.fill_between(
            times, outage, total, step="post", color="#7f8c8d", lw=0, label="other codes"
        )
    else:
        ax.text(0.5, 0.5, "no failure lines in the logs", transform=ax.transAxes, ha="center")
        times = [start, end]
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


def _off_chart_note(lines: int) -> str:
    if not lines:
        return ""
    return (
        f" <b>{lines:,} failure line(s)</b> more than {CHART_REACH.days} day(s) from the window "
        "are not drawn (a clock far off?)."
    )


def _verdict_banner(content: dict[str, Any]) -> str:
    if content["verdict"] == publish.REJECTED:
        return (
            "<p class='banner rejected'><b>Rejected by the quality gate.</b> No credit file was "
            "published and nothing will be paid from this run; the blocking findings are listed "
            "under <i>Quality gate</i>.</p>"
        )
    return (
        "<p class='banner pending'><b>Passed the quality gate: waiting for finance's approval."
        f"</b> <code>credits approve {_h(content['run_id'])} --by NAME</code></p>"
    )


def _cards(content: dict[str, Any], rejected: bool) -> str:
    overall = content["credit_overall"]
    totals = "<br>".join(
        _h(money.display(row["credit_minor"], row["currency"])) for row in content["credit_totals"]
    )
    label = "proposed credits" if rejected else "credits to pay"
    cards = [
        (label, f"<span class=totals>{totals or '0'}</span>"),
        ("customers credited", f"{overall['customers']:,}"),
        ("credit lines", f"{overall['credit_lines']:,}"),
        ("candidate transactions", f"{content['candidates']['total']:,}"),
        ("exceptions", f"{sum(content['exceptions'].values()):,}"),
    ]
    return (
        "<div class=cards>"
        + "".join(
            f"<div class=card><div class=label>{_h(k)}</div><div class=value>{v}</div></div>"
            for k, v in cards
        )
        + "</div>"
    )


def _funnel_table(funnel: dict[str, Any]) -> str:
    rows = [(k.replace("_", " "), f"{v:,}") for k, v in funnel.items() if k != "identity_holds"]
    holds = funnel.get("identity_holds")
    rows.append(("every line in one bucket", "yes" if holds else "NO"))
    return _table(("log lines", "count"), rows, numeric=(1,))


def _class_table(candidates: dict[str, Any]) -> str:
    rows = [(k, f"{v:,}") for k, v in candidates["by_class"].items()]
    rows.append(("total", f"{candidates['total']:,}"))
    return _table(("class", "transactions"), rows, numeric=(1,))


def _totals_table(content: dict[str, Any]) -> str:
    rows = [
        (
            row["currency"],
            f"{row['credit_lines']:,}",
            f"{row['credited_txns']:,}",
            money.display(row["credit_minor"], row["currency"]),
            money.display(row["failed_minor"], row["currency"]),
        )
        for row in content["credit_totals"]
    ]
    if not rows:
        return "<p>No credit lines.</p>"
    columns = ("currency", "credit lines", "credited payments", "total credit", "failed amount")
    return _table(columns, rows, numeric=(1, 2, 3, 4))


def _gate(validation: dict[str, Any]) -> str:
    parts = []
    if validation["blocking"]:
        parts.append(
            "<p class=bad>Blocking:</p><ul class=bad>"
            + "".join(f"<li>{_h(b)}</li>" for b in validation["blocking"])
            + "</ul>"
        )
    else:
        parts.append("<p class=good>No blocking finding.</p>")
    if validation["warnings"]:
        parts.append(
            "<p>Warnings:</p><ul>"
            + "".join(f"<li>{_h(w)}</li>" for w in validation["warnings"])
            + "</ul>"
        )
    parts.append(
        "<p class=meta>Every expectation's result: <code>validation.html</code> beside "
        "this file.</p>"
    )
    return "".join(parts)


def _exceptions(content: dict[str, Any]) -> str:
    if not content["exceptions"]:
        return "<p class=good>No exception.</p>"
    counts = _table(
        ("exception", "rows"),
        [(k, f"{v:,}") for k, v in content["exceptions"].items()],
        numeric=(1,),
    )
    rows = [
        (
            e["exception"],
            e["customer_id"] or "",
            e["txn_id"] or "",
            "" if e["txn_count"] is None else f"{e['txn_count']:,}",
            ""
            if e["amount_minor"] is None or e["currency"] is None
            else money.display(e["amount_minor"], e["currency"]),
            e["detail"] or "",
        )
        for e in content["top_exceptions"]
    ]
    top = _table(
        ("exception", "customer", "transaction", "payments", "amount", "detail"),
        rows,
        numeric=(3, 4),
    )
    note = (
        f"<p class=meta>Up to {TOP_EXCEPTIONS_PER_KIND} of each kind, largest amounts first; "
        "every one is in <code>exceptions.csv</code>.</p>"
    )
    return counts + f"<h3>Examples</h3>{top}{note}"


def _section(title: str, inner: str) -> str:
    return f"<section><h2>{_h(title)}</h2>{inner}</section>"


def _table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    head = "".join(
        f"<th class=num>{_h(c)}</th>" if i in numeric else f"<th>{_h(c)}</th>"
        for i, c in enumerate(columns)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class=num>{_h(v)}</td>" if i in numeric else f"<td>{_h(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _utc(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _md(value: Any) -> str:
    """Text that markdown shows as written: its markup characters and any HTML escaped."""
    text = html.escape(str(value), quote=False)
    return "".join("\\" + c if c in "\\`*_[]|" else c for c in text)


_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:#1d2329;margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:1.55em;margin:0 0 8px}h2{font-size:1.15em;margin:28px 0 8px;
border-bottom:1px solid #e3e6e8;padding-bottom:4px}h3{font-size:1em;margin:16px 0 6px}
.meta{color:#5b6670;font-size:.92em}code{font-size:.9em;background:#f3f4f5;padding:1px 4px;
border-radius:3px}
.banner{padding:10px 14px;border-radius:6px;margin:12px 0}
.banner.pending{background:#e8f4ea;border:1px solid #9fd1a8}
.banner.rejected{background:#fdecea;border:1px solid #f1a9a0}
.cards{display:flex;flex-wrap:wrap;align-items:flex-start;gap:12px;margin:16px 0}
.card{border:1px solid #e3e6e8;border-radius:8px;padding:10px 14px;min-width:150px}
.card .label{color:#5b6670;font-size:.85em;text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:1.5em;font-weight:600}.card .totals{font-size:.8em;line-height:1.35}
.cols{display:flex;flex-wrap:wrap;gap:32px}.cols section{flex:1;min-width:300px}
table{border-collapse:collapse;font-size:.92em;margin:4px 0}
th,td{padding:4px 10px;border-bottom:1px solid #eceef0;text-align:left;vertical-align:top}
th{background:#f7f8f9}td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.bad{color:#b42318}.good{color:#1e7b34}
figure{margin:0}figure svg{width:100%;height:auto}figcaption{color:#5b6670;font-size:.85em}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""
