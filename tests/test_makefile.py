"""`make help` lists every target with its description, the descriptions in one column."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_help_aligns_every_description_in_one_column():
    shown = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    documented = re.findall(r"^([a-z-]+):.*## ", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert [line.split()[1] for line in shown] == documented  # every target, in order
    # Two blanks at least after the longest name (`notebooks` once ran into its text).
    starts = {re.match(r"  make \S+ +", line).end() for line in shown}
    assert len(starts) == 1, shown
    assert all(re.match(r"  make \S+  ", line) for line in shown), shown
