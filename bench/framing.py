"""What framing the log lines costs, by part, against the readers that could replace its kernel.

    python -m bench.framing FOLDER [FILES]

Reads the first FILES (default 10) gzip log files of FOLDER into memory once, then measures, in
this process (CPU seconds, the best of three): inflating them (ISA-L, as `source.Source`), the
sha256 of their bytes, and on 4 MiB blocks of the text the kernel of the framing (numpy: each
line's end and size, CR before LF) against pyarrow's `split_pattern` and, over the files,
DuckDB's line reader (`read_csv` of one text column); then the whole `Framer` with the screen
of plain JSON lines, as the map runs it. The numbers are in `bench/README.md`.
"""

from __future__ import annotations

import codecs
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from isal import isal_zlib

from transforms.ingest.incident.sections import LogFormat
from transforms.ingest.logs.framed import line_bounds
from transforms.ingest.logs.framing import Framer
from transforms.ingest.logs.screen import Screen
from transforms.ingest.logs.source import Source

BLOCK = 1 << 22


def best(label: str, work: Callable[[], object], times: int = 3) -> None:
    found = []
    for _ in range(times):
        started = time.process_time()
        work()
        found.append(time.process_time() - started)
    print(f"{label:<48} {min(found):7.3f} CPU s", flush=True)


def main() -> None:
    folder, count = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10
    files = sorted(folder.glob("*.gz"))[:count]
    packed = [path.read_bytes() for path in files]
    texts = [isal_zlib.decompress(data, wbits=31) for data in packed]
    blocks = [text[i : i + BLOCK] for text in texts for i in range(0, len(text), BLOCK)]
    lines = sum(text.count(b"\n") for text in texts)
    print(f"{len(files)} files, {lines:,} lines, {sum(map(len, texts)) / 1e6:,.0f} MB of text")
    best("inflate (ISA-L)", lambda: [isal_zlib.decompress(d, wbits=31) for d in packed])
    best("sha256 of the files", lambda: [hashlib.sha256(d).digest() for d in packed])
    best(
        "kernel: numpy line ends and sizes",
        lambda: [line_bounds(np.frombuffer(b, np.uint8), 0) for b in blocks],
    )
    best("UTF-8 check (codecs)", lambda: [codecs.utf_8_decode(b, "strict", True) for b in blocks])
    best(
        "pyarrow split_pattern on LF",
        lambda: [pc.split_pattern(pa.array([b], pa.large_binary()), b"\n") for b in blocks],
    )
    con = duckdb.connect()
    best(
        "DuckDB read_csv, one text column (inflating too)",
        lambda: con.execute(
            "select count(*) from read_csv($files, columns = {'line': 'VARCHAR'}, "
            "delim = '\\x01', quote = '', escape = '', header = false)",
            {"files": [str(path) for path in files]},
        ).fetchall(),
        times=1,
    )
    screen = Screen.of(("payment.failed",), LogFormat())

    def framed() -> int:
        rows = 0
        for i, path in enumerate(files):
            rows += sum(b.num_rows for b in Framer(i, path.name, Source(path), screen).blocks())
        return rows

    best("Framer with the screen (the map's reading)", framed, times=2)


if __name__ == "__main__":
    main()
