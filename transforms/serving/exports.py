"""Files for people: CSV that a spreadsheet opens as plain text, JSON, both owner-only.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a carriage
return) as a formula: a customer named `=HYPERLINK(...)` would become a link, `+cmd|...` a
command. Such a cell is written with a leading `'`, which spreadsheets show as text. Exports hold
personal data (names, emails), so the file is created readable by its owner only (mode 0600).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from transforms import files
from transforms.errors import ConfigError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A negative decimal and nothing else, written as a spreadsheet shows it back (no leading zero:
# an id such as `-007` stays text).
PLAIN_NUMBER = re.compile(r"-(0|[1-9][0-9]*)(\.[0-9]+)?")
PRIVATE_MODE = 0o600
REPLACED = (".csv", ".json")
"""The suffixes of the files an export replaces when it is given one that exists: an earlier
export; any other file (an incident file, a table) is refused."""


def spreadsheet_safe(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that starts like a formula gets a `'`;
    a negative amount written as text (`-0.266`, `credits diff --csv`'s differences) stays a
    number the spreadsheet can sum, since it can run nothing."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        if PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV as RFC 4180 has it (CRLF line ends: a CR or LF inside a cell is then always quoted),
    a header, every cell made `spreadsheet_safe` (the header's too: `credits what-if` names a
    column after a file); None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spreadsheet_safe(c) for c in columns)
    for row in rows:
        writer.writerow(spreadsheet_safe("" if row[c] is None else row[c]) for c in columns)
    return buffer.getvalue()


def json_text(document: Any) -> str:
    """Indented JSON, UTF-8 characters as they are, keys in the order given."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_private(path: Path, text: str, option: str = "--out") -> None:
    """Writes UTF-8 `text` atomically as a file only its owner can read and write (0600); a
    missing folder, or a folder where the file goes, is a `ConfigError` naming `option`."""
    path = Path(path)
    require_target(path, option)
    try:
        with files.atomic_path(path) as temp:
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
            os.fchmod(descriptor, PRIVATE_MODE)  # also when a stale temporary file was there
            with open(descriptor, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
    except OSError as error:  # a name too long, a folder that takes no files (/proc), ...
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
            raise  # the machine refused: the command says so (exit 4)
        raise ConfigError(f"{option} {path}: cannot be written there ({error.strerror})") from None


def require_target(path: Path, option: str = "--out") -> None:
    """Refuses (`ConfigError` naming `option`) a target `write_private` cannot or must not
    replace with a file (a folder, a link, a file that is no export: `REPLACED`): checked before
    a command does its work, so nothing is printed and then refused."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ConfigError(f"{option} {path}: the folder {path.parent} does not exist")
    try:
        found = path.lstat()
    except FileNotFoundError:
        found = None
    except OSError as error:  # a name too long, ...
        raise ConfigError(f"{option} {path}: cannot be written there ({error.strerror})") from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise ConfigError(f"{option} {path}: is a folder; name a file (e.g. {path / 'x.csv'})")
    if found is not None and stat.S_ISREG(found.st_mode) and path.suffix.lower() not in REPLACED:
        # a Tab too far (`--csv INC-2025-01-07.toml`) must not turn the incident file into a CSV
        raise ConfigError(
            f"{option} {path}: is a file of another kind, not a .csv or .json export: it would "
            f"be replaced whole; name a new file (e.g. {path.parent / 'x.csv'})"
        )
    if found is not None and not stat.S_ISREG(found.st_mode):
        # the file is replaced whole: a link, a device (/dev/stdout) or a pipe would be too
        raise ConfigError(
            f"{option} {path}: is a link, a device or a pipe, not a file; name a file (without "
            "--out the output goes to the screen, or to a pipe: `> file`)"
        )
