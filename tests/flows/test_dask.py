"""The log map on Dask, as deployed: the same outputs, byte for byte, as on threads.

Two set-ups: the `LocalCluster` of worker processes that `credits run --task-runner dask` starts
for a run, and a cluster of its own (a `dask scheduler` and two `dask worker` processes, as on
real machines) reached with `--dask-address`. One sample incident and one such cluster serve the
whole module.

A worker that dies mid-map has its partition rerun on another worker by the scheduler (what
`distributed` does for a lost worker's tasks, up to `distributed.scheduler.allowed-failures`
deaths per task); past that the run stops, exit 4, nothing written. The deaths are
deterministic: `dask_worker_kill.py`, preloaded in the workers, makes a worker kill its own
process on an extract task while a counter file allows it.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.flows.test_cli import credits_command
from transforms.errors import ConfigError, StorageError, WorkersLost
from transforms.ingest import incident, logs

OUTPUTS = ("credits.csv", "exceptions.csv", "evidence.parquet", "quarantine.jsonl")
KILL_PRELOAD = Path(__file__).with_name("dask_worker_kill.py")
ALLOWED_FAILURES = 1  # distributed's default is 3; 1 shows both outcomes with fewer deaths


@dataclass(frozen=True)
class Cluster:
    address: str
    kills: Path  # the counter file of deaths to come

    def kill_next(self, deaths: int) -> None:
        self.kills.write_text(str(deaths))

    def deaths(self) -> int:
        died = self.kills.with_name(self.kills.name + ".deaths")
        return len(died.read_text().splitlines()) if died.exists() else 0


@pytest.fixture(scope="module")
def incident_file(sample_incident) -> Path:
    return sample_incident


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers, each its own process (and process group)."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("cluster")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CREDITS_TEST_KILLS": str(folder / "kills"),
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(ALLOWED_FAILURES),
    }
    dask = str(Path(sys.executable).with_name("dask"))
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [
        [dask, "worker", address, "--name", f"w{i}", "--nthreads", "1", "--no-dashboard"]
        + ["--local-directory", str(folder / f"w{i}")]
        + ["--preload", "flows.credit_reconciliation", "--preload", str(KILL_PRELOAD)]
        for i in (1, 2)
    ]
    processes = []
    for i, command in enumerate(commands):
        with open(folder / f"process-{i}.log", "w") as log:
            processes.append(
                subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield Cluster(address, folder / "kills")
    finally:  # each process group at once (a nanny and its worker): nothing to save in them
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def on_threads(sample_run) -> Path:
    """The session's run of the sample on threads (the flow's default task runner)."""
    return sample_run.summary.run_folder


def run_with(runner, incident_file: Path, out: Path) -> Path:
    from flows.credit_reconciliation import credit_reconciliation

    flow = credit_reconciliation.with_options(task_runner=runner)
    summary = flow(str(incident_file), str(out / "runs"), str(out / "warehouse.duckdb"))
    return summary.run_folder


def assert_same_outputs(folder: Path, on_threads: Path) -> None:
    for name in OUTPUTS:
        assert (folder / name).read_bytes() == (on_threads / name).read_bytes(), name


def test_a_local_cluster_of_worker_processes_gives_the_same_outputs(
    on_threads, incident_file, tmp_path
):
    from flows.credit_reconciliation import task_runner

    # as `credits run --task-runner dask` without an address: a LocalCluster of worker processes
    assert_same_outputs(run_with(task_runner("dask"), incident_file, tmp_path), on_threads)
    # what travels to and from the workers pickles, as it must between processes
    partitions = logs.plan(incident.load(incident_file), 2).partitions
    assert pickle.loads(pickle.dumps(partitions)) == partitions


def test_credits_run_on_a_scheduler_and_two_workers_gives_the_same_outputs(
    on_threads, incident_file, cluster, tmp_path
):
    from prefect.settings import get_current_settings

    result = credits_command(
        "run",
        str(incident_file),
        "--output-dir",
        str(tmp_path / "runs"),
        "--warehouse",
        str(tmp_path / "warehouse.duckdb"),
        "--task-runner",
        "dask",
        "--dask-address",
        cluster.address,
        api_url=str(get_current_settings().api.url),
    )
    assert result.returncode == 0, result.stderr
    assert_same_outputs(Path(result.stdout.strip().splitlines()[-1]), on_threads)


def test_a_worker_that_dies_mid_map_has_its_partition_rerun(
    on_threads, incident_file, cluster, tmp_path
):
    from flows.credit_reconciliation import task_runner

    before = cluster.deaths()
    cluster.kill_next(1)
    folder = run_with(task_runner("dask", cluster.address), incident_file, tmp_path)
    assert cluster.deaths() == before + 1
    assert_same_outputs(folder, on_threads)


def test_a_partition_that_kills_more_workers_than_allowed_stops_the_run(
    prefect_harness, incident_file, cluster, tmp_path
):
    from flows.credit_reconciliation import task_runner

    # both workers die on their first partitions, then the first rerun dies too: a partition
    # has lost ALLOWED_FAILURES + 1 workers (the scheduler blames every partition a dead worker
    # held, so two deaths may already do)
    before = cluster.deaths()
    cluster.kill_next(ALLOWED_FAILURES * 2 + 1)
    with pytest.raises(WorkersLost, match="lost every worker that read the log partition of"):
        run_with(task_runner("dask", cluster.address), incident_file, tmp_path)
    cluster.kill_next(0)
    assert cluster.deaths() - before >= ALLOWED_FAILURES + 1
    assert WorkersLost.exit_code == 4
    assert not list(tmp_path.rglob("credits.csv")) and not list(tmp_path.rglob("manifest.json"))


# The cluster checked before a run starts (`flows/dask_cluster.py`)


def test_a_cluster_whose_workers_run_this_code_passes_the_check(cluster):
    from flows import dask_cluster

    dask_cluster.check(cluster.address)


def test_workers_running_other_code_are_refused_naming_them(cluster, monkeypatch):
    """The run's own code differs here (its fingerprint over `flows/` only), as a worker
    started from an older checkout would: the workers compute theirs over both packages."""
    from flows import dask_cluster

    monkeypatch.setattr(dask_cluster, "_CODE", ("flows",))
    with pytest.raises(ConfigError, match=r"worker\(s\) tcp://.* run other code than this run"):
        dask_cluster.check(cluster.address)


@pytest.mark.parametrize("address", ["foo", "http://127.0.0.1:8786", "tcp://127.0.0.1"])
def test_an_address_that_is_no_scheduler_address_exits_2(address):
    from flows import dask_cluster

    with pytest.raises(ConfigError, match=f"--dask-address {address}: not a Dask scheduler"):
        dask_cluster.check(address)


def test_no_scheduler_or_one_without_workers_exits_4(monkeypatch):
    from distributed import LocalCluster

    from flows import dask_cluster

    monkeypatch.setattr(dask_cluster, "CONNECT_SECONDS", 1)
    monkeypatch.setattr(dask_cluster, "WORKER_SECONDS", 1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(StorageError, match="no Dask scheduler answered within 1 s"):
        dask_cluster.check(nobody)
    with (
        LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=":0") as empty,
        pytest.raises(StorageError, match="no worker joined the scheduler within 1 s"),
    ):
        dask_cluster.check(empty.scheduler_address)


def test_a_worker_that_never_answers_does_not_hang_the_check():
    from flows import dask_cluster

    hung = threading.Event()
    with pytest.raises(TimeoutError):
        dask_cluster._within(0.1, hung.wait)
    assert dask_cluster._within(1, lambda: 7) == 7
    with pytest.raises(KeyError):
        dask_cluster._within(1, lambda: {}["x"])
    hung.set()
