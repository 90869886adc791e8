"""Which store a location names, and a URL's password: masked in messages, kept out of what
Prefect records of a run (moved to PGPASSWORD for the process)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows import settings
from transforms.finance import pg_store, warehouse


@pytest.mark.parametrize(
    ("location", "postgres"),
    [
        ("postgresql://u@h:5432/db", True),
        ("postgres://u@h/db", True),
        ("data/warehouse.duckdb", False),
        (Path("postgresql:/looks/like/a/url"), False),  # a Path is always a file
    ],
)
def test_a_location_names_a_postgresql_store_only_by_its_scheme(location, postgres):
    assert pg_store.is_url(location) is postgres
    assert isinstance(warehouse.locate(location), str if postgres else Path)


def test_a_password_is_masked_in_what_is_shown():
    assert pg_store.shown("postgresql://fin:pw%40x@db:5432/c") == "postgresql://fin:***@db:5432/c"
    assert pg_store.shown("postgresql://fin@db/c") == "postgresql://fin@db/c"
    assert warehouse.shown(Path("wh.duckdb")) == "wh.duckdb"


def test_a_run_parameter_holds_no_password_and_libpq_gets_it(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    given = "postgresql://fin:pw@db:5432/c?sslmode=require"
    assert settings.warehouse_parameter(given) == "postgresql://fin@db:5432/c?sslmode=require"
    assert os.environ["PGPASSWORD"] == "pw"
    assert settings.warehouse_parameter("wh.duckdb") == "wh.duckdb"


def test_the_environment_chooses_the_store_unless_a_command_says(monkeypatch):
    monkeypatch.delenv(settings.WAREHOUSE_VARIABLE, raising=False)
    assert settings.warehouse_default() == "data/warehouse.duckdb"
    monkeypatch.setenv(settings.WAREHOUSE_VARIABLE, "postgresql://fin@db/c")
    assert settings.warehouse_default() == "postgresql://fin@db/c"
