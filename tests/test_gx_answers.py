"""Every test asks GX through the session's remembered answers (`tests/gx_answers.py`), but a
test marked `real_gx` (and every test under `CREDITS_TEST_GX_ANSWERS=off`)."""

from __future__ import annotations

import os

import pytest

from transforms.quality import gx_run


def test_a_test_asks_gx_through_the_session_s_answers():
    off = os.environ.get("CREDITS_TEST_GX_ANSWERS") == "off"
    assert gx_run.run_suite.__qualname__ == ("run_suite" if off else "remembered.<locals>.run")


@pytest.mark.real_gx
def test_a_test_marked_real_gx_asks_gx_itself():
    assert gx_run.run_suite.__qualname__ == "run_suite"
    assert gx_run.run_suite.__module__ == "transforms.quality.gx_run"
