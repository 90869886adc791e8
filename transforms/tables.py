"""The transaction and customer tables: checked against their column contract, then staged.

A missing column or a column of the wrong type stops the run with a message naming the file,
the column and the type found; values (duplicates, amounts, codes) are the quality gate's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms import db, files
from transforms.errors import InputError
from transforms.incident import Incident

_TypeCheck = Callable[[pa.DataType], bool]


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _is_timestamp(kind: pa.DataType) -> bool:
    return pa.types.is_timestamp(kind)


TEXT: tuple[str, _TypeCheck] = ("text", _is_text)
INTEGER: tuple[str, _TypeCheck] = ("integer", pa.types.is_integer)
TIMESTAMP: tuple[str, _TypeCheck] = ("timestamp", _is_timestamp)

TRANSACTION_COLUMNS = {
    "txn_id": TEXT,
    "customer_id": TEXT,
    "amount_minor": INTEGER,
    "currency": TEXT,
    "status": TEXT,
    "error_code": TEXT,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}
CUSTOMER_COLUMNS = {
    "customer_id": TEXT,
    "name": TEXT,
    "email": TEXT,
    "country": TEXT,
    "segment": TEXT,
    "status": TEXT,
}


@dataclass(frozen=True)
class TableFile:
    """One input table file: its path as shown, sha256 and row count."""

    name: str
    path: Path
    sha256: str
    rows: int


def check_columns(path: Path, name: str, contract: dict[str, tuple[str, _TypeCheck]]) -> int:
    """Checks the Parquet file's columns against `contract`; returns its row count."""
    try:
        metadata = pq.read_metadata(path)
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{name}: not a readable Parquet file ({error})") from None
    schema = metadata.schema.to_arrow_schema()
    for column, (wanted, is_kind) in contract.items():
        if column not in schema.names:
            raise InputError(f"{name}: required column '{column}' is missing")
        kind = schema.field(column).type
        if not is_kind(kind):
            raise InputError(f"{name}: column '{column}' is {kind}, expected {wanted}")
    return metadata.num_rows


def check(incident: Incident) -> list[TableFile]:
    """Checks both tables' columns; returns the files, named as shown, hashed and counted."""
    root = incident.path.parent
    checked = []
    for path, contract in (
        (incident.sources.transactions, TRANSACTION_COLUMNS),
        (incident.sources.customers, CUSTOMER_COLUMNS),
    ):
        name = files.display_name(path, root)
        rows = check_columns(path, name, contract)
        checked.append(TableFile(name, path, files.sha256(path), rows))
    return checked


def stage(con: duckdb.DuckDBPyConnection, incident: Incident) -> list[TableFile]:
    """Stages `stg_transactions` and `stg_customers`; returns the files read."""
    transactions, customers = check(incident)
    db.run(con, "stg_transactions", path=str(transactions.path))
    db.run(con, "stg_customers", path=str(customers.path))
    return [transactions, customers]

