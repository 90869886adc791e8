"""Ending a run: the credit file goes into the run folder only if the gate passed (the run then
waits for finance's approval), and the manifest's content is built; `finance.sealing` then loads
the run into the warehouse and writes the manifest last.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import files
from transforms.ingest.incident import Incident
from transforms.ingest.logs import LogFile
from transforms.ingest.tables import TableFile
from transforms.quality.gate import Verdict
from transforms.reconcile import outputs, window
from transforms.runfolder import manifest
from transforms.runfolder.manifest import Accounting
from transforms.runfolder.manifest_model import Manifest, Validation
from transforms.runfolder.runs import Run, RunStatus


@dataclass(frozen=True)
class Written:
    """The data files of a run: the unvalidated credit file waits in the scratch folder."""

    evidence: Path
    exceptions: Path
    quarantine: Path
    pending_credits: Path


def write_outputs(con: duckdb.DuckDBPyConnection, run: Run) -> Written:
    """Writes evidence, exceptions and quarantine into the run folder, credits into scratch."""
    written = Written(
        evidence=run.folder / "evidence.parquet",
        exceptions=run.folder / "exceptions.csv",
        quarantine=run.folder / "quarantine.jsonl",
        pending_credits=run.work_dir / "credits.csv",
    )
    outputs.write_evidence(con, written.evidence)
    outputs.write_csv(
        con, "exceptions", outputs.EXCEPTION_COLUMNS, outputs.EXCEPTION_ORDER, written.exceptions
    )
    outputs.write_quarantine(con, written.quarantine)
    outputs.write_csv(
        con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, written.pending_credits
    )
    return written


def publish(
    con: duckdb.DuckDBPyConnection,
    *,
    incident: Incident,
    run: Run,
    written: Written,
    log_files: Sequence[LogFile],
    table_files: Sequence[TableFile],
    accounting: Accounting,
    verdict: Verdict,
    window_check: window.Check | None = None,
) -> Manifest:
    """Keeps the credit file if the gate passed; returns the manifest to seal the run with
    (`finance.sealing.seal`)."""
    credits_file = None
    if verdict.passed:
        credits_file = run.folder / "credits.csv"
        with files.atomic_path(credits_file) as temp:
            os.replace(written.pending_credits, temp)
    exceptions = dict(
        con.table("exceptions").aggregate("exception, count(*)", "exception").fetchall()
    )
    return manifest.build(
        incident=incident,
        run=run,
        log_files=log_files,
        table_files=table_files,
        accounting=accounting,
        totals=manifest.credit_totals(con),
        exceptions=dict(sorted(exceptions.items())),
        outputs={
            "credits.csv": credits_file,
            "evidence.parquet": written.evidence,
            "exceptions.csv": written.exceptions,
            "quarantine.jsonl": written.quarantine,
            "validation.json": run.folder / "validation.json",
            "validation.html": run.folder / "validation.html",
            "report.html": run.folder / "report.html",
        },
        validation=Validation(blocking=verdict.blocking, warnings=verdict.warnings),
        verdict=RunStatus.PENDING_APPROVAL if verdict.passed else RunStatus.REJECTED,
        window_check=window_check,
    )
