"""Every test asks GX through the session's remembered answers (`tests/gx_answers.py`), but a
test marked `real_gx` (and every test under `CREDITS_TEST_GX_ANSWERS=off`)."""

from __future__ import annotations

import os

import pytest

from transforms.quality import gx_run, slices


def test_a_test_asks_gx_through_the_session_s_answers():
    off = os.environ.get("CREDITS_TEST_GX_ANSWERS") == "off"
    assert gx_run.run_suite.__qualname__ == ("run_suite" if off else "remembered.<locals>.run")
    assert slices.run_suite is gx_run.run_suite  # a long frame's slices too


@pytest.mark.real_gx
def test_a_test_marked_real_gx_asks_gx_itself():
    for run_suite in (gx_run.run_suite, slices.run_suite):
        assert run_suite.__qualname__ == "run_suite"
        assert run_suite.__module__ == "transforms.quality.gx_run"


def test_values_that_differ_only_in_type_are_different_inputs(tmp_path):
    # pandas hashes an object column's values by their text: 1 and "1" alike
    import pandas as pd

    from tests import gx_answers

    asked = []

    def gx(document, frame, keys, parameters, detail):
        asked.append(frame["c"].tolist())
        return {"asked": len(asked)}

    run = gx_answers.remembered(gx, tmp_path)
    for values in ([1, "x"], ["1", "x"], ["1", "x"]):
        frame = pd.DataFrame({"c": pd.Series(values, dtype=object)})  # one dtype for all three
        run({"name": "s"}, frame, [], {}, gx_run.Detail.ROWS)
    assert asked == [[1, "x"], ["1", "x"]]  # the third was remembered
