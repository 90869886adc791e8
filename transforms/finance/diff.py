"""What a run would change, before finance approves it: credit lines added, removed, increased
and decreased against what is published (the ledger) or against another run, each with the
reasons found in the two runs' evidence, customers and manifests, and totals per currency.

A reason names what differs: a transaction that entered or left the window, a new (or no longer
read) log file, a transaction table row that changed status, a policy key, a customer's segment
or status. Against what is published, the reasons come from the incident's newest published run.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import duckdb

from transforms import db, money
from transforms.errors import ConfigError
from transforms.finance import approval, rows
from transforms.finance import diff_reasons as reasons
from transforms.finance.rows import RunRow
from transforms.runfolder.runs import RunStatus

PUBLISHED = "published"
CHANGES = ("added", "removed", "increased", "decreased")
DECREASING = ("decreased", "removed")
COLUMNS = (
    "customer_id",
    "currency",
    "change",
    "before",
    "after",
    "difference",
    "before_minor",
    "after_minor",
    "difference_minor",
    "credit_id",
    "reasons",
)


@dataclass(frozen=True)
class Line:
    """One credit line (customer and currency) that differs, and why."""

    credit_id: str
    customer_id: str
    currency: str
    change: str
    before_minor: int
    after_minor: int
    reasons: tuple[str, ...]

    @property
    def difference_minor(self) -> int:
        return self.after_minor - self.before_minor

    def row(self) -> dict[str, Any]:
        """The line as csv and json show it: amounts both as decimals and in minor units."""
        amounts = {
            "before": self.before_minor,
            "after": self.after_minor,
            "difference": self.difference_minor,
        }
        return {
            "customer_id": self.customer_id,
            "currency": self.currency,
            "change": self.change,
            **{k: money.decimal_text(v, self.currency) for k, v in amounts.items()},
            **{f"{k}_minor": v for k, v in amounts.items()},
            "credit_id": self.credit_id,
            "reasons": "; ".join(self.reasons),
        }

    def describe(self) -> str:
        """One line for people: who, what changes, by how much, why."""
        return (
            f"{self.customer_id} {self.currency}: {self.change} "
            f"{money.display(self.before_minor, self.currency)} -> "
            f"{money.display(self.after_minor, self.currency)} "
            f"({signed(self.difference_minor, self.currency)}): {'; '.join(self.reasons)}"
        )


@dataclass(frozen=True)
class Total:
    """One currency's total before and after."""

    currency: str
    before_minor: int
    after_minor: int

    @property
    def difference_minor(self) -> int:
        return self.after_minor - self.before_minor


@dataclass(frozen=True)
class ListedBeyond:
    """A customer (closed account) that earlier batches listed to pay by hand beyond what the
    run leaves to pay them: no decrease and no credit line, so approval publishes nothing."""

    customer_id: str
    currency: str
    listed_minor: int
    to_pay_minor: int

    def describe(self) -> str:
        c = self.currency
        return (
            f"{self.customer_id} {c}: listed {money.display(self.listed_minor, c)} to pay by "
            f"hand, owed {money.display(self.to_pay_minor, c)} now "
            f"({money.display(self.listed_minor - self.to_pay_minor, c)} beyond)"
        )


@dataclass(frozen=True)
class Diff:
    """Run `run_id` against `against` (`published` or a run id)."""

    incident_id: str
    run_id: str
    against: str
    baseline_run_id: str | None
    lines: tuple[Line, ...]
    totals: tuple[Total, ...]
    counts: dict[str, int] = field(default_factory=dict)
    # decreased credit_ids an earlier batch reported against as much paid, with as much or less due
    reported: frozenset[str] = frozenset()
    # against what is published: closed accounts listed to pay by hand beyond what is owed now
    listed_beyond: tuple[ListedBeyond, ...] = ()

    @property
    def decreases(self) -> tuple[Line, ...]:
        """Lines that come out lower than before (a removed line is one down to zero), but for
        those an earlier batch already reported (`reported`): each decrease is decided once."""
        return tuple(
            line
            for line in self.lines
            if line.change in DECREASING and line.credit_id not in self.reported
        )

    def document(self) -> dict[str, Any]:
        """The diff as JSON shows it."""
        return {
            "incident_id": self.incident_id,
            "run_id": self.run_id,
            "against": self.against,
            "baseline_run_id": self.baseline_run_id,
            "counts": self.counts,
            "totals": [
                {
                    "currency": t.currency,
                    "before": money.decimal_text(t.before_minor, t.currency),
                    "after": money.decimal_text(t.after_minor, t.currency),
                    "difference": money.decimal_text(t.difference_minor, t.currency),
                    "before_minor": t.before_minor,
                    "after_minor": t.after_minor,
                    "difference_minor": t.difference_minor,
                }
                for t in self.totals
            ],
            "lines": [{**line.row(), "reasons": list(line.reasons)} for line in self.lines],
            "listed_beyond": [vars(beyond) for beyond in self.listed_beyond],
        }


def compute(con: duckdb.DuckDBPyConnection, run_id: str, against: str = PUBLISHED) -> Diff:
    """Run `run_id`'s credit lines against `against`: `published` (what the ledger paid) or
    another run of the same incident (blanks around it, a paste's, dropped)."""
    against = against.strip()
    _refuse_a_slip_of_published(against)
    run = _run(con, run_id)
    if against == PUBLISHED:
        baseline = _newest_published(con, run.incident_id)
        against_run_id = None
    else:
        baseline = _run(con, against)
        against_run_id = against
        if baseline.incident_id != run.incident_id:
            raise ConfigError(
                f"--against {against}: a run of {baseline.incident_id}, not of "
                f"{run.incident_id}; compare runs of one incident"
            )
    rows = db.records(
        db.run(
            con,
            "diff_credit_lines",
            run_id=run_id,
            against_run_id=against_run_id,
            incident_id=run.incident_id,
        )
    )
    explain = reasons.Explainer(con, run, baseline, published=against == PUBLISHED)
    reported: dict[tuple[str, int], int] = {}  # (credit_id, paid) -> the least due reported
    listed_beyond: tuple[ListedBeyond, ...] = ()
    if against == PUBLISHED:
        found = db.run(con, "decreases_reported", incident_id=run.incident_id).fetchall()
        reported = {(credit_id, paid): due for credit_id, paid, due in found}
        listed = db.run(con, "diff_listed_beyond_owed", run_id=run_id, incident_id=run.incident_id)
        listed_beyond = tuple(ListedBeyond(*row) for row in listed.fetchall())
    lines = tuple(
        Line(
            credit_id=r["credit_id"],
            customer_id=r["customer_id"],
            currency=r["currency"],
            change=r["change"],
            before_minor=r["before_minor"] or 0,
            after_minor=r["after_minor"] or 0,
            reasons=explain.reasons(r),
        )
        for r in rows
        if r["change"] != "unchanged"
    )
    return Diff(
        incident_id=run.incident_id,
        run_id=run_id,
        against=against,
        baseline_run_id=baseline.run_id if baseline else None,
        lines=lines,
        totals=_totals(rows),
        counts=_counts(rows),
        reported=frozenset(
            line.credit_id
            for line in lines
            if reported.get((line.credit_id, line.before_minor), line.after_minor + 1)
            <= line.after_minor
        ),
        listed_beyond=listed_beyond,
    )


def _totals(rows: list[dict[str, Any]]) -> tuple[Total, ...]:
    before: dict[str, int] = defaultdict(int)
    after: dict[str, int] = defaultdict(int)
    for r in rows:
        before[r["currency"]] += r["before_minor"] or 0
        after[r["currency"]] += r["after_minor"] or 0
    return tuple(Total(c, before[c], after[c]) for c in sorted(before))


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Credit lines per change, and customers with no line before (added) or after (removed)."""
    counts = {f"credits {k}": 0 for k in ("added", "removed", "increased", "decreased")}
    having: dict[str, set[str]] = {"before": set(), "after": set()}
    for r in rows:
        if r["change"] != "unchanged":
            counts[f"credits {r['change']}"] += 1
        for side in having:
            if r[f"{side}_minor"] is not None:
                having[side].add(r["customer_id"])
    counts["customers added"] = len(having["after"] - having["before"])
    counts["customers removed"] = len(having["before"] - having["after"])
    return counts


def _refuse_a_slip_of_published(against: str) -> None:
    """`--against publshed`, `Published`, `paid` (the tables' word): meant as `published`, which
    no run id is like; named, never looked up as a run (`not in the warehouse`) nor taken for it."""
    typed = against.strip().lower()
    if against != PUBLISHED and (
        typed == "paid" or difflib.get_close_matches(typed, [PUBLISHED], cutoff=0.75)
    ):
        raise ConfigError(
            f"--against {against!r}: did you mean 'published' (what the incident has been "
            "paid)? Else give a run id of the same incident"
        )


def _run(con: duckdb.DuckDBPyConnection, run_id: str) -> RunRow:
    run = approval.find_run(con, run_id)
    if run.status in (RunStatus.REJECTED, RunStatus.SEALING):
        what = (
            "it did not pass the quality gate"
            if run.status == RunStatus.REJECTED
            else "it was stopped before it was sealed, so its files are not known to be whole"
        )
        raise ConfigError(
            f"run {run_id}: is {run.status}: {what}; compare a run that passed the quality gate"
        )
    return run


def _newest_published(con: duckdb.DuckDBPyConnection, incident_id: str) -> RunRow | None:
    return rows.run(con, "runs_newest_published", incident_id=incident_id)


class DecreasesNeedDecision(ConfigError):
    """Approving would publish a batch carrying decreases and finance has not accepted them
    (exit 2): the message lists each one."""

    def __init__(self, diff: Diff):
        shown = [line.describe() for line in diff.decreases]
        super().__init__(
            "\n  - ".join(
                [
                    f"run {diff.run_id}: its batch would carry {len(shown)} decrease(s) against "
                    "what is already paid (never paid back: finance reviews them by hand). "
                    "Nothing was published. Approve again with --accept-decreases to publish it "
                    "(the journal records that), or decline the run",
                    *shown,
                ]
            )
        )
        self.diff = diff


def require_decided(diff: Diff, accept_decreases: bool) -> dict[str, Any]:
    """Refuses a diff with decreases unless they are accepted; returns what the journal records
    of the decision (empty when there is none to take)."""
    if not diff.decreases:
        return {}
    if not accept_decreases:
        raise DecreasesNeedDecision(diff)
    return {"accepted_decreases": [line.credit_id for line in diff.decreases]}


def signed(amount_minor: int, currency: str) -> str:
    """A difference with its sign before the money, as every line and total of a diff shows it:
    `+USD 5.00`, `-USD 8.00`."""
    sign = "+" if amount_minor >= 0 else "-"
    return sign + money.display(abs(amount_minor), currency)
