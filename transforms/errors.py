"""The error types of outage-credits; the CLI maps each to one exit code."""

from __future__ import annotations

import errno
import re
import sys
from typing import Any

# What the machine, not the data or the code, refused: a full disk, a read-only or forbidden path.
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
# The same refusals as DuckDB words them (it raises its own IOException, not OSError).
ENVIRONMENT_WORDS = (
    "No space left on device",
    "Read-only file system",
    "Permission denied",
    "Operation not permitted",  # EPERM: an immutable file (`chattr +i`), a policy's refusal
    "Disk quota exceeded",
)


class CreditsError(Exception):
    """Base of every error the pipeline raises on purpose; anything else is a bug (exit 1)."""

    exit_code = 1
    done: tuple[str, ...] = ()  # what the command did before it refused: said first, as notes


class ConfigError(CreditsError):
    """The incident file or the command line is wrong (exit 2). The message names file and key."""

    exit_code = 2


class InputError(CreditsError):
    """An input file cannot be read as its contract says (exit 2). Names the file, and line."""

    exit_code = 2


class WitnessUnreadable(InputError):
    """A file the product wrote as a witness (a batch's trailer) that no longer reads as one: cut
    short or edited since (exit 3, as any other finding of tampering; callers that catch
    `InputError` still catch it)."""

    exit_code = 3


class ValidationRejected(CreditsError):
    """The data quality gate blocked the run (exit 3); nothing was published. Carries the run's
    `runfolder.summary.RunSummary` (the run is sealed, rejected, before this is raised)."""

    exit_code = 3

    def __init__(self, message: str, summary: Any = None):
        super().__init__(message)
        self.summary = summary


class ProofFailed(CreditsError):
    """The ledger, the journal or a published batch does not prove itself (exit 3): something
    was edited, deleted or moved. Each finding names the entry or the batch."""

    exit_code = 3

    def __init__(self, message: str, findings: list[str]):
        super().__init__("\n  - ".join([message, *findings]))
        self.findings = findings


class StorageError(CreditsError):
    """The machine refused a write: a full disk, a read-only folder, a permission (exit 4).
    The message names the path, says what is already committed and how to finish."""

    exit_code = 4


_TEMPORARY = re.compile(r"(?<![^/])\.(.+)\.[0-9a-f]{32}\.tmp$")  # `files._temporary`'s names


def environment_problem(error: BaseException) -> str | None:
    """How the machine refused, when `error` is such a refusal (not a bug): else None."""
    if isinstance(error, OSError) and error.errno in ENVIRONMENT_ERRNOS:
        # an atomic write's temporary (`files.atomic_path`) named by the file it was writing
        where = _TEMPORARY.sub(r"\1", str(error.filename)) + ": " if error.filename else ""
        return f"{where}{error.strerror}"
    text = str(error)
    duckdb = sys.modules.get("duckdb")  # not loaded: the error is none of DuckDB's
    if (
        duckdb is not None
        and isinstance(error, duckdb.Error)
        and any(words in text for words in ENVIRONMENT_WORDS)
    ):
        return text
    return None


class WorkersLost(CreditsError):
    """A Dask cluster lost the workers running a log partition more often than it may rerun it,
    or its scheduler (exit 4: the machines, not the data or the code); the run stops before
    anything is written, let alone published."""

    exit_code = 4
