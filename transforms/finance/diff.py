"""What a run would change, before finance approves it: credit lines added, removed, increased
and decreased against what is published (the ledger) or against another run, each with the
reasons found in the two runs' evidence, customers and manifests, and totals per currency.

A reason names what differs: a transaction that entered or left the window, a new (or no longer
read) log file, a transaction table row that changed status, a policy key, a customer's segment
or status. Against what is published, the reasons come from the incident's newest published run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from transforms import db, money
from transforms.errors import ConfigError, InputError

PUBLISHED = "published"
MARKDOWN_PUNCTUATION = frozenset("\\`*_{}[]<>()#+-!|~")
DECREASING = ("decreased", "removed")
# Policy keys that price a line of one currency: a change names the currency's entry.
PRICING_PER_CURRENCY = ("flat_minor", "min_minor", "cap_minor")
PRICING = ("basis", "percent")
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
class Diff:
    """Run `run_id` against `against` (`published` or a run id)."""

    incident_id: str
    run_id: str
    against: str
    baseline_run_id: str | None
    lines: tuple[Line, ...]
    totals: tuple[Total, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def decreases(self) -> tuple[Line, ...]:
        """Lines that come out lower than before (a removed line is one down to zero)."""
        return tuple(line for line in self.lines if line.change in DECREASING)

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
        }


def compute(con: duckdb.DuckDBPyConnection, run_id: str, against: str = PUBLISHED) -> Diff:
    """Run `run_id`'s credit lines against `against`: `published` (what the ledger paid) or
    another run of the same incident."""
    run = _run(con, run_id)
    if against == PUBLISHED:
        baseline = _newest_published(con, run["incident_id"])
        against_run_id = None
    else:
        baseline = _run(con, against)
        against_run_id = against
        if baseline["incident_id"] != run["incident_id"]:
            raise ConfigError(
                f"--against {against}: a run of {baseline['incident_id']}, not of "
                f"{run['incident_id']}; compare runs of one incident"
            )
    rows = db.records(
        db.run(
            con,
            "diff_credit_lines",
            run_id=run_id,
            against_run_id=against_run_id,
            incident_id=run["incident_id"],
        )
    )
    explain = _Explainer(con, run, baseline, published=against == PUBLISHED)
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
        incident_id=run["incident_id"],
        run_id=run_id,
        against=against,
        baseline_run_id=baseline["run_id"] if baseline else None,
        lines=lines,
        totals=_totals(rows),
        counts=_counts(rows),
    )


def summary(diff: Diff) -> list[str]:
    """A few lines for people: what changes, and the totals per currency."""
    against = (
        f"what is published (newest published run {diff.baseline_run_id})"
        if diff.against == PUBLISHED and diff.baseline_run_id
        else "what is published (nothing yet)"
        if diff.against == PUBLISHED
        else f"run {diff.against}"
    )
    counts = ", ".join(f"{n} {k}" for k, n in diff.counts.items() if n) or "no change"
    text = [f"run {diff.run_id} against {against}: {counts}"]
    for t in diff.totals:
        text.append(
            f"  {t.currency}: before {money.display(t.before_minor, t.currency)}, after "
            f"{money.display(t.after_minor, t.currency)}, difference "
            f"{_signed(t.difference_minor, t.currency)}"
        )
    return text


def markdown(diff: Diff) -> str:
    """The diff as Markdown (Prefect's pause form and artifacts): the decreases first, as they
    need a decision, then totals per currency and every changed line with its reasons."""
    text = [f"## What run {diff.run_id} changes", "", *summary(diff)[:1], ""]
    if diff.decreases:
        text += [
            f"**{len(diff.decreases)} decrease(s)** against what is already paid: never paid "
            "back; approving needs *accept decreases* (journaled).",
            "",
            *[f"- {_escaped(describe(line))}" for line in diff.decreases],
            "",
        ]
    text += ["| currency | before | after | difference |", "|---|---:|---:|---:|"]
    text += [
        f"| {t.currency} | {money.display(t.before_minor, t.currency)} | "
        f"{money.display(t.after_minor, t.currency)} | {_signed(t.difference_minor, t.currency)} |"
        for t in diff.totals
    ]
    if diff.lines:
        text += [
            "",
            "| customer | currency | change | before | after | why |",
            "|---|---|---|---:|---:|---|",
        ]
        text += [
            f"| {_escaped(line.customer_id)} | {line.currency} | {line.change} | "
            f"{money.display(line.before_minor, line.currency)} | "
            f"{money.display(line.after_minor, line.currency)} | "
            f"{_escaped('; '.join(line.reasons))} |"
            for line in diff.lines
        ]
    return "\n".join(text) + "\n"


def _escaped(text: str) -> str:
    """Text shown as itself in Markdown: its punctuation backslash-escaped."""
    return "".join("\\" + c if c in MARKDOWN_PUNCTUATION else c for c in text)


def describe(line: Line) -> str:
    """One line for people: who, what changes, by how much, why."""
    return (
        f"{line.customer_id} {line.currency}: {line.change} "
        f"{money.display(line.before_minor, line.currency)} -> "
        f"{money.display(line.after_minor, line.currency)} "
        f"({_signed(line.difference_minor, line.currency)}): {'; '.join(line.reasons)}"
    )


def _signed(amount_minor: int, currency: str) -> str:
    sign = "+" if amount_minor >= 0 else "-"
    return sign + money.display(abs(amount_minor), currency)


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


def _run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    rows = db.records(db.run(con, "run_by_id", run_id=run_id))
    if not rows:
        raise InputError(f"run {run_id}: not in the warehouse (`credits audit` lists the runs)")
    run = rows[0]
    if run["status"] in ("rejected", "sealing"):
        raise ConfigError(
            f"run {run_id}: is {run['status']}: it has no credit file to compare; compare a run "
            "that passed the quality gate"
        )
    return run


def _newest_published(con: duckdb.DuckDBPyConnection, incident_id: str) -> dict[str, Any] | None:
    rows = db.records(db.run(con, "runs_newest_published", incident_id=incident_id))
    return _run(con, rows[0]["run_id"]) if rows else None


class _Explainer:
    """The reasons of each changed line, from what differs between the run and its baseline."""

    def __init__(self, con, run: dict[str, Any], baseline: dict[str, Any] | None, published):
        self.run, self.baseline, self.published = run, baseline, published
        self.zone = ZoneInfo(run["timezone"])
        self.by_line: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.customers: dict[str, dict[str, Any]] = {}
        if baseline is None:
            return
        ids = {"run_id": run["run_id"], "against_run_id": baseline["run_id"]}
        for txn in db.records(db.run(con, "diff_transactions", **ids)):
            keys = {
                (txn["after_customer_id"], txn["after_currency"]),
                (txn["before_customer_id"], txn["before_currency"]),
            }
            for key in keys:
                self.by_line[key].append(txn)
        self.customers = {
            c["customer_id"]: c for c in db.records(db.run(con, "diff_customers", **ids))
        }
        after, before = json.loads(run["manifest"]), json.loads(baseline["manifest"])
        self.window = (_window(after), _window(before))
        self.logs = (_logs(after), _logs(before))
        self.policy = (after.get("policy", {}), before.get("policy", {}))
        self.baseline_amounts = {
            r["credit_id"]: r["credit_amount_minor"]
            for r in db.records(db.run(con, "diff_run_amounts", run_id=baseline["run_id"]))
        }

    def reasons(self, row: dict[str, Any]) -> tuple[str, ...]:
        if row["change"] == "unchanged":
            return ()
        if self.baseline is None:
            return (f"nothing published yet for {self.run['incident_id']}",)
        found = [self._transaction(t) for t in self.by_line[row["customer_id"], row["currency"]]]
        found += self._customer(row["customer_id"])
        found += self._pricing(row)
        if not found:
            found += [f"policy {k} changed: {b} -> {a}" for k, b, a in self._policy_changes()]
        if not found and self.published:
            computed = self.baseline_amounts.get(row["credit_id"])
            if computed == row["after_minor"]:
                found.append(
                    f"the run computes what the newest published run {self.baseline['run_id']} "
                    "did; earlier batches paid more (a decrease is never paid back)"
                )
        return tuple(dict.fromkeys(found)) or ("no difference found in the inputs",)

    def _transaction(self, t: dict[str, Any]) -> str:
        name = f"transaction {t['txn_id']}"
        if t["in_after"] != t["in_before"]:
            entered = t["in_after"]
            files = {f for f in (t["source_files"] or "").split(",") if f}
            new_files = files - set(self.logs[1]) if entered else files - set(self.logs[0])
            if new_files:
                what = "new log file" if entered else "log file no longer read"
                return f"{name}: in a {what} {', '.join(sorted(new_files))}"
            after, before = self.logs
            changed = {f for f in files if after.get(f) and before.get(f) != after.get(f)}
            changed = {f for f in changed if before.get(f)}
            if changed:
                return f"{name}: log file {', '.join(sorted(changed))} changed"
            at = t["first_failure_at"]
            if self.window[0] != self.window[1]:
                where = "entered" if entered else "left"
                when = f" (failed {self._local(at)})" if at else ""
                return f"{name} {where} the window{when}: {self._window_change()}"
            if entered:
                return f"{name}: a new candidate ({t['after_class']})"
            return f"{name}: no longer a candidate (was {t['before_class']})"
        if t["after_table_status"] != t["before_table_status"]:
            return (
                f"{name}: its table row changed status: {t['before_table_status'] or '(none)'} -> "
                f"{t['after_table_status'] or '(none)'}"
            )
        if t["after_class"] != t["before_class"]:
            return f"{name}: class {t['before_class']} -> {t['after_class']}"
        if t["after_customer_id"] != t["before_customer_id"]:
            return (
                f"{name}: customer {t['before_customer_id']} -> {t['after_customer_id']} (the "
                "transaction table changed)"
            )
        if t["after_amount_minor"] != t["before_amount_minor"]:
            return f"{name}: amount {t['before_amount_minor']} -> {t['after_amount_minor']}"
        return f"{name}: {t['before_reason']} -> {t['after_reason']}"

    def _customer(self, customer_id: str) -> list[str]:
        found = self.customers.get(customer_id)
        if not found:
            return []
        return [
            f"customer {customer_id}'s {what}: {found['before_' + what]} -> "
            f"{found['after_' + what]}"
            for what in ("segment", "status")
            if found[f"before_{what}"] != found[f"after_{what}"]
        ]

    def _pricing(self, row: dict[str, Any]) -> list[str]:
        if row["change"] in ("added", "removed"):
            return []
        return [
            f"policy {k} changed: {b} -> {a}"
            for k, b, a in self._policy_changes()
            if k in PRICING or k in {f"{p}.{row['currency']}" for p in PRICING_PER_CURRENCY}
        ]

    def _policy_changes(self) -> list[tuple[str, Any, Any]]:
        after, before = self.policy
        changes = []
        for key in sorted((set(after) | set(before)) - {"sha256", "version"}):
            a, b = after.get(key), before.get(key)
            if isinstance(a, dict) or isinstance(b, dict):
                a, b = a or {}, b or {}
                changes += [
                    (f"{key}.{k}", b.get(k, "(none)"), a.get(k, "(none)"))
                    for k in sorted(set(a) | set(b))
                    if a.get(k) != b.get(k)
                ]
            elif a != b:
                changes.append((key, b, a))
        return changes

    def _window_change(self) -> str:
        (start, end), (start_before, end_before) = self.window
        return (
            f"window {self._local(start_before)} to {self._local(end_before)} is now "
            f"{self._local(start)} to {self._local(end)}"
        )

    def _local(self, at: datetime | str) -> str:
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")


def _window(manifest: dict[str, Any]) -> tuple[str, str]:
    window = manifest.get("window", {})
    return window.get("start_utc", ""), window.get("end_utc", "")


def _logs(manifest: dict[str, Any]) -> dict[str, str | None]:
    """The run's log files, read or pruned, by name: their sha256 (None when pruned)."""
    inputs = manifest.get("inputs", {})
    read = {f["path"]: f.get("sha256") for f in inputs.get("logs", [])}
    return {**{f["path"]: None for f in inputs.get("logs_pruned", [])}, **read}


class DecreasesNeedDecision(ConfigError):
    """Approving would publish a batch carrying decreases and finance has not accepted them
    (exit 2): the message lists each one."""

    def __init__(self, diff: Diff):
        shown = [describe(line) for line in diff.decreases]
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
