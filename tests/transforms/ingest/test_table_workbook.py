"""A table from a spreadsheet: a workbook named as a table source, a CSV saved with semicolons
or tabs; each message says how to save it (CSV UTF-8), not only what is wrong."""

from __future__ import annotations

import pytest

from tests.builders import write_incident
from transforms.errors import ConfigError, InputError
from transforms.ingest import incident, tables


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


@pytest.mark.parametrize(("sep", "word"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_csv_saved_with_another_separator_says_how_to_save_it(tmp_path, sep, word):
    # Excel in a decimal-comma language saves "CSV" with semicolons: the message said only
    # that a CSV file's fields are separated by commas
    path = write_incident(tmp_path / "inc", sources={"customers": "customers.csv"})
    header = sep.join(["customer_id", "name", "email", "country", "segment", "status"])
    (path.parent / "customers.csv").write_bytes(
        f"\ufeff{header}\r\n{sep.join(['c1', 'A', 'a@x', 'US', 'consumer', 'active'])}\r\n".encode()
    )
    with pytest.raises(InputError) as raised:
        tables.check(incident.load(path))
    assert str(raised.value).endswith(
        f": its names are separated by {word}, a CSV file's by commas: save it again as CSV "
        "UTF-8 (comma delimited)"
    ), str(raised.value)
