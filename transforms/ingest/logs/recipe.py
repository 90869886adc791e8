"""The one recipe for reading an incident's logs: plan, map, reduce.

`stage` plans the partitions, hands them to a `Mapper` (the executor: this thread, threads, or
Prefect's task runner in the flow, which maps onto threads or a Dask cluster) and reduces the
extracts into the work database. The flow, `credits window`, the tests and the benchmark all call
it; only the mapper differs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import duckdb

from transforms.ingest.incident import Incident
from transforms.ingest.logs.mapper import Extract, extract
from transforms.ingest.logs.plan import (
    MIN_PARTITION_BYTES,
    PARTITIONS,
    LogFile,
    Plan,
    Reading,
    plan,
)
from transforms.ingest.logs.reducer import reduce

# The map: every partition of the plan extracted (with `extract`) into Parquet under `out_dir`.
Mapper = Callable[[Plan, Reading, Path], list[Extract]]


def in_this_thread(planned: Plan, reading: Reading, out_dir: Path) -> list[Extract]:
    """The map, one partition after the other in this thread."""
    return [extract(partition, reading, out_dir) for partition in planned.partitions]


def on_threads(planned: Plan, reading: Reading, out_dir: Path) -> list[Extract]:
    """The map on one thread per core (the extract releases the GIL in DuckDB and zlib)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(lambda p: extract(p, reading, out_dir), planned.partitions))


def stage(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    work_dir: Path,
    mapper: Mapper = in_this_thread,
    *,
    partitions: int = PARTITIONS,
    min_bytes: int = MIN_PARTITION_BYTES,
    reach: timedelta = timedelta(0),
) -> list[LogFile]:
    """Reads the incident's logs into the work database's log tables (see `reduce`).

    Files dated wholly outside the window widened by the clock skew and `reach` are pruned;
    the rest are split into at most `partitions` partitions (at most one per `min_bytes`),
    mapped by `mapper` into `work_dir/log_extracts` and reduced, bucketed by the incident's
    window. Returns every matched file, read or pruned, in file order.
    """
    planned = plan(incident, partitions, min_bytes, reach)
    extracts = mapper(planned, Reading.of(incident), work_dir / "log_extracts")
    return reduce(con, incident, extracts, planned.pruned)
