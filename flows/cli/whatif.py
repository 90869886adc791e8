"""`credits what-if`: several credit policies on one incident, side by side (finance).

Reads the incident's logs and tables once itself (no Prefect, no warehouse, no run folder;
nothing written but a scratch folder it removes and the `--csv` file) and prices every policy
from the same classified candidates (`transforms.reconcile.whatif`).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from flows.cli.common import app, guarded, out, print_whole
from flows.cli.options import IncidentFileArgument, output_path_given, path_given

if TYPE_CHECKING:
    from transforms.reconcile.whatif import Candidate, Outcome, TooLarge, WhatIf

# The reporting currency and each policy's total in it (None: the policy cannot apply;
# `whatif.TooLarge`: above the largest total, said under the table).
Reported = tuple[str, tuple["int | TooLarge | None", ...]]


@app.command("what-if")
def what_if(
    incident_file: IncidentFileArgument,
    policy_files: Annotated[
        list[Path],
        typer.Option(
            "--policy",
            help="a TOML file with a [policy] table; repeat for more",
            parser=path_given,
        ),
    ],
    rates_file: Annotated[
        Path | None,
        typer.Option(
            "--rates",
            help="a TOML file of fixed rates into one reporting currency",
            parser=path_given,
        ),
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="write one line per customer and currency, a column each",
            parser=output_path_given,
        ),
    ] = None,
) -> None:
    """Compares the incident's own policy with each --policy: cost, reach, who gains or loses.

    Each policy is priced as a run would price it, from one reading of the logs and tables;
    nothing is published or recorded. A policy that cannot apply is named with the run's
    message; the others still come out.
    """
    from transforms.ingest import incident, rates
    from transforms.quality import gate
    from transforms.reconcile import whatif
    from transforms.serving import exports

    def compare():
        loaded = incident.load(incident_file)
        candidates = [whatif.Candidate(loaded.path.name, loaded.path, loaded.policy)]
        for given in policy_files:
            policy = incident.load_policy(given)
            candidates.append(whatif.Candidate(str(given), given.resolve(), policy))
        candidates = _labelled(candidates)
        reporting = rates.load(rates_file) if rates_file is not None else None
        kind = exports.Kind("`credits what-if` CSV", whatif.EXPORT_KEYS, per_policy=True)
        if csv_file is not None:  # before the logs are read, not after
            exports.require_target(csv_file, kind, "--csv")
        with tempfile.TemporaryDirectory(prefix="credits-what-if-") as scratch:
            found = whatif.compare(
                loaded, candidates, Path(scratch), gate.candidate_data_problems, gate.empty_tables
            )
        reported = None
        if reporting is not None:
            reported = (reporting.currency, whatif.reported_totals(found, reporting))
        if csv_file is not None:
            columns, rows = whatif.export_rows(found)
            exports.write_private(csv_file, exports.csv_text(columns, rows), kind, "--csv")
        return found, reported

    found, reported = guarded(compare)
    _print(found, reported)
    if csv_file is not None:
        out.print(f"wrote {csv_file}", markup=False)


def _labelled(candidates: list[Candidate]) -> list[Candidate]:
    """Column labels: each file's name, or the path as given where two names are the same; a
    label still taken (a policy file named as the incident file, or as a key column of the
    `--csv` file: `currency`) gets ` #n`, its place in the command line, so that no two columns
    (of the table or of the `--csv` file) share one."""
    from transforms.reconcile.whatif import EXPORT_KEYS

    names = [Path(c.label).name for c in candidates]
    labels = [
        name if names.count(name) == 1 else c.label
        for c, name in zip(candidates, names, strict=True)
    ]
    unique = [
        label if labels.count(label) == 1 and label not in EXPORT_KEYS else f"{label} #{place}"
        for place, label in enumerate(labels, start=1)
    ]
    return [
        dataclasses.replace(c, label=label) for c, label in zip(candidates, unique, strict=True)
    ]


def _print(found: WhatIf, reported: Reported | None) -> None:
    from transforms import pages

    outcomes = found.outcomes
    table = Table(title=f"{found.incident.id}: {len(outcomes)} policies")
    table.add_column("", no_wrap=True)
    for outcome in outcomes:
        version = outcome.candidate.policy.version
        # as written, never read as markup (`share[v2].toml`, a version `[/]`), and a control
        # character of a file's name shown as `?`, as every line printed shows it
        heading = pages.visible(f"{outcome.candidate.label}\n{version}", keep="\n")
        table.add_column(Text(heading), justify="right")

    def row(name: str, cell) -> None:
        table.add_row(
            name, *(cell(i, o) if o.applies else "cannot apply" for i, o in enumerate(outcomes))
        )

    currencies = sorted({f.currency for o in outcomes for f in o.currencies})
    kinds = sorted({kind for o in outcomes for kind in o.exceptions})
    row("basis", lambda i, o: o.candidate.policy.basis.replace("_", " "))
    row("customers credited", lambda i, o: f"{len(o.customers):,}")
    row("credit lines", lambda i, o: f"{len(o.amounts):,}")
    for currency in currencies:
        row(f"total {currency}", lambda i, o, c=currency: _money(o, c, "total_minor"))
    if reported is not None:
        into, totals = reported
        row(f"total in {into}", lambda i, o: _reported(totals[i], into))
    for currency in currencies:
        row(f"median {currency}", lambda i, o, c=currency: _money(o, c, "median_minor"))
        row(f"p95 {currency}", lambda i, o, c=currency: _money(o, c, "p95_minor"))
    row("floor lifted (customers)", lambda i, o: f"{o.floor_lifted:,}")
    row("cap cut (customers)", lambda i, o: f"{o.cap_cut:,}")
    for kind in kinds:
        row(f"exceptions {kind}", lambda i, o, k=kind: f"{o.exceptions.get(k, 0):,}")
    # Customers who get something under one policy and nothing under another (any currency).
    row("customers gained vs the first", lambda i, o: _count(i and found.credited_not(i, 0)))
    row("customers lost vs the first", lambda i, o: _count(i and found.credited_not(0, i)))
    row("nothing here, something elsewhere", lambda i, o: _count(found.credited_elsewhere(i)))
    print_whole(table)
    for outcome in outcomes:
        if not outcome.applies:
            out.print(f"{outcome.candidate.label} cannot apply: {outcome.problem}", markup=False)
    too_large = [] if reported is None else zip(outcomes, reported[1], strict=True)
    for outcome, total in too_large:
        if total is not None and not isinstance(total, int):  # `TooLarge`
            out.print(f"{outcome.candidate.label}: {total.message}", markup=False)


def _reported(total: int | TooLarge | None, currency: str) -> str:
    """A policy's total in the reporting currency as its cell shows it."""
    from transforms import money

    return money.display(total, currency) if isinstance(total, int) else "too large to show"


def _money(outcome: Outcome, currency: str, field: str) -> str:
    from transforms import money

    for figures in outcome.currencies:
        if figures.currency == currency:
            return money.display(getattr(figures, field), currency)
    return "-"


def _count(customers: frozenset[str] | int | None) -> str:
    """How many customers; "-" where the comparison has no meaning (a policy with itself, or
    one that cannot apply)."""
    return f"{len(customers):,}" if isinstance(customers, frozenset) else "-"
