"""The business, never importing prefect.

Time zones come from one release of the IANA database: the pinned `tzdata` package, the release
DuckDB's ICU reads a log's local time by (`tests/transforms/test_times.py` compares the two).
Python's `zoneinfo` would read the machine's own files first, another release on each machine:
a window written in local time then moved by an hour against the logs where a zone's rules
changed between them (British Columbia's 2026).
"""

import zoneinfo

zoneinfo.reset_tzpath(to=())
zoneinfo.ZoneInfo.clear_cache()
