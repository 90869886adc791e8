"""The quality gate's checks whose answer depends on the policy, not on the data alone: the
gate runs them on every run, and `credits what-if` on every candidate policy (a column for a
policy whose run the gate would reject would show money that is never paid).
"""

from __future__ import annotations

import duckdb

from transforms import db
from transforms.ingest.incident import Incident
from transforms.ingest.incident.values import EVENT_SET_ASIDE, HIDDEN_CHARACTER


def rejections(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the gate rejects a run of `incident` (its policy) over the priced credit lines and the
    staged tables in `con`, for what the policy decides; nothing when it does not."""
    return (
        *unknown_customers(con, incident),
        *codes_nearly_outage(con, incident),
        *events_written_otherwise(con, incident),
    )


def codes_nearly_outage(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the run is rejected when failed table rows inside the window carry an outage code
    in another case, with blanks (a tab, CR or LF too) or with a hidden character: codes compare
    exactly, so they are no table-only candidate and their customers would be left out unseen.
    Nothing otherwise."""
    # every row fetched (fetchall): a result left open would refuse the connection's next query
    ((count, txn_id, code),) = db.run(
        con,
        "table_codes_nearly_outage",
        window_start=incident.window_start,
        window_end=incident.window_end,
        outage_codes=list(incident.policy.outage_error_codes),
        outage_codes_folded=[code.strip().upper() for code in incident.policy.outage_error_codes],
        hidden=HIDDEN_CHARACTER,
    ).fetchall()
    if not count:
        return ()
    return (
        f"{count:,} failed transaction(s) inside the window carry an outage code written "
        f"otherwise (e.g. {txn_id}: {code!r}); codes compare exactly: write them as "
        "policy.outage_error_codes does, or add that spelling to it",
    )


def events_written_otherwise(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the run is rejected when well-formed log lines carry a failure event written
    otherwise: in another case, with blanks at its ends (a tab, CR or LF too) or with a format
    character anywhere (`Payment.Failed`, `payment.failed` + U+200B). Events compare exactly,
    so such a line is irrelevant, and a failed payment the transaction table lacks would go
    uncredited unseen. Nothing otherwise."""
    ((count, file, line, event, resembles),) = db.run(
        con,
        "log_events_written_otherwise",
        failure_events=list(incident.policy.failure_events),
        event_set_aside=EVENT_SET_ASIDE,
    ).fetchall()
    if not count:
        return ()
    return (
        f"{count:,} log line(s) carry a failure event written otherwise (e.g. {file} line "
        f"{line:,}: {event!r}, which is {resembles!r} once case, blanks and hidden characters "
        "are set aside); events compare exactly, so the line is irrelevant, and a failed "
        "payment the transaction table lacks would go uncredited. If the service really logs it "
        "so, add that spelling to policy.failure_events; else fix the service's logger, and run "
        "again",
    )


MIN_UNKNOWN_CUSTOMER_LINES = 10
"""Unknown customers below this many credit lines never reject a run (a few planted or stray
ids are exceptions for finance, `unknown_customer`)."""


def unknown_customers(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the run is rejected when more than `max_unknown_customer_share` of its credit lines
    (and at least `MIN_UNKNOWN_CUSTOMER_LINES`) are for customers the customer table does not
    hold: the two tables' ids likely differ, and a credit file paying almost no one would pass
    every other check. Nothing otherwise."""
    ((unknown, lines, example, near),) = db.run(con, "unknown_customers_measured").fetchall()
    limit = incident.max_unknown_customer_share
    if unknown < MIN_UNKNOWN_CUSTOMER_LINES or unknown <= limit * lines:
        return ()
    hint = (
        f"e.g. {example!r}, which the customer table holds as {near!r}: the tables' ids differ "
        "in blanks or case"
        if near is not None
        else f"e.g. {example!r}; check that both tables hold the same ids"
    )
    return (
        f"{unknown:,} of {lines:,} credit lines ({unknown / lines:.1%}) are for a customer id "
        f"the customer table does not hold; at most {limit:%} may be "
        f"([quality] max_unknown_customer_share): {hint}",
    )
