"""Money is integer minor units; ISO 4217 digits come from Babel, never a table of ours."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

# The ISO code, a space, thousands grouped, the sign after the code: `USD 14,750.00`,
# `EUR -3.50`. Babel replaces the pattern's two decimals by the currency's own digits.
DISPLAY_PATTERN = "¤¤ #,##0.00;¤¤ -#,##0.00"
DISPLAY_LOCALE = "en_US"


def minor_unit_factor(currency: str) -> int:
    """10 ^ the currency's ISO 4217 digits: 100 for USD, 1 for JPY, 1000 for BHD."""
    return 10 ** get_currency_precision(currency)


def decimal_text(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's digits: 1000 USD -> "10.00"."""
    return str(Decimal(amount_minor).scaleb(-get_currency_precision(currency)))


def minor_units(amount: str | Decimal, currency: str) -> int:
    """The inverse of `decimal_text`: "10.00" USD -> 1000, "1500" JPY -> 1500."""
    return int(Decimal(amount).scaleb(get_currency_precision(currency)))


def display(amount_minor: int, currency: str) -> str:
    """Money for people, from Babel: `USD 14,750.00`, `JPY 1,500`, `BHD 1.234`, `EUR -3.50`."""
    amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    return format_currency(
        amount, currency, format=DISPLAY_PATTERN, locale=DISPLAY_LOCALE, currency_digits=True
    )
