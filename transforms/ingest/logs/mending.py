"""Mending CRI lines cut inside a character (`Mender`), for the framing (`framing.Framer.cri`):
a `P` line's last bytes that begin a character whose other bytes start its stream's next line
are moved onto that line, so both parts are UTF-8; a CR that ends a `P` line is kept in its text
(`partial_crs_kept`)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

import numpy as np

# A CRI line's prefix, `<time> <stream> <P|F> `, read before the line is known to be UTF-8.
CRI_PREFIX = re.compile(rb"[^ \n]+ (stdout|stderr) ([PF]) ")


@dataclass
class Mender:
    """Mends CRI lines cut inside a character: the runtime splits a long line after a number
    of bytes (containerd: 16 KiB), wherever that falls, so a `P` line may end with the first
    bytes of a character whose other bytes start its stream's next line. Those first bytes are
    moved onto that line: both are then UTF-8 (each checked as any line), and the record they
    join into is the service's. Bytes that are not such a cut stay where they are, quarantined
    as invalid UTF-8 as before; so do those whose stream has no next line in the block after
    theirs, nor in the file (`write_back`)."""

    cut: dict[bytes, bytes] = field(default_factory=dict)  # stream -> a character's first bytes
    # stream -> the block (numbered by `mend`) its cut's line is in, and where in that block
    # (mended) the bytes were taken from: the end of the line's text
    taken: dict[bytes, tuple[int, int]] = field(default_factory=dict)
    blocks: int = 0

    def mend(self, data: bytes, end: int) -> tuple[bytes, int]:
        """`data` with the whole lines of `data[:end]` mended, and the new `end`."""
        self.blocks += 1
        if not self.cut and _is_utf8(data, end):
            return data, end
        lines = data[:end].split(b"\n")[:-1]
        mended, size = [], 0
        for line in lines:
            mended.append(self._line(line, size))
            size += len(mended[-1]) + 1
        head = b"".join(line + b"\n" for line in mended)
        return head + data[end:], len(head)

    def holds(self) -> bool:
        """Whether bytes cut from a line of the last block mended wait for their stream."""
        return any(block == self.blocks for block, _ in self.taken.values())

    def write_back(self, data: bytes, end: int, block: int) -> tuple[bytes, int]:
        """`data` (block number `block`, mended) with the bytes still cut from its lines
        written back where they were taken (its `end` moved on by as many)."""
        back = sorted(
            ((at, stream) for stream, (taken, at) in self.taken.items() if taken == block),
            reverse=True,
        )
        for at, stream in back:
            del self.taken[stream]
            cut = self.cut.pop(stream)
            data, end = data[:at] + cut + data[at:], end + len(cut)
        return data, end

    def _line(self, line: bytes, at: int) -> bytes:
        prefix = CRI_PREFIX.match(line)
        if prefix is None:
            return line
        stream, tag = prefix[1], prefix[2]
        head, message = line[: prefix.end()], line[prefix.end() :]
        message = self.cut.pop(stream, b"") + message
        self.taken.pop(stream, None)
        if tag == b"P" and (cut := _cut_character(message)) is not None:
            message, self.cut[stream] = message[:cut], message[cut:]
            self.taken[stream] = (self.blocks, at + len(head) + cut)
        return head + message


def _cut_character(text: bytes) -> int | None:
    """Where the character that `text` ends inside of starts (a lead byte followed by fewer
    continuation bytes than it announces), or None when `text` ends with a whole one."""
    for back in range(1, min(3, len(text)) + 1):
        byte = text[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back
            continue
        needs = 2 if 0xC2 <= byte <= 0xDF else 3 if 0xE0 <= byte <= 0xEF else 4
        if byte < 0xC2 or byte > 0xF4 or back >= needs:
            return None
        return len(text) - back
    return None


def _is_utf8(data: bytes, end: int) -> bool:
    try:
        codecs.utf_8_decode(memoryview(data)[:end], "strict", True)
    except UnicodeDecodeError:
        return False
    return True


def partial_crs_kept(
    data: bytes, starts: np.ndarray, crlf: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`crlf` and `sizes` with the CR before the LF of each CRI `P` line kept in its text: the
    runtime wrote the LF, and the CR is the service's, cut off with the record's first bytes
    (the runtime cuts after a number of bytes), so the joined record keeps it."""
    crlf, sizes = crlf.copy(), sizes.copy()
    for i in np.flatnonzero(crlf).tolist():
        if (prefix := CRI_PREFIX.match(data, int(starts[i]))) and prefix[2] == b"P":
            crlf[i], sizes[i] = False, sizes[i] + 1
    return crlf, sizes
