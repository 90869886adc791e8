"""A diff in words, for people: the summary `credits diff` prints (whatever the number of
lines changed: totals, lines and difference per change kind and currency, the reasons ranked)
and the Markdown of Prefect's pause form and artifacts."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from transforms import money, pages
from transforms.finance.diff import CHANGES, PUBLISHED, Diff, signed

SHOWN_REASONS = 10  # the summary ranks this many kinds of reason; each line still has its own
SHOWN_LISTED_BEYOND = 20  # closed accounts listed beyond what is owed, named in the summary


@dataclass(frozen=True)
class ChangeTotal:
    """One change kind in one currency: how many credit lines, and their difference."""

    change: str
    currency: str
    lines: int
    difference_minor: int


def by_change(diff: Diff) -> list[ChangeTotal]:
    """Lines and difference per change kind (in `CHANGES` order) and currency."""
    found: dict[tuple[str, str], list[int]] = {}
    for line in diff.lines:
        total = found.setdefault((line.change, line.currency), [0, 0])
        total[0] += 1
        total[1] += line.difference_minor
    return [
        ChangeTotal(change, currency, *found[change, currency])
        for change, currency in sorted(found, key=lambda k: (CHANGES.index(k[0]), k[1]))
    ]


def ranked_reasons(diff: Diff) -> list[tuple[str, int]]:
    """Kinds of reason and how many lines give each, most lines first: a reason with its ids
    and times left out (`transaction t2 entered the window (failed ...)` counts as `a
    transaction entered the window`), so that thousands of lines read as a few causes."""
    counted: dict[str, int] = defaultdict(int)
    for line in diff.lines:
        for kind in {_reason_kind(reason) for reason in line.reasons}:
            counted[kind] += 1
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))


def first_approval(diff: Diff) -> bool:
    """Nothing of the incident is published yet: approving pays every credit line of the run."""
    return diff.against == PUBLISHED and diff.baseline_run_id is None


def summary(diff: Diff) -> list[str]:
    """Lines for people, however many credit lines change: what changes and the totals per
    currency; a first approval said plainly; lines and difference per change kind and currency;
    the reasons ranked."""
    text = _headline(diff)
    if first_approval(diff) and diff.lines:
        text.append(
            f"nothing of {diff.incident_id} is published yet: approving run {diff.run_id} pays "
            f"every credit line of the run ({len(diff.lines):,} line(s))"
        )
    changes = by_change(diff)
    if changes:
        text.append("by change and currency:")
        text += [
            f"  {c.change:<9}  {c.currency}  {c.lines:>7,} line(s)  "
            f"{signed(c.difference_minor, c.currency)}"
            for c in changes
        ]
    ranked = ranked_reasons(diff)
    if ranked:
        text.append("reasons, most lines first:")
        text += [f"  {n:>7,} line(s): {kind}" for kind, n in ranked[:SHOWN_REASONS]]
        if len(ranked) > SHOWN_REASONS:
            text.append(f"  and {len(ranked) - SHOWN_REASONS:,} other kind(s) of reason")
    return text + _listed_beyond(diff)


def _listed_beyond(diff: Diff) -> list[str]:
    """Closed accounts listed to pay by hand beyond what the run owes them: no line of the diff
    and nothing approval publishes says so, and what was paid by hand is not paid back."""
    if not diff.listed_beyond:
        return []
    more = len(diff.listed_beyond) - SHOWN_LISTED_BEYOND
    return [
        f"{len(diff.listed_beyond):,} closed account(s) listed to pay by hand beyond what this "
        "run leaves to pay them (not a decrease: nothing is published for it; check what was "
        "paid by hand):",
        *(f"  {beyond.describe()}" for beyond in diff.listed_beyond[:SHOWN_LISTED_BEYOND]),
        *(
            [f"  and {more:,} more (`credits diff --format json` lists every one)"]
            if more > 0
            else []
        ),
    ]


def _headline(diff: Diff) -> list[str]:
    against = (
        f"what is published (newest published run {diff.baseline_run_id})"
        if diff.against == PUBLISHED and diff.baseline_run_id
        else "what is published (nothing yet)"
        if diff.against == PUBLISHED
        else f"run {diff.against}"
    )
    counts = ", ".join(f"{n:,} {k}" for k, n in diff.counts.items() if n) or "no change"
    text = [f"run {diff.run_id} against {against}: {counts}"]
    for t in diff.totals:
        text.append(
            f"  {t.currency}: before {money.display(t.before_minor, t.currency)}, after "
            f"{money.display(t.after_minor, t.currency)}, difference "
            f"{signed(t.difference_minor, t.currency)}"
        )
    return text


def markdown(diff: Diff) -> str:
    """The diff as Markdown (Prefect's pause form and artifacts): the decreases first, as they
    need a decision, then totals per currency and every changed line with its reasons."""
    text = [f"## What run {diff.run_id} changes", "", *summary(diff)[:1], ""]
    if first_approval(diff) and diff.lines:
        text += ["**Nothing is published yet: approving pays every credit line of the run.**", ""]
    if diff.decreases:
        text += [
            f"**{len(diff.decreases)} decrease(s)** against what is already paid: never paid "
            "back; approving needs *accept decreases* (journaled).",
            "",
            *[f"- {pages.markdown_text(line.describe())}" for line in diff.decreases],
            "",
        ]
    if diff.listed_beyond:
        text += [
            f"**{_listed_beyond(diff)[0]}**",
            "",
            *[f"- {pages.markdown_text(b.describe())}" for b in diff.listed_beyond],
            "",
        ]
    text += ["| currency | before | after | difference |", "|---|---:|---:|---:|"]
    text += [
        f"| {t.currency} | {money.display(t.before_minor, t.currency)} | "
        f"{money.display(t.after_minor, t.currency)} | {signed(t.difference_minor, t.currency)} |"
        for t in diff.totals
    ]
    if diff.lines:
        text += [
            "",
            "| customer | currency | change | before | after | why |",
            "|---|---|---|---:|---:|---|",
        ]
        text += [
            f"| {pages.markdown_text(line.customer_id)} | {line.currency} | {line.change} | "
            f"{money.display(line.before_minor, line.currency)} | "
            f"{money.display(line.after_minor, line.currency)} | "
            f"{pages.markdown_text('; '.join(line.reasons))} |"
            for line in diff.lines
        ]
    return "\n".join(text) + "\n"


def _reason_kind(reason: str) -> str:
    """The reason without the transaction's or customer's id and the failure's time."""
    kind = re.sub(r"^transaction \S+?(:|\s)", r"a transaction\1", reason)
    kind = re.sub(r" \(failed [^)]*\)", "", kind)
    kind = re.sub(r"customer \S+ -> \S+", "customer changed", kind)
    return re.sub(r"^customer \S+'s ", "a customer's ", kind)
