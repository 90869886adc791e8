"""What `credits run` prints: a line per stage, the summary, the run folder last; every log line
only with -v (the Prefect UI keeps them either way). And `credits sample`'s counts, with -v."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows import progress
from flows.cli import app
from tests import golden_incident
from tests.flows import cli_runs

NOISE = ("Finished in state Completed()", "ephemeral docs site", "Beginning flow run")


def test_a_run_shows_its_stages_then_the_summary_then_the_folder_last(golden_cli_run):
    result = golden_cli_run.result
    assert result.returncode == 0, result.stderr
    stages = [line.split()[0] for line in result.stderr.splitlines() if line.strip()]
    assert stages == list(progress.STAGES), result.stderr  # one line each, in order, nothing else
    assert re.search(r"^map .* (\d+)/\1 ", result.stderr, re.MULTILINE)  # the bar, full
    assert not any(noise in result.stderr + result.stdout for noise in NOISE)
    lines = result.stdout.rstrip("\n").splitlines()
    run_id = re.search(r"INC-GOLD run (\S+): pending_approval", lines[0]).group(1)  # summary
    assert Path(lines[-1]).is_dir() and lines[-1].endswith(f"run={run_id}")


def test_verbose_shows_every_log_line_too(prefect_harness, tmp_path):
    result = cli_runs.golden_run(tmp_path, "-v")
    assert result.returncode == 0, result.stderr
    assert all(noise in result.stderr for noise in NOISE), result.stderr
    assert Path(result.stdout.rstrip("\n").splitlines()[-1]).is_dir()


def test_the_run_folder_is_printed_as_it_is_named(prefect_harness, tmp_path):
    # printed as Rich markup: `[v2]` was left out of the path, and `[/v2]` ended the run
    # with a MarkupError's traceback after the run was sealed
    result = cli_runs.golden_run(tmp_path, out="out[v2][/v2]")
    assert result.returncode == 0, result.stderr
    folder = result.stdout.rstrip("\n").splitlines()[-1]
    assert folder.startswith(str(tmp_path / "out[v2][/v2]")) and Path(folder).is_dir(), folder


def test_the_stage_lines_reach_the_flow_runs_logs(golden_cli_run):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    assert golden_cli_run.result.returncode == 0, golden_cli_run.result.stderr
    flow_run_id = golden_cli_run.flow_run_id
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    messages = [log.message for log in logs]
    assert any("candidate transactions" in m for m in messages)  # the reconcile stage's line
    assert any("Finished in state Completed()" in m for m in messages)  # and everything else


@pytest.mark.parametrize(("flags", "counts_shown"), [((), False), (("-v",), True)])
def test_the_sample_prints_its_counts_only_with_verbose(monkeypatch, tmp_path, flags, counts_shown):
    from transforms import sample

    monkeypatch.setattr(sample, "generate", lambda out, scale, seed: {"planted_closed": 47})
    result = CliRunner().invoke(app, ["sample", "--out", str(tmp_path), *flags])
    assert result.exit_code == 0, result.output
    assert ("planted_closed: 47" in result.stdout) is counts_shown
    assert result.stdout.splitlines()[-1].endswith("INC-2025-01-07.toml")


def test_a_folder_given_as_the_incident_is_named_with_its_incident_files(tmp_path):
    path = golden_incident.write(tmp_path / "inc")
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(path.parent)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert "a folder, not an incident file" in message and path.name in message
    assert "Traceback" not in result.stderr
