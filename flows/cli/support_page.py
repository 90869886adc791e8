"""Support's web page: `serve-support` serves the read-only support page (flows/support_page)."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import app, err, guarded, out
from flows.cli.options import WarehouseOption
from flows.settings import WAREHOUSE


@app.command("serve-support")
def serve_support(
    host: Annotated[
        str, typer.Option(help="address to listen on; any but 127.0.0.1 needs --token")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="CREDITS_SUPPORT_TOKEN",
            help="shared secret every request must carry (Authorization: Bearer, or ?token=)",
        ),
    ] = None,
    warehouse_path: WarehouseOption = WAREHOUSE,
) -> None:
    """Serves the support page: search a customer, read an incident's customers, download CSV.

    Read-only on the warehouse; Ctrl-C stops it."""
    from flows.support_page import command

    note = guarded(lambda: command.check(host, token, warehouse_path))
    sock = guarded(lambda: command.listen(host, port))
    if note:
        err.print(note, markup=False)
    shown = f"[{host}]" if ":" in host else host
    out.print(f"support page on http://{shown}:{port}/ (read-only; Ctrl-C stops it)", markup=False)
    if token is not None:
        out.print(
            "a token is required on every request: open "
            f"http://{shown}:{port}/?token=... once, or send Authorization: Bearer ...",
            markup=False,
        )
    guarded(lambda: command.serve(sock, token, warehouse_path))
