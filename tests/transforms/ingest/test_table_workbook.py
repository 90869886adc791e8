"""A spreadsheet workbook named as a table source: the message says to save it as CSV UTF-8,
not only which suffixes are read."""

from __future__ import annotations

import pytest

from tests.builders import write_incident
from transforms.errors import ConfigError
from transforms.ingest import incident


@pytest.mark.parametrize("name", ["customers.xlsx", "Customers.XLS", "customers.ods"])
def test_a_workbook_is_named_with_what_to_save_it_as(tmp_path, name):
    path = write_incident(tmp_path / "inc", sources={"customers": name})
    with pytest.raises(ConfigError) as raised:
        incident.load(path)
    said = str(raised.value)
    assert said.startswith(
        f"{path}: sources.customers: {name!r} is a spreadsheet workbook, which is not read: "
        "save its sheet as CSV UTF-8 (comma delimited) and name the .csv file, or name a "
        ".parquet file"
    ), said
