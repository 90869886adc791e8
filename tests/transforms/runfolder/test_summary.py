"""A run's summary is read from the manifest it was sealed with, typed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from transforms.reconcile.window import Status
from transforms.runfolder import manifest
from transforms.runfolder.manifest_model import Manifest
from transforms.runfolder.runs import Run, RunStatus

RUN = Run("r1", "INC-S", Path("/runs/incident=INC-S/run=r1"), datetime(2025, 1, 7, tzinfo=UTC))
VERSIONS = Path(__file__).parents[2] / "fixtures" / "manifests"


def content(name: str, **changes) -> Manifest:
    plain = json.loads((VERSIONS / name).read_text(encoding="utf-8"))
    return Manifest.model_validate({**plain, **changes})


def test_the_summary_carries_the_manifests_verdict_counts_and_totals():
    read = content("v1-detection.json", run_id="r1")
    summary = manifest.summary(read, RUN)
    assert summary.verdict is RunStatus.PENDING_APPROVAL and not summary.rejected
    assert (summary.run_id, summary.incident_id, summary.run_folder) == (
        "r1",
        "INC-GOLD",
        RUN.folder,
    )
    assert summary.log_funnel == read.log_funnel
    assert summary.by_class["table_only"] == 1 and sum(summary.by_class.values()) == 11
    assert summary.totals_minor == {"EUR": 900, "JPY": 1500, "USD": 2000}
    assert summary.exceptions["closed_account"] == 1
    assert (summary.blocking, summary.warnings) == ((), ())
    assert summary.decision is None
    assert (summary.window_check, summary.window_messages) == (Status.OK, ())


def test_the_summary_carries_the_window_check_and_its_messages():
    summary = manifest.summary(content("v1-window-check.json"), RUN)
    assert summary.window_check is Status.WARNING
    assert summary.window_messages[0].startswith("window_check: outage-coded failures above")


def test_a_manifest_from_before_the_window_check_has_none():
    summary = manifest.summary(content("v1-first.json"), RUN)
    assert (summary.window_check, summary.window_messages) == (None, ())


def test_a_rejected_summary_says_so_and_names_what_blocked():
    summary = manifest.summary(content("v1-logs-pruned.json"), RUN)
    assert summary.rejected
    assert summary.blocking == ("logs: 12% of the lines quarantined (at most 5%)",)
    assert summary.warnings == ("customers: 2 without a segment",)
