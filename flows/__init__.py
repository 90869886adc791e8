"""Orchestration: the Prefect flow, its deployment and the `credits` command line.

Importing `flows` configures Prefect for this machine (offline, quiet; `settings`), once and
before anything imports prefect.
"""

from flows.settings import configure_prefect

configure_prefect()
