"""Watching the Prefect server a run uses (`server_gone`): gone when its temporary server's
process exits, or when nothing accepts a connection at its address for a few probes in a row
(`Api.serving` in `flows.server` then ends the run with exit 4)."""

from __future__ import annotations

import socket
import subprocess
import threading
import urllib.parse
import urllib.request

# The server a run uses is gone when nothing accepts a connection at its address for
# GONE_AFTER_PROBES probes in a row, PROBE_EVERY_SECONDS apart (about 3 s; the temporary server:
# as soon as its process exits). A slow server still accepts them (the kernel does, whatever its
# app is busy with), and the run waits for it as Prefect does. Left to Prefect, a server gone
# mid-run cost minutes: its client retries a refused connection 5 times per call (2 + 4 + 8 +
# 16 + 32 s: PREFECT_CLIENT_MAX_RETRIES), then its event and log workers retry at exit.
PROBE_EVERY_SECONDS = 0.5
GONE_AFTER_PROBES = 6
PROBE_TIMEOUT_SECONDS = 2.0


def server_gone(
    url: str,
    process: subprocess.Popen | None,
    finished: threading.Event,
    every: float = PROBE_EVERY_SECONDS,
) -> str | None:
    """Waits until the server at `url` is gone and says how, or returns None once `finished`
    is set: the temporary server `process` exited, or nothing accepted a connection at `url`
    for `GONE_AFTER_PROBES` probes in a row (a probe that connects starts the count again)."""
    missed = 0
    probing = not _through_a_proxy(url)  # a direct connection may be refused to a live server
    while not finished.wait(every):
        if process is not None and (code := process.poll()) is not None:
            return f"Prefect's temporary server (pid {process.pid}) exited with code {code} mid-run"
        if not probing:
            continue
        missed = 0 if accepts(url) else missed + 1
        if missed >= GONE_AFTER_PROBES:
            return (
                f"the Prefect server at {url} stopped answering mid-run (nothing accepted a "
                f"connection there for {missed} probes in a row, {every:g} s apart)"
            )
    return None


def _through_a_proxy(url: str) -> bool:
    """Whether Prefect's client (httpx, which reads the `*_proxy` variables) reaches `url`
    through a proxy: a server that only the proxy may reach refuses a direct probe."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    return parts.scheme in proxies and not urllib.request.proxy_bypass(parts.hostname or "")


def accepts(url: str) -> bool:
    """Whether something accepts a TCP connection at `url`'s host and port now."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=PROBE_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False
