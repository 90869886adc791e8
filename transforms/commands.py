"""Commands as the user types them here, for the hints in messages: this environment's console
scripts (`.venv/bin/credits`: not on PATH unless the venv is activated).

Every message printed to someone spells a command to type with `credits`, so that it can be
pasted. A saved file (the manifest, `report.html`, `validation.html`) spells it with `saved`:
plain `credits ...`, the same wherever and however the run ran (the manifest is hashed into the
journal). Docstrings and docs say `credits ...`. The commands named in several places build
their arguments here (`runs_of`, `window_of`, `verify_at`, `on_warehouse`). Shared by `flows`
and `transforms` (which may not import `flows`).
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


def venv_project() -> Path | None:
    """The folder whose `.venv` runs this command (`/repo` for `/repo/.venv/bin/credits`), None
    outside a virtual environment: where a command run from another folder was meant to run."""
    return Path(sys.prefix).parent if sys.prefix != sys.base_prefix else None


def credits(arguments: str) -> str:
    """`credits ARGUMENTS` as one types it here: `.venv/bin/credits runs --incident INC-A`.
    `arguments` is written as given: quote a value that may hold blanks (`shlex.quote`)."""
    return f"{venv_command('credits')} {arguments}"


def saved(arguments: str) -> str:
    """`credits ARGUMENTS` as a saved file spells it: `credits runs --incident INC-A`, whatever
    the working directory, interpreter or PATH of the run that wrote it."""
    return f"credits {arguments}"


def pasteable(text: str) -> str:
    """Saved text (a manifest's message) as printed: each `` `credits `` command it names, as
    `saved` spelled it, spelled as one types it here (`credits`). A replace in the text, not a
    command built again: the manifest keeps its messages as text (its sha256 is in the journal),
    and their arguments were quoted (`shlex.quote`) when they were built."""
    return text.replace(f"`{saved('')}", f"`{credits('')}")


def runs_of(incident_id: str) -> str:
    """The arguments that list an incident's runs with their status now (a run's pages)."""
    return f"runs --incident {shlex.quote(incident_id)}"


def on_warehouse(arguments: str, warehouse: str | None) -> str:
    """The arguments of a command that reads the warehouse, with `--warehouse WAREHOUSE` (quoted)
    when one is named: None, the default the command finds by itself."""
    if warehouse is None:
        return arguments
    return f"{arguments} --warehouse {shlex.quote(warehouse)}"


def window_of(path: Path | str) -> str:
    """The arguments that check an incident file's window against all its logs."""
    return f"window {shlex.quote(str(path))}"


def verify_at(location: Path | str) -> str:
    """The arguments that verify the warehouse at `location` (a path, or a URL shown masked)."""
    return f"audit --verify --warehouse {shlex.quote(str(location))}"
