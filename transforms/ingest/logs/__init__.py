"""Reading payment-service log files: every physical line framed, checked and bucketed, none lost.

The work is a map over partitions of the log files and one reduce, so that the same code runs in
this process, on threads or on a Dask cluster: `plan` (which files, in which partitions),
`extract` (the map: `framing` cuts each file into lines, `screen` picks those to check in full,
`mapper` checks and writes them) and `reduce` (the work database's log tables). `stage` runs
the three in this process (tests, the benchmark); the flow maps `extract` as Prefect tasks.

May import the shared basics and `ingest.incident`.
"""

from transforms.ingest.logs.mapper import Extract, extract
from transforms.ingest.logs.plan import PARTITIONS, LogFile, Partition, Reading, expand, plan
from transforms.ingest.logs.reducer import bucket_events, reduce, stage

__all__ = [
    "bucket_events",
    "PARTITIONS",
    "Extract",
    "LogFile",
    "Partition",
    "Reading",
    "expand",
    "extract",
    "plan",
    "reduce",
    "stage",
]
