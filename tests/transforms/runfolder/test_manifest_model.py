"""The manifest model reads every version of manifest.json written so far and writes each back
byte for byte (the approval and the seal compare what was written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from transforms.reconcile.window import Status
from transforms.runfolder.manifest_model import Manifest
from transforms.runfolder.runs import RunStatus

VERSIONS = Path(__file__).parents[2] / "fixtures" / "manifests"


def text(name: str) -> str:
    return (VERSIONS / name).read_text(encoding="utf-8")


def written(plain: dict) -> str:
    """What `manifest.write` wrote before the model: the format the files on disk have."""
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    "name",
    [
        "v1-first.json",  # no inputs.logs_pruned, no window_check, verdict published
        "v1-logs-pruned.json",  # logs pruned by hour; rejected, without credits.csv
        "v1-window-check.json",  # a window_check without its detection
        "v1-detection.json",  # the window_check's detection; a title beyond ASCII
        "v1-csv-writer.json",  # credits.csv and exceptions.csv written spreadsheet-safe
        "v1-gaps.json",  # the window_check's stretches no log file covered
    ],
)
def test_every_version_reads_and_writes_back_byte_for_byte(name):
    assert Manifest.parse(text(name)).text() == text(name)


def test_a_detection_without_a_baseline_or_span_keeps_its_nulls():
    plain = json.loads(text("v1-detection.json"))
    plain["window_check"].update(baseline=None, span_utc=None, intervals=[])
    assert Manifest.parse(written(plain)).text() == written(plain)


def test_the_keys_a_version_lacks_are_none_and_stay_absent():
    first = Manifest.parse(text("v1-first.json"))
    assert first.inputs.logs_pruned is None and first.window_check is None
    assert first.csv_writer is None and '"csv_writer"' not in first.text()
    assert first.verdict is RunStatus.PUBLISHED
    assert '"logs_pruned"' not in first.text() and '"window_check"' not in first.text()
    checked = Manifest.parse(text("v1-window-check.json")).window_check
    assert checked.status is Status.WARNING and checked.settings is None
    assert '"span_utc"' not in Manifest.parse(text("v1-window-check.json")).text()
    detected = Manifest.parse(text("v1-csv-writer.json"))
    assert detected.window_check.gaps() == () and '"gaps_utc"' not in detected.text()


def test_sections_are_read_as_attributes():
    now = Manifest.parse(text("v1-detection.json"))
    assert now.incident.file.path == "incidents/INC-GOLD/incident.toml"
    assert now.policy.flat_minor == {"EUR": 900, "JPY": 1500, "USD": 1000}
    assert now.outputs["credits.csv"].rows == 4
    assert now.window_check.intervals[0].rate_before_per_minute is None
    assert now.window_check.baseline.median == 1.5


def test_the_funnel_counts_leave_out_whether_the_identity_holds():
    funnel = Manifest.parse(text("v1-logs-pruned.json")).log_funnel
    assert funnel.identity_holds is False
    assert funnel.counts == {
        "lines_read": 16,
        "parsed": 14,
        "relevant": 10,
        "irrelevant": 4,
        "duplicates": 1,
        "quarantined": 1,
    }


@pytest.mark.parametrize(
    ("change", "where"),
    [
        # a key the model does not know would be lost when written again
        (lambda m: m["candidates"].update(extra=1), "candidates.extra"),
        # a section every version has
        (lambda m: m.pop("log_funnel"), "log_funnel"),
        # a verdict that is no run status
        (lambda m: m.update(verdict="passed"), "verdict"),
        # another schema
        (lambda m: m.update(schema_version=2), "schema_version"),
        # a writer of the files a newer version has: its proof would misname them as edited
        (lambda m: m.update(csv_writer=3), "csv_writer"),
    ],
)
def test_a_manifest_of_no_known_version_is_refused(change, where):
    plain = json.loads(text("v1-detection.json"))
    change(plain)
    with pytest.raises(ValidationError, match=where.replace(".", r"\.")):
        Manifest.parse(written(plain))
