"""A rates file (`credits what-if --rates`): fixed rates into one reporting currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from transforms.errors import ConfigError
from transforms.ingest import rates


def test_rates_are_exact_decimals_into_the_reporting_currency(tmp_path):
    path = tmp_path / "rates.toml"
    # GBP's zeros written past 12 decimal places are no places of its value
    path.write_text(
        'currency = "USD"\n[rates]\nEUR = 1.0825\nJPY = 0.0064\nUSD = 1\n'
        "GBP = 1.25000000000000000\n"
    )
    read = rates.load(path)
    assert read.currency == "USD"
    assert read.rates == {
        "EUR": Decimal("1.0825"),
        "JPY": Decimal("0.0064"),
        "USD": 1,
        "GBP": Decimal("1.25"),
    }
    assert read.missing({"USD", "EUR", "CHF", "BHD"}) == ["BHD", "CHF"]  # USD itself needs none


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('currency = "USD"\n[rates]\nEUR = 0\n', "rates.EUR: must be a rate > 0"),
        ('currency = "USD"\n[rates]\nEUR = "1.1"\n', "rates.EUR: must be a number"),  # quoted
        # a rate exact to a power of ten this far off took what-if minutes (its exact fraction
        # holds 10^400,000,000), with no message: bounded, so every total comes out at once
        ('currency = "USD"\n[rates]\nJPY = 1e-400000000\n', "rates.JPY: may have at most 12"),
        ('currency = "USD"\n[rates]\nJPY = 1e400000000\n', "rates.JPY: must be at most 10^18"),
        (
            'currency = "USD"\n[rates]\nJPY = 1.' + "0" * 100_000 + "1\n",
            "rates.JPY: may have at most 12 decimal places",
        ),
        ('currency = "USD"\n[rates]\nEURO = 1\n', "rates.EURO: is not an ISO 4217 currency"),
        (
            'currency = "USD"\n[rates]\neur = 1\n',
            "rates.eur: is not an ISO 4217 currency code; did you mean 'EUR'?",
        ),
        (
            'currency = "usd"\n[rates]\n',
            "currency: is not an ISO 4217 currency code; did you mean 'USD'?",
        ),
        ('currency = "USD"\n[rates]\nUSD = 2\n', "rates.USD: USD is the reporting currency"),
        ('currency = "DOLLAR"\n[rates]\n', "currency: is not an ISO 4217 currency code"),
        ('curency = "USD"\n[rates]\n', "curency: unknown key; did you mean 'currency'?"),
        ('currency = "USD"\n', "rates: is required"),
        # pydantic's own words were shown: "rates: Input should be a valid dictionary"
        ('currency = "USD"\nrates = 1.08\n', "rates: must be a table of currency = rate"),
        ('currency = "USD"\nrates = ["EUR", 1.08]\n', "rates: must be a table of currency = rate"),
        ("currency = \n", "not a valid TOML file"),
        # read as the incident file is: it was a bug's exit 1 (RecursionError)
        ("x = " + "[" * 20000 + "]" * 20000 + "\n", "not a valid TOML file: nested too deeply"),
    ],
)
def test_a_bad_rates_file_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "rates.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        rates.load(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_a_missing_rates_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="rates.toml: rates file not found"):
        rates.load(tmp_path / "rates.toml")


def test_a_rates_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    # as an incident file is (some Windows editors put one first): it was "not a valid TOML file"
    path = tmp_path / "rates.toml"
    path.write_bytes(b'\xef\xbb\xbfcurrency = "USD"\n[rates]\nEUR = 1.08\n')
    assert rates.load(path).rates == {"EUR": Decimal("1.08")}


def test_a_rates_file_that_is_a_loop_of_symbolic_links_is_named(tmp_path):
    # Python 3.11's resolve raises RuntimeError on a loop: a bug's exit 1
    (tmp_path / "rates.toml").symlink_to("rates.toml")
    with pytest.raises(ConfigError, match="rates.toml: a loop of symbolic links, not a rates"):
        rates.load(tmp_path / "rates.toml")


@pytest.mark.parametrize("header", ["[policy]\n", ""])
def test_a_policy_file_given_as_the_rates_says_to_give_it_as_a_policy(tmp_path, header):
    # `what-if --rates share.toml` said "policy: unknown key; known keys: ['currency', 'rates']"
    path = tmp_path / "share.toml"
    path.write_text(f"{header}version = 'p2'\nbasis = 'flat_per_customer'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        rates.load(path)
    assert str(raised.value) == (
        f"{path}: a policy, not a rates file (currency, rates): give it as --policy, and the "
        "rates file as --rates"
    )
