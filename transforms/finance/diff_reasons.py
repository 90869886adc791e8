"""The reasons of a diff's lines: what differs between a run and its baseline run, from their
evidence (a transaction that entered or left, a table status, a class), their customer tables
(segment, status) and their manifests (window, log files, policy keys)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from transforms import db, money, times
from transforms.finance import approval
from transforms.finance.rows import RunRow
from transforms.runfolder.manifest_model import Manifest, PolicyRecord

# Policy keys that price a line of one currency: a change names the currency's entry.
PRICING_PER_CURRENCY = ("flat_minor", "min_minor", "cap_minor")
PRICING = ("basis", "percent")
PERCENT_BASIS = "percent_of_failed_amount"
# Policy keys that decide whether a transaction is credited, by the evidence reason it gives
# when they do not: a changed reason is named with the key behind it, when that key changed.
DECIDING = {
    "excluded_segment": ("exclude_segments",),
    "recovered_not_credited": ("credit_recovered",),
    "table_only_not_credited": ("credit_table_only",),
}
# Policy keys that class a transaction (rule 3): a changed class is named with them.
CLASSING = ("failure_events", "outage_error_codes", "decline_error_codes")
# The floor and the cap: they price a line only where they changed its amount.
BOUNDS = ("min_minor", "cap_minor")


@dataclass(frozen=True)
class Priced:
    """A credit line as its run priced it (`run_credits`): what its policy's basis reads."""

    failed_amount_minor: int | None
    credited_txn_count: int


class Explainer:
    """The reasons of each changed line, from what differs between the run and its baseline."""

    def __init__(self, con, run: RunRow, baseline: RunRow | None, published):
        self.run, self.baseline, self.published = run, baseline, published
        self.zone = times.zone(run.timezone)
        self.by_line: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.customers: dict[str, dict[str, Any]] = {}
        if baseline is None:
            return
        ids = {"run_id": run.run_id, "against_run_id": baseline.run_id}
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
        after, before = approval.recorded_manifest(run), approval.recorded_manifest(baseline)
        self.window = (_window(after), _window(before))
        self.logs = (_logs(after), _logs(before))
        self.policy = (after.policy, before.policy)
        self.lines = tuple(
            {r["credit_id"]: r for r in db.records(db.run(con, "diff_run_amounts", run_id=r_id))}
            for r_id in (run.run_id, baseline.run_id)
        )
        self.baseline_amounts = {k: r["credit_amount_minor"] for k, r in self.lines[1].items()}

    def reasons(self, row: dict[str, Any]) -> tuple[str, ...]:
        if row["change"] == "unchanged":
            return ()
        if self.baseline is None:
            return (f"nothing published yet for {self.run.incident_id}",)
        found = [self._transaction(t) for t in self.by_line[row["customer_id"], row["currency"]]]
        found += self._customer(row["customer_id"])
        found += self._pricing(row)
        found += self._deciding(row)
        # what the newest published run computes (0: it lists no such credit)
        computed = self.baseline_amounts.get(row["credit_id"], 0) if self.published else None
        paid_more = computed is not None and computed < (row["before_minor"] or 0)
        as_computed = computed is not None and computed == (row["after_minor"] or 0)
        if not found and not (paid_more and as_computed):  # else no policy key is to blame
            found += [f"policy {k} changed: {b} -> {a}" for k, b, a in self._policy_changes()]
        if paid_more:
            # what was paid is not what the baseline computes: the reasons above explain only
            # the baseline's amount, and may point the other way (a policy raised since)
            currency = row["currency"]
            found.insert(
                0,
                f"earlier batches paid {money.display(row['before_minor'], currency)}, more "
                f"than the newest published run {self.baseline.run_id} computes "
                f"({money.display(computed, currency)}): a decrease is never paid back",
            )
        elif not found and computed == row["after_minor"]:
            found.append(
                f"the run computes what the newest published run {self.baseline.run_id} "
                "did; earlier batches paid more (a decrease is never paid back)"
            )
        return tuple(dict.fromkeys(found)) or ("no difference found in the inputs",)

    def _transaction(self, t: dict[str, Any]) -> str:
        name = f"transaction {t['txn_id']}"
        if t["in_after"] != t["in_before"]:
            entered = t["in_after"]
            files = {f for f in (t["source_files"] or "").split(",") if f}
            new_files = files - set(self.logs[1]) if entered else files - set(self.logs[0])
            at = t["first_failure_at"]
            where = "entered" if entered else "left"
            when = f" (failed {self._local(at)})" if at else ""
            moved = self._moved_across(at, entered)
            window = f"; and it {where} the window{when}: {self._window_change()}" if moved else ""
            if new_files:
                what = "new log file" if entered else "log file no longer read"
                return f"{name}: in a {what} {', '.join(sorted(new_files))}{window}"
            after, before = self.logs
            changed = {f for f in files if after.get(f) and before.get(f) != after.get(f)}
            changed = {f for f in changed if before.get(f)}
            if changed:
                return f"{name}: log file {', '.join(sorted(changed))} changed{window}"
            if self.window[0] != self.window[1]:
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
        if t["after_currency"] != t["before_currency"]:
            return (
                f"{name}: currency {t['before_currency'] or '(none)'} -> "
                f"{t['after_currency'] or '(none)'} (the transaction table changed)"
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
        lines = tuple(
            None
            if (line := side.get(row["credit_id"])) is None
            else Priced(line["failed_amount_minor"], line["credited_txn_count"])
            for side in self.lines
        )
        return pricing_changes(*self.policy, row["currency"], lines)

    def _deciding(self, row: dict[str, Any]) -> list[str]:
        """The policy changes that decide whether the line's changed transactions are credited:
        the key behind a reason they gave (`excluded_segment`: `exclude_segments`), the codes
        behind a class they changed, and the pricing keys behind a credit worked out to zero
        (a line added or removed, which `_pricing` leaves to its transactions)."""
        keys: set[str] = set()
        zero = False
        for t in self.by_line[row["customer_id"], row["currency"]]:
            given = {t["after_reason"], t["before_reason"]}
            for reason in given:
                keys.update(DECIDING.get(reason, ()))
            if t["in_after"] and t["in_before"] and t["after_class"] != t["before_class"]:
                keys.update(CLASSING)
            zero = zero or "zero_credit" in given
        found = [
            f"policy {k} changed: {b} -> {a}" for k, b, a in self._policy_changes() if k in keys
        ]
        if zero and row["change"] in ("added", "removed"):
            found += pricing_changes(*self.policy, row["currency"])
        return found

    def _policy_changes(self) -> list[tuple[str, Any, Any]]:
        return policy_changes(*self.policy)

    def _moved_across(self, at: datetime | str | None, entered: bool) -> bool:
        """Whether the window's change alone puts a failure at `at` in (`entered`: inside the
        run's window, outside its baseline's) or out (the other way round)."""
        if at is None or self.window[0] == self.window[1]:
            return False
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        inside = [
            datetime.fromisoformat(start) <= at < datetime.fromisoformat(end)
            for start, end in self.window
        ]
        return inside == ([True, False] if entered else [False, True])

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


def policy_changes(after: PolicyRecord, before: PolicyRecord) -> list[tuple[str, Any, Any]]:
    """The policy keys that differ between two runs' records, as (key, before, after); a table
    key by its entry (`flat_minor.USD`, `(none)` where one side lacks it)."""
    after_keys, before_keys = (
        p.model_dump(mode="json", exclude={"sha256", "version"}) for p in (after, before)
    )
    changes = []
    for key in sorted(after_keys):
        a, b = after_keys[key], before_keys[key]
        if isinstance(a, dict):
            changes += [
                (f"{key}.{k}", b.get(k, "(none)"), a.get(k, "(none)"))
                for k in sorted(set(a) | set(b))
                if a.get(k) != b.get(k)
            ]
        elif a != b and not (key == "percent" and _same_decimal(a, b)):
            # a percent is an exact decimal: 10 and 10.0 price every line alike
            changes.append((key, b, a))
    return changes


def _same_decimal(a: str, b: str) -> bool:
    """Whether two decimals written as strings are one number; a record edited into no decimal
    is a change, never an error."""
    try:
        return Decimal(a) == Decimal(b)
    except (InvalidOperation, TypeError):
        return False


def pricing_changes(
    after: PolicyRecord,
    before: PolicyRecord,
    currency: str,
    lines: tuple[Priced | None, Priced | None] = (None, None),
) -> list[str]:
    """The policy changes that price a line of `currency` differently: its entries of the
    amounts, the basis, and the percent or the flat amount only where a side's basis reads it;
    with the line as each side priced it (`lines`, after then before), the floor or the cap only
    where it lifted or cut the line on a side (a side without the line: wherever it may have),
    and the basis, the percent and the flat amount not where one of them made it on both."""
    bases = {after.basis, before.basis}
    bounds = [_bounds(p, currency, line) for p, line in zip((after, before), lines, strict=True)]
    unread = {
        f"{bound}.{currency}"
        for bound in BOUNDS
        if not any(found is None or bound in found for found in bounds)
    }
    if all(bounds):  # the floor or the cap made the line in both runs: the basis priced neither
        unread |= {*PRICING, f"flat_minor.{currency}"}
    if PERCENT_BASIS not in bases:
        unread.add("percent")
    if bases == {PERCENT_BASIS}:
        unread.add(f"flat_minor.{currency}")
    keys = {*PRICING, *(f"{p}.{currency}" for p in PRICING_PER_CURRENCY)} - unread
    return [
        f"policy {k} changed: {b} -> {a}" for k, b, a in policy_changes(after, before) if k in keys
    ]


def _bounds(policy: PolicyRecord, currency: str, line: Priced | None) -> set[str] | None:
    """Which of the floor (`min_minor`) and the cap (`cap_minor`) changed the line's amount as
    `policy` priced it (rule 7: the floor lifts, then the cap cuts); None when that cannot be
    told (no line, an amount unknown)."""
    base = None if line is None else _base(policy, currency, line)
    if base is None:
        return None
    floor, cap = policy.min_minor.get(currency), policy.cap_minor.get(currency)
    found = set()
    if floor is not None and base < floor:
        found.add("min_minor")
    if cap is not None and max(base, floor if floor is not None else base) > cap:
        found.add("cap_minor")
    return found


def _base(policy: PolicyRecord, currency: str, line: Priced) -> int | None:
    """The line's credit before its floor and cap, in integers as the run works it out."""
    flat = policy.flat_minor.get(currency)
    if policy.basis == "flat_per_customer":
        return flat
    if policy.basis == "flat_per_transaction":
        return None if flat is None else flat * line.credited_txn_count
    if policy.basis != PERCENT_BASIS or line.failed_amount_minor is None:
        return None
    try:
        numerator, denominator = Decimal(policy.percent).as_integer_ratio()
    except (InvalidOperation, TypeError, ValueError, OverflowError):
        return None  # a record edited into no number
    return (2 * line.failed_amount_minor * numerator + 100 * denominator) // (200 * denominator)


def _window(manifest: Manifest) -> tuple[str, str]:
    return manifest.window.start_utc, manifest.window.end_utc


def _logs(manifest: Manifest) -> dict[str, str | None]:
    """The run's log files, read or pruned, by name: their sha256 (None when pruned)."""
    read = {f.path: f.sha256 for f in manifest.inputs.logs}
    return {**{f.path: None for f in manifest.inputs.logs_pruned or ()}, **read}
