"""Validating a frame against a suite: the outcome of every expectation and the keys of the rows
that broke it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transforms.quality import gx_run, slices
from transforms.quality.gx_run import is_arrow, is_missing, pandas_frame
from transforms.quality.suites import SuiteError, expectation_parameters, load_suite_document

if TYPE_CHECKING:  # typing only: GX, pandas and Arrow load when a frame is validated
    import pandas as pd
    import pyarrow as pa

MAX_OFFENDING = 20
"""How many offending key values an outcome keeps."""
NULL_KEY = "<null>"
"""How a missing key value is shown among the offending keys."""
KEY_SEPARATOR = ":"
"""Joins the parts of a multi-column key, e.g. ``app.log:17`` for (file, line)."""
CHUNK_ROWS = 250_000
"""The most rows Great Expectations validates at once (it needs several times a frame's size)."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """The verdict of one expectation of one suite.

    Attributes:
        suite: The suite name, e.g. ``"transactions"``.
        expectation: The GX expectation type, e.g. ``"expect_column_values_to_be_unique"``.
        column: The column it checks; several columns are joined by ``","``; None if none.
        severity: ``"blocking"`` or ``"warning"``.
        notes: Why the expectation exists, one sentence.
        success: Whether the data met the expectation.
        unexpected_count: How many rows broke it.
        offending: Up to 20 key values of the offending rows, as strings, sorted, deduplicated;
            a multi-column key is joined by ``":"``, a missing key value shows as ``"<null>"``.
        expectation_id: The expectation's ``id`` in the suite JSON, e.g. ``"txn_id_unique"``.
    """

    suite: str
    expectation: str
    column: str | None
    severity: str
    notes: str
    success: bool
    unexpected_count: int
    offending: tuple[str, ...]
    expectation_id: str


@dataclass(frozen=True)
class SuiteResult:
    """The outcome of validating one frame against one suite.

    Attributes:
        suite: The suite name.
        outcomes: One outcome per expectation, in the suite's order.
        gx_result: GX's own validation result as plain JSON (results in the suite's order,
            the load timestamp removed so that it is deterministic).
    """

    suite: str
    outcomes: tuple[ExpectationOutcome, ...]
    gx_result: dict

    @property
    def blocking_failures(self) -> tuple[ExpectationOutcome, ...]:
        """The failed expectations whose severity is ``blocking``."""
        return tuple(o for o in self.outcomes if not o.success and o.severity == "blocking")

    @property
    def warnings(self) -> tuple[ExpectationOutcome, ...]:
        """The failed expectations whose severity is ``warning``."""
        return tuple(o for o in self.outcomes if not o.success and o.severity == "warning")


def validate(
    frame: pd.DataFrame | pa.Table,
    suite: str,
    parameters: Mapping[str, Any],
    key: str | list[str],
    chunk_rows: int = CHUNK_ROWS,
) -> SuiteResult:
    """Validate a frame against ``expectations/<suite>.json``.

    A frame longer than ``chunk_rows`` is validated in slices of that many rows, so memory
    stays bounded whatever the run's size: each row-level expectation runs on every slice and
    their results are summed; a uniqueness expectation runs once over only the columns it and
    the key need. Every expectation of the suites is one or the other (:data:`WHOLE_COLUMN`
    names the uniqueness ones); the outcome is the same as one pass over the whole frame. A
    suite with any other kind of expectation (a row count, a mean) sees the whole frame.

    Args:
        frame: The data, a pandas DataFrame or an Arrow table, with the columns the suite names.
        suite: The suite name, which is also its file name without ``.json``.
        parameters: Values for the suite's ``$PARAMETER`` references; extra entries are ignored,
            so one mapping can serve every suite of a run. Sets are passed as sorted lists.
        key: The column or columns that identify a row; their values are reported for the
            rows that break an expectation.
        chunk_rows: The most rows GX sees at once.

    Returns:
        The outcome of every expectation, in the suite's order, and GX's result.

    Raises:
        SuiteError: The suite file is missing or malformed, GX loaded fewer expectations than
            the file holds, a parameter or a key column is missing, or GX raised while
            evaluating an expectation (for example on a missing column).
    """
    document = load_suite_document(suite)
    keys = [key] if isinstance(key, str) else list(key)
    _check_frame(frame, suite, keys)
    values = expectation_parameters(document, parameters)
    if len(frame) <= chunk_rows or not slices.sliceable(document):
        raw = gx_run.run_suite(document, pandas_frame(frame), keys, values)
    else:
        raw = slices.run_in_chunks(document, frame, keys, values, chunk_rows)
    gx_result = gx_run.clean_gx_result(raw, document)
    outcomes = tuple(
        _outcome(suite, spec, result, keys)
        for spec, result in zip(document["expectations"], gx_result["results"], strict=True)
    )
    return SuiteResult(suite=suite, outcomes=outcomes, gx_result=gx_result)


def _check_frame(frame: Any, suite: str, keys: list[str]) -> None:
    """Refuse anything but a DataFrame or an Arrow table, or one without its key columns."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame) and not is_arrow(frame):
        raise SuiteError(
            f"suite {suite!r}: expected a pandas DataFrame or an Arrow table, got {type(frame)}"
        )
    if not keys:
        raise SuiteError(f"suite {suite!r}: key must name at least one column")
    names = frame.column_names if is_arrow(frame) else list(frame.columns)
    missing = [column for column in keys if column not in names]
    if missing:
        raise SuiteError(f"suite {suite!r}: key columns {missing} are not in the frame")


def _outcome(suite: str, spec: dict, item: dict, keys: list[str]) -> ExpectationOutcome:
    """Turn one GX result into an ExpectationOutcome."""
    result = item.get("result") or {}
    return ExpectationOutcome(
        suite=suite,
        expectation=spec["type"],
        column=column_of(spec.get("kwargs", {})),
        severity=spec["meta"]["severity"],
        notes=spec["meta"]["notes"],
        success=bool(item["success"]),
        unexpected_count=int(result.get("unexpected_count") or 0),
        offending=_offending(result.get("unexpected_index_list") or [], keys),
        expectation_id=spec["id"],
    )


def column_of(kwargs: Mapping[str, Any]) -> str | None:
    """Return the column an expectation checks, several joined by ``","``, or None."""
    if isinstance(kwargs.get("column"), str):
        return kwargs["column"]
    if isinstance(kwargs.get("column_A"), str) and isinstance(kwargs.get("column_B"), str):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if isinstance(kwargs.get("column_list"), list):
        return ",".join(str(column) for column in kwargs["column_list"])
    return None


def _offending(rows: list[Any], keys: list[str]) -> tuple[str, ...]:
    """Return up to MAX_OFFENDING distinct key strings of the offending rows, sorted."""
    found = {
        KEY_SEPARATOR.join(_key_text(row.get(column)) for column in keys)
        for row in rows
        if isinstance(row, dict)
    }
    return tuple(sorted(found)[:MAX_OFFENDING])


def _key_text(value: Any) -> str:
    """Render one key value as text; None, NaN, NA and NaT become NULL_KEY."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or is_missing(value):
        return NULL_KEY
    return str(value)
