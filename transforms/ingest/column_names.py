"""A table source's missing contract column, and what the source has instead: the name but for
case or separators, one header field holding every name, the other table's columns (the two
sources swapped in the incident file), else its columns, to rename one."""

from __future__ import annotations

import re

SHOWN_COLUMNS = 12  # a missing column's message names at most this many of the source's
# Columns only one table has: a source holding all of one's and none of the other's is that table.
_OWN_COLUMNS = {
    "the transaction table's": ("txn_id", "amount_minor", "created_at"),
    "the customer table's": ("name", "email", "segment"),
}


def missing(name: str, column: str, names: list[str]) -> str:
    """A missing column, and what the source has instead: the same name but for case, blanks,
    underscores or hyphens (names are matched exactly: `CustomerID`, `customer id`), one header
    field holding every name (not commas), the other table's columns, else the source's
    columns, to rename one."""
    message = f"{name}: required column '{column}' is missing"
    same = [found for found in names if _folded(found) == _folded(column)]
    if same:
        return (
            f"{message}; the source has {same[0]!r}: names are matched exactly (case, blanks, "
            f"underscores): name it '{column}'"
        )
    separators = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
    if len(names) == 1 and column in re.split(r"[;\t|]", names[0]):
        used = next(word for sep, word in separators.items() if sep in names[0])
        return (
            f"{message}; the header is one field, {names[0][:80]!r}: its names are separated "
            f"by {used}, a CSV file's by commas: save it again as CSV UTF-8 (comma delimited)"
        )
    shown = ", ".join(names[:SHOWN_COLUMNS]) + (", ..." if len(names) > SHOWN_COLUMNS else "")
    other = _other_table(column, set(names))
    if other is not None:
        return (
            f"{message}; the source's columns are {other} ({shown}): are sources.transactions "
            "and sources.customers swapped in the incident file?"
        )
    return f"{message}; the source's columns are {shown}: name the one it is '{column}'"


def _other_table(column: str, names: set[str]) -> str | None:
    """The table whose own columns `names` holds, when `column` is one of the other's and the
    source has none of those (a source of both, a joined export, is neither)."""
    for table, own in _OWN_COLUMNS.items():
        others = {c for t, cs in _OWN_COLUMNS.items() if t != table for c in cs}
        if set(own) <= names and column in others and not names & others:
            return table
    return None


def _folded(column: str) -> str:
    """A column name without its case, blanks, underscores and hyphens."""
    return re.sub(r"[\s_-]", "", column).lower()
