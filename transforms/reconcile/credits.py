"""Credits: the policy applied per (customer, currency), and what cannot be paid.

Makes `policy_amounts` (one row per currency: flat amount, floor, cap, 10 ^ ISO digits),
`int_credit_lines`, `int_candidates_credited` (the one rule of what is credited, and why),
`evidence`, `credits` and `exceptions` (see the SQL for grain and keys).
Money is integer minor units throughout; the decimal `credit_amount` is formatted from it.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from transforms import db, money
from transforms.errors import ConfigError, InputError
from transforms.ingest.incident import Incident
from transforms.ingest.incident.amounts import LARGEST_AMOUNT, LARGEST_TOTAL
from transforms.ingest.incident.values import ASCII_SPACE, HIDDEN_CHARACTER
from transforms.reconcile import classes


def reconcile(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """The staged candidates classed (`classes.classify`) and priced (`build`) for the
    incident's window and policy: a run's reconcile stage, and each window `credits window`
    compares."""
    classes.classify(con, incident)
    build(con, incident)


def build(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """Prices the credited transactions; stops with `ConfigError` if the policy lacks a currency."""
    price_lines(con, incident)
    db.run(con, "evidence")
    list_credits(con, incident)


def price_lines(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """The policy's amounts, `int_credit_lines` and `int_candidates_credited`; `ConfigError` if
    it lacks a currency."""
    policy = incident.policy
    _make_policy_amounts(con, incident)
    _require_within_largest(con, incident)
    numerator, denominator = policy.percent.as_integer_ratio()
    db.run(
        con,
        "int_credit_lines",
        exclude_segments=list(policy.exclude_segments),
        basis=policy.basis,
        percent_numerator=numerator,
        percent_denominator=denominator,
    )
    _require_policy_amounts(con, incident)
    _require_credits_within_largest(con, incident)
    db.run(con, "int_candidates_credited")


def list_credits(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """The credit file's lines (`credits`) and `exceptions`, from the priced lines; `credits
    what-if` makes these (not the evidence) for each policy it compares."""
    policy = incident.policy
    ids = {"incident_id": incident.id}
    db.run(
        con,
        "credits",
        **ids,
        incident_title=incident.title,
        policy_version=policy.version,
    )
    db.run(con, "exceptions", **ids, hidden=HIDDEN_CHARACTER, ascii_space=ASCII_SPACE)


def _make_policy_amounts(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    policy = incident.policy
    occurring = con.table("int_candidates_classified").select("currency").distinct().fetchall()
    currencies = sorted(
        {row[0] for row in occurring if row[0] is not None}
        | set(policy.flat_minor)
        | set(policy.min_minor)
        | set(policy.cap_minor)
    )
    # A currency that is no money on the window's days (DEM in 2025) gets none of the policy's
    # amounts: its key is kept and never used, so a flat basis leaves its lines unpriced and no
    # floor or cap shapes a percent of it (the gate rejects the run naming the currency).
    money_now = set(incident.currencies)
    flat, floors, caps = (
        {c: amount for c, amount in amounts.items() if c in money_now}
        for amounts in (policy.flat_minor, policy.min_minor, policy.cap_minor)
    )
    table = pa.table(
        {
            "currency": pa.array(currencies, pa.string()),
            "flat_minor": pa.array([flat.get(c) for c in currencies], pa.int64()),
            "min_minor": pa.array([floors.get(c) for c in currencies], pa.int64()),
            "cap_minor": pa.array([caps.get(c) for c in currencies], pa.int64()),
            "minor_unit_factor": pa.array(
                [money.minor_unit_factor(c) for c in currencies], pa.int64()
            ),
        }
    )
    db.run(con, "policy_amounts_drop")
    con.from_arrow(table).create("policy_amounts")


def _require_within_largest(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """A customer's failed amounts in a currency beyond ±`LARGEST_AMOUNT` minor units, or its
    flat credit per transaction above it, stops the run naming the customer (no payment or credit is
    that large; the credit lines' integers could not hold it)."""
    found = db.records(
        db.run(
            con,
            "int_credit_lines_above_largest",
            largest=LARGEST_AMOUNT,
            basis=incident.policy.basis,
        )
    )
    if not found:
        return
    row = found[0]
    what = f"customer {row['customer_id']} in {row['currency']}"
    if abs(row["failed_amount_minor"]) > LARGEST_AMOUNT:
        raise InputError(
            f"the failed amounts of {what} sum to {row['failed_amount_minor']:,} minor units "
            "(the transaction table's, or the logs' for a payment the table lacks), beyond "
            f"±{LARGEST_AMOUNT:,}, which no payment is"
        )
    raise ConfigError(
        f"{incident.path}: policy.flat_minor: {row['currency']} "
        f"{incident.policy.flat_minor[row['currency']]:,} per transaction comes to "
        f"{row['flat_amount_minor']:,} minor units for {what}, above {LARGEST_AMOUNT:,}, which "
        "no credit is"
    )


def _require_credits_within_largest(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """A credit line owed above `LARGEST_AMOUNT` minor units (a percent above 100 of a large
    failed amount) stops the run naming `policy.percent`, and so do one currency's credit lines
    whose credits or failed amounts sum above `LARGEST_TOTAL` (the run's 64-bit totals could
    not hold them), naming the basis's key, or `min_minor.<currency>` when the credits are
    within it but for the floor: no credit, and no run's payments, are that large."""
    policy = incident.policy
    found = db.records(db.run(con, "int_credit_lines_credit_above_largest", largest=LARGEST_AMOUNT))
    if found:
        row = found[0]
        raise ConfigError(
            f"{incident.path}: policy.percent: {policy.percent}% of the failed "
            f"{row['currency']} amounts of customer {row['customer_id']} "
            f"({row['failed_amount_minor']:,} minor units) comes to "
            f"{row['credit_amount_minor']:,} minor units, above {LARGEST_AMOUNT:,}, which no "
            f"credit is; lower the percent or set cap_minor.{row['currency']}"
        )
    found = db.records(
        db.run(con, "int_credit_lines_totals_above_largest", largest_total=LARGEST_TOTAL)
    )
    if not found:
        return
    row = found[0]
    what = f"the {row['credit_lines']:,} credit lines in {row['currency']}"
    if row["failed_total_minor"] is not None and abs(row["failed_total_minor"]) > LARGEST_TOTAL:
        raise InputError(
            f"the failed amounts of {what} sum to {row['failed_total_minor']:,} minor units "
            f"(the transaction table's, or the logs' for a payment the table lacks), beyond "
            f"±{LARGEST_TOTAL:,}, which no incident's payments are"
        )
    key = "percent" if policy.basis == "percent_of_failed_amount" else "flat_minor"
    raised = ""
    unfloored = row["unfloored_total_minor"]
    if unfloored is not None and abs(unfloored) <= LARGEST_TOTAL:  # within it but for the floor
        key = f"min_minor.{row['currency']}"
        raised = f" (the floor of {policy.min_minor[row['currency']]:,} raising them)"
    raise ConfigError(
        f"{incident.path}: policy.{key}: {what} come to {row['credit_total_minor']:,} minor "
        f"units{raised}, above {LARGEST_TOTAL:,}, which no run pays (its totals are 64-bit "
        "integers)"
    )


def _require_policy_amounts(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """A payable line in an ISO currency the policy has no amount for stops the run: a line to
    credit, or one owed to a closed or unknown customer (finance pays it by hand, so the amount
    owed must be known); an excluded segment is owed nothing.

    Only the flat bases read `flat_minor`; a line the percent basis cannot price (a null amount)
    is `unpriced` in the evidence, for the gate to reject.
    """
    if incident.policy.basis == "percent_of_failed_amount":
        return
    unpriced = db.run(
        con, "int_credit_lines_unpriced_currencies", unowed_block="excluded_segment"
    ).fetchall()
    missing = sorted(row[0] for row in unpriced if row[0] in incident.currencies)
    if missing:
        listed = ", ".join(missing)
        raise ConfigError(
            f"{incident.path}: policy.flat_minor: no amount for {listed}, which credited "
            f"transactions use; add it (e.g. {missing[0]} = 1000) and run again"
        )
