"""The CPU of a PostgreSQL store's mirror: a reader (support's, `audit`'s) and a writer that
sends two journal entries, on support's small warehouse (`tests/support_warehouse.py`) in a
database made for the bench on the tests' server (`CREDITS_TEST_PG_DSN`) and dropped after.
Prints the CPU (`time.process_time()`: the server's own is not counted) and wall time of each,
averaged after three warm ones.

    .venv/bin/python -m bench.pg_mirror [--times 30]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=30, help="of each, after three warm ones")
    args = parser.parse_args()
    from tests import stores
    from tests.support_warehouse import build
    from transforms import db
    from transforms.finance import journal, pg_store, warehouse

    with stores.database(stores.server()) as url:
        build(url)

        def read() -> None:
            pg_store.reader(url).close()

        def write() -> None:
            with warehouse.writer(url) as con:
                for _ in range(2):
                    with db.transaction(con):
                        journal.append(con, "bench", actor="bench", key=None)

        for name, step in (("reader", read), ("writer", write)):
            cpu, wall = _timed(step, args.times)
            print(f"{name}: {cpu * 1000:.1f} ms of CPU, {wall * 1000:.1f} ms of wall time")


def _timed(step: Callable[[], None], times: int) -> tuple[float, float]:
    for _ in range(3):
        step()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(times):
        step()
    return (time.process_time() - cpu) / times, (time.perf_counter() - wall) / times


if __name__ == "__main__":
    main()
