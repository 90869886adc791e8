"""A process as recorded in a file for another process to find later: its machine, pid and start
time. A pid alone is not enough, since the system reuses it: the start time tells the recorded
process from a later one with the same pid. The machine is the host name and the pid namespace:
two containers with one host name each see their own pids."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Recorded:
    host: str
    pid: int
    started: float

    @classmethod
    def of(cls, pid: int | None = None) -> Recorded:
        """The process `pid` (this one by default), as it would be recorded."""
        process = psutil.Process(pid)
        return cls(_machine(), process.pid, process.create_time())

    @classmethod
    def read(cls, path: Path) -> Recorded | None:
        """The process recorded in `path` (None: missing or unreadable)."""
        try:
            record = json.loads(path.read_text())
            return cls(str(record["host"]), int(record["pid"]), float(record["started"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)) + "\n")

    @property
    def here(self) -> bool:
        """Whether it was recorded on this machine (only there can it be looked for)."""
        return self.host == _machine()

    def alive(self) -> bool:
        """Whether it still runs (on this machine: the same pid, started at the same time)."""
        return alive(self.pid, self.started)


def _machine() -> str:
    """This host's name, with the pid namespace when there is one to tell (Linux)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # e.g. pid:[4026531836]
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()} {namespace}"


def alive(pid: int, started: float) -> bool:
    """Whether process `pid` runs and is the one that started at `started` (epoch seconds)."""
    try:
        return abs(psutil.Process(pid).create_time() - started) < 0.01
    except psutil.Error:
        return False
