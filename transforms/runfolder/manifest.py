"""The run manifest: what went in, how every line and transaction was accounted for, what came
out, and the verdict. Written last, so its presence marks a finished run folder. Its model, and
how it is read and written as text, is `manifest_model`.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from transforms import db, files, times
from transforms.ingest.incident import Incident
from transforms.ingest.logs import LogFile
from transforms.ingest.tables import TableFile
from transforms.reconcile import outputs as data_files
from transforms.reconcile import window
from transforms.reconcile.classes import CLASSES
from transforms.runfolder.manifest_model import (
    SCHEMA_VERSION,
    Candidates,
    LogFunnel,
    Manifest,
    Validation,
)
from transforms.runfolder.runs import Run, RunStatus
from transforms.runfolder.summary import RunSummary


@dataclass(frozen=True)
class Accounting:
    """The log funnel and the candidate classes, each with whether its identity closes, and
    the identities that do not (empty when all close)."""

    funnel: LogFunnel
    candidates: Candidates
    problems: tuple[str, ...] = field(default=())


def account(con: duckdb.DuckDBPyConnection, log_files: Sequence[LogFile]) -> Accounting:
    """Checks that every log line is in one bucket and every candidate in one class."""
    result = db.run(con, "int_accounting")
    names = [column[0] for column in result.description]
    counts = dict(zip(names, result.fetchall()[0], strict=True))
    lines_read = sum(f.lines for f in log_files)
    by_class = dict.fromkeys(CLASSES, 0)
    by_class.update(con.table("evidence").aggregate("class, count(*)", "class").fetchall())
    total = counts["from_logs"] + counts["table_only"]
    problems = []
    if lines_read != counts["parsed"] + counts["duplicates"] + counts["quarantined"]:
        problems.append("log lines read != parsed + duplicates + quarantined")
    if counts["lines_bucketed"] != lines_read:
        problems.append("log lines read != log lines bucketed")
    if counts["parsed"] != counts["relevant"] + counts["irrelevant"]:
        problems.append("parsed log lines != relevant + irrelevant")
    if sum(by_class.values()) != total or set(by_class) != set(CLASSES):
        problems.append("candidate transactions != sum of the classes")
    if counts["evidence_rows"] != total:
        problems.append("evidence rows != candidate transactions")
    wrapped = [f.envelope_lines for f in log_files if f.envelope_lines is not None]
    funnel = LogFunnel(
        lines_read=lines_read,
        **{k: counts[k] for k in ("parsed", "relevant", "irrelevant", "duplicates", "quarantined")},
        identity_holds=not any(p.startswith(("log", "parsed")) for p in problems),
        envelope_lines_read=sum(wrapped) if wrapped else None,
    )
    candidates = Candidates(
        from_logs=counts["from_logs"],
        table_only=counts["table_only"],
        total=total,
        by_class=by_class,
        identity_holds=not any(p.startswith(("candidate", "evidence")) for p in problems),
    )
    return Accounting(funnel, candidates, tuple(problems))


def credit_totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Total credit per currency in minor units, from the `credits` table."""
    rows = con.table("credits").aggregate("currency, sum(credit_amount_minor)::bigint", "currency")
    return dict(sorted(rows.fetchall()))


def build(
    *,
    incident: Incident,
    run: Run,
    log_files: Sequence[LogFile],
    table_files: Sequence[TableFile],
    accounting: Accounting,
    totals: dict[str, int],
    exceptions: dict[str, int],
    outputs: dict[str, Path | None],
    validation: Validation,
    verdict: RunStatus,
    window_check: window.Check | None = None,
) -> Manifest:
    """The manifest of a run ending now; `window_check` (never blocking) when given. Outputs
    that are None (the credit file of a rejected run) are not listed."""
    checked = None if window_check is None else window_check.as_json(incident)
    window = (incident.window_start, incident.window_end)
    content = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "verdict": verdict,
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "timezone": incident.timezone,
            "file": {"path": str(incident.path), "sha256": files.sha256(incident.path)},
        },
        "window": {
            "start_utc": times.iso_utc(window[0]),
            "end_utc": times.iso_utc(window[1]),
            "start_local": incident.local(window[0]).isoformat(),
            "end_local": incident.local(window[1]).isoformat(),
        },
        "policy": {**incident.policy.as_json(), "sha256": incident.policy.sha256},
        "inputs": {
            "logs": [
                {
                    "path": f.name,
                    "sha256": f.sha256,
                    "bytes": f.bytes,
                    "lines": f.lines,
                    "envelope_lines": f.envelope_lines,
                }
                for f in log_files
                if not f.pruned
            ],
            # Matched by sources.logs but dated wholly outside the window: never opened, no lines.
            "logs_pruned": [{"path": f.name, "bytes": f.bytes} for f in log_files if f.pruned],
            "tables": [{"path": t.name, "sha256": t.sha256, "rows": t.rows} for t in table_files],
        },
        "log_funnel": accounting.funnel,
        "candidates": accounting.candidates,
        "accounting_problems": list(accounting.problems),
        "totals_minor": totals,
        "exceptions": exceptions,
        "validation": validation,
        "outputs": {
            name: {"rows": _rows(path), "sha256": files.sha256(path)}
            for name, path in sorted(outputs.items())
            if path is not None
        },
        "started_at": times.iso_utc(run.started_at),
        "finished_at": times.iso_utc(datetime.now(UTC)),
        "code_version": code_version(),
        "window_check": checked,
        "csv_writer": data_files.CSV_WRITER,
    }
    return Manifest.model_validate(content)


def summary(manifest: Manifest, run: Run) -> RunSummary:
    """What callers read of a manifest."""
    checked = manifest.window_check
    return RunSummary(
        run_id=manifest.run_id,
        incident_id=manifest.incident.id,
        verdict=manifest.verdict,
        run_folder=run.folder,
        log_funnel=manifest.log_funnel,
        by_class=dict(manifest.candidates.by_class),
        exceptions=dict(manifest.exceptions),
        totals_minor=dict(manifest.totals_minor),
        blocking=manifest.validation.blocking,
        warnings=manifest.validation.warnings,
        window_check=None if checked is None else checked.status,
        window_messages=() if checked is None else checked.messages,
    )


def write(manifest: Manifest, out: Path) -> None:
    """Writes the manifest atomically (`Manifest.text`)."""
    files.write_text(out, manifest.text())


def code_version() -> str:
    """The package version, and the git commit when run from a checkout."""
    version = metadata.version("outage-credits")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+{commit}"


def _rows(path: Path) -> int:
    """Data rows in an output file: Parquet rows, CSV records less the header, JSON lines."""
    if path.suffix == ".parquet":
        return pq.read_metadata(path).num_rows
    with open(path, encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            return sum(1 for _ in csv.reader(handle)) - 1
        return sum(1 for _ in handle)
