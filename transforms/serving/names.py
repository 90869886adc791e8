"""Support's search by name: the customers whose name matches what was typed, without case or
accents (`sql/support_customers_named.sql`); one is found, several are listed, never one guessed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from transforms import db
from transforms.errors import InputError
from transforms.pages import visible

NAMES_LISTED = 20  # the customers a name search lists at most; more: type more of the name
# What a name search reads at most: each word typed is compared with every word of every name
# seen (a typo's distance too), so a pasted page kept the warehouse busy for minutes.
NAME_WORDS = 16
NAME_CHARACTERS = 160
WORD = re.compile(r"[^\W_]+")  # as the SQL splits a name: letters and digits


@dataclass(frozen=True)
class NameMatch:
    """A customer a name search matched, as the newest run that passed the gate saw them."""

    customer_id: str
    name: str | None
    email: str | None
    country: str | None


class SeveralNamed(InputError):
    """A name several customers' names match (`total` of them; `matches` lists the first
    `NAMES_LISTED`): each is looked up by its id, never one guessed."""

    def __init__(self, name: str, matches: tuple[NameMatch, ...], total: int):
        self.name, self.matches, self.total = name, matches, total
        super().__init__(
            f"name '{visible(name)}': {total:,} customers' names match: look one up by its id:\n"
            + _listed(matches, total)
        )

    @property
    def customer_ids(self) -> tuple[str, ...]:
        return tuple(m.customer_id for m in self.matches)


class NearlyNamed(InputError):
    """A name no customer's matches, but `total` match it but for one typo in a word (`matches`
    lists the first `NAMES_LISTED`): each is looked up by its id, never one taken. `said`: what
    the search says first (no customer, payment or name is what was typed)."""

    def __init__(self, said: str, name: str, matches: tuple[NameMatch, ...], total: int):
        self.name, self.matches, self.total = name, matches, total
        super().__init__(
            f"{said}; one typo away (look one up by its id):\n" + _listed(matches, total)
        )


def _listed(matches: tuple[NameMatch, ...], total: int) -> str:
    """The customers a name search matched, one a line, and how many more there are."""
    lines = [
        f"  {m.customer_id} {visible(m.name or '')} <{visible(m.email or '')}>, {m.country}"
        for m in matches
    ]
    more = total - len(matches)
    if more:
        lines.append(f"  ... and {more:,} more: type more of the name, or the e-mail address")
    return "\n".join(lines)


def customer_named(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The one customer whose name matches `name`; None for none; `SeveralNamed` for more; an
    `InputError` for what is too long to be a name (`NAME_WORDS`, `NAME_CHARACTERS`)."""
    words = len(WORD.findall(name))
    if words > NAME_WORDS or len(name) > NAME_CHARACTERS:
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise InputError(
            f"'{visible(shown)}' ({words:,} word(s), {len(name):,} characters) is too long "
            f"for a name (a name search reads {NAME_WORDS} words, {NAME_CHARACTERS} "
            "characters), nor is it a customer's id or a payment's: paste only the id, the "
            "e-mail address or the name"
        )
    found = _named(con, name, typos=0)
    if not found:
        return None
    if found[0]["matched_count"] > 1:
        raise SeveralNamed(name, _matches(found), found[0]["matched_count"])
    return found[0]["customer_id"]


def _matches(found: list[dict]) -> tuple[NameMatch, ...]:
    return tuple(
        NameMatch(row["customer_id"], row["name"], row["email"], row["country"]) for row in found
    )


def nearly_named(con: duckdb.DuckDBPyConnection, name: str, said: str) -> NearlyNamed | None:
    """For a name no customer's matches: the customers whose name it matches but for one typo in
    a word (`jose lopes`), as a `NearlyNamed` saying `said` first; None for none."""
    found = _named(con, name, typos=1)
    if not found:
        return None
    return NearlyNamed(said, name, _matches(found), found[0]["matched_count"])


def _named(con: duckdb.DuckDBPyConnection, name: str, typos: int) -> list[dict]:
    return db.records(
        db.run(con, "support_customers_named", typed_name=name, typos=typos, limit=NAMES_LISTED)
    )
