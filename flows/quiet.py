"""Prefect's log without tracebacks of our own errors: the CLI (`credits run`) and the served
flows (`make serve`, whose flow runs log to its console) report each in one line naming the
file, key or line; a bug's traceback stays."""

from __future__ import annotations

import logging
import re

from transforms.errors import ENVIRONMENT_WORDS, CreditsError, environment_problem


class Reported(Exception):
    """An outcome its own log lines have already told, file by file (the daily run's files not
    run): Prefect's engine raises it again as the flow run ends Failed, and logs that line
    without a traceback."""


def _expected(error: BaseException) -> bool:
    """One of our errors, an outcome already told, or the machine refusing (a full disk, a
    forbidden path): the CLI reports each in one line, with its exit code."""
    return isinstance(error, (CreditsError, Reported)) or environment_problem(error) is not None


class DropExpectedTraceback(logging.Filter):
    """Our own errors and the machine's refusals are reported in one line: Prefect's log keeps
    no traceback of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and _expected(record.exc_info[1]):
            record.exc_info = None
            record.exc_text = None
        return True


class OurErrorsOnce(logging.Filter):
    """Without -v, Prefect's console does not repeat our own errors (a task's failure, its
    state, the flow's, 4 lines for one truncated gzip): the CLI prints each once, as `error:` or
    `rejected:`. A bug's lines stay; the API handler (the UI) keeps every line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        if record.exc_info and _expected(record.exc_info[1]):
            return False
        message = record.getMessage()
        if any(words in message for words in ENVIRONMENT_WORDS):  # the state's repetition
            return False
        names = "|".join(_error_names(CreditsError))
        return re.search(rf"\b(?:{names})(?:\(|: )", message) is None


def _error_names(kind: type[Exception]) -> set[str]:
    found = {kind.__name__}
    for sub in kind.__subclasses__():
        found |= _error_names(sub)
    return found


def quiet_expected_tracebacks(verbose: bool = True) -> None:
    """Prefect's log keeps no traceback of our errors; without `verbose` its console does not
    repeat them either. Called again, it adds nothing."""
    for name in ("prefect", ""):
        for handler in logging.getLogger(name).handlers:
            kinds = {type(f) for f in handler.filters}
            console = not verbose and isinstance(handler, logging.StreamHandler)
            if console and OurErrorsOnce not in kinds:  # first: it reads the traceback dropped next
                handler.filters.insert(0, OurErrorsOnce())
            if DropExpectedTraceback not in kinds:
                handler.addFilter(DropExpectedTraceback())
