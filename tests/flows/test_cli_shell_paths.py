"""A path given with a shell's `~` or `$VARIABLE` that no shell expanded (a quoted argument, a
`.env` or Docker env-file line): refused, never made as a folder named `~` or `$HOME` in the
current one."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["run", "x.toml", "--output-dir", "~/out"], {}),
        (["sample", "--out", "~/sample"], {}),
        (["sample", "--out", "$HOME/sample"], {}),
        (["diff", "r1", "--csv", "${OUT}/diff.csv"], {}),
        (["what-if", "x.toml", "--policy", "p.toml", "--csv", "~/w.csv"], {}),
        (["runs"], {"CREDITS_WAREHOUSE": "~/data/warehouse.duckdb"}),
        (["runs", "--warehouse", "$DATA/warehouse.duckdb"], {}),
        (["audit"], {"CREDITS_OUTBOX": "~/outbox"}),
        (["approve", "r1", "--by", "Alice", "--outbox", "$OUTBOX"], {}),
    ],
)
def test_a_path_with_an_unexpanded_tilde_or_variable_is_refused(args, env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args, env=env)
    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2, said
    assert "~ and $VARIABLES are not expanded" in said, said
    assert list(tmp_path.iterdir()) == []


def test_a_folder_really_named_so_is_taken(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "~").mkdir()
    result = runner.invoke(app, ["sample", "--out", "~", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "~" / "INC-2025-01-07.toml").is_file()
