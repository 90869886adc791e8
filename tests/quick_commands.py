"""Quick `credits` commands in a fresh interpreter, to prove what they import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def without_prefect(
    commands: list[list[str]],
    cwd: Path,
    env: dict[str, str] | None = None,
    nor: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """Runs each `credits` command line, in order, in one new interpreter: the process exits 0
    only if every command exited 0 and none of them imported Prefect, `nor` the modules named
    (stderr says which)."""
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from flows.cli import app\n"
        f"for args in {commands!r}:\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')\n"
        "assert not loaded, loaded\n"
        f"assert not set({nor!r}) & set(sys.modules), set({nor!r}) & set(sys.modules)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )
