"""The data-quality gate: every dataset of a run checked by its suite in `expectations/`.

Great Expectations sees only small frames: the one-row-per-file profile of the logs (never the
log itself) and the credit file's totals as rows; the candidate failure lines, the table rows and
customers the run touched, the evidence and the credit file as DuckDB profiles (`FORMS`). A
blocking failure rejects the run; a warning is reported only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from transforms import db, memory
from transforms.ingest.incident import Incident
from transforms.ingest.logs import LogFile
from transforms.ingest.tables import source_name
from transforms.quality import id_checks, profiles, quarantine, suites, validation
from transforms.reconcile import outputs, policy_checks

if TYPE_CHECKING:  # pandas loads with Great Expectations, off the start-up path
    import pandas as pd

Relation = tuple[str, Callable[[], duckdb.DuckDBPyRelation], str | list[str]]
"""A dataset for the gate: its suite, its rows (made when asked) and its key column(s)."""

SLACK = timedelta(days=1)
GATE_DUCKDB_MEMORY = "256MB"
# The quarantine rules' blocking lines, which carry the measured numbers and what to do.
QUARANTINE_RULES = (
    "file_profile: expect_column_values_to_be_between(quarantined_share)",
    "file_profile: expect_column_sum_to_be_between(quarantined)",
)


class Form(Enum):
    """How a dataset goes to Great Expectations."""

    ROWS = "rows"
    """Every row, in slices (`validation.validate`)."""
    PROFILE = "profile"
    """Its profile, computed by DuckDB (`profiles.validate`)."""


FORMS: dict[str, Form] = {
    "file_profile": Form.ROWS,  # a profile already (a row per log file), and it sums a column
    "stg_failures": Form.PROFILE,
    "transactions": Form.PROFILE,
    "customers": Form.PROFILE,
    "evidence": Form.PROFILE,
    "credits": Form.PROFILE,
    "credit_totals": Form.ROWS,  # a row per currency, built in Python from the credit file
}
"""How each suite's dataset goes to GX: every dataset DuckDB holds that grows with the run as
its profile (docs/gate.md gives the measurements)."""


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: the suites' results and why the run is blocked, if it is."""

    results: tuple[validation.SuiteResult, ...]
    blocking: tuple[str, ...]
    warnings: tuple[str, ...]
    quarantine: quarantine.Quarantine | None = None  # None only where no log was profiled (tests)

    @property
    def passed(self) -> bool:
        return not self.blocking


def check(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    credit_file: Path,
    totals: dict[str, int],
    accounting_problems: tuple[str, ...] = (),
    input_problems: tuple[str, ...] = (),
) -> Verdict:
    """Validates every dataset of the run; `credit_file` is read back to check its totals.
    `accounting_problems` and `input_problems` (`unread_logs`) block the run too."""
    parameters = _parameters(incident)
    ((limit,),) = db.run(
        con, "quarantine_limit", max_quarantined_share=incident.max_quarantined_share
    ).fetchall()
    parameters["max_quarantined_lines"] = float(limit)
    relations: list[Relation] = [
        ("file_profile", lambda: con.table("int_file_profile"), "file"),
        ("stg_failures", lambda: con.table("stg_failures"), ["file", "line"]),
        *_touched_tables(con, incident),
        ("evidence", lambda: con.table("evidence"), "txn_id"),
        ("credits", lambda: con.sql(db.statement("credits_checked")), "credit_id"),
    ]
    # One frame at a time, of only the columns its suite reads, built just before the suite
    # runs and dropped after (an Arrow table: DuckDB profiles it, or GX takes it a slice at a
    # time). The queries are plain scans and joins: DuckDB gets a small share of memory here
    # (it spills past it).
    con.execute("set memory_limit = $limit", {"limit": GATE_DUCKDB_MEMORY})
    results = []
    for suite, relation, key in relations:
        frame = relation().select(*suites.columns(suite, key)).to_arrow_table()
        results.append(_validate(con, frame, suite, parameters, key))
        if frame.num_rows > validation.CHUNK_ROWS:  # worth a full collection (about 0.1 s)
            del frame
            memory.release()
    totals_frame = _totals_frame(credit_file, totals)
    results.append(_validate(con, totals_frame, "credit_totals", parameters, "currency"))
    measured = quarantine.measured(con, incident)
    blocking = [
        f"{b.rstrip('.')}; {measured.measured()}" if b.startswith(QUARANTINE_RULES) else b
        for b in (_describe(o) for r in results for o in r.blocking_failures)
    ]
    blocking += [f"accounting: {problem}" for problem in accounting_problems]
    found = (
        *input_problems,
        *empty_transaction_table(con, incident),
        *empty_customer_table(con, incident),
        *currencies_not_money(con, incident),
        *id_checks.candidate_id_problems(con),
        *id_checks.customer_ids_written_otherwise(con, incident),
        *id_checks.transaction_rows_without_id(con, incident),
        *policy_checks.rejections(con, incident),
    )
    blocking += [f"inputs: {problem}" for problem in found]
    warnings = [
        f"{_describe(o)}; {measured.failures.measured()}"
        if (o.suite, o.expectation_id) == ("file_profile", quarantine.FAILURE_LINES_RULE)
        else _describe(o)
        for r in results
        for o in r.warnings
    ]
    return Verdict(tuple(results), tuple(blocking), tuple(warnings), measured)


def candidate_data_problems(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the gate would reject a run of `incident` for the data its candidates bring in,
    which the policy's codes decide (a code added to `outage_error_codes` makes its failed rows
    table-only candidates): the transaction-table rows and customers touched, as the profiles'
    DuckDB counts find (`profiles.counted_outcomes`, no GX), and the candidates' ids in two
    Unicode forms or holding a hidden character. `credits what-if` asks it for each policy.
    Nothing when they pass."""
    parameters = _parameters(incident)
    found: list[str] = []
    for suite, relation, key in _touched_tables(con, incident):
        frame = relation().select(*suites.columns(suite, key)).to_arrow_table()
        outcomes = profiles.counted_outcomes(con, frame, suite, parameters, key)
        found += [_describe(o) for o in outcomes if not o.success and o.severity == "blocking"]
    problems = (
        *currencies_not_money(con, incident),
        *id_checks.candidate_id_problems(con),
        *id_checks.customer_ids_written_otherwise(con, incident),
    )
    return (*found, *(f"inputs: {problem}" for problem in problems))


def _touched_tables(con: duckdb.DuckDBPyConnection, incident: Incident) -> list[Relation]:
    """The transaction-table rows and the customers the run touched, each with its suite and key."""
    touched = {
        "window_start": incident.window_start,
        "window_end": incident.window_end,
        "known_statuses": known_statuses(),
        "not_blank": suites.regex_re2("transactions", "txn_id_not_blank"),
    }
    customers = {"not_blank": suites.regex_re2("customers", "customer_id_not_blank")}
    return [
        ("transactions", lambda: db.relation(con, "touched_transactions", **touched), "txn_id"),
        ("customers", lambda: db.relation(con, "touched_customers", **customers), "customer_id"),
    ]


def _validate(
    con: duckdb.DuckDBPyConnection,
    frame: Any,
    suite: str,
    parameters: dict[str, Any],
    key: str | list[str],
) -> validation.SuiteResult:
    """One dataset validated in its form (`FORMS`)."""
    if FORMS[suite] is Form.PROFILE:
        return profiles.validate(con, frame, suite, parameters, key)
    return validation.validate(frame, suite, parameters, key)


def known_statuses() -> list[str]:
    """The transaction statuses the classification knows: the `transactions` suite's
    `status_known` set, its one statement of them."""
    return list(suites.expectation_kwargs("transactions", "status_known")["value_set"])


# The quarantine reason `stg_logs.sql` gives a log line in a currency code that is no money on
# the incident's days; its group is the code.
NOT_MONEY_REASON = r"^currency ([A-Z]{3}) is not money on "
# How the reason starts that it gives a log line whose currency is no ISO 4217 code at all
# (`usd`, ` USD`): an envelope's record's names its position after it.
NOT_ISO_REASON = "currency is not an ISO 4217 code"


def currencies_not_money(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the run is rejected when candidates, or quarantined failure lines, are in a currency
    that is no money on the incident's days (`Incident.currencies`), one line per currency
    naming it; the `currency_iso` expectations fire as well for the candidates, but name only
    the rows. Nothing otherwise."""
    rows = db.run(
        con, "candidate_currencies_not_money", currencies=list(incident.currencies)
    ).fetchall()
    why = (
        f"is not money on {incident.money_days_text} (UTC, the window's days): legal tender in "
        "no territory then (withdrawn, or not ISO 4217), so no credit is paid in it"
    )
    in_table = tuple(
        f"currency {currency!r} of {count:,} candidate transaction(s) (e.g. {txn_id!r}) {why}. "
        "Correct the transaction table's currency and run again"
        for currency, count, txn_id in rows
    )
    # A log line's was quarantined (`stg_logs`): a failure in it, lost under the quarantine
    # limits, would go uncredited unseen. So would one whose currency is no ISO code at all
    # (`usd`, ` USD`: codes are read exactly), its row's currency null.
    logged = db.run(
        con,
        "quarantined_currencies_not_money",
        reason_pattern=NOT_MONEY_REASON,
        not_iso_reason=NOT_ISO_REASON,
    )
    in_logs = tuple(
        f"{'a currency' if currency is None else f'currency {currency!r}'} of {count:,} "
        f"quarantined log line(s) (e.g. {file} line {line:,}) "
        f"{NOT_ISO if currency is None else why}: a failure among them would go uncredited. "
        "Correct the logs' currency and run again"
        for currency, count, file, line in logged.fetchall()
    )
    return (*in_table, *in_logs)


NOT_ISO = (
    "is not an ISO 4217 code as written (codes are read exactly: `usd` and ` USD` are none), "
    "so no credit is paid in it"
)


def empty_transaction_table(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the run is rejected when the transaction table gave no row while the logs give
    candidates: each was classed by its log line alone (`log_only`, `unattributable`), so a
    table exported empty or cut to its header paid payments that went through and left out the
    table's own failures, passing every other check. Nothing otherwise."""
    ((rows, candidates),) = db.run(con, "transaction_table_rows").fetchall()
    return _no_transaction_row(incident, rows, candidates)


def _no_transaction_row(incident: Incident, rows: int, candidates: int) -> tuple[str, ...]:
    if rows or not candidates:
        return ()
    name = source_name(incident.sources.transactions, incident.path.parent)
    return (
        f"the transaction table ({name}) holds no row, while the logs give {candidates:,} "
        "candidate transaction(s): each was classed by its log line alone, so a payment that "
        "went through would be credited and the table's own failures left out. Give the whole "
        "table (an export cut short, or of the wrong day?) and run again",
    )


def empty_customer_table(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why the run is rejected when the customer table gave no row while the run has credit
    lines to pay: each would be an `unknown_customer` exception, so a table exported empty or cut
    to its header paid no one and passed every other check (too few lines for the unknown share
    to reject it). Nothing otherwise."""
    ((rows, lines),) = db.run(con, "customer_table_rows").fetchall()
    return _no_customer_row(
        incident, rows, f"the run has {lines:,} credit line(s)" if lines else ""
    )


def _no_customer_row(incident: Incident, rows: int, to_pay: str) -> tuple[str, ...]:
    """The gate's message of a customer table with no row while `to_pay` (empty: nothing)."""
    if rows or not to_pay:
        return ()
    source = incident.sources.customers
    name = source_name(source, incident.path.parent)
    of = " of the candidates' customers" if source.kind == "postgres" else ""
    return (
        f"the customer table ({name}) holds no row{of}, while {to_pay} to pay: each would be "
        "an unknown_customer exception and no one would be paid. Give the whole table (an "
        "export cut short, or of the wrong system?) and run again",
    )


def empty_tables(con: duckdb.DuckDBPyConnection, incident: Incident) -> tuple[str, ...]:
    """Why every run of `incident` would be rejected for a table with no row (`empty_*_table`)
    while the logs give candidates, whatever its policy: `credits what-if` asks it once, on the
    staged tables and the logs' candidates (no policy priced yet). Nothing when they pass."""
    ((transactions, customers, candidates),) = db.run(con, "staged_table_rows").fetchall()
    given = f"the logs give {candidates:,} candidate transaction(s), whose credit lines are"
    found = (
        *_no_transaction_row(incident, transactions, candidates),
        *_no_customer_row(incident, customers, given if candidates else ""),
    )
    return tuple(f"inputs: {problem}" for problem in found)


def unread_logs(
    incident: Incident, log_files: Sequence[LogFile], shown: int = 3
) -> tuple[str, ...]:
    """Why the run read no log line at all when every file the globs matched was pruned by the
    hour in its name (a run that read nothing would pass every per-file check with an empty
    credit file); nothing otherwise. Empty files are `file_profile`'s to refuse."""
    if not log_files or not all(f.pruned for f in log_files):
        return ()
    names = ", ".join(f.name for f in log_files[:shown])
    more = f" and {len(log_files) - shown} more" if len(log_files) > shown else ""
    zone = incident.sources.logs_timezone
    return (
        f"no log line was read: every log file the globs matched ({names}{more}) is dated by "
        f"its name to an hour outside the window (hours read in sources.logs_timezone = "
        f"{zone!r}), so none was opened. If the names carry another zone's hours, set "
        "sources.logs_timezone to it; else check sources.logs and the window",
    )


def _parameters(incident: Incident) -> dict[str, Any]:
    import pandas as pd

    start = pd.Timestamp(incident.window_start)
    end = pd.Timestamp(incident.window_end)
    skew = pd.Timedelta(incident.sources.log_clock_skew)  # log times match the widened window
    return {
        "window_start_utc": start - skew,
        "window_end_utc": end + skew,
        "window_lower_utc": start - SLACK,
        "window_upper_utc": end + SLACK,
        "failure_events": list(incident.policy.failure_events),
        "exclude_segments": list(incident.policy.exclude_segments),
        "iso_currencies": list(incident.currencies),
        "max_quarantined_share": float(incident.max_quarantined_share),
    }


def _totals_frame(credit_file: Path, totals: dict[str, int]) -> pd.DataFrame:
    import pandas as pd

    in_file = outputs.credit_file_totals(credit_file)
    currencies = sorted(set(in_file) | set(totals))
    return pd.DataFrame(
        {
            "currency": pd.Series(currencies, dtype=object),
            "credits_total_minor": pd.Series(
                [in_file.get(c, 0) for c in currencies], dtype="int64"
            ),
            "manifest_total_minor": pd.Series(
                [totals.get(c, 0) for c in currencies], dtype="int64"
            ),
        }
    )


def _describe(outcome: validation.ExpectationOutcome) -> str:
    where = f"({outcome.column})" if outcome.column else ""
    text = f"{outcome.suite}: {outcome.expectation}{where}: {outcome.notes}"
    if outcome.unexpected_count:
        text += f" [{outcome.unexpected_count} rows"
        text += f"; e.g. {', '.join(outcome.offending)}]" if outcome.offending else "]"
    return text
