"""The support page on a warehouse it cannot open once it serves (moved away, or replaced by a
file of something else): every page says so (503), none that a customer was not found."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from flows.support_page import app
from tests.support_warehouse import build

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
