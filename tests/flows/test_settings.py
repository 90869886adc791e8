"""The settings read from the environment (`flows.settings`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import settings
from transforms.errors import ConfigError


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "set but empty"),  # `export CREDITS_JOURNAL_KEY=` with the secret missing
        ("  \t", "set but empty"),  # blanks only
        ("short", "set but shorter than 16 characters"),
    ],
)
def test_a_journal_key_too_short_to_be_a_secret_is_refused_saying_what_it_is(
    monkeypatch, value, says
):
    monkeypatch.setenv("CREDITS_JOURNAL_KEY", value)
    with pytest.raises(ConfigError, match=rf"^CREDITS_JOURNAL_KEY: {says}; use a long random"):
        settings.journal_key()


@pytest.mark.parametrize(
    ("value", "key"),
    [(None, None), ("k" * 16, b"k" * 16), (" s3cr3t-0123456789 ", b" s3cr3t-0123456789 ")],
)
def test_a_journal_key_is_its_bytes_as_given_or_none_when_unset(monkeypatch, value, key):
    if value is None:
        monkeypatch.delenv("CREDITS_JOURNAL_KEY", raising=False)
    else:
        monkeypatch.setenv("CREDITS_JOURNAL_KEY", value)
    assert settings.journal_key() == key


@pytest.mark.parametrize(
    ("value", "default"),
    [
        (None, "data/warehouse.duckdb"),  # unset: the file
        ("", "data/warehouse.duckdb"),  # set but empty: the file
        (" postgresql://u@db:5432/c\n", "postgresql://u@db:5432/c"),  # a .env line's blanks
        ("wh.duckdb", "wh.duckdb"),
    ],
)
def test_the_default_warehouse_is_credits_warehouse_without_blanks_around_it(
    monkeypatch, tmp_path, value, default
):
    # `make serve`'s deployments read it here: " postgresql://..." was a DuckDB path to them
    monkeypatch.chdir(tmp_path)
    if value is None:
        monkeypatch.delenv("CREDITS_WAREHOUSE", raising=False)
    else:
        monkeypatch.setenv("CREDITS_WAREHOUSE", value)
    assert settings.warehouse_default() == default


@pytest.mark.parametrize(
    ("value", "default"),
    [(None, "data/outbox"), ("", "data/outbox"), (" /shared/outbox\n", "/shared/outbox")],
)
def test_the_default_outbox_is_credits_outbox_without_blanks_around_it(monkeypatch, value, default):
    # the flow's own approval (its form on a Prefect server) decides into it, as the CLI does
    if value is None:
        monkeypatch.delenv("CREDITS_OUTBOX", raising=False)
    else:
        monkeypatch.setenv("CREDITS_OUTBOX", value)
    assert settings.outbox_default() == Path(default)


@pytest.mark.parametrize(
    ("location", "named"),
    [
        # the default file, however spelled: the pages' commands as they always were
        ("data/warehouse.duckdb", None),
        ("./data/../data/warehouse.duckdb", None),
        ("{cwd}/data/warehouse.duckdb", None),
        # another file: its absolute path (the page is read, its command pasted, anywhere)
        ("other/wh.duckdb", "{cwd}/other/wh.duckdb"),
        ("/srv/finance/wh.duckdb", "/srv/finance/wh.duckdb"),
        # a URL, never with its password (a flow run's is without it already)
        ("postgresql://finance@db:5432/credits", "postgresql://finance@db:5432/credits"),
        ("postgresql://finance:s3cret@db/credits", "postgresql://finance:***@db/credits"),
    ],
)
def test_a_run_s_pages_name_its_warehouse_unless_it_is_the_default_file(
    tmp_path, monkeypatch, location, named
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITS_WAREHOUSE", "/set/in/this/shell.duckdb")  # not the pages' default
    expected = None if named is None else named.format(cwd=tmp_path)
    assert settings.warehouse_named(location.format(cwd=tmp_path)) == expected
