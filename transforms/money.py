"""Money is integer minor units; ISO 4217 digits come from Babel, never a table of ours."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from babel import Locale
from babel.numbers import get_currency_precision, parse_pattern

# The ISO code, a space, thousands grouped, the sign after the code: `USD 14,750.00`,
# `EUR -3.50`. Babel replaces the pattern's two decimals by the currency's own digits.
DISPLAY_PATTERN = "¤¤ #,##0.00;¤¤ -#,##0.00"
DISPLAY_LOCALE = "en_US"
_PATTERN = parse_pattern(DISPLAY_PATTERN)  # parsed once: format_currency would parse it per call
_LOCALE = Locale.parse(DISPLAY_LOCALE)


def minor_unit_factor(currency: str) -> int:
    """10 ^ the currency's ISO 4217 digits: 100 for USD, 1 for JPY, 1000 for BHD."""
    return 10 ** get_currency_precision(currency)


def decimal_text(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's digits: 1000 USD -> "10.00"."""
    return str(Decimal(amount_minor).scaleb(-get_currency_precision(currency)))


def minor_units(amount: str | Decimal, currency: str) -> int:
    """The inverse of `decimal_text`: "10.00" USD -> 1000, "1500" JPY -> 1500."""
    return int(Decimal(amount).scaleb(get_currency_precision(currency)))


@lru_cache(maxsize=65536)  # a list of thousands of credits repeats a few amounts
def display(amount_minor: int, currency: str) -> str:
    """Money for people, from Babel: `USD 14,750.00`, `JPY 1,500`, `BHD 1.234`, `EUR -3.50`
    (Babel's `format_currency` with this pattern, the pattern parsed once)."""
    amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    return _PATTERN.apply(amount, _LOCALE, currency=currency, currency_digits=True)


def convert(amount_minor: int, currency: str, rate: Decimal, into: str) -> int:
    """`amount_minor` of `currency` in minor units of `into`, at `rate` units of `into` per unit
    of `currency`: exact (fractions of integers, no float, no Decimal context rounding), then
    rounded half up to a whole minor unit (half away from zero for a negative amount).
    1234 EUR at 1.0825 into USD is 13.35805 USD -> 1336 (USD 13.36).
    """
    exact = Fraction(amount_minor) * Fraction(rate) * minor_unit_factor(into)
    exact /= minor_unit_factor(currency)
    sign = -1 if exact < 0 else 1
    return sign * int(abs(exact) + Fraction(1, 2))
