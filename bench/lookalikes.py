"""`python -m bench.lookalikes [--rows 5000000]`: the gate's id checks on many ASCII ids.

A work database with a transaction table of `--rows` ASCII ids (`txn_p000000001`, as the
sample's) and 50,000 candidates, one of them beyond ASCII (a fullwidth `１` for the table's last
`1`; with `--unlike`, an id with an `é` that looks like no other), staged once; then each
measurement is a fresh process timing `id_checks.candidate_id_problems` (wall and CPU seconds,
every thread's) and its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CANDIDATES = 50_000


def staged(work: Path, rows: int, alike: bool) -> Path:
    """The work database with the two tables the checks read, made once."""
    out = work / f"lookalikes-{rows}-{'alike' if alike else 'unlike'}.duckdb"
    if out.exists():
        return out
    from transforms import db

    beyond = "txn_p00000000\uff11" if alike else "txn_p0000000\u00e91"
    with db.connect(out) as con:
        con.execute(
            "create table stg_transactions as select printf('txn_p%09d', i) as txn_id, "
            "printf('c%d', i % 100000) as customer_id from range(1, $rows + 1) as t(i)",
            {"rows": rows},
        )
        con.execute(
            "create table int_candidates_classified as select txn_id, customer_id "
            "from stg_transactions using sample reservoir(49999 rows) repeatable (7) "
            "union all select $beyond, 'c1'",
            {"beyond": beyond},
        )
    return out


def measure(path: Path) -> dict:
    """`candidate_id_problems` once, in this process."""
    from transforms import db
    from transforms.quality import id_checks

    with db.connect(path) as con:
        con.execute("select count(*) from stg_transactions").fetchall()  # warm the file
        cpu_before = time.process_time()
        started = time.perf_counter()
        problems = id_checks.candidate_id_problems(con)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "problems": [p[:60] for p in problems],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--unlike", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("bench/work"))
    parser.add_argument("--measure", type=Path)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    path = staged(args.work, args.rows, not args.unlike)
    for _ in range(args.repeat):
        found = subprocess.run(
            [sys.executable, "-m", "bench.lookalikes", "--measure", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        print(found.stdout.strip())


if __name__ == "__main__":
    main()
