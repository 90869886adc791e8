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
