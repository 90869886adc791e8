"""The plan's partitions: at most `PARTITIONS`, and at most one per `MIN_PARTITION_BYTES` of
files, so that a small input is not spread over partitions that each cost a DuckDB query."""

from __future__ import annotations

import pytest

from tests.builders import failure, write_incident
from transforms.ingest import incident, logs
from transforms.ingest.logs.plan import MIN_PARTITION_BYTES


def _incident(tmp_path, sizes: list[int]):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")])
    for number, size in enumerate(sizes):
        with open(tmp_path / "inc/logs" / f"pod-{number:02d}.jsonl", "wb") as handle:
            handle.truncate(size)  # sparse: the plan only looks at the sizes
    return incident.load(path)


@pytest.mark.parametrize(
    ("sizes", "planned"),
    [
        ([], 1),  # the one-line file alone: one partition
        ([1000] * 20, 1),  # twenty small files are still one partition
        ([MIN_PARTITION_BYTES // 2] * 5, 3),  # 2.5 times the minimum: three partitions
        ([MIN_PARTITION_BYTES] * 40, logs.PARTITIONS),  # never more than PARTITIONS
    ],
)
def test_a_partition_holds_at_least_min_partition_bytes(tmp_path, sizes, planned):
    loaded = _incident(tmp_path, sizes)
    partitions = logs.plan(loaded, logs.PARTITIONS).partitions
    assert len(partitions) == planned
    assert sorted(f.file_id for p in partitions for f in p.files) == list(range(len(sizes) + 1))


def test_without_a_minimum_every_partition_asked_for_is_planned(tmp_path):
    loaded = _incident(tmp_path, [1000] * 5)
    partitions = logs.plan(loaded, 4, min_bytes=0).partitions
    assert len(partitions) == 4


def test_the_largest_file_goes_first_onto_the_partition_with_the_fewest_bytes(tmp_path):
    # pod-02 (5000) -> a, pod-04 (4000) -> b, pod-00 (3000) -> b (7000), pod-03 (3000) -> a
    # (8000), pod-01 (1000) -> b (8000); the one-line pod-a last, onto the tie's partition with
    # fewer files (a). Partitions are listed by their first file.
    loaded = _incident(tmp_path, [3000, 1000, 5000, 3000, 4000])
    partitions = logs.plan(loaded, 2, min_bytes=0).partitions
    assert [[f.name for f in p.files] for p in partitions] == [
        ["logs/pod-00.jsonl", "logs/pod-01.jsonl", "logs/pod-04.jsonl"],
        ["logs/pod-02.jsonl", "logs/pod-03.jsonl", "logs/pod-a.jsonl"],
    ]
