"""The analysts' tables: what a run loads for them, and the frames the notebooks read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests import golden_incident
from transforms.errors import InputError
from transforms.serving import analysis, support

START = datetime(2025, 1, 7, 19, 15, tzinfo=UTC)
END = datetime(2025, 1, 7, 23, 15, tzinfo=UTC)
RUN = analysis.RunView("r1", "INC-T", "t", "America/New_York", "pending_approval", START, END, ())


@pytest.fixture(scope="module")
def golden_warehouse(tmp_path_factory, module_warehouse_location):
    """The golden incident reconciled into a work database, loaded by `load_run` and sealed,
    on each store."""
    folder = tmp_path_factory.mktemp("golden")
    location = module_warehouse_location
    return location, golden_incident.load_run(folder, location)


def test_failure_minutes_count_every_failure_line_once_over_the_whole_log(golden_warehouse):
    path, run_id = golden_warehouse
    with support.connect(path) as con:
        run = analysis.pick_run(con, "INC-GOLD")
        minutes = analysis.failure_minutes(con, run)
    assert run.run_id == run_id
    # 12 payment.failed lines: t01's duplicate counts once; t12 (before the window) counts
    assert minutes["lines"].sum() == 11
    assert minutes.loc[minutes["in_window"], "lines"].sum() == 10
    assert set(minutes["pod"]) == {"pod-a"}
    first = minutes.iloc[0]
    assert str(first["minute_local"]) == "2025-01-07 14:14:00-05:00"


def test_edge_transactions_hold_both_clocks_near_each_edge(golden_warehouse):
    path, _ = golden_warehouse
    with support.connect(path) as con:
        edges = analysis.edge_transactions(con, analysis.pick_run(con, "INC-GOLD"))
    found = {
        (txn_id, edge, None if pd.isna(cls) else cls)
        for txn_id, edge, cls in edges[["txn_id", "edge", "class"]].itertuples(False, None)
    }
    # within 30 minutes of an edge: t01 and t02 after the start, t12 a second before it (not a
    # candidate), t11 a millisecond before the end; t03 (45 minutes in) and t13 (no failure) not
    assert found == {
        ("t01", "start", "failed"),
        ("t02", "start", "recovered"),
        ("t12", "start", None),
        ("t11", "end", "failed"),
    }
    t12 = edges.set_index("txn_id").loc["t12"]
    assert (t12["log_seconds_from_edge"], t12["inside_by_log"]) == (-1.0, False)


def test_per_minute_fills_the_quiet_minutes_with_zero():
    minutes = pd.DataFrame(
        {
            "minute_local": pd.to_datetime(
                ["2025-01-07 14:00", "2025-01-07 14:03", "2025-01-07 14:03"]
            ).tz_localize("America/New_York"),
            "pod": ["a", "a", "b"],
            "lines": [2, 1, 4],
        }
    )
    assert analysis.per_minute(minutes, RUN)["lines"].tolist() == [2, 0, 0, 5]
    by_pod = analysis.per_minute(minutes, RUN, by="pod")
    assert by_pod["b"].tolist() == [0, 0, 0, 4]


@pytest.mark.parametrize("rows", [1, 0])  # lines near the window, and none
def test_per_minute_by_a_column_the_frame_lacks_names_the_columns_it_has(rows):
    # `per_minute(minutes, run, by="pod_name")` was a bare KeyError: 'pod_name' (and with no
    # line near the window, an empty frame, as if that column held nothing)
    local = pd.to_datetime(["2025-01-07 14:00"][:rows]).tz_localize("America/New_York")
    minutes = pd.DataFrame({"minute_local": local, "pod": ["a"][:rows], "lines": [2][:rows]})
    with pytest.raises(ValueError, match=r"by='pod_name': not a column of the frame \(.*'pod'"):
        analysis.per_minute(minutes, RUN, by="pod_name")


def test_per_minute_leaves_out_lines_stamped_more_than_a_day_from_the_window():
    local = pd.to_datetime(
        ["2024-12-01 00:00", "2025-01-06 14:15", "2025-01-07 14:20", "2025-02-01 00:00"]
    ).tz_localize("America/New_York")
    minutes = pd.DataFrame({"minute_local": local, "lines": [7, 1, 2, 9]})
    totals = analysis.per_minute(minutes, RUN)
    assert len(totals) == 24 * 60 + 5 + 1  # from a day before the start to 14:20, not two months
    assert totals["lines"].sum() == 3


def test_no_failure_line_gives_an_empty_zoned_frame_an_edge_can_be_sliced_from():
    """A run with no failure line in its logs (its credits all table-only): notebook 03 slices
    an hour either side of each edge, in the incident's zone."""
    minutes = pd.DataFrame(
        {"minute_local": pd.to_datetime([]).tz_localize("America/New_York"), "lines": []}
    )
    totals = analysis.per_minute(minutes, RUN)
    edge = pd.Timestamp(START).tz_convert(RUN.timezone)
    assert totals.loc[edge - pd.Timedelta("60min") : edge + pd.Timedelta("60min")].empty
    assert str(totals["lines"].dtype) == "int64"
    assert analysis.normal_rate(minutes, RUN) == 0


def test_the_normal_rate_is_the_mean_outside_the_window_quiet_minutes_included():
    local = pd.to_datetime(["2025-01-07 14:13", "2025-01-07 14:16"]).tz_localize("America/New_York")
    # 14:13 and 14:14 are outside (3 + 0 lines: 1.5 a minute); 14:15 and 14:16 inside
    minutes = pd.DataFrame({"minute_local": local, "lines": [3, 30]})
    assert analysis.normal_rate(minutes, RUN) == 1.5


def test_the_normal_rate_leaves_out_the_outage_found_outside_the_window():
    # 14:10-14:14 are the outage's, before a window declared too narrow (14:15): counted, the
    # outage looked 2x the normal rate when it was far more
    from transforms.reconcile import window

    local = pd.to_datetime(
        ["2025-01-07 14:05", "2025-01-07 14:10", "2025-01-07 14:16"]
    ).tz_localize("America/New_York")
    minutes = pd.DataFrame({"minute_local": local, "lines": [1, 50, 50]})
    outage = window.Interval(
        onset_utc=datetime(2025, 1, 7, 19, 10, tzinfo=UTC),
        recovery_utc=datetime(2025, 1, 7, 19, 15, tzinfo=UTC),
        lines=50,
        peak_lines=50,
        rate_before=None,
        rate_during=10.0,
        codes=(),
    )
    found = window.Detection(None, None, None, (outage,))
    assert analysis.normal_rate(minutes, RUN) == 51 / 10  # 14:05-14:14, outage included
    assert analysis.normal_rate(minutes, RUN, found) == 1 / 5  # 14:05-14:09 alone


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        (START, True),  # the start is inclusive
        (END, False),  # the end is exclusive
        (datetime(2025, 1, 7, 19, 14, 59, 999999, tzinfo=UTC), False),
        (None, False),  # no time: not inside
    ],
)
def test_in_window_is_start_inclusive_end_exclusive(instant, inside):
    assert analysis.in_window(pd.Series([instant], dtype="datetime64[us, UTC]"), RUN).tolist() == [
        inside
    ]


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        (START, "2025-01-07 14:15 EST"),
        (START + timedelta(seconds=30), "2025-01-07 14:15:30 EST"),  # was shown as 14:15
        (END + timedelta(microseconds=250_000), "2025-01-07 18:15:00.250 EST"),
        (END + timedelta(microseconds=1), "2025-01-07 18:15:00.000001 EST"),
        (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), "2025-11-02 01:30 EST"),  # the second 01:30
    ],
)
def test_clock_shows_an_instant_in_the_incidents_zone_to_the_second_it_needs(instant, shown):
    assert analysis.clock(instant, RUN) == shown


def test_an_unknown_incident_is_named(golden_warehouse):
    path, _ = golden_warehouse
    with support.connect(path) as con, pytest.raises(InputError, match="INC-NOPE: not in the"):
        analysis.pick_run(con, "INC-NOPE")


@pytest.mark.parametrize(
    "call",
    [
        lambda con: analysis.failure_minutes(con, "INC-T"),  # the incident's id, not its run
        lambda con: analysis.customers(con, "INC-T"),
        lambda con: analysis.edge_transactions(con, run="INC-T"),
        lambda con: analysis.in_window(pd.Series([START]), "r1"),
        lambda con: analysis.per_minute(pd.DataFrame(), None),
    ],
)
def test_a_run_given_as_an_id_names_the_call_that_picks_it(call):
    # `analysis.customers(con, "INC-2025-01-07")` was AttributeError: 'str' object has no
    # attribute 'incident_id'
    with pytest.raises(
        TypeError, match=r"run: a RunView, as analysis.pick_run\(con, incident_id\)"
    ):
        call(None)


def test_a_run_view_passes_the_check():
    assert analysis.in_window(pd.Series([START, END]), run=RUN).tolist() == [True, False]


def test_pick_run_of_no_incident_id_says_what_it_takes(golden_warehouse):
    path, _ = golden_warehouse
    with support.connect(path) as con, pytest.raises(TypeError, match="incident_id: a text"):
        analysis.pick_run(con, None)


def test_credit_totals_of_another_frame_names_the_one_it_takes():
    # it was KeyError: 'credit_minor' for the failure_minutes frame
    minutes = pd.DataFrame({"minute_utc": [START], "lines": [1]})
    with pytest.raises(ValueError, match=r"analysis.customers\(con, run\)'s frame: .*credit_minor"):
        analysis.credit_totals(minutes)


def test_a_payment_retried_across_the_start_is_inside_by_the_log(monkeypatch):
    # t7 failed a minute before the start and again a minute after it: a candidate, credited;
    # its first failure line alone put it outside by the log, so notebook 03 listed it among
    # the payments the two clocks disagree on and among the outage codes outside the window
    # ("not credited"). t12 failed only before the start, t13 only after the end.
    minute = timedelta(minutes=1)
    rows = pd.DataFrame(
        {
            "txn_id": ["t7", "t12", "t13"],
            "class": ["failed", None, None],
            "log_first_failure_utc": [START - minute, START - minute, END + minute],
            "log_last_failure_utc": [START + minute, START - minute, END + minute],
            "table_created_at_utc": [START + minute, START - minute, END - minute],
        }
    )
    monkeypatch.setattr(
        analysis.db, "run", lambda con, name, **params: type("R", (), {"df": rows.copy})()
    )
    edges = analysis.edge_transactions(None, RUN).set_index("txn_id")
    assert edges["inside_by_log"].to_dict() == {"t7": True, "t12": False, "t13": False}
    assert edges["clocks_disagree"].to_dict() == {"t7": False, "t12": False, "t13": True}
