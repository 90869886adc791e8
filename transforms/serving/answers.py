"""How a warehouse row reads for support: a credit's status and why in words, times in the
incident's time zone, amounts as decimals, and the run that answers (`AnsweringRun`). `support`
asks the warehouse; this words the answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from transforms import money, times
from transforms.runfolder.runs import RunStatus


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
        return (
            f"the newest run {self.latest_run_id} was {_fate(self.latest_status)}; it is not used"
        )


@dataclass(frozen=True)
class Unanswered:
    """An incident no run of which answers yet: none waits for approval or is published (each
    was rejected by the quality gate or declined by finance)."""

    incident_id: str
    title: str | None
    latest_run_id: str
    latest_status: str

    @property
    def why(self) -> str:
        """Why nobody can say yet who gets what, naming the newest run and its fate."""
        return (
            f"its newest run {self.latest_run_id} was {_fate(self.latest_status)}, and no run "
            "of it waits for approval or is published"
        )


def _fate(status: str) -> str:
    """What became of a run that does not answer, in words."""
    words = {
        RunStatus.REJECTED: "rejected by the quality gate",
        RunStatus.DECLINED: "declined by finance",
    }
    return words.get(status, status)


class CreditStatus(StrEnum):
    """A customer's credit as support tells it: waiting for finance, paid, owed and paid by
    finance by hand (a closed account), or not credited."""

    PENDING = "pending"
    PUBLISHED = "published"
    BY_HAND = "by_hand"  # a closed account or unknown customer: owed, finance pays it by hand
    EXCLUDED = "excluded"


BY_HAND = "credit owed, paid by finance by hand"
UNKNOWN_OWED = "not in the customer table: credit owed, finance finds out who it is, pays by hand"
# Why a candidate transaction earns no credit (evidence.reason), in support's words.
REASONS = {
    "excluded_segment": "segment '{segment}' is not credited by the policy",
    "closed_account": f"the account is closed: {BY_HAND}",
    "unknown_customer": "not in the customer table: finance checks it by hand",
    "declined": "declined by the card issuer, not caused by the outage",
    "unknown_error_code": "failed with an error code the policy does not know: finance reviews it",
    "unattributable": (
        "not in the transaction table; the log lacks or disagrees on customer, amount or currency"
    ),
    "recovered_not_credited": "went through on a retry; this policy does not credit that",
    "table_only_not_credited": "failed without a log line; this policy does not credit that",
    "zero_credit": "the policy's credit comes to zero",
}
# What finance handles by hand (run_exceptions.exception), in support's words.
EXCEPTIONS = {
    "closed_account": BY_HAND,
    "unknown_error_code": "an error code the policy does not know: finance reviews it",
    "customer_mismatch": "the log and the table name different customers: finance checks it",
    "amount_mismatch": (
        "the log and the table state different amounts or currencies: finance checks it"
    ),
    "code_mismatch": (
        "the table gives an outage code the log does not: finance checks whether the outage "
        "caused it"
    ),
    "unattributable": (
        "not in the transaction table; the log lacks or disagrees on customer, amount or "
        "currency: finance checks it"
    ),
    "unknown_customer": "not in the customer table: finance checks it by hand",
}


def reason_words(code: str, segment: str | None = None) -> str:
    """Why a payment earns no credit, in support's words."""
    return REASONS.get(code, code).format(segment=segment or "of this customer")


def local_time(instant: datetime | None, timezone: str) -> str | None:
    """An instant in the incident's time zone, to the second: `2025-01-07T14:20:31-05:00`."""
    if instant is None:
        return None
    return instant.astimezone(times.zone(timezone)).isoformat(timespec="seconds")


def time_shown(local: str | datetime | None, timezone: str) -> str:
    """For people: a time (ISO text or an instant) in the zone, to the minute, with the zone's
    abbreviation: `2025-01-07 15:08 EST`; empty for none."""
    if local is None:
        return ""
    instant = datetime.fromisoformat(local) if isinstance(local, str) else local
    return instant.astimezone(times.zone(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def credit_row(row: dict[str, Any], run: AnsweringRun) -> dict[str, Any]:
    """A warehouse row as support reads it: amounts as decimals, status and why, local times."""
    currency = row["currency"]
    due, paid = row["credit_amount_minor"], row["paid_minor"]
    status, detail = credit_status(row, run)
    if status == CreditStatus.BY_HAND:  # what the newest run owes, else what was listed
        due = row["owed_minor"] if row["owed_minor"] is not None else row["listed_by_hand_minor"]
    return {
        "customer_id": row["customer_id"],
        "name": row["name"],
        "email": row["email"],
        "country": row["country"],
        "segment": row["segment"],
        "currency": currency,
        "failed_txn_count": row["failed_txn_count"],
        "first_failure_local": row["first_failure_local"],
        "last_failure_local": row["last_failure_local"],
        "credit_amount": None if due is None else money.decimal_text(due, currency),
        "paid_amount": None if paid is None else money.decimal_text(paid, currency),
        "status": status,
        "detail": detail,
        "incident_id": run.incident_id,
        "run_id": run.run_id,
        "credit_id": row["credit_id"],
    }


def counted(credit: dict[str, Any], shown: list[dict[str, Any]]) -> dict[str, Any]:
    """A credit the answering run lists no payments for, counting those shown for it (the failed
    payments of the runs that paid it, `transaction_row`s, in its currency)."""
    count = sum(1 for t in shown if t["currency"] == credit["currency"])
    return {**credit, "failed_txn_count": count}


def credit_status(row: dict[str, Any], run: AnsweringRun) -> tuple[str, str]:
    """The status the warehouse gave the row (`credit_status`), and why in words."""
    currency = row["currency"]
    due, paid = row["credit_amount_minor"], row["paid_minor"] or 0
    listed = row.get("listed_by_hand_minor") or 0
    status = CreditStatus(row["credit_status"])
    paid_words = ""
    if paid:
        paid_words = (
            f"paid {money.display(paid, currency)} in batch {', '.join(row['batch_ids'])}"
            f" on {row['last_published_on_local']}"
        )
        earlier = [r for r in row["paid_run_ids"] if r != run.run_id]
        if earlier:
            paid_words += f" (run {', '.join(earlier)})"
    listed_words = f"{money.display(listed, currency)} listed to pay by hand" if listed else ""
    if status == CreditStatus.BY_HAND and row.get("owed_unknown"):  # no batch lists it
        # paid when the customer table still had the customer: said, as for a closed account
        return status, UNKNOWN_OWED + (f"; {paid_words}" if paid else "")
    if status == CreditStatus.BY_HAND:
        owed = row.get("owed_minor")
        settled = run.status == "published" or owed is None or owed <= paid + listed
        detail = BY_HAND if settled else f"{BY_HAND}, once finance approves run {run.run_id}"
        if paid:  # before the account closed
            detail += f"; {paid_words}"
        if listed and not settled:
            detail += f"; {money.display(listed, currency)} already listed to pay by hand"
        return status, detail
    if status == CreditStatus.EXCLUDED:
        why = [reason_words(r, row["segment"]) for r in row["reasons"]]
        if row.get("owed_unknown"):  # an unknown customer owed 0: nothing to pay by hand
            why.insert(0, REASONS["zero_credit"])
        return status, "; ".join(dict.fromkeys(why)) or "no credit"
    if status == CreditStatus.PENDING:
        detail = f"waiting for finance's approval of run {run.run_id}"
        if run.status == "published":  # approved: its batch left writing by a stopped approval
            detail = (
                f"approved in run {run.run_id}, not paid yet: its batch is unfinished (an "
                "approval was stopped before it marked it published; the next approval does)"
            )
        if paid:
            detail += f"; {money.display(paid, currency)} already paid"
        if listed:
            detail += f"; {money.display(listed, currency)} already listed to pay by hand"
        return CreditStatus.PENDING, detail
    # a batch listed it to pay by hand while the account was closed: approval counts it paid
    detail = "; ".join(
        w for w in (paid_words, listed_words and f"{listed_words} (the account was closed)") if w
    )
    if due is None:
        detail += f"; the newest run {run.run_id} lists no credit now: finance reviews it"
    elif paid + listed > due:
        detail += (
            f"; run {run.run_id} now proposes {money.display(due, currency)}: "
            "finance reviews the difference"
        )
    return CreditStatus.PUBLISHED, detail


def transaction_row(row: dict[str, Any], run: AnsweringRun) -> dict[str, Any]:
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
        "why": "credited" if row["credited"] else reason_words(row["reason"], row.get("segment")),
        "amount": None
        if amount is None or currency is None
        else money.decimal_text(amount, currency),
        "currency": currency,
    }


# How the detail of an unknown_customer exception starts (`reconcile/sql/exceptions.sql`); what
# follows names what finance should know: the id the customer table holds in another case, with
# other leading zeros or with a hidden character, or the one the id itself holds.
UNKNOWN_DETAIL = "customer is not in the customer table"


def exception_row(row: dict[str, Any]) -> dict[str, Any]:
    """An exception as support shows it: `what` in support's words, with an unknown customer's
    hints (`UNKNOWN_DETAIL`), which the default lookup shows without the detail column."""
    currency = row["currency"]
    what = EXCEPTIONS.get(row["exception"], row["exception"])
    detail = row["detail"] or ""
    if row["exception"] == "unknown_customer" and detail.startswith(UNKNOWN_DETAIL):
        what += detail.removeprefix(UNKNOWN_DETAIL)

    def decimal(amount: int | None) -> str | None:
        return None if amount is None or currency is None else money.decimal_text(amount, currency)

    return {
        "exception": row["exception"],
        "what": what,
        "currency": currency,
        "txn_id": row["txn_id"],
        "txn_count": row["txn_count"],
        "credit_owed": decimal(row["credit_owed_minor"]),
        "failed_amount": decimal(row["failed_amount_minor"]),
        "detail": row["detail"],
    }
