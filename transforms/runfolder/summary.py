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

    @property
    def rejected(self) -> bool:
        return self.verdict == RunStatus.REJECTED
