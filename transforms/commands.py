"""Commands as the user types them here, for the hints in messages and pages: this
environment's console scripts (`.venv/bin/credits`: not on PATH unless the venv is activated).

Every message that tells someone a command to type spells it with `credits`, so that it can be
pasted; docstrings and docs that only name a command say `credits ...`. Shared by `flows` and
`transforms` (which may not import `flows`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def venv_command(name: str) -> str:
    """This environment's console script `name` as one types it here, quoted for a shell:
    `.venv/bin/credits` (it is not on PATH unless the venv is activated), its bare name when
    PATH finds this very one, its absolute path from outside the project."""
    script = Path(sys.executable).with_name(name)
    on_path = shutil.which(name)
    if on_path is not None and Path(on_path).resolve() == script.resolve():
        return name
    relative = os.path.relpath(script)
    return shlex.quote(str(script) if relative.startswith("..") else relative)


def credits(arguments: str) -> str:
    """`credits ARGUMENTS` as one types it here: `.venv/bin/credits runs --incident INC-A`.
    `arguments` is written as given: quote a value that may hold blanks (`shlex.quote`)."""
    return f"{venv_command('credits')} {arguments}"


def runs_of(incident_id: str) -> str:
    """The command that lists an incident's runs with their status now (a run's pages)."""
    return credits(f"runs --incident {shlex.quote(incident_id)}")
