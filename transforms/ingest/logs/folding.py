"""A failure event written otherwise, as the line screen (`screen`) looks for it in the bytes.

An event in another case or with a hidden character inside (`Payment.Failed`, `pay` + U+200B +
`ment.failed`) is in no line's bytes as written. Folded, it is: ASCII letters in lower case,
and dropped every byte a hidden character or a blank is made of that no event's name of ASCII
holds (a control but the LF that ends a line, and every byte beyond ASCII: U+200B is E2 80 8B,
U+FEFF EF BB BF). A line whose bytes so folded hold an event so folded is failure-capable: it is
checked in full, and the gate rejects the run for it when its event is one written otherwise
(`stg_logs`' `event_written_otherwise`). Folding more than the event's definition (any byte
beyond ASCII) only checks a few more lines in full, never fewer. An event beyond ASCII is looked
for as written only.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FOLD = bytes.maketrans(bytes(range(ord("A"), ord("Z") + 1)), bytes(range(ord("a"), ord("z") + 1)))
DROP = bytes([*range(0x0A), *range(0x0B, 0x20), 0x7F, *range(0x80, 0x100)])
LF = ord("\n")

Needles = tuple[tuple[bytes, bytes], ...]
"""Each failure event of ASCII: its name as written, and folded."""


def needles(failure_events: Iterable[str]) -> Needles:
    """The failure events of printable ASCII, as written and folded."""
    return tuple(
        (event.encode(), event.encode().translate(FOLD, DROP))
        for event in sorted(failure_events)
        if event.isascii() and event.isprintable()
    )


def lines_holding(data: bytes, stop: int, events: Needles) -> np.ndarray:
    """The indices of the lines of `data[:stop]` (each ended by an LF) whose bytes hold a
    failure event only written otherwise: folded, they hold the event folded (line feeds are
    kept, so the n-th is still the n-th line's end)."""
    if not events:
        return np.zeros(0, np.int64)
    head = data if stop == len(data) else data[:stop]
    folded = head.translate(FOLD, DROP)
    found: list[int] = []
    for event, needle in events:
        # Each occurrence as written is one folded, in its line: when there are no more
        # folded, no line holds the event only written otherwise (the common case: two
        # passes in C, not a loop in Python over every failure line).
        if folded.count(needle) == head.count(event):
            continue
        at = folded.find(needle)
        while at >= 0 and (end := folded.find(b"\n", at)) >= 0:
            found.append(at)
            at = folded.find(needle, end + 1)
    if not found:
        return np.zeros(0, np.int64)
    ends = np.flatnonzero(np.frombuffer(folded, np.uint8) == LF)
    return np.searchsorted(ends, np.array(found, np.int64))


def holds(text: bytes, events: Needles) -> bool:
    """Whether one envelope's or record's bytes, folded, hold a failure event folded."""
    folded = text.translate(FOLD, DROP) if events else b""
    return any(needle in folded for _, needle in events)
