"""Framing: a log file's decompressed bytes (`source.Source`) cut into numbered lines, with numpy
over decompressed blocks.

A line's text is its bytes without its line end (LF or CRLF), without a UTF-8 byte-order mark
at its start and without zero padding before it (`padding`). A line that is not UTF-8 or is
longer than `framed.MAX_LINE_BYTES` keeps an escaped preview and is quarantined, never dropped
(`framed.problems`). CRI lines (`Framer.cri`): a character a `P` line cuts is moved whole onto
its stream's next line (`mending.Mender`), so both parts are UTF-8 and join into the record the
service wrote; bytes with no such line in the next block, or in the file, go back onto their
line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from transforms.errors import CreditsError, InputError
from transforms.ingest.logs import framed, lost, mending, padding, rotated, source
from transforms.ingest.logs.screen import BLANK, BOM, Screen
from transforms.ingest.logs.source import STREAM_ERRORS, Source, stream_error

# The end of a line examined with the quarantined line after it (`Framer._examined`): bzip2's
# header (10 bytes), its block's CRC (4) and a few more.
TAIL_BYTES = 64
MAX_BLOCK_LINES = 1 << 16  # lines framed at once, at most (`_by_lines`): short lines bounded
BOOKENDS = 8  # shape-checked lines staged at each end of a file for its time span
# How a record's line can start: a JSON object, or an envelope's time (CRI, fluentd)
RECORD_STARTS = frozenset({b"{", *(bytes([d]) for d in b"0123456789")})
CR_THEN_TEXT = re.compile(rb"\r[^\r\n]")  # a CR that ends no line read by LF: more text after it


@dataclass
class _LongLine:
    """A line already longer than the limit, skipped to its end: only a preview is kept."""

    head: bytes
    size: int
    last: int = -1  # its last byte so far (a CR before the LF is not part of the line)
    events: set[str] = field(default_factory=set)  # the failure events it names (`lost.named`)
    end: bytes = b""  # its last bytes so far: a name cut between two pieces is found


def _by_lines(data: bytes, end: int) -> Iterator[tuple[bytes, int]]:
    """The whole lines of `data[:end]` in parts of about `MAX_BLOCK_LINES` lines each (`data`
    itself when it holds no more): a block of 4 MiB of blank lines (a decompression bomb's) was
    4 M lines framed at once, 1.5 GB of the framing's arrays."""
    if data.count(b"\n", 0, end) <= MAX_BLOCK_LINES:
        yield data, end
        return
    ends = np.flatnonzero(np.frombuffer(data, np.uint8, count=end) == framed.LF)
    start = 0
    for stop in [*(ends[MAX_BLOCK_LINES - 1 :: MAX_BLOCK_LINES] + 1).tolist(), end]:
        if stop > start:
            yield data[start:stop], stop - start
        start = stop


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
    cri: bool = False  # CRI lines: a character a partial line cuts is mended (`mending.Mender`)
    failure_events: tuple[str, ...] = ()  # named past a long line's preview: `lost.beyond_preview`
    streams: re.Pattern[bytes] | None = None  # a line's stream (CRI, Docker: `rotated.STREAMS`)
    ends: rotated.Ends = field(default_factory=rotated.Ends)  # where a rotation may have cut
    # A line of the file so far ended in an LF alone: its line ends were not made CRLF, so a
    # CRI P line's CR is the record's in every later block too (`mending.partial_crs_kept`).
    _lf_alone: bool = field(default=False, repr=False)
    _bom_pending: bool = field(default=True, repr=False)
    _tail: bytes = field(default=b"", repr=False)  # the end of the last line framed
    _mender: mending.Mender = field(default_factory=mending.Mender, repr=False)
    # A CRI block held, mended, while bytes cut from one of its lines wait for their stream's
    # next line (data, end, its number): framed once the next block is mended, or at the end.
    _held: tuple[bytes, int, int] | None = field(default=None, repr=False)
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
                    long.head += part[: framed.QUARANTINE_PREVIEW_CHARS - len(long.head)]
                    long.size += len(part)
                    long.last = part[-1] if part else long.last
                    long.events |= lost.named(long.end + part, self.failure_events)
                    long.end = (long.end + part)[-TAIL_BYTES:]
                    if cut < 0:
                        continue
                    yield self._long(long)
                    if self.error is not None:  # compressed data appended (`_appended`)
                        return
                    long, piece = None, piece[cut + 1 :]
                data = carry + piece if carry else piece
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = padding.squeezed(data) if padding.PADDING in data else data
                    if len(carry) > framed.MAX_LINE_BYTES + len(BOM) + 1:
                        if self._ended_by_cr(carry):
                            return
                        yield from self._release()
                        skip = self._skip(carry)
                        long = _LongLine(
                            carry[skip : skip + framed.QUARANTINE_PREVIEW_CHARS],
                            len(carry) - skip,
                            carry[-1],
                            lost.named(carry, self.failure_events),
                            carry[-TAIL_BYTES:],
                        )
                        carry = b""
                    continue
                carry = data[cut + 1 :]
                for part, end in _by_lines(data, cut + 1):
                    yield from self._mended(part, end)
                    if self.error is not None:  # compressed data appended (`_appended`)
                        return
        except STREAM_ERRORS as error:
            yield from self._release()
            self.error = self.error or stream_error(self.name, error, f"line {self.lines}")
            return
        if long is not None:
            yield self._long(long)
        elif carry:
            if self._ended_by_cr(carry):
                return
            held = self._held[0].count(b"\n", 0, self._held[1]) if self._held else 0
            self.ends.unterminated = self.lines + held + 1
            last = carry + b"\n"
            yield from self._mended(last, len(last))
        yield from self._release()

    def _ended_by_cr(self, first: bytes) -> bool:
        """Whether the file's first line (`first`: the whole file, or over the limit with no LF)
        holds a CR followed by more text: lines ended by a CR alone, old Mac OS's. Read by LF,
        the file is one line, quarantined, and the failures in it are lost under the quarantine
        limit; `error` says so."""
        if self.lines > 0 or CR_THEN_TEXT.search(first) is None:
            return False
        self.error = self.error or InputError(
            f"{self.name}: its lines end in a CR alone (old Mac OS line ends: no LF in its first "
            f"{len(first)} bytes, a CR followed by more text): only LF and CRLF end a line, so "
            "it would be one line, quarantined with every failure in it; convert its line ends "
            "to LF (tr '\\r' '\\n'), or leave it out of sources.logs"
        )
        return True

    def _mended(self, data: bytes, end: int) -> Iterator[pa.RecordBatch]:
        """Frames the whole lines in `data[:end]`; CRI lines mended first (`mending.Mender`), a
        block held while bytes cut from its lines wait for their stream's next line."""
        if not self.cri:
            yield self._frame(data, end)
            return
        data, end = self._mender.mend(data, end)
        yield from self._release()
        if self._mender.holds():
            self._held = (data, end, self._mender.blocks)
        else:
            yield self._frame(data, end)

    def _release(self) -> Iterator[pa.RecordBatch]:
        """Frames the block held, if any, with the bytes still cut from its lines written back:
        their stream has no line in the next block, or the file ends."""
        if self._held is not None:
            data, end, block = self._held
            self._held = None
            yield self._frame(*self._mender.write_back(data, end, block))

    def _capable(self, text: bytes) -> bool:
        """Whether a line's `text` could hold a failure: failure-capable as the screen reads
        it; without one (every line checked in full), any record's start (a JSON object's, or
        an envelope's time)."""
        if self.screen is None:
            return text.lstrip(BLANK)[:1] in RECORD_STARTS
        line = text + b"\n"  # as the screen reads lines: each ends with its LF
        return bool(self.screen.capable(line, np.array([len(text)], np.int64), len(line))[0])

    def _skip(self, data: bytes) -> int:
        """Bytes to skip at the start of `data`: a byte-order mark before the file's first line."""
        skip = len(BOM) if self._bom_pending and data.startswith(BOM) else 0
        self._bom_pending = False
        return skip

    def _long(self, long: _LongLine) -> pa.RecordBatch:
        size = long.size - (long.last == framed.CR)
        self.error = (
            self.error
            or self._appended([(self._tail, self.lines), (long.head, self.lines + 1)])
            or lost.beyond_preview(self.name, self.lines + 1, size, long.head, long.events)
        )
        self._tail = b""
        self.lines += 1
        return framed.batch(
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
        starts, ends, crlf, sizes = framed.line_bounds(raw, skip)
        if self.streams is not None and self.lines == 0:
            self.ends.open(data, starts, sizes, self.lines, self.streams)
        every_crlf = bool(crlf.all())  # and none alone before: line ends made CRLF, no CR kept
        if self.cri and crlf.any() and (self._lf_alone or not every_crlf):
            crlf, sizes = mending.partial_crs_kept(data, starts, crlf, sizes)
        self._lf_alone = self._lf_alone or not every_crlf
        zeros = padding.skipped(data, raw, starts, sizes)
        problems = framed.problems(data, starts, ends, sizes)
        if problems and self.error is None:
            self.error = self._appended(self._examined(data, starts, ends, sizes, problems))
        for i in np.flatnonzero(sizes > framed.MAX_LINE_BYTES).tolist():
            line = data[starts[i] : starts[i] + sizes[i]]
            events = lost.named(line, self.failure_events)
            self.error = self.error or lost.beyond_preview(
                self.name,
                self.lines + 1 + i,
                int(sizes[i]),
                line[: framed.QUARANTINE_PREVIEW_CHARS],
                events,
            )
        if self.error is None:  # compressed data holds NULs too: named as such first
            self.error = padding.after_cut_line(
                self.name, self.lines + 1, data, starts, ends, sizes, self._capable
            )
        self._tail = data[max(starts[-1], ends[-1] - TAIL_BYTES) : ends[-1]]
        if self.screen is not None:
            return self._screened(data, end, starts, ends, sizes, problems)
        if crlf.any() or zeros.any():
            # Drop each CR before an LF, so every line's text ends with exactly one LF, and the
            # zero padding before a line.
            dropped = np.cumsum(crlf + zeros)
            padded = [np.arange(starts[i] - zeros[i], starts[i]) for i in np.flatnonzero(zeros)]
            buffer = np.delete(raw, np.concatenate([ends[crlf] - 1, *padded]).astype(np.int64))
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
            return framed.batch(self.file_id, numbers, text, None, None)
        reasons = [problems[i][0] if i in problems else None for i in range(len(ends))]
        previews = [problems[i][1] if i in problems else None for i in range(len(ends))]
        return framed.batch(self.file_id, numbers, text, reasons, previews)

    def _examined(
        self,
        data: bytes,
        starts: np.ndarray,
        ends: np.ndarray,
        sizes: np.ndarray,
        problems: dict[int, tuple[str, str]],
    ) -> Iterator[tuple[bytes | memoryview, int]]:
        """The quarantined lines of a block, each after the end of the line before it (bzip2's
        header is ASCII: an LF in its block's first bytes leaves it on a line that is UTF-8),
        with their numbers."""
        view = memoryview(data)
        for i in sorted(problems):
            if i == 0:
                yield self._tail, self.lines
            else:
                yield (
                    view[max(int(starts[i - 1]), int(ends[i - 1]) - TAIL_BYTES) : ends[i - 1]],
                    (self.lines + i),
                )
            yield view[starts[i] : starts[i] + sizes[i]], self.lines + 1 + i

    def _appended(self, lines) -> CreditsError | None:
        """The error of the first of `lines` (text, number) that holds a compressor's data."""
        for text, number in lines:
            if (kind := source.compressed(text)) is not None:
                return source.appended(self.name, f"line {number}", kind)
        return None

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
        return framed.batch(
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
        return framed.batch(
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
