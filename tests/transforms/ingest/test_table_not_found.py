"""A table file the incident file names and that is not there: the message names the incident
file and its key (several incident files share a folder), and a file whose name differs only
in case (typed from a listing, copied from Windows)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.builders import write_incident
from transforms.errors import InputError
from transforms.ingest import incident, tables

RELATIVE = "a path in the incident file is read from the incident file's folder"


def test_a_table_file_named_in_another_case_is_named_with_the_incident_file_and_key(tmp_path):
    path = write_incident(tmp_path / "inc", sources={"transactions": "TRANSACTIONS.PARQUET"})
    looked = path.parent / "TRANSACTIONS.PARQUET"
    with pytest.raises(InputError) as raised:
        tables.check(incident.load(path))
    assert str(raised.value) == (
        f"{path}: sources.transactions: TRANSACTIONS.PARQUET: file not found (looked for "
        f"{looked}; {RELATIVE}); did you mean 'transactions.parquet'?"
    )


@pytest.mark.parametrize("command", ["run", "what-if"])
def test_every_command_names_the_incident_file_of_a_missing_table(tmp_path, command):
    path = write_incident(tmp_path / "inc", sources={"customers": "nope.csv"})
    given = [command, str(path)]
    if command == "run":
        given += ["--output-dir", str(tmp_path / "out"), "--warehouse", str(tmp_path / "w.duckdb")]
    if command == "what-if":
        other = tmp_path / "other.toml"
        other.write_text('[policy]\nbasis = "flat_per_customer"\nflat_minor = { USD = 500 }\n')
        given += ["--policy", str(other)]
    result = CliRunner().invoke(app, given, env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: {path}: sources.customers: nope.csv: file not found (looked for "
        f"{path.parent / 'nope.csv'}; {RELATIVE})\n"
    )
