"""A run killed on this machine leaves its scratch `_work/`; the next run there removes it, and
only it: a run still running, another machine's, and one without a record are left alone."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import psutil

from tests.builders import failure, txn, write_incident
from transforms import processes
from transforms.ingest import incident
from transforms.runfolder import runs


def dead_process() -> processes.Recorded:
    ended = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    recorded = processes.Recorded.of(ended.pid)
    ended.wait()
    return recorded


def scratch(root: Path, name: str, owner: processes.Recorded | str | None) -> Path:
    work = root / "incident=INC-1" / f"run={name}" / "_work"
    (work / "spill").mkdir(parents=True)
    (work / "spill" / "part.bin").write_bytes(b"x" * 1000)
    if isinstance(owner, processes.Recorded):
        owner.write(work / runs.OWNER)
    elif owner is not None:
        (work / runs.OWNER).write_text(owner)
    return work


def test_only_the_scratch_of_a_run_killed_on_this_machine_is_removed(tmp_path):
    dead, me = dead_process(), processes.Recorded.of()
    assert me.boot and me.ticks is not None  # Linux: the start in ticks of this boot
    killed = scratch(tmp_path, "killed", dead)
    # this pid, but started earlier: another process that had it
    reused_pid = scratch(tmp_path, "reused", replace(me, ticks=me.ticks - 100))
    # a process of an earlier boot started before this boot
    earlier = psutil.boot_time() - 3600
    rebooted = scratch(tmp_path, "rebooted", replace(me, boot="another-boot", started=earlier))
    # a clone of this machine's disk (its host name, machine id and pid namespace) runs it: its
    # boot's process started since this boot; its live scratch was removed
    clone = scratch(
        tmp_path, "clone", replace(me, boot="the-clone-s-boot", started=psutil.boot_time() + 3600)
    )
    running = scratch(tmp_path, "running", me)
    # the wall clock stepped since it started: its start time moved, its ticks did not
    clock_stepped = scratch(tmp_path, "stepped", replace(me, started=me.started + 5))
    elsewhere = scratch(tmp_path, "elsewhere", replace(dead, host="another-machine"))
    # another container of this host: the same host name, its own pids
    same_name = replace(dead, host=f"{socket.gethostname()} pid:[1]")
    container = scratch(tmp_path, "container", same_name)
    older = scratch(tmp_path, "older", None)
    unreadable = scratch(tmp_path, "unreadable", "{")
    no_pid = scratch(tmp_path, "no_pid", json.dumps({**asdict(dead), "pid": -1}))
    gone = (killed, rebooted, reused_pid)
    sizes = [1000 + (work / runs.OWNER).stat().st_size for work in gone]

    swept = runs.sweep(tmp_path)

    # in name order, each with what it held
    assert swept == [runs.Swept(work.parent, size) for work, size in zip(gone, sizes, strict=True)]
    assert not any(work.exists() for work in gone)
    assert killed.parent.is_dir()  # the run folder itself stays: its evidence, if any
    for kept in (running, clock_stepped, elsewhere, container, clone, older, unreadable, no_pid):
        assert (kept / "spill" / "part.bin").exists(), kept
    assert runs.still_running(clone.parent) is None  # another machine's: this one cannot tell


def test_a_run_records_its_process_and_its_end_removes_the_record(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    run = runs.start(incident.load(path), tmp_path / "out")
    owner = processes.Recorded.read(run.work_dir / runs.OWNER)
    assert owner == processes.Recorded.of()
    assert owner.here and owner.alive()
    assert runs.sweep(tmp_path / "out") == []  # its own scratch: the run still runs
    runs.finish(run)
    assert not run.work_dir.exists()


def test_a_run_of_this_process_that_stopped_short_has_its_scratch_removed_by_it(tmp_path):
    # its Prefect server gone mid-run: the flow ended with nothing sealed, its _work/ left
    from transforms import processes
    from transforms.runfolder import runs

    mine = tmp_path / "out" / "incident=INC-T" / "run=mine" / "_work"
    other = tmp_path / "out" / "incident=INC-T" / "run=other" / "_work"
    for work, record in ((mine, processes.Recorded.of()), (other, processes.Recorded.of(1))):
        work.mkdir(parents=True)
        record.write(work / runs.OWNER)
    swept = runs.sweep_mine(tmp_path / "out")
    assert [s.folder.name for s in swept] == ["run=mine"]
    assert not mine.exists() and other.exists()
