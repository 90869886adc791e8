"""Text a spreadsheet shows as text, never runs.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a carriage
return) as a formula: a customer named `=HYPERLINK(...)` would become a link, `+cmd|...` a
command. Such a cell is written with a leading `'`, which spreadsheets show as text.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A negative decimal and nothing else, written as a spreadsheet shows it back (no leading zero:
# an id such as `-007` stays text).
PLAIN_NUMBER = re.compile(r"-(0|[1-9][0-9]*)(\.[0-9]+)?")


def safe(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that starts like a formula gets a `'`;
    a negative amount written as text (`-0.266`, `credits diff --csv`'s differences) stays a
    number the spreadsheet can sum, since it can run nothing."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        if PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value
