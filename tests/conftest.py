"""Shared fixtures: Prefect settings for tests, and a helper to build small incidents."""

from __future__ import annotations

from flows.settings import configure_prefect

configure_prefect()
