"""Suite loading: `expectations/<suite>.json`, checked for the conventions GX does not enforce.

Suites are data. Each lives in ``expectations/<suite>.json`` in GX's own suite format (what
``ExpectationSuite.to_json_dict()`` produces, less the derived ``severity``), is hand-written,
and is the single source of truth. Every expectation there carries an ``id`` (a readable slug,
unique in its suite), ``meta.notes`` (why it exists) and ``meta.severity`` (``blocking`` or
``warning``), the one place its severity is written: GX's own ``severity`` field (``critical``
or ``warning``) is derived from it when the suite loads, and a file that sets it is refused.
Values that depend on the run (window bounds, policy lists, the ISO currency list) are GX suite
parameters, ``{"$PARAMETER": "name"}`` in the JSON, supplied to `validation.validate` at run time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from transforms.quality import regex

SUITE_DIR = Path(__file__).resolve().parents[2] / "expectations"
"""Where the suites live: ``expectations/<suite>.json`` at the repository root."""
SEVERITIES = ("blocking", "warning")
"""The values ``meta.severity`` may take."""
_GX_SEVERITY = {"blocking": "critical", "warning": "warning"}
"""Our severity -> GX 1.x's own expectation ``severity`` field, set when a suite loads (GX would
otherwise take every expectation as ``critical``)."""


class SuiteError(RuntimeError):
    """A suite cannot be used as written, or GX could not evaluate one of its expectations.

    This is a bug in the suite, the caller or the frame's shape (a missing column, a missing
    parameter), never a data-quality verdict, so it is deliberately not a ``CreditsError``.
    """


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


def expectation_kwargs(suite: str, expectation_id: str) -> dict[str, Any]:
    """The arguments of the suite's expectation `expectation_id`, its one statement of them."""
    document = load_suite_document(suite)
    (found,) = [e for e in document["expectations"] if e.get("id") == expectation_id]
    return found["kwargs"]


def regex_re2(suite: str, expectation_id: str) -> str | None:
    """The RE2 form (`regex.re2`) of the pattern of the suite's regex expectation
    `expectation_id`, for DuckDB to find the rows it refuses."""
    return regex.re2(expectation_kwargs(suite, expectation_id)["regex"])


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


def expectation_parameters(document: dict, parameters: Mapping[str, Any]) -> dict[str, Any]:
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


def columns(suite: str, key: str | list[str]) -> list[str]:
    """The columns a suite reads (its key first): a frame for it needs no others."""
    keys = [key] if isinstance(key, str) else list(key)
    found = [
        c
        for spec in load_suite_document(suite)["expectations"]
        for c in read_columns(spec["kwargs"])
    ]
    return list(dict.fromkeys(keys + found))


def read_columns(kwargs: Mapping[str, Any]) -> list[str]:
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
