"""The data-quality gate: validate pandas frames against Great Expectations 1.x suites.

Suites are data. Each lives in ``expectations/<suite>.json`` in GX's own suite format (what
``ExpectationSuite.to_json_dict()`` produces, less the derived ``severity``), is hand-written,
and is the single source of truth. Every expectation there carries an ``id`` (a readable slug,
unique in its suite), ``meta.notes`` (why it exists) and ``meta.severity`` (``blocking`` or
``warning``), the one place its severity is written: GX's own ``severity`` field (``critical``
or ``warning``) is derived from it when the suite loads, and a file that sets it is refused.
Values that depend on the run (window bounds, policy lists, the ISO currency list) are GX suite
parameters, ``{"$PARAMETER": "name"}`` in the JSON, supplied to :func:`validate` at run time.

Great Expectations is imported lazily inside functions (importing it costs seconds), runs in
a new ephemeral context per frame (it writes no files, and frees what it cached) with its
progress bars off, and validates pandas frames only (a long frame a slice at a time). A suite
whose expectations GX cannot all load is refused: GX 1.x drops an expectation it does not know
(for example a custom one not imported yet) with a log line only.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transforms import pages

if TYPE_CHECKING:  # pragma: no cover - typing only; keeps `import transforms.quality` cheap
    import pandas as pd
    import pyarrow as pa

SUITE_DIR = Path(__file__).resolve().parents[1] / "expectations"
"""Where the suites live: ``expectations/<suite>.json`` at the repository root."""

SEVERITIES = ("blocking", "warning")
"""The values ``meta.severity`` may take."""

_GX_SEVERITY = {"blocking": "critical", "warning": "warning"}
"""Our severity -> GX 1.x's own expectation ``severity`` field, set when a suite loads (GX would
otherwise take every expectation as ``critical``)."""

MAX_OFFENDING = 20
"""How many offending key values an outcome keeps."""

NULL_KEY = "<null>"
"""How a missing key value is shown among the offending keys."""

KEY_SEPARATOR = ":"
"""Joins the parts of a multi-column key, e.g. ``app.log:17`` for (file, line)."""

CHUNK_ROWS = 250_000
"""The most rows Great Expectations validates at once (it needs several times a frame's size)."""

WHOLE_COLUMN = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)
"""Expectations that compare rows with each other: run over whole (narrow) columns, never slices.
Every other expectation the suites use checks each row on its own."""

PARTIAL_UNEXPECTED = 20
"""How many values GX keeps in a result's partial lists (its default)."""

_DATASOURCE = "outage_credits_quality"
_ASSET = "frame"
_BATCH_DEFINITION = "whole_frame"


class SuiteError(RuntimeError):
    """A suite cannot be used as written, or GX could not evaluate one of its expectations.

    This is a bug in the suite, the caller or the frame's shape (a missing column, a missing
    parameter), never a data-quality verdict, so it is deliberately not a ``CreditsError``.
    """


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


# --------------------------------------------------------------------------------------------
# Validation


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
    expectation_parameters = _expectation_parameters(document, parameters)
    if len(frame) <= chunk_rows or not _sliceable(document):
        raw = _run_suite(document, _pandas(frame), keys, expectation_parameters)
    else:
        raw = _run_in_chunks(document, frame, keys, expectation_parameters, chunk_rows)
    gx_result = _clean_gx_result(raw, document)
    outcomes = tuple(
        _outcome(suite, spec, result, keys)
        for spec, result in zip(document["expectations"], gx_result["results"], strict=True)
    )
    return SuiteResult(suite=suite, outcomes=outcomes, gx_result=gx_result)


def _run_suite(
    document: dict, frame: pd.DataFrame, keys: list[str], expectation_parameters: dict
) -> dict:
    """GX's result (as JSON) of the document's expectations over one frame."""
    gx_suite = _build_gx_suite(document)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    raw = batch.validate(
        gx_suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": keys},
        expectation_parameters=expectation_parameters,
    )
    return raw.to_json_dict()


def _run_in_chunks(
    document: dict,
    frame: pd.DataFrame | pa.Table,
    keys: list[str],
    expectation_parameters: dict,
    chunk_rows: int,
) -> dict:
    """GX's result of a long frame: uniqueness over narrow whole columns, the rest by slices."""
    whole = [spec for spec in document["expectations"] if spec["type"] in WHOLE_COLUMN]
    by_row = [spec for spec in document["expectations"] if spec["type"] not in WHOLE_COLUMN]
    results: dict[str, list[dict]] = {}
    first: dict | None = None
    if whole:
        columns = list(dict.fromkeys(keys + [c for s in whole for c in _read(s["kwargs"])]))
        narrow = _pandas(frame.select(columns) if _is_arrow(frame) else frame[columns])
        only_whole = {**document, "expectations": whole}
        first = _run_suite(only_whole, narrow, keys, expectation_parameters)
        del narrow
        for item in first["results"]:
            results.setdefault(item["expectation_config"]["id"], []).append(item)
    if by_row:
        for start in range(0, len(frame), chunk_rows):
            piece = (
                frame.slice(start, chunk_rows)
                if _is_arrow(frame)
                else frame.iloc[start : start + chunk_rows]
            )
            done = _run_suite(
                {**document, "expectations": by_row}, _pandas(piece), keys, expectation_parameters
            )
            first = first or done
            for item in done["results"]:
                results.setdefault(item["expectation_config"]["id"], []).append(item)
    merged = [_merge_results(results[spec["id"]]) for spec in document["expectations"]]
    passed = sum(bool(item["success"]) for item in merged)
    assert first is not None  # a suite has at least one expectation
    return {
        **first,
        "results": merged,
        "success": passed == len(merged),
        "statistics": {
            "evaluated_expectations": len(merged),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(merged) - passed,
            "success_percent": 100.0 * passed / len(merged),
        },
    }


def _sliceable(document: dict) -> bool:
    """Whether every expectation checks rows on their own or is a uniqueness one: a suite with
    any other (a row count, a mean) sees the whole frame at once."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    row_level = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    return all(
        spec["type"] in WHOLE_COLUMN or issubclass(get_expectation_impl(spec["type"]), row_level)
        for spec in document["expectations"]
    )


def _merge_results(items: list[dict]) -> dict:
    """One expectation's result over every slice: counts summed, lists joined, percentages
    recomputed; it succeeds only if it succeeded on every slice (no suite uses `mostly`)."""
    if len(items) == 1:
        return items[0]
    failed = [item for item in items if _exception_message(item.get("exception_info"))]
    if failed:
        return failed[0]
    parts = [item.get("result") or {} for item in items]
    result: dict[str, Any] = {}
    for name in ("element_count", "unexpected_count", "missing_count"):
        if name in parts[0]:
            result[name] = sum(int(part.get(name) or 0) for part in parts)
    for name in ("unexpected_list", "unexpected_index_list"):
        if name in parts[0]:
            result[name] = [value for part in parts for value in part.get(name) or []]
    for name in ("partial_unexpected_list", "partial_unexpected_index_list"):
        if name in parts[0]:
            joined = [value for part in parts for value in part.get(name) or []]
            result[name] = joined[:PARTIAL_UNEXPECTED]
    if "partial_unexpected_counts" in parts[0]:
        result["partial_unexpected_counts"] = _merged_counts(parts)
    elements = result.get("element_count", 0)
    missing = result.get("missing_count", 0)
    unexpected = result.get("unexpected_count", 0)
    present = elements - missing
    percents = {
        "missing_percent": _percent(missing, elements),
        "unexpected_percent": _percent(unexpected, present),
        "unexpected_percent_total": _percent(unexpected, elements),
        "unexpected_percent_nonmissing": _percent(unexpected, present),
    }
    result.update({name: value for name, value in percents.items() if name in parts[0]})
    return {**items[0], "success": all(bool(item["success"]) for item in items), "result": result}


def _merged_counts(parts: list[dict]) -> list[dict]:
    counts: dict[str, tuple[Any, int]] = {}
    for part in parts:
        for entry in part.get("partial_unexpected_counts") or []:
            marker = json.dumps(entry.get("value"), sort_keys=True, default=str)
            value, count = counts.get(marker, (entry.get("value"), 0))
            counts[marker] = (value, count + int(entry.get("count") or 0))
    ordered = sorted(counts.items(), key=lambda item: (-item[1][1], item[0]))
    return [{"value": value, "count": count} for _, (value, count) in ordered][:PARTIAL_UNEXPECTED]


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def columns(suite: str, key: str | list[str]) -> list[str]:
    """The columns a suite reads (its key first): a frame for it needs no others."""
    keys = [key] if isinstance(key, str) else list(key)
    found = [
        c for spec in load_suite_document(suite)["expectations"] for c in _read(spec["kwargs"])
    ]
    return list(dict.fromkeys(keys + found))


def _read(kwargs: Mapping[str, Any]) -> list[str]:
    """The columns an expectation reads, its row condition's among them."""
    condition = kwargs.get("row_condition")
    return _columns_of(kwargs) + (_condition_columns(condition) if condition else [])


def _condition_columns(node: Any) -> list[str]:
    if isinstance(node, dict):
        named = node.get("column")
        here = [named["name"]] if isinstance(named, dict) and "name" in named else []
        return here + [c for value in node.values() for c in _condition_columns(value)]
    if isinstance(node, list):
        return [c for value in node for c in _condition_columns(value)]
    return []


def _columns_of(kwargs: Mapping[str, Any]) -> list[str]:
    """The columns an expectation checks."""
    if isinstance(kwargs.get("column"), str):
        return [kwargs["column"]]
    if isinstance(kwargs.get("column_list"), list):
        return [str(column) for column in kwargs["column_list"]]
    return [kwargs[name] for name in ("column_A", "column_B") if isinstance(kwargs.get(name), str)]


def _is_arrow(frame: Any) -> bool:
    import pyarrow as pa

    return isinstance(frame, pa.Table)


def _pandas(frame: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """A frame for GX: an Arrow table converted with exact integers (nullable Int64)."""
    if not _is_arrow(frame):
        return frame
    import pandas as pd
    import pyarrow as pa

    integers = {kind: pd.Int64Dtype() for kind in (pa.int8(), pa.int16(), pa.int32(), pa.int64())}
    return frame.to_pandas(types_mapper=integers.get)


def suite_path(suite: str) -> Path:
    """Return the path of a suite's JSON file.

    Args:
        suite: The suite name.

    Returns:
        ``SUITE_DIR / f"{suite}.json"``.
    """
    return SUITE_DIR / f"{suite}.json"


def load_suite_document(suite: str) -> dict:
    """Read a suite's JSON and check the conventions GX does not enforce.

    Args:
        suite: The suite name.

    Returns:
        The suite document as parsed JSON, each expectation's GX ``severity`` derived from its
        ``meta.severity``.

    Raises:
        SuiteError: The file is missing or not JSON, its ``name`` differs from ``suite``, or an
            expectation lacks a unique ``id``, ``meta.notes`` or a valid ``meta.severity``, or
            sets GX's ``severity`` itself.
    """
    path = suite_path(suite)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SuiteError(f"{path}: no such suite {suite!r}") from error
    except json.JSONDecodeError as error:
        raise SuiteError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(document, dict) or document.get("name") != suite:
        raise SuiteError(f"{path}: 'name' must be {suite!r}")
    expectations = document.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{path}: 'expectations' must be a non-empty list")
    seen: set[str] = set()
    for position, spec in enumerate(expectations):
        _check_spec(path, position, spec, seen)
        spec["severity"] = _GX_SEVERITY[spec["meta"]["severity"]]
    return document


def _check_spec(path: Path, position: int, spec: Any, seen: set[str]) -> None:
    """Check one expectation of a suite document; raise SuiteError naming it if it is wrong."""
    where = f"{path}: expectation #{position}"
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise SuiteError(f"{where}: needs a 'type'")
    expectation_id = spec.get("id")
    if not isinstance(expectation_id, str) or not expectation_id or expectation_id in seen:
        raise SuiteError(f"{where} ({spec['type']}): needs an 'id' unique in the suite")
    seen.add(expectation_id)
    meta = spec.get("meta")
    if not isinstance(meta, dict):
        raise SuiteError(f"{where} ({expectation_id}): needs 'meta'")
    notes = meta.get("notes")
    if not isinstance(notes, str) or not notes.strip():
        raise SuiteError(f"{where} ({expectation_id}): needs 'meta.notes'")
    severity = meta.get("severity")
    if severity not in SEVERITIES:
        raise SuiteError(f"{where} ({expectation_id}): 'meta.severity' must be one of {SEVERITIES}")
    if "severity" in spec:
        raise SuiteError(
            f"{where} ({expectation_id}): remove 'severity': GX's severity is derived from "
            f"'meta.severity', the one place a suite states it"
        )


def suite_parameter_names(document: Mapping[str, Any]) -> frozenset[str]:
    """Return the names of the ``$PARAMETER`` references in a suite document.

    Args:
        document: A suite document as returned by :func:`load_suite_document`.

    Returns:
        The parameter names its expectations' kwargs refer to.
    """
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$PARAMETER"), str):
                names.add(node["$PARAMETER"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for spec in document["expectations"]:
        walk(spec.get("kwargs", {}))
    return frozenset(names)


def _expectation_parameters(document: dict, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Pick and normalise the parameters a suite uses; raise SuiteError if one is missing."""
    needed = suite_parameter_names(document)
    missing = sorted(needed - set(parameters))
    if missing:
        raise SuiteError(f"suite {document['name']!r}: missing parameters {missing}")
    return {name: _parameter_value(name, parameters[name]) for name in sorted(needed)}


def _parameter_value(name: str, value: Any) -> Any:
    """Make a parameter value deterministic and safe for GX: sets sorted, datetimes aware."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise SuiteError(f"parameter {name!r}: datetime must be timezone-aware (UTC), got {value}")
    return value


def _check_frame(frame: Any, suite: str, keys: list[str]) -> None:
    """Refuse anything but a DataFrame or an Arrow table, or one without its key columns."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame) and not _is_arrow(frame):
        raise SuiteError(
            f"suite {suite!r}: expected a pandas DataFrame or an Arrow table, got {type(frame)}"
        )
    if not keys:
        raise SuiteError(f"suite {suite!r}: key must name at least one column")
    names = frame.column_names if _is_arrow(frame) else list(frame.columns)
    missing = [column for column in keys if column not in names]
    if missing:
        raise SuiteError(f"suite {suite!r}: key columns {missing} are not in the frame")


def _build_gx_suite(document: dict) -> Any:
    """Build a GX ExpectationSuite from a document; raise SuiteError if GX dropped any."""
    from great_expectations.core import ExpectationSuite

    gx_suite = ExpectationSuite(**json.loads(json.dumps(document)))
    loaded = {expectation.id for expectation in gx_suite.expectations}
    if len(gx_suite.expectations) != len(document["expectations"]):
        dropped = [
            f"{spec['id']} ({spec['type']})"
            for spec in document["expectations"]
            if spec["id"] not in loaded
        ]
        raise SuiteError(
            f"suite {document['name']!r}: GX loaded {len(gx_suite.expectations)} of "
            f"{len(document['expectations'])} expectations; dropped: {', '.join(dropped)}"
        )
    return gx_suite


def _batch_definition() -> Any:
    """Return the whole-dataframe batch definition of a new ephemeral GX context.

    One context per frame validated: GX's execution engine keeps every metric it computes
    (whole columns among them) for the life of its context, so a long-lived context would hold
    every frame a run validates. A new one costs about 10 ms.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas(_DATASOURCE).add_dataframe_asset(name=_ASSET)
    return asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)


def _clean_gx_result(result: dict, document: dict) -> dict:
    """Make GX's result plain, deterministic JSON, its results in the suite's order.

    Raises:
        SuiteError: A result is missing or duplicated, or GX raised while evaluating one.
    """
    result = _plain(result)
    by_id: dict[str, dict] = {}
    for item in result.get("results", []):
        expectation_id = item["expectation_config"].get("id")
        if expectation_id in by_id:
            raise SuiteError(f"suite {document['name']!r}: two results for {expectation_id!r}")
        by_id[expectation_id] = item
    ordered = []
    for spec in document["expectations"]:
        item = by_id.get(spec["id"])
        if item is None:
            raise SuiteError(f"suite {document['name']!r}: no result for {spec['id']!r}")
        message = _exception_message(item.get("exception_info"))
        if message is not None:
            raise SuiteError(
                f"suite {document['name']!r}: GX could not evaluate {spec['id']!r} "
                f"({spec['type']}): {message}"
            )
        ordered.append(item)
    result["results"] = ordered
    markers = result.get("meta", {}).get("batch_markers")
    if isinstance(markers, dict):
        markers.pop("ge_load_time", None)
    return result


def _exception_message(info: Any) -> str | None:
    """Return GX's exception message from an ``exception_info``, or None if nothing raised.

    GX 1.x reports a flat ``{"raised_exception": ..}`` when all went well, and a mapping from
    metric ids to such dicts when a metric raised.
    """
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        raised = info.get("raised_exception")
        return str(info.get("exception_message") or "exception") if raised else None
    messages = [_exception_message(value) for value in info.values()]
    found = sorted({m for m in messages if m is not None})
    return "; ".join(found) if found else None


def _outcome(suite: str, spec: dict, item: dict, keys: list[str]) -> ExpectationOutcome:
    """Turn one GX result into an ExpectationOutcome."""
    result = item.get("result") or {}
    return ExpectationOutcome(
        suite=suite,
        expectation=spec["type"],
        column=_column_of(spec.get("kwargs", {})),
        severity=spec["meta"]["severity"],
        notes=spec["meta"]["notes"],
        success=bool(item["success"]),
        unexpected_count=int(result.get("unexpected_count") or 0),
        offending=_offending(result.get("unexpected_index_list") or [], keys),
        expectation_id=spec["id"],
    )


def _column_of(kwargs: Mapping[str, Any]) -> str | None:
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
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_missing(value):
        return NULL_KEY
    return str(value)


def _plain(value: Any) -> Any:
    """Convert GX/pandas/numpy values into plain JSON (NaN, NA, NaT -> None; keys sorted)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return _plain_datetime(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        return _plain(item())
    if _is_missing(value):
        return None
    return str(value)


def _plain_datetime(value: date) -> str | None:
    """Render a date or datetime (pandas Timestamp included) as ISO 8601; NaT becomes None."""
    if _is_missing(value):
        return None
    return value.isoformat()


def _is_missing(value: Any) -> bool:
    """Whether a scalar is pandas' NA or NaT (only checked once pandas is loaded)."""
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return False
    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# Report


def report_document(results: Sequence[SuiteResult]) -> dict:
    """Build the JSON report: our summary per suite and GX's results.

    Args:
        results: The suite results of one run, in the order they ran.

    Returns:
        A plain JSON document: ``passed`` (no blocking failure anywhere), counts, and per suite
        its outcomes and GX's result.
    """
    suites = [
        {
            "suite": result.suite,
            "passed": not result.blocking_failures,
            "blocking_failures": len(result.blocking_failures),
            "warnings": len(result.warnings),
            "outcomes": [_outcome_document(outcome) for outcome in result.outcomes],
            "gx_result": _plain(result.gx_result),
        }
        for result in results
    ]
    return {
        "report": "outage-credits data quality",
        "passed": all(suite["passed"] for suite in suites),
        "blocking_failures": sum(suite["blocking_failures"] for suite in suites),
        "warnings": sum(suite["warnings"] for suite in suites),
        "suites": suites,
    }


def _outcome_document(outcome: ExpectationOutcome) -> dict:
    """One outcome as JSON, in the dataclass's field order."""
    document = asdict(outcome)
    document["offending"] = list(outcome.offending)
    return document


def write_report(
    results: Sequence[SuiteResult], out_dir: Path, *, incident_id: str, run_id: str
) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``validation.html`` into ``out_dir``, atomically.

    Both are deterministic for the same results: the JSON has our summary keys in a fixed
    order and GX's results with sorted keys; neither carries a timestamp. Each file is written
    to a temp file in ``out_dir``, fsynced and moved into place with ``os.replace``.

    Args:
        results: The suite results of one run, in the order they ran.
        out_dir: The folder to write into; created if missing.
        incident_id: The incident, named in the HTML page's title and heading.
        run_id: The run, named in the HTML page's title and heading.

    Returns:
        The paths of the JSON and the HTML report.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = report_document(results)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    json_path = _write_atomic(out_dir / "validation.json", text + "\n")
    html = render_html(results, incident_id=incident_id, run_id=run_id)
    html_path = _write_atomic(out_dir / "validation.html", html)
    return json_path, html_path


def _write_atomic(path: Path, text: str) -> Path:
    """Write text to path through a fsynced temp file in the same folder and os.replace."""
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        os.chmod(temp_name, 0o644)  # mkstemp creates 0600; a report is meant to be read
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entry table so a rename survives a crash (best effort off POSIX)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def render_html(results: Sequence[SuiteResult], *, incident_id: str, run_id: str) -> str:
    """Render the HTML report (the ``validation.html`` template): self-contained, no external
    assets, every value escaped.

    Args:
        results: The suite results of one run, in the order they ran.
        incident_id: The incident the run is of.
        run_id: The run.

    Returns:
        The HTML document.
    """
    return pages.render(
        "validation.html",
        document=report_document(results),
        max_offending=MAX_OFFENDING,
        incident_id=incident_id,
        run_id=run_id,
    )
