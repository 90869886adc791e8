"""What the machine refused (exit 4), told apart from a bug (exit 1)."""

from __future__ import annotations

import errno

import duckdb
import pytest

from transforms.errors import environment_problem


@pytest.mark.parametrize(
    "words",
    [
        "No space left on device",
        "Read-only file system",
        "Permission denied",
        "Operation not permitted",  # EPERM: an immutable file, as root refuses it
        "Disk quota exceeded",
    ],
)
def test_duckdbs_words_for_a_refusing_machine_are_an_environment_problem(words):
    error = duckdb.IOException(f'IO Error: Cannot open file "/x/w.duckdb": {words}')
    assert environment_problem(error) == str(error)


def test_an_oserror_of_eperm_names_its_file():
    error = PermissionError(errno.EPERM, "Operation not permitted", "/x/w.duckdb")
    assert environment_problem(error) == "/x/w.duckdb: Operation not permitted"


def test_any_other_duckdb_error_is_not_one():
    assert environment_problem(duckdb.IOException("IO Error: Could not read the header")) is None


def test_a_refused_temporary_file_is_named_by_the_file_it_was_writing():
    # `credits customers --out /ro/c.csv` said "/ro/.c.csv.6e04....tmp: Read-only file system",
    # a name its user never gave
    temporary = "/ro/.c.csv.6e04b3b94d5240b6bdee4e288e1dc860.tmp"
    error = OSError(30, "Read-only file system", temporary)
    assert environment_problem(error) == "/ro/c.csv: Read-only file system"
