"""Reconciliation: candidate failures from the logs, matched to the transaction table, classed.

Makes `int_candidates` (one row per distinct txn_id of the candidate failure lines) and
`int_candidates_classified` (one row per candidate transaction, logs and table alone, each in
exactly one class; see the SQL for the rules).
"""

from __future__ import annotations

import duckdb

from transforms import db
from transforms.ingest.incident import Incident
from transforms.ingest.incident.values import ASCII_SPACE, HIDDEN_CHARACTER

CLASSES = (
    "recovered",
    "failed",
    "log_only",
    "unattributable",
    "declined",
    "unknown_error_code",
    "table_only",
)


def classify(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """Groups the candidate failure lines by transaction and puts each in its class."""
    group_candidates(con)
    assign_classes(con, incident)


def group_candidates(con: duckdb.DuckDBPyConnection) -> None:
    """Groups the candidate failure lines by transaction (`int_candidates`); no policy needed."""
    db.run(con, "int_candidates")


def assign_classes(con: duckdb.DuckDBPyConnection, incident: Incident) -> None:
    """Puts each grouped candidate (`int_candidates`) in its class under the incident's policy:
    `credits what-if` re-classes the same candidates for a policy with other codes or flags."""
    policy = incident.policy
    db.run(con, "text_shown")  # how a detail shows a log's id: `log_disagreement`, exceptions
    db.run(con, "zeros_dropped")  # an unknown customer's id against the table's (exceptions)
    db.run(
        con,
        "int_candidates_classified",
        outage_codes=list(policy.outage_error_codes),
        decline_codes=list(policy.decline_error_codes),
        window_start=incident.window_start,
        window_end=incident.window_end,
        credit_recovered=policy.credit_recovered,
        credit_table_only=policy.credit_table_only,
        hidden=HIDDEN_CHARACTER,
        ascii_space=ASCII_SPACE,
    )
