"""A framed block of a log file's lines (`FRAMED_SCHEMA`): the framing's kernel (`line_bounds`),
the lines that cannot be text (`problems`: longer than `MAX_LINE_BYTES`, or not UTF-8, each
kept as an escaped preview) and the batch of numbered lines (`batch`). `framing.Framer` cuts a
file into such blocks; the envelopes of many records (`unnesting`) give their records so too.
"""

from __future__ import annotations

import codecs

import numpy as np
import pyarrow as pa

MAX_LINE_BYTES = 1024 * 1024
QUARANTINE_PREVIEW_CHARS = 4096
LF, CR = 10, 13

FRAMED_SCHEMA = pa.schema(
    [
        ("file_id", pa.int32()),
        ("line", pa.int64()),
        ("raw", pa.large_string()),
        ("problem", pa.string()),
        ("preview", pa.string()),
        # An envelope's fields (JSON) and the lines a record was joined from: set when an
        # envelope is unwrapped (`log_envelope_*`), NULL as framed.
        ("envelope", pa.string()),
        ("envelope_lines", pa.int64()),
        # Where a record is inside its envelope, for a quarantine reason (an OTLP line holds
        # many records, a CloudWatch file many objects): NULL when the key's line says it all.
        ("position", pa.string()),
    ]
)


def line_bounds(raw: np.ndarray, skip: int) -> tuple[np.ndarray, ...]:
    """The framing's kernel, over bytes that end with an LF, the first line starting at
    `skip`: each line's start, its LF, whether a CR stands before that LF, and its size
    without them."""
    ends = np.flatnonzero(raw == LF)  # the LF of each line
    starts = np.empty_like(ends)
    starts[0], starts[1:] = skip, ends[:-1] + 1
    crlf = (ends > starts) & (raw[ends - 1] == CR)
    return starts, ends, crlf, ends - starts - crlf


def batch(file_id: int, numbers, text, reasons, previews) -> pa.RecordBatch:
    """Numbered lines of a file as a framed block; `reasons` and `previews` (None: none) of
    the lines that cannot be text."""
    rows = len(numbers)
    return pa.record_batch(
        [
            pa.array(np.full(rows, file_id, np.int32)),
            pa.array(numbers, pa.int64()),
            text,
            pa.array(reasons, pa.string()) if reasons else pa.nulls(rows, pa.string()),
            pa.array(previews, pa.string()) if previews else pa.nulls(rows, pa.string()),
            pa.nulls(rows, pa.string()),
            pa.nulls(rows, pa.int64()),
            pa.nulls(rows, pa.string()),
        ],
        schema=FRAMED_SCHEMA,
    )


def problems(
    data: bytes, starts: np.ndarray, ends: np.ndarray, sizes: np.ndarray
) -> dict[int, tuple[str, str]]:
    """Lines that cannot be text: too long, or not UTF-8 (index -> reason, preview)."""
    found: dict[int, tuple[str, str]] = {}
    view = memoryview(data)
    for i in np.flatnonzero(sizes > MAX_LINE_BYTES).tolist():
        head = bytes(view[starts[i] : starts[i] + min(sizes[i], QUARANTINE_PREVIEW_CHARS)])
        found[i] = (
            f"line is {sizes[i]} bytes, longer than the 1 MiB limit",
            head.decode("utf-8", "backslashreplace"),
        )
    position = int(starts[0])
    end = int(ends[-1]) + 1
    while position < end:
        try:
            codecs.utf_8_decode(view[position:end], "strict", True)
            break
        except UnicodeDecodeError as error:
            bad = position + error.start
            i = int(np.searchsorted(ends, bad))
            if i not in found:
                line = bytes(view[starts[i] : starts[i] + sizes[i]])
                found[i] = (
                    f"invalid UTF-8 at byte {bad - starts[i] + 1} of the line",
                    line.decode("utf-8", "backslashreplace"),
                )
            position = int(ends[i]) + 1
    return found
