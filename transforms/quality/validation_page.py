"""Rendering: `validation.json` (our summary and GX's results) and `validation.html` (the page
template), both deterministic for the same results and written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from transforms import commands, files, pages
from transforms.quality.gx_run import plain
from transforms.quality.quarantine import (
    FAILURE_LINES_RULE,
    FAILURE_LINES_WHAT_TO_DO,
    QUARANTINE_WHAT_TO_DO,
    FailureLines,
    Quarantine,
)
from transforms.quality.validation import MAX_OFFENDING, ExpectationOutcome, SuiteResult

QUARANTINE_RULE_IDS = ("quarantined_share_within_limit", "run_quarantined_share_within_limit")
"""The `file_profile` expectations about the quarantine: their rows point at its numbers."""


def report_document(results: Sequence[SuiteResult], quarantine: Quarantine | None = None) -> dict:
    """Build the JSON report: our summary per suite and GX's results.

    Args:
        results: The suite results of one run, in the order they ran.
        quarantine: The run's quarantine measured against its limit, if the run has one.

    Returns:
        A plain JSON document: ``passed`` (no blocking failure anywhere), counts, the
        quarantine's numbers, and per suite its outcomes and GX's result.
    """
    suites = [
        {
            "suite": result.suite,
            "passed": not result.blocking_failures,
            "blocking_failures": len(result.blocking_failures),
            "warnings": len(result.warnings),
            "outcomes": [_outcome_document(outcome) for outcome in result.outcomes],
            "gx_result": plain(result.gx_result),
        }
        for result in results
    ]
    return {
        "report": "outage-credits data quality",
        "passed": all(suite["passed"] for suite in suites),
        "blocking_failures": sum(suite["blocking_failures"] for suite in suites),
        "warnings": sum(suite["warnings"] for suite in suites),
        "quarantine": _quarantine_document(quarantine) if quarantine else None,
        "suites": suites,
    }


def _quarantine_document(quarantine: Quarantine) -> dict:
    """The quarantine's numbers: the run's lines, quarantined lines and share, the limit, the
    worst files with theirs, what to do when it is over the limit, and the failure lines among
    them."""
    return {
        "lines": quarantine.lines,
        "quarantined": quarantine.quarantined,
        "share": round(quarantine.share, 6),
        "max_quarantined_share": float(quarantine.limit_share),
        "within_limit": quarantine.share <= quarantine.limit_share,
        "worst_files": [
            {
                "file": f.file,
                "lines": f.lines,
                "quarantined": f.quarantined,
                "share": round(f.share, 6),
            }
            for f in quarantine.worst
        ],
        "what_to_do": QUARANTINE_WHAT_TO_DO,
        "failure_lines": _failure_lines_document(quarantine.failures),
    }


def _failure_lines_document(failures: FailureLines) -> dict:
    """The quarantined failure lines: how many, the first (file and line), the reasons grouped
    (the most lines first) and how many more, and what to do when there is one."""
    return {
        "lines": failures.lines,
        "first": None
        if failures.first is None
        else {"file": failures.first[0], "line": failures.first[1]},
        "reasons": [{"reason": reason, "lines": lines} for reason, lines in failures.reasons],
        "other_reasons": failures.other_reasons,
        "what_to_do": FAILURE_LINES_WHAT_TO_DO,
    }


def _outcome_document(outcome: ExpectationOutcome) -> dict:
    """One outcome as JSON, in the dataclass's field order."""
    document = asdict(outcome)
    document["offending"] = list(outcome.offending)
    return document


def write_report(
    results: Sequence[SuiteResult],
    out_dir: Path,
    *,
    incident_id: str,
    run_id: str,
    quarantine: Quarantine | None = None,
    warehouse: str | None = None,
) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``validation.html`` into ``out_dir``, atomically.

    Both are deterministic for the same results: the JSON has our summary keys in a fixed
    order and GX's results with sorted keys; neither carries a timestamp. Each is written
    atomically (`files.write_text`).

    Args:
        results: The suite results of one run, in the order they ran.
        out_dir: The folder to write into; created if missing.
        incident_id: The incident, named in the HTML page's title and heading.
        run_id: The run, named in the HTML page's title and heading.
        quarantine: The run's quarantine against its limit (`gate.Verdict.quarantine`).
        warehouse: The warehouse the run loads into, named in the page's command (None: the
            default, named by none).

    Returns:
        The paths of the JSON and the HTML report.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = report_document(results, quarantine)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    json_path, html_path = out_dir / "validation.json", out_dir / "validation.html"
    files.write_text(json_path, text + "\n")
    files.write_text(
        html_path,
        render_html(
            results,
            incident_id=incident_id,
            run_id=run_id,
            quarantine=quarantine,
            warehouse=warehouse,
        ),
    )
    return json_path, html_path


def render_html(
    results: Sequence[SuiteResult],
    *,
    incident_id: str,
    run_id: str,
    quarantine: Quarantine | None = None,
    warehouse: str | None = None,
) -> str:
    """Render the HTML report (the ``validation.html`` template): self-contained, no external
    assets, every value escaped.

    Args:
        results: The suite results of one run, in the order they ran.
        incident_id: The incident the run is of.
        run_id: The run.
        quarantine: The run's quarantine against its limit, if the run has one.
        warehouse: The warehouse named in the page's command (None: the default).

    Returns:
        The HTML document.
    """
    return pages.render(
        "validation.html",
        document=report_document(results, quarantine),
        quarantine_rules=QUARANTINE_RULE_IDS,
        failure_lines_rule=FAILURE_LINES_RULE,
        max_offending=MAX_OFFENDING,
        incident_id=incident_id,
        run_id=run_id,
        runs_command=commands.saved(
            commands.on_warehouse(commands.runs_of(incident_id), warehouse)
        ),
    )
