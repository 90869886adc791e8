"""Files for people: CSV that a spreadsheet opens as plain text, JSON, both owner-only.

Every cell of a CSV export is `spreadsheet.safe`: text that starts like a formula is written with
a leading `'`, which spreadsheets show as text. Exports hold personal data (names, emails), so the
file is created readable by its owner only (mode 0600).
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import io
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from transforms import files, spreadsheet
from transforms.errors import ConfigError

PRIVATE_MODE = 0o600
# A what-if export's policy cells: a credit as the credit file writes it, or nothing.
AMOUNT = re.compile(r"([0-9]+(\.[0-9]+)?)?")
HEAD_CHARS = 65_536  # what is read of an existing file to tell its kind
# The folders `incident=<id>/<what>=<id>` the tool writes and proves whole.
SEALED = ("run", "batch")


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of export, as a file an earlier one wrote is told from any other: `fields`
    are its CSV header's cells (`per_policy`: then a column per policy, whose cells are
    amounts or empty) or, with `json`, its object's keys."""

    name: str
    fields: tuple[str, ...]
    per_policy: bool = False
    json: bool = False


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV as RFC 4180 has it (CRLF line ends: a CR or LF inside a cell is then always quoted),
    a header, every cell made `spreadsheet.safe` (the header's too: `credits what-if` names a
    column after a file); None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spreadsheet.safe(c) for c in columns)
    for row in rows:
        writer.writerow(spreadsheet.safe("" if row[c] is None else row[c]) for c in columns)
    return buffer.getvalue()


def json_text(document: Any) -> str:
    """Indented JSON, UTF-8 characters as they are, keys in the order given."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_private(path: Path, text: str, kind: Kind, option: str = "--out") -> None:
    """Writes UTF-8 `text` atomically as a file only its owner can read and write (0600); a
    missing folder, or a folder where the file goes, is a `ConfigError` naming `option`."""
    path = Path(path)
    require_target(path, kind, option)
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


def require_target(path: Path, kind: Kind, option: str = "--out") -> None:
    """Refuses (`ConfigError` naming `option`) a target `write_private` cannot or must not
    replace with a file (a folder, a link, a file that is not empty nor an earlier export of
    `kind`: an incident file, a table, a run folder's file) or add to a run or batch folder:
    checked before a command does its work, so nothing is printed and then refused."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ConfigError(f"{option} {path}: the folder {path.parent} does not exist")
    try:
        found = path.lstat()
    except FileNotFoundError:
        found = None
    except OSError as error:  # a name too long, ...
        raise ConfigError(f"{option} {path}: cannot be written there ({error.strerror})") from None
    folder = path.parent.resolve()  # `..` and links as the file system follows them
    sealed = _sealed_folder(folder)
    if sealed is not None:
        raise ConfigError(
            f"{option} {path}: {folder} is a {sealed} folder: a file added there would be "
            f"taken for part of the {sealed}; write it in another folder"
        )
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise ConfigError(f"{option} {path}: is a folder; name a file (e.g. {path / 'x.csv'})")
    if found is not None and stat.S_ISREG(found.st_mode) and not _written_as(path, kind):
        # a Tab too far (`--csv INC-2025-01-07.toml`), a run's `credits.csv`, a table: kept
        raise ConfigError(
            f"{option} {path}: is a file this command did not write (not an earlier "
            f"{kind.name}): it would be replaced whole; name a new file (e.g. "
            f"{path.parent / ('x.json' if kind.json else 'x.csv')}) or move this one away"
        )
    if found is not None and not stat.S_ISREG(found.st_mode):
        # the file is replaced whole: a link, a device (/dev/stdout) or a pipe would be too
        raise ConfigError(
            f"{option} {path}: is a link, a device or a pipe, not a file; name a file (without "
            "--out the output goes to the screen, or to a pipe: `> file`)"
        )


def _sealed_folder(folder: Path) -> str | None:
    """ "run" or "batch" when `folder` is a run folder (`incident=<id>/run=<id>`) or an outbox's
    batch folder (`incident=<id>/batch=<id>`): their files are proved whole (`verify-batch`
    fails on a file added), so an export never goes there. None for any other folder. `folder` is
    resolved."""
    if not folder.parent.name.startswith("incident="):
        return None
    return next((what for what in SEALED if folder.name.startswith(f"{what}=")), None)


def _written_as(path: Path, kind: Kind) -> bool:
    """Whether the file at `path` is empty or an earlier export of `kind` (what a spreadsheet
    keeps of one too: a BOM, LF line ends); a file that cannot be read as one is not. Only its
    first `HEAD_CHARS` are read, unless they start as the export's JSON does."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            head = handle.read(HEAD_CHARS)
            if kind.json:
                if not head:
                    return True
                start = re.match(r'\s*\{\s*"([^"\\]*)"\s*:', head)
                if start is None or start.group(1) != kind.fields[0]:
                    return False  # a big file of something else is never read whole
                document = json.loads(head + handle.read())
                return isinstance(document, dict) and list(document) == list(kind.fields)
    except (OSError, ValueError):  # json.loads' and the decoder's errors are ValueErrors
        return False
    try:
        rows = list(csv.reader(io.StringIO(head, newline="")))
    except csv.Error:
        return False
    if len(head) == HEAD_CHARS:
        rows = rows[:-1]  # the last one may be cut
    if not rows:
        return not head
    header, fixed = rows[0], len(kind.fields)
    if not kind.per_policy:
        return header == list(kind.fields)
    return (
        header[:fixed] == list(kind.fields)
        and len(header) > fixed
        and all(AMOUNT.fullmatch(cell) for row in rows[1:] for cell in row[fixed:])
    )
