"""Validating a long dataset as its profile: DuckDB reads the rows, Great Expectations decides.

GX stays the validator of record, but a dataset of hundreds of thousands of rows need not reach
it row by row (about 1.5 us a row and suite in GX's pandas path, against DuckDB's 0.01-0.05 us
a row and expectation: `bench/README.md`). Each expectation of the suite is translated, by its type
(:data:`KINDS`), into

* a check DuckDB counts (`profile_counts`): the rows that break it, up to ``MAX_OFFENDING`` of
  their keys, and for a range its least and greatest value;
* one GX expectation over the profile, with the original id and meta (notes, severity): a range
  (``between``) keeps its bounds, ``$PARAMETER`` references and strictness, checked on the least
  and greatest value; every other kind expects its count of breaking rows to be 0.

The profile is a frame of two rows (``lowest``, ``highest``) and one column per expectation,
named by its id: a range's least and greatest value, or a count (the same in both rows). GX's
verdict and DuckDB's count must agree (a range GX finds broken has breaking rows, and the
reverse): if not, SuiteError. An expectation type, argument or row condition without a
translation here is refused (SuiteError naming the suite and the expectation), never skipped.
The outcomes are those of `validation.validate` on the same rows
(`tests/transforms/quality/test_profiles.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from transforms.quality import gx_run, profile_counts, regex
from transforms.quality.profile_counts import Condition, Counted, Kind, ProfileCheck
from transforms.quality.suites import SuiteError, expectation_parameters, load_suite_document
from transforms.quality.validation import ExpectationOutcome, SuiteResult, column_of

if TYPE_CHECKING:
    from collections.abc import Mapping

PROFILE_ROW = "profile_row"
"""The profile's key column: ``lowest`` and ``highest``."""


KINDS: dict[str, Kind] = {
    "expect_column_values_to_not_be_null": Kind.NOT_NULL,
    "expect_column_values_to_be_between": Kind.BETWEEN,
    "expect_column_values_to_be_in_set": Kind.IN_SET,
    "expect_column_values_to_not_be_in_set": Kind.NOT_IN_SET,
    "expect_column_values_to_match_regex": Kind.MATCH_REGEX,
    "expect_column_values_to_be_unique": Kind.UNIQUE,
    "expect_compound_columns_to_be_unique": Kind.UNIQUE,
    "expect_column_pair_values_to_be_equal": Kind.PAIR_EQUAL,
    "expect_column_pair_values_a_to_be_greater_than_b": Kind.PAIR_GREATER,
}
"""Every GX expectation type the profile path translates; any other is refused."""

_ARGUMENTS: dict[Kind, frozenset[str]] = {
    Kind.NOT_NULL: frozenset({"column"}),
    Kind.BETWEEN: frozenset({"column", "min_value", "max_value", "strict_min", "strict_max"}),
    Kind.IN_SET: frozenset({"column", "value_set"}),
    Kind.NOT_IN_SET: frozenset({"column", "value_set"}),
    Kind.MATCH_REGEX: frozenset({"column", "regex"}),
    Kind.UNIQUE: frozenset({"column", "column_list"}),
    Kind.PAIR_EQUAL: frozenset({"column_A", "column_B"}),
    Kind.PAIR_GREATER: frozenset({"column_A", "column_B", "or_equal"}),
}
"""The arguments each kind's translation honours (and ``row_condition``); any other (``mostly``,
``ignore_row_if``, ...) would change the verdict unseen, so it is refused."""
_BOUNDS = ("min_value", "max_value", "strict_min", "strict_max")


def validate(
    con: duckdb.DuckDBPyConnection,
    frame: pa.Table,
    suite: str,
    parameters: Mapping[str, Any],
    key: str | list[str],
) -> SuiteResult:
    """Validate an Arrow table against ``expectations/<suite>.json`` as its profile.

    Args:
        con: A DuckDB connection to read the table with (it registers a view there).
        frame: The rows, with the columns the suite reads; key columns text or integers.
        suite: The suite name.
        parameters: Values for the suite's ``$PARAMETER`` references (extra ones ignored).
        key: The column or columns whose values name an offending row.

    Returns:
        The outcome of every expectation in the suite's order, as `validation.validate` gives
        for the same rows, and GX's result over the profile.

    Raises:
        SuiteError: The suite holds an expectation, argument, row condition or pattern with no
            translation; a key column is missing or neither text nor integer; a column is
            missing; GX could not evaluate the profile, or disagrees with DuckDB's count.
    """
    document, checks, values, counted = _count(con, frame, suite, parameters, key)
    columns = {c.spec["id"]: found.profile for c, found in zip(checks, counted, strict=True)}
    profile = pa.table({PROFILE_ROW: ["lowest", "highest"], **columns})
    profile_document = {**document, "expectations": [_profile_spec(check) for check in checks]}
    raw = gx_run.run_suite(
        profile_document,
        gx_run.pandas_frame(profile),
        [PROFILE_ROW],
        values,
        gx_run.Detail.COUNTS,
    )
    gx_result = gx_run.clean_gx_result(raw, profile_document)
    outcomes = tuple(
        _outcome(suite, check, found, bool(item["success"]))
        for check, found, item in zip(checks, counted, gx_result["results"], strict=True)
    )
    return SuiteResult(suite=suite, outcomes=outcomes, gx_result=gx_result)


def counted_outcomes(
    con: duckdb.DuckDBPyConnection,
    frame: pa.Table,
    suite: str,
    parameters: Mapping[str, Any],
    key: str | list[str],
) -> tuple[ExpectationOutcome, ...]:
    """Every expectation's outcome as DuckDB's count of breaking rows gives it, without GX
    (whose verdict on the profile `validate` requires to be that count's): a preview of the
    gate's verdict for `credits what-if`, which GX's start would slow by seconds. Arguments and
    errors as `validate`'s."""
    _, checks, _, counted = _count(con, frame, suite, parameters, key)
    return tuple(
        _outcome(suite, check, found, found.unexpected_count == 0)
        for check, found in zip(checks, counted, strict=True)
    )


def _count(
    con: duckdb.DuckDBPyConnection,
    frame: pa.Table,
    suite: str,
    parameters: Mapping[str, Any],
    key: str | list[str],
) -> tuple[dict, list[ProfileCheck], dict[str, Any], list[Counted]]:
    """The suite's document, its translated checks, their parameter values and DuckDB's
    counts over the frame."""
    document = load_suite_document(suite)
    keys = [key] if isinstance(key, str) else list(key)
    _check_keys(frame, suite, keys)
    checks = [translate(suite, spec) for spec in document["expectations"]]
    values = expectation_parameters(document, parameters)
    return document, checks, values, profile_counts.count(con, frame, suite, checks, keys, values)


def translate(suite: str, spec: dict) -> ProfileCheck:
    """The profile translation of one expectation; SuiteError if it has none."""
    where = f"suite {suite!r}: expectation {spec['id']!r} ({spec['type']})"
    kind = KINDS.get(spec["type"])
    if kind is None:
        raise SuiteError(f"{where}: no profile translation for this type; validate it as rows")
    kwargs = dict(spec["kwargs"])
    condition = _condition(where, kwargs.pop("row_condition", None))
    unknown = sorted(set(kwargs) - _ARGUMENTS[kind])
    if unknown:
        raise SuiteError(f"{where}: the profile path does not translate {unknown}")
    pattern = kwargs.get("regex")
    if kind is Kind.MATCH_REGEX and (not isinstance(pattern, str) or regex.re2(pattern) is None):
        raise SuiteError(f"{where}: pattern {pattern!r} has no RE2 form in quality/regex.py")
    if "column_list" in kwargs:
        columns = tuple(kwargs["column_list"])
    elif "column" in kwargs:
        columns = (kwargs["column"],)
    else:
        columns = (kwargs["column_A"], kwargs["column_B"])
    return ProfileCheck(spec=spec, kind=kind, columns=columns, condition=condition)


def _condition(where: str, condition: Any) -> Condition | None:
    """A row condition ``column == value``, the only kind the suites use; others refused."""
    if condition is None:
        return None
    column = condition.get("column") if isinstance(condition, dict) else None
    if (
        not isinstance(condition, dict)
        or set(condition) != {"type", "column", "operator", "parameter"}
        or condition["type"] != "comparison"
        or condition["operator"] != "=="
        or not isinstance(column, dict)
        or set(column) != {"name"}
        or not isinstance(condition["parameter"], (bool, int, str))
    ):
        raise SuiteError(f"{where}: the profile path translates only `column == value` conditions")
    return Condition(column=column["name"], value=condition["parameter"])


def _check_keys(frame: Any, suite: str, keys: list[str]) -> None:
    """Refuse anything but an Arrow table with text or integer key columns (their text is then
    the same in DuckDB as in Python)."""
    if not isinstance(frame, pa.Table):
        raise SuiteError(f"suite {suite!r}: profiles are of Arrow tables, got {type(frame)}")
    if not keys:
        raise SuiteError(f"suite {suite!r}: key must name at least one column")
    missing = [column for column in keys if column not in frame.column_names]
    if missing:
        raise SuiteError(f"suite {suite!r}: key columns {missing} are not in the frame")
    for column in keys:
        kind = frame.schema.field(column).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and not (
            pa.types.is_integer(kind) or pa.types.is_null(kind)
        ):
            raise SuiteError(f"suite {suite!r}: key column {column!r} is {kind}, not text")


def _profile_spec(check: ProfileCheck) -> dict:
    """The GX expectation that decides the check on the profile."""
    kwargs = check.spec["kwargs"]
    if check.kind is Kind.BETWEEN:
        bounds = {name: kwargs[name] for name in _BOUNDS if name in kwargs}
    else:
        bounds = {"min_value": 0, "max_value": 0}
    return {
        "type": "expect_column_values_to_be_between",
        "id": check.spec["id"],
        "kwargs": {"column": check.spec["id"], **bounds},
        "meta": check.spec["meta"],
        "severity": check.spec["severity"],
    }


def _outcome(suite: str, check: ProfileCheck, found: Counted, success: bool) -> ExpectationOutcome:
    """The outcome, GX's verdict checked against DuckDB's count of breaking rows."""
    spec = check.spec
    if success != (found.unexpected_count == 0):
        raise SuiteError(
            f"suite {suite!r}: {spec['id']!r} ({spec['type']}): GX's verdict on the profile "
            f"({success}) and DuckDB's {found.unexpected_count} breaking rows disagree"
        )
    return ExpectationOutcome(
        suite=suite,
        expectation=spec["type"],
        column=column_of(spec["kwargs"]),
        severity=spec["meta"]["severity"],
        notes=spec["meta"]["notes"],
        success=success,
        unexpected_count=found.unexpected_count,
        offending=found.offending,
        expectation_id=spec["id"],
    )
