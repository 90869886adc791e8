"""Zero padding in a log file: NUL bytes a copytruncate rotation (the writer still at its old
offset) or a crash (the file extended, its data never written) leaves where text should be,
glued to the line written after it. It is no record's: quarantined with it, that line (a
failure among them) was one item under the quarantine limit, never credited. So is a
byte-order mark at a line's start, where files that each began with one were joined."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from transforms.errors import InputError
from transforms.ingest.logs.screen import BOM

PADDING = b"\x00" * 16  # the shortest run taken for padding after text (a few NULs are junk)
ZERO_RUN = re.compile(rb"\x00{16,}")


def skipped(data: bytes, raw: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The bytes before each line's text that are no record's, which the line's start and size
    then leave out (both are moved): NULs, then a byte-order mark (files that each began with
    one, concatenated: `cat a.log b.log`, gzip members). A line of NULs alone is left as it is
    (junk, quarantined)."""
    padding = np.zeros(len(starts), np.int64)
    for i in np.flatnonzero((sizes > 0) & ((raw[starts] == 0) | (raw[starts] == BOM[0]))).tolist():
        line = data[starts[i] : starts[i] + sizes[i]]
        text = line.lstrip(b"\x00")
        run = len(line) - len(text) + (len(BOM) if text.startswith(BOM) else 0)
        if text:
            padding[i] = run
    starts += padding
    sizes -= padding
    return padding


def squeezed(carry: bytes) -> bytes:
    """A line's bytes so far, each run of padding in it cut to `PADDING`: a copytruncate hole
    of gigabytes before a line is no line over the 1 MiB limit (quarantined whole)."""
    return ZERO_RUN.sub(PADDING, carry)


def after_cut_line(
    name: str,
    first: int,
    data: bytes,
    starts: np.ndarray,
    ends: np.ndarray,
    sizes: np.ndarray,
    capable: Callable[[bytes], bool],
) -> InputError | None:
    """The error of the first line (numbered from `first`) holding text, then NULs, then text
    that could be a failure's (`capable`): a line the crash cut, and the one written after it.
    Read as one line it is quarantined, the failure after the NULs with it, under the
    quarantine limit. NULs in a line whose text after them can hold no failure (binary junk)
    leave it to the quarantine, as any junk line."""
    end = int(ends[-1])
    at = data.find(b"\x00", int(starts[0]), end)
    while at >= 0:
        i = int(np.searchsorted(ends, at))
        line = data[starts[i] : starts[i] + sizes[i]]
        head, _, rest = line.partition(b"\x00")
        tail = rest.lstrip(b"\x00")
        if head.strip() and tail.strip() and capable(tail):
            return InputError(
                f"{name}: line {first + i} holds zero padding between a line cut short and text "
                "written after it (a crash: the file "
                "extended, its data never written): read as one line, it is quarantined, and a "
                "failure written after the padding would never be credited; put the text after "
                "the padding on a line of its own (tr -s '\\000' '\\n' < FILE > FIXED), then run "
                "again"
            )
        at = data.find(b"\x00", int(ends[i]) + 1, end)
    return None
