"""A run's summary is read from the manifest it was sealed with, typed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from transforms.runfolder import manifest
from transforms.runfolder.runs import Run, RunStatus

RUN = Run("r1", "INC-S", Path("/runs/incident=INC-S/run=r1"), datetime(2025, 1, 7, tzinfo=UTC))


def content(verdict: str, blocking: list[str]) -> dict:
    return {
        "run_id": "r1",
        "verdict": verdict,
        "incident": {"id": "INC-S", "title": "t", "timezone": "UTC"},
        "log_funnel": {"lines_read": 3, "parsed": 2, "quarantined": 1, "identity_holds": True},
        "candidates": {"total": 2, "by_class": {"outage_failure": 2, "declined": 0}},
        "exceptions": {"no_customer": 1},
        "totals_minor": {"EUR": 900, "USD": 1000},
        "validation": {"blocking": blocking, "warnings": ["customers: a warning"]},
    }


def test_the_summary_carries_the_manifests_verdict_counts_and_totals():
    summary = manifest.summary(content("pending_approval", []), RUN)
    assert summary.verdict is RunStatus.PENDING_APPROVAL and not summary.rejected
    assert (summary.run_id, summary.incident_id, summary.run_folder) == ("r1", "INC-S", RUN.folder)
    assert summary.by_class == {"outage_failure": 2, "declined": 0}
    assert summary.totals_minor == {"EUR": 900, "USD": 1000}
    assert summary.exceptions == {"no_customer": 1}
    assert (summary.blocking, summary.warnings) == ((), ("customers: a warning",))
    assert summary.decision is None
    assert (summary.window_check, summary.window_messages) == (None, ())


def test_the_summary_carries_the_window_check_and_its_messages():
    checked = {"status": "warning", "messages": ["window_check: above baseline"], "findings": []}
    summary = manifest.summary({**content("pending_approval", []), "window_check": checked}, RUN)
    assert summary.window_check == "warning"
    assert summary.window_messages == ("window_check: above baseline",)


def test_a_rejected_summary_says_so_and_names_what_blocked():
    summary = manifest.summary(content("rejected", ["logs: too many quarantined"]), RUN)
    assert summary.rejected
    assert summary.blocking == ("logs: too many quarantined",)


def test_a_verdict_that_is_no_run_status_is_refused():
    with pytest.raises(ValueError):
        manifest.summary(content("passed", []), RUN)
