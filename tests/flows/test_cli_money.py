"""The run summary a person reads shows credits as money, never minor units, and the log
funnel's counts without the identity flag."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from flows.cli import common
from transforms.runfolder.manifest_model import LogFunnel
from transforms.runfolder.runs import RunStatus
from transforms.runfolder.summary import RunSummary


def test_the_run_summary_shows_credits_as_money(monkeypatch):
    shown = io.StringIO()
    monkeypatch.setattr(common, "out", Console(file=shown, width=100, highlight=False))
    common.print_summary(
        RunSummary(
            run_id="r1",
            incident_id="INC-M",
            verdict=RunStatus.PENDING_APPROVAL,
            run_folder=Path("runs/r1"),
            totals_minor={"JPY": 150000, "USD": 1475000, "BHD": 1234},
        )
    )
    text = shown.getvalue()
    for money in ("JPY 150,000", "USD 14,750.00", "BHD 1.234"):
        assert money in text
    assert "1,475,000" not in text and "minor units" not in text


def test_the_run_summary_shows_the_funnels_counts_not_its_identity(monkeypatch):
    shown = io.StringIO()
    monkeypatch.setattr(common, "out", Console(file=shown, width=100, highlight=False))
    funnel = LogFunnel(
        lines_read=1200,
        parsed=1100,
        relevant=900,
        irrelevant=200,
        duplicates=60,
        quarantined=40,
        identity_holds=True,
    )
    common.print_summary(
        RunSummary("r1", "INC-M", RunStatus.PENDING_APPROVAL, Path("runs/r1"), log_funnel=funnel)
    )
    text = shown.getvalue()
    assert "log lines: lines read" in text and "1,200" in text
    assert "log lines: quarantined" in text
    assert "identity" not in text


def test_the_audit_journal_shows_a_runs_totals_as_money():
    # `credits audit` printed totals_minor={'JPY': 150000, 'USD': 1475000}: minor units
    from flows.cli import finance

    detail = {"verdict": "pending_approval", "totals_minor": {"USD": 1475000, "JPY": 150000}}
    assert finance._compact(detail) == (
        "verdict=pending_approval, totals=[JPY 150,000, USD 14,750.00]"
    )
    assert finance._compact({"totals_minor": {}, "note": "n"}) == "note=n"  # nothing: left out
    # an approval's 1,475 accepted decreases took one line of 30,000 characters
    accepted = [f"cr{i}" for i in range(1475)]  # detail["accepted_decreases"]
    assert finance._compact({"accepted": accepted}) == (
        "accepted=[cr0, cr1, cr2, cr3, cr4, and 1,470 more]"
    )
    assert finance._compact({"accepted": accepted[:5]}) == f"accepted={accepted[:5]}"
