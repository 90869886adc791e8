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

# journalctl -o export's binary field: its name alone on a line (journald's field names are
# upper-case letters, digits and underscores), then its length, 8 bytes little-endian, and its
# bytes (with `capable` text among them, never zero padding)
FIELD_NAME = re.compile(rb"_{0,2}[A-Z0-9][A-Z0-9_]*\r?")
LENGTH_BYTES = 8
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
            field = _field_name(data, starts, sizes, i) if len(line) >= LENGTH_BYTES else None
            if field is not None:
                return InputError(
                    f"{name}: line {first + i} is a binary field of journalctl -o export (its "
                    f"name, {field}, on line {first + i - 1}, then its length in 8 bytes and its "
                    "bytes), which no setting reads: export with journalctl -o json and set "
                    'payload = "MESSAGE" (-o export writes a field so when it holds a control '
                    "character, such as the CR of a service writing CRLF), then run again"
                )
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


def _field_name(data: bytes, starts: np.ndarray, sizes: np.ndarray, i: int) -> str | None:
    """The journald field whose binary value line `i` of the block starts with: its name alone
    on the line before it, and a length (neither 0 nor beyond 32 bits) in its first 8 bytes.
    None for any other line."""
    if i == 0:
        return None
    before = data[starts[i - 1] : starts[i - 1] + sizes[i - 1]]
    length = int.from_bytes(data[starts[i] : starts[i] + LENGTH_BYTES], "little")
    if not FIELD_NAME.fullmatch(before) or not 0 < length < 1 << 32:
        return None
    return before.rstrip(b"\r").decode("ascii")
