"""`credits serve-support`: serves the support page with uvicorn, on 127.0.0.1 unless told."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

from transforms.errors import ConfigError
from transforms.finance import warehouse as finance_warehouse
from transforms.serving import support

TOKEN_VARIABLE = "CREDITS_SUPPORT_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(host: str, token: str | None, warehouse: Path) -> str | None:
    """Refuses a binding others can reach without a token, and a warehouse it cannot read; one
    busy now (a run loading) is a note to print, since each page waits for it itself."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host}: other machines could reach the page; give --token SECRET (or set "
            f"{TOKEN_VARIABLE}), a shared secret every request must carry"
        )
    if token is not None and len(token) < 16:
        raise ConfigError("--token: use at least 16 characters (e.g. `openssl rand -hex 16`)")
    try:
        support.connect(warehouse).close()  # a missing or unreadable warehouse is named now
    except finance_warehouse.WarehouseBusy as busy:
        return f"note: {busy}; the page serves meanwhile (a page waits for it, or says so: 503)"
    return None


def listen(host: str, port: int) -> socket.socket:
    """The page's listening socket, bound before the page is announced: an address in use (a
    page already served there) or not of this machine is a `ConfigError` naming it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"--host {host} --port {port}: cannot listen there ({error.strerror or error}); "
            + _what_to_do(host, error)
        ) from None
    return sock


def _what_to_do(host: str, error: OSError) -> str:
    """The advice for a bind refused: the address, the privilege or the port in use."""
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this machine: give one of its addresses "
            "(127.0.0.1, the default, or 0.0.0.0 for all)"
        )
    if error.errno == errno.EACCES:
        return "a port below 1024 needs privileges: give a --port of 1024 or more"
    return "another program (a support page already served?) may have it: give another --port"


def serve(sock: socket.socket, token: str | None, warehouse: Path) -> None:
    """Runs the page on `sock` until Ctrl-C. No access log: URLs carry e-mail addresses and
    the token."""
    import uvicorn

    from flows.support_page import app

    config = uvicorn.Config(
        app.create(warehouse, token), log_level="warning", access_log=False, server_header=False
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt as stopped:  # uvicorn raises the signal again once it stopped
        if str(stopped) in ("SIGTERM", "SIGHUP"):  # the console's guard: exit 128 + n, as ever
            raise
        return  # Ctrl-C: the page stopped, as asked
    if not server.started:
        raise ConfigError("the support page could not start (uvicorn's message above says why)")
