"""The run manifest (`manifest.json`) as one frozen model, a class per section: `Manifest.parse`
reads every version written so far and `Manifest.text` writes it back byte for byte.

Every version is `schema_version` 1; they differ only in keys added since:
* the first has no `inputs.logs_pruned` and no `window_check`;
* then `inputs.logs_pruned` (log files pruned by hour);
* then `window_check`: status, edge margin, findings, unchecked, messages;
* then the window_check's detection: `settings`, `span_utc`, `baseline`, `intervals`;
* then `csv_writer`: the version of the writer of `credits.csv` and `exceptions.csv`
  (`reconcile.outputs.CSV_WRITER`; without it every cell was written as it is);
* then the window_check's `gaps_utc`: the stretches no log file covered, left out of the counts
  (without it notebook 01 counted them as quiet minutes).

A key a version lacks is None here and stays absent when written. A key the model does not know
is refused: it would be lost when the manifest is written again. Times are ISO 8601 strings as
written (UTC ones end in `Z`), amounts integer minor units.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from transforms.ingest.incident import WindowDetection
from transforms.reconcile import window
from transforms.reconcile.window import Status
from transforms.runfolder.runs import RunStatus

SCHEMA_VERSION = 1


def _absent(value: Any) -> bool:
    return value is None


class Section(BaseModel):
    """A part of the manifest: frozen, an unknown key refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class IncidentFile(Section):
    path: str
    sha256: str


class IncidentRecord(Section):
    """The incident the run was made for, and the file it was read from."""

    id: str
    title: str
    timezone: str
    file: IncidentFile


class Window(Section):
    """The declared window `[start, end)`, in UTC and in the incident's time zone."""

    start_utc: str
    end_utc: str
    start_local: str
    end_local: str


class PolicyRecord(Section):
    """The credit policy as the run applied it (`Policy.as_json`) and its fingerprint."""

    version: str
    basis: str
    flat_minor: dict[str, int]
    percent: str  # exact: a decimal written as a string
    min_minor: dict[str, int]
    cap_minor: dict[str, int]
    failure_events: tuple[str, ...]
    outage_error_codes: tuple[str, ...]
    decline_error_codes: tuple[str, ...]
    credit_recovered: bool
    credit_table_only: bool
    exclude_segments: tuple[str, ...]
    sha256: str


class LogInput(Section):
    """A log file read: its name as shown, hash, size in bytes and line count."""

    path: str
    sha256: str
    bytes: int
    lines: int
    # With an envelope or a payload `lines` counts records, and this the lines they came from
    # (OTLP: the requests; CloudWatch: the objects).
    envelope_lines: int | None = Field(default=None, exclude_if=_absent)


class PrunedLog(Section):
    """A log file matched but dated wholly outside the window: never opened, no lines."""

    path: str
    bytes: int


class TableInput(Section):
    path: str
    sha256: str
    rows: int


class Inputs(Section):
    logs: tuple[LogInput, ...]
    logs_pruned: tuple[PrunedLog, ...] | None = Field(default=None, exclude_if=_absent)
    tables: tuple[TableInput, ...]


class LogFunnel(Section):
    """Where every log line read went (counts of lines), and whether the identities close:
    read = parsed + duplicates + quarantined = bucketed, parsed = relevant + irrelevant. With an
    envelope or a payload, a line is a record: `envelope_lines_read` says how many lines of the
    files they came from (CRI partial lines joined, one Docker entry per part; OTLP requests
    and CloudWatch objects, each holding many records, one item when it holds none)."""

    lines_read: int
    parsed: int
    relevant: int
    irrelevant: int
    duplicates: int
    quarantined: int
    identity_holds: bool
    envelope_lines_read: int | None = Field(default=None, exclude_if=_absent)

    @property
    def counts(self) -> dict[str, int]:
        """The line counts, in funnel order, without the verdict on the identities."""
        return self.model_dump(exclude={"identity_holds"})


class Candidates(Section):
    """Candidate transactions (from the logs, or in the table only) by class, and whether the
    classes and the evidence rows add up to their total."""

    from_logs: int
    table_only: int
    total: int
    by_class: dict[str, int]
    identity_holds: bool


class Validation(Section):
    """The quality gate's findings: any blocking one rejects the run."""

    blocking: tuple[str, ...]
    warnings: tuple[str, ...]


class Output(Section):
    """A file of the run folder: its data rows and sha256 (the approval checks it again)."""

    rows: int
    sha256: str


class DetectionSettings(Section):
    """The window detection's settings (`window.settings_json`), durations in minutes."""

    mad_multiplier: str
    min_rise_lines: int
    max_gap_minutes: int
    min_duration_minutes: int
    edge_margin_minutes: int
    reach_minutes: int

    def as_settings(self) -> WindowDetection:
        """The settings as the incident file gave them."""
        return WindowDetection.model_validate(
            {
                "mad_multiplier": Decimal(self.mad_multiplier),
                "min_rise_lines": self.min_rise_lines,
                **{key: f"{getattr(self, f'{key}_minutes')}min" for key in window.DURATIONS},
            }
        )


class Baseline(Section):
    """Outage-coded lines per minute outside the window: median, MAD, the threshold above it."""

    median: float
    mad: float
    threshold: float
    minutes: int


class Interval(Section):
    """An outage found in the logs, times in the incident's zone."""

    onset_local: str
    recovery_local: str
    minutes: int
    lines: int
    peak_lines: int
    rate_before_per_minute: float | None
    rate_during_per_minute: float
    codes: dict[str, int]


class Finding(Section):
    """Outage-coded failures above baseline outside an edge of the window."""

    edge: str
    from_local: str
    to_local: str
    lines: int
    customers_left_out: int


class WindowCheck(Section):
    """The declared window against the logs (never blocking). A check written before its
    detection was recorded has none of `settings`, `span_utc`, `baseline`, `intervals`;
    one written since has all four (`span_utc` and `baseline` may be null)."""

    status: Status
    edge_margin_minutes: int
    findings: tuple[Finding, ...]
    unchecked: tuple[str, ...]
    messages: tuple[str, ...]
    settings: DetectionSettings | None = None
    span_utc: tuple[str, str] | None = None
    baseline: Baseline | None = None
    intervals: tuple[Interval, ...] | None = None
    # [from, to) UTC stretches no log file covered, left out of the counts (absent before)
    gaps_utc: tuple[tuple[str, str], ...] | None = None

    def detection_settings(self) -> WindowDetection:
        """The settings the detection used: the defaults for a check from before they were
        written."""
        return WindowDetection() if self.settings is None else self.settings.as_settings()

    def span(self) -> tuple[datetime, datetime] | None:
        """The logs' span (UTC minutes) the detection read, when written."""
        if self.span_utc is None:
            return None
        return datetime.fromisoformat(self.span_utc[0]), datetime.fromisoformat(self.span_utc[1])

    def gaps(self) -> tuple[tuple[datetime, datetime], ...]:
        """The stretches no log file covered, left out of the counts (none when not written)."""
        return tuple(
            (datetime.fromisoformat(low), datetime.fromisoformat(high))
            for low, high in self.gaps_utc or ()
        )

    @model_serializer(mode="wrap")
    def _without_detection(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        written = handler(self)
        if self.settings is None:
            for key in ("settings", "span_utc", "baseline", "intervals"):
                written.pop(key, None)
        if self.gaps_utc is None:
            written.pop("gaps_utc", None)
        return written


class Manifest(Section):
    """A finished run: what went in, how every line and transaction was accounted for, what
    came out (`outputs`, by file name) and the verdict."""

    schema_version: Literal[1]
    run_id: str
    verdict: RunStatus
    incident: IncidentRecord
    window: Window
    policy: PolicyRecord
    inputs: Inputs
    log_funnel: LogFunnel
    candidates: Candidates
    accounting_problems: tuple[str, ...]
    totals_minor: dict[str, int]  # credit per currency
    exceptions: dict[str, int]  # exception rows per kind
    validation: Validation
    outputs: dict[str, Output]
    started_at: str
    finished_at: str
    code_version: str
    window_check: WindowCheck | None = Field(default=None, exclude_if=_absent)
    # the writers this version knows: a newer one's run is refused as a key it does not know is
    csv_writer: Literal[2] | None = Field(default=None, exclude_if=_absent)

    @classmethod
    def parse(cls, text: str | bytes) -> Manifest:
        """A manifest from its JSON text (the file, or the warehouse's copy); pydantic's
        `ValidationError` (a `ValueError`) names the key when it is not one."""
        return cls.model_validate_json(text)

    def plain(self) -> dict[str, Any]:
        """The manifest as plain JSON values, absent keys left out."""
        return self.model_dump(mode="json")

    def text(self) -> str:
        """The file's text: keys sorted, two-space indent, UTF-8 as is, a final newline."""
        return json.dumps(self.plain(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
