"""The incident file's value types and messages: each type is a check (it returns the value or
raises `invalid`) with its JSON Schema; `first_error` turns pydantic's first error into
`dotted.key: message`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import duckdb
from pydantic import (
    Field,
    PlainValidator,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from transforms import db, files, pages
from transforms.errors import ConfigError

MAX_WINDOW = timedelta(days=31)
LOG_FIELDS = ("ts", "event", "txn_id", "customer_id", "amount_minor", "currency", "error_code")
# how a collector wraps each record
ENVELOPES = (
    "none",
    "cri",
    "docker",
    "otlp",
    "cloudwatch",
    "fluentd",
    "fluentbit",
    "cloudwatch_export",
    "syslog",
)
# Or a strptime pattern (it holds a '%').
TS_FORMATS = ("rfc3339", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns")
TableKind = Literal["parquet", "csv", "duckdb", "postgres"]  # where a table is read from
FILE_KINDS: dict[str, TableKind] = {".parquet": "parquet", ".csv": "csv"}  # by file suffix
DURATION_UNITS = {
    "ms": timedelta(milliseconds=1),
    **dict.fromkeys(("s", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("min", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
}
_DURATION = rf"^(\d+) ?({'|'.join(DURATION_UNITS)})$"


# Errors: pydantic's first error as `dotted.key: message` --------------------------------------
_TAGS = {"file name", "DuckDB table", "PostgreSQL table"}  # a table source's kinds: not keys
_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "tuple_type": "must be a list of strings",
    "literal_error": "{input!r} is not one of {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le:,}",
}


def invalid(message: str, at: str | None = None) -> PydanticCustomError:
    """A broken rule; `at` is a key below the one being validated, for the message."""
    return PydanticCustomError("incident", "{message}", {"message": message, "at": at})


def first_error(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    context = first.get("ctx", {})
    loc = [part for part in first["loc"] if part not in _TAGS]
    keys = [str(part) for part in loc if not isinstance(part, int)]
    if context.get("at"):
        keys.append(context["at"])
    if first["type"] == "incident":
        message = first["msg"]
    elif loc and isinstance(loc[-1], int):  # an item of a list: every list holds strings
        message = "must be a list of strings"
    else:
        template = _MESSAGES.get(first["type"], "{msg}")
        message = template.format(input=first["input"], msg=first["msg"], **context)
    return f"{'.'.join(keys)}: {message}"


def resolved(path: Path, what: str) -> Path:
    """`path` absolute, its symbolic links followed (`files.resolved`: a loop of links is a
    `ConfigError`); an input's link to nothing is one too (the message named only the missing
    target, not the name written)."""
    found = files.resolved(path, what)
    shown = files.not_utf8(found)
    if shown is not None:  # a folder copied from a Latin-1 share: Arrow's traceback
        raise ConfigError(
            f"{shown}: its path is not UTF-8, which the tables are read and the run folder "
            f"written in ({what}); {files.RENAME_TO_UTF8}"
        )
    if path.is_symlink() and not found.exists():
        raise ConfigError(f"{path}: a symbolic link to {found}, which does not exist ({what})")
    return found


# Value types: a check (returns the value or raises `invalid`) and its JSON Schema ------------
def checked(kind: Any, check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    """A `kind` validated by `check` (which returns the value or raises `invalid`)."""
    return Annotated[kind, PlainValidator(check), WithJsonSchema(schema)]


def _matching(pattern: str, message: str) -> Any:
    """A string in which `pattern` is found; else `message`, where {value} is the value."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise invalid("must be a string")
        # An anchored pattern holds for the whole text: Python's `$` also matches before a
        # last line feed (`INC-T\n` named a run folder with a line break).
        whole = pattern.startswith("^") and pattern.endswith("$")
        if not (re.fullmatch(pattern, value) if whole else re.search(pattern, value)):
            raise invalid(message.format(value=value))
        return value

    return checked(str, check, {"type": "string", "pattern": pattern})


@cache
def _iana_names() -> frozenset[str]:
    """The IANA zone names (Python's and DuckDB's alike), without `localtime`: that one is
    whatever zone the machine is set to, so one incident file would mean other windows on
    other machines."""
    return frozenset(available_timezones() - {"localtime"})


def _zone(value: Any) -> str:
    try:
        if value not in _iana_names():  # `right/UTC`, `posix/...`: files, not names DuckDB knows
            raise ZoneInfoNotFoundError(value)
        return ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        close = _close_zone(value) if isinstance(value, str) else None
        hint = f"; did you mean '{close}'?" if close else ""
        raise invalid(
            f"unknown time zone '{value}'{hint} (an IANA name, such as 'America/New_York', "
            "'Europe/Paris' or 'UTC')"
        ) from None


def _close_zone(value: str) -> str | None:
    """The IANA zone `value` was meant to be: the same but for case, blanks and underscores
    (`america/newyork`), else the closest name."""
    zones = sorted(_iana_names())

    def squashed(name: str) -> str:
        return re.sub(r"[\s_]", "", name).lower()

    same = [zone for zone in zones if squashed(zone) == squashed(value)]
    close = same or difflib.get_close_matches(value, zones, n=1, cutoff=0.8)
    return close[0] if close else None


LONGEST = timedelta(days=366)
"""The longest duration a key takes (a slack, a clock skew, a timeout)."""
# A character no one sees in an id (RE2): a control, format, line or paragraph separator, or a
# space other than U+0020 (U+00A0, U+200B, U+FEFF, U+2028, a tab). Bound as `$hidden` wherever
# the SQL looks for one: the log's quarantine, the gate and the exceptions' details.
HIDDEN_CHARACTER = r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[^\P{Zs} ]"
# What a failure event written otherwise sets aside (RE2, removed before its case is folded): a
# terminal's colour code (`ESC [ ... m`, a logger colouring the event red) or a format character
# anywhere (U+200B, U+FEFF, U+2060: no one sees it), and blanks at its ends (a control or a
# separator: a space, a tab, CR, LF, U+00A0). An inner blank stays: `payment. failed` names
# another event. Bound as `$event_set_aside` (`stg_logs`, `policy_checks`).
EVENT_SET_ASIDE = r"\x1b\[[0-9;]*m|\p{Cf}|^[\p{Cc}\p{Cf}\p{Z}]+|[\p{Cc}\p{Cf}\p{Z}]+$"
# ASCII white space (space, tab, LF, VT, FF, CR), trimmed off both ends of an id: a log line's
# txn_id, the table's (stg_transactions), and wherever the SQL looks past it for a hidden
# character. Bound as `$ascii_space` (DuckDB's `trim(id, $ascii_space)`).
ASCII_SPACE = " \t\n\x0b\x0c\r"


def _duration(value: Any) -> timedelta:
    match = re.fullmatch(_DURATION, value) if isinstance(value, str) else None
    if match is None:
        raise invalid(f'{value!r} is not a duration such as "500ms", "5min", "1 day"')
    try:
        duration = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    except (OverflowError, ValueError):  # ValueError: past Python's 4,300 digits of an int
        duration = None
    if duration is None or duration > LONGEST:
        raise invalid(f"{value!r} is longer than {LONGEST.days} days")
    return duration


def _timeout(value: Any) -> timedelta:
    if _duration(value) < timedelta(milliseconds=1):
        raise invalid("must be at least 1ms (0 would mean no limit)")
    return _duration(value)


def _globs(value: Any) -> tuple[str, ...]:
    globs = [value] if isinstance(value, str) else value
    if not globs or not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
        raise invalid("must be a glob or a non-empty list of globs")
    return tuple(globs)


def _ts_format(value: Any) -> str:
    if not isinstance(value, str) or (value not in TS_FORMATS and "%" not in value):
        raise invalid(
            f"use one of {list(TS_FORMATS)} or a strptime pattern such as '%d/%b/%Y:%H:%M:%S %z'"
        )
    if value not in TS_FORMATS:
        # DuckDB reads the logs' times: a pattern it refuses stopped staging with a traceback.
        # A connection of its own, the result fetched (as the regex pattern's check).
        try:
            with duckdb.connect() as con:
                db.run(con, "log_ts_pattern", pattern=value).fetchall()
        except duckdb.Error as error:
            problem = str(error).partition(f"specifier {value}: ")[2] or str(error)
            raise invalid(
                f"{value!r} is not a strptime pattern the reader takes ({problem}); write it "
                "like '%d/%b/%Y:%H:%M:%S %z'"
            ) from None
    return value


def _envelope(value: Any) -> str:
    if not isinstance(value, str) or value not in ENVELOPES:
        close = difflib.get_close_matches(str(value), ENVELOPES, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise invalid(f"{value!r} is not an envelope; {hint}use one of {list(ENVELOPES)}")
    return value


def _dsn_env(value: Any) -> str:
    # Never echo the value: a DSN written here by mistake may hold a password.
    match = re.fullmatch(r"env:([A-Za-z_][A-Za-z0-9_]*)", value) if isinstance(value, str) else None
    if match is None:
        raise invalid(
            'must be "env:NAME", the environment variable that holds the DSN: '
            "secrets come only from the environment, never from files"
        )
    if not os.environ.get(match.group(1)):
        raise invalid(f"the environment variable {match.group(1)} is not set")
    return match.group(1)


WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")


def _data_file(value: Any) -> str:
    if isinstance(value, str) and Path(value).suffix.lower() in WORKBOOKS:
        raise invalid(
            f"{value!r} is a spreadsheet workbook, which is not read: save its sheet as CSV UTF-8 "
            "(comma delimited) and name the .csv file, or name a .parquet file"
        )
    if not isinstance(value, str) or Path(value).suffix.lower() not in FILE_KINDS:
        raise invalid(
            "name a .parquet or .csv file, or a table such as "
            '{ duckdb = "payments.duckdb", table = "transactions" } or '
            '{ postgres = "env:PAYMENTS_DSN", table = "public.transactions" }'
        )
    return value


_DURATION_SCHEMA = {"type": "string", "pattern": _DURATION, "examples": ["500ms", "5min", "1 day"]}
Text = _matching(r"\S", "must be a non-empty string")
IncidentId = _matching(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    "start with a letter or digit, then use letters, digits, '.', '_' and '-' only, at most "
    "100 characters (it names folders)",
)


# The longest title or policy version: each is copied onto every credit line (a title of
# megabytes ran a run out of memory).
LONGEST_TEXT = 500


def _title(value: Any) -> str:
    """A title for people, empty or with text; no control or format character (a NUL, an
    escape, a right-to-left override would reach every `credits.csv` description)."""
    if not isinstance(value, str):
        raise invalid("must be a string")
    if value and not value.strip():
        raise invalid("must be a non-empty string")
    return _plain(value, "the title")


def _version(value: Any) -> str:
    """A policy's version: text with no control or format character, as a title (it reaches
    every `credits.csv` and batch line, and a what-if column's heading)."""
    if not isinstance(value, str) or not value.strip():
        raise invalid("must be a non-empty string")
    return _plain(value, "the version")


def _plain(value: str, what: str) -> str:
    if len(value) > LONGEST_TEXT:
        raise invalid(
            f"at most {LONGEST_TEXT} characters ({len(value):,}): {what} is copied onto every "
            "credit line"
        )
    odd = next(
        (i for i, (a, b) in enumerate(zip(value, pages.visible(value), strict=True)) if a != b),
        None,
    )
    if odd is not None:
        raise invalid(
            f"holds the control or format character U+{ord(value[odd]):04X} at character "
            f"{odd + 1}: write {what} as plain text on one line"
        )
    return value


Title = checked(str, _title, {"type": "string", "pattern": r"^$|\S", "maxLength": LONGEST_TEXT})
Version = checked(str, _version, {"type": "string", "pattern": r"\S", "maxLength": LONGEST_TEXT})
Zone = checked(str, _zone, {"type": "string", "examples": ["UTC", "America/New_York"]})
Duration = checked(timedelta, _duration, _DURATION_SCHEMA)
Timeout = checked(timedelta, _timeout, _DURATION_SCHEMA)
# A count of lines, bounded: one past 128 bits stopped staging with a traceback (it is bound into
# SQL), and 10^18 lines is beyond any log.
Count = Annotated[StrictInt, Field(ge=1, le=10**18)]
Names = tuple[StrictStr, ...]
Globs = checked(
    tuple[str, ...],
    _globs,
    {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
)
FieldPath = _matching(r'^[^\s=".]+(\.[^\s=".]+)*$', "'{value}' is not a key or dotted path")
TsFormat = checked(
    str, _ts_format, {"anyOf": [{"enum": list(TS_FORMATS)}, {"type": "string", "pattern": "%"}]}
)
Envelope = checked(str, _envelope, {"enum": list(ENVELOPES)})
DataFile = checked(
    str,
    _data_file,
    {"type": "string", "pattern": r"\.([Pp][Aa][Rr][Qq][Uu][Ee][Tt]|[Cc][Ss][Vv])$"},
)
DsnEnv = checked(str, _dsn_env, {"type": "string", "pattern": "^env:[A-Za-z_][A-Za-z0-9_]*$"})
# Table names go into SQL text (an identifier cannot be bound): only plain names pass.
TableName = _matching(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$",
    "must be a table name such as transactions or public.transactions",
)
