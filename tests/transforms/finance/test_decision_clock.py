"""A decision's time is told on the incident's clocks by every command that tells it: a
decline said `16:13 UTC` where `credits runs` and an approval said `11:13 EST`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from transforms.errors import ConfigError
from transforms.finance import approval, ledger
from transforms.finance.rows import RunRow
from transforms.runfolder.runs import RunStatus

AT = datetime(2026, 12, 7, 16, 13, tzinfo=UTC)


def declined_run() -> RunRow:
    window = datetime(2025, 1, 7, 19, 15, tzinfo=UTC)
    return RunRow(
        run_id="r1",
        incident_id="INC-1",
        incident_title=None,
        timezone="America/New_York",
        window_start_utc=window,
        window_end_utc=window,
        status=RunStatus.DECLINED,
        policy_version="v1",
        policy_sha256="0" * 64,
        run_folder=Path("out/run=r1"),
        started_at=window,
        finished_at=window,
        manifest="{}",
        decided_by="alice",
        decided_at=AT,
        decision_note="window not final",
        batch_id=None,
    )


def test_declining_again_tells_the_first_decline_on_the_incident_s_clock():
    decision = ledger.Decision(
        run_id="r1",
        status="declined",
        batch_id=None,
        batch_folder=None,
        rows=0,
        totals_minor={},
        decreases=0,
        already_decided=True,
        decided_by="alice",
        decided_at=AT,
        decision_note="window not final",
        timezone="America/New_York",
    )
    assert decision.declined_before() == (
        "run r1 was already declined by alice on 2026-12-07 11:13 EST: window not final; "
        "nothing new recorded"
    )


def test_approving_a_declined_run_tells_the_decline_on_the_incident_s_clock():
    with pytest.raises(ConfigError) as raised:
        approval.require_pending(declined_run())
    assert str(raised.value) == (
        "run r1: was already declined by alice on 2026-12-07 11:13 EST: window not final: a "
        "decided run cannot be approved; nothing recorded"
    )
