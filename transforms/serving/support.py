"""Support's answers from the warehouse: who an incident hurt and what each customer gets.

Read-only: a connection from `connect` (the warehouse opened read-only, waiting briefly while a
run or an approval writes) and never Prefect. Every answer comes from an incident's *answering
run*: its newest run that passed the quality gate and was not declined by finance
(`pending_approval` or `published`). A newer run that was rejected or declined is named in the
answer but never says what a customer gets. Times are shown in the incident's time zone.

A customer's credit, per (customer, currency):
- `published`: the ledger has paid the credit (in full, or more: then finance reviews it);
- `pending`: the answering run proposes a credit not (fully) paid yet: it waits for approval;
- `by_hand`: the account is closed: the credit is owed and finance pays it by hand;
- `excluded`: no credit, and `detail` says why (segment, declined...).

Ids are case-sensitive; `lookup` trims what was pasted (and drops the characters no one sees in
it), finds a customer by e-mail address too (without case) and, when an id is unknown but differs
from a known one only in case or in the zeros and prefix around its number (`12`, `cus_12` for
`cus_0000012`), names it; `search` finds a customer by name too (without case or
accents), listing every customer a name matches when it is more than one.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb

from transforms import commands, db, times
from transforms.errors import ConfigError, InputError
from transforms.finance import warehouse
from transforms.serving import filters, names, pasted
from transforms.serving.answers import (
    AnsweringRun,
    Unanswered,
    counted,
    credit_row,
    exception_row,
    transaction_row,
)

COLUMNS = (
    "customer_id",
    "name",
    "email",
    "country",
    "segment",
    "currency",
    "failed_txn_count",
    "first_failure_local",
    "last_failure_local",
    "credit_amount",
    "paid_amount",
    "status",
    "detail",
    "incident_id",
    "run_id",
    "credit_id",
)
BUSY_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class CustomerList:
    """An incident's affected customers (key: customer_id, currency), as `run` says: the lines
    that pass the filters (`total` of them), or one page of them starting at line `first`
    (from 0)."""

    run: AnsweringRun
    rows: list[dict[str, Any]]
    total: int
    first: int = 0


@dataclass(frozen=True)
class IncidentStory:
    """One incident as it concerns one customer: credits, failed payments, exceptions."""

    run: AnsweringRun
    credits: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    # The earlier published runs whose failed payments are shown, when the answering run no
    # longer lists the customer they paid; empty when the payments are the answering run's.
    paid_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lookup:
    """Everything the warehouse knows about one customer (or one transaction's customer)."""

    customer_id: str | None
    txn_id: str | None
    customer: dict[str, Any] | None
    incidents: list[IncidentStory]
    # The incidents no run of which answers yet: whether they concern the customer is not known.
    unanswered: tuple[Unanswered, ...] = ()
    # The name searched for, when the customer was found by it (the only one it matches).
    by_name: str | None = None


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Opens the warehouse read-only, waiting up to `BUSY_WAIT_SECONDS` while a writer holds it;
    one an earlier version made is upgraded first, once (`warehouse.connect_current`)."""
    con = warehouse.connect(path, read_only=True, wait_seconds=BUSY_WAIT_SECONDS)
    if warehouse.is_current(con):
        return con
    con.close()
    return warehouse.connect_current(path)


def answering_runs(con: duckdb.DuckDBPyConnection) -> dict[str, AnsweringRun | None]:
    """Per incident id, its answering run; None when no run of it answers (`unanswered`)."""
    found: dict[str, AnsweringRun | None] = {}
    for row in _answering_rows(con):
        found[row["incident_id"]] = (
            None
            if row["run_id"] is None
            else AnsweringRun(
                incident_id=row["incident_id"],
                title=row["incident_title"],
                timezone=times.zone(row["timezone"]).key,  # the SQL converts with it too
                run_id=row["run_id"],
                status=row["status"],
                latest_run_id=row["latest_run_id"],
                latest_status=row["latest_status"],
            )
        )
    return found


def unanswered(con: duckdb.DuckDBPyConnection) -> dict[str, Unanswered]:
    """Per incident id no run of which answers yet (each rejected or declined), why."""
    return {
        row["incident_id"]: Unanswered(
            row["incident_id"], row["incident_title"], row["latest_run_id"], row["latest_status"]
        )
        for row in _answering_rows(con)
        if row["run_id"] is None
    }


def _answering_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return db.records(db.run(con, "support_answering_runs"))


class NoAnswerYet(InputError):
    """An incident the warehouse holds, but no run of which can answer: each was rejected by
    the quality gate or declined by finance."""


class NotAffected(InputError):
    """A customer id no incident of the warehouse names, nor one close to it (a case slip)."""


class IncidentGiven(InputError):
    """An incident's id searched for as a customer, a payment or a name: the list of its
    customers is what was meant (the support page opens it)."""

    def __init__(self, incident_id: str):
        self.incident_id = incident_id
        listing = commands.credits(f"customers {shlex.quote(incident_id)}")
        super().__init__(
            f"{incident_id} is an incident's id, not a customer's, a payment's or a name: "
            f"`{listing}` lists its customers"
        )


class UnknownIncident(InputError):
    """An incident the warehouse does not hold; `meant` is the one a case slip or a typo
    meant, if any (`make notebooks` says how to give it)."""

    def __init__(self, message: str, meant: str | None):
        super().__init__(message)
        self.meant = meant


def unknown_incident(incident_id: str, known: Iterable[str]) -> UnknownIncident:
    """The error for an incident the warehouse does not hold: the ones it does, and the one
    that differs only in case, else the closest, a slip or two away (a typo: `INC-2025-1-7`;
    `filters.meant_incident`)."""
    known = sorted(known)
    meant, hint = filters.meant_incident(incident_id, known)
    listed = ", ".join(known) or "none yet"
    return UnknownIncident(
        f"incident {incident_id}: not in the warehouse (incidents: {listed}){hint}", meant
    )


def answering_run(con: duckdb.DuckDBPyConnection, incident_id: str) -> AnsweringRun:
    """The run that answers for `incident_id`; `InputError` when there is none."""
    runs = answering_runs(con)
    if incident_id not in runs and incident_id.strip() in runs:  # blanks around what was pasted
        incident_id = incident_id.strip()
    if incident_id not in runs:
        unknown = unknown_incident(incident_id, runs)
        if pasted.known(con, incident_id):  # a customer's id, given for the incident
            lookup = commands.credits(f"lookup {shlex.quote(incident_id)}")
            raise InputError(f"{unknown}; {incident_id} is a customer's id: `{lookup}`")
        raise unknown
    run = runs[incident_id]
    if run is None:
        raise NoAnswerYet(
            f"incident {incident_id}: no answer yet: {unanswered(con)[incident_id].why}: nobody "
            f"can say yet who gets what; `{commands.credits(commands.runs_of(incident_id))}` "
            "lists its runs"
        )
    return run


def customers(
    con: duckdb.DuckDBPyConnection,
    incident_id: str,
    *,
    segment: str | None = None,
    status: str = "all",
    page: int = 1,
    page_size: int | None = None,
) -> CustomerList:
    """The incident's affected customers and their credits, optionally one segment or status
    (read by `filters.list_filters`); with `page_size`, only page `page` (from 1, clamped to the
    first and the last page).

    The filters and the paging run in the warehouse: only the lines shown are built."""
    segment, status = filters.list_filters(segment, status)
    filters.require_credit_status(status)
    run = answering_run(con, incident_id)
    listed = {"segment": segment, "status": None if status == "all" else status}
    found = _credit_rows(con, run, None, **listed, page=page, page_size=page_size)
    if not found and segment is not None:  # no line: is the segment one of the incident's?
        every = _credit_rows(con, run, None)
        segments = sorted({r["segment"] for r in every if r["segment"] is not None})
        if segment not in segments:
            same = [s for s in segments if s.casefold() == segment.casefold()]
            close = same or difflib.get_close_matches(segment, segments, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            hint += " (segments are case-sensitive)" if same else ""
            raise ConfigError(
                f"--segment: no customer of {incident_id} has segment '{segment}'{hint} "
                f"(segments: {', '.join(segments) or 'none'})"
            )
    if not found:
        return CustomerList(run, [], 0)
    return CustomerList(
        run,
        [credit_row(row, run) for row in found],
        found[0]["listed_count"],
        found[0]["line_number"] - 1,
    )


def lookup(
    con: duckdb.DuckDBPyConnection, customer_id: str | None = None, txn_id: str | None = None
) -> Lookup:
    """One customer across incidents, by id, e-mail address or one of their transactions' ids.

    What was pasted is trimmed, unless it is a known id as given (blanks and all); an e-mail
    address (an `@` in what is not a known id) matches without case, an id exactly."""
    given = customer_id
    customer_id = pasted.cleaned(con, customer_id)
    if given and given != customer_id and pasted.known(con, given):
        customer_id = given
    typed, txn_id = txn_id, pasted.cleaned(con, txn_id)
    if customer_id is txn_id is None and any(t and t.strip() for t in (given, typed)):
        raise InputError(  # an InputError, so the page answers "not found", not a 503
            "what was given holds only characters no one sees (a zero-width space, a control "
            "character): type or paste a customer id, an e-mail address, a payment id or a name"
        )
    if customer_id is not None and txn_id is not None:
        raise ConfigError("give a CUSTOMER_ID or --txn TXN_ID, not both")
    if customer_id is None and txn_id is None:
        raise ConfigError(
            "give a CUSTOMER_ID or --txn TXN_ID: a customer's id, an e-mail address, a payment's "
            "id or a name"
        )
    every = answering_runs(con)
    runs = {k: v for k, v in every.items() if v is not None}
    waiting = unanswered(con)  # no run of these answers yet: each rejected or declined
    run_ids = [run.run_id for run in runs.values()]
    if customer_id is not None and "@" in customer_id and not pasted.known(con, customer_id):
        customer_id = pasted.by_email(con, customer_id)
    if txn_id is not None:
        owned = db.run(con, "support_lookup_owners", txn_id=txn_id, run_ids=run_ids).fetchall()
        if not owned:  # paid from an earlier run that the newest one no longer lists?
            paying = [r for (r,) in db.run(con, "support_published_runs").fetchall()]
            owned = db.run(con, "support_lookup_owners", txn_id=txn_id, run_ids=paying).fetchall()
        owners = {row[1] for row in owned}
        if not owners:
            if pasted.known(con, txn_id):  # a customer's id given as a payment's
                raise InputError(
                    f"transaction {txn_id}: no such payment, but {txn_id} is a customer's id: "
                    f"`{commands.credits(f'lookup {shlex.quote(txn_id)}')}` (without --txn)"
                )
            pasted.raise_near_id(con, "txn", txn_id)
            raise InputError(
                f"transaction {txn_id}: not a candidate failure in any incident of the "
                "warehouse with a run that passed the quality gate: it did not fail inside an "
                "outage window (or the id is mistyped)"
            )
        customer_id = min(owners - {None}, default=None)
    keys = {"run_ids": run_ids, "customer_id": customer_id, "txn_id": txn_id}
    transactions = db.records(db.run(con, "support_lookup_transactions", **keys))
    exceptions = db.records(db.run(con, "support_lookup_exceptions", **keys))
    paying = db.run(con, "support_lookup_paying_runs", customer_id=customer_id).fetchall()
    stories = []
    for incident_id, run in sorted(runs.items()):
        found = _credit_rows(con, run, customer_id) if customer_id is not None else []
        credits = [credit_row(row, run) for row in found]
        mine = [transaction_row(t, run) for t in transactions if t["incident_id"] == incident_id]
        owed = [exception_row(e) for e in exceptions if e["incident_id"] == incident_id]
        paid_by: tuple[str, ...] = ()
        if not mine:  # paid or listed by hand by earlier runs: their payments and exceptions
            paid_by = tuple(r for i, r in paying if i == incident_id and r != run.run_id)
            earlier = {**keys, "run_ids": list(paid_by)}
            if paid_by:
                found_earlier = db.records(db.run(con, "support_lookup_transactions", **earlier))
                mine = [transaction_row(t, run) for t in found_earlier]
                credits = [counted(c, mine) for c in credits]
                listed = db.run(con, "support_lookup_exceptions", **earlier)
                owed = owed or [exception_row(e) for e in db.records(listed)]
        if credits or mine or owed:
            stories.append(IncidentStory(run, credits, mine, owed, paid_by if mine or owed else ()))
    if not stories:
        not_yet = (
            f"; not known yet for {', '.join(sorted(waiting))}: no run of it passed the quality "
            "gate (or finance declined every one), so it has no answer for anyone yet"
            if waiting
            else ""
        )
        pasted.raise_near_id(con, "customer", customer_id)
        raise NotAffected(
            f"customer {customer_id}: no failed payment, credit or exception in any incident "
            f"of the warehouse ({len(runs)} incident(s) with an answer): not affected by a "
            f"recorded outage, or the id is mistyped{not_yet}"
        )
    customer = None
    for row in (row for story in stories for row in story.credits):
        known = {k: row[k] for k in ("name", "email", "country", "segment")}
        customer = customer or (known if any(known.values()) else None)
    return Lookup(
        customer_id, txn_id, customer, stories, tuple(waiting[k] for k in sorted(waiting))
    )


def lookup_payment(con: duckdb.DuckDBPyConnection, txn_id: str) -> Lookup:
    """`credits lookup --txn`: the customer behind a payment's id as pasted; one found only
    without the quotes or punctuation around it (`#txn_1`, `"txn_1",`) is answered, and one it
    nearly is named, as the search box does."""
    try:
        return lookup(con, txn_id=txn_id)
    except InputError as as_given:
        found, near = _unwrapped(con, txn_id, ("txn_id",))
        if found is not None:
            return found
        raise (near or as_given) from None


def _unwrapped(
    con: duckdb.DuckDBPyConnection, query: str, keys: tuple[str, ...]
) -> tuple[Lookup | None, pasted.NearId | None]:
    """The answer for `query` without the quotes or punctuation pasted around it
    (`pasted.UNWRAPPED`), tried as each of `keys` (`customer_id`, `txn_id`) in turn, or else the
    id it most likely meant; (None, None) when it holds no such wrapping or nothing answers."""
    typed = query.strip()
    unwrapped = typed.strip(pasted.UNWRAPPED)
    near: pasted.NearId | None = None
    for key in keys if unwrapped and unwrapped != typed else ():
        try:
            return lookup(con, **{key: unwrapped}), None
        except pasted.NearId as meant:
            near = near or meant
        except InputError:  # named as pasted, by the caller
            pass
    return None, near


def search(con: duckdb.DuckDBPyConnection, query: str | None) -> Lookup:
    """What a person typed or pasted, as a customer id, an e-mail address, a payment's id or a
    customer's name, in that order (the support page's search box and `credits lookup` without
    --txn); the customer's message when nothing matches (or the payment's, when it names a case
    slip), saying that no payment has the id, nor a customer the name, either. An id found
    only without the quotes or punctuation pasted around it (`pasted.UNWRAPPED`) is answered too.

    A name finds the customer only when it matches no other customer's name (`SeveralNamed`
    lists them all otherwise): each word typed starts a word of the name, without case or
    accents (`names.customer_named`)."""
    try:
        return lookup(con, query)
    except InputError as by_customer:
        try:
            return lookup(con, txn_id=query)
        except InputError as by_txn:
            if isinstance(by_txn, pasted.NearId) and not isinstance(by_customer, pasted.NearId):
                raise by_txn from None
            if isinstance(by_customer, NotAffected):
                typed = query.strip()
                unwrapped = typed.strip(pasted.UNWRAPPED)
                found, near = _unwrapped(con, query, ("customer_id", "txn_id"))
                if found is not None:
                    return found
                incidents = answering_runs(con)
                for given in (typed, unwrapped):  # before names: "INC-A" matches "Acme Inc"
                    if given in incidents:
                        raise IncidentGiven(given) from None
                if near is not None:
                    raise near from None
                named = names.customer_named(con, typed)
                if named is not None:
                    return replace(lookup(con, named), by_name=typed)
                said = (  # a blank inside: a name, not an id (said as the support page does)
                    f"no customer's name matches '{typed}', nor is it a customer's id or a "
                    "payment's"
                    if any(c.isspace() for c in typed)
                    else f"{by_customer}; and no payment {typed} failed inside an outage window; "
                    f"no customer's name matches '{typed}'"
                )
                raise names.nearly_named(con, typed, said) or InputError(said) from None
            raise by_customer from None


def _credit_rows(
    con: duckdb.DuckDBPyConnection,
    run: AnsweringRun,
    customer_id: str | None,
    *,
    segment: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int | None = None,
) -> list[dict[str, Any]]:
    """The warehouse's rows of `support_customers`, as they are (before `credit_row`)."""
    return db.records(
        db.run(
            con,
            "support_customers",
            run_id=run.run_id,
            incident_id=run.incident_id,
            timezone=run.timezone,
            customer_id=customer_id,
            segment=segment,
            status=status,
            page=page,
            page_size=page_size,
        )
    )
