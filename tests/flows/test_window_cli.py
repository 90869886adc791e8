"""`credits window` (the detected outage against the declared window) and the window_check in
`credits run`'s summary."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from flows import cli
from flows.cli import common
from tests.builders import customer, failure, write_incident

runner = CliRunner()
START = datetime(2025, 1, 7, 19, 15, tzinfo=UTC)  # the builders' window: 14:15 to 18:15 New York


def incident_with_early_onset(tmp_path):
    """Declined lines every 10 minutes from 17:00Z to 01:00Z; 8 outage-coded lines a minute from
    18:55Z (20 minutes before the declared start) to 23:15Z; c2 fails only before the start."""
    quiet = [
        failure(
            f"q{i}", ts=(START - timedelta(minutes=135 - 10 * i)).isoformat(), code="CARD_DECLINED"
        )
        for i in range(49)
    ]
    outage = [
        failure(
            f"x{m}_{k}",
            ts=(START + timedelta(minutes=m, seconds=5 * k)).isoformat(),
            customer_id="c2" if m < 0 else "c1",
            amount_minor=500,
            currency="USD",
        )
        for m in range(-20, 240)
        for k in range(8)
    ]
    customers = [customer("c1"), customer("c2")]
    return write_incident(tmp_path / "inc", lines=quiet + outage, customers=customers)


def test_window_as_json_finds_the_early_onset_and_what_it_adds(tmp_path):
    result = runner.invoke(
        cli.app, ["window", str(incident_with_early_onset(tmp_path)), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["declared"]["start_local"] == "2025-01-07T14:15:00-05:00"
    assert answer["detected"] == {
        "start_local": "2025-01-07T13:55:00-05:00",
        "end_local": "2025-01-07T18:15:00-05:00",
    }
    (outage,) = answer["intervals"]
    assert outage["lines"] == 260 * 8 and outage["codes"] == {"DB_POOL_TIMEOUT": 260 * 8}
    assert outage["rate_during_per_minute"] == 8.0 and outage["rate_before_per_minute"] == 0.0
    assert answer["change"]["customers"] == {"declared": 1, "detected": 2, "added": 1, "removed": 0}
    assert answer["change"]["transactions"]["added"] == 20 * 8
    assert answer["change"]["credits_minor"]["USD"] == {
        "declared": 1000,
        "detected": 2000,
        "added": 1000,
        "removed": 0,
    }
    assert answer["settings"]["edge_margin_minutes"] == 15


def test_window_as_a_table_shows_the_intervals_and_the_change(tmp_path):
    result = runner.invoke(cli.app, ["window", str(incident_with_early_onset(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "detected window 2025-01-07 13:55 EST to 2025-01-07 18:15 EST" in result.stdout
    assert "codes from 2025-01-07 13:55 EST: DB_POOL_TIMEOUT 2,080" in result.stdout
    assert "credits USD" in result.stdout and "USD 0.00" in result.stdout


def test_window_shows_a_declared_edge_between_minutes_to_the_second(tmp_path):
    # It said "declared window 2025-01-07 14:15 EST to ...", the same start as the detected
    # window's, while the detected one added the payments of 14:15:00 to 14:15:30.
    path = incident_with_early_onset(tmp_path)
    path.write_text(path.read_text().replace("T14:15:00", "T14:15:30"), encoding="utf-8")
    result = runner.invoke(cli.app, ["window", str(path)])
    assert result.exit_code == 0, result.output
    assert "declared window 2025-01-07 14:15:30 EST to 2025-01-07 18:15 EST" in result.stdout
    assert "detected window 2025-01-07 13:55 EST to 2025-01-07 18:15 EST" in result.stdout


def test_window_without_an_outage_says_so(tmp_path):
    lines = [
        failure(f"q{i}", ts=(START + timedelta(minutes=i - 200)).isoformat()) for i in range(700)
    ]
    result = runner.invoke(cli.app, ["window", str(write_incident(tmp_path / "inc", lines=lines))])
    assert result.exit_code == 0, result.output
    assert "no outage found: outage-coded failures stay at baseline" in result.stdout


def test_window_on_the_wrong_day_says_no_log_file_covers_its_hours(tmp_path):
    # It said "no outage-coded failure line in the logs": the outage's file, dated by its name
    # to 2025-01-07 19:00Z, was left out unopened for a window of 2025-01-17.
    path = write_incident(
        tmp_path / "inc",
        lines=[failure(f"x{m}", ts=(START + timedelta(minutes=m)).isoformat()) for m in range(60)],
        log_name="logs/pod-a.2025-01-07T19.jsonl",
        top={"window_start": "2025-01-17T14:15:00", "window_end": "2025-01-17T18:15:00"},
    )
    table = runner.invoke(cli.app, ["window", str(path)])
    assert table.exit_code == 0, table.output
    said = " ".join(table.stdout.split())
    assert (
        "no baseline: no log file covers the window's hours: the globs matched 1 log file "
        "(logs/pod-a.2025-01-07T19.jsonl), each dated by its name to an hour more than 1 day "
        "(window_detection.reach) from the window"
    ) in said
    assert "Check the window's date (window_start, window_end)" in said
    assert "no outage-coded failure line" not in said
    answer = json.loads(runner.invoke(cli.app, ["window", str(path), "--format", "json"]).stdout)
    assert answer["problem"].startswith("no log file covers the window's hours")


def test_no_baseline_names_the_log_files_left_out_by_their_hour(tmp_path):
    from transforms.ingest import incident as incident_file
    from transforms.ingest.logs import LogFile
    from transforms.reconcile import window, window_compare

    read = LogFile(0, Path("a"), "logs/a.jsonl", 10, "h", 1)
    pruned = LogFile(1, Path("b"), "logs/b.2024-01-01T00.jsonl", 10, "", 0, pruned=True)
    nothing = window.Detection(None, None, None, (), "no outage-coded failure line in the logs")
    incident = incident_file.load(write_incident(tmp_path / "inc"))
    found = window_compare._with_unread(nothing, incident, [read, pruned])
    assert found.problem == (
        "no outage-coded failure line in the logs (1 log file read; 1 log file left out, each "
        "dated by its name to an hour more than 1 day (window_detection.reach) from the window)"
    )
    assert window_compare._with_unread(nothing, incident, [read]) == nothing  # none left out


def test_window_with_a_bad_incident_file_exits_2_naming_the_key(tmp_path):
    path = write_incident(tmp_path / "inc")
    path.write_text(path.read_text() + '[window_detection]\nedge_margin = "90s"\n')
    result = runner.invoke(cli.app, ["window", str(path)])
    assert result.exit_code == 2
    assert "window_detection.edge_margin: must be a whole number of minutes" in result.stderr


def test_window_with_a_bad_format_is_bad_usage(tmp_path):
    result = runner.invoke(cli.app, ["window", str(tmp_path / "x.toml"), "--format", "csv"])
    assert result.exit_code == 2


def test_the_run_summary_carries_the_window_check(capsys, venv_off_path):
    from transforms.reconcile.window import Status
    from transforms.runfolder.runs import RunStatus
    from transforms.runfolder.summary import RunSummary

    summary = RunSummary(
        run_id="r1",
        incident_id="INC-T",
        verdict=RunStatus.PENDING_APPROVAL,
        run_folder=Path("runs/r1"),
        window_check=Status.WARNING,
        window_messages=("window_check: above baseline; see `credits window inc.toml`",),
    )
    common.print_summary(summary)
    # the manifest's message says `credits`; printed, it is the command as typed here
    shown = " ".join(capsys.readouterr().out.split())
    assert "warning: window_check: above baseline; see `.venv/bin/credits window inc.toml`" in shown
    common.print_summary(replace(summary, window_check=Status.OK, window_messages=()))
    assert "window_check" not in capsys.readouterr().out


def test_a_time_of_the_night_the_clocks_go_back_says_which_of_its_two_it_is():
    # 05:30 and 06:30 UTC are both 01:30 in New York on 2025-11-02: without the zone's
    # abbreviation an hour-long outage would read as none.
    from flows.cli.window import _clock

    zone = "America/New_York"
    assert _clock("2025-11-02T01:30:00-04:00", zone) == "2025-11-02 01:30 EDT"
    assert _clock("2025-11-02T01:30:00-05:00", zone) == "2025-11-02 01:30 EST"
    assert _clock("2025-01-07T20:00:00+05:30", "Asia/Kolkata") == "2025-01-07 20:00 IST"
