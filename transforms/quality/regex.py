"""The suites' regular expressions in DuckDB's dialect (RE2), matching as GX's row path does.

GX's pandas path searches each value with Python's `re` (`str.contains`), DuckDB with RE2, and
the two differ on the suites' own patterns: Python's ``\\s`` is Unicode whitespace (``\\v``,
``\\x1c``-``\\x1f``, NBSP, ...), RE2's only ``[\\t\\n\\f\\r ]``; Python's ``$`` also matches
before a final newline, RE2's only at the end. So a pattern goes to DuckDB only through this
table, each entry checked against Python on every code point
(`tests/transforms/quality/test_regex.py`); any other pattern is refused.
"""

from __future__ import annotations

PYTHON_WHITESPACE = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}"
)
"""The code points Python's ``\\s`` matches in a str pattern, as the inside of an RE2 class."""

RE2_OF_PYTHON: dict[str, str] = {
    r"\S": f"[^{PYTHON_WHITESPACE}]",
    r"^[0-9a-f]{16}$": r"^[0-9a-f]{16}\n?$",
}
"""Each Python pattern of the suites -> the RE2 pattern that matches exactly the same strings."""


def re2(pattern: str) -> str | None:
    """The RE2 form of a suite's Python pattern, or None if it has none (refuse it)."""
    return RE2_OF_PYTHON.get(pattern)
