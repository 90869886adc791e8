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
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    PlainValidator,
    StrictStr,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from transforms import files, money, pages
from transforms.errors import ConfigError
from transforms.money import is_currency_code, not_a_currency

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
    if path.is_symlink() and not found.exists():
        raise ConfigError(f"{path}: a symbolic link to {found}, which does not exist ({what})")
    return found


# Value types: a check (returns the value or raises `invalid`) and its JSON Schema ------------
def _checked(kind: Any, check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
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

    return _checked(str, check, {"type": "string", "pattern": pattern})


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
# format character anywhere (U+200B, U+FEFF, U+2060: no one sees it), and blanks at its ends (a
# control or a separator: a space, a tab, CR, LF, U+00A0). An inner blank stays: `payment.
# failed` names another event. Bound as `$event_set_aside` (`stg_logs`, `policy_checks`).
EVENT_SET_ASIDE = r"\p{Cf}|^[\p{Cc}\p{Cf}\p{Z}]+|[\p{Cc}\p{Cf}\p{Z}]+$"
# ASCII white space (space, tab, LF, VT, FF, CR), trimmed off both ends of an id: a log line's
# txn_id, the table's (stg_transactions), and wherever the SQL looks past it for a hidden
# character. Bound as `$ascii_space` (DuckDB's `trim(id, $ascii_space)`).
ASCII_SPACE = " \t\n\x0b\x0c\r"
LARGEST_AMOUNT = 10**16
"""The largest amount in minor units a policy, a log line or a table states: above 2**53 (an
amount no double holds exactly is still read exactly), and sums of hundreds fit in 64 bits."""
BEYOND_LARGEST_AMOUNT = f"beyond ±{LARGEST_AMOUNT:,} minor units, which no payment is"
"""A table amount past `LARGEST_AMOUNT` either way, as a message says it (CSV, Parquet, SQL)."""
LARGEST_TOTAL = 10**18
"""The largest sum in minor units of one currency's credits, or of their failed amounts, over a
run: its totals (the manifest's, the report's, a batch's) are 64-bit integers (9.2 x 10^18)."""
PERCENT_PLACES = 4
"""The decimal places a percent may have (0.0001 %): DuckDB multiplies with it exactly."""
LARGEST_PERCENT = 10_000


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


def _number(value: Any) -> Decimal:
    if isinstance(value, str) and (meant := _written(value)) is not None:
        raise invalid(
            f"must be a number, not the text '{value}': write it alone, without quotes or % "
            f"({meant})"
        )
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise invalid("must be a number")
    if not Decimal(value).is_finite():
        raise invalid(f"must be a finite number, not {value}")
    return _canonical(Decimal(value))


def _canonical(number: Decimal) -> Decimal:
    """One spelling of a number however the file wrote it: `10`, `10.0` and `1e1` are 10, and
    `12.50` is 12.5. The policy's fingerprint (and so the run id) and the manifest hold the
    number as text: one policy written two ways was two policies there. Exact, digit by digit
    (`Decimal.normalize` rounds to 28 digits: a 29th decimal would pass the places check)."""
    if number.is_zero():
        return Decimal(0)  # `-0.0` too
    sign, digits, exponent = number.as_tuple()
    if exponent > 0 and number.adjusted() <= 20:  # past that, refused by the value's bound
        return Decimal((sign, digits + (0,) * exponent, 0))
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    strip = min(zeros, max(-exponent, 0))
    return Decimal((sign, digits[: len(digits) - strip], exponent + strip))


def _written(text: str) -> Decimal | None:
    """The number in a quoted one as people write it (`"10%"`, `" 12.5 "`); None for none."""
    try:
        number = Decimal(text.strip().removesuffix("%").strip())
    except ArithmeticError:
        return None
    # a number past any share, percent or amount (1e999999999) is no number meant
    return number if number.is_finite() and abs(number.adjusted()) <= 20 else None


def _share(value: Any) -> Decimal:
    if isinstance(value, str) and value.strip().endswith("%") and _written(value) is not None:
        raise invalid(
            f"must be a fraction between 0 and 1, not the text '{value}': "
            f"{_written(value)}% is written {_written(value) / 100}"
        )
    if not 0 <= _number(value) <= 1:
        raise invalid("must be between 0 and 1")
    return _number(value)


def _amounts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise invalid("must be a table of currency = integer minor units")
    for currency, amount in value.items():
        if not is_currency_code(currency):
            raise invalid(not_a_currency(currency), at=currency)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise invalid(_not_minor_units(currency, amount), at=currency)
        if amount > LARGEST_AMOUNT:
            raise invalid(f"must be at most {LARGEST_AMOUNT:,} minor units", at=currency)
    return dict(sorted(value.items()))


def _not_minor_units(currency: str, amount: Any) -> str:
    """Why `amount` is no amount of `currency`, with what to write: an amount in the currency's
    units (10.5) in minor units (1050), a quoted number without its quotes. A whole number
    written as a decimal (`1000.0`, `1e3`) may be either, minor units or the currency's:
    both readings are given, never one guessed (a hundred times the other for USD)."""
    digits = money.digits(currency)
    got = str(amount).lower() if isinstance(amount, bool) else str(amount)
    if isinstance(amount, str):
        got = f"the text '{amount}': write the number without quotes"
    elif isinstance(amount, Decimal) and _whole_in_minor_units(amount, digits):
        minor = int(amount.scaleb(digits))
        if amount % 1 == 0 and minor != int(amount):
            as_minor = f"{currency} {money.decimal_text(int(amount), currency)}"
            as_units = f"{currency} {amount:.{digits}f}"
            got += f": write {int(amount)} for {as_minor}, or {minor} for {as_units}"
        elif amount % 1 == 0:  # no minor digits (JPY), or 0: one reading
            got += f": write {minor}"
        else:
            got += f": {currency} {amount:.{digits}f} is written {minor}"
    units = f"{currency} has {digits} minor digits"
    return f"must be a whole number of minor units >= 0, got {got} ({units})"


def _whole_in_minor_units(amount: Decimal, digits: int) -> bool:
    """Whether `amount`, in a currency's units, is a whole number of its minor units (NaN,
    infinity and numbers past any amount are not)."""
    try:
        return (
            amount.is_finite() and 0 <= amount <= LARGEST_AMOUNT and amount.scaleb(digits) % 1 == 0
        )
    except ArithmeticError:
        return False


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


def _data_file(value: Any) -> str:
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


Title = _checked(str, _title, {"type": "string", "pattern": r"^$|\S", "maxLength": LONGEST_TEXT})
Version = _checked(str, _version, {"type": "string", "pattern": r"\S", "maxLength": LONGEST_TEXT})
Zone = _checked(str, _zone, {"type": "string", "examples": ["UTC", "America/New_York"]})
Duration = _checked(timedelta, _duration, _DURATION_SCHEMA)
Timeout = _checked(timedelta, _timeout, _DURATION_SCHEMA)
Number = _checked(Decimal, _number, {"type": "number", "minimum": 0})
Share = _checked(Decimal, _share, {"type": "number", "minimum": 0, "maximum": 1})
Amounts = _checked(
    dict[str, int],
    _amounts,
    {
        "type": "object",
        "propertyNames": {"pattern": "^[A-Z]{3}$"},
        "additionalProperties": {"type": "integer", "minimum": 0},
    },
)
Names = tuple[StrictStr, ...]
Globs = _checked(
    tuple[str, ...],
    _globs,
    {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
)
FieldPath = _matching(r'^[^\s=".]+(\.[^\s=".]+)*$', "'{value}' is not a key or dotted path")
TsFormat = _checked(
    str, _ts_format, {"anyOf": [{"enum": list(TS_FORMATS)}, {"type": "string", "pattern": "%"}]}
)
Envelope = _checked(str, _envelope, {"enum": list(ENVELOPES)})
DataFile = _checked(
    str,
    _data_file,
    {"type": "string", "pattern": r"\.([Pp][Aa][Rr][Qq][Uu][Ee][Tt]|[Cc][Ss][Vv])$"},
)
DsnEnv = _checked(str, _dsn_env, {"type": "string", "pattern": "^env:[A-Za-z_][A-Za-z0-9_]*$"})
# Table names go into SQL text (an identifier cannot be bound): only plain names pass.
TableName = _matching(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$",
    "must be a table name such as transactions or public.transactions",
)
