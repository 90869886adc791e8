"""The one configuration: default paths, Prefect's offline environment, and the journal's key.

`configure_prefect` runs once, when `flows` is imported (before anything imports prefect); the
environment wins over every default. `python -m flows` prints them for the Makefile, which
repeats none of these values.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Default paths, relative to the folder a command runs in.
OUTPUT_DIR = Path("data/output")
WAREHOUSE = "data/warehouse.duckdb"  # or a postgresql:// URL (see WAREHOUSE_VARIABLE)
WAREHOUSE_VARIABLE = "CREDITS_WAREHOUSE"  # the warehouse of every command, unless --warehouse
OUTBOX = Path("data/outbox")
OUTBOX_VARIABLE = "CREDITS_OUTBOX"  # the outbox of every command (a shared folder), unless --outbox
INCIDENTS_DIR = Path("data/incidents")

KEY_MIN_LENGTH = 16
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


def journal_key() -> bytes | None:
    """`CREDITS_JOURNAL_KEY` from the environment (never from a file): with it, the journal and
    the ledger are HMAC chains; unset, plain sha256 chains."""
    from transforms.errors import ConfigError
    from transforms.finance.chain import KEY_VARIABLE

    value = os.environ.get(KEY_VARIABLE)
    if value is None:
        return None
    if len(value.strip()) < KEY_MIN_LENGTH:
        what = "empty" if not value.strip() else f"shorter than {KEY_MIN_LENGTH} characters"
        raise ConfigError(
            f"{KEY_VARIABLE}: set but {what}; use a long random secret (e.g. `openssl rand "
            "-hex 32`), or unset it for plain sha256 chains"
        )
    return value.encode()


def warehouse_default() -> str:
    """The warehouse a command uses when none is given: `CREDITS_WAREHOUSE` (without blanks
    around it, `files.as_given`), else the file."""
    from transforms.files import as_given

    return as_given(os.environ.get(WAREHOUSE_VARIABLE) or "") or WAREHOUSE


def warehouse_named(location: str) -> str | None:
    """The warehouse as a run's pages (`report.html`, `validation.html`) name it in the commands
    they show: None for the default file (`WAREHOUSE` from the folder the run ran in, however
    spelled), which those commands find by themselves and a default run's pages never named; a
    DuckDB file's absolute path (a page is read, and its command pasted, in any folder); a URL
    with its password masked (a flow run's has none: `warehouse_parameter`). A saved page does
    not know the reader's `CREDITS_WAREHOUSE`: the run's warehouse is named whatever set it."""
    from transforms.finance import pg_location

    if pg_location.is_url(location):
        return pg_location.shown(location)
    path = Path(location).resolve()
    return None if path == Path(WAREHOUSE).resolve() else str(path)


def outbox_default() -> Path:
    """The outbox a decision uses when none is given: `CREDITS_OUTBOX` (`outbox_given`), else
    the folder: set once on each machine of a shared outbox, it is not retyped on every
    command."""
    return outbox_given(os.environ.get(OUTBOX_VARIABLE) or "")


def outbox_given(value: str) -> Path:
    """An outbox as given, without the blanks around it (a `.env` line, a paste:
    `files.as_given`); blank, the default folder."""
    from transforms.files import as_given

    return Path(as_given(value) or OUTBOX)


def warehouse_parameter(location: str) -> str:
    """The warehouse as a flow run's parameter, which Prefect records and shows: a URL's
    password moves to PGPASSWORD for this process (libpq reads it there), and a client key's
    `sslpassword` to `CREDITS_PGSSLPASSWORD` (the store's connection adds it back), never into
    Prefect."""
    from transforms.finance import pg_location

    if not pg_location.is_url(location):
        return location
    from transforms import pg_url

    parsed = pg_url.parse(location)
    url, password = parsed.without_password()
    if password is not None:
        os.environ["PGPASSWORD"] = password
    passphrase = parsed.keyword("sslpassword")
    if passphrase is not None:  # libpq has no variable of its own for it: ours, read back
        os.environ[pg_url.PASSPHRASE_VARIABLE] = passphrase
    return url
