"""The map's count of each log file's quarantined lines against `[quality]
max_quarantined_lines`: a file past it stops the run rather than fill quarantine.jsonl."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputError
from transforms.ingest.logs import hints


class Flood:
    """Counts each file's quarantined lines over the map's staged batches (`flooded`), against
    `[quality] max_quarantined_lines`. A file past it is no log of the contract (a gzip of 100 KB
    that is 100 M blank lines, a disk's zeros, another program's file), and each line costs the
    map, quarantine.jsonl (130 bytes of JSON for a blank line: gigabytes) and the gate; a log
    with 1% of junk lines, the gate's default share, would need 100 M lines in one file to come
    near the default, 1,000,000."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[int, int] = {}

    def flooded(self, staged: pa.RecordBatch, names: dict[int, str]) -> InputError | None:
        """The error that stops a run on a file with more than `limit` quarantined lines, naming
        the line past the limit and its reason; `names`: file_id -> name."""
        quarantined = staged.filter(pc.is_valid(staged.column("quarantine_reason")))
        if not quarantined.num_rows:
            return None
        limit = self.limit
        for file_id in pc.unique(quarantined.column("file_id")).to_pylist():
            rows = quarantined.filter(pc.equal(quarantined.column("file_id"), file_id))
            seen = self.counts.get(file_id, 0)
            self.counts[file_id] = seen + rows.num_rows
            if seen + rows.num_rows > limit:
                row = rows.slice(limit - seen, 1).to_pylist()[0]
                said = (
                    f"{names[file_id]}: more than {limit:,} of its lines are quarantined (by line "
                    f"{row['line']:,}: {row['quarantine_reason']}): "
                )
                if hints.LOOKS_LIKE in row["quarantine_reason"]:  # a collector's file
                    return InputError(
                        f"{said}[sources.log_format] does not read this file; set what that "
                        "reason names (or leave the file out of sources.logs), then run again"
                    )
                return InputError(
                    f"{said}it is no log of the contract "
                    "(a decompression bomb of blank lines, a disk's zeros, another program's "
                    "file) or is badly damaged, and each line would be written to "
                    "quarantine.jsonl; leave it out of sources.logs (narrow the glob) or mend "
                    "it, then run again (or, for a log this damaged on purpose, raise [quality] "
                    "max_quarantined_lines)"
                )
        return None
