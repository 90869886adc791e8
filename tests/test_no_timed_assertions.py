"""No test measures how long something took: speed belongs in `make bench`, where a busy
machine makes a number slower, not a test red. Waiting loops with a deadline are fine
(`deadline = time.monotonic() + 60`, then `time.monotonic() < deadline`): they only bound a
wait. A duration is a clock reading minus another, so no test subtracts from a clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLOCKS = {"monotonic", "perf_counter", "time", "process_time", "monotonic_ns", "perf_counter_ns"}
TESTS = Path(__file__).parent


def durations(source: str) -> list[int]:
    """Line numbers of `clock() - x` or `x - clock()` in `source`."""

    def is_clock(node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        name = name or (node.func.id if isinstance(node.func, ast.Name) else None)
        return name in CLOCKS

    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Sub)
        and (is_clock(node.left) or is_clock(node.right))
    ]


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("started = time.monotonic()\nassert time.monotonic() - started < 2", [2]),  # a duration
        ("from time import perf_counter\nx = perf_counter() - t0", [2]),  # any clock
        ("deadline = time.monotonic() + 5\nassert time.monotonic() < deadline", []),  # a wait
        ("left = deadline - now", []),  # plain names are not clocks
    ],
)
def test_a_duration_is_found(source, found):
    assert durations(source) == found


def test_no_test_measures_a_duration():
    found = {
        str(path.relative_to(TESTS)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        and (lines := durations(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "timed assertions belong in `make bench`"
