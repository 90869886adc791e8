"""The CPU of small flow runs as the finance desk's tests make them: the desk's three-line
incident run twice into each new DuckDB warehouse, under the tests' Prefect harness (one test
server, its services off), GX's answers remembered as in the tests (`--real-gx`: asked each
time). Prints the CPU seconds of this process (`time.process_time()`; the test server is a
process of its own) a run, after two warm runs.

    .venv/bin/python -m bench.desk_cpu [--warehouses 6] [--real-gx]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import flows  # noqa: F401 (configures Prefect offline, before it is imported)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouses", type=int, default=6, help="two runs into each")
    parser.add_argument("--real-gx", action="store_true", help="GX asked every time")
    args = parser.parse_args()
    from tests import conftest, gx_answers
    from tests.builders import write_incident
    from tests.flows.desk import LINES, TABLE
    from transforms.quality import gx_run, slices

    base = Path(tempfile.mkdtemp(prefix="desk-cpu-"))
    if not args.real_gx:
        (base / "gx").mkdir()
        gx_run.run_suite = slices.run_suite = gx_answers.remembered(gx_run.run_suite, base / "gx")
    harness = conftest.prefect_harness.__wrapped__()
    next(harness)
    from flows.credit_reconciliation import credit_reconciliation

    def twice(name: str) -> None:
        root = base / name
        path = write_incident(root / "inc", lines=LINES, transactions=TABLE)
        for _ in range(2):
            credit_reconciliation(str(path), str(root / "out"), str(root / "wh.duckdb"))

    for warm in range(2):
        twice(f"warm-{warm}")
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(args.warehouses):
        twice(f"run-{n}")
    runs = 2 * args.warehouses
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{runs} runs: {cpu / runs:.3f} CPU s a run ({cpu:.2f} CPU s, {wall:.1f} s wall)")
    next(harness, None)


if __name__ == "__main__":
    main()
