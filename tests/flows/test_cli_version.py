"""`credits --version`: what a newcomer types first, and what a bug report needs."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_installed_version_and_exits_0(flag):
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0, result.output
    assert result.output == f"credits (outage-credits) {version('outage-credits')}\n"


def test_help_lists_the_version_option_and_keeps_the_app_s_own_text():
    shown = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "--version" in shown
    assert "Find every customer hurt by a payment outage" in shown


def test_version_is_never_taken_after_a_command():
    result = runner.invoke(app, ["runs", "--version"])
    assert result.exit_code == 2
    assert "No such option: --version" in result.output
