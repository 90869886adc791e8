"""Money shown to people: one Babel form, the currency's own digits."""

from __future__ import annotations

from decimal import Decimal

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
        # ISO 4217's digits, not CLDR's (what cash rounds to: 0 for these)
        (100000, "HUF", "HUF 1,000.00"),
        (100000, "IDR", "IDR 1,000.00"),
        (1500, "IQD", "IQD 1.500"),
    ],
)
def test_money_is_shown_with_the_currency_digits_and_grouping(minor, currency, shown):
    assert money.display(minor, currency) == shown


@pytest.mark.parametrize(("minor", "currency"), [(1000, "USD"), (1500, "JPY"), (1234, "BHD")])
def test_decimal_text_and_minor_units_are_inverse(minor, currency):
    assert money.minor_units(money.decimal_text(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("currency", "text"),
    [
        ("HUF", "1000.00"),
        ("IDR", "1000.00"),
        ("COP", "1000.00"),
        ("IQD", "100.000"),
        ("CLF", "10.0000"),
    ],
)
def test_a_credit_amount_has_the_iso_4217_digits(currency, text):
    # rule 8: `credit_amount` has the currency's ISO 4217 digits (Babel's CLDR data gives 0
    # for HUF, IDR, COP and IQD: 100 or 1000 times the amount)
    assert money.decimal_text(100000, currency) == text


@pytest.mark.parametrize(
    ("minor", "currency"),
    [(1475000, "USD"), (-1, "JPY"), (987654321, "BHD"), (5, "CLF"), (100000, "HUF")],
)
def test_the_form_is_babels_format_currency_with_the_iso_digits(minor, currency):
    import iso4217
    from babel.numbers import format_currency

    places = iso4217.Currency(currency).exponent
    fraction = "." + "0" * places if places else ""
    expected = format_currency(
        Decimal(minor).scaleb(-places),
        currency,
        format=f"¤¤ #,##0{fraction};¤¤ -#,##0{fraction}",
        locale="en_US",
        currency_digits=False,
    )
    assert money.display(minor, currency) == expected


@pytest.mark.parametrize(
    ("minor", "currency", "rate", "into", "converted"),
    [
        (1234, "EUR", "1.0825", "USD", 1336),  # 13.35805 USD: below half a cent past 13.35
        (5, "USD", "0.1", "USD", 1),  # exactly half a minor unit: up
        (4, "USD", "0.1", "USD", 0),  # less than half: down (the negative case)
        (-5, "USD", "0.1", "USD", -1),  # a negative half: away from zero
        (1500, "JPY", "0.0064", "USD", 960),  # no minor digits into two
        (1, "USD", "150.5", "JPY", 2),  # 1.505 yen -> 2
        (1005, "BHD", "2.6525", "USD", 267),  # three digits: 1.005 BHD = 2.6657625 USD
        # exact at any size: no float, no Decimal context rounding at 28 digits
        (10**18 + 1, "BHD", "2.65250000001", "USD", 265250000001000000),
    ],
)
def test_convert_is_exact_then_half_up_to_a_whole_minor_unit(
    minor, currency, rate, into, converted
):
    assert money.convert(minor, currency, Decimal(rate), into) == converted
