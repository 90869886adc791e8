"""The gate's id checks: payment and customer ids that compare exactly but would have a payment
credited wrongly (ids in two Unicode forms, ids holding a hidden character, a table row whose id
is a candidate's written otherwise, ids that look alike in two scripts: `lookalikes`).

Only ids beyond ASCII can differ from themselves in form or look: they are fetched once
(`ids_beyond_ascii`) and shared by the checks, so a run whose ids are all ASCII pays one look-up.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import duckdb

from transforms import db, times
from transforms.ingest.incident import Incident
from transforms.ingest.incident.values import ASCII_SPACE, HIDDEN_CHARACTER
from transforms.ingest.tables import source_name
from transforms.quality import lookalikes, suites


def candidate_id_problems(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Why the candidates' ids would have a payment credited wrongly: ids in two Unicode forms,
    ids holding a hidden character, a table row whose id is a candidate's written otherwise, ids
    that look alike in two scripts. Nothing otherwise."""
    beyond = ids_beyond_ascii(con)
    return (
        *ids_in_two_forms(con, beyond),
        *ids_with_hidden_characters(con),
        *table_ids_as_candidates(con, beyond),
        *lookalikes.problems(con, beyond.candidates, beyond.table),
    )


@dataclass(frozen=True)
class IdsBeyondAscii:
    """The ids that are not ASCII, each list sorted: the only ones whose Unicode form, hidden
    characters or look can differ from themselves. Fetched once for the gate's id checks (each
    is a scan of the transaction table)."""

    candidates: tuple[str, ...]
    """The candidate transactions' (`candidate_ids_beyond_ascii`)."""
    table: tuple[str, ...]
    """The transaction table's (`transaction_ids_beyond_ascii`)."""
    table_visible: tuple[str, ...]
    """Each of `table` without its control, format and space characters other than U+0020."""


def ids_beyond_ascii(con: duckdb.DuckDBPyConnection) -> IdsBeyondAscii:
    """The candidates' and the transaction table's ids beyond ASCII."""
    # every row fetched (fetchall): a result left open would refuse the connection's next query
    candidates = tuple(txn_id for (txn_id,) in db.run(con, "candidate_ids_beyond_ascii").fetchall())
    rows = db.run(con, "transaction_ids_beyond_ascii", hidden=HIDDEN_CHARACTER).fetchall()
    return IdsBeyondAscii(
        candidates,
        tuple(txn_id for txn_id, _ in rows),
        tuple(visible for _, visible in rows),
    )


def ids_with_hidden_characters(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Why the run is rejected when a candidate's txn_id in the transaction table holds a
    control, format or space character other than U+0020 (a log line's txn_id with one is
    quarantined). Nothing otherwise. A customer id with one is
    `customer_ids_written_otherwise`'s."""
    ((count, txn_id, customer_id, code_point),) = db.run(
        con, "candidate_ids_hidden", hidden=HIDDEN_CHARACTER, ascii_space=ASCII_SPACE
    ).fetchall()
    if not count:
        return ()
    return (
        f"{count:,} candidate transaction(s) with an id in the transaction table that holds a "
        f"hidden character (e.g. transaction {txn_id!r} (customer {customer_id!r}) holds "
        f"{code_point}, a control, format or space character other than U+0020): ids compare "
        "exactly, so the same payment logged without it would be a second candidate and "
        "credited twice. Remove the character from the transaction table's ids (or its "
        "export) and run again",
    )


def customer_ids_written_otherwise(
    con: duckdb.DuckDBPyConnection, incident: Incident
) -> tuple[str, ...]:
    """Why the run is rejected when a customer id holds a control, format or space character
    other than an inner U+0020 (a tab, CR, LF, U+200B, U+FEFF, U+00A0) or a blank at an end:
    a candidate's in the transaction table, or a customer table row's that stands for a
    candidate's customer once they are removed (or is another Unicode form of its id). Ids
    compare exactly, so the customer matches no row and the credit is an `unknown_customer`
    exception, never paid (a CSV with CRLF line ends read wrongly, a cell pasted with a
    zero-width space). One line per table, naming its file, the id escaped; nothing otherwise.
    A log line's customer_id is read as written (`unknown_customer`)."""
    found = db.run(con, "customer_ids_hidden", hidden=HIDDEN_CHARACTER).fetchall()
    root = incident.path.parent
    problems = []
    for table, count, txn_id, customer_id, difference, visible in found:
        held = f"{difference} at an end" if difference == "U+0020" else difference
        if table == "transactions":
            name = source_name(incident.sources.transactions, root)
            problems.append(
                f"{count:,} candidate transaction(s) whose customer_id in the transaction table "
                f"({name}) holds a hidden character or a blank at an end (e.g. transaction "
                f"{txn_id!r}, customer {ascii(customer_id)}: {held}): ids compare "
                "exactly, so it matches no customer (the customer table's or the log's id "
                "without it) and the credit is an unknown_customer exception, never paid. "
                f"{WHAT_TO_DO.format(table='transaction table')}"
            )
        else:
            name = source_name(incident.sources.customers, root)
            problems.append(
                f"{count:,} customer id(s) in the customer table ({name}) are a customer's id "
                "written otherwise, with a hidden character, a blank at an end or in another "
                f"Unicode form (e.g. {ascii(customer_id)}: {held}, the row of customer "
                f"{visible!r}): ids compare exactly, so that customer matches no row and their "
                "credit is an unknown_customer exception, never paid. "
                f"{WHAT_TO_DO.format(table='customer table')}"
            )
    return tuple(problems)


def transaction_rows_without_id(
    con: duckdb.DuckDBPyConnection, incident: Incident
) -> tuple[str, ...]:
    """Why the run is rejected when a transaction table row has no txn_id, null or blank,
    wherever it was created and whatever its status: it cannot be matched to a log line and
    could be any candidate's payment. The `transactions` suite's `txn_id_not_null` and
    `txn_id_not_blank` fire on it too, but can name no key: this line names the table and the
    row by its other values. Nothing otherwise."""
    not_blank = suites.regex_re2("transactions", "txn_id_not_blank")
    found = db.run(con, "transaction_rows_without_id", not_blank=not_blank).fetchall()
    if not found:
        return ()
    ((count, customer_id, amount_minor, currency, status, created_at),) = found
    name = source_name(incident.sources.transactions, incident.path.parent)
    created = "no created_at" if created_at is None else f"created {times.iso_utc(created_at)}"
    return (
        f"{count:,} transaction table row(s) in {name} have no txn_id (null or blank; e.g. the "
        f"row of customer {ascii(customer_id)}, amount {amount_minor} {currency}, status "
        f"{status!r}, {created}): such a row matches no log line and could be any candidate's "
        "payment, whatever its time or status. Give every row its txn_id (or leave the row out "
        "of the export) and run again",
    )


WHAT_TO_DO = (
    "Write the {table}'s customer ids as the customer is (a CSV whose CRLF line ends were read "
    "into the last field, or a cell pasted with a hidden character?) and run again"
)


def table_ids_as_candidates(
    con: duckdb.DuckDBPyConnection, beyond: IdsBeyondAscii
) -> tuple[str, ...]:
    """Why the run is rejected when a transaction table row's txn_id is not a candidate's but
    equals one once its hidden characters are removed and both are in NFKC: the row (a retry
    that succeeded) would have made the candidate recovered, and it is credited as log_only.
    Nothing otherwise. A PostgreSQL transaction table is read by the candidates' exact ids, so
    such a row is not seen there."""
    ((pairs, table_id, candidate_id, code_point),) = db.run(
        con,
        "transaction_ids_as_candidates",
        hidden=HIDDEN_CHARACTER,
        table_ids=list(beyond.table),
        table_normals=[unicodedata.normalize("NFKC", v) for v in beyond.table_visible],
        ids=list(beyond.candidates),
        normals=[unicodedata.normalize("NFKC", txn_id) for txn_id in beyond.candidates],
    ).fetchall()
    if not pairs:
        return ()
    how = f"it holds {code_point}" if code_point else "another Unicode form"
    return (
        f"{pairs:,} transaction table row(s) whose txn_id is a candidate's written otherwise "
        f"(e.g. transaction table row {table_id!r} ({how}) is candidate {candidate_id!r} once "
        "hidden characters are removed and both are normalised to NFKC): ids compare exactly, "
        "so the row is not the candidate's and its status is not seen (a payment that went "
        "through on a retry would be credited). Write the ids alike in the table and the "
        "logs and run again",
    )


def ids_in_two_forms(con: duckdb.DuckDBPyConnection, beyond: IdsBeyondAscii) -> tuple[str, ...]:
    """Why the run is rejected when two candidates' ids are one id in two Unicode forms: the
    payment would be credited twice (ids compare exactly, as a payment system matches them).
    Nothing otherwise."""
    ids = list(beyond.candidates)
    normals = [unicodedata.normalize("NFKC", txn_id) for txn_id in ids]
    found = db.run(con, "candidate_ids_in_two_forms", ids=ids, normals=normals).fetchall()
    ((pairs, one, other),) = found
    if not pairs:
        return ()
    return (
        f"{pairs:,} pair(s) of payment ids are one id written in two Unicode forms (e.g. "
        f"{one!r} and {other!r}, equal once normalised to NFKC): compared exactly, each payment "
        "would be two candidates and credited twice. Write the ids alike in the logs and the "
        "table",
    )
