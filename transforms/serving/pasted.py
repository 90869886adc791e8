"""What support pastes, read as an id: blanks and the characters no one sees taken off, an
e-mail address found in what a mail client copied, and a known id named when one was nearly
typed (a case slip, or the zeros and prefix around its number)."""

from __future__ import annotations

import email.utils
import re

import duckdb

from transforms import db
from transforms.errors import InputError
from transforms.ingest.incident.values import HIDDEN_CHARACTER


class NearId(InputError):
    """An id no one has, but known ids differ from it only in case, or in the zeros and prefix
    around its number: the message names them."""


class SharedEmail(InputError):
    """An e-mail address several customers have (a business's billing address): each is
    looked up by its id."""

    def __init__(self, email: str, customer_ids: tuple[str, ...]):
        self.email, self.customer_ids = email, customer_ids
        super().__init__(
            f"e-mail {email}: {len(customer_ids)} customers have it, each affected: look one up "
            f"by its id: {', '.join(customer_ids)}"
        )


UNWRAPPED = "\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb()[]<>{},;:.!?# "
"""The quotes, brackets and punctuation a paste carries around an id (a spreadsheet's or a JSON
file's cell, `"cus_0000012",`; the end of a sentence in a ticket, `(txn_1).`; its `payment
#txn_1`), taken off only when the text as given is no customer's or payment's id."""


# An address as a paste holds it: what the brackets, quotes, blanks and `mailto:` around it end.
# A domain holds no `?`: a link's `?subject=...` ends it.
ADDRESS = re.compile(r"[^\s<>()\[\]{},;:\"'`]+@[^\s<>()\[\]{},;:\"'`?]+")
# The address a mail client puts in angle brackets (`Name <address>`): the sender's, whatever
# the name holds (an address of its own, in another case or not).
ANGLED = re.compile(r"<(?:mailto:)?([^\s<>]+@[^\s<>?]+)(?:\?[^<>]*)?>", re.IGNORECASE)


def cleaned(con: duckdb.DuckDBPyConnection, text: str | None) -> str | None:
    """An id as pasted, without blanks around it or a character no one sees anywhere in it (a
    zero-width space a web page or a chat carried along); None for nothing."""
    if not text:
        return None
    ((cleaned,),) = db.run(con, "support_pasted", pasted=text, hidden=HIDDEN_CHARACTER).fetchall()
    return cleaned or None


def known(con: duckdb.DuckDBPyConnection, customer_id: str) -> bool:
    return db.run(con, "support_customer_known", customer_id=customer_id).fetchall()[0][0]


def _address(pasted: str) -> str:
    """The e-mail address in what was pasted from a mail client: `David Wilson
    <david@example.net>` (the address in angle brackets, whatever the name holds), `Wilson,
    David <...>`, `David Wilson [mailto:...]`, `mailto:...`, `... (David Wilson)`, an address
    and a trailing comma, or the sentence it was copied from (no address ends with a period);
    a paste of several addresses is refused, never read as one of them."""
    found = _distinct(ANGLED.findall(pasted)) or _distinct(ADDRESS.findall(pasted))
    if len(found) > 1:
        raise InputError(
            f"'{pasted.strip()}' holds {len(found)} e-mail addresses: look them up one at a "
            f"time: {', '.join(found)}"
        )
    if found:
        return found[0]
    text = pasted.removeprefix("mailto:").rstrip(",;. ").removeprefix("(").removesuffix(")")
    _, address = email.utils.parseaddr(text)
    return address if "@" in address else text


def _distinct(addresses: list[str]) -> list[str]:
    """The addresses found, each once whatever its case, without a sentence's period."""
    return list({a.rstrip(".").casefold(): a.rstrip(".") for a in addresses}.values())


def by_email(con: duckdb.DuckDBPyConnection, pasted: str) -> str:
    address = _address(pasted)
    found = [row[0] for row in db.run(con, "support_customer_by_email", email=address).fetchall()]
    if not found:
        near = [row[0] for row in db.run(con, "support_email_near", email=address).fetchall()]
        raise InputError(
            f"e-mail {address}: no customer with this address in any incident of the warehouse "
            "(not affected by a recorded outage, or the address is mistyped)"
            + (f"; did you mean {' or '.join(near)}?" if near else "")
        )
    if len(found) > 1:
        raise SharedEmail(address, tuple(found))
    return found[0]


def raise_near_id(con: duckdb.DuckDBPyConnection, kind: str, given: str) -> None:
    """`NearId`, "no customer X; did you mean x?", when known ids of `kind` ('customer', 'txn')
    differ from X only in case, or in the zeros and prefix around its number
    (`support_near_ids`)."""
    known = [row[0] for row in db.run(con, "support_near_ids", kind=kind, given=given).fetchall()]
    if not known:
        return
    noun = "customer" if kind == "customer" else "transaction"
    only_case = all(k.casefold() == given.casefold() for k in known)
    why = "ids are case-sensitive" if only_case else "ids are matched exactly, zeros and all"
    raise NearId(f"no {noun} {given}; did you mean {' or '.join(known)}? ({why})")
