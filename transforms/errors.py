"""The error types of outage-credits; the CLI maps each to one exit code."""


class CreditsError(Exception):
    """Base of every error the pipeline raises on purpose; anything else is a bug (exit 1)."""

    exit_code = 1


class ConfigError(CreditsError):
    """The incident file or the command line is wrong (exit 2). The message names file and key."""

    exit_code = 2


class InputError(CreditsError):
    """An input file cannot be read as its contract says (exit 2). Names the file, and line."""

    exit_code = 2


class ValidationRejected(CreditsError):
    """The data quality gate blocked the run (exit 3); nothing was published."""

    exit_code = 3

    def __init__(self, message: str, manifest: dict | None = None):
        super().__init__(message)
        self.manifest = manifest or {}


class WorkersLost(CreditsError):
    """A Dask cluster lost the workers running a log partition more often than it may rerun it
    (exit 1); the run stops before anything is written, let alone published."""
