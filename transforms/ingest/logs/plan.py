"""The plan: the log files the globs match, the pruned ones (dated to an hour wholly outside the
window widened by `sources.log_clock_skew` and an hour, `NAME_SLACK`: never opened), and the
rest split into partitions of about equal size for the map.
"""

from __future__ import annotations

import errno
import glob
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from transforms import files
from transforms.errors import InputError, StorageError
from transforms.ingest.incident import Incident, LogFormat
from transforms.ingest.incident.model import MAX_QUARANTINED_LINES
from transforms.ingest.logs.screen import Screen
from transforms.ingest.logs.source import Listed

PARTITIONS = 16  # map tasks over the log files: a few per worker keep every worker busy
# ... but no more than one per this many bytes of files: each partition costs a DuckDB connection
# and query (about 0.05 CPU s), so a small input is one or a few partitions.
MIN_PARTITION_BYTES = 16 << 20

# A file dated to one hour: `<name>.2025-01-07T14.<ext>` or a hive path `dt=2025-01-07/hour=14/`.
# Only the file's own name (a folder named by an export's time says nothing of its files), and
# only an hour alone: `T03.15.22` is a time of day (a size-based rotation's), not an hour's file.
HOURLY_NAME = re.compile(r"(?<![0-9])(\d{4}-\d{2}-\d{2})T(\d{2})\.(?![0-9])")
HIVE_HOUR = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})(?:/|$)")
# How far outside its named hour a file's lines may lie: a file named by its rotation time
# (logrotate's `dateext`, a size-based rotation) holds the hour before its name; one closed late
# holds some of the next. A file is pruned only when even this much beyond its hour is clear of
# the window.
NAME_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class LogFile:
    """One matched log file: its id, name as shown, size, hash and line count (with an envelope
    or a payload: its records, and `envelope_lines` the lines they were read from).

    A pruned file was not opened (its hour is outside the window): it has no hash and no lines.
    """

    file_id: int
    path: Path
    name: str
    bytes: int
    sha256: str
    lines: int
    pruned: bool = False
    envelope_lines: int | None = None  # with an envelope or payload: the lines its records span


@dataclass(frozen=True)
class Reading:
    """What the map needs to know besides the files: the format, time zone and failure events."""

    log_format: LogFormat
    logs_timezone: str
    failure_events: tuple[str, ...]
    currencies: tuple[str, ...]  # the incident's money (`Incident.currencies`)
    money_days: str  # the days they are money on, for the quarantine's reason
    line_checks: str = "failure_capable"
    # The instants a shape-checked line's time may widen its file's span by (the window within
    # `reach`): a quiet line stamped 1970 must not stretch the baseline over minutes no log covers.
    reach: tuple[datetime, datetime] | None = None
    max_quarantined_lines: int = MAX_QUARANTINED_LINES  # in one file (`flood.Flood`)

    @staticmethod
    def of(incident: Incident) -> Reading:
        sources = incident.sources
        reach = incident.window_detection.reach
        return Reading(
            sources.log_format,
            sources.logs_timezone,
            incident.policy.failure_events,
            incident.currencies,
            incident.money_days_text,
            incident.line_checks,
            (incident.window_start - reach, incident.window_end + reach),
            incident.max_quarantined_lines,
        )

    def screen(self) -> Screen | None:
        """The screen of the lines, or None when every line is checked in full."""
        if self.line_checks == "all":
            return None
        return Screen.of(self.failure_events, self.log_format)


# The endings of a log file's name: a folder the glob matched that is named so (`x.jsonl`, a
# log unpacked into a folder of its name) holds logs its glob does not read, unless the glob is
# recursive (`**`), which reads into it what it asks for.
LOG_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json", ".log", ".logs", ".gz", ".txt"})


class PlannedFile(NamedTuple):
    """A log file the plan gives the map to read."""

    file_id: int
    path: Path
    name: str  # as the run shows it (`files.display_name`)
    listed: Listed  # what the plan saw of it: the read must find that file, all of it


@dataclass(frozen=True)
class Partition:
    """A unit of the map: a few log files, in file id order, read one after the other."""

    files: tuple[PlannedFile, ...]


def of_incident(incident: Incident) -> list[Path]:
    """The log files of the incident's `sources.logs`; a refusal names the incident file: with
    several in one folder (data/incidents/), `sources.logs` alone named none of them."""
    return expand(incident.sources.logs, incident.path.parent, f"{incident.path}: sources.logs")


def expand(globs: Sequence[str], root: Path, key: str = "sources.logs") -> list[Path]:
    """The files the globs match, sorted and without repeats; a glob matching nothing fails.
    A relative glob is read from `root` (the incident file's folder), whose own name is never a
    pattern: a folder named `INC [2025]` matched nothing, and `INC *` other incidents' logs.
    `key` says where the globs come from, first in every message."""
    found: set[Path] = set()
    for pattern in globs:
        _refused(pattern, root, key)
        paths = [root / p for p in glob.glob(pattern, root_dir=root, recursive=True)]
        descends = "**" in pattern  # a recursive glob reads into every folder it meets
        for path in paths:
            if path.is_symlink() and not path.exists():  # a log would be skipped unseen
                raise InputError(
                    f"{key}: {os.path.relpath(path, root)} is a symbolic link to "
                    f"{os.readlink(path)}, which does not exist (or is a loop of links)"
                )
            if not descends and path.is_dir() and path.suffix.lower() in LOG_SUFFIXES:
                shown = os.path.relpath(path, root)
                raise InputError(
                    f"{key}: {shown} is a folder named as a log file is: its files would "
                    f"go unread; name them with a glob ('{shown}/*'), or rename it, or narrow "
                    "the glob"
                )
            if path.exists() and not path.is_dir() and not path.is_file():  # never skipped unseen
                raise InputError(
                    f"{key}: {os.path.relpath(path, root)} is not a regular file (a named "
                    "pipe, a socket or a device): a log source must be a file; narrow the glob"
                )
        matched = [path for path in paths if path.is_file()]
        for path in matched:
            _named_in_utf8(path, root, key)
        if not matched:
            shown = files.display_name(Path(pattern), root)
            hint = ""
            if "\\" in pattern:  # Windows' separator, in a name here
                hint = files.backslash_hint(pattern)
            elif files.shell_hint(pattern):  # a shell's, not glob's
                hint = files.shell_hint(pattern)
            elif any(path.is_dir() for path in paths):  # `logs = ["logs"]`
                hint = (
                    f"; it names a folder, whose files a glob names: '{shown}/*' (or "
                    f"'{shown}/**/*')"
                )
            raise InputError(
                f"{key}: '{shown}' matches no file (looked in {root}; a path in the "
                f"incident file is read from the incident file's folder){hint}"
            )
        found.update(p.resolve() for p in matched)
    return sorted(found)


def _named_in_utf8(path: Path, root: Path, key: str) -> None:
    """An `InputError` for a log whose name is not UTF-8 (copied from a Latin-1 share): the
    manifest and quarantine.jsonl name every file in UTF-8, and its name stopped the run with a
    traceback."""
    shown = files.not_utf8(os.path.relpath(path, root))
    if shown is not None:
        raise InputError(
            f"{key}: {shown}: its name is not UTF-8, which the run folder names every file "
            f"in; {files.RENAME_TO_UTF8}, or narrow the glob"
        )


def _refused(pattern: str, root: Path, key: str) -> None:
    """A `StorageError` naming a folder the glob must look into but this user may not (list it
    for a pattern or `**`, pass through it for a plain name): glob passes over such a folder
    without a word, and the logs in it would go unread."""
    parts = Path(pattern).parts
    for depth in range(len(parts)):  # the folders in which each part is sought, the file's too
        prefix, step = parts[:depth], parts[depth]
        if step == "/":
            continue
        found = glob.glob(os.path.join(*prefix), root_dir=root, recursive=True) if prefix else ["."]
        if step == "**":  # glob lists every folder below too
            found = glob.glob(os.path.join(*prefix, "**"), root_dir=root, recursive=True)
        for folder in (root / f for f in found):
            what = "listed"
            try:
                if not folder.is_dir():
                    continue
                if not glob.has_magic(step):  # a plain name: only passed through
                    if not os.access(folder, os.X_OK):
                        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
                    continue
                with os.scandir(folder):
                    pass
                # Listed but not searchable (0600): glob gives its names, and the first look
                # at one stopped the run with a PermissionError (advice to free space).
                what = "passed through"
                if not os.access(folder, os.X_OK):
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            except OSError as error:
                raise StorageError(
                    f"{key}: {files.display_name(folder, root)} cannot be {what} "
                    f"({error.strerror}): '{pattern}' would pass over the logs in it without a "
                    "word; make it readable by this user, then run again"
                ) from None


@dataclass(frozen=True)
class Plan:
    """The map's work: partitions in file order, and the files pruned by their hour."""

    partitions: list[Partition]
    pruned: list[LogFile]

    @property
    def files(self) -> int:
        return sum(len(p.files) for p in self.partitions)


def plan(
    incident: Incident,
    partitions: int,
    min_bytes: int = MIN_PARTITION_BYTES,
    reach: timedelta = timedelta(0),
) -> Plan:
    """Splits the files to read into at most `partitions` partitions of about equal size, and
    at most one per `min_bytes` of files read (0: no such bound).

    Pruned are the files dated to an hour that ends, `NAME_SLACK` later, before the window's
    start less the clock skew and `reach`, or starts, `NAME_SLACK` earlier, at or after its end
    plus both, read both as a UTC hour and as an hour of `sources.logs_timezone`: that setting
    is for times without an offset, and names are as often in UTC (collectors' rotation) as in
    local time, so a file is pruned only when neither reading can hold a line of the window.
    """
    root = incident.path.parent
    margin = incident.sources.log_clock_skew + reach + NAME_SLACK
    lower, upper = incident.window_start - margin, incident.window_end + margin
    zones = (ZoneInfo("UTC"), ZoneInfo(incident.sources.logs_timezone))
    to_read: list[PlannedFile] = []
    pruned: list[LogFile] = []
    for file_id, path in enumerate(of_incident(incident)):
        name, listed = files.display_name(path, root), Listed.of(path)
        hour = _hour_of(name, zones)
        if hour is not None and (hour[1] <= lower or hour[0] >= upper):
            pruned.append(LogFile(file_id, path, name, listed.bytes, "", 0, pruned=True))
        else:
            to_read.append(PlannedFile(file_id, path, name, listed))
    # Largest first onto the least loaded partition: about equal work, the same plan every time.
    count = max(1, partitions)
    if min_bytes > 0:
        count = min(count, max(1, math.ceil(sum(f.listed.bytes for f in to_read) / min_bytes)))
    loads: list[list[PlannedFile]] = [[] for _ in range(count)]
    sizes = [0] * count  # each partition's bytes so far: summed once, not per file placed
    for entry in sorted(to_read, key=lambda f: (-f.listed.bytes, f.file_id)):
        least = min(range(count), key=lambda i: (sizes[i], len(loads[i])))
        loads[least].append(entry)
        sizes[least] += entry.listed.bytes
    chosen = [Partition(tuple(sorted(p, key=lambda f: f.file_id))) for p in loads if p]
    return Plan(sorted(chosen, key=lambda p: p.files[0].file_id), pruned)


def _hour_of(name: str, zones: Sequence[ZoneInfo]) -> tuple[datetime, datetime] | None:
    """The UTC span of the hour a file's name or hive path dates it to, if any, read in each
    of `zones` (the span covers every reading)."""
    match = HIVE_HOUR.search(name) or HOURLY_NAME.search(name.rpartition("/")[2])
    if match is None:
        return None
    try:
        local = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}:00")
    except ValueError:
        return None
    # Both readings of an hour repeated by a DST change: the span covers either.
    starts = [
        local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for zone in zones for fold in (0, 1)
    ]
    return min(starts), max(starts) + timedelta(hours=1)
