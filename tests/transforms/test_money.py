"""Money shown to people: one Babel form, the currency's own digits."""

from __future__ import annotations

import pytest

from transforms import money


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (1475000, "USD", "USD 14,750.00"),
        (1500, "JPY", "JPY 1,500"),  # no minor unit
        (1234, "BHD", "BHD 1.234"),  # three digits
        (0, "EUR", "EUR 0.00"),
        (-350, "EUR", "EUR -3.50"),  # a decrease: the sign after the code
        (123456789, "USD", "USD 1,234,567.89"),
    ],
)
def test_money_is_shown_with_the_currency_digits_and_grouping(minor, currency, shown):
    assert money.display(minor, currency) == shown


@pytest.mark.parametrize(("minor", "currency"), [(1000, "USD"), (1500, "JPY"), (1234, "BHD")])
def test_decimal_text_and_minor_units_are_inverse(minor, currency):
    assert money.minor_units(money.decimal_text(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency"), [(1475000, "USD"), (-1, "JPY"), (987654321, "BHD"), (5, "CLF")]
)
def test_the_form_is_babels_format_currency(minor, currency):
    from decimal import Decimal

    from babel.numbers import format_currency, get_currency_precision

    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    expected = format_currency(
        amount, currency, format=money.DISPLAY_PATTERN, locale="en_US", currency_digits=True
    )
    assert money.display(minor, currency) == expected
