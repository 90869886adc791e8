"""The words people type to filter a list by status, read as the status they mean: an incident's
customers (`credits customers --status`, the support page's box) and the runs (`credits runs
--status`). A case slip, a typo, or the words a table shows (`waiting for approval`) name the
status meant; nothing is ever taken for it. So does an incident id held in another case, or a
slip or two away from a held one (`meant_incident`)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from transforms.errors import ConfigError
from transforms.serving.answers import CreditStatus

# A credit's status in the words the tables and pages show it (`views.status_words`).
SHOWN_AS = {
    CreditStatus.PUBLISHED: "paid",
    CreditStatus.PENDING: "waiting for approval",
    CreditStatus.BY_HAND: "owed, paid by hand",
    CreditStatus.EXCLUDED: "no credit",
}


def _typed(word: str) -> str:
    """A status as typed, in one form: `By Hand`, `by-hand` and `owed, paid by hand` alike."""
    return "_".join(word.casefold().replace("-", " ").replace(",", " ").split())


# Words support may type for a credit's status (the ones the table shows among them), and the
# status they mean.
CREDIT_WORDS = {
    "approved": CreditStatus.PUBLISHED,
    "waiting": CreditStatus.PENDING,
    "hand": CreditStatus.BY_HAND,
    "paid_by_hand": CreditStatus.BY_HAND,
    **{_typed(words): status for status, words in SHOWN_AS.items()},
}


def meant(given: str, choices: Sequence[str], words: Mapping[str, str]) -> str | None:
    """The choice `given` means: itself in another case or spelling, a word of `words`, or the
    closest choice or word; None when nothing is close."""
    word = _typed(given)
    if word in choices:
        return word
    close = difflib.get_close_matches(word, [*choices, *words], n=1)
    found = words.get(word) or (close[0] if close else None)
    return words.get(found, found) if found else None


def list_filters(segment: str | None, status: str | None) -> tuple[str | None, str]:
    """An incident list's filters as typed (`credits customers --segment/--status`, the support
    page's boxes): blanks around each ignored, an empty segment is none, an empty status `all`.
    Case is kept: a segment is matched as the customer table writes it (a case slip is named)."""
    return (segment or "").strip() or None, (status or "").strip() or "all"


def require_credit_status(status: str) -> None:
    """Refuses (`ConfigError`) a status filter no credit has, naming the one meant."""
    choices = [*CreditStatus, "all"]
    if status not in choices:
        close = meant(status, choices, CREDIT_WORDS)
        hint = f"; did you mean '{close}'?" if close else ""
        raise ConfigError(f"--status: '{status}' is not one of {', '.join(choices)}{hint}")


# How close (difflib's ratio) a typed incident id must be to a held one for it to be named: a
# slip of a character or two (`INCA`, `INC-A1` for INC-A), never a guess (`INC-NOPE` for INC-X).
INCIDENT_CLOSENESS = 0.8


def meant_incident(given: str, known: Sequence[str]) -> tuple[str | None, str]:
    """The held incident `given` (blanks around it aside) means, and the hint naming it: one
    that differs only in case, else the closest a slip or two away; (None, "") when none is."""
    typed = given.strip()
    same = [k for k in known if k.casefold() == typed.casefold()]
    if same:
        return same[0], f"; did you mean {same[0]}? (ids are case-sensitive)"
    close = difflib.get_close_matches(typed, known, n=1, cutoff=INCIDENT_CLOSENESS)
    return (close[0], f"; did you mean {close[0]}?") if close else (None, "")
