"""Several credit policies on one incident, side by side, for `credits what-if`.

The logs are read once (`logs.stage`, the run's map and reduce), the tables staged once and the
candidates grouped and classed once (`classes.classify`); each policy is then priced by the run's
own `credits.build` from those classified candidates (re-classed, from the same grouped
candidates, only for a policy whose codes or `credit_*` flags differ). A policy's figures are
those of the `credits.csv` a run with that `[policy]` in the incident file would publish. No
quality gate, no outputs, nothing kept: not a run.

A policy cannot apply when the run would stop or be rejected for it: a currency without
`flat_minor` (the run's `ConfigError`, naming the policy's file), a credited transaction it
cannot price (the gate's `credited_class_priced`) or whose payment has no amount
(`credited_has_amount`), what else the gate decides by the policy
(`policy_checks`: too many credit lines for unknown customers, outage codes the table writes
otherwise; and the touched table rows and customers, which the policy's codes decide), or
other `failure_events` than the incident's (the logs are read once, for the incident's
events). Its outcome carries that message instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import db, money
from transforms.errors import ConfigError, InputError, ValidationRejected
from transforms.ingest import logs, tables
from transforms.ingest.incident import Incident, Policy
from transforms.ingest.incident.amounts import LARGEST_TOTAL
from transforms.ingest.rates import Rates
from transforms.reconcile import classes, credits, policy_checks


@dataclass(frozen=True)
class Candidate:
    """A policy to compare: its column label, the file it came from (the incident file for the
    incident's own) and the policy."""

    label: str
    path: Path
    policy: Policy


@dataclass(frozen=True)
class CurrencyFigures:
    """One currency under one policy: credit lines and their total, median and 95th percentile
    (minor units; percentiles by nearest rank, so always a credit some customer gets)."""

    currency: str
    lines: int
    total_minor: int
    median_minor: int
    p95_minor: int


@dataclass(frozen=True)
class Outcome:
    """What one policy credits, or why it cannot apply (`problem`, the message a run would give;
    the figures are then empty)."""

    candidate: Candidate
    problem: str | None = None
    amounts: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)
    """(customer_id, currency) -> credit in minor units: the credit file's lines."""
    currencies: tuple[CurrencyFigures, ...] = ()
    floor_lifted: int = 0
    """Customers with a line the floor (`min_minor`) raised."""
    cap_cut: int = 0
    """Customers with a line the cap (`cap_minor`) lowered."""
    exceptions: dict[str, int] = dataclasses.field(default_factory=dict)
    """Rows of exceptions.csv by kind."""

    @property
    def applies(self) -> bool:
        return self.problem is None

    @property
    def customers(self) -> frozenset[str]:
        """The customers credited (a line in any currency)."""
        return frozenset(customer for customer, _ in self.amounts)


@dataclass(frozen=True)
class WhatIf:
    """Every policy's outcome, in the order given (the incident's own first)."""

    incident: Incident
    outcomes: tuple[Outcome, ...]

    def credited_not(self, here: int, there: int) -> frozenset[str] | None:
        """Customers credited under outcome `here` who get nothing under outcome `there` (None
        when either policy cannot apply)."""
        a, b = self.outcomes[here], self.outcomes[there]
        if not (a.applies and b.applies):
            return None
        return a.customers - b.customers

    def credited_elsewhere(self, here: int) -> frozenset[str] | None:
        """Customers who get nothing under outcome `here` but something under another policy
        that applies (None when `here` cannot apply)."""
        if not self.outcomes[here].applies:
            return None
        others = [o.customers for i, o in enumerate(self.outcomes) if i != here and o.applies]
        return frozenset().union(*others) - self.outcomes[here].customers


TableChecks = Callable[[duckdb.DuckDBPyConnection, Incident], tuple[str, ...]]
"""Why the gate would reject a run for the table rows and customers its candidates touch
(`quality.gate.candidate_data_problems`, which this stage may not import)."""


def compare(
    incident: Incident,
    candidates: Sequence[Candidate],
    work_dir: Path,
    table_checks: TableChecks,
    empty_tables: TableChecks,
) -> WhatIf:
    """Stages the incident's logs and tables once in a work database under `work_dir`, then
    prices every candidate policy from the same classified candidates. `table_checks` runs the
    gate's checks of the touched rows once for each classing: the policy's codes decide which
    failed table rows are candidates, so a broken one may reject one policy's run only.
    `empty_tables` (`quality.gate.empty_tables`): why the gate would reject a run of the
    incident under any policy (a table with no row); `ValidationRejected` (exit 3, as the run)
    saying so, and no policy compared."""
    con = db.connect(work_dir / "whatif.duckdb", work_dir)
    try:
        logs.stage(con, incident, work_dir, logs.on_threads)
        tables.stage(con, incident)
        classes.group_candidates(con)
        empty = empty_tables(con, incident)
        if empty:
            raise ValidationRejected(
                f"{incident.path}: a run of this incident would be rejected by the quality gate: "
                f"{'; '.join(empty)}; no policy is compared"
            )
        outcomes: dict[int, Outcome] = {}
        for key, group in _by_classes(incident, candidates).items():
            rejected: tuple[str, ...] = ()
            if key is not None:
                classed = _with_policy(incident, group[0][1])
                classes.assign_classes(con, classed)
                rejected = table_checks(con, classed)
            for index, candidate in group:
                outcomes[index] = (
                    _refused_events(incident, candidate)
                    if key is None
                    else price(con, _with_policy(incident, candidate), candidate, rejected)
                )
        return WhatIf(incident, tuple(outcomes[i] for i in range(len(candidates))))
    finally:
        con.close()


def price(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    candidate: Candidate,
    rejected_tables: tuple[str, ...],
) -> Outcome:
    """Prices the (classified) candidates under `incident`'s policy as a run would
    (`credits.build` but the evidence, which only the gate and the run folder read) and reads
    back what the credit file would hold. `rejected_tables`: why the gate would reject the
    touched table rows (`TableChecks`), reported as the gate's other checks of the policy."""
    try:
        credits.price_lines(con, incident)
    except (ConfigError, InputError) as error:  # InputError: failed amounts past 64-bit totals
        return Outcome(candidate, problem=str(error))
    credits.list_credits(con, incident)
    rejected = (
        *_rejected_credits(con),
        *rejected_tables,
        *policy_checks.rejections(con, incident),  # by the policy
    )
    if rejected:
        return Outcome(
            candidate,
            problem=f"{candidate.path}: the quality gate would reject the run: {rejected[0]}",
        )
    lines = db.run(con, "whatif_credit_lines").fetchall()
    return Outcome(
        candidate,
        amounts={(customer, currency): amount for customer, currency, amount, _, _ in lines},
        currencies=_figures(lines),
        floor_lifted=len({row[0] for row in lines if row[3]}),
        cap_cut=len({row[0] for row in lines if row[4]}),
        exceptions=dict(db.run(con, "whatif_exceptions").fetchall()),
    )


def _rejected_credits(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Why the gate's evidence checks would reject the run for what the policy credits: a
    credited transaction it cannot price, or one credited whose payment has no amount."""
    ((unpriced, without_amount, first),) = db.run(con, "whatif_rejected_credits").fetchall()
    found = []
    if unpriced:
        found.append(
            f"{unpriced:,} credited transaction(s) the policy cannot price (evidence reason "
            "'unpriced', expectation credited_class_priced)"
        )
    if without_amount:
        found.append(
            f"{without_amount:,} credited transaction(s) without an amount (e.g. {first}; "
            "expectation credited_has_amount)"
        )
    return tuple(found)


def nearest_rank(ordered: Sequence[int], percent: int) -> int:
    """The `percent`th percentile of sorted, non-empty values by nearest rank: the value at
    1-based rank ceil(percent / 100 x n); integer arithmetic."""
    rank = -(-percent * len(ordered) // 100)
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class TooLarge:
    """A policy's total in the reporting currency above `LARGEST_TOTAL` minor units, so it is
    not shown: more than any total of the product holds. A large incident at sound rates can
    come to that, but the likeliest cause is a rate entered the wrong way round (units of the
    currency per one of the reporting currency); `converted` names the currency whose rate
    made the most of it (None: the reporting currency's own credits did)."""

    currency: str
    converted: str | None = None

    @property
    def message(self) -> str:
        said = (
            f"its total in {self.currency} comes to more than {LARGEST_TOTAL:,} minor units of "
            f"{self.currency}, the largest total a run holds: too large to show"
        )
        if self.converted is None:
            return said
        return (
            f"{said}; is rates.{self.converted} units of {self.currency} per one "
            f"{self.converted}? (a rate the wrong way round makes such a total)"
        )


def reported_totals(what_if: WhatIf, rates: Rates) -> tuple[int | TooLarge | None, ...]:
    """Each outcome's credits in the reporting currency, minor units (None: cannot apply;
    `TooLarge`: above `LARGEST_TOTAL`): each currency's total converted once (`money.convert`:
    exact, half up) and then summed. Stops with `ConfigError` naming the rates file when a
    credited currency has no rate (a rate of zero, below or not a number `rates.load` refused)."""
    used = {f.currency for o in what_if.outcomes for f in o.currencies}
    missing = rates.missing(used)
    if missing:
        raise ConfigError(
            f"{rates.path}: rates.{missing[0]}: no rate for {', '.join(missing)}, which the "
            f"credits use; add it (units of {rates.currency} per one {missing[0]})"
        )
    return tuple(
        _reported(outcome.currencies, rates) if outcome.applies else None
        for outcome in what_if.outcomes
    )


def _reported(figures: Sequence[CurrencyFigures], rates: Rates) -> int | TooLarge:
    """The currencies' totals in the reporting currency, summed; `TooLarge` above
    `LARGEST_TOTAL`, naming the converted currency that came to the most (its rate the likeliest
    to be the wrong way round)."""
    converted = {
        f.currency: f.total_minor
        if f.currency == rates.currency
        else money.convert(f.total_minor, f.currency, rates.rates[f.currency], rates.currency)
        for f in figures
    }
    total = sum(converted.values())
    if abs(total) <= LARGEST_TOTAL:
        return total
    largest = max(converted, key=lambda currency: abs(converted[currency]))
    return TooLarge(rates.currency, None if largest == rates.currency else largest)


EXPORT_KEYS = ("customer_id", "currency")
"""The export's first columns; a column per policy follows."""


def export_rows(what_if: WhatIf) -> tuple[list[str], list[dict[str, str]]]:
    """One row per (customer, currency) credited under any policy that applies, a column per
    such policy with its credit as the credit file writes it (`10.00`; empty: nothing)."""
    applying = [o for o in what_if.outcomes if o.applies]
    columns = [*EXPORT_KEYS, *(o.candidate.label for o in applying)]
    keys = sorted(set().union(*(o.amounts.keys() for o in applying)))
    rows = []
    for customer, currency in keys:
        row = {"customer_id": customer, "currency": currency}
        for outcome in applying:
            amount = outcome.amounts.get((customer, currency))
            row[outcome.candidate.label] = (
                "" if amount is None else money.decimal_text(amount, currency)
            )
        rows.append(row)
    return columns, rows


def _figures(lines: list[tuple]) -> tuple[CurrencyFigures, ...]:
    by_currency: dict[str, list[int]] = {}
    for _, currency, amount, _, _ in lines:
        by_currency.setdefault(currency, []).append(amount)
    figures = []
    for currency, amounts in sorted(by_currency.items()):
        amounts.sort()
        figures.append(
            CurrencyFigures(
                currency,
                lines=len(amounts),
                total_minor=sum(amounts),
                median_minor=nearest_rank(amounts, 50),
                p95_minor=nearest_rank(amounts, 95),
            )
        )
    return tuple(figures)


_ClassKey = tuple[tuple[str, ...], tuple[str, ...], bool, bool]


def _by_classes(
    incident: Incident, candidates: Sequence[Candidate]
) -> dict[_ClassKey | None, list[tuple[int, Candidate]]]:
    """The candidates grouped by what classes the transactions (codes and flags), in order of
    first appearance; None: other failure events than the incident's (cannot apply)."""
    groups: dict[_ClassKey | None, list[tuple[int, Candidate]]] = {}
    for index, candidate in enumerate(candidates):
        policy = candidate.policy
        key: _ClassKey | None = (
            policy.outage_error_codes,
            policy.decline_error_codes,
            policy.credit_recovered,
            policy.credit_table_only,
        )
        if set(policy.failure_events) != set(incident.policy.failure_events):  # a set of names
            key = None
        groups.setdefault(key, []).append((index, candidate))
    return groups


def _refused_events(incident: Incident, candidate: Candidate) -> Outcome:
    return Outcome(
        candidate,
        problem=(
            f"{candidate.path}: policy.failure_events: {list(candidate.policy.failure_events)} "
            f"is not the incident's {list(incident.policy.failure_events)}; the logs are read "
            "once, for the incident's events: compare this policy in an incident file of its own"
        ),
    )


def _with_policy(incident: Incident, candidate: Candidate) -> Incident:
    """The incident under the candidate's policy; its path the policy's file, which a run's
    message about the policy then names."""
    return dataclasses.replace(incident, policy=candidate.policy, path=candidate.path)
