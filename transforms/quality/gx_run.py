"""Great Expectations execution: one suite document over one pandas frame, and GX's result made
plain, deterministic JSON.

Great Expectations is imported lazily inside functions (importing it costs seconds), runs in
a new ephemeral context per frame (it writes no files, and frees what it cached) with its
progress bars off, and validates pandas frames only. A suite whose expectations GX cannot all
load is refused: GX 1.x drops an expectation it does not know (for example a custom one not
imported yet) with a log line only.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from transforms.quality.suites import SuiteError

if TYPE_CHECKING:  # typing only: GX, pandas and Arrow load when a frame is validated
    import pandas as pd
    import pyarrow as pa

_DATASOURCE = "outage_credits_quality"
_ASSET = "frame"
_BATCH_DEFINITION = "whole_frame"


class Detail(Enum):
    """How much GX reports of each expectation: its `result_format`."""

    ROWS = "COMPLETE"
    """Every breaking row, named by the key columns: the rows path names them from it."""
    COUNTS = "BASIC"
    """Counts and up to 20 breaking values: the profile path names the rows itself (DuckDB), and
    a profile's row indexes (`lowest`, `highest`) name no row. GX computes less (0.14-0.2 CPU
    s fewer a gate check: `bench/README.md`)."""


def preload() -> None:
    """Imports Great Expectations (and pandas with it): seconds of imports that a caller may
    run in a background thread while it waits for something else (Prefect's start-up)."""
    import great_expectations  # noqa: F401
    from great_expectations.expectations import registry  # noqa: F401


def run_suite(
    document: dict,
    frame: pd.DataFrame,
    keys: list[str],
    expectation_parameters: dict,
    detail: Detail = Detail.ROWS,
) -> dict:
    """GX's result (as JSON) of the document's expectations over one frame, in `detail`."""
    gx_suite = build_gx_suite(document)
    batch = batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result_format: dict[str, Any] = {"result_format": detail.value}
    if detail is Detail.ROWS:
        result_format["unexpected_index_column_names"] = keys
    raw = batch.validate(
        gx_suite, result_format=result_format, expectation_parameters=expectation_parameters
    )
    return raw.to_json_dict()


def build_gx_suite(document: dict) -> Any:
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


def batch_definition() -> Any:
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


def clean_gx_result(result: dict, document: dict) -> dict:
    """Make GX's result plain, deterministic JSON, its results in the suite's order.

    Raises:
        SuiteError: A result is missing or duplicated, or GX raised while evaluating one.
    """
    result = plain(result)
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
        message = exception_message(item.get("exception_info"))
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


def exception_message(info: Any) -> str | None:
    """Return GX's exception message from an ``exception_info``, or None if nothing raised.

    GX 1.x reports a flat ``{"raised_exception": ..}`` when all went well, and a mapping from
    metric ids to such dicts when a metric raised.
    """
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        raised = info.get("raised_exception")
        return str(info.get("exception_message") or "exception") if raised else None
    messages = [exception_message(value) for value in info.values()]
    found = sorted({m for m in messages if m is not None})
    return "; ".join(found) if found else None


def is_arrow(frame: Any) -> bool:
    import pyarrow as pa

    return isinstance(frame, pa.Table)


def pandas_frame(frame: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """A frame for GX: an Arrow table converted with exact integers (nullable Int64)."""
    if not is_arrow(frame):
        return frame
    import pandas as pd
    import pyarrow as pa

    integers = {kind: pd.Int64Dtype() for kind in (pa.int8(), pa.int16(), pa.int32(), pa.int64())}
    return frame.to_pandas(types_mapper=integers.get)


def plain(value: Any) -> Any:
    """Convert GX/pandas/numpy values into plain JSON (NaN, NA, NaT -> None; keys sorted)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
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
        return plain(item())
    if is_missing(value):
        return None
    return str(value)


def _plain_datetime(value: date) -> str | None:
    """Render a date or datetime (pandas Timestamp included) as ISO 8601; NaT becomes None."""
    if is_missing(value):
        return None
    return value.isoformat()


def is_missing(value: Any) -> bool:
    """Whether a scalar is pandas' NA or NaT (only checked once pandas is loaded)."""
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return False
    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):
        return False
