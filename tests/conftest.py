"""Shared fixtures: Prefect settings for tests, the Hypothesis profiles and one Prefect test server
for the session. Small incidents are built with the helpers in `tests/builders.py`."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import flows  # noqa: F401 (importing flows configures Prefect offline, before any test imports it)

# Generated incidents (tests/reference): `bounded` in `make test` (derandomized, no example
# database: the same examples every run, about a minute on 2 cores); `fuzz` for `make fuzz`
# (thousands of random examples, failures kept in .hypothesis/ to replay).
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "bounded",
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "fuzz", max_examples=2500, deadline=None, print_blob=True, suppress_health_check=_SLOW_IS_FINE
)
settings.load_profile(os.environ.get("CREDITS_HYPOTHESIS_PROFILE", "bounded"))


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes 10-20 s to start here)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
