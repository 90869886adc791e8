"""Property: on generated frames, the profile path and the row path (whole and in slices) give
the same outcome for every expectation of a suite holding each type the suites use."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.transforms.quality.test_profiles import (
    EDGE_PARAMETERS,
    END,
    START,
    both_paths,
    edges_suite,  # noqa: F401 (a fixture)
)

US = pd.Timedelta(microseconds=1)
TIMES = [None, START - US, START, START + pd.Timedelta(hours=2), END - US, END, END + US]
TEXTS = [None, "", " ", "\t", "\x0b", "\x1f", "\u00a0", "\u3000", "x", "y", "w", "bad", "x ", "é"]
HEXES = [None, "0123456789abcdef", "0123456789abcdef\n", "0123456789ABCDEF", "0123456789abcde"]
NUMBERS = [None, -1, 0, 1, 3, 4, 9, 10, 11]
# GX's pandas path cannot compare a pair with one side null (it raises, tested apart): both
# sides are given or neither
PAIRS = st.one_of(st.just((None, None)), st.tuples(st.integers(0, 2), st.integers(0, 2)))

ROW = st.fixed_dictionaries(
    {
        "k": st.one_of(st.none(), st.sampled_from([f"r{n}" for n in range(6)])),
        "n": st.sampled_from(NUMBERS),
        "ts": st.sampled_from(TIMES),
        "s": st.sampled_from(TEXTS),
        "h": st.sampled_from(HEXES),
        "u": st.sampled_from([None, "p", "q"]),
        "v": st.sampled_from([None, 1, 2]),
        "ab": PAIRS,
        "cd": PAIRS,
        "flag": st.sampled_from([True, False, None]),
        "ok": st.sampled_from([True, False, None]),
        "f": st.sampled_from([None, -0.5, 0.0, 0.5, 0.999, 1.0]),
    }
)


def frame_of(rows: list[dict], zone: str) -> pd.DataFrame:
    times = pd.Series(
        pd.to_datetime([r["ts"] for r in rows], utc=True), dtype="datetime64[us, UTC]"
    )
    return pd.DataFrame(
        {
            "k": pd.Series([r["k"] for r in rows], dtype=object),
            "n": pd.Series([r["n"] for r in rows], dtype="Int64"),
            "ts": times.dt.tz_convert(zone),
            "s": pd.Series([r["s"] for r in rows], dtype=object),
            "h": pd.Series([r["h"] for r in rows], dtype=object),
            "u": pd.Series([r["u"] for r in rows], dtype=object),
            "v": pd.Series([r["v"] for r in rows], dtype="Int64"),
            "a": pd.Series([r["ab"][0] for r in rows], dtype="Int64"),
            "b": pd.Series([r["ab"][1] for r in rows], dtype="Int64"),
            "c": pd.Series([r["cd"][0] for r in rows], dtype="Int64"),
            "d": pd.Series([r["cd"][1] for r in rows], dtype="Int64"),
            "flag": pd.Series([r["flag"] for r in rows], dtype="boolean"),
            "ok": pd.Series([r["ok"] for r in rows], dtype="boolean"),
            "f": pd.Series([r["f"] for r in rows], dtype="float64"),
        }
    )


# Several GX runs an example: `make test`'s bounded profile gets 10 of them (the edges are
# `test_profiles`' own cases), `make fuzz` its thousands. The fixture only writes the same suite
# file again: safe to share between examples.
@settings(
    max_examples=10 if settings.default.derandomize else settings.default.max_examples,
    suppress_health_check=[
        *settings.default.suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(rows=st.lists(ROW, max_size=7), zone=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Tokyo"]))
def test_the_profile_path_gives_the_row_path_outcomes(edges_suite, rows, zone):  # noqa: F811
    both_paths(frame_of(rows, zone), edges_suite, EDGE_PARAMETERS, "k")
