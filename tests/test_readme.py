"""The README's commands as a newcomer pastes them into a shell."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_the_readmes_commands_paste_into_a_shell_as_written():
    # `credits verify-batch data/outbox/<batch folder>` pasted was a shell syntax error (`<`
    # redirects); a placeholder is a word in capitals, as RUN_ID
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    commands = [re.split(r"\s#\s", line)[0] for block in blocks for line in block.splitlines()]
    assert commands
    assert [command for command in commands if re.search(r"[<>|;&]", command)] == []


def test_the_layout_names_every_module_of_the_credits_command():
    # whatif.py and warehouse.py (`credits what-if`, `credits warehouse`) were left out
    layout = README.read_text(encoding="utf-8").split("## Layout", 1)[1].split("\n## ", 1)[0]
    modules = sorted((README.parent / "flows" / "cli").glob("[!_]*.py"))
    assert [m.name for m in modules if m.name not in layout] == []
