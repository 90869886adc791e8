"""A Dask worker preload for the tests of a worker dying mid-map (`dask worker --preload PATH`).

The worker kills its own process (exit 17, as a crash or the OOM killer would) when it starts
an `extract-logs` task while the counter file named by `CREDITS_TEST_KILLS` holds a number
above zero, and takes one off it under a lock: N in the file, exactly N deaths, whichever
workers run the tasks. Each death appends a line to the file beside it, `<name>.deaths`.
"""

from __future__ import annotations

import fcntl
import os

from distributed.diagnostics.plugin import WorkerPlugin


class KillOnExtract(WorkerPlugin):
    def transition(self, key, start, finish, **kwargs) -> None:
        if finish == "executing" and str(key).startswith("extract_logs-") and _take_one():
            os._exit(17)


def _take_one() -> bool:
    path = os.environ.get("CREDITS_TEST_KILLS")
    if not path or not os.path.exists(path):
        return False
    with open(path, "r+") as counter:
        fcntl.flock(counter, fcntl.LOCK_EX)
        left = int(counter.read().strip() or 0)
        if left <= 0:
            return False
        counter.seek(0)
        counter.truncate()
        counter.write(str(left - 1))
        with open(path + ".deaths", "a") as deaths:
            deaths.write(f"{os.getpid()}\n")
    return True


async def dask_setup(worker) -> None:
    await worker.plugin_add(plugin=KillOnExtract(), name="kill-on-extract")
