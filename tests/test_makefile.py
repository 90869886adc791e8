"""`make help` lists every target with its description, the descriptions in one column;
`make notebooks` passes its values as one argument each."""

from __future__ import annotations

import json
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


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, ["--incident", "INC-2025-01-07", "--out", "data/output/notebooks"]),
        (  # it was split at the blank: "unrecognized arguments"
            {"NB_WAREHOUSE": "/tmp/dir with space/it's w.duckdb"},
            ["--incident", "INC-2025-01-07", "--warehouse", "/tmp/dir with space/it's w.duckdb"]
            + ["--out", "data/output/notebooks"],
        ),
        (  # it was an argparse error; the runner says it is empty (tests/notebooks)
            {"NB_INCIDENT": ""},
            ["--incident", "", "--out", "data/output/notebooks"],
        ),
    ],
)
def test_make_notebooks_passes_each_value_as_one_argument(tmp_path, given, expected):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"  # stands in for the venv's: writes the arguments it was given
    python.write_text(
        "#!/bin/sh\n"
        f"exec {shutil.which('python3')} -c 'import json, sys; print(json.dumps(sys.argv[1:]))'"
        ' "$@"\n'
    )
    python.chmod(0o755)
    values = [f"{name}={value}" for name, value in given.items()]
    shown = subprocess.run(
        ["make", "-s", "-o", f"{tmp_path}/.installed", "notebooks", f"VENV={tmp_path}"]
        + [f"BIN={bin_dir}", *values],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(shown) == ["-m", "flows.notebooks", *expected]
