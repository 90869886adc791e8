"""A rates file (`credits what-if --rates`): fixed exchange rates into one reporting currency.

```toml
currency = "USD"          # the reporting currency
[rates]                   # units of the reporting currency per unit of each other currency
EUR = 1.0825
JPY = 0.0064
```

Rates are exact decimals (TOML floats read as Decimal), > 0; every mistake is a `ConfigError`
naming the file and the dotted key, as in an incident file.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError, field_validator, model_validator

from transforms.errors import ConfigError
from transforms.ingest import incident
from transforms.ingest.incident.sections import Table
from transforms.ingest.incident.values import Number, first_error, invalid, is_money, resolved


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

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str) -> str:
        if not is_money(value):
            raise invalid("is not an ISO 4217 currency code")
        return value

    @model_validator(mode="after")
    def _rates(self) -> RatesFile:
        for code, rate in self.rates.items():
            if not is_money(code):
                raise invalid("is not an ISO 4217 currency code", at=f"rates.{code}")
            if rate <= 0:
                raise invalid("must be a rate > 0", at=f"rates.{code}")
            if code == self.currency and rate != 1:
                raise invalid(
                    f"{code} is the reporting currency: its rate is 1", at=f"rates.{code}"
                )
        return self


def load(path: Path) -> Rates:
    """Reads and checks a rates file; raises `ConfigError` naming the file and key."""
    path = resolved(Path(path), "a rates file")
    raw = incident.read_toml(path, "rates file")
    try:
        parsed = RatesFile.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{path}: {first_error(error)}") from None
    return Rates(path, parsed.currency, dict(parsed.rates))
