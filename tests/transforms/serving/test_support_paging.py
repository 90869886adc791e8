"""The customer list's filters and paging run in the warehouse: the same lines as the whole list
filtered by hand, page after page, on the small warehouse of inline rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.support_warehouse import build
from transforms.errors import ConfigError
from transforms.serving import answers, support


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture
def con(warehouse_path):
    with support.connect(warehouse_path) as connection:
        yield connection


def by_hand(every, segment, status):
    """The unpaged list filtered in Python: what the warehouse's filters must give."""
    return [
        row
        for row in every
        if (segment is None or row["segment"] == segment)
        and (status == "all" or row["status"] == status)
    ]


@pytest.mark.parametrize(
    ("segment", "status"),
    [
        (None, "all"),  # every line
        (None, "pending"),  # one status, several lines
        (None, "by_hand"),  # one status, one line
        ("internal", "all"),  # one segment
        ("internal", "pending"),  # filters combine to nothing
    ],
)
@pytest.mark.parametrize("page_size", [1, 2, 3, 100])
def test_pages_put_together_are_the_filtered_list(con, segment, status, page_size):
    every = support.customers(con, "INC-A").rows
    expected = by_hand(every, segment, status)
    pages = -(-len(expected) // page_size)
    paged = []
    for page in range(1, pages + 1):
        found = support.customers(
            con, "INC-A", segment=segment, status=status, page=page, page_size=page_size
        )
        assert found.total == len(expected)
        assert found.first == (page - 1) * page_size
        assert len(found.rows) <= page_size
        paged.extend(found.rows)
    assert paged == expected
    unpaged = support.customers(con, "INC-A", segment=segment, status=status)
    assert (unpaged.rows, unpaged.total) == (expected, len(expected))


@pytest.mark.parametrize(
    ("page", "first"),
    [
        (0, 0),  # before the first page: the first
        (-3, 0),
        (2, 4),  # the second page
        (99, None),  # past the last page: the last (part full)
    ],
)
def test_a_page_out_of_range_is_clamped(con, page, first):
    every = support.customers(con, "INC-A").rows
    assert len(every) % 4, "the inline rows need a last page that is part full"
    first = (len(every) - 1) // 4 * 4 if first is None else first
    found = support.customers(con, "INC-A", page=page, page_size=4)
    assert found.first == first
    assert found.rows == every[first : first + 4]


def test_an_unknown_segment_is_still_named_when_paged(con):
    with pytest.raises(ConfigError, match="no customer of INC-A has segment 'retai'"):
        support.customers(con, "INC-A", segment="retai", page=1, page_size=3)


def test_status_comes_from_the_warehouse_as_the_rule_says(con):
    rows = support.customers(con, "INC-A").rows
    for row in rows:
        assert row["status"] in set(answers.CreditStatus)
    assert {row["status"] for row in rows} == set(answers.CreditStatus)


@pytest.mark.parametrize(
    "timezone",
    [
        "America/New_York",  # behind UTC
        "Asia/Tokyo",  # ahead of UTC
        "UTC",  # +00:00
        "Asia/Kolkata",  # half an hour
        "America/St_Johns",  # behind, half an hour
        "Asia/Kathmandu",  # three quarters of an hour
    ],
)
def test_the_warehouse_writes_local_times_as_python_does(con, timezone):
    run = dataclasses.replace(support.answering_run(con, "INC-A"), timezone=timezone)
    instants = {
        (customer_id, currency): (first, last)
        for customer_id, currency, first, last in con.execute(
            "select customer_id, currency, min(first_failure_at), max(last_failure_at) "
            "from evidence where run_id = $run_id and customer_id is not null group by all",
            {"run_id": run.run_id},
        ).fetchall()
    }
    rows = support._credit_rows(con, run, None)
    assert any(row["first_failure_local"] for row in rows)
    for row in rows:
        first, last = instants.get((row["customer_id"], row["currency"]), (None, None))
        assert row["first_failure_local"] == answers.local_time(first, timezone)
        assert row["last_failure_local"] == answers.local_time(last, timezone)
