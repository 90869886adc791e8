"""Orchestration: the Prefect flow, its deployment and the `credits` command line."""
