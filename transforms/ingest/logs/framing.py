"""Framing: a log file's bytes (gzip recognised by its magic bytes) cut into numbered lines, with
numpy over decompressed blocks.

A line's text is its bytes without its line end (LF or CRLF) and, on a file's first line,
without a UTF-8 byte-order mark. A line that is not UTF-8 or is longer than `MAX_LINE_BYTES`
keeps an escaped preview and is quarantined, never dropped.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from isal import isal_zlib

from transforms.errors import CreditsError, InputError, StorageError
from transforms.ingest.logs.screen import Screen

MAX_LINE_BYTES = 1024 * 1024
QUARANTINE_PREVIEW_CHARS = 4096
BLOCK_BYTES = 4 << 20  # decompressed bytes framed and checked at once: bounds a file's memory
READ_BYTES = 1 << 20  # compressed bytes read at once
BOM = b"\xef\xbb\xbf"
BOOKENDS = 8  # shape-checked lines staged at each end of a file for its time span
GZIP_MAGIC = b"\x1f\x8b"
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


class _GzipError(Exception):
    """The gzip stream ended early or is corrupt."""


class _NotGzip(Exception):
    """A file named `.gz` whose bytes are neither gzip nor text, or a file of any name that
    holds another compressor's data or UTF-16 text."""


class _Unreadable(Exception):
    """A file the plan listed that cannot be opened now: removed since, or not readable."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or str(error))
        self.errno = error.errno


STREAM_ERRORS = (_GzipError, _NotGzip, _Unreadable)  # what `Source.pieces` raises


def stream_error(name: str, error: Exception, after: str) -> CreditsError:
    """The error that stops a run on a broken file (`STREAM_ERRORS`), read up to `after`."""
    if isinstance(error, _Unreadable) and error.errno == errno.ENOENT:
        return InputError(
            f"{name}: removed after the run listed the log files: the logs changed under the "
            "run; run again once they are complete"
        )
    if isinstance(error, _Unreadable):  # the machine refused: exit 4, as a permission is
        return StorageError(
            f"{name}: cannot be read ({error}); make it readable by this user, then run again"
        )
    if isinstance(error, _NotGzip) and name.endswith(".gz") and GZIPPED not in str(error):
        return InputError(
            f"{name}: named .gz but it is not gzip ({error}); fetch the file again, "
            "compress it with gzip, or leave it out of sources.logs"
        )
    if isinstance(error, _NotGzip):  # read as text, it would be a few junk "lines"
        return InputError(
            f"{name}: holds {error}, which is not read as text; convert it (logs are UTF-8 "
            "text, plain or gzip), or leave it out of sources.logs"
        )
    return InputError(
        f"{name}: the gzip stream is truncated or corrupt after {after} ({error}); fetch the "
        "file again or leave it out of sources.logs"
    )


# Other compressors' first bytes, and UTF-16's byte-order marks: what a file holds that is
# never text to read line by line, whatever its name (none of them starts a UTF-8 text line).
_MAGICS = {
    b"\xfd7zXZ\x00": "xz data",
    b"\x28\xb5\x2f\xfd": "zstd data",
    b"PK\x03\x04": "zip data",
    b"\xff\xfe": "UTF-16 text",
    b"\xfe\xff": "UTF-16 text",
}
# bzip2's: "BZh", the block size, then a block's (pi) or the end's (sqrt pi) magic.
BZIP2 = re.compile(rb"BZh[1-9](\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")


GZIPPED = "inside gzip"
TAR_MAGIC = (257, b"ustar")  # a tar header's magic, at its offset


def _not_text(first: bytes) -> str | None:
    """What a file's (or a gzip stream's) first bytes say it holds, when that is not text to
    read: another compressor's data, a tar archive, UTF-16 text."""
    if BZIP2.match(first):
        return "bzip2 data"
    if first[TAR_MAGIC[0] : TAR_MAGIC[0] + len(TAR_MAGIC[1])] == TAR_MAGIC[1]:
        return "a tar archive"
    return next((kind for magic, kind in _MAGICS.items() if first.startswith(magic)), None)


class Source:
    """The decompressed bytes of one log file in pieces, hashing the file's own bytes on the way.

    Gzip is recognised by its magic bytes, not the name; members are read one after the other
    and zero padding after a member is skipped, as `gzip` does.
    """

    def __init__(self, path: Path):
        self.path = path
        self._hash = hashlib.sha256()
        self._size = 0
        self._to_the_end = False  # the pieces were read to the file's end

    def pieces(self) -> Iterator[bytes]:
        yield from self._pieces()
        self._to_the_end = True

    def _pieces(self) -> Iterator[bytes]:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 (closed below)
        except OSError as error:
            raise _Unreadable(error) from None
        with handle:
            first = handle.read(READ_BYTES)
            self._count(first)
            if first.startswith(GZIP_MAGIC):
                inflated = self._inflate(first, handle)
                head = next(inflated, b"")
                if (kind := _not_text(head)) is not None:  # a .tar.gz, bzip2 gzipped again
                    raise _NotGzip(f"{kind} {GZIPPED}")
                if head:
                    yield head
                yield from inflated
                return
            # Read as text it would be a few or hundreds of junk "lines", caught only by the
            # quarantine limit, if at all. (A plain text file named .gz is read as text.)
            if (kind := _not_text(first)) is not None:
                raise _NotGzip(kind)
            if self.path.name.endswith(".gz") and _binary(first):
                raise _NotGzip("binary data, not gzip's 1f 8b")
            data = first
            while data:
                yield data
                data = handle.read(BLOCK_BYTES)
                self._count(data)

    def _inflate(self, first: bytes, handle) -> Iterator[bytes]:
        inflater = isal_zlib.decompressobj(wbits=31)
        data = first
        while data:
            while data:
                if inflater.eof:
                    data = data.lstrip(b"\x00")
                    if not data:
                        break
                    inflater = isal_zlib.decompressobj(wbits=31)
                try:
                    out = inflater.decompress(data, BLOCK_BYTES)
                except isal_zlib.error as error:
                    raise _GzipError(str(error)) from None
                if out:
                    yield out
                data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            data = handle.read(READ_BYTES)
            self._count(data)
        try:
            tail = inflater.flush()
        except isal_zlib.error as error:
            raise _GzipError(str(error)) from None
        if tail:
            yield tail
        if not inflater.eof:
            raise _GzipError("the stream ends before its end marker")

    def _count(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)

    def finish(self) -> tuple[str, int]:
        """The sha256 and size of the bytes the run read: of the whole file as it was when read
        to its end (lines appended since, by a writer still at it, are not this run's: hashed,
        they would be in the manifest's proof and in no bucket), else (a stream that broke)
        with what no reader consumed hashed too."""
        if not self._to_the_end:
            with open(self.path, "rb") as handle:
                handle.seek(self._size)
                while data := handle.read(READ_BYTES):
                    self._count(data)
        return self._hash.hexdigest(), self._size


def _binary(data: bytes) -> bool:
    """Whether the start of a file is not text: a NUL byte, or bytes that are not UTF-8."""
    head = data[:4096]
    if b"\x00" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


@dataclass
class _LongLine:
    """A line already longer than the limit, skipped to its end: only a preview is kept."""

    head: bytes
    size: int
    last: int = -1  # its last byte so far (a CR before the LF is not part of the line)


@dataclass
class Framer:
    """Cuts a file's decompressed pieces into blocks of whole lines, numbered from 1."""

    file_id: int
    name: str
    source: Source
    screen: Screen | None = None  # None: every line is checked in full
    lines: int = 0
    error: CreditsError | None = None  # set when the stream broke: the blocks stop there
    split: bool = False  # a record split over lines was seen: every later line is checked
    _bom_pending: bool = field(default=True, repr=False)
    _runs: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)
    # The first and the last lines only shape-checked so far (number, text): `bookends`.
    _first_ends: list[tuple[int, str]] = field(default_factory=list, repr=False)
    _last_ends: list[tuple[int, str]] = field(default_factory=list, repr=False)

    @property
    def envelope_lines(self) -> int:
        """The lines read (with an envelope, its records may be fewer: joined partial lines)."""
        return self.lines

    def unchecked_runs(self) -> pa.Table:
        """The lines that passed the shape check unparsed, as runs of consecutive lines
        (first_line, last_line)."""
        firsts = np.concatenate([r[0] for r in self._runs]) if self._runs else np.zeros(0, int)
        lasts = np.concatenate([r[1] for r in self._runs]) if self._runs else np.zeros(0, int)
        return pa.table(
            {
                "file_id": pa.array(np.full(len(firsts), self.file_id, np.int32)),
                "first_line": pa.array(firsts, pa.int64()),
                "last_line": pa.array(lasts, pa.int64()),
            }
        )

    def blocks(self) -> Iterator[pa.RecordBatch]:
        carry = b""
        long: _LongLine | None = None
        try:
            for piece in self.source.pieces():
                if long is not None:
                    cut = piece.find(b"\n")
                    part = piece if cut < 0 else piece[:cut]
                    long.head += part[: QUARANTINE_PREVIEW_CHARS - len(long.head)]
                    long.size += len(part)
                    long.last = part[-1] if part else long.last
                    if cut < 0:
                        continue
                    yield self._long(long)
                    long, piece = None, piece[cut + 1 :]
                data = carry + piece if carry else piece
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    if len(carry) > MAX_LINE_BYTES + len(BOM) + 1:
                        skip = self._skip(carry)
                        long = _LongLine(
                            carry[skip : skip + QUARANTINE_PREVIEW_CHARS],
                            len(carry) - skip,
                            carry[-1],
                        )
                        carry = b""
                    continue
                carry = data[cut + 1 :]
                yield self._frame(data, cut + 1)
        except STREAM_ERRORS as error:
            self.error = stream_error(self.name, error, f"line {self.lines}")
            return
        if long is not None:
            yield self._long(long)
        elif carry:
            last = carry + b"\n"
            yield self._frame(last, len(last))

    def _skip(self, data: bytes) -> int:
        """Bytes to skip at the start of `data`: a byte-order mark before the file's first line."""
        skip = len(BOM) if self._bom_pending and data.startswith(BOM) else 0
        self._bom_pending = False
        return skip

    def _long(self, long: _LongLine) -> pa.RecordBatch:
        size = long.size - (long.last == CR)
        self.lines += 1
        return _framed(
            self.file_id,
            np.array([self.lines]),
            pa.nulls(1, pa.large_string()),
            [f"line is {size} bytes, longer than the 1 MiB limit"],
            [long.head.decode("utf-8", "backslashreplace")],
        )

    def _frame(self, data: bytes, end: int) -> pa.RecordBatch:
        """Frames the whole lines in `data[:end]` (it ends with an LF)."""
        skip = self._skip(data)
        raw = np.frombuffer(data, np.uint8, count=end)
        starts, ends, crlf, sizes = line_bounds(raw, skip)
        problems = self._problems(data, starts, ends, sizes)
        if self.screen is not None:
            return self._screened(data, end, starts, ends, sizes, problems)
        if crlf.any():
            # Drop each CR before an LF, so every line's text ends with exactly one LF.
            dropped = np.cumsum(crlf)
            buffer = np.delete(raw, ends[crlf] - 1)
            offsets = np.concatenate([[skip], ends + 1 - dropped])
        else:
            buffer = raw
            offsets = np.concatenate([[skip], ends + 1])
        numbers = self.lines + 1 + np.arange(len(ends))
        self.lines += len(ends)
        validity = None
        if problems:
            valid = np.ones(len(ends), bool)
            valid[list(problems)] = False
            validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        text = pa.LargeStringArray.from_buffers(
            len(ends),
            pa.py_buffer(offsets.astype(np.int64)),
            pa.py_buffer(buffer),
            validity,
            len(problems),
        )
        if not problems:
            return _framed(self.file_id, numbers, text, None, None)
        reasons = [problems[i][0] if i in problems else None for i in range(len(ends))]
        previews = [problems[i][1] if i in problems else None for i in range(len(ends))]
        return _framed(self.file_id, numbers, text, reasons, previews)

    def _screened(
        self,
        data: bytes,
        end: int,
        starts: np.ndarray,
        ends: np.ndarray,
        sizes: np.ndarray,
        problems: dict[int, tuple[str, str]],
    ) -> pa.RecordBatch:
        """Frames only the lines to check in full (failure-capable ones, and those with a
        problem: framing or shape); the others are recorded as runs of unchecked lines."""
        assert self.screen is not None
        keep = self.screen.capable(data, ends, end)
        prefix = self.screen.prefix(data, starts, sizes)
        if not self.split and (split := self.screen.partial(data, ends, end, prefix)) is not None:
            self.split = True
            keep[split:] = True
        elif self.split:
            keep[:] = True
        if problems:
            keep[list(problems)] = True
        shaped = self.screen.shape(data, starts, sizes, np.flatnonzero(~keep), prefix)
        if shaped:
            problems.update(shaped)
            keep[list(shaped)] = True
        first = self.lines + 1
        self.lines += len(ends)
        self._note_runs(first, ~keep)
        self._note_ends(first, ~keep, data, starts, sizes)
        chosen = np.flatnonzero(keep)
        view = memoryview(data)
        texts = [
            None if i in problems else bytes(view[starts[i] : starts[i] + sizes[i]]) + b"\n"
            for i in chosen.tolist()
        ]
        reasons = [problems[i][0] if i in problems else None for i in chosen.tolist()]
        previews = [problems[i][1] if i in problems else None for i in chosen.tolist()]
        return _framed(
            self.file_id,
            first + chosen,
            pa.array(texts, pa.large_string()),
            reasons if problems else None,
            previews if problems else None,
        )

    def _note_ends(
        self, first: int, unchecked: np.ndarray, data: bytes, starts: np.ndarray, sizes: np.ndarray
    ) -> None:
        """Keeps the file's first `BOOKENDS` unchecked lines, and its last so far, from a block."""
        chosen = np.flatnonzero(unchecked)
        if not len(chosen):
            return

        def lines(picked: np.ndarray) -> list[tuple[int, str]]:
            view = memoryview(data)
            return [
                (first + i, bytes(view[starts[i] : starts[i] + sizes[i]]).decode("utf-8") + "\n")
                for i in picked.tolist()
            ]

        if len(self._first_ends) < BOOKENDS:
            self._first_ends += lines(chosen[: BOOKENDS - len(self._first_ends)])
        self._last_ends = (self._last_ends + lines(chosen[-BOOKENDS:]))[-BOOKENDS:]

    def bookends(self) -> pa.RecordBatch | None:
        """The file's first and last `BOOKENDS` lines that got the shape check only, framed, to
        be staged for their time alone (the file's span), never bucketed; None when every line
        was checked in full. Several at each end: a banner without a time may open a file."""
        ends = dict([*self._first_ends, *self._last_ends])  # a line once when it is both
        if not ends:
            return None
        return _framed(
            self.file_id,
            np.array(list(ends), np.int64),
            pa.array(list(ends.values()), pa.large_string()),
            None,
            None,
        )

    def _note_runs(self, first: int, unchecked: np.ndarray) -> None:
        """Records the runs of unchecked lines of a block whose first line is `first`."""
        if not unchecked.any():
            return
        edges = np.diff(np.concatenate([[0], unchecked.view(np.int8), [0]]))
        self._runs.append(
            (first + np.flatnonzero(edges == 1), first + np.flatnonzero(edges == -1) - 1)
        )

    @staticmethod
    def _problems(
        data: bytes, starts: np.ndarray, ends: np.ndarray, sizes: np.ndarray
    ) -> dict[int, tuple[str, str]]:
        """Lines that cannot be text: too long, or not UTF-8 (index -> reason, preview)."""
        problems: dict[int, tuple[str, str]] = {}
        view = memoryview(data)
        for i in np.flatnonzero(sizes > MAX_LINE_BYTES).tolist():
            head = bytes(view[starts[i] : starts[i] + min(sizes[i], QUARANTINE_PREVIEW_CHARS)])
            problems[i] = (
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
                if i not in problems:
                    line = bytes(view[starts[i] : starts[i] + sizes[i]])
                    problems[i] = (
                        f"invalid UTF-8 at byte {bad - starts[i] + 1} of the line",
                        line.decode("utf-8", "backslashreplace"),
                    )
                position = int(ends[i]) + 1
        return problems


def line_bounds(raw: np.ndarray, skip: int) -> tuple[np.ndarray, ...]:
    """The framing's kernel, over bytes that end with an LF, the first line starting at
    `skip`: each line's start, its LF, whether a CR stands before that LF, and its size
    without them."""
    ends = np.flatnonzero(raw == LF)  # the LF of each line
    starts = np.empty_like(ends)
    starts[0], starts[1:] = skip, ends[:-1] + 1
    crlf = (ends > starts) & (raw[ends - 1] == CR)
    return starts, ends, crlf, ends - starts - crlf


def _framed(file_id: int, numbers, text, reasons, previews) -> pa.RecordBatch:
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
