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

Ids are case-sensitive; `lookup` trims what was pasted, finds a customer by e-mail address too
(without case) and, when an id is unknown but differs from a known one only in case, names it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from transforms import db, money
from transforms.errors import ConfigError, InputError
from transforms.finance import warehouse
from transforms.runfolder.runs import RunStatus


class CreditStatus(StrEnum):
    """A customer's credit as support tells it: waiting for finance, paid, owed and paid by
    finance by hand (a closed account), or not credited."""

    PENDING = "pending"
    PUBLISHED = "published"
    BY_HAND = "by_hand"  # a closed account: the credit is owed, finance pays it by hand
    EXCLUDED = "excluded"


BY_HAND = "credit owed, paid by finance by hand"
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
# Why a candidate transaction earns no credit (evidence.reason), in support's words.
REASONS = {
    "excluded_segment": "segment '{segment}' is not credited by the policy",
    "closed_account": f"the account is closed: {BY_HAND}",
    "unknown_customer": "not in the customer table: finance checks it by hand",
    "declined": "declined by the card issuer, not caused by the outage",
    "unknown_error_code": "failed with an error code the policy does not know: finance reviews it",
    "unattributable": "the failure cannot be tied to a customer",
    "recovered_not_credited": "went through on a retry; this policy does not credit that",
    "table_only_not_credited": "failed without a log line; this policy does not credit that",
    "zero_credit": "the policy's credit comes to zero",
}
# What finance handles by hand (run_exceptions.exception), in support's words.
EXCEPTIONS = {
    "closed_account": BY_HAND,
    "unknown_error_code": "an error code the policy does not know: finance reviews it",
    "customer_mismatch": "the log and the table name different customers: finance checks it",
    "unattributable": "the failure cannot be tied to a customer: finance checks it",
    "unknown_customer": "not in the customer table: finance checks it by hand",
}
BUSY_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class AnsweringRun:
    """Which run answers for an incident, and the incident's newest run if that is another."""

    incident_id: str
    title: str | None
    timezone: str
    run_id: str
    status: str
    latest_run_id: str
    latest_status: str

    @property
    def note(self) -> str:
        """Says why the answer is not from the newest run, or nothing."""
        if self.latest_run_id == self.run_id:
            return ""
        why = {
            RunStatus.REJECTED: "rejected by the quality gate",
            RunStatus.DECLINED: "declined by finance",
        }
        return (
            f"the newest run {self.latest_run_id} was "
            f"{why.get(self.latest_status, self.latest_status)}; it is not used"
        )


@dataclass(frozen=True)
class CustomerList:
    """An incident's affected customers (key: customer_id, currency), as `run` says."""

    run: AnsweringRun
    rows: list[dict[str, Any]]


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


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Opens the warehouse read-only, waiting up to `BUSY_WAIT_SECONDS` while a writer holds it;
    one an earlier version made is upgraded first, once (`warehouse.connect_current`)."""
    con = warehouse.connect(path, read_only=True, wait_seconds=BUSY_WAIT_SECONDS)
    if warehouse.schema_version(con) >= warehouse.SCHEMA_VERSION:
        return con
    con.close()
    return warehouse.connect_current(path)


def answering_runs(con: duckdb.DuckDBPyConnection) -> dict[str, AnsweringRun | None]:
    """Per incident id, its answering run; None when no run of it passed the gate."""
    found: dict[str, AnsweringRun | None] = {}
    for row in db.records(db.run(con, "support_answering_runs")):
        found[row["incident_id"]] = (
            None
            if row["run_id"] is None
            else AnsweringRun(
                incident_id=row["incident_id"],
                title=row["incident_title"],
                timezone=row["timezone"],
                run_id=row["run_id"],
                status=row["status"],
                latest_run_id=row["latest_run_id"],
                latest_status=row["latest_status"],
            )
        )
    return found


def answering_run(con: duckdb.DuckDBPyConnection, incident_id: str) -> AnsweringRun:
    """The run that answers for `incident_id`; `InputError` when there is none."""
    runs = answering_runs(con)
    if incident_id not in runs:
        known = ", ".join(runs) or "none yet"
        raise InputError(f"incident {incident_id}: not in the warehouse (incidents: {known})")
    run = runs[incident_id]
    if run is None:
        raise InputError(
            f"incident {incident_id}: no run passed the quality gate (or every one was declined "
            f"by finance): nobody can say yet who gets what; `credits runs --incident "
            f"{incident_id}` lists its runs"
        )
    return run


def customers(
    con: duckdb.DuckDBPyConnection,
    incident_id: str,
    *,
    segment: str | None = None,
    status: str = "all",
) -> CustomerList:
    """The incident's affected customers and their credits, optionally one segment or status."""
    if status not in (*CreditStatus, "all"):
        raise ConfigError(f"--status: '{status}' is not one of {', '.join(CreditStatus)}, all")
    run = answering_run(con, incident_id)
    every = _credit_rows(con, run, None)
    segments = sorted({row["segment"] for row in every if row["segment"] is not None})
    if segment is not None and segment not in segments:
        close = difflib.get_close_matches(segment, segments, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"--segment: no customer of {incident_id} has segment '{segment}'{hint} "
            f"(segments: {', '.join(segments) or 'none'})"
        )
    rows = [
        row
        for row in every
        if (segment is None or row["segment"] == segment)
        and (status == "all" or row["status"] == status)
    ]
    return CustomerList(run, rows)


def lookup(
    con: duckdb.DuckDBPyConnection, customer_id: str | None = None, txn_id: str | None = None
) -> Lookup:
    """One customer across incidents, by id, e-mail address or one of their transactions' ids.

    What was pasted is trimmed; an e-mail address matches without case, an id exactly."""
    customer_id = (customer_id or "").strip() or None
    txn_id = (txn_id or "").strip() or None
    if (customer_id is None) == (txn_id is None):
        raise ConfigError("give a CUSTOMER_ID or --txn TXN_ID (one of them; or an e-mail address)")
    runs = {k: v for k, v in answering_runs(con).items() if v is not None}
    run_ids = [run.run_id for run in runs.values()]
    if customer_id is not None and "@" in customer_id:
        customer_id = _by_email(con, customer_id)
    if txn_id is not None:
        owned = db.run(con, "support_lookup_owners", txn_id=txn_id, run_ids=run_ids).fetchall()
        owners = {row[1] for row in owned}
        if not owners:
            raise InputError(
                _did_you_mean(con, "support_txn_case", txn_id=txn_id)
                or f"transaction {txn_id}: not a candidate failure in any incident of the "
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
        credits = _credit_rows(con, run, customer_id) if customer_id is not None else []
        mine = [_transaction(t, run) for t in transactions if t["incident_id"] == incident_id]
        owed = [_exception(e) for e in exceptions if e["incident_id"] == incident_id]
        paid_by: tuple[str, ...] = ()
        if not mine and txn_id is None:  # paid by an earlier run: show that run's payments
            paid_by = tuple(r for i, r in paying if i == incident_id and r != run.run_id)
            earlier = {**keys, "run_ids": list(paid_by)}
            found = db.run(con, "support_lookup_transactions", **earlier) if paid_by else None
            mine = [_transaction(t, run) for t in (db.records(found) if found else [])]
        if credits or mine or owed:
            stories.append(IncidentStory(run, credits, mine, owed, paid_by if mine else ()))
    if not stories:
        raise InputError(
            _did_you_mean(con, "support_customer_case", customer_id=customer_id)
            or f"customer {customer_id}: no failed payment, credit or exception in any incident "
            f"of the warehouse ({len(runs)} incident(s) with an answer): not affected by a "
            "recorded outage, or the id is mistyped"
        )
    customer = None
    for row in (row for story in stories for row in story.credits):
        known = {k: row[k] for k in ("name", "email", "country", "segment")}
        customer = customer or (known if any(known.values()) else None)
    return Lookup(customer_id, txn_id, customer, stories)


def reason_words(code: str, segment: str | None = None) -> str:
    """Why a payment earns no credit, in support's words."""
    return REASONS.get(code, code).format(segment=segment or "of this customer")


def _by_email(con: duckdb.DuckDBPyConnection, email: str) -> str:
    found = [row[0] for row in db.run(con, "support_customer_by_email", email=email).fetchall()]
    if not found:
        raise InputError(
            f"e-mail {email}: no customer with this address in any incident of the warehouse "
            "(not affected by a recorded outage, or the address is mistyped)"
        )
    if len(found) > 1:
        raise InputError(f"e-mail {email}: several customers have it: {', '.join(found)}")
    return found[0]


def _did_you_mean(con: duckdb.DuckDBPyConnection, statement: str, **key: str) -> str | None:
    """ "no customer X; did you mean x?" when known ids differ from X only in case."""
    ((what, given),) = key.items()
    known = [row[0] for row in db.run(con, statement, **key).fetchall()]
    if not known:
        return None
    noun = "customer" if what == "customer_id" else "transaction"
    return f"no {noun} {given}; did you mean {' or '.join(known)}? (ids are case-sensitive)"


def local_time(instant: datetime | None, timezone: str) -> str | None:
    """An instant in the incident's time zone, to the second: `2025-01-07T14:20:31-05:00`."""
    if instant is None:
        return None
    return instant.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")


def time_shown(local: str | datetime | None, timezone: str) -> str:
    """For people: a time (ISO text or an instant) in the zone, to the minute, with the zone's
    abbreviation: `2025-01-07 15:08 EST`; empty for none."""
    if local is None:
        return ""
    instant = datetime.fromisoformat(local) if isinstance(local, str) else local
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _credit_rows(
    con: duckdb.DuckDBPyConnection, run: AnsweringRun, customer_id: str | None
) -> list[dict[str, Any]]:
    found = db.records(
        db.run(
            con,
            "support_customers",
            run_id=run.run_id,
            incident_id=run.incident_id,
            customer_id=customer_id,
        )
    )
    return [_credit_row(row, run) for row in found]


def _credit_row(row: dict[str, Any], run: AnsweringRun) -> dict[str, Any]:
    """A warehouse row as support reads it: amounts as decimals, status and why, local times."""
    currency = row["currency"]
    due, paid = row["credit_amount_minor"], row["paid_minor"]
    status, detail = _status(row, run)
    if status == CreditStatus.BY_HAND:
        due = row["owed_minor"]
    return {
        "customer_id": row["customer_id"],
        "name": row["name"],
        "email": row["email"],
        "country": row["country"],
        "segment": row["segment"],
        "currency": currency,
        "failed_txn_count": row["failed_txn_count"],
        "first_failure_local": local_time(row["first_failure_utc"], run.timezone),
        "last_failure_local": local_time(row["last_failure_utc"], run.timezone),
        "credit_amount": None if due is None else money.decimal_text(due, currency),
        "paid_amount": None if paid is None else money.decimal_text(paid, currency),
        "status": status,
        "detail": detail,
        "incident_id": run.incident_id,
        "run_id": run.run_id,
        "credit_id": row["credit_id"],
    }


def _status(row: dict[str, Any], run: AnsweringRun) -> tuple[str, str]:
    currency = row["currency"]
    due, paid = row["credit_amount_minor"], row["paid_minor"] or 0
    if row["credit_id"] is None and not paid:
        if row["owed_minor"] is not None:
            return CreditStatus.BY_HAND, BY_HAND
        why = [reason_words(r, row["segment"]) for r in row["reasons"]]
        return CreditStatus.EXCLUDED, "; ".join(why) or "no credit"
    if due is not None and paid < due:
        detail = f"waiting for finance's approval of run {run.run_id}"
        if paid:
            detail += f"; {money.display(paid, currency)} already paid"
        return CreditStatus.PENDING, detail
    batches = ", ".join(row["batch_ids"])
    on = local_time(row["last_published_at"], run.timezone)[:10]
    detail = f"paid {money.display(paid, currency)} in batch {batches} on {on}"
    earlier = [r for r in row["paid_run_ids"] if r != run.run_id]
    if earlier:
        detail += f" (run {', '.join(earlier)})"
    if due is None:
        detail += f"; the newest run {run.run_id} lists no credit now: finance reviews it"
    elif paid > due:
        detail += (
            f"; run {run.run_id} now proposes {money.display(due, currency)}: "
            "finance reviews the difference"
        )
    return CreditStatus.PUBLISHED, detail


def _transaction(row: dict[str, Any], run: AnsweringRun) -> dict[str, Any]:
    amount, currency = row["amount_minor"], row["currency"]
    return {
        "txn_id": row["txn_id"],
        "first_failure_local": local_time(row["first_failure_utc"], run.timezone),
        "last_failure_local": local_time(row["last_failure_utc"], run.timezone),
        "failure_lines": row["failure_lines"],
        "error_codes": row["error_codes"],
        "class": row["class"],
        "credited": row["credited"],
        "reason": row["reason"],
        "why": "credited" if row["credited"] else reason_words(row["reason"]),
        "amount": None
        if amount is None or currency is None
        else money.decimal_text(amount, currency),
        "currency": currency,
    }


def _exception(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]

    def decimal(amount: int | None) -> str | None:
        return None if amount is None or currency is None else money.decimal_text(amount, currency)

    return {
        "exception": row["exception"],
        "what": EXCEPTIONS.get(row["exception"], row["exception"]),
        "currency": currency,
        "txn_id": row["txn_id"],
        "txn_count": row["txn_count"],
        "credit_owed": decimal(row["credit_owed_minor"]),
        "failed_amount": decimal(row["failed_amount_minor"]),
        "detail": row["detail"],
    }
