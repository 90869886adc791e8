"""`credits serve-support`: serves the support page with uvicorn, on 127.0.0.1 unless told."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from transforms.errors import ConfigError
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


def check(host: str, token: str | None, warehouse: Path) -> None:
    """Refuses a binding others can reach without a token, and a warehouse it cannot read."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host}: other machines could reach the page; give --token SECRET (or set "
            f"{TOKEN_VARIABLE}), a shared secret every request must carry"
        )
    if token is not None and len(token) < 16:
        raise ConfigError("--token: use at least 16 characters (e.g. `openssl rand -hex 16`)")
    support.connect(warehouse).close()  # a missing or unreadable warehouse is named now


def serve(host: str, port: int, token: str | None, warehouse: Path) -> None:
    """Runs the page until Ctrl-C. No access log: URLs carry e-mail addresses and the token."""
    import uvicorn

    from flows.support_page import app

    uvicorn.run(
        app.create(warehouse, token),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
