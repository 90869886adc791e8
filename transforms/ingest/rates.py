"""A rates file (`credits what-if --rates`): fixed exchange rates into one reporting currency.

```toml
currency = "USD"          # the reporting currency
[rates]                   # units of the reporting currency per unit of each other currency
EUR = 1.0825
JPY = 0.0064
```

Rates are exact decimals (TOML floats read as Decimal), > 0, at most 10^18 and with at most 12
decimal places; every mistake is a `ConfigError` naming the file and the dotted key, as in an
incident file.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError, field_validator, model_validator

from transforms.errors import ConfigError
from transforms.ingest import incident
from transforms.ingest.incident.amounts import Number
from transforms.ingest.incident.sections import Table
from transforms.ingest.incident.values import first_error, invalid, resolved
from transforms.money import is_currency_code, not_a_currency

LARGEST_RATE = 10**18
"""The largest rate: far beyond any (a rate the wrong way round is far below it)."""
RATE_PLACES = 12
"""A rate's decimal places: 10^-12, far below any currency's worth in another."""


@dataclass(frozen=True)
class Rates:
    """Rates into `currency`: `rates[X]` units of `currency` per unit of X (the reporting
    currency itself is 1)."""

    path: Path
    currency: str
    rates: dict[str, Decimal]

    def missing(self, currencies: set[str]) -> list[str]:
        """The currencies among `currencies` without a rate, sorted."""
        return sorted(currencies - set(self.rates) - {self.currency})


class RatesFile(Table):
    """The rates file, as written."""

    currency: str
    """The reporting currency (ISO 4217)."""
    rates: dict[str, Number]
    """Units of the reporting currency per unit of each currency, exact decimals > 0."""

    @field_validator("rates", mode="before")
    @classmethod
    def _table(cls, value: object) -> object:
        if not isinstance(value, dict):  # pydantic's words: "Input should be a valid dictionary"
            raise invalid("must be a table of currency = rate, such as [rates] EUR = 1.0825")
        return value

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str) -> str:
        if not is_currency_code(value):
            raise invalid(not_a_currency(value))
        return value

    @model_validator(mode="after")
    def _rates(self) -> RatesFile:
        for code, rate in self.rates.items():
            if not is_currency_code(code):
                raise invalid(not_a_currency(code), at=f"rates.{code}")
            if rate <= 0:
                raise invalid("must be a rate > 0", at=f"rates.{code}")
            # Bounded, so that a total's exact conversion stays small: 1e-400000000 is a
            # finite decimal whose fraction held 10^400,000,000 (minutes, and no message).
            if rate > LARGEST_RATE:
                raise invalid("must be at most 10^18", at=f"rates.{code}")
            if _places(rate) > RATE_PLACES:
                raise invalid(f"may have at most {RATE_PLACES} decimal places", at=f"rates.{code}")
            if code == self.currency and rate != 1:
                raise invalid(
                    f"{code} is the reporting currency: its rate is 1", at=f"rates.{code}"
                )
        return self


def load(path: Path) -> Rates:
    """Reads and checks a rates file; raises `ConfigError` naming the file and key."""
    path = resolved(Path(path), "a rates file")
    raw = incident.read_toml(path, "rates file")
    if "policy" in raw or (raw and set(raw) <= set(incident.Policy.model_fields)):
        raise ConfigError(  # `--rates share.toml`: the two files swapped
            f"{path}: a policy, not a rates file ({', '.join(RatesFile.model_fields)}): give it as "
            "--policy, and the rates file as --rates"
        )
    try:
        parsed = RatesFile.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{path}: {first_error(error)}") from None
    return Rates(path, parsed.currency, dict(parsed.rates))


def _places(rate: Decimal) -> int:
    """The decimal places `rate` needs (`1.50` needs 1), from its digits: rounding it would
    take a context whose precision 10^18 with 12 places already exceeds."""
    _, digits, exponent = rate.as_tuple()
    written = "".join(map(str, digits))
    return max(0, -(int(exponent) + len(written) - len(written.rstrip("0"))))
