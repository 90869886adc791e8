"""A window edge a DST change skips: the message says what to write, not only that it is a gap."""

from __future__ import annotations

import pytest

from tests.builders import write_incident
from transforms.errors import ConfigError
from transforms.ingest import incident


def test_a_window_edge_in_a_dst_gap_says_what_to_write(tmp_path):
    path = write_incident(
        tmp_path / "inc",
        top={"window_start": "2025-03-09T02:30:00", "window_end": "2025-03-09T05:00:00"},
    )
    with pytest.raises(ConfigError) as raised:
        incident.load(path)
    assert str(raised.value) == (
        f"{path}: window_start: 2025-03-09 02:30:00 does not exist in America/New_York (a DST "
        "gap: its clocks skipped it); write a time they showed, such as 2025-03-09T03:30:00, "
        "the instant 2025-03-09T02:30:00-05:00 is, or write the time with its offset"
    )
