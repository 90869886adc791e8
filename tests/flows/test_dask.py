"""The log map on a Dask cluster (issue 7.4): the same credit file, byte for byte, as on threads.

The cluster is a `LocalCluster` of two single-threaded workers in this process
(`processes=False`): worker processes would add their start-up to the test and test nothing
more, since every argument and result of the map is pickled either way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms import incident, logs, sample


@pytest.fixture(scope="module")
def incident_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    sample.generate(folder, scale=1)
    return folder / "INC-2025-01-07.toml"


def run_with(runner, incident_file: Path, out: Path) -> Path:
    from flows.credit_reconciliation import credit_reconciliation

    flow = credit_reconciliation.with_options(task_runner=runner)
    content = flow(str(incident_file), str(out / "runs"), str(out / "warehouse.duckdb"))
    return Path(content["run_folder"])


def test_a_two_worker_dask_cluster_gives_the_same_credit_file(
    prefect_harness, incident_file, tmp_path
):
    import pickle

    from prefect_dask import DaskTaskRunner

    from flows.credit_reconciliation import task_runner

    on_threads = run_with(task_runner(), incident_file, tmp_path / "threads")
    cluster = {"n_workers": 2, "threads_per_worker": 1, "processes": False}
    on_dask = run_with(DaskTaskRunner(cluster_kwargs=cluster), incident_file, tmp_path / "dask")
    for name in ("credits.csv", "exceptions.csv", "evidence.parquet", "quarantine.jsonl"):
        assert (on_dask / name).read_bytes() == (on_threads / name).read_bytes(), name
    # What travels to and from the workers pickles, as it must between processes.
    partitions, _ = logs.plan(incident.load(incident_file), 2)
    assert pickle.loads(pickle.dumps(partitions)) == partitions
