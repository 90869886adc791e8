"""CloudWatch Logs subscription objects as Firehose writes them to S3 (framed by `json_stream`):
`{"messageType": "DATA_MESSAGE", "owner", "logGroup", "logStream", "subscriptionFilters",
"logEvents": [{"id", "timestamp", "message"}]}`; a `CONTROL_MESSAGE` (CloudWatch checking that
the destination is reachable) holds no log event of the service.
"""

from __future__ import annotations

import json
from typing import Any

CLOUDWATCH = 'envelope = "cloudwatch"'
# Where a broken stream is taken up again: after an object's end followed by another's start
# (`}{"` is never inside a string, where a quote is escaped, nor valid JSON), or at the start of
# an object as CloudWatch writes them, `messageType` or `owner` first (the object before it cut
# short).
_OPENINGS = (('}{"', 1), ('{"messageType"', 0), ('{"owner"', 0))
_AROUND = ("owner", "logGroup", "logStream", "subscriptionFilters", "messageType")
# The event a subscription gives a Lambda function, `{"awslogs": {"data": ...}}`, kept as it
# came (the object in it, gzip, in base64), and how to read what it holds
LAMBDA_EVENT = "a CloudWatch Logs subscription's Lambda event (awslogs.data: base64 of gzip)"
LAMBDA_FIX = "decode each awslogs.data to its JSON object, one a line"


def next_object(text: str, start: int) -> int:
    """Where the next subscription object may start at or after `start` (-1: none in `text`)."""
    found = [at + skip for opening, skip in _OPENINGS if (at := text.find(opening, start)) >= 0]
    return min(found, default=-1)


def events(value: Any) -> tuple[list[Any], dict[str, Any]]:
    """An object's log events (none for a CONTROL_MESSAGE) and the fields around them; raises
    `ValueError` naming what makes it not a subscription object."""
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    kind = value.get("messageType")
    if kind == "CONTROL_MESSAGE":
        return [], {}
    if kind is None and isinstance(value.get("awslogs"), dict):
        raise ValueError(f"{LAMBDA_EVENT}, not the object in it: {LAMBDA_FIX}")
    if kind != "DATA_MESSAGE":
        raise ValueError(f"messageType is {json.dumps(kind)}, not DATA_MESSAGE or CONTROL_MESSAGE")
    found = value.get("logEvents")
    if not isinstance(found, list):
        raise ValueError("logEvents is not a list")
    return found, {key: value[key] for key in _AROUND if key in value}


def event(item: Any, around: dict[str, Any]) -> tuple[str, str]:
    """A log event's message (the record's text, one LF or CR LF at its end dropped) and its
    fields with those around it as JSON (`envelope.timestamp`); raises `ValueError`."""
    if not isinstance(item, dict) or not isinstance(item.get("message"), str):
        raise ValueError("a log event without a string message")
    message = item["message"].removesuffix("\n").removesuffix("\r")
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a log event whose message is not UTF-8 (a lone surrogate)") from None
    fields = {"id": item.get("id"), "timestamp": item.get("timestamp"), **around}
    return message, json.dumps(fields, separators=(",", ":"))
