"""CloudWatch Logs subscription objects as Firehose writes them to S3: JSON objects concatenated
with no separator (white space between them is skipped), framed by object instead of by line,
each at its byte offset in the decompressed stream (a gzip file's members read as one stream,
so an object may span members).

An object is `{"messageType": "DATA_MESSAGE", "owner", "logGroup", "logStream",
"subscriptionFilters", "logEvents": [{"id", "timestamp", "message"}]}`; a `CONTROL_MESSAGE`
(CloudWatch checking that the destination is reachable) holds no log event.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CLOUDWATCH = 'envelope = "cloudwatch"'
MAX_OBJECT_BYTES = 16 << 20  # an object read at once; CloudWatch sends at most about 1 MiB
PREVIEW_CHARS = 4096
# Where a broken stream is taken up again: the next object, as CloudWatch writes its first key.
RESYNC = '{"messageType"'
_ENVELOPE_KEYS = ("owner", "logGroup", "logStream", "subscriptionFilters", "messageType")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Found:
    """One object of the stream at its byte offset: its value, or the reason it is not one
    (with a preview of its text), and whether its text is failure-capable."""

    offset: int
    value: Any = None
    problem: str | None = None
    preview: str = ""
    capable: bool = True


def objects(pieces: Iterator[bytes], capable=lambda text: True) -> Iterator[Found]:
    """The objects of a decompressed stream, in order; `capable(text)` screens each one's text.

    Bytes that do not decode as JSON are one bad object up to where the next `{"messageType"`
    starts (or the end): quarantined with their offset, never dropped. Text that is not UTF-8
    is read with its bad bytes escaped: an object holding them is bad too.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    buffer, at, offset = "", 0, 0  # the text not yet framed, where it starts, and in bytes
    ended = False
    stream = iter(pieces)
    while True:
        while at < len(buffer) and buffer[at] in " \t\r\n":
            offset += 1
            at += 1
        problem = None
        try:
            if at >= len(buffer):
                raise ValueError("no more text")
            value, end = _DECODER.raw_decode(buffer, at)
        except (ValueError, RecursionError):
            if not ended and len(buffer) - at < MAX_OBJECT_BYTES:
                piece = next(stream, None)  # the object may go on in the next piece
                ended = piece is None
                more = decoder.decode(piece or b"", final=ended)
                buffer, at = buffer[at:] + more, 0
                continue
            if at >= len(buffer):
                return
            end = buffer.find(RESYNC, at + 1)
            end = len(buffer) if end < 0 else end
            value, problem = None, "not valid JSON"
        text = buffer[at:end]
        if problem is None and not text.isascii() and _has_bad_bytes(text):
            problem = "not UTF-8"
        preview = ""
        if problem is not None:
            head = text[:PREVIEW_CHARS].encode("utf-8", "surrogateescape")
            preview = head.decode("utf-8", "backslashreplace")
        yield Found(offset, value, problem, preview, capable(text))
        offset += len(text.encode("utf-8", "surrogateescape"))
        at = end


def _has_bad_bytes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def events(value: Any) -> tuple[str, list[Any], dict[str, Any]]:
    """An object's message type, its log events and the fields around them; raises
    `ValueError` naming what makes it not a subscription object."""
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    kind = value.get("messageType")
    if kind == "CONTROL_MESSAGE":
        return kind, [], {}
    if kind != "DATA_MESSAGE":
        raise ValueError(f"messageType is {json.dumps(kind)}, not DATA_MESSAGE or CONTROL_MESSAGE")
    found = value.get("logEvents")
    if not isinstance(found, list):
        raise ValueError("logEvents is not a list")
    return kind, found, {key: value[key] for key in _ENVELOPE_KEYS if key in value}


def event(item: Any, around: dict[str, Any]) -> tuple[str, str]:
    """A log event's message (the record's text, one LF or CR LF at its end dropped) and its
    fields with those around it as JSON (`envelope.timestamp`); raises `ValueError`."""
    if not isinstance(item, dict) or not isinstance(item.get("message"), str):
        raise ValueError("a log event without a string message")
    message = item["message"].removesuffix("\n").removesuffix("\r")
    if _has_bad_bytes(message):
        raise ValueError("a log event whose message is not UTF-8")
    fields = {"id": item.get("id"), "timestamp": item.get("timestamp"), **around}
    return message, json.dumps(fields, separators=(",", ":"))
