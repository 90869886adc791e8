"""Which log lines are checked against the whole log contract, and the shape check of the rest.

A line is *failure-capable* when its bytes contain one of `policy.failure_events` literally or,
in the formats that unescape values (`jsonl`, and `logfmt`'s quoted values), an escape that
could spell one (`\\u`; any backslash when an event has a character with a short escape), or,
in JSON, a string that starts as base64 of a record (`BASE64_RECORDS`; a JSON Web Token, `JWT`,
is none), or, folded (`folding`), a failure event of ASCII written otherwise
(`Payment.Failed`, `pay` + U+200B + `ment.failed`: the gate rejects the run for one). A failure
event can only be on such a line, so only these are parsed and checked in full: no credit
depends on the others. Every other line gets a shape check only: framed, at
most 1 MiB and valid UTF-8 (the framer's checks), not blank and, for `jsonl`, one object by its
bytes (the first non-blank byte is `{`, the last `}`). A line that fails it is quarantined with
a reason that names the check; the rest are `irrelevant`, unparsed. With a `payload` field, an
event spelled as an array of byte values (`112,97,121,...`: journald's JSON export of a message
holding a control or non-UTF-8 byte, read as the text they are) makes a line failure-capable
too, as does the escape (`92,117`) or a base64 record's start so spelled, and so does a payload
that is null (journald's export of a message over 4096 bytes without `--all`): checked in full,
it is quarantined (its payload is not a string), never taken for an irrelevant line.

With an envelope the tiers apply to the record: a CRI line's shape is its prefix and then its
message's (the record's), and so is a fluentd out_file, Fluent Bit file output, CloudWatch
export or syslog line's (`PREFIXES`, the suffix after the record too); a Docker entry's is one
object (its record, a JSON string inside it, is not looked into). An OTLP line and a CloudWatch
object hold many records: the whole line or object is screened (`capable_text`), and the
records of one that is not failure-capable get the shape check one by one (`record_shape`; an
OTLP record is one object by construction); each record of an OTLP line that is gets screened
again as decoded (`capable_value`).
A record split over lines may split an event's name too: from the first
CRI line tagged `P`, Docker entry not ending in a line feed or payload's record a collector marked
partial, every later line of the file is checked in full (`partial`).

`[quality] line_checks = "all"` checks every line in full instead (auditing a log source).
"""

from __future__ import annotations

import base64
import json
import re
import sys
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import AnyStr

import numpy as np
import orjson
from numpy.lib.stride_tricks import sliding_window_view

from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import folding, syslog

BLANK = b" \t\r\n\x0b\x0c"
BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark: skipped at a file's start and a record's
OPEN, CLOSE = ord("{"), ord("}")
SHAPE_BLANK = "blank line"
SHAPE_NOT_OBJECT = "not one JSON object (shape check)"
SHAPE_NOT_CRI = 'not a CRI line (envelope = "cri", shape check)'
# A CRI line: `<RFC 3339 time> <stream> <P|F> <message>` (the message may be empty).
CRI_LINE = r"^([^ \n]+) (stdout|stderr) ([PF]) ([^\n]*)\n$"
# The prefix before the record of a line of these envelopes, in two groups (its fields; the
# second empty for an export), the suffix after it (Fluent Bit's `]`), and the shape check's
# reason for a line without them. The full check reads the same prefix and suffix in SQL
# (`mapper.PREFIXED_LINES`, `log_envelope_prefixed`).
PREFIX_PATTERNS = {
    "fluentd": (
        r"([^\t\n]+)\t([^\t\n]*)\t",
        "",
        'not a fluentd out_file line (envelope = "fluentd", shape check)',
    ),
    "fluentbit": (
        # `<tag>: [<seconds>.<fraction>, `: 9 digits (`%09lu`) since 1.9, 6 (`%f`) before
        r"([^\n]+?): \[((?:0|[1-9][0-9]{0,19})\.[0-9]+), ",
        "]",
        'not a Fluent Bit file output line (envelope = "fluentbit", shape check)',
    ),
    "cloudwatch_export": (
        r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[^ \n]+) ()",
        "",
        'not a CloudWatch Logs export line (envelope = "cloudwatch_export", shape check)',
    ),
}
PREFIXES = {
    **{
        envelope: (re.compile(pattern.encode()), suffix.encode(), reason)
        for envelope, (pattern, suffix, reason) in PREFIX_PATTERNS.items()
    },
    # a syslog header, RFC 5424's or 3164's (`syslog`; read in SQL by `log_envelope_syslog`)
    "syslog": (re.compile(syslog.PREFIX.encode()), b"", syslog.SHAPE_REASON),
}
# Base64 at the start of a JSON string, of a JSON object (`{"` then a letter or not, `{ "`,
# `{` and a line feed) or of gzip (its magic, 1f 8b 08): a record kept so (a CloudWatch Logs
# subscription's Lambda event, a stream's base64 data) holds its failure event in no byte the
# screen reads. Such a line is checked in full: never counted irrelevant unseen.
BASE64_RECORDS = (b'"eyJ', b'"eyI', b'"eyAi', b'"ewo', b'"H4sI')
# A JSON Web Token (RFC 7519) starts so too: three base64url parts joined by dots (the last,
# the signature, empty for `alg` none), the first a JSON object naming its `alg`. A credential,
# not a record (no base64 of one holds a dot): services log one on many lines, each then parsed
# for nothing, and quarantined when it lacks `ts`. The string may close escaped (in a Docker `log`).
JWT = r'"([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\\*"'
BASE64_NEEDLES = frozenset(BASE64_RECORDS) | {needle.decode() for needle in BASE64_RECORDS}
JWTS = {bytes: re.compile(JWT.encode()), str: re.compile(JWT)}
SPACE = ord(" ")
SHORT_ESCAPES = frozenset('"\\/\b\f\n\r\t')
BACKSLASH, N, QUOTE = ord("\\"), ord("n"), ord('"')
# What follows the `\n"` that ends a whole Docker entry's `log`: compact, or spaced.
DOCKER_LOG_ENDS = (b',"stream":', b', "stream": ')
F_TAG, P_TAG = ord("F"), ord("P")
# A collector's mark of a record it split over records, around a payload: Docker's fluentd
# driver (`partial_message`), Fluent Bit's `cri` parser without its multiline parser (`logtag`
# P), Vector's docker source (`_partial`), journald cutting a line over its `LineMax=` (48K;
# `_LINE_BREAK` line-max, `journalctl -o json` writing `"KEY" : "value"`), Fluent Bit's CRI
# parsers (`_p` P: joined by `log_payload_parts`, or a whole record multiline.parser cri joined),
# Cloud Logging an entry over its size limit (`split`, a LogSplit: `uid`, `index`, `totalSplits`,
# its keys in any order, gcloud's --format=json sorting them: every part has `totalSplits`),
# Docker's and conmon's journald log drivers a line over 16 KiB (`CONTAINER_PARTIAL_MESSAGE`).
PAYLOAD_PARTS = (
    b'"partial_message"',
    b'"logtag":"P"',
    b'"logtag": "P"',
    b'"_partial":true',
    b'"_partial": true',
    b'"_LINE_BREAK":"line-max"',
    b'"_LINE_BREAK": "line-max"',
    b'"_LINE_BREAK" : "line-max"',
    b'"_p":"P"',
    b'"_p": "P"',
    b'"totalSplits"',
    b'"CONTAINER_PARTIAL_MESSAGE"',
)
# The filelog receiver's container parser's mark of a part of a line the runtime split, the
# attribute `logtag` P, as the file exporter writes it (compact) and as written spaced
OTLP_PARTS = (
    b'{"key":"logtag","value":{"stringValue":"P"}}',
    b'{"key": "logtag", "value": {"stringValue": "P"}}',
)
# The bytes looked at for the space that ends a CRI line's time (RFC 3339 with nanoseconds and
# an offset is 35); a longer time is found by `bytes.find`.
TIME_WINDOW = 40


@dataclass(frozen=True)
class Screen:
    """How a format's lines are screened: the byte strings that make a line failure-capable,
    and whether the shape check wants one JSON object."""

    needles: tuple[bytes, ...]
    escape: bytes | None  # the escape that could spell an event, None when values are literal
    one_object: bool
    envelope: str = "none"  # cri and docker split long records over lines: see `partial`
    payload: bool = False  # so do collectors around a payload
    folded: folding.Needles = ()  # the events of ASCII as written and folded

    @staticmethod
    def of(failure_events: tuple[str, ...], log_format: LogFormat) -> Screen:
        """The screen of a log format (its envelope, payload and kind) and the failure events."""
        escape = None
        kind, envelope = log_format.kind, log_format.envelope
        # JSON string escapes: in the record (jsonl, logfmt's quoted values) or around it (a
        # Docker `log` or a payload field is a JSON string holding the record).
        # An OTLP line and a CloudWatch object are JSON, their strings escaped alike.
        wrapped_in_json = envelope in ("docker", "otlp", "cloudwatch")
        if kind in ("jsonl", "logfmt") or wrapped_in_json or log_format.payload is not None:
            short = any(c in SHORT_ESCAPES or ord(c) < 0x20 for e in failure_events for c in e)
            escape = b"\\" if short else b"\\u"
        spelled = {event.encode() for event in failure_events}
        if escape is not None:  # JSON strings, where base64 is kept
            spelled |= set(BASE64_RECORDS)
        if log_format.payload is not None:  # journald's export of a message with a control or
            # non-UTF-8 byte: the payload as an array of byte values, compact or spaced, which
            # spell the record's event, escape or base64 only as numbers (read as its text)
            spelled |= {
                _byte_values(needle, sep)
                for needle in {*spelled, escape} - {None, b""}
                for sep in (b",", b", ")
            }
            # and of one over 4096 bytes (`journalctl -o json` without `--all`): null, the
            # record gone, which must be quarantined, not counted irrelevant
            key = json.dumps(log_format.payload.rsplit(".", 1)[-1]).encode()
            spelled |= {key + colon + b"null" for colon in (b":", b": ", b" : ")}
        if envelope == "otlp":  # a record the container runtime split, when no recombine
            spelled |= set(OTLP_PARTS)  # joined it: its head and rest may each hold no event
        needles = tuple(sorted(spelled))
        # One object: the Docker entry, else the record (or the object holding its payload).
        one_object = envelope == "docker" or kind == "jsonl" or log_format.payload is not None
        payload = log_format.payload is not None
        folded = folding.needles(failure_events)
        return Screen(needles, escape, one_object, envelope, payload, folded)

    def prefix(self, data: bytes, starts: np.ndarray, sizes: np.ndarray) -> CriPrefix | None:
        """Each line read as a CRI line (`cri_prefix`), once for `partial` and `shape`; None for
        the other envelopes."""
        return cri_prefix(data, starts, sizes) if self.envelope == "cri" else None

    def partial(
        self, data: bytes, ends: np.ndarray, stop: int, prefix: CriPrefix | None = None
    ) -> int | None:
        """The index of the first line ending (LF) at `ends` in `data[:stop]` that may be part
        of a record split over lines, if any: a CRI line tagged `P` (by its `prefix`), or a
        Docker entry whose `log` does not end in a line feed (its bytes lack the escape
        `\\n"` followed by the `stream` key), or a payload's collector record marked partial
        (`PAYLOAD_PARTS`). A failure event may be split between such parts, so the framer
        checks every line from there on."""
        if self.envelope == "cri":
            assert prefix is not None
            tagged = np.flatnonzero(prefix.partial)
            return int(tagged[0]) if len(tagged) else None
        if self.envelope == "docker":
            raw = np.frombuffer(data, np.uint8, count=stop)
            at = np.flatnonzero((raw[:-2] == BACKSLASH) & (raw[1:-1] == N) & (raw[2:] == QUOTE))
            # The `log` value's end, not any value's: Docker writes `stream` right after `log`,
            # so a whole entry holds `\n","stream":` (or, spaced, `\n", "stream": `); a line
            # feed ending another field (an `attrs` value) proves nothing. An entry whose
            # fields come in another order is checked in full.
            at = np.concatenate([_followed_by(raw, at, 3, end) for end in DOCKER_LOG_ENDS])
            whole = np.zeros(len(ends), bool)
            whole[np.searchsorted(ends, at)] = True
            split = np.flatnonzero(~whole)
            return int(split[0]) if len(split) else None
        if self.payload:
            marks = [at for mark in PAYLOAD_PARTS if (at := data.find(mark, 0, stop)) >= 0]
            return int(np.searchsorted(ends, min(marks))) if marks else None
        return None

    def capable(self, data: bytes, ends: np.ndarray, stop: int) -> np.ndarray:
        """Which of the lines ending (LF) at `ends` in `data[:stop]` are failure-capable."""
        found: list[int] = []
        # an event of ASCII is looked for folded only: as written too, at no cost of its own
        needles = [needle for needle in self.needles if needle not in self._folded_events]
        if self.escape is not None and data.find(b"\\", 0, stop) >= 0:
            needles.append(self.escape)
        for needle in needles:
            if not needle:  # an empty event name: every line could carry it
                return np.ones(len(ends), bool)
            at = _find(data, needle, 0, stop)
            while at >= 0:
                found.append(at)
                at = _find(data, needle, data.find(b"\n", at, stop) + 1, stop)
        mask = np.zeros(len(ends), bool)
        if found:
            mask[np.searchsorted(ends, np.array(found, np.int64))] = True
        mask[folding.lines_holding(data, stop, ends, self.folded)] = True
        return mask

    def capable_text(self, text: str) -> bool:
        """Whether one envelope's text (an OTLP line, a CloudWatch object) is failure-capable."""
        if self.escape is not None and "\\" in text and self.escape.decode() in text:
            return True  # a backslash found first: searching for one character is 10x faster
        if any(_find(text, needle) >= 0 for needle in self._text_needles):
            return True
        return folding.holds(text.encode(), self.folded)

    def capable_value(self, value: object) -> bool:
        """Whether one record of a failure-capable OTLP line, decoded, is failure-capable: its
        JSON as orjson writes it (strings unescaped, so an event spelt with escapes is found
        literally) screened as text; a value orjson cannot write (an integer beyond 64 bits, a
        lone surrogate) is."""
        try:
            text = orjson.dumps(value)
        except TypeError:
            return True
        if self.escape is not None and b"\\" in text and self.escape in text:
            return True
        if any(_find(text, needle) >= 0 for needle in self.needles):
            return True
        return folding.holds(text, self.folded)

    @cached_property
    def _folded_events(self) -> frozenset[bytes]:
        """The events looked for folded (`folded`), as written."""
        return frozenset(event for event, _ in self.folded)

    @cached_property
    def _text_needles(self) -> tuple[str, ...]:
        """The needles as text (decoded once, not per envelope)."""
        return tuple(needle.decode() for needle in self.needles)

    def record_shape(self, text: str) -> str | None:
        """The shape problem of one record's text (without its line end), if any; a
        byte-order mark the collector kept from its file's start is none."""
        bare = text.removeprefix(BOM.decode()).strip(BLANK.decode())
        if not bare:
            return SHAPE_BLANK
        if self.one_object and not (bare[0] == "{" and bare[-1] == "}"):
            return SHAPE_NOT_OBJECT
        return None

    def shape(
        self,
        data: bytes,
        starts: np.ndarray,
        sizes: np.ndarray,
        which: np.ndarray,
        prefix: CriPrefix | None = None,
    ) -> dict[int, tuple[str, str]]:
        """The shape problems of the lines `which` (indices; start and size without the line
        end): index -> (reason, the line as text). They are valid UTF-8 and at most 1 MiB."""
        raw = np.frombuffer(data, np.uint8)
        at, size = starts[which], sizes[which]
        problems: dict[int, tuple[str, str]] = {}
        if self.envelope == "cri":  # the record is the message after the CRI prefix
            assert prefix is not None
            at, size, framed = prefix.at[which], prefix.size[which], prefix.framed[which]
            for i in which[~framed].tolist():
                problems[i] = (SHAPE_NOT_CRI, data[starts[i] : starts[i] + sizes[i]].decode())
            which, at, size = which[framed], at[framed], size[framed]
        elif self.envelope in PREFIXES:  # the record is between the prefix and the suffix
            prefix, suffix, reason = PREFIXES[self.envelope]
            ends = [
                _record_end(data, prefix.match(data, start, start + length), suffix)
                for start, length in zip(at.tolist(), size.tolist(), strict=True)
            ]
            framed = np.array([end is not None for end in ends], bool)
            for i in which[~framed].tolist():
                problems[i] = (reason, data[starts[i] : starts[i] + sizes[i]].decode())
            cut = np.array([end.end() if end is not None else 0 for end in ends], np.int64)
            which, size, at = which[framed], (at + size - cut - len(suffix))[framed], cut[framed]
        filled = size > 0
        first = np.where(filled, raw[at], 0)
        last = np.where(filled, raw[at + size - 1], 0)
        if self.one_object:
            plain = filled & (first == OPEN) & (last == CLOSE)
        else:
            plain = filled & (first > 0x20) & (last > 0x20)
        for i, start, length in zip(
            which[~plain].tolist(), at[~plain].tolist(), size[~plain].tolist(), strict=True
        ):
            line = data[start : start + length]
            record = self.envelope == "cri" or self.envelope in PREFIXES
            bare = (line.removeprefix(BOM) if record else line).strip(BLANK)
            if not bare and self.envelope == "syslog":  # the whole line: its header is all
                whole = data[starts[i] : starts[i] + sizes[i]]
                problems[i] = (syslog.NO_MESSAGE, whole.decode())
            elif not bare:
                problems[i] = (SHAPE_BLANK, line.decode())
            elif self.one_object and not (bare[0] == OPEN and bare[-1] == CLOSE):
                problems[i] = (SHAPE_NOT_OBJECT, line.decode())
        return problems


@dataclass(frozen=True)
class CriPrefix:
    """Lines read as CRI lines `<time> <stdout|stderr> <P|F> <message>`: where each message
    starts and its size (the line's own when it is not shaped so), which lines are, and which
    of those are tagged P (partial)."""

    at: np.ndarray
    size: np.ndarray
    framed: np.ndarray
    partial: np.ndarray


def cri_prefix(data: bytes, starts: np.ndarray, sizes: np.ndarray) -> CriPrefix:
    """The CRI prefix of each line (start `starts`, `sizes` bytes without the line end), read
    from its first bytes: the space after the time is looked for in the first `TIME_WINDOW`
    bytes of every line at once (by `bytes.find` beyond them, for a time that long), then the
    stream, the tag and the two spaces at their fixed places after it."""
    raw = np.frombuffer(data, np.uint8)
    last = len(raw) - 1
    offsets = np.arange(TIME_WINDOW)
    short = int(starts.max(initial=0)) + TIME_WINDOW - len(raw)  # the last lines' windows
    padded = raw if short <= 0 else np.concatenate([raw, np.zeros(short, np.uint8)])
    window = sliding_window_view(padded, TIME_WINDOW)[starts]  # a copy of 40 bytes a line
    spaces = (window == SPACE) & (offsets < sizes[:, None])
    found = spaces.any(axis=1)
    first = np.where(found, spaces.argmax(axis=1), -1)
    for i in np.flatnonzero(~found & (sizes > TIME_WINDOW)).tolist():
        at = data.find(b" ", int(starts[i]) + TIME_WINDOW, int(starts[i] + sizes[i]))
        first[i] = at - starts[i] if at >= 0 else -1
    # `<time> ` then `stdout P ` (9 bytes) and the message: the time not empty, the prefix whole.
    framed = (first >= 1) & (first + 9 < sizes)
    space = np.where(framed, starts + first, 0)

    def byte(after: int) -> np.ndarray:
        return raw[np.minimum(space + after, last)]

    tag = byte(8)
    framed &= (byte(7) == SPACE) & (byte(9) == SPACE) & ((tag == F_TAG) | (tag == P_TAG))
    stream = np.stack([byte(j) for j in range(1, 7)], axis=1)
    named = np.zeros(len(starts), bool)
    for name in (b"stdout", b"stderr"):
        named |= (stream == np.frombuffer(name, np.uint8)).all(axis=1)
    framed &= named
    return CriPrefix(
        at=np.where(framed, space + 10, starts),
        size=np.where(framed, sizes - first - 10, sizes),
        framed=framed,
        partial=framed & (tag == P_TAG),
    )


def _byte_values(needle: bytes, sep: bytes) -> bytes:
    """`needle` spelled as a JSON array's byte values (`112,97`); a one-byte needle (the escape
    `\\`, 92) with the separator after it, not to be found inside every larger number."""
    return sep.join(str(byte).encode() for byte in needle) + (sep if len(needle) == 1 else b"")


def _find(data: AnyStr, needle: AnyStr, start: int = 0, stop: int = sys.maxsize) -> int:
    """Where `needle` first is in `data[start:stop]`, -1 if nowhere; a base64 record's needle
    (`BASE64_RECORDS`) is passed over where it opens a JSON Web Token (`JWT`)."""
    at = data.find(needle, start, stop)
    if needle not in BASE64_NEEDLES:
        return at
    jwt = JWTS[type(data)]
    while at >= 0 and (token := jwt.match(data, at, stop)) is not None and _names_alg(token[1]):
        at = data.find(needle, token.end(), stop)
    return at


@lru_cache(maxsize=64)  # a service's tokens share a few headers
def _names_alg(header: str | bytes) -> bool:
    """Whether base64url text (unpadded) is of a JSON object naming its `alg`: a JWT's header."""
    text = header.encode() if isinstance(header, str) else header
    try:  # padding beyond what the text needs is ignored
        decoded = orjson.loads(base64.urlsafe_b64decode(text + b"=="))
    except ValueError:  # not base64, or not JSON
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def _record_end(data: bytes, prefix: re.Match[bytes] | None, suffix: bytes) -> re.Match | None:
    """The prefix matched at a line's start, when the line (up to the match's `endpos`) also
    ends with `suffix`; else None."""
    if prefix is None or data[prefix.endpos - len(suffix) : prefix.endpos] == suffix:
        return prefix
    return None


def _followed_by(raw: np.ndarray, at: np.ndarray, skip: int, text: bytes) -> np.ndarray:
    """The positions of `at` whose bytes `skip` on (in `raw`) are `text`."""
    at = at[at + skip + len(text) <= len(raw)]
    found = raw[at[:, None] + skip + np.arange(len(text))] == np.frombuffer(text, np.uint8)
    return at[found.all(axis=1)]
