"""Syslog lines (`envelope = "syslog"`): the record is the MSG after the header, as rsyslog,
syslog-ng or journalctl's text output write a service's lines to a file. The header is RFC
5424's, `<PRI>1 <time> <host> <app> <procid> <msgid> <structured data> <MSG>`, or RFC 3164's
as the daemons write it, `[<PRI>]<Mmm dd hh:mm:ss> <host> <tag>[<pid>]: <MSG>`, its time
RFC 3339's in rsyslog's high-precision formats (`RSYSLOG_FileFormat`, `RSYSLOG_ForwardFormat`)
and journalctl's `-o short-iso`. The shape check matches `PREFIX` at a line's start (`screen`);
`log_envelope_syslog` reads the whole line by `RFC5424_LINE` or `RFC3164_LINE`. Heroku's
logplex (its HTTPS drains' frames) writes RFC 5424 after an octet count and without structured
data: both are read; `heroku logs` prints RFC 3164's header without the host (`HEROKU_LINE`).

RFC 3164's time has no year and no zone: it is given the year that puts its month within six
months of the incident window's (a December line of a January window is the year before's;
a February 29th that year lacks, the leap year's before), and no offset, so that
`envelope.time` is read in `sources.logs_timezone`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PRI = "<[0-9]{1,3}>"
# RFC 3164's `Mmm dd hh:mm:ss` (the day space-padded; journalctl zero-pads it, and its -o
# short-precise adds microseconds), or an RFC 3339 time (its offset without a colon from
# journalctl -o short-iso)
TIME = (
    f"(?:{'|'.join(MONTHS)}) [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(?:\\.[0-9]+)?"
    "|[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ \\n]+"
)
# RFC 5424's structured data: `-`, or elements `[id name="value" ...]`, a value's `"`, `\` and
# `]` escaped by a backslash
SD_ELEMENT = '\\[[^ =\\]"\\n]+(?: [^ =\\]"\\n]+="(?:[^"\\\\\\n]|\\\\[^\\n])*")*\\]'
# The headers before the MSG, in four groups: the time, the host, the app (3164: the tag) and
# the process id (`-`, RFC 5424's NILVALUE, in a field of its own: no value). RFC 3164's tag
# holds no `{` or `"`: a line without the host is no syslog line, its record's `{"ts": ` not
# taken for a tag `{"ts"` ended by `: `, the host `payments[42]:`.
# RFC 6587's octet counting may come first, each message's length in bytes before it (as Heroku's
# HTTPS drains frame their messages, `83 <190>1 ...`, one a line): not the record's, not checked.
OCTET_COUNT = "(?:[0-9]{1,7} )?"
RFC5424_HEAD = f"{OCTET_COUNT}{PRI}1 ([^ \\n]+) ([^ \\n]+) ([^ \\n]+) ([^ \\n]+) [^ \\n]+"
RFC5424 = f"{RFC5424_HEAD} (?:-|(?:{SD_ELEMENT})+)"
# Heroku's logplex leaves the structured data out (`<PRI>1 <time> <host> <app> <procid> -
# <MSG>`): read so only when the MSG is a JSON object, as no structured data starts.
LOGPLEX = f"{RFC5424_HEAD} (?=\\{{)"
# Its tag ends with a colon, then a space and the MSG: a colon that ends the line is a header
# without one (`NO_MESSAGE`), as RFC 5424's header without a MSG is.
RFC3164 = f'(?:{PRI})?({TIME}) ([^ \\n]+) ([^ \\n\\[{{"]+?)(?:\\[([^\\]\\n]*)\\])?:'
# `heroku logs`' output, `<time> <source>[<dyno>]: <MSG>` (`2025-01-07T20:00:00.123456+00:00
# app[web.1]: ...`): RFC 3164's with an RFC 3339 time, but no host, read only so, its dyno given
# (a line of RFC 3164's date without the host is no syslog line): time, source and dyno.
HEROKU = '([0-9]{4}-[0-9]{2}-[0-9]{2}T[^ \\n]+) ([^ \\n\\[{"]+)\\[([^\\]\\n]+)\\]:'
# The prefix before the record (the shape check): the MSG is optional, after a space
PREFIX = f"(?:{RFC5424}(?: |$)|{LOGPLEX}|{RFC3164}(?: |$)|{HEROKU}(?: |$))"
# A whole line (with its LF) in six groups: the header's four, the record, and the record of a
# line without structured data (logplex's: RE2 has no look-ahead)
RFC5424_LINE = f"^{RFC5424_HEAD} (?:(?:-|(?:{SD_ELEMENT})+)(?: ([^\\n]*))?|(\\{{[^\\n]*))\\n$"
RFC3164_LINE = f"^{RFC3164}(?: ([^\\n]*))?\\n$"
HEROKU_LINE = f"^{HEROKU}(?: ([^\\n]*))?\\n$"
# A MSG of blanks only (a byte-order mark first, its UTF-8 marker), or none: the line is a header
# without a message, whichever the header and however it ends (`screen.BLANK`'s blanks).
NO_MESSAGE_PATTERN = "^\\x{FEFF}?[ \\t\\r\\x0B\\x0C]*$"
NO_MESSAGE = "a syslog header with no message"
SHAPE_REASON = 'not a syslog line (envelope = "syslog", shape check)'


def parameters(reach: tuple[datetime, datetime], logs_timezone: str) -> dict[str, object]:
    """The parameters of `log_envelope_syslog.sql`: the line patterns, and the year and month
    of the middle of `reach` (the window, widened alike at both ends) in the logs' time zone,
    which RFC 3164's dates are read near."""
    middle = (reach[0] + (reach[1] - reach[0]) / 2).astimezone(ZoneInfo(logs_timezone))
    return {
        "rfc5424_line": RFC5424_LINE,
        "rfc3164_line": RFC3164_LINE,
        "heroku_line": HEROKU_LINE,
        "no_message_pattern": NO_MESSAGE_PATTERN,
        "no_message": NO_MESSAGE,
        "months": list(MONTHS),
        "window_year": middle.year,
        "window_month": middle.month,
    }
