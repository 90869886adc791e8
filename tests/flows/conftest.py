"""Fixtures of the flow tests."""

from __future__ import annotations

import pytest

from tests.flows.desk import Desk


@pytest.fixture
def desk(prefect_harness, tmp_path) -> Desk:
    """A finance desk in the test's own folder, on the session's Prefect test server."""
    return Desk(tmp_path)
