"""Shared fixtures: Prefect settings for tests, and a helper to build small incidents."""

from __future__ import annotations

from flows.settings import configure_prefect

configure_prefect()

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes 10-20 s to start here)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
