"""`credits run` in its own process against the session's Prefect test server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flows.cli import run as run_command
from tests import golden_incident


def api_url() -> str:
    """The session's Prefect test server (`prefect_harness` must be in effect)."""
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url)


def without_console_level() -> dict[str, str]:
    """This environment less a console level an in-process `credits run` may have set."""
    return {k: v for k, v in os.environ.items() if k != run_command.QUIET_CONSOLE}


def golden_run(root: Path, *flags: str, out: str = "out") -> subprocess.CompletedProcess:
    """`credits run FLAGS` of the golden incident written under `root`, into `root / out`."""
    path = golden_incident.write(root / "inc")
    args = ["run", str(path), "--output-dir", str(root / out)]
    args += ["--warehouse", str(root / "wh.duckdb"), *flags]
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**without_console_level(), "PREFECT_API_URL": api_url()},
    )
