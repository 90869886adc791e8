"""A long-lived local Prefect server that every `credits run` on the machine finds by itself.

`credits serve-prefect` and `make serve` start `prefect server start` (UI and services included)
and, while it answers, record it in `PREFECT_HOME/credits-server.json`: its URL, pid and start
time. A `credits run` without `PREFECT_API_URL` reads that record and asks the server's
`/health` once (a server that is down refuses at once; a hung one is given `PROBE_SECONDS`): if
it answers, the run uses it and starts no temporary server; if not, the run starts its own
temporary server as usual, and a record whose process is gone is removed. No Prefect import
here: a run looks before it imports Prefect.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import psutil

from transforms import files, processes
from transforms.errors import ConfigError, StorageError

RECORD = "credits-server.json"
LOCK = "credits-server.lock"  # held by the process that keeps the long-lived server
PROBE_SECONDS = 2.0
START_SECONDS = 120
STOP_SECONDS = 20
PR_SET_PDEATHSIG = 1  # prctl(2)


def home() -> Path:
    """Prefect's home folder (`PREFECT_HOME`, set by `settings.configure_prefect`), made if
    missing. A path Prefect cannot use (a file, a folder it may not write) is a config error
    naming the variable, before anything reads or writes there."""
    given = os.environ["PREFECT_HOME"]
    if not given.strip():  # Path("") is the current folder: Prefect's files would land there
        raise ConfigError(
            "PREFECT_HOME is set but empty; unset it for the project's .prefect/, or name a folder"
        )
    path = Path(given).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file there or above it, no right to make it, ...
        why = error.strerror or type(error).__name__
        if path.is_symlink() and not path.exists():
            why = f"a link to {os.readlink(path)}, which does not exist"
        raise ConfigError(
            f"PREFECT_HOME={path}: not a folder Prefect can use ({why}); point it at a folder, "
            "or unset it for the project's .prefect/"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"PREFECT_HOME={path}: this user cannot write there; point it at a folder, or "
            "unset it for the project's .prefect/"
        )
    return path


def answers(api_url: str, timeout: float = PROBE_SECONDS) -> bool:
    """Whether a Prefect API at `api_url` (`http://HOST:PORT/api`) answers its health check."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def found(prefect_home: Path) -> str | None:
    """The API URL of the long-lived server recorded in `prefect_home`, if it answers."""
    path = prefect_home / RECORD
    try:
        record = json.loads(path.read_text())
        url, pid, started = record["url"], int(record["pid"]), float(record["started"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # unreadable: no server can be found through it
        return None
    if not processes.alive(pid, started):  # whatever answers at its URL now is not the recorded one
        path.unlink(missing_ok=True)
        return None
    return url if answers(url) else None


def _record(path: Path) -> tuple[str, int, float] | None:
    try:
        record = json.loads(path.read_text())
        return record["url"], int(record["pid"]), float(record["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def running(api_url: str, prefect_home: Path) -> Iterator[subprocess.Popen]:
    """A Prefect server at `api_url` (`http://127.0.0.1:PORT/api`) for as long as the block runs,
    recorded for the runs of this machine, its log in PREFECT_HOME/server.log. It runs in a
    session of its own, so a Ctrl-C reaches only this process: what the block runs stops
    first (its last calls still find the server), then the server is stopped here."""
    address = urllib.parse.urlsplit(api_url)
    prefect_home.mkdir(parents=True, exist_ok=True)
    with _the_one(prefect_home) as lock:
        _require_free(api_url, prefect_home)
        with _serving(api_url, address, prefect_home) as server:
            # A server that dies (killed behind its back) frees the home at once: the process
            # that kept it may take long to notice, and another must be able to start.
            threading.Thread(target=_unlock_when_gone, args=(server, lock), daemon=True).start()
            yield server


def _unlock_when_gone(server: subprocess.Popen, lock: IO[str]) -> None:
    server.wait()
    with contextlib.suppress(ValueError, OSError):  # closed already: the block ended first
        fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _the_one(prefect_home: Path) -> Iterator[IO[str]]:
    """Held for as long as this process keeps the home's long-lived server, from the check
    that none runs to the end: two started at once (`make serve` twice) both passed the check,
    and one crashed writing the record while the other ran unrecorded. The lock goes with the
    process, whatever ends it."""
    with open(prefect_home / LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"a long-lived Prefect server of PREFECT_HOME={prefect_home} is starting or "
                f"running (another `make serve` or `credits serve-prefect` holds "
                f"{prefect_home / LOCK}): every `credits run` here uses it. Stop it first, or "
                "use that one"
            ) from None
        yield lock


@contextmanager
def _serving(
    api_url: str, address: urllib.parse.SplitResult, prefect_home: Path
) -> Iterator[subprocess.Popen]:
    command = [str(Path(sys.executable).with_name("prefect")), "server", "start"]
    command += ["--host", address.hostname or "127.0.0.1", "--port", str(address.port)]
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}  # its database beside its record
    with open(prefect_home / "server.log", "ab") as log:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=dies_with_parent,
        )
    record = prefect_home / RECORD
    try:
        _wait(server, api_url, prefect_home / "server.log")
        content = {"url": api_url, "pid": server.pid, "started": _started(server.pid)}
        files.write_text(record, json.dumps(content) + "\n")  # a reader never sees half of it
        yield server
    finally:
        if _recorded_pid(record) == server.pid:
            record.unlink(missing_ok=True)
        server.terminate()
        try:
            server.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def dies_with_parent() -> None:
    """Run in the server's process before it starts (Linux's PR_SET_PDEATHSIG): it gets SIGTERM
    when the process that started it dies, even by SIGKILL, so a long-lived server never
    outlives its `make serve` or `serve-prefect` (it runs in a session of its own, which no
    terminal's signal reaches)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _require_free(api_url: str, prefect_home: Path) -> None:
    """Refuses (exit 2) a second long-lived server: one of this PREFECT_HOME already recorded
    and alive (its runs would be split between the two, and stopping one would stop the
    other's schedule), or any server already answering at the URL (another project's `make
    serve` on the same port would take this one's scheduled runs)."""
    recorded = _record(prefect_home / RECORD)
    if recorded is not None and processes.alive(recorded[1], recorded[2]) and answers(recorded[0]):
        raise ConfigError(
            f"a long-lived Prefect server of PREFECT_HOME={prefect_home} already runs at "
            f"{recorded[0]} (pid {recorded[1]}; `make serve` or `credits serve-prefect`): every "
            "`credits run` here uses it. Stop it first, or use that one"
        )
    if answers(api_url):
        raise ConfigError(
            f"a Prefect server already answers at {api_url} (another project's `make serve` "
            "or `credits serve-prefect`?): choose another port (PREFECT_PORT=... make serve, "
            "or --port), or stop that server"
        )


def _wait(server: subprocess.Popen, api_url: str, log: Path) -> None:
    """Until our server answers; its own exit first (a server that another one answers for is
    not ours)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.poll() is not None:  # e.g. the port is taken
            raise StorageError(
                f"the Prefect server for {api_url} exited with code {server.returncode} before "
                f"it answered: is the port taken? its log: {log}"
            )
        if answers(api_url, timeout=5):
            return
        if time.monotonic() > deadline:
            raise StorageError(
                f"no Prefect server answered at {api_url} within {START_SECONDS} s; its log: {log}"
            )
        time.sleep(0.2)


def _started(pid: int) -> float:
    return psutil.Process(pid).create_time()


def _recorded_pid(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
