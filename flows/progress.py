"""What `credits run` shows while a run goes: one line per stage, and a bar over the log
partitions as the map reads them.

A task says its stage's line through Prefect's run logger, tagged with the stage
(`note("plan", ...)`): the Prefect UI and the flow run's logs keep it as any other line, and
`shown` prints the tagged lines on a console while the flow runs. The bar is the flow's own
(`over`): it advances as each partition's task finishes, on threads or on a Dask cluster.
Nothing is shown unless `shown` is in effect (tests, deployments).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from prefect import get_run_logger
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# The stages of a run, in order, as the lines name them.
STAGES = ("plan", "map", "reduce", "tables", "reconcile", "gate", "publish")
_TAGGED_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")
_WIDTH = max(len(s) for s in STAGES)

T = TypeVar("T")
_console: Console | None = None


def note(stage: str, message: str, *args: object) -> None:
    """Logs one stage's line (`message % args`) from inside a task or a flow."""
    get_run_logger().info(message, *args, extra={"stage": stage})


def line(stage: str, text: str) -> str:
    """How a stage's line reads: the stage, padded, then what it did."""
    return f"{stage:<{_WIDTH}}  {text}"


def over(items: Iterable[T], stage: str, what: str, total: int) -> Iterator[T]:
    """`items`, advancing a bar `stage  what  n/total` as each is taken (no bar unless shown)."""
    if _console is None:
        yield from items
        return
    columns = (
        TextColumn(line(stage, what)),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_console, transient=False) as bar:
        task = bar.add_task(what, total=total)
        for item in items:
            yield item
            bar.advance(task)


class _StageLines(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__(logging.INFO)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        stage = getattr(record, "stage", None)
        if stage is not None:
            self.console.print(line(stage, record.getMessage()), markup=False, highlight=False)


@contextmanager
def shown(console: Console) -> Iterator[None]:
    """Within it, the stage lines and the bar of any flow run in this process go to `console`."""
    global _console
    handler = _StageLines(console)
    loggers = [logging.getLogger(name) for name in _TAGGED_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    _console = console
    try:
        yield
    finally:
        _console = None
        for logger in loggers:
            logger.removeHandler(handler)
