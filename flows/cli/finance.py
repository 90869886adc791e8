"""Finance's commands: `approve`, `decline` (`reject` is its hidden old name), `verify-batch` and
`audit`."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from flows.cli.common import app, err, guarded, out, stopped_by_signals, typed
from flows.cli.options import (
    OutboxOption,
    WarehouseOption,
    incident_id_given,
    path_given,
    run_id_argument,
)
from flows.settings import OUTBOX, WAREHOUSE, journal_key
from transforms import commands, pages
from transforms.finance.chain import KEY_VARIABLE


@app.command()
def approve(
    run_id: Annotated[str, run_id_argument("the run to approve")],
    by: Annotated[
        str | None, typer.Option("--by", help="who approves (required, but not with --dry-run)")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="a note for the journal")] = None,
    warehouse_path: WarehouseOption = WAREHOUSE,
    outbox: OutboxOption = OUTBOX,
    force_superseded: Annotated[
        bool,
        typer.Option(
            "--force-superseded",
            help="approve a run older than the incident's newest published run (journaled)",
        ),
    ] = False,
    accept_decreases: Annotated[
        bool,
        typer.Option(
            "--accept-decreases",
            help="publish a batch that carries decreases (never paid back; journaled)",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="print the batch approval would publish and the diff; change nothing"
        ),
    ] = False,
    every_line: Annotated[
        bool, typer.Option("--all", help="with --dry-run: every line, not the first 20")
    ] = False,
) -> None:
    """Approves a pending run and publishes its batch (only what was not paid yet).

    Shows first what the run changes against what is published; a batch that would carry
    decreases stops and asks for --accept-decreases."""
    from transforms import money

    if dry_run:
        from flows.cli import diff

        diff.dry_run(
            run_id,
            warehouse_path,
            outbox,
            force_superseded=force_superseded,
            accept_decreases=accept_decreases,
            every=every_line,
        )
        return
    if every_line:  # an approval shows the summary only: the lines asked for would go unseen
        diff_all = typed(f"diff {shlex.quote(run_id)} --all", warehouse_path)
        err.print(
            "[bold red]error[/]: --all: only with --dry-run, which prints every line and "
            f"changes nothing; nothing was approved. `{escape(diff_all)}` lists every line too"
        )
        raise typer.Exit(2)
    if by is None:
        err.print("[bold red]error[/]: --by: name the person who decides (or use --dry-run)")
        raise typer.Exit(2)
    with stopped_by_signals(f"the approval of run {run_id}"):
        # imported under the guard (a few tenths of a second): a stop meanwhile says so too
        from flows.cli import diff
        from transforms.finance import ledger

        decision = diff.approving(
            lambda: ledger.approve(
                warehouse_path,
                run_id,
                by=by,
                note=note,
                outbox=outbox,
                key=journal_key(),
                force_superseded=force_superseded,
                accept_decreases=accept_decreases,
                show=lambda found: diff.print_diff(found, lines=False),
            ),
            run_id,
            warehouse_path,
        )
    for line in decision.notes:
        err.print(f"[yellow]note[/]: {escape(line)}")
    if decision.already_decided:
        out.print(decision.approved_before(), markup=False)
    if decision.batch_id is None:
        out.print("nothing new to pay for this incident: no batch")
        return
    totals = ", ".join(money.display(v, c) for c, v in decision.totals_minor.items())
    out.print(f"batch {decision.batch_id}: {decision.rows:,} payment(s) {totals}".rstrip())
    if decision.decreases:
        out.print(f"[yellow]{decision.decreases} credit(s) came out lower than already paid[/]")
    if decision.pay_by_hand:
        out.print(f"{decision.pay_by_hand} closed account(s) in pay_by_hand.csv")
    out.print(str(decision.batch_folder), markup=False)


@app.command()
def decline(
    run_id: Annotated[str, run_id_argument("the run to decline")],
    by: Annotated[str, typer.Option("--by", help="who declines")],
    reason: Annotated[str, typer.Option("--reason", help="why")],
    warehouse_path: WarehouseOption = WAREHOUSE,
    outbox: OutboxOption = OUTBOX,
) -> None:
    """Declines a pending run: it will never be published."""
    with stopped_by_signals(f"the decline of run {run_id}"):
        from transforms.finance import ledger  # under the guard, as approve's

        decision = guarded(
            lambda: ledger.decline(
                warehouse_path, run_id, by=by, reason=reason, key=journal_key(), outbox=outbox
            )
        )
    for line in decision.notes:
        err.print(f"[yellow]note[/]: {escape(line)}")
    if not decision.already_decided:
        out.print(f"run {decision.run_id} is {decision.status}")
        return
    # this --by and --reason are not journaled: the first decline stands
    out.print(decision.declined_before(), markup=False)


@app.command("reject", hidden=True)
def reject(
    run_id: Annotated[str, run_id_argument("the run to decline")],
    by: Annotated[str, typer.Option("--by", help="who declines")],
    reason: Annotated[str, typer.Option("--reason", help="why")],
    warehouse_path: WarehouseOption = WAREHOUSE,
    outbox: OutboxOption = OUTBOX,
) -> None:
    """The old name of `decline` ("rejected" is the quality gate's word): declines, and says so."""
    renamed = f"`{commands.credits('reject')}` is now `{commands.credits('decline')}`"
    err.print(f"[yellow]note[/]: {escape(renamed)} (a run is rejected only by the quality gate)")
    decline(run_id, by=by, reason=reason, warehouse_path=warehouse_path, outbox=outbox)


@app.command("verify-batch")
def verify_batch(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="a batch folder in the outbox (or its batch.json)",
            parser=path_given,
        ),
    ],
    warehouse_path: WarehouseOption = WAREHOUSE,
) -> None:
    """Recomputes a batch's control totals and file hashes, and checks them against the
    warehouse's journal (a batch rewritten with its trailer, or replayed under another id, is
    consistent alone); exit 3 if anything differs, 2 if keyed links need the key."""
    from transforms.finance import proof, warehouse

    found = guarded(lambda: proof.verify_batch(path, warehouse_path, journal_key()))
    for note in found.leftovers:  # not a mismatch: the batch proves itself by its trailer
        err.print(f"[yellow]warning[/]: {escape(note)}")
    for problem in found.problems:
        err.print(f"[bold red]mismatch[/]: {escape(problem)}")
    if found.problems:
        raise typer.Exit(3)
    for problem in found.unverified:
        err.print(f"[yellow]unverified[/]: {escape(problem)}")
    if found.unverified:
        err.print(
            f"set {KEY_VARIABLE} to verify the journal and the ledger this batch is checked "
            "against: the batch is not verified"
        )
        raise typer.Exit(2)
    if not found.against_journal:
        out.print(
            f"{path}: verified against its own trailer only: no warehouse at "
            f"{warehouse.looked_at(Path(warehouse_path))} to check it against the journal; give "
            "it as --warehouse PATH (or set CREDITS_WAREHOUSE)",
            markup=False,
        )
        return
    out.print(f"{path}: verified, and it is the batch the journal recorded", markup=False)


@app.command()
def audit(
    incident_id: Annotated[
        str | None,
        typer.Option("--incident", help="only this incident", callback=incident_id_given),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="check the journal, the ledger and every published batch"),
    ] = False,
    warehouse_path: WarehouseOption = WAREHOUSE,
    outbox: OutboxOption = OUTBOX,
) -> None:
    """Prints the audit journal; --verify proves the journal, the ledger and the batches: no
    entry edited, deleted or moved (exit 3 naming it; exit 2 if keyed links need the key)."""
    from transforms.finance import (
        journal,
        pg_location,
        proof,
        warehouse,
        warehouse_schema,
        witnesses,
    )
    from transforms.serving import run_listing

    def read():
        # The outbox's witnesses first: whatever they name was committed before they were
        # written, so the warehouse read after holds it (a decision may commit meanwhile).
        seen = witnesses.witnessed_at(warehouse_path, outbox) if verify else None
        with warehouse.connect_current(warehouse_path) as con:
            # the incident as the warehouse holds it (blanks around what was pasted dropped)
            held = None if incident_id is None else run_listing.require_incident(con, incident_id)
            entries = journal.entries(con, held)
            records = proof.gather_for_audit(con) if verify else None
            # a DuckDB file's views, which a tool opening the file itself reads
            file_views = not pg_location.is_url(warehouse_path)
            views = warehouse_schema.views_not_this_build(con) if verify and file_views else []
        # The warehouse is closed before the batches are read: writers need not wait for that.
        if records is None or seen is None:
            return entries, None
        found = proof.audit(records, journal_key(), seen)
        return entries, dataclasses.replace(found, leftovers=[*views, *found.leftovers])

    entries, found = guarded(read)
    for e in entries:
        line = (
            f"{e.seq:>5}  {e.at:%Y-%m-%dT%H:%M:%SZ}  {e.incident_id or '-'}  {e.run_id or '-'}  "
            f"{e.event:<9}  by {e.actor}  {_compact(e.detail)}".rstrip()
        )
        # one line per entry: a line break in a name or a note must not print a line that
        # reads as another entry
        out.print(pages.visible(line), markup=False)
    if found is None:
        return
    for problem in found.tampered:
        err.print(f"[bold red]tampered[/]: {escape(problem)}")
    for problem in found.unverified:
        err.print(f"[yellow]unverified[/]: {escape(problem)}")
    if found.tampered:
        raise typer.Exit(3)
    if found.unverified:
        err.print(f"set {KEY_VARIABLE} to check the keyed links")
        raise typer.Exit(2)
    for note in found.unfinished:
        err.print(f"[yellow]unfinished[/]: {escape(note)}")
    for note in found.elsewhere:  # finance's outbox may be missing a batch another path holds
        err.print(f"[yellow]elsewhere[/]: {escape(note)}")
    for note in found.leftovers:  # not a finding: the batch proves itself by its trailer
        err.print(f"[yellow]warning[/]: {escape(note)}")
    unchecked = [*found.unchecked, *found.unreached]
    for note in unchecked:  # what this machine could not check
        err.print(f"[yellow]not checked[/]: {escape(note)}")
    out.print(
        f"verified: journal of {found.journal_entries} entries, ledger of "
        f"{found.ledger_entries} entries, {found.batches_checked} published batch(es) against "
        "their trailers; every chain intact"
        + ("; what this machine could not check is named above" if unchecked else "")
    )


LISTED = 5  # a list in a journal entry's detail shown this long on its line, then counted


def _compact(detail: dict[str, Any]) -> str:
    """A journal entry's detail on one line; amounts in minor units per currency (a run's
    `totals_minor`) read as money: `totals=[EUR 5,750.00, USD 14,750.00]`; a long list (the
    credits an `--accept-decreases` approval accepted) its first `LISTED` and how many more."""
    return ", ".join(
        f"{k.removesuffix('_minor')}=[{_money(v)}]" if _per_currency(k, v) else f"{k}={_shown(v)}"
        for k, v in detail.items()
        if v not in (None, [], {})
    )


def _shown(value: Any) -> Any:
    if not isinstance(value, list) or len(value) <= LISTED:
        return value
    first = ", ".join(str(item) for item in value[:LISTED])
    return f"[{first}, and {len(value) - LISTED:,} more]"


def _per_currency(key: str, value: Any) -> bool:
    return (
        key.endswith("_minor")
        and isinstance(value, dict)
        and all(isinstance(c, str) and type(m) is int for c, m in value.items())
    )


def _money(amounts: dict[str, int]) -> str:
    from transforms import money

    return ", ".join(money.display(amounts[c], c) for c in sorted(amounts))
