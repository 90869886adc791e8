"""The support page on a warehouse it cannot open once it serves (moved away, or replaced by a
file of something else): every page says so (503), none that a customer was not found; and on
one a run holds as it starts."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from flows.support_page import app, command
from tests.support_warehouse import build
from transforms.finance import warehouse
from transforms.serving import support

URLS = ("/?q=c2", "/customers/c2", "/incidents/INC-A", "/incidents/INC-A.csv", "/")


@pytest.mark.parametrize(
    "spoil, said",
    [
        (lambda path: path.rename(path.with_suffix(".moved")), "no warehouse yet"),  # moved away
        (lambda path: path.write_bytes(b"not a warehouse\n"), "not a DuckDB warehouse"),
    ],
)
def test_a_warehouse_the_page_cannot_open_is_no_answer_about_anyone(tmp_path, spoil, said):
    # The search, a customer's page and an incident's list said "Not affected, or not found"
    # (404; the list: "Not a filter of this list", 400): support would tell a customer they were
    # not affected, when the page had not read a thing.
    path = build(tmp_path / "warehouse.duckdb")
    client = TestClient(app.create(path))
    assert client.get("/?q=c2").status_code == 200
    spoil(path)
    for url in URLS:
        page = client.get(url)
        assert page.status_code == 503 and said in page.text, url
        assert "Not affected" not in page.text and "Not a filter" not in page.text, url


def test_serve_support_starts_while_a_run_holds_the_warehouse(tmp_path, monkeypatch):
    # It refused to start (exit 4) while a run loaded: each page waits for the warehouse itself
    path = build(tmp_path / "warehouse.duckdb")

    def busy(path):
        raise warehouse.WarehouseBusy(f"{path}: a run is writing; try again in a moment")

    monkeypatch.setattr(support, "connect", busy)
    note = command.check("127.0.0.1", None, path)
    assert "a run is writing" in note and "the page serves meanwhile" in note


def test_serve_support_still_refuses_a_warehouse_that_is_not_there(tmp_path):
    with pytest.raises(warehouse.NoWarehouseYet):
        command.check("127.0.0.1", None, tmp_path / "no.duckdb")
