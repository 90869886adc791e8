"""A record a rotation cut in two: its start ends one file, its rest opens the next. A
copytruncate rotation copies a file while its writer is mid-line (the older file ends without a
line feed, the new one opens with the line's rest); the kubelet and Docker rotate between the
partial lines of a record over the runtime's buffer (the rest opens its stream in the new file).
Neither part is a record: each is quarantined, and a failure in either was one item under the
quarantine limit, never credited. `cut` stops the run instead, naming the file, the line and
how to join the two. (A CRI or Docker start still partial when its file ends is named by
`lost.unfinished`.)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import dotted, lost

# The reasons of a line a cut leaves: its record not whole, or cut inside a character (not a
# line without the envelope's prefix: another format's, named by `misread`)
CUT_REASONS = (lost.NOT_JSON, lost.NO_PAYLOAD, "not a logfmt line", "invalid UTF-8")
# A line's stream, matched at its start: a CRI line's second field; a Docker entry's `stream`,
# right after its `log` (as Docker writes them)
STREAMS = {
    "cri": re.compile(rb"[^ \n]+ (stdout|stderr) [PF] "),
    "docker": re.compile(
        rb'\{\s*"log"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*"stream"\s*:\s*"(stdout|stderr)"'
    ),
}
# How far into a file each stream's first line is looked for: a runtime writes a record's rest
# right after the rotation, a few of the other stream's lines at most between
OPENING_LINES = 4096
JOIN_HINT = (
    "join the two, in order, into one file (cat app.log.1 app.log > app.joined.log; zcat for a "
    ".gz) and list it in sources.logs instead of them"
)


@dataclass
class Ends:
    """Where a file's records may have been cut by a rotation: the lines that open it (its
    first; with streams, each stream's first) and its last line when no line feed ends it."""

    openings: set[int] = field(default_factory=lambda: {1})
    unterminated: int | None = None

    def open(
        self, data: bytes, starts: np.ndarray, sizes: np.ndarray, before: int, streams: re.Pattern
    ) -> None:
        """Notes the first line of each stream among the file's first framed lines (`data`,
        numbered from `before` + 1)."""
        first: dict[bytes, int] = {}
        lines = zip(starts[:OPENING_LINES].tolist(), sizes[:OPENING_LINES].tolist(), strict=True)
        for i, (start, size) in enumerate(lines):
            if (found := streams.match(data, start, start + size)) is not None:
                first.setdefault(found[1], before + 1 + i)
            if len(first) == 2:
                break
        self.openings = set(first.values())


def cut(
    staged: pa.RecordBatch,
    ends: dict[int, Ends],
    names: dict[int, str],
    fmt: LogFormat,
    failure_events: tuple[str, ...],
) -> InputError | None:
    """The error that stops a run on a quarantined part of a record a rotation cut that holds a
    failure event: the last line of a file when no line feed ends it, or (JSON records) a text
    that is no record's start opening the file or its stream. `ends`: file_id -> its `Ends`;
    `names`: file_id -> name."""
    reasons = staged.column("quarantine_reason")
    found = functools.reduce(
        pc.or_, (pc.fill_null(pc.starts_with(reasons, r), False) for r in CUT_REASONS)
    )
    for row in staged.filter(found).to_pylist():
        end = ends.get(row["file_id"])
        raw, line, reason = row["raw"] or "", row["line"], row["quarantine_reason"]
        last = end is not None and line == end.unterminated
        # a rest is no record's start, and no whole line of a format a hint names
        rest = end is not None and line in end.openings and fmt.kind == "jsonl"
        rest = rest and not raw.lstrip().startswith("{") and " looks like " not in reason
        if not (last or rest):
            continue
        if not (events := _as_event(raw, fmt, failure_events)):
            continue
        holding = f"a failure event ({', '.join(events)})"
        if last:
            return InputError(
                f"{names[row['file_id']]}: line {line}, its last, has no line feed at its end "
                f"and holds {holding} in a record cut short ({reason}): {lost.QUARANTINED} "
                "The file was cut in the middle of the line: rotated mid-line (a copytruncate "
                f"rotation: the rest opens the next file; {JOIN_HINT}), or still being written "
                "(run again once it is complete); if its writer was killed mid-line, the rest "
                "was never written: add the payment by hand, end the file with a line feed "
                "(the line is then quarantined, named by the gate's warning), then run again"
            )
        return InputError(
            f"{names[row['file_id']]}: line {line} opens the file (or its stream) with the "
            f"rest of a record holding {holding} ({reason}): {lost.QUARANTINED} The file "
            "was rotated in the middle of the record, whose start ends the file rotated "
            f"before it (app.log.1 before app.log): {JOIN_HINT}, then run again"
        )
    return None


def _as_event(text: str, fmt: LogFormat, failure_events: tuple[str, ...]) -> list[str]:
    """The failure events a part of a record gives as its event: a JSON member or a logfmt pair
    of the event's key (its quotes escaped or not: a Docker `log`), not the service's text
    naming one (`"message": "payment.failed t1"`); any the text names (`lost.held`) for a
    regex record or an event the envelope holds."""
    named = lost.held(text, failure_events)
    if fmt.kind == "regex" or fmt.event.startswith("envelope."):
        return named
    # the key each way of reading the path ends in (`event.action` written whole, or `action`)
    key = "(?:" + "|".join(sorted({re.escape(k[-1]) for k in dotted.splits(fmt.event)})) + ")"
    member = r'\\*"{key}\\*"\s*:\s*\\*"{event}\\*"'
    if fmt.kind == "logfmt":
        member = r'(?:^|\s){key}="?{event}(?:[\s"]|$)'
    return [
        event for event in named if re.search(member.format(key=key, event=re.escape(event)), text)
    ]
