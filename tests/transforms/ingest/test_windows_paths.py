"""A path of the incident file written with Windows' backslashes: what is not found says that
`/` separates folders here, with the path to write."""

from __future__ import annotations

import pytest

from tests.builders import write_incident
from transforms.errors import InputError
from transforms.ingest import incident, logs, tables

HINT = "; a \\ is part of a name here, not a folder separator: write '{}'"


def test_a_log_glob_with_backslashes_says_to_write_slashes(tmp_path):
    path = write_incident(tmp_path / "inc", sources={"logs": ["logs\\*.jsonl"]})
    with pytest.raises(InputError) as raised:
        logs.of_incident(incident.load(path))
    assert str(raised.value).endswith(HINT.format("logs/*.jsonl")), str(raised.value)


def test_a_table_path_with_backslashes_says_to_write_slashes(tmp_path):
    path = write_incident(tmp_path / "inc", sources={"customers": "data\\customers.parquet"})
    with pytest.raises(InputError) as raised:
        tables.check(incident.load(path))
    assert str(raised.value).endswith(HINT.format("data/customers.parquet")), str(raised.value)
