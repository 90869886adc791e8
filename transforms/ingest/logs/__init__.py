"""Reading payment-service log files: every physical line framed, checked and bucketed, none lost.

The work is a map over partitions of the log files and one reduce, so that the same code runs in
this process, on threads or on a Dask cluster: `plan` (which files, in which partitions),
`extract` (the map: `source` reads each file's bytes, decompressed and hashed, `framing` cuts
them into lines (`mending` first joins a CRI character cut in two), `screen` picks those to
check in full, `mapper` checks and writes them (`staging` binds its query's parameters);
`unnesting` cuts an OTLP or CloudWatch file into its records, `json_stream` framing it by JSON
value) and `reduce` (the work database's log tables). `stage`
(`recipe`) is the one sequence of the three, with the map's executor a parameter: this thread,
threads, or Prefect's task runner in the flow.

May import the shared basics and `ingest.incident`.
"""

from transforms.ingest.logs.mapper import Extract, extract
from transforms.ingest.logs.plan import (
    MIN_PARTITION_BYTES,
    PARTITIONS,
    LogFile,
    Partition,
    Plan,
    Reading,
    expand,
    of_incident,
    plan,
)
from transforms.ingest.logs.recipe import Mapper, in_this_thread, on_threads, stage
from transforms.ingest.logs.reducer import bucket, reduce

__all__ = [
    "bucket",
    "MIN_PARTITION_BYTES",
    "PARTITIONS",
    "Extract",
    "LogFile",
    "Mapper",
    "Partition",
    "Plan",
    "Reading",
    "expand",
    "extract",
    "in_this_thread",
    "of_incident",
    "on_threads",
    "plan",
    "reduce",
    "stage",
]
