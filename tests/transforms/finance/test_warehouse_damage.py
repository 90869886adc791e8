"""A warehouse's DuckDB file damaged on disk (its write-ahead log cut or changed, a log left beside
a file that was replaced, the file cut short) is named with what to do, never an internal error."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tests import golden_incident


@pytest.fixture
def warehouse_with_log(tmp_path) -> tuple[Path, Path]:
    """A small warehouse (one golden run) and a write-ahead log of it kept aside: what a writer
    killed after its commit leaves beside the file."""
    path = tmp_path / "wh.duckdb"
    golden_incident.load_run(tmp_path / "golden", path)
    con = duckdb.connect(str(path))
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("create table scratch as select 1 as one")
    con.close()
    kept = tmp_path / "kept.wal"
    shutil.copy(Path(f"{path}.wal"), kept)
    return path, kept


def _cli(*args: str):
    from flows.cli import app

    return CliRunner().invoke(app, list(args))


def _log_of_another_version(path: Path, kept: Path) -> None:
    duckdb.connect(str(path)).close()  # replays the log and checkpoints: the file moves on
    shutil.copy(kept, Path(f"{path}.wal"))


def _log_changed(path: Path, kept: Path) -> None:
    log = bytearray(kept.read_bytes())
    log[len(log) // 2 : len(log) // 2 + 8] = b"\xff" * 8
    Path(f"{path}.wal").write_bytes(bytes(log))


def _file_cut_short(path: Path, kept: Path) -> None:
    duckdb.connect(str(path)).close()
    with open(path, "r+b") as handle:
        handle.truncate(3 * 4096 + 1)  # its header only: every block cut off


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (_log_of_another_version, "belongs to another version of the warehouse file"),
        (_log_changed, "write-ahead log is damaged"),
        (_file_cut_short, "is damaged"),
    ],
)
@pytest.mark.parametrize("command", [["audit", "--verify"], ["runs"]])
def test_a_damaged_warehouse_file_is_named_with_what_to_do(
    warehouse_with_log, damage, named, command
):
    path, kept = warehouse_with_log
    damage(path, kept)
    result = _cli(*command, "--warehouse", str(path))
    assert result.exit_code == 3, result.output
    assert "internal error" not in result.output
    assert str(path) in result.stderr
    assert named in result.stderr
    assert "backup" in result.stderr
