"""Money is integer minor units; ISO 4217 digits come from Babel, never a table of ours."""

from __future__ import annotations

from decimal import Decimal
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
