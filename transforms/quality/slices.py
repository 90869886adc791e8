"""Merging of slices: a long frame validated a slice at a time, each expectation's results over
the slices summed into the result one pass over the whole frame would give.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from transforms.quality.gx_run import exception_message, is_arrow, pandas_frame, run_suite
from transforms.quality.suites import read_columns

if TYPE_CHECKING:  # typing only: GX, pandas and Arrow load when a frame is validated
    import pandas as pd
    import pyarrow as pa

WHOLE_COLUMN = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)
"""Expectations that compare rows with each other: run over whole (narrow) columns, never slices.
Every other expectation the suites use checks each row on its own."""
PARTIAL_UNEXPECTED = 20
"""How many values GX keeps in a result's partial lists (its default)."""


def run_in_chunks(
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
        columns = list(dict.fromkeys(keys + [c for s in whole for c in read_columns(s["kwargs"])]))
        narrow = pandas_frame(frame.select(columns) if is_arrow(frame) else frame[columns])
        only_whole = {**document, "expectations": whole}
        first = run_suite(only_whole, narrow, keys, expectation_parameters)
        del narrow
        for item in first["results"]:
            results.setdefault(item["expectation_config"]["id"], []).append(item)
    if by_row:
        for start in range(0, len(frame), chunk_rows):
            piece = (
                frame.slice(start, chunk_rows)
                if is_arrow(frame)
                else frame.iloc[start : start + chunk_rows]
            )
            done = run_suite(
                {**document, "expectations": by_row},
                pandas_frame(piece),
                keys,
                expectation_parameters,
            )
            first = first or done
            for item in done["results"]:
                results.setdefault(item["expectation_config"]["id"], []).append(item)
    merged = [merge_results(results[spec["id"]]) for spec in document["expectations"]]
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


def sliceable(document: dict) -> bool:
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


def merge_results(items: list[dict]) -> dict:
    """One expectation's result over every slice: counts summed, lists joined, percentages
    recomputed; it succeeds only if it succeeded on every slice (no suite uses `mostly`)."""
    if len(items) == 1:
        return items[0]
    failed = [item for item in items if exception_message(item.get("exception_info"))]
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
