"""A process as recorded in a file for another process to find later: its machine, pid and start.

A pid alone is not enough, since the system reuses it: the start tells the recorded process from
a later one with the same pid. On Linux the start is the boot's id and the process's start in
clock ticks since that boot (`/proc`): a clock stepped by NTP or a resumed VM moves the start
time psutil computes from the wall clock, and a live process must never look gone. Elsewhere the
start time, to the second. The machine is the host name, the machine id and the pid namespace:
two hosts of one name, or two containers of one host, each see their own pids; and of two clones
of one disk (the same three), a record of the other's boot that started after this boot began.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import suppress
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import psutil

MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
STARTED_WITHIN = 1.0  # seconds: a start time read without /proc (no boot id, no ticks)
BOOTED_WITHIN = 60.0  # seconds: a clock stepped at boot; a record judged a clone's is kept


@dataclass(frozen=True)
class Recorded:
    host: str  # the machine (`_machine`)
    pid: int
    started: float  # epoch seconds, as psutil computes it
    boot: str = ""  # the boot's id (Linux): a record of an earlier boot is of a process gone
    ticks: int | None = None  # its start in clock ticks since that boot (Linux)

    @classmethod
    def of(cls, pid: int | None = None) -> Recorded:
        """The process `pid` (this one by default), as it would be recorded."""
        process = psutil.Process(pid)
        return cls(_machine(), process.pid, process.create_time(), _boot(), _ticks(process.pid))

    @classmethod
    def read(cls, path: Path) -> Recorded | None:
        """The process recorded in `path` (None: missing or unreadable, or no process)."""
        try:
            record = json.loads(path.read_text())
            ticks = record.get("ticks")
            found = cls(
                str(record["host"]),
                int(record["pid"]),
                float(record["started"]),
                str(record.get("boot", "")),
                None if ticks is None else int(ticks),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return found if found.pid > 0 else None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)) + "\n")

    @property
    def here(self) -> bool:
        """Whether it was recorded on this machine (only there can it be looked for). A record
        of another boot that started after this one began is a clone's: a machine made from
        this one's disk, of its host name and machine id, whose live processes this machine
        cannot see (a process of an earlier boot started before this boot)."""
        return self.host == _machine() and not self._of_a_clone()

    def _of_a_clone(self) -> bool:
        other_boot = bool(self.boot and _boot() and self.boot != _boot())
        return other_boot and self.started > _booted_at() + BOOTED_WITHIN

    def alive(self) -> bool:
        """Whether it still runs on this machine: the same pid, started at the same moment."""
        if self.boot and self.ticks is not None and _boot():
            return self.boot == _boot() and _ticks(self.pid) == self.ticks
        return alive(self.pid, self.started)


@cache  # neither changes while a process runs: one read each, however many records
def _machine() -> str:
    """This host's name, its machine id and its pid namespace, where the system tells them."""
    parts = [socket.gethostname()]
    for path in MACHINE_ID_FILES:
        try:
            parts.append(path.read_text().strip())
            break
        except OSError:
            continue
    with suppress(OSError):
        parts.append(os.readlink("/proc/self/ns/pid"))  # e.g. pid:[4026531836]
    return " ".join(parts)


@cache
def _booted_at() -> float:
    """When this machine booted, epoch seconds (from the wall clock, as `started`)."""
    return psutil.boot_time()


@cache
def _boot() -> str:
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:
        return ""


def _ticks(pid: int) -> int | None:
    """Process `pid`'s start in clock ticks since boot (`/proc/PID/stat`'s 22nd field)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (name) ": the third field on
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def alive(pid: int, started: float) -> bool:
    """Whether process `pid` runs and is the one that started at `started` (epoch seconds, to
    the second: the start psutil computes moves with the wall clock)."""
    try:
        return abs(psutil.Process(pid).create_time() - started) < STARTED_WITHIN
    except (psutil.Error, ValueError):  # gone, or not a pid at all
        return False
