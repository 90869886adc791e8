"""A failure event written otherwise, as the line screen (`screen`) looks for it in the bytes.

An event in another case or with a format character inside (`Payment.Failed`, `pay` + U+200B +
`ment.failed`) is in no line's bytes as written. Folded, it is: every ASCII byte with its case
bit (0x20) set (a letter in lower case; a few marks fold onto others, `@` onto a backtick, which
only checks a line more) and every byte beyond ASCII dropped (U+200B is E2 80 8B, U+FEFF EF BB
BF). A line whose bytes so folded hold an event so folded is failure-capable: it is checked in
full, and the gate rejects the run when its event is one written otherwise (`stg_logs`'
`event_written_otherwise`). A blank or a control at an event's ends leaves it in the bytes as
written; inside, it makes another name. An event beyond ASCII is looked for as written only.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

LF = ord("\n")
CASE_BIT = 0x20
# The fold as a table: the LF kept, so that folded bytes still end their lines where they did.
CASE = bytes(b | CASE_BIT if b < 0x80 and b != LF else b for b in range(256))
BEYOND_ASCII = bytes(range(0x80, 0x100))

Needles = tuple[tuple[bytes, bytes], ...]
"""Each failure event of ASCII: its name as written, and folded."""


def needles(failure_events: Iterable[str]) -> Needles:
    """The failure events of printable ASCII, as written and folded."""
    return tuple(
        (event.encode(), event.encode().translate(CASE))
        for event in sorted(failure_events)
        if event.isascii() and event.isprintable()
    )


def lines_holding(data: bytes, stop: int, ends: np.ndarray, events: Needles) -> np.ndarray:
    """The indices of the lines ending (LF) at `ends` in `data[:stop]` whose bytes, folded,
    hold a failure event folded: as written or otherwise (the screen looks for these events
    so only, not also as written)."""
    if not events:
        return np.zeros(0, np.int64)
    head = data if stop == len(data) else data[:stop]
    if head.isascii():
        # Nothing to drop: the bit set in place by numpy (a fifth of `bytes.translate`'s
        # time), every byte where it was; the LF too is folded (to `*`), so lines are read
        # by `head`'s line feeds (a needle holding `*` may match across one: a line more).
        folded = bytearray(head)
        view = np.frombuffer(folded, np.uint8)
        np.bitwise_or(view, CASE_BIT, out=view)
        lines = head
    else:
        folded = bytearray(head.translate(CASE, BEYOND_ASCII))
        lines = folded
    found: list[int] = []
    for _, needle in events:
        at = folded.find(needle)
        while at >= 0 and (end := lines.find(b"\n", at)) >= 0:
            found.append(at)
            at = folded.find(needle, end + 1)
    if not found:
        return np.zeros(0, np.int64)
    if lines is not head:  # bytes were dropped: the folded bytes' own line feeds
        ends = np.flatnonzero(np.frombuffer(folded, np.uint8) == LF)
    return np.searchsorted(ends, np.array(found, np.int64))


def holds(text: bytes, events: Needles) -> bool:
    """Whether one envelope's or record's bytes, folded, hold a failure event folded."""
    folded = text.translate(CASE, BEYOND_ASCII) if events else b""
    return any(needle in folded for _, needle in events)
