"""Money is integer minor units; ISO 4217 digits come from the `iso4217` package (ISO's own
list), never a table of ours. Babel formats them for people, and says which codes are currencies
and which were legal tender on an incident's days (CLDR)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache, lru_cache

import iso4217
from babel import Locale
from babel.core import get_global
from babel.numbers import (
    get_currency_precision,
    get_territory_currencies,
    list_currencies,
    parse_pattern,
)

# The ISO code, a space, thousands grouped, the sign after the code: `USD 14,750.00`,
# `EUR -3.50`, with as many decimals as the currency's ISO 4217 digits.
DISPLAY_LOCALE = "en_US"
_LOCALE = Locale.parse(DISPLAY_LOCALE)


@cache
def digits(currency: str) -> int:
    """The currency's ISO 4217 minor-unit digits: 2 for USD, 0 for JPY, 3 for BHD, 2 for HUF
    and IDR (Babel's CLDR digits, what cash is rounded to, say 0 for those). A code ISO gives
    no minor unit (gold, XDR) or no longer lists: CLDR's digits."""
    try:
        exponent = iso4217.Currency(currency).exponent
    except ValueError:
        exponent = None
    return get_currency_precision(currency) if exponent is None else exponent


@lru_cache(maxsize=8)
def _pattern(places: int):
    """Babel's pattern for an amount with `places` decimals (parsed once per count)."""
    fraction = "." + "0" * places if places else ""
    return parse_pattern(f"¤¤ #,##0{fraction};¤¤ -#,##0{fraction}")


def minor_unit_factor(currency: str) -> int:
    """10 ^ the currency's ISO 4217 digits: 100 for USD, 1 for JPY, 1000 for BHD."""
    return 10 ** digits(currency)


def decimal_text(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's digits: 1000 USD -> "10.00"."""
    return str(Decimal(amount_minor).scaleb(-digits(currency)))


def minor_units(amount: str | Decimal, currency: str) -> int:
    """The inverse of `decimal_text`: "10.00" USD -> 1000, "1500" JPY -> 1500."""
    return int(Decimal(amount).scaleb(digits(currency)))


@lru_cache(maxsize=65536)  # a list of thousands of credits repeats a few amounts
def display(amount_minor: int, currency: str) -> str:
    """Money for people, from Babel: `USD 14,750.00`, `JPY 1,500`, `BHD 1.234`, `EUR -3.50`
    (Babel's `format_currency` with a pattern of the currency's ISO digits, parsed once)."""
    places = digits(currency)
    amount = Decimal(amount_minor).scaleb(-places)
    return _pattern(places).apply(amount, _LOCALE, currency=currency, currency_digits=False)


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


# ISO 4217's codes that are no money to pay a credit in: XXX ("no currency involved") and XTS
# ("reserved for testing").
NO_MONEY = frozenset({"XXX", "XTS"})
# Every code Babel knows, withdrawn (DEM, HRK) and unofficial (CNH) ones included: a currency
# code at all. Whether one is money on an incident's days is `money_on`'s to say.
_CODES = frozenset(list_currencies()) - NO_MONEY


def is_currency_code(code: str) -> bool:
    """Whether `code` is a currency code (Babel's list, withdrawn and unofficial codes included)
    other than XXX and XTS: what a policy's amounts and a rates file are keyed by. A policy
    outlives an incident, so its keys are not held to one incident's days; a line in a currency
    not in use then is refused before any amount is looked up."""
    return code in _CODES


def not_a_currency(code: str) -> str:
    """The message for a key that is no currency code, naming the code a case slip meant."""
    meant = code.strip().upper()
    hint = f"; did you mean '{meant}'?" if is_currency_code(meant) else ""
    return f"is not an ISO 4217 currency code{hint}"


@cache
def money_on(first: date, last: date) -> tuple[str, ...]:
    """The currencies that were legal tender in some territory on some day from `first` to
    `last` (both included), sorted: what a payment on those days may be in. From CLDR's
    territory currencies, through Babel (`get_territory_currencies(..., tender=True)`): so DEM,
    HRK (withdrawn) and CNH (no territory's tender) are not, and BGN is until its last day
    (2026-01-31) and EUR in Bulgaria from 2026-01-01. Cached: one set per incident."""
    found = {
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, first, last, tender=True)
    }
    return tuple(sorted(found - NO_MONEY))
