"""Prefect settings for a machine with no internet: set before prefect is imported."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

PREFECT_DEFAULTS = {
    "PREFECT_HOME": str(PROJECT_ROOT / ".prefect"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "DO_NOT_TRACK": "1",
}


def configure_prefect() -> None:
    """Offline, quiet Prefect with time to start its ephemeral server; the environment wins."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
