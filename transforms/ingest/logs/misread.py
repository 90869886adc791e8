"""Files of a collector's lines read as the service's own (`Misread`): the map stops the run on
one that holds a failure rather than quarantine each of its lines, its failures lost under the
quarantine limit."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.logs import hints
from transforms.ingest.logs.lost import held


class Misread:
    """Files read with the default format whose lines are a collector's (`hints`): each line
    quarantined as the record, which it is not, naming the setting that reads it. A failure
    line among them (or, a journald message written as byte values, counted irrelevant unseen)
    would be one item under the quarantine limit: a file none of whose staged lines (those
    checked in full, and the few at each end staged for its time) is a record stops the run
    when one of its lines naming a setting names a failure event too, or is journald's. A
    collector's line among the service's is only quarantined, and so is a file of another
    program's collected lines without a failure (a sidecar's Docker log that `logs/*` matched).
    """

    def __init__(self, failure_events: tuple[str, ...]) -> None:
        self.failure_events = failure_events
        self.hinted: dict[int, tuple[int, str]] = {}  # file_id -> its first such line, reason
        self.failing: set[int] = set()  # the files with such a line that may hold a failure
        self.read: set[int] = set()  # the files with a record read

    def note(self, staged: pa.RecordBatch) -> None:
        """Notes the staged lines' files that have a record, and their lines naming a setting."""
        reasons = staged.column("quarantine_reason")
        self.read.update(
            pc.unique(staged.filter(pc.is_null(reasons)).column("file_id")).to_pylist()
        )
        named = pc.fill_null(pc.match_substring(reasons, hints.LOOKS_LIKE), False)
        columns = ["file_id", "line", "quarantine_reason", "raw"]
        for row in staged.filter(named).select(columns).to_pylist():
            first = self.hinted.get(row["file_id"])
            if first is None or row["line"] < first[0]:
                self.hinted[row["file_id"]] = (row["line"], row["quarantine_reason"])
            if hints.BYTE_VALUED in row["quarantine_reason"] or held(
                row["raw"] or "", self.failure_events
            ):
                self.failing.add(row["file_id"])

    def error(self, names: dict[int, str]) -> InputError | None:
        """The error that stops the run on the first such file. `names`: file_id -> name."""
        for file_id, (line, reason) in sorted(self.hinted.items()):
            if file_id in self.read or file_id not in self.failing:
                continue
            looks = reason.split(hints.LOOKS_LIKE, 1)[1].removesuffix(")")
            return InputError(
                f"{names[file_id]}: no line of it is a record read with [sources.log_format], "
                f"and line {line} looks like {looks}: read so, its failures would each be "
                "quarantined, under the quarantine limit, and never credited; set it, then run "
                "again"
            )
        return None
