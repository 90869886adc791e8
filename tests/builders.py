"""Small incidents made from inline rows, for tests: a TOML file, log lines and two tables."""

from __future__ import annotations

import gzip
import json
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from transforms import db
from transforms.errors import InputError
from transforms.ingest import incident, logs, tables
from transforms.reconcile import credits
from transforms.sample import world

WINDOW = ("2025-01-07T14:15:00", "2025-01-07T18:15:00")  # America/New_York: 19:15Z to 23:15Z

TRANSACTION_SCHEMA = world.TRANSACTIONS_SCHEMA
CUSTOMER_SCHEMA = world.CUSTOMERS_SCHEMA


def failure(txn_id: str, ts: str = "2025-01-07T20:00:00Z", code: str = "DB_POOL_TIMEOUT", **extra):
    """A `payment.failed` log line as a dict (customer, amount and currency only if given)."""
    return {"ts": ts, "event": "payment.failed", "txn_id": txn_id, "error_code": code, **extra}


def txn(
    txn_id: str,
    customer_id: str = "c1",
    amount_minor: int = 1000,
    currency: str = "USD",
    status: str = "failed",
    error_code: str | None = "DB_POOL_TIMEOUT",
    created_at: str = "2025-01-07T20:00:00Z",
) -> dict[str, Any]:
    """A transaction-table row."""
    at = datetime.fromisoformat(created_at)
    return {
        "txn_id": txn_id,
        "customer_id": customer_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "status": status,
        "error_code": error_code,
        "created_at": at,
        "updated_at": at,
    }


def customer(customer_id: str, segment: str = "consumer", status: str = "active", **extra):
    """A customer-table row."""
    row = {
        "customer_id": customer_id,
        "name": f"Name {customer_id}",
        "email": f"{customer_id}@example.com",
        "country": "US",
        "segment": segment,
        "status": status,
    }
    return {**row, **extra}


def toml_value(value: Any) -> str:
    """A Python value as a TOML value (enough for incident files)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def write_incident(
    folder: Path,
    *,
    lines: Iterable[Mapping[str, Any] | str | bytes] = (),
    transactions: Iterable[Mapping[str, Any]] = (),
    customers: Iterable[Mapping[str, Any]] | None = None,
    policy: Mapping[str, Any] | None = None,
    top: Mapping[str, Any] | None = None,
    sources: Mapping[str, Any] | None = None,
    quality: Mapping[str, Any] | None = None,
    log_name: str = "logs/pod-a.jsonl",
) -> Path:
    """Writes an incident folder; log lines may be dicts (JSON), text or raw bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / log_name
    log_path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(_line_bytes(line) for line in lines)
    if log_name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    log_path.write_bytes(data)
    rows = list(transactions)
    pq.write_table(pa.Table.from_pylist(rows, TRANSACTION_SCHEMA), folder / "transactions.parquet")
    if customers is None:
        ids = sorted(
            {row["customer_id"] for row in rows if row["customer_id"]} | {"c1", "c2", "c3"}
        )
        customers = [customer(i) for i in ids]
    pq.write_table(
        pa.Table.from_pylist(list(customers), CUSTOMER_SCHEMA), folder / "customers.parquet"
    )
    settings = {
        "id": "INC-T",
        "title": "Test outage",
        "timezone": "America/New_York",
        "window_start": WINDOW[0],
        "window_end": WINDOW[1],
        **(top or {}),
    }
    source_settings = {
        "logs": ["logs/*"],
        "transactions": "transactions.parquet",
        "customers": "customers.parquet",
        **(sources or {}),
    }
    policy_settings = {"version": "t1", "flat_minor": {"USD": 1000, "EUR": 900, "JPY": 1500}}
    policy_settings.update(policy or {})
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in settings.items())
    text += "[sources]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in source_settings.items())
    text += "[policy]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in policy_settings.items())
    if quality:
        text += "[quality]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in quality.items())
    path = folder / "incident.toml"
    path.write_text(text, encoding="utf-8")
    return path


def reconcile_incident(path: Path, work_dir: Path):
    """Runs staging, classes and credits in memory (no Prefect); returns the connection."""
    loaded = incident.load(path)
    con = db.connect()
    logs.stage(con, loaded, work_dir)
    tables.stage(con, loaded)
    credits.reconcile(con, loaded)
    return con


def stopped(path: Path, work_dir: Path) -> str:
    """The message of the input error that stops `reconcile_incident` on the incident."""
    try:
        reconcile_incident(path, work_dir)
    except InputError as error:
        return str(error)
    raise AssertionError("the run was not stopped")


def rows(con, table: str, *columns: str) -> list[tuple]:
    """The table's rows as tuples of the named columns, sorted by the first."""
    return con.table(table).select(*columns).order(columns[0]).fetchall()


def _line_bytes(line: Mapping[str, Any] | str | bytes) -> bytes:
    if isinstance(line, bytes):
        return line
    if isinstance(line, str):
        return (line + "\n").encode()
    return (json.dumps(line) + "\n").encode()


def write_csv_tables(folder: Path) -> None:
    """Writes the folder's two Parquet tables again as `transactions.csv` and `customers.csv`."""
    for table in ("transactions", "customers"):
        pa_csv.write_csv(pq.read_table(folder / f"{table}.parquet"), folder / f"{table}.csv")


def write_duckdb_tables(folder: Path, name: str = "payments.duckdb") -> Path:
    """Copies the folder's two Parquet tables into a DuckDB file as `transactions`, `customers`."""
    path = folder / name
    with duckdb.connect(str(path)) as con:
        for table in ("transactions", "customers"):
            con.from_arrow(pq.read_table(folder / f"{table}.parquet")).create(table)
    return path


def _written_beside(path: Path, name: str, raw: dict[str, Any]) -> Path:
    """The incident file `raw` (its keys, then its tables) written beside `path` as `name`."""
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in raw.items() if not isinstance(v, dict))
    for section, values in raw.items():
        if isinstance(values, dict):
            text += f"[{section}]\n" + "".join(
                f"{k} = {toml_value(v)}\n" for k, v in values.items()
            )
    copy = path.with_name(name)
    copy.write_text(text, encoding="utf-8")
    return copy


def with_sources(path: Path, name: str, **sources: Any) -> Path:
    """A copy of the incident file `path`, beside it as `name`, with the `sources` given."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw["sources"] = {**raw["sources"], **sources}
    return _written_beside(path, name, raw)


def with_policy(path: Path, name: str, policy_file: Path) -> Path:
    """A copy of the incident file `path`, beside it as `name`, whose `[policy]` is the one of
    `policy_file` (a policy file for `credits what-if`), as a run with that policy would read."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    raw["policy"] = tomllib.loads(policy_file.read_text(encoding="utf-8"), parse_float=Decimal)[
        "policy"
    ]
    return _written_beside(path, name, raw)


def policy_file(folder: Path, name: str, **policy: Any) -> Path:
    """Writes a policy file (a `[policy]` table, as `credits what-if --policy` reads it)."""
    path = folder / name
    path.write_text(
        "[policy]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in policy.items()),
        encoding="utf-8",
    )
    return path


KEYED_SCHEMA = Path(__file__).parent / "fixtures" / "warehouse_schema_keyed.sql"


def rewrite_with_keyed_schema(path: Path) -> None:
    """Rewrites the warehouse at `path` as one made before the per-run tables lost their keys:
    those tables as they were (`fixtures/warehouse_schema_keyed.sql`: an exception's one amount
    column, schema version 2), every row copied."""
    old = path.with_name(path.stem + "-keyed.duckdb")
    with duckdb.connect(str(old)) as con:
        con.execute(KEYED_SCHEMA.read_text(encoding="utf-8"))
        con.execute(db.statement("warehouse_schema"))  # the tables that kept their form
        con.execute("attach $path as new (read_only)", {"path": str(path)})
        names = con.execute(
            "select table_name from duckdb_tables() where database_name = 'new'"
        ).fetchall()
        for (name,) in names:  # names from the warehouse itself
            con.execute(f'insert into main."{name}" by name select * from new."{name}"')
        con.execute(
            "update main.run_exceptions set amount_minor = coalesce(credit_owed_minor, "
            "failed_amount_minor)"
        )
        for column in ("credit_owed_minor", "failed_amount_minor"):
            con.execute(f"alter table main.run_exceptions drop column {column}")
        con.execute("delete from main.schema_versions where version > 2")
    old.replace(path)
