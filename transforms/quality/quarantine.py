"""The run's quarantined log lines measured for the gate: their share against the limit, the
worst files (what a quarantine rule's failure shows beside its outcome), and the failure lines
among them (what the `no_failure_line_quarantined` warning shows)."""

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
FAILURE_LINES_RULE = "no_failure_line_quarantined"
"""The `file_profile` expectation (a warning) that no quarantined line is a failure line."""
SHOWN_REASONS = 5
# The position an OTLP or CloudWatch record's reason names (`logs.unnesting`), left out when
# reasons are grouped: `(envelope = "otlp": line 4, record 1)`
POSITION = r" \([^()]*, (record|event) [0-9]+\)"
FAILURE_LINES_WHAT_TO_DO = (
    "Look at them in the run folder's quarantine.jsonl: have the service's logs fixed and run "
    "again, or add each payment to credit by hand"
)


@dataclass(frozen=True)
class FailureLines:
    """The quarantined lines that are failure lines (`int_quarantined_failure_lines`): under the
    quarantine limits the run passes without them, each payment uncredited unless another line
    (a complete copy of a line cut off) or the table's row brings it in."""

    lines: int
    first: tuple[str, int] | None  # (file, line), the first by file then line; None if none
    reasons: tuple[tuple[str, int], ...]  # (reason, lines), the most first, at most SHOWN_REASONS
    other_reasons: int  # the reasons not shown

    def measured(self) -> str:
        """The numbers, the first line, the reasons and what to do, in one sentence."""
        reasons = ", ".join(f"{reason} ({lines:,})" for reason, lines in self.reasons)
        more = f", and {self.other_reasons:,} other reason(s)" if self.other_reasons else ""
        file, line = self.first or ("none", 0)
        return (
            f"measured: {self.lines:,} quarantined log line(s) are failure lines (first: "
            f"{file} line {line:,}; reasons: {reasons}{more}): each a failure the run did not "
            f"read, its payment uncredited unless another line or the table brings it in. "
            f"{FAILURE_LINES_WHAT_TO_DO}"
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
    failures: FailureLines

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
    """The run's quarantined lines and share, the limit, the worst files with their shares
    (`int_file_profile`), and the failure lines among them."""
    rows = db.run(con, "quarantine_worst_files", shown=WORST_FILES).fetchall()
    run_quarantined, run_lines = rows[0][4], rows[0][5]
    worst = tuple(
        QuarantinedFile(file, lines, quarantined, float(file_share))
        for file, lines, quarantined, file_share, _, _ in rows
        if file is not None
    )
    return Quarantine(
        int(run_lines),
        int(run_quarantined),
        incident.max_quarantined_share,
        worst,
        failure_lines(con),
    )


def failure_lines(con: duckdb.DuckDBPyConnection) -> FailureLines:
    """The quarantined failure lines: how many, the first, and their reasons grouped."""
    rows = db.run(
        con, "quarantined_failure_reasons", position=POSITION, shown=SHOWN_REASONS
    ).fetchall()
    _, _, lines, reason_count, file, line = rows[0]
    reasons = tuple((reason, count) for reason, count, *_ in rows if reason is not None)
    return FailureLines(
        int(lines),
        None if file is None else (file, int(line)),
        reasons,
        int(reason_count) - len(reasons),
    )
