"""What a finished run hands back up: the flow returns it, the CLI prints it, the warehouse seals
the run with it, and a rejected run's `ValidationRejected` carries it. The manifest (the full
record, `manifest.json`) is built and written in `manifest`; this is the part callers read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from transforms.reconcile.window import Status
from transforms.runfolder.manifest_model import LogFunnel
from transforms.runfolder.runs import RunStatus


@dataclass(frozen=True)
class NothingNew:
    """A pending run whose approval would publish no batch: every credit it proposes is paid
    (or listed to pay by hand) already, and it lowers none."""

    since_batch: str | None  # the incident's newest batch (None: it has none)
    # closed accounts listed to pay by hand beyond what the run owes them (`credits diff`)
    listed_beyond: int = 0


@dataclass(frozen=True)
class RunSummary:
    """One sealed run: its verdict, counts and totals, and its folder (the manifest has more)."""

    run_id: str
    incident_id: str
    verdict: RunStatus
    run_folder: Path
    log_funnel: LogFunnel | None = None
    by_class: dict[str, int] = field(default_factory=dict)
    exceptions: dict[str, int] = field(default_factory=dict)
    totals_minor: dict[str, int] = field(default_factory=dict)
    blocking: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    window_check: Status | None = None  # the declared window against the logs (never blocking)
    window_messages: tuple[str, ...] = ()
    decision: RunStatus | None = None  # finance's answer, when the flow waited for it
    nothing_new: NothingNew | None = None  # found when it was sealed (pending runs only)
    superseded_by: str | None = None  # a newer run published while it ran (pending runs only)

    @property
    def rejected(self) -> bool:
        return self.verdict == RunStatus.REJECTED
