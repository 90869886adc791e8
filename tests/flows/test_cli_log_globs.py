"""A log glob of the incident file that finds no log: the message names the incident file,
the key and what to write, from every command that reads the logs (no traceback)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.builders import write_incident
from transforms.errors import InputError
from transforms.ingest import incident, logs

runner = CliRunner()


def test_the_plan_names_the_incident_file_of_a_glob_matching_nothing(tmp_path):
    path = write_incident(tmp_path / "inc", sources={"logs": ["nothing/*.gz"]})
    with pytest.raises(InputError) as raised:
        logs.plan(incident.load(path), 1)
    assert str(raised.value).startswith(f"{path}: sources.logs: 'nothing/*.gz' matches no file")


@pytest.mark.parametrize(
    ("glob", "said"),
    [
        ("nothing/*.gz", "'nothing/*.gz' matches no file"),
        ("logs", "'logs' matches no file"),  # a folder, not a glob
    ],
)
@pytest.mark.parametrize("command", [["window"], ["run"], ["what-if"]])
def test_every_command_names_the_incident_file_of_a_glob_matching_nothing(
    tmp_path, command, glob, said
):
    # two incident files in one folder (data/incidents/): "sources.logs: ..." alone named
    # neither
    path = write_incident(tmp_path / "inc", sources={"logs": [glob]})
    given = [*command, str(path)]
    if command == ["run"]:
        given += ["--output-dir", str(tmp_path / "out"), "--warehouse", str(tmp_path / "w.duckdb")]
    if command == ["what-if"]:
        other = tmp_path / "other.toml"
        other.write_text('[policy]\nbasis = "flat_per_customer"\nflat_minor = { USD = 500 }\n')
        given += ["--policy", str(other)]
    result = runner.invoke(app, given, env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert f"error: {path}: sources.logs: {said} (looked in {path.parent};" in result.output
    assert "Traceback" not in result.output
