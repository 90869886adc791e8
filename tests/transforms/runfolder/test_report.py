"""The run report: what it shows, that it escapes the data, and that it needs nothing outside."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests import golden_incident, html_page
from tests.builders import reconcile_incident, write_incident
from tests.html_page import HOSTILE
from transforms import money
from transforms.ingest import incident, logs
from transforms.quality.gate import Verdict
from transforms.reconcile import window
from transforms.runfolder import manifest, report, runs
from transforms.runfolder.manifest_model import Candidates, LogFunnel

START = datetime(2025, 1, 7, 19, 15, tzinfo=UTC)
END = datetime(2025, 1, 7, 23, 15, tzinfo=UTC)


def content(**changes):
    """A small report content, shaped like what `report.summarize` returns."""
    base = {
        "run_id": "20250108T000000000000Z-abcdef12",
        "verdict": runs.RunStatus.PENDING_APPROVAL,
        "incident": {"id": "INC-T", "title": "Test outage", "timezone": "America/New_York"},
        "window": {"start_utc": START, "end_utc": END},
        "policy": {"version": "t1", "basis": "flat_per_customer"},
        "log_funnel": LogFunnel(
            lines_read=10,
            parsed=9,
            relevant=5,
            irrelevant=4,
            duplicates=1,
            quarantined=0,
            identity_holds=True,
        ),
        "candidates": Candidates(
            from_logs=4,
            table_only=0,
            total=4,
            by_class={"failed": 3, "declined": 1},
            identity_holds=True,
        ),
        "credit_totals": [
            {
                "currency": "JPY",
                "credit_lines": 100,
                "customers": 100,
                "credited_txns": 108,
                "credit_minor": 150000,
                "failed_minor": 1328340,
            },
            {
                "currency": "USD",
                "credit_lines": 1475,
                "customers": 1475,
                "credited_txns": 2169,
                "credit_minor": 1475000,
                "failed_minor": 23419784,
            },
        ],
        "credit_overall": {
            "currency": None,
            "credit_lines": 1575,
            "customers": 1570,
            "credited_txns": 2277,
            "credit_minor": None,
            "failed_minor": None,
        },
        "exceptions": {"closed_account": 1},
        "top_exceptions": [
            {
                "exception": "closed_account",
                "customer_id": "c6",
                "currency": "USD",
                "txn_id": None,
                "txn_count": 1,
                "credit_owed_minor": 1000,
                "failed_amount_minor": None,
                "detail": "pay by hand",
            },
        ],
        "validation": {"blocking": [], "warnings": []},
        "started_at": datetime(2025, 1, 8, tzinfo=UTC),
        "warehouse": None,
    }
    return {**base, **changes}


MINUTES = [
    (START - timedelta(minutes=30), 0, 1),
    (START, 20, 2),
    (START + timedelta(minutes=1), 25, 1),
    (END, 0, 1),
]


def test_the_report_shows_the_totals_per_currency_and_the_verdict():
    page = report.render(content(), MINUTES)
    assert "USD 14,750.00" in page and "JPY 150,000" in page
    assert "waiting for finance's approval" in page
    assert "2025-01-07 14:15:00 EST" in page  # the window in the incident's zone
    assert "started 2025-01-07 19:00:00 EST (2025-01-08 00:00:00 UTC)" in page  # and the start
    assert "1,570" in page  # customers credited


@pytest.mark.parametrize("verdict", [runs.RunStatus.PENDING_APPROVAL, runs.RunStatus.REJECTED])
def test_the_report_names_its_run_says_its_status_is_as_of_the_run_and_links(verdict):
    page = report.render(content(verdict=verdict), MINUTES)
    named = "INC-T run 20250108T000000000000Z-abcdef12: Test outage"
    assert f"<title>{named}</title>" in page and f"<h1>{named}</h1>" in page
    text = " ".join(html_page.parse(page).text.split())
    assert "shows the run as it ended and never changes" in text
    assert "credits runs --incident INC-T shows its status now" in text
    assert '<a href="validation.html">' in page


def test_the_report_spells_the_commands_to_type_the_same_wherever_it_ran(venv_off_path):
    # It said `credits approve ...`: "command not found" without the venv activated.
    text = " ".join(html_page.parse(report.render(content(), MINUTES)).text.split())
    # a saved page: `credits ...` wherever the run ran, never this venv's `.venv/bin/credits`
    assert "credits approve 20250108T000000000000Z-abcdef12 --by NAME" in text
    assert "credits runs --incident INC-T shows its status now" in text
    assert ".venv" not in text


@pytest.mark.parametrize(
    ("warehouse", "option"),
    [
        # a run into another warehouse: its commands said none, and so acted on the default one
        ("/srv/finance/wh.duckdb", " --warehouse /srv/finance/wh.duckdb"),
        ("/srv/my wh's.duckdb", """ --warehouse '/srv/my wh'"'"'s.duckdb'"""),  # quoted
        (
            "postgresql://finance@db:5432/credits",
            " --warehouse postgresql://finance@db:5432/credits",
        ),
        (None, ""),  # the default warehouse: as it always was
    ],
)
def test_the_report_s_commands_name_the_warehouse_the_run_used(warehouse, option):
    page = report.render(content(warehouse=warehouse), MINUTES)
    codes = [html.unescape(code) for code in re.findall(r"<code>(.*?)</code>", page)]
    assert f"credits approve 20250108T000000000000Z-abcdef12 --by NAME{option}" in codes
    assert f"credits runs --incident INC-T{option}" in codes


def test_a_rejected_run_says_nothing_will_be_paid_and_why():
    page = report.render(
        content(
            verdict=runs.RunStatus.REJECTED,
            validation={"blocking": ["stg_failures: ts out of window"], "warnings": []},
        ),
        MINUTES,
    )
    assert "Rejected by the quality gate" in page
    assert "proposed credits" in page and "credits to pay" not in page
    assert "stg_failures: ts out of window" in page


def test_a_rejected_run_with_no_amount_to_total_shows_none_rather_than_crash():
    # A credited payment without an amount (a flat policy prices it) reached the report as
    # None: the run crashed (exit 1) instead of ending as a rejected run, with no manifest.
    totals = [
        {
            "currency": "USD",
            "credit_lines": 1,
            "customers": 1,
            "credited_txns": 1,
            "credit_minor": 1000,
            "failed_minor": None,
        }
    ]
    page = report.render(content(verdict=runs.RunStatus.REJECTED, credit_totals=totals), MINUTES)
    assert '<td class="num">USD 10.00</td><td class="num"></td></tr>' in page
    unpriced = [{**totals[0], "credit_minor": None}]  # no credit to total either
    summary = report.markdown(content(verdict=runs.RunStatus.REJECTED, credit_totals=unpriced))
    assert "| USD | 1 | 1 |  |" in summary


def _with_data_values(value: str) -> dict:
    """A report content with `value` as the incident title, a customer, an exception's detail
    and the gate's findings."""
    return content(
        incident={"id": "INC-T", "title": value, "timezone": "UTC"},
        top_exceptions=[
            {
                "exception": "unattributable",
                "customer_id": value,
                "currency": None,
                "txn_id": "t1",
                "txn_count": 1,
                "credit_owed_minor": None,
                "failed_amount_minor": None,
                "detail": value,
            }
        ],
        exceptions={"unattributable": 1},
        validation={"blocking": [value], "warnings": [value]},
    )


def test_every_value_from_the_data_reaches_the_page_as_text():
    plain = html_page.parse(report.render(_with_data_values("PLAIN-VALUE"), MINUTES))
    page = report.render(_with_data_values(HOSTILE), MINUTES)
    hostile = html_page.parse(page)
    # the same elements with the same attributes: nothing injected, no attribute broken out of
    assert hostile.elements == plain.elements
    # shown as written, wherever it is shown: <title>, <h1>, customer, detail, two findings
    assert plain.text.count("PLAIN-VALUE") == 6
    assert hostile.text.count(HOSTILE) == 6
    assert "<script" not in page and "<img" not in page


def test_the_page_is_self_contained():
    page = report.render(content(), MINUTES)
    assert "default-src 'none'" in page  # the browser may load nothing else
    # nothing fetched: no script, link, image or frame, no url() but to a fragment of the page
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|url\((?!#)|@import", page)
    assert not re.search(r"href=\"(?!#|validation\.html\")", page)  # the run's other page only
    assert page.count("<svg") == 1  # the chart is inline


def test_the_chart_marks_the_window_and_copes_with_no_failure():
    assert "outage window" in report.chart_svg(MINUTES, START, END, _zone())
    assert report.chart_svg([], START, END, _zone()) == report.NO_CHART


def test_nothing_to_draw_imports_no_matplotlib():
    # matplotlib's import is most of the chart's cost: a run without failure lines skips both
    code = (
        "import sys, datetime as d, zoneinfo as z\n"
        "from transforms.runfolder import report\n"
        "s = d.datetime(2025, 1, 7, tzinfo=d.UTC)\n"
        "report.chart_svg([], s, s + d.timedelta(hours=1), z.ZoneInfo('UTC'))\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_failure_lines_far_from_the_window_are_counted_not_drawn():
    assert "from the window are not drawn" not in report.render(content(), MINUTES)
    page = report.render(content(), MINUTES, off_chart=1200)
    assert "<b>1,200 failure line(s)</b> more than 1 day(s) from the window are not drawn" in page


def test_the_page_is_the_same_for_the_same_data():
    assert report.render(content(), MINUTES) == report.render(content(), MINUTES)


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (1475000, "USD", "USD 14,750.00"),
        (150000, "JPY", "JPY 150,000"),
        (1234, "BHD", "BHD 1.234"),
        (0, "EUR", "EUR 0.00"),
    ],
)
def test_money_has_the_currency_digits_and_grouping(minor, currency, shown):
    assert money.display(minor, currency) == shown


@pytest.mark.parametrize(
    ("incident_id", "key"),
    [("INC-2025-01-07", "run-report-inc-2025-01-07"), ("Inc_7.b", "run-report-inc-7-b")],
)
def test_the_artifact_key_is_what_prefect_accepts(incident_id, key):
    assert report.artifact_key(incident_id) == key


def test_the_markdown_summary_escapes_markdown():
    text = report.markdown(
        content(incident={"id": "INC-T", "title": "*bold* [x](y) <b>", "timezone": "UTC"})
    )
    assert r"\*bold\* \[x\](y) &lt;b&gt;" in text
    assert "| USD | 1,475 | 1,475 | USD 14,750.00 |" in text


def test_write_reports_the_golden_incident_from_the_work_database(tmp_path):
    path = golden_incident.write(tmp_path / "inc")
    loaded = incident.load(path)
    run = runs.start(loaded, tmp_path / "out")
    con = reconcile_incident(path, run.work_dir)
    log_file = logs.LogFile(0, path, "logs/pod-a.jsonl", 0, "", 16)
    accounting = manifest.account(con, [log_file])
    written = report.write(con, loaded, run, accounting, Verdict((), (), ()))
    page = written.path.read_text(encoding="utf-8")
    assert written.path == run.folder / "report.html"
    for total in ("EUR 9.00", "JPY 1,500", "USD 20.00"):
        assert total in page and total in written.markdown
    assert 'Payment outage, "DB pool"' in html_page.parse(page).text
    assert "customer_mismatch" in page  # the exceptions, by kind


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")


def _window_check(tmp_path, checked):
    return checked.as_json(incident.load(write_incident(tmp_path / "inc")))


def test_a_window_check_warning_is_on_the_page_and_in_the_summary(tmp_path):
    finding = window.EdgeFinding("start", START - timedelta(minutes=30), START, 360, 12)
    warned = content(window_check=_window_check(tmp_path, window.Check(window.WARNING, (finding,))))
    page = html_page.parse(report.render(warned, MINUTES)).text
    message = (
        "window_check: outage-coded failures above baseline 2025-01-07 13:45 EST to "
        "2025-01-07 14:15 EST, outside the window's start (360 lines; 12 customers left out)"
    )
    assert "Window check (not blocking)" in page and message in page
    assert "13:45 EST to 2025-01-07 14:15 EST, outside the window's start" in report.markdown(
        warned
    )
    assert "Window check" not in report.markdown(content())


@pytest.mark.parametrize(
    ("status", "unchecked", "shown"),
    [
        ("ok", (), "at their baseline within 15 minutes outside both edges"),
        ("unchecked", ("the logs read do not reach 15 minutes before the start",), "not checked"),
    ],
)
def test_the_page_says_how_the_window_check_went(tmp_path, status, unchecked, shown):
    checked = _window_check(tmp_path, window.Check(window.Status(status), (), unchecked))
    page = html_page.parse(report.render(content(window_check=checked), MINUTES)).text
    assert shown in " ".join(page.split()) and "Window check (not blocking)" not in page
    assert "Window check" not in html_page.parse(report.render(content(), MINUTES)).text


def test_the_same_chart_is_drawn_once_a_process(monkeypatch):
    # a rerun of the same incident gets the same bytes without matplotlib drawing them again
    from matplotlib.figure import Figure

    drawn = []
    savefig = Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda self, *a, **k: drawn.append(1) or savefig(self, *a, **k)
    )
    later = END + timedelta(minutes=7)  # a window no other test draws
    first = report.chart_svg(MINUTES, START, later, _zone())
    assert report.chart_svg(list(MINUTES), START, later, _zone()) == first
    assert len(drawn) == 1
    report.chart_svg(MINUTES[:1], START, later, _zone())  # other counts: drawn
    assert len(drawn) == 2


def test_an_id_holding_a_control_or_format_character_shows_it_as_a_question_mark():
    # a right-to-left override in a customer id from the tables turned the rest of its row
    # around on the page (`c1<RLO>00.01 DSU` read as `c1USD 10.00`); an escape, a CR: noise
    odd = "c1\u202e00.01 DSU\x1b[2J\r"
    page = html_page.parse(report.render(_with_data_values(odd), MINUTES))
    assert "\u202e" not in page.text and "\x1b" not in page.text and "\r" not in page.text
    assert page.text.count("c1?00.01 DSU?[2J?") == 6
