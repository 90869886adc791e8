"""A decompressed log file framed by JSON value instead of by line: values one after the other,
white space (line ends too) between them skipped, each at its byte offset and line in the
stream. Reads JSON lines and a pretty-printed document alike (the OpenTelemetry example), and
CloudWatch's objects concatenated with no separator; a gzip file's members are one stream, so
a value may span members. A byte-order mark at the start is skipped.

Text that does not decode is one bad value up to where the next value may start (`resync`), or
the end: quarantined with its position, never dropped. Bytes that are not UTF-8 are read escaped:
a value holding them is bad too.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

MAX_VALUE_BYTES = 16 << 20  # one value read at once, at most (a longer one stops the run)
TOO_LONG = "a JSON value longer than is read at once"
PREVIEW_CHARS = 4096
BLANK = " \t\r\n"
_DECODER = json.JSONDecoder(parse_constant=lambda name: _not_json(name))


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class Found:
    """One value of the stream: where it starts (byte offset, line) and its last line; the value,
    or the reason it is not one with a preview of its text; whether its text is
    failure-capable (the screen's verdict, before any decoding)."""

    offset: int
    line: int
    last_line: int
    value: Any = None
    problem: str | None = None
    preview: str = ""
    capable: bool = True
    exact: bool = True  # decoded by the standard library (else orjson: see `exactly`)
    text: str = ""
    too_long: bool = False  # longer than `MAX_VALUE_BYTES`: it may hold any number of records

    @property
    def lines(self) -> str:
        """The line or lines it spans, for a reason."""
        if self.last_line == self.line:
            return f"line {self.line}"
        return f"lines {self.line}-{self.last_line}"


def values(
    pieces: Iterator[bytes],
    resync: Callable[[str, int], int],
    capable: Callable[[str], bool] = lambda text: True,
    by_line: bool = False,
    light: Callable[[str], Any] | None = None,
) -> Iterator[Found]:
    """The values of a stream of decompressed pieces, in order. `resync(text, start)` is where
    the next value may start at or after `start` (-1: not in `text`); `capable(text)` screens
    each value's text. `by_line`: values are mostly one a line (JSON lines), so a line is
    first decoded whole by orjson, twice as fast (`Found.exact` false: an integer beyond 64
    bits is a float there, see `exactly`); the standard library decodes the rest, and every
    line orjson refuses (a NaN, two values on one line). `light(text)`, given with `by_line`,
    reads a line that is not failure-capable instead of decoding it (None: decode it)."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    buffer, at, offset, line = "", 0, 0, 1  # the text not framed yet, from `at`; its position
    ended, started = False, False
    stream = iter(pieces)
    while True:
        skipped = _blank_run(buffer, at)
        line += buffer.count("\n", at, at + skipped)
        offset, at = offset + skipped, at + skipped
        problem, exact, screened, too_long = None, True, None, False
        try:
            if at >= len(buffer):
                raise ValueError("no text")
            value, end, screened = (
                _one_line(buffer, at, capable, light) if by_line else (None, -1, None)
            )
            exact = end < 0
            if exact:
                value, end = _DECODER.raw_decode(buffer, at)
        except (ValueError, RecursionError):
            end = resync(buffer, at + 1) if at < len(buffer) else -1
            if end < 0 and not ended and len(buffer) - at < MAX_VALUE_BYTES:
                piece = next(stream, None)  # the value may go on in the next piece
                ended = piece is None
                more = decoder.decode(piece or b"", final=ended)
                if not started and more:
                    started = True
                    if more.startswith("\ufeff"):  # a byte-order mark: three bytes
                        more, offset = more[1:], offset + 3
                buffer, at = buffer[at:] + more, 0
                continue
            if at >= len(buffer):
                return
            too_long = end < 0 and not ended  # no value ends within the limit: how many records?
            if too_long:
                problem = f"{TOO_LONG}: more than {MAX_VALUE_BYTES >> 20} MiB"
            end = len(buffer) if end < 0 else end
            value, problem = None, problem or "not valid JSON"
        text = buffer[at:end]
        if problem is None and not text.isascii() and _not_utf8(text):
            problem = "not UTF-8"
        preview = ""
        if problem is not None:
            head = text[:PREVIEW_CHARS].encode("utf-8", "surrogateescape")
            preview = head.decode("utf-8", "backslashreplace").rstrip(BLANK)
        # A value decoded as one line by orjson holds no line end: nothing to count there.
        breaks = 0 if not exact and problem is None else text.count("\n")
        last = line + (text.rstrip(BLANK).count("\n") if breaks else 0)
        is_capable = capable(text) if screened is None else screened
        if problem is None and is_capable and (twice := _key_twice(text, value)) is not None:
            # A decoder keeps one of the two values (orjson the last): a record would be read
            # as another, or not at all. Only where a failure event may be: elsewhere no
            # credit depends on it.
            value, problem = None, f"the key {json.dumps(twice)} appears twice in one object"
            head = text[:PREVIEW_CHARS].encode("utf-8", "surrogateescape")
            preview = head.decode("utf-8", "backslashreplace").rstrip(BLANK)
        yield Found(offset, line, last, value, problem, preview, is_capable, exact, text, too_long)
        offset += len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))
        line += breaks
        at = end


class _Twice(Exception):
    def __init__(self, key: str):
        self.key = key


def _no_key_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Twice(key)
        found[key] = value
    return found


_PAIRS_DECODER = json.JSONDecoder(object_pairs_hook=_no_key_twice)


def _key_twice(text: str, value: Any) -> str | None:
    """A key that appears twice in one object of the value's text (None: no such key). Fast
    when the value written again holds as many keys as the text (`_keys`): no key was
    dropped; else the text is decoded once more, pair by pair."""
    try:
        again = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # an integer beyond 64 bits
        again = None
    if again is not None and _keys(again) == _keys(text):
        return None
    try:
        _PAIRS_DECODER.decode(text)
    except _Twice as twice:
        return twice.key
    except (ValueError, RecursionError):  # deeper than the standard library decodes
        return None
    return None


def _keys(text: str) -> int:
    """About how many object keys a JSON text holds: its `":` not escaped (a key written
    `"k" :`, or ending in a backslash, is missed: the caller then decodes it pair by pair)."""
    return text.count('":') - text.count('\\":')


def exactly(found: Found) -> Found:
    """A value decoded by orjson decoded again by the standard library (every integer exact)."""
    value = _DECODER.decode(found.text)
    return dataclasses.replace(found, value=value, exact=True)


def _one_line(
    text: str, at: int, capable: Callable[[str], bool], light: Callable[[str], Any] | None
) -> tuple[Any, int, bool | None]:
    """The value that is the whole line from `at`, where the line ends (-1: not one), and
    whether the line is failure-capable (None: not screened); a line that is not is read by
    `light` if it can."""
    end = text.find("\n", at)
    if end < 0:
        return None, -1, None
    line = text[at:end]
    screened = capable(line)
    if light is not None and not screened and (value := light(line)) is not None:
        return value, end, screened
    try:
        return orjson.loads(line), end, screened
    except orjson.JSONDecodeError:
        return None, -1, None


def _blank_run(text: str, at: int) -> int:
    """How many blank characters start at `at`."""
    end = at
    while end < len(text) and text[end] in BLANK:
        end += 1
    return end - at


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def next_line_opening(text: str, start: int) -> int:
    """Where the next line that starts with `{` starts (JSON lines: the next value)."""
    found = text.find("\n{", start - 1)
    return found + 1 if found >= 0 else -1
