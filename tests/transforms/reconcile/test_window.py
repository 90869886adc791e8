"""The outage window from the evidence: the rule on a few inline minutes, and the run's
window_check on a few inline log lines (window 19:15Z to 23:15Z)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.builders import customer, failure, reconcile_incident, txn, write_incident
from transforms import commands
from transforms.errors import ConfigError
from transforms.ingest import incident
from transforms.reconcile import window
from transforms.runfolder.manifest_model import DetectionSettings, WindowCheck

START = datetime(2025, 1, 7, 19, 15, tzinfo=UTC)
END = datetime(2025, 1, 7, 23, 15, tzinfo=UTC)
DEFAULTS = incident.WindowDetection()


def at(minute: int) -> datetime:
    """The minute `minute` minutes after 18:00Z (the window starts at minute 75)."""
    return datetime(2025, 1, 7, 18, 0, tzinfo=UTC) + timedelta(minutes=minute)


def detect(per_minute: dict[int, int], span=(0, 419), code="DB_POOL_TIMEOUT", **settings):
    """`detect` over {minute: lines}, every other minute of the span 0 (18:00Z to 24:59Z)."""
    chosen = DEFAULTS.model_copy(update=settings)
    rows = [(at(m), code, n) for m, n in sorted(per_minute.items())]
    return window.detect(rows, (START, END), (at(span[0]), at(span[1])), chosen)


def edges(found: window.Detection) -> list[tuple[datetime, datetime]]:
    return [(i.onset_utc, i.recovery_utc) for i in found.intervals]


def burst(first: int, last: int, lines: int = 20) -> dict[int, int]:
    """`lines` a minute from minute `first` to `last`, both included."""
    return dict.fromkeys(range(first, last + 1), lines)


# The baseline and the threshold --------------------------------------------------------------
def test_the_baseline_is_the_median_and_mad_of_the_minutes_outside_the_window():
    # outside: 1, 2, 3 repeating (median 2, MAD 1); inside the window: 100 a minute
    quiet = {m: 1 + m % 3 for m in range(0, 420) if not 75 <= m < 315}
    found = detect({**quiet, **burst(75, 314, 100)})
    assert found.baseline.median == 2 and found.baseline.mad == 1
    assert found.baseline.threshold == pytest.approx(2 + 5 * 1.4826)
    assert found.baseline.minutes == 420 - 240
    assert edges(found) == [(START, END)]


@pytest.mark.parametrize(
    ("lines", "found"),
    [
        (4, False),  # 4 above a quiet baseline: below min_rise_lines (5), not an outage
        (5, True),  # exactly min_rise_lines: above baseline
    ],
)
def test_a_quiet_baseline_needs_min_rise_lines(lines, found):
    assert bool(detect(burst(100, 130, lines)).intervals) is found


def test_min_rise_lines_is_a_setting():
    assert detect(burst(100, 130, 4), min_rise_lines=3).intervals
    assert not detect(burst(100, 130, 5), min_rise_lines=6).intervals


def test_mad_multiplier_scales_a_noisy_baseline():
    noisy = {m: (0, 10)[m % 2] for m in range(420)}  # median 5, MAD 5
    assert not detect({**noisy, **burst(100, 130, 30)}).intervals  # 5 + 5 x 7.4 = 42 needed
    assert detect({**noisy, **burst(100, 130, 30)}, mad_multiplier=2).intervals


# Intervals -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dip_minutes", "intervals"),
    [
        (3, 1),  # a dip of max_gap (3 minutes) back at baseline: one outage
        (4, 2),  # a longer dip: two outages
    ],
)
def test_a_short_dip_does_not_split_an_outage(dip_minutes, intervals):
    gap_end = 120 + dip_minutes
    assert len(detect({**burst(100, 119), **burst(gap_end, 140)}).intervals) == intervals


@pytest.mark.parametrize(
    ("last", "kept"),
    [
        (103, False),  # 4 minutes above baseline: shorter than min_duration (5), noise
        (104, True),  # 5 minutes: an outage
    ],
)
def test_a_stretch_shorter_than_min_duration_is_noise(last, kept):
    assert bool(detect(burst(100, last)).intervals) is kept


def test_onset_is_the_first_minute_above_and_recovery_the_minute_after_the_last():
    found = detect({**burst(70, 320), 69: 4, 321: 3})  # 4 and 3: not above a quiet baseline
    assert edges(found) == [(at(70), at(321))]


def test_an_interval_carries_its_evidence():
    before = {m: 1 for m in range(85, 100)}  # 1 a minute over the 15 minutes before the onset
    rows = [(at(m), "DB_POOL_TIMEOUT", 1) for m in before]
    rows += [(at(m), "DB_POOL_TIMEOUT", 10) for m in range(100, 110)]
    rows += [(at(m), "UPSTREAM_TIMEOUT", 20) for m in range(100, 105)]
    found = window.detect(rows, (START, END), (at(0), at(419)), DEFAULTS)
    (interval,) = found.intervals
    assert interval.rate_before == 1.0
    assert interval.lines == 200 and interval.rate_during == 20.0 and interval.peak_lines == 30
    assert interval.codes == (("DB_POOL_TIMEOUT", 100), ("UPSTREAM_TIMEOUT", 100))


def test_minutes_outside_the_span_are_left_out():
    # the logs cover minutes 0 to 200 only: a burst at 300 is not theirs
    assert not detect(burst(300, 330), span=(0, 200)).intervals


def test_no_minute_outside_the_window_means_no_baseline():
    found = detect(burst(80, 100), span=(75, 314))
    assert found.baseline is None and not found.intervals
    assert "no minute outside the declared window" in found.problem


def test_no_outage_coded_line_at_all():
    found = window.detect([], (START, END), None, DEFAULTS)
    assert found.baseline is None and "no outage-coded failure line" in found.problem


# The detected window -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("per_minute", "expected"),
    [
        ({}, None),  # no outage
        (burst(60, 300), (at(60), at(301))),  # one outage, started early and ended early
        # two outages near the window (the first ends 5 minutes before it): their hull
        ({**burst(40, 70), **burst(90, 310)}, (at(40), at(311))),
        # an outage far from the window beside one in it: the one near it
        ({**burst(0, 10), **burst(80, 300)}, (at(80), at(301))),
        # none near the window: the longest
        ({**burst(0, 10, 8), **burst(330, 400)}, (at(330), at(401))),
    ],
)
def test_the_detected_window(per_minute, expected):
    assert window.detected_window(detect(per_minute), (START, END), DEFAULTS) == expected


# The run's window_check, on inline log lines -------------------------------------------------
def check(tmp_path, lines, transactions=(), top=None):
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        transactions=transactions,
        customers=[customer(c) for c in ("c1", "c2", "c3", "c4")],
        top=top,
    )
    loaded = incident.load(path)
    con = reconcile_incident(path, tmp_path)
    return window.check(con, loaded), loaded


def outage_lines(first: datetime, minutes: int, per_minute: int, customer_of=lambda i: "c1"):
    """`per_minute` outage-coded lines a minute for `minutes` minutes from `first`."""
    return [
        failure(
            f"x{m:03d}-{k}",
            ts=(first + timedelta(minutes=m, seconds=k)).isoformat(),
            customer_id=customer_of(m),
            amount_minor=100,
            currency="USD",
        )
        for m in range(minutes)
        for k in range(per_minute)
    ]


def quiet_hours():
    """One declined line every 10 minutes from 17:00Z to 01:00Z: the logs' span."""
    return [
        failure(f"q{i}", ts=(at(-60) + timedelta(minutes=10 * i)).isoformat(), code="CARD_DECLINED")
        for i in range(49)
    ]


def test_the_check_is_ok_when_failures_are_at_baseline_outside_both_edges(tmp_path):
    found, _ = check(tmp_path, quiet_hours() + outage_lines(START, 240, 6))
    assert found.status == window.OK and not found.findings


def test_the_check_warns_when_the_outage_started_before_the_window(tmp_path):
    # 6 a minute from 18:55Z: 20 minutes before the start; c2 and c3 fail only then
    early = outage_lines(START - timedelta(minutes=20), 20, 6, lambda m: ("c2", "c3")[m % 2])
    found, loaded = check(tmp_path, quiet_hours() + early + outage_lines(START, 240, 6))
    assert found.status == window.WARNING
    (finding,) = found.findings
    assert (finding.edge, finding.from_utc, finding.to_utc) == ("start", at(55), START)
    assert finding.lines == 120 and finding.customers_left_out == 2
    (message,) = found.messages(loaded, commands.credits)
    assert "2025-01-07 13:55 EST to 2025-01-07 14:15 EST" in message
    assert "outside the window's start (120 lines; 2 customers left out)" in message


def test_the_check_warns_when_the_outage_lasts_past_the_end(tmp_path):
    # the outage goes on 10 minutes past the end; c1, failing inside too, is not left out
    late = outage_lines(START, 250, 6)
    found, _ = check(tmp_path, quiet_hours() + late, [txn("x000-0", customer_id="c1")])
    (finding,) = found.findings
    assert (finding.edge, finding.from_utc, finding.to_utc) == (
        "end",
        END,
        END + timedelta(minutes=10),
    )
    assert finding.lines == 60 and finding.customers_left_out == 0


def test_a_window_edge_between_minutes_is_shown_to_the_second(tmp_path):
    # It said "outage-coded failures above baseline 2025-01-07 14:15 EST to 2025-01-07 14:15
    # EST": a window starting at 14:15:30 was shown as starting at 14:15, an empty stretch.
    top = {"window_start": "2025-01-07T14:15:30", "window_end": "2025-01-07T18:15:00.25"}
    found, loaded = check(tmp_path, quiet_hours() + outage_lines(START, 241, 6), top=top)
    start, end = found.findings
    assert (start.from_utc, start.to_utc) == (START, START + timedelta(seconds=30))
    first, last = found.messages(loaded, commands.credits)
    assert "2025-01-07 14:15 EST to 2025-01-07 14:15:30 EST, outside the window's start" in first
    assert "2025-01-07 18:15:00.250 EST to 2025-01-07 18:16 EST, outside the window's end" in last


def test_an_onset_minute_the_window_starts_inside_warns_only_of_lines_outside_it(tmp_path):
    # The window starts at 14:15:30 and the outage at 14:15:40: its onset minute, 14:15, began
    # before the start, and the check warned of "14:15 EST to 14:15:30 EST ... (0 lines)".
    top = {"window_start": "2025-01-07T14:15:30"}
    outage = outage_lines(START + timedelta(seconds=40), 240, 6)
    found, _ = check(tmp_path, quiet_hours() + outage, top=top)
    assert found.status == window.OK and not found.findings
    # a line of the onset minute before the start is one outside it
    early = failure("e", ts=(START + timedelta(seconds=10)).isoformat(), customer_id="c2")
    found, _ = check(tmp_path / "early", [*quiet_hours(), *outage, early], top=top)
    ((edge, lines, left_out),) = [(f.edge, f.lines, f.customers_left_out) for f in found.findings]
    assert (edge, lines, left_out) == ("start", 1, 1)


def test_a_window_too_narrow_at_both_edges_names_the_command_once(tmp_path):
    # the run's summary printed `see \`credits window FILE\`` after each edge's warning
    early = outage_lines(START - timedelta(minutes=10), 10, 6)
    found, loaded = check(tmp_path, quiet_hours() + early + outage_lines(START, 250, 6))
    first, last = found.messages(loaded, commands.credits)
    assert "outside the window's start" in first and "credits window" not in first
    assert "outside the window's end" in last
    assert last.endswith(f"see `{commands.credits(f'window {loaded.path}')}`")


def test_a_burst_beyond_the_edge_margin_is_not_the_checks_business(tmp_path):
    later = outage_lines(END + timedelta(minutes=16), 20, 6, lambda m: "c4")
    found, _ = check(tmp_path, quiet_hours() + outage_lines(START, 240, 6) + later)
    assert found.status == window.OK


def test_logs_that_do_not_reach_the_margin_leave_the_check_unchecked(tmp_path):
    inside_only = [
        failure(f"q{i}", ts="2025-01-07T19:10:00Z", code="CARD_DECLINED") for i in (1, 2)
    ]
    found, loaded = check(tmp_path, inside_only + outage_lines(START, 240, 6))
    assert found.status == window.UNCHECKED
    # The last names the command that checks the edges against all the logs, with this file,
    # once: each line repeated it.
    typed = commands.credits(f"window {loaded.path}")
    see = f"; `{typed}` checks the edges against all the logs"
    assert found.messages(loaded, commands.credits) == [
        "window_check: not checked: the logs read do not reach 15 minutes before the start",
        f"window_check: not checked: the logs read do not reach 15 minutes after the end{see}",
    ]


def test_the_manifest_s_messages_spell_the_command_the_same_wherever_the_run_ran(venv_off_path):
    # they said `.venv/bin/credits window ...`: the working directory, interpreter and PATH of
    # the run, in a manifest whose sha256 the journal keeps
    inside_only = [failure("q1", ts="2025-01-07T19:10:00Z", code="CARD_DECLINED")]
    found, loaded = check(venv_off_path, inside_only + outage_lines(START, 240, 6))
    saved = found.as_json(loaded)["messages"]
    assert saved and saved[-1].endswith(
        f"; `credits window {loaded.path}` checks the edges against all the logs"
    )
    assert ".venv" not in json.dumps(saved)


def test_an_outage_that_fills_the_logs_outside_a_too_narrow_window_is_not_called_ok(tmp_path):
    # The outage runs 18:15-00:15Z at 6 a minute; the window (19:15-23:15Z) is an hour too
    # narrow at each edge, and the logs hold nothing else: every minute outside the window is
    # the outage, so the baseline is the outage and nothing stands above it, inside or out.
    found, loaded = check(tmp_path, outage_lines(START - timedelta(hours=1), 360, 6))
    assert found.detection.baseline.median == 6 and not found.detection.intervals
    assert found.status == window.UNCHECKED and not found.findings
    (message,) = found.messages(loaded, commands.credits)
    assert "no outage above the baseline inside the declared window (120 minutes outside" in message


def test_a_window_with_too_few_lines_to_show_an_outage_is_not_called_ok(tmp_path):
    # Three failures in four hours: nothing rises above a quiet baseline, so no edge is vouched for.
    lines = quiet_hours() + [failure(f"t{i}", ts=at(100 + i).isoformat()) for i in range(3)]
    found, _ = check(tmp_path, lines)
    assert found.status == window.UNCHECKED and found.detection.baseline is not None


def test_logs_without_a_line_cover_no_minute(tmp_path):
    found, _ = check(tmp_path, [])
    assert found.detection.first_minute_utc is None and found.detection.baseline is None
    assert found.status == window.UNCHECKED


def test_a_failure_line_stamped_decades_off_does_not_stretch_the_logs_span(tmp_path):
    # A payment.failed line stamped 1970 (a clock reset) widened its file's span to `reach`
    # before the window: 22 hours no file covered were counted as quiet minutes, and with a
    # noisy baseline they pulled it to 0 and made most minutes an outage.
    stray = failure("old", ts="1970-01-01T00:00:05Z", code="CARD_DECLINED")
    found, _ = check(tmp_path, [stray, *quiet_hours(), *outage_lines(START, 240, 6)])
    detection = found.detection
    assert (detection.first_minute_utc, detection.last_minute_utc) == (at(-60), at(420))
    assert detection.baseline.minutes == 481 - 240 and found.status == window.OK


def test_quiet_lines_only_shape_checked_still_give_the_logs_span(tmp_path):
    # A request line every minute 16:00-02:00Z, and the outage (18:15-00:15Z, an hour beyond
    # each edge of the window): the failure lines alone span only the outage, the quiet lines
    # (shape-checked, not parsed, by default) the ten hours, so the baseline is the quiet.
    quiet = [
        {"ts": (at(-120) + timedelta(minutes=m)).isoformat(), "event": "http.request"}
        for m in range(600)
    ]
    # A banner without a time at each end, and a line stamped before the clock was set: the
    # first passes for its shape but gives no time; the second is far outside the window's reach.
    banner = {"level": "INFO", "msg": "log file opened"}
    boot = {"ts": "1970-01-01T00:00:07Z", "event": "boot"}
    quiet = [banner, boot, *quiet, banner]
    found, _ = check(tmp_path, quiet + outage_lines(START - timedelta(hours=1), 360, 6))
    detection = found.detection
    assert (detection.first_minute_utc, detection.last_minute_utc) == (at(-120), at(479))
    assert detection.baseline.median == 0
    assert found.status == window.WARNING
    assert [(f.edge, f.from_utc, f.to_utc) for f in found.findings] == [
        ("start", START - timedelta(hours=1), START),
        ("end", END, END + timedelta(hours=1)),
    ]


# The settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('edge_margin = "90s"', "window_detection.edge_margin: must be a whole number of minutes"),
        ('min_duration = "0min"', "window_detection.min_duration: must be at least 1min"),
        ("min_rise_lines = 0", "window_detection.min_rise_lines"),
        ('max_gapp = "3min"', "did you mean 'max_gap'?"),
    ],
)
def test_a_bad_setting_names_its_key(tmp_path, setting, message):
    path = write_incident(tmp_path / "inc")
    path.write_text(path.read_text() + f"[window_detection]\n{setting}\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        incident.load(path)


def test_settings_are_read_from_the_incident_file(tmp_path):
    path = write_incident(tmp_path / "inc")
    path.write_text(path.read_text() + '[window_detection]\nedge_margin = "30min"\n')
    assert incident.load(path).window_detection.edge_margin == timedelta(minutes=30)
    assert incident.load(write_incident(tmp_path / "b")).window_detection == DEFAULTS


def test_a_manifests_window_check_gives_the_same_detection_again(tmp_path):
    early = outage_lines(START - timedelta(minutes=20), 20, 6, lambda m: "c2")
    found, loaded = check(tmp_path, quiet_hours() + early + outage_lines(START, 240, 6))
    written = WindowCheck.model_validate_json(json.dumps(found.as_json(loaded)))  # as read back
    counts = [(at(55) + timedelta(minutes=m), "DB_POOL_TIMEOUT", 6) for m in range(260)]
    again = window.detect_again(counts, (START, END), written.detection_settings(), written.span())
    assert again == found.detection and len(again.intervals) == 1
    # a run from before the check: the defaults over the counts' own span, here 6 a minute
    # throughout (without the quiet minutes of the logs' span): nothing above baseline
    assert window.detect_again(counts, (START, END), DEFAULTS, None).baseline.median == 6


def test_settings_written_to_the_manifest_read_back_the_same():
    chosen = DEFAULTS.model_copy(
        update={"mad_multiplier": Decimal("2.5"), "edge_margin": timedelta(minutes=30)}
    )
    written = DetectionSettings.model_validate(window.settings_json(chosen))
    assert written.as_settings() == chosen
    before = WindowCheck(
        status=window.OK, edge_margin_minutes=5, findings=(), unchecked=(), messages=()
    )
    assert before.detection_settings() == DEFAULTS and before.span() is None  # written before


# Stretches no log file covers -----------------------------------------------------------------
def test_minutes_no_log_covers_are_left_out_of_the_baseline_not_counted_zero():
    quiet = {m: 1 + m % 3 for m in range(0, 420) if not 75 <= m < 315}
    gap = (at(20), at(50))
    found = window.detect(
        [
            (at(m), "DB_POOL_TIMEOUT", n)
            for m, n in sorted({**quiet, **burst(75, 314, 100)}.items())
        ],
        (START, END),
        (at(0), at(419)),
        DEFAULTS,
        gaps=(gap,),
    )
    assert found.baseline.minutes == 420 - 240 - 30 and found.gaps == (gap,)


def test_a_manifests_window_check_leaves_out_the_stretches_no_log_covered_again(tmp_path):
    # The manifest wrote the span but not the stretches no log file covered: notebook 01 counted
    # them as quiet minutes (zero), a baseline of other minutes than the run's window_check.
    quiet = {m: 1 + m % 3 for m in range(0, 420) if not 75 <= m < 315 and not 20 <= m < 50}
    counts = [(at(m), "DB_POOL_TIMEOUT", n) for m, n in sorted({**quiet, **burst(75, 314)}.items())]
    span, gaps = (at(0), at(419)), ((at(20), at(50)),)
    found = window.detect(counts, (START, END), span, DEFAULTS, gaps)
    loaded = incident.load(write_incident(tmp_path / "inc"))
    saved = window.Check(window.UNCHECKED, detection=found).as_json(loaded)
    written = WindowCheck.model_validate_json(json.dumps(saved))
    assert written.gaps() == gaps
    again = window.detect_again(
        counts, (START, END), written.detection_settings(), written.span(), written.gaps()
    )
    assert again == found and again.baseline.minutes == 420 - 240 - 30


def test_a_stretch_no_log_covers_near_the_window_leaves_its_edge_unchecked(tmp_path):
    # No file holds a line from 18:50Z to 19:30Z: counted as no failure, that stretch passed for
    # a quiet one, and a window that missed the outage's start was confirmed.
    before = [
        failure(f"q{i}", ts=(at(-60) + timedelta(minutes=10 * i)).isoformat(), code="CARD_DECLINED")
        for i in range(12)  # 17:00Z to 18:50Z
    ]
    path = write_incident(
        tmp_path / "inc",
        lines=before,
        log_name="logs/a.jsonl",
        customers=[customer(c) for c in ("c1", "c2", "c3", "c4")],
    )
    after = outage_lines(at(90), 225, 6) + [  # from 19:30Z, then quiet to 01:00Z
        failure(f"r{i}", ts=(END + timedelta(minutes=10 * i)).isoformat(), code="CARD_DECLINED")
        for i in range(11)
    ]
    (tmp_path / "inc/logs/b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in after))
    loaded = incident.load(path)
    found = window.check(reconcile_incident(path, tmp_path), loaded)
    assert found.status == window.UNCHECKED
    (gap,) = found.detection.gaps
    assert gap == (at(51), at(90))
    assert any(u.startswith("the logs cover no line from ") for u in found.unchecked)


def test_a_saved_message_names_the_incident_file_the_same_whatever_the_working_directory(
    venv_off_path,
):
    # The file by its resolved path (`incident.load` resolves it), whether the run was given it
    # relative or absolute: the same message for the same file from any working directory
    path = write_incident(venv_off_path / "inc", lines=[], customers=[customer("c1")])
    unchecked = window.Check(window.UNCHECKED, unchecked=("no baseline",))
    saved = [
        unchecked.as_json(incident.load(given))["messages"]
        for given in (path, path.relative_to(venv_off_path))
    ]
    typed = f"credits window {path.resolve()}"
    assert saved == 2 * [
        [f"window_check: not checked: no baseline; `{typed}` checks the edges against all the logs"]
    ]
