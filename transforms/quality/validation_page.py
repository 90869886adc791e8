"""Rendering: `validation.json` (our summary and GX's results) and `validation.html` (the page
template), both deterministic for the same results and written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from transforms import files, pages
from transforms.quality.gx_run import plain
from transforms.quality.validation import MAX_OFFENDING, ExpectationOutcome, SuiteResult


def report_document(results: Sequence[SuiteResult]) -> dict:
    """Build the JSON report: our summary per suite and GX's results.

    Args:
        results: The suite results of one run, in the order they ran.

    Returns:
        A plain JSON document: ``passed`` (no blocking failure anywhere), counts, and per suite
        its outcomes and GX's result.
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
        "suites": suites,
    }


def _outcome_document(outcome: ExpectationOutcome) -> dict:
    """One outcome as JSON, in the dataclass's field order."""
    document = asdict(outcome)
    document["offending"] = list(outcome.offending)
    return document


def write_report(
    results: Sequence[SuiteResult], out_dir: Path, *, incident_id: str, run_id: str
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

    Returns:
        The paths of the JSON and the HTML report.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = report_document(results)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    json_path, html_path = out_dir / "validation.json", out_dir / "validation.html"
    files.write_text(json_path, text + "\n")
    files.write_text(html_path, render_html(results, incident_id=incident_id, run_id=run_id))
    return json_path, html_path


def render_html(results: Sequence[SuiteResult], *, incident_id: str, run_id: str) -> str:
    """Render the HTML report (the ``validation.html`` template): self-contained, no external
    assets, every value escaped.

    Args:
        results: The suite results of one run, in the order they ran.
        incident_id: The incident the run is of.
        run_id: The run.

    Returns:
        The HTML document.
    """
    return pages.render(
        "validation.html",
        document=report_document(results),
        max_offending=MAX_OFFENDING,
        incident_id=incident_id,
        run_id=run_id,
    )
