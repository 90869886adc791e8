"""DuckDB's side of the profile path (`profiles`): each translated expectation's breaking rows,
counted and named, and a range's least and greatest value.

A check's rows are the frame's, projected as its kind's statement reads them (the view
``gate_expectation_rows``: the key as text, the value or values, only the rows its row condition
keeps); ``sql/profile_<kind>.sql`` selects the rows that break it (``gate_breaking_rows``),
``profile_outcome.sql`` counts them and names up to ``MAX_OFFENDING`` keys, sorted and joined as
the row path does, and for a range ``profile_range.sql`` gives its least and greatest value.
Several checks' statements are the parts of one statement (`db.fragment`), each reading its own
copy of the views: a small frame's suite of up to 16 expectations is one call to DuckDB, not two
or three an expectation (``ROWS_PER_STATEMENT``, ``CHECKS_PER_STATEMENT``). Every value is
bound; the statement's text joins the files' statements, the views' names and the frame's
column names as DuckDB's expressions quote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import duckdb
import pyarrow as pa

from transforms import db
from transforms.quality import regex
from transforms.quality.suites import SuiteError
from transforms.quality.validation import KEY_SEPARATOR, MAX_OFFENDING, NULL_KEY

EXPECTATION_ROWS = "gate_expectation_rows"
"""The view each profile statement reads: key_text, value (and value_b for a pair)."""
BREAKING_ROWS = "gate_breaking_rows"
"""The view of the rows that break an expectation (key_text), which ``profile_outcome`` counts."""
ROWS_PER_STATEMENT = 100_000
"""At most this many rows (a frame's rows times the checks) are profiled in one statement. A
run's small frames put all of a suite's checks in one (its fixed cost, about 5 ms a check
alone, is most of the work); a long frame's go one or a few at a time, since a statement holds
each of its checks' projected rows at once (all of them 270 MB more at 10 M log lines:
`bench/README.md`)."""
CHECKS_PER_STATEMENT = 16
"""At most this many checks share a statement, however few the rows: each holds about 1 MB of
DuckDB's buffers while it runs (100 checks of three rows in one statement did not fit in the
512 MB limit)."""
SOURCE_ROWS = "gate_profile_source"
"""The view of the frame a suite is profiled on, which each check's rows are projected from."""


class Kind(Enum):
    """How an expectation is profiled: the value is its statement's name."""

    NOT_NULL = "profile_not_null"
    BETWEEN = "profile_between"
    IN_SET = "profile_in_set"
    NOT_IN_SET = "profile_not_in_set"
    MATCH_REGEX = "profile_match_regex"
    UNIQUE = "profile_unique"
    PAIR_EQUAL = "profile_pair_equal"
    PAIR_GREATER = "profile_pair_greater"


@dataclass(frozen=True)
class Condition:
    """A row condition the profile path applies: ``column == value``."""

    column: str
    value: bool | int | str


@dataclass(frozen=True)
class ProfileCheck:
    """One expectation of a suite, translated.

    Attributes:
        spec: The expectation as the suite states it (id, type, kwargs, meta).
        kind: Its statement and profile expectation.
        columns: The columns it reads: one, two for a pair (A, B), or a compound's list.
        condition: Its row condition, or None.
    """

    spec: dict
    kind: Kind
    columns: tuple[str, ...]
    condition: Condition | None


@dataclass(frozen=True)
class Counted:
    """What DuckDB found for one expectation: breaking rows, keys, and its profile column."""

    unexpected_count: int
    offending: tuple[str, ...]
    profile: pa.Array


def count(
    con: duckdb.DuckDBPyConnection,
    frame: pa.Table,
    suite: str,
    checks: list[ProfileCheck],
    keys: list[str],
    values: dict[str, Any],
) -> list[Counted]:
    """Every check's breaking rows and profile column over the frame, in the checks' order,
    several checks a statement (`_batches`). When DuckDB refuses a statement, each of its checks
    is tried alone to name the one it refused (SuiteError)."""
    floating = {field.name for field in frame.schema if pa.types.is_floating(field.type)}
    con.register(SOURCE_ROWS, frame)  # a view of this session only
    try:
        counted: list[Counted] = []
        for batch in _batches(len(checks), frame.num_rows):
            part = [(index, checks[index]) for index in batch]
            try:
                found = _profile(con, part, keys, floating, values)
            except duckdb.Error as error:
                if len(part) > 1 and not isinstance(error, duckdb.InterruptException):
                    for alone in part:  # which check DuckDB refuses
                        try:
                            _profile(con, [alone], keys, floating, values)
                        except duckdb.Error as refused:
                            raise _refusal(suite, alone[1], refused) from refused
                raise _refusal(suite, part[0][1] if len(part) == 1 else None, error) from error
            counted += [_counted(found, index, check) for index, check in part]
    finally:
        con.unregister(SOURCE_ROWS)
    return counted


def _refusal(suite: str, check: ProfileCheck | None, error: duckdb.Error) -> SuiteError:
    """DuckDB's refusal (or an interrupt) as the gate reports it, naming the check if known."""
    what = f"{check.spec['id']!r} ({check.spec['type']})" if check else "its checks"
    return SuiteError(f"suite {suite!r}: DuckDB could not profile {what}: {error}")


def _batches(checks: int, rows: int) -> list[range]:
    """The checks (by index) that share a statement: as many as keep its rows (the frame's
    rows times its checks) within `ROWS_PER_STATEMENT`, at least one and at most
    `CHECKS_PER_STATEMENT`."""
    size = max(1, min(CHECKS_PER_STATEMENT, ROWS_PER_STATEMENT // max(rows, 1)))
    return [range(start, min(start + size, checks)) for start in range(0, checks, size)]


def _profile(
    con: duckdb.DuckDBPyConnection,
    checks: list[tuple[int, ProfileCheck]],
    keys: list[str],
    floating: set[str],
    values: dict[str, Any],
) -> pa.Table:
    """One row: each check's outcome (``unexpected_<i>``, ``offending_<i>``) and, for a range,
    its least and greatest value (``low_<i>``, ``high_<i>``), ``i`` its index in the suite.
    Check ``i``'s statements (``profile_<kind>``, ``profile_outcome``, ``profile_range``) are
    CTEs of one statement, their views and parameters suffixed with ``_<i>``
    (`db.fragment`); its rows are the frame's, projected and filtered by its row condition
    (`_rows`)."""
    ctes: list[str] = []
    columns: list[str] = []
    sources: list[str] = []  # one row each
    parameters: dict[str, Any] = {}
    for index, check in checks:
        tag = str(index)
        rows, bound = _rows(check, keys, floating, tag)
        ctes.append(f"{EXPECTATION_ROWS}_{tag} as ({rows})")
        parameters.update(bound)
        outcome, found_range = f"gate_outcome_{tag}", f"gate_range_{tag}"
        parts = [
            (f"{BREAKING_ROWS}_{tag}", check.kind.value, _arguments(check, values)),
            (outcome, "profile_outcome", {"max_offending": MAX_OFFENDING}),
        ]
        sources.append(outcome)
        columns += [
            f"{outcome}.unexpected_count as unexpected_{tag}",
            f"{outcome}.offending as offending_{tag}",
        ]
        if check.kind is Kind.BETWEEN:
            parts.append((found_range, "profile_range", {}))
            sources.append(found_range)
            columns += [f"{found_range}.low as low_{tag}", f"{found_range}.high as high_{tag}"]
        for cte, name, arguments in parts:
            text, bound = db.fragment(name, tag, (EXPECTATION_ROWS, BREAKING_ROWS), arguments)
            ctes.append(f"{cte} as ({text})")
            parameters.update(bound)
    sql = f"with {', '.join(ctes)} select {', '.join(columns)} from {', '.join(sources)}"
    return con.sql(sql, params=parameters).to_arrow_table()


def _rows(
    check: ProfileCheck, keys: list[str], floating: set[str], tag: str
) -> tuple[str, dict[str, Any]]:
    """The check's rows as its statement reads them (``gate_expectation_rows``): the key as
    text, its value or values, only the rows its row condition keeps (its value bound)."""
    projection = ", ".join(
        f"{expression} as {name}" for name, expression in _values(check, floating)
    )
    sql = f"select {_key_text(keys)} as key_text, {projection} from {SOURCE_ROWS}"
    if check.condition is None:
        return sql, {}
    column = _column(check.condition.column)
    return f"{sql} where {column} = $condition_{tag}", {f"condition_{tag}": check.condition.value}


def _counted(found: pa.Table, index: int, check: ProfileCheck) -> Counted:
    """Check ``index``'s part of `_profile`'s row."""
    unexpected = found[f"unexpected_{index}"][0].as_py()
    if check.kind is Kind.BETWEEN:
        low = found[f"low_{index}"].combine_chunks()
        high = found[f"high_{index}"].combine_chunks()
        profile = pa.concat_arrays([low, high])
    else:
        profile = pa.array([unexpected, unexpected], pa.int64())
    return Counted(unexpected, tuple(found[f"offending_{index}"][0].as_py()), profile)


def _column(name: str) -> duckdb.Expression:
    """A column of the frame, named with its view: a name the frame lacks is an error, never
    a column the projection made (``key_text``, ``value``)."""
    return duckdb.ColumnExpression(SOURCE_ROWS, name)


def _key_text(keys: list[str]) -> duckdb.Expression:
    """A row's key as the row path shows it: parts joined by ':', a null part as '<null>'."""
    parts = [
        duckdb.CoalesceOperator(
            _column(key).cast(duckdb.sqltypes.VARCHAR),
            duckdb.ConstantExpression(NULL_KEY),
        )
        for key in keys
    ]
    return duckdb.FunctionExpression("concat_ws", duckdb.ConstantExpression(KEY_SEPARATOR), *parts)


def _values(check: ProfileCheck, floating: set[str]) -> list[tuple[str, duckdb.Expression]]:
    """The value columns its statement reads: value (and value_b for a pair). A compound's
    value is a row of its columns, null when all of them are (GX ignores such a row). A
    floating-point NaN is null, as pandas has it (DuckDB takes it for a value above all)."""
    columns = [
        duckdb.FunctionExpression("nullif", _column(name), duckdb.ConstantExpression(float("nan")))
        if name in floating
        else _column(name)
        for name in check.columns
    ]
    if check.kind in (Kind.PAIR_EQUAL, Kind.PAIR_GREATER):
        return [("value", columns[0]), ("value_b", columns[1])]
    if len(columns) == 1:
        return [("value", columns[0])]
    all_null = columns[0].isnull()
    for other in columns[1:]:
        all_null = all_null & other.isnull()
    compound = duckdb.CaseExpression(all_null, duckdb.ConstantExpression(None)).otherwise(
        duckdb.FunctionExpression("row", *columns)
    )
    return [("value", compound)]


def _arguments(check: ProfileCheck, values: dict[str, Any]) -> dict[str, Any]:
    """The check's arguments for its statement, ``$PARAMETER`` references resolved."""
    kwargs = {
        name: values[v["$PARAMETER"]] if isinstance(v, dict) and "$PARAMETER" in v else v
        for name, v in check.spec["kwargs"].items()
    }
    if check.kind is Kind.BETWEEN:
        return {
            "min_value": kwargs.get("min_value"),
            "max_value": kwargs.get("max_value"),
            "strict_min": bool(kwargs.get("strict_min", False)),
            "strict_max": bool(kwargs.get("strict_max", False)),
        }
    if check.kind in (Kind.IN_SET, Kind.NOT_IN_SET):
        return {"value_set": list(kwargs["value_set"])}
    if check.kind is Kind.MATCH_REGEX:
        return {"regex": regex.re2(kwargs["regex"])}
    if check.kind is Kind.PAIR_GREATER:
        return {"or_equal": bool(kwargs.get("or_equal", False))}
    return {}
