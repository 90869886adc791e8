"""The run's quarantined log lines measured for the gate: their share against the limit, and
the worst files (what a quarantine rule's failure shows beside its outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from transforms import db
from transforms.ingest.incident import Incident

WORST_FILES = 3
QUARANTINE_WHAT_TO_DO = (
    "Look at the run folder's quarantine.jsonl, then fix or leave the file out of sources.logs, "
    "or raise max_quarantined_share in the incident file if the lines are known junk"
)


@dataclass(frozen=True)
class QuarantinedFile:
    """A log file with quarantined lines: how many of its lines, and their share."""

    file: str
    lines: int
    quarantined: int
    share: float


@dataclass(frozen=True)
class Quarantine:
    """The run's quarantine measured against its limit: what a quarantine rule's failure shows
    (its own outcome says only that it failed), on the console, in `validation.json` and in
    `validation.html`."""

    lines: int
    quarantined: int
    limit_share: Decimal  # max_quarantined_share
    worst: tuple[QuarantinedFile, ...]  # the largest shares first, at most WORST_FILES

    @property
    def share(self) -> float:
        return self.quarantined / self.lines if self.lines else 0.0

    def measured(self) -> str:
        """The numbers and what to do, in one sentence."""
        worst = ", ".join(
            f"{f.file} {f.quarantined:,} of {f.lines:,} ({f.share:.1%})" for f in self.worst
        )
        return (
            f"measured: {self.quarantined:,} of {self.lines:,} lines quarantined "
            f"({self.share:.2%}), the limit is {float(self.limit_share):.2%} "
            f"(max_quarantined_share); worst files: {worst or 'none'}. {QUARANTINE_WHAT_TO_DO}"
        )


def measured(con: duckdb.DuckDBPyConnection, incident: Incident) -> Quarantine:
    """The run's quarantined lines and share, the limit, and the worst files with their
    shares (`int_file_profile`)."""
    rows = db.run(con, "quarantine_worst_files", shown=WORST_FILES).fetchall()
    run_quarantined, run_lines = rows[0][4], rows[0][5]
    worst = tuple(
        QuarantinedFile(file, lines, quarantined, float(file_share))
        for file, lines, quarantined, file_share, _, _ in rows
        if file is not None
    )
    return Quarantine(int(run_lines), int(run_quarantined), incident.max_quarantined_share, worst)
