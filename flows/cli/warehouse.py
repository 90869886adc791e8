"""`credits warehouse copy`: a DuckDB warehouse moved into an empty PostgreSQL store, chains and
all (`transforms.finance.store_copy` says what it guarantees). A quick command: no Prefect."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import app, guarded, out, print_lines
from flows.settings import journal_key
from transforms import commands

warehouse_app = typer.Typer(
    no_args_is_help=True, help="Move the warehouse: a DuckDB file into a PostgreSQL store."
)
app.add_typer(warehouse_app, name="warehouse")


@warehouse_app.command("copy")
def copy(
    source: Annotated[
        str, typer.Option("--from", help="the DuckDB warehouse to copy (upgraded first if old)")
    ],
    target: Annotated[
        str,
        typer.Option(
            "--to", help="an empty PostgreSQL store: postgresql://user@host:port/database"
        ),
    ],
) -> None:
    """Copies a DuckDB warehouse into an empty PostgreSQL store in one transaction, and commits
    only once every table's rows and the journal and ledger chains check out on the target.

    Exit 2: the target is not empty, or keyed chains need CREDITS_JOURNAL_KEY.
    Exit 3: the source does not prove itself, or the copy does not match it (rolled back).
    Exit 4: the server cannot be reached, or refused the write."""
    from transforms.finance import store_copy

    copied = guarded(lambda: store_copy.copy(source, target, journal_key()))
    out.print(f"copied {copied.source} into {copied.target}, in one transaction:", markup=False)
    width = max(len(name) for name in copied.rows)
    print_lines([f"  {name:<{width}}  {rows:>12,}" for name, rows in copied.rows.items()])
    chains = copied.chains
    links = "keyed links checked with the key" if chains.keyed else "sha256 links"
    out.print(
        f"verified on the target: every table's rows equal the source's; the journal "
        f"({chains.journal_entries:,} entries) and {chains.ledger_chains} ledger chain(s) "
        f"({chains.ledger_entries:,} entries) intact, {links}. The runs and batches are "
        "proved as in the source: "
        f"`{commands.credits('audit --verify --warehouse URL --outbox OUTBOX')}` checks them "
        "against the outbox",
        markup=False,
    )
    out.print(
        f"{copied.source} now refuses runs and approvals (its journal records the move); "
        "point CREDITS_WAREHOUSE at the store",
        markup=False,
    )
