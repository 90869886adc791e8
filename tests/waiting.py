"""Waiting for another process without reading a clock: a bounded number of short sleeps.

A wait is a limit on how long a test may hang, never a measurement: speed belongs in
`make bench`."""

from __future__ import annotations

import math
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def until(condition: Callable[[], object], *, seconds: float, every: float = 0.05) -> bool:
    """Whether `condition()` became true within about `seconds` (checked every `every` s)."""
    for _ in range(math.ceil(seconds / every)):
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def signalled_once_the_flow_started(
    process: subprocess.Popen, out: Path, signum: int = signal.SIGTERM
) -> str:
    """Sends `signum` to a `credits run` once its run folder appears under `out` (the flow has
    started), and returns what it printed on stderr; the process is killed if anything fails."""

    def flow_started() -> bool:
        assert process.poll() is None, process.communicate()
        return bool(list(out.glob("incident=*/run=*")))

    try:
        assert until(flow_started, seconds=120), "the flow never started"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    return stderr


def paused_for_approval(incident_file: Path, warehouse: object, *, seconds: float = 120.0):
    """The flow run of `incident_file` into `warehouse` once it is paused for approval on the
    current Prefect API (None if it is not within about `seconds`). Only paused runs are asked
    for: a page of every run of the session's test server (hundreds, in no useful order) may
    leave it out. The warehouse tells this test's run from an earlier one left paused: the
    finance desk's incident file has the same path in every test of a worker."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    paused = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )
    found: list = []

    def this_one_paused() -> bool:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(flow_run_filter=paused)
        mine = {"incident_file": str(incident_file), "warehouse_path": str(warehouse)}
        found[:] = [r for r in runs if mine.items() <= r.parameters.items()]
        return bool(found)

    return found[0] if until(this_one_paused, seconds=seconds, every=0.2) else None
