"""Every suite pattern's RE2 form (`quality/regex.py`) matches in DuckDB exactly the strings
Python's `re` (GX's pandas path) matches: checked on every code point."""

from __future__ import annotations

import re
import sys

import pyarrow as pa
import pytest

from transforms import db
from transforms.quality import regex, suites

SUITES = ("stg_failures", "transactions", "customers", "evidence", "credits", "credit_totals")


def _strings() -> list[str]:
    """Every code point alone, and around or after 16 hex digits, and with newlines."""
    points = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    hexes = "0123456789abcdef"
    tails = ["", "\n", "\n\n", "\r\n", " ", "x"]
    return [
        *points,
        *(" " + p + " " for p in points[:0x3100]),  # whitespace around the interesting ones
        *(hexes + tail for tail in tails),
        *(hexes[:15] + p for p in points[:0x3100]),
        *(p + hexes for p in points[:0x3100]),
        "",
        hexes.upper(),
        hexes + hexes,
    ]


@pytest.mark.parametrize("pattern", sorted(regex.RE2_OF_PYTHON))
def test_the_re2_form_matches_as_python_does_on_every_code_point(pattern):
    strings = _strings()
    con = db.connect()
    rows = pa.table({"value": strings})  # noqa: F841 (read by name below)
    found = con.sql(  # each string beside its answer: a connection may return rows in any order
        "select value, regexp_matches(value, $pattern) from rows",
        params={"pattern": regex.re2(pattern)},
    ).fetchall()
    python = re.compile(pattern)
    assert len(found) == len(strings)
    differ = [value for value, matched in found if matched != bool(python.search(value))]
    assert differ == []


def test_every_pattern_of_the_suites_has_an_re2_form():
    patterns = {
        spec["kwargs"]["regex"]
        for suite in SUITES
        for spec in suites.load_suite_document(suite)["expectations"]
        if "regex" in spec["kwargs"]
    }
    assert patterns and patterns <= set(regex.RE2_OF_PYTHON)


def test_a_pattern_without_an_re2_form_has_none():
    assert regex.re2(r"\d+") is None
