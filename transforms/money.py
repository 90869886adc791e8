"""Money is integer minor units; ISO 4217 digits come from Babel, never a table of ours."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision


def minor_unit_factor(currency: str) -> int:
    """10 ^ the currency's ISO 4217 digits: 100 for USD, 1 for JPY, 1000 for BHD."""
    return 10 ** get_currency_precision(currency)


def decimal_text(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's digits: 1000 USD -> "10.00"."""
    return str(Decimal(amount_minor).scaleb(-get_currency_precision(currency)))


def display(amount_minor: int, currency: str) -> str:
    """For people: `USD 14,750.00`, the currency's digits, thousands grouped."""
    return f"{currency} {Decimal(decimal_text(amount_minor, currency)):,}"
