"""The incident file's numbers and amounts: a number as written (one spelling of it, for the
policy's fingerprint), a share, and amounts per currency in integer minor units, each bounded so
that every sum stays exact. Each type is a check (it returns the value or raises `invalid`) with
its JSON Schema, as in `values`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from transforms import money
from transforms.ingest.incident.values import checked, invalid
from transforms.money import is_currency_code, not_a_currency

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


Number = checked(Decimal, _number, {"type": "number", "minimum": 0})
Share = checked(Decimal, _share, {"type": "number", "minimum": 0, "maximum": 1})
Amounts = checked(
    dict[str, int],
    _amounts,
    {
        "type": "object",
        "propertyNames": {"pattern": "^[A-Z]{3}$"},
        "additionalProperties": {"type": "integer", "minimum": 0},
    },
)
