"""Checks a Dask cluster (`credits run --dask-address`) before the run starts: the address is
one, a scheduler answers there, it has workers, and every worker runs this very code.

Without it, a wrong address ended in an internal error after Prefect's server had started and
the run had been journaled, an HTTP server at the address hung the run, a scheduler without
workers (or with workers that cannot import the project) waited forever, and a worker running
other code (an older checkout) changed the credits silently.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from transforms.errors import ConfigError, StorageError

CONNECT_SECONDS = 10
WORKER_SECONDS = 30  # for a worker to join (one restarting, or an adaptive cluster's first)
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # distributed's comms
_ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
_CODE = ("flows", "transforms")


def code_fingerprint() -> str:
    """sha256 over this project's code (`flows/`, `transforms/`: Python, SQL, templates), as
    the process that runs it finds it: equal on the run's machine and on every worker."""
    digest = hashlib.sha256()
    for package in _CODE:
        for path in sorted((_ROOT / package).rglob("*")):
            if path.suffix in (".py", ".sql", ".html") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(_ROOT).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def check(address: str) -> None:
    """Refuses (exit 2) an address that is none or a cluster whose workers run other code,
    and (exit 4) a scheduler that does not answer or has no worker."""
    from distributed.comm import get_address_host_port, parse_address

    named = f"--dask-address {address}"
    scheme, _ = parse_address(address)
    if scheme not in SCHEMES:
        raise ConfigError(f"{named}: not a Dask scheduler address (tcp://HOST:PORT, tls://...)")
    try:
        get_address_host_port(address)
    except ValueError as error:
        raise ConfigError(f"{named}: not a Dask scheduler address ({error})") from None
    workers = _workers(address, named)
    ours = code_fingerprint()
    others = sorted(worker for worker, theirs in workers.items() if theirs != ours)
    if others:
        raise ConfigError(
            f"{named}: worker(s) {', '.join(others)} run other code than this run (a "
            "different checkout or version of outage-credits): every worker must run the same "
            "code, or the credits could differ. Restart them from this checkout; nothing was run"
        )


def _workers(address: str, named: str) -> dict[str, str]:
    """Each worker's code fingerprint, through a client that gives up after `CONNECT_SECONDS`."""
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except Exception as error:  # refused, timed out, or something else answering there
        raise StorageError(
            f"{named}: no Dask scheduler answered within {CONNECT_SECONDS} s "
            f"({type(error).__name__}: {' '.join(str(error).split())[:200]}); start it "
            "(`dask scheduler`) or fix the address. Nothing was run"
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_SECONDS)
        except TimeoutError:
            raise StorageError(
                f"{named}: no worker joined the scheduler within {WORKER_SECONDS} s; start "
                f"one (`dask worker {address}`) from this checkout (an adaptive cluster keeps "
                "at least one). Nothing was run"
            ) from None
        try:
            return _within(WORKER_SECONDS, lambda: client.run(code_fingerprint))
        except TimeoutError:
            raise StorageError(
                f"{named}: a worker did not answer within {WORKER_SECONDS} s; see the workers' "
                "logs. Nothing was run"
            ) from None
        except OSError as error:  # the connection to the cluster lost
            raise StorageError(
                f"{named}: the cluster went away while it was checked ({error}). Nothing was run"
            ) from None
        except Exception as error:  # a worker that cannot import the project
            raise ConfigError(
                f"{named}: a worker cannot run this project's code ({type(error).__name__}: "
                f"{error}); start the workers from this checkout, with its venv. Nothing was run"
            ) from None
    finally:
        client.close()


def _within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`'s result, or `TimeoutError` after `seconds`: it runs in a daemon thread, which a
    call that never returns leaves behind without keeping the process from exiting."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as error:  # handed to the caller
            box["error"] = error

    thread = threading.Thread(target=target, name="dask-check", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
