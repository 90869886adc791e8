"""The commands a message tells someone to type, spelled as they type them here
(`transforms.commands`): `credits` alone is "command not found" until the venv is activated."""

from __future__ import annotations

import os

import pytest

from transforms import commands
from transforms.errors import InputError
from transforms.finance import approval, warehouse
from transforms.quality import validation_page
from transforms.serving import run_listing, support


def test_credits_is_the_venv_s_script_in_the_project_its_path_outside_its_name_on_path(
    venv_off_path, monkeypatch
):
    assert commands.credits("runs") == ".venv/bin/credits runs"  # the project, venv off PATH
    (venv_off_path / "elsewhere").mkdir()
    monkeypatch.chdir(venv_off_path / "elsewhere")
    assert commands.credits("runs") == f"{venv_off_path}/.venv/bin/credits runs"
    script = venv_off_path / ".venv" / "bin" / "credits"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    assert commands.credits("runs") == "credits runs"  # activated: PATH finds this very one


def test_a_run_s_pages_spell_the_commands_they_name(venv_off_path):
    # validation.html said `credits runs --incident INC A`: not one argument; a saved page
    # says `credits`, never this venv's `.venv/bin/credits` (where the run ran)
    page = validation_page.render_html([], incident_id="INC A", run_id="r1")
    assert "<code>credits runs --incident &#39;INC A&#39;</code>" in page
    assert ".venv" not in page


def test_a_run_s_pages_name_the_warehouse_the_run_used_in_their_commands(venv_off_path):
    # validation.html said `credits runs --incident INC-A` of a run into another warehouse:
    # pasted, it listed the default warehouse's runs
    page = validation_page.render_html(
        [], incident_id="INC-A", run_id="r1", warehouse="/srv/my wh.duckdb"
    )
    assert (
        "<code>credits runs --incident INC-A --warehouse &#39;/srv/my wh.duckdb&#39;</code>" in page
    )
    default = validation_page.render_html([], incident_id="INC-A", run_id="r1", warehouse=None)
    assert "<code>credits runs --incident INC-A</code>" in default


def test_saved_text_is_spelled_pasteable_when_printed(venv_off_path):
    assert commands.pasteable("see `credits window inc.toml`") == (
        "see `.venv/bin/credits window inc.toml`"
    )
    # a command `saved` spelled, its argument quoted, reads as `credits` spells it here
    arguments = commands.window_of("/data/my incidents/inc.toml")
    assert (
        commands.pasteable(f"see `{commands.saved(arguments)}`")
        == (f"see `{commands.credits(arguments)}`")
        == "see `.venv/bin/credits window '/data/my incidents/inc.toml'`"
    )


@pytest.mark.parametrize(
    ("ask", "typed"),
    [
        # each said a bare `credits ...`
        (lambda con: approval.find_run(con, "r-none"), "(`.venv/bin/credits runs` lists the runs)"),
        (
            lambda con: run_listing.require_incident(con, "INC-A"),
            "none yet (`.venv/bin/credits run INCIDENT_FILE` adds them)",
        ),
    ],
    ids=["approve-unknown-run", "runs-unknown-incident"],
)
def test_messages_spell_the_command_to_type(venv_off_path, ask, typed):
    path = venv_off_path / "wh.duckdb"
    warehouse.connect(path).close()  # an empty warehouse
    with warehouse.connect(path, read_only=True) as con, pytest.raises(InputError) as refused:
        ask(con)
    assert typed in str(refused.value)


def test_a_missing_warehouse_says_the_command_that_makes_one(venv_off_path):
    with pytest.raises(InputError) as refused:
        support.connect(venv_off_path / "none.duckdb")
    assert "no warehouse yet; `.venv/bin/credits run INCIDENT_FILE` creates it" in str(
        refused.value
    )
