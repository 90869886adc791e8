"""`make bench` case `support-page`: how long each page of `credits serve-support` takes to answer
on the sample incident (scale 1), run and approved into its own warehouse under `bench/work/`
(kept between runs). Each page is asked once to warm up, then `REPEATS` times through Starlette's
test client in this process (the page's own work: a read-only connection, the queries, the
template; no network). The target is under 200 ms each.

    python -m bench.run --support-page-only
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

INCIDENT = "INC-2025-01-07"
REPEATS = 20
TARGET_MS = 200


def warehouse(work: Path) -> Path:
    """The sample, run and approved once into `work/support-page/warehouse.duckdb`."""
    folder = work / "support-page"
    path = folder / "warehouse.duckdb"
    if path.exists():
        return path
    credits = [sys.executable, "-m", "flows.cli"]
    subprocess.run([*credits, "sample", "--out", str(folder / "sample")], check=True)
    subprocess.run(
        [*credits, "run", str(folder / "sample" / f"{INCIDENT}.toml")]
        + ["--output-dir", str(folder / "out"), "--warehouse", str(path)],
        check=True,
    )
    from transforms.serving import support

    with support.connect(path) as con:
        run_id = support.answering_run(con, INCIDENT).run_id
    subprocess.run(
        [*credits, "approve", run_id, "--by", "bench", "--warehouse", str(path)]
        + ["--outbox", str(folder / "outbox")],
        check=True,
    )
    return path


def pages(path: Path) -> dict[str, str]:
    """One address per kind of page, for a customer of the sample with the most failures."""
    from transforms.serving import support

    with support.connect(path) as con:
        rows = support.customers(con, INCIDENT).rows
        busiest = max(rows, key=lambda r: (r["failed_txn_count"], r["customer_id"]))
        story = support.lookup(con, busiest["customer_id"]).incidents[0]
    return {
        "home": "/",
        "search by id": f"/?q={busiest['customer_id']}",
        "search by e-mail": f"/?q={busiest['email'].upper()}",
        "search by payment": f"/?q={story.transactions[0]['txn_id']}",
        "customer": f"/customers/{busiest['customer_id']}",
        "not found": "/?q=CUS_NOPE",
        "incident, all customers": f"/incidents/{INCIDENT}",
        "incident, by_hand": f"/incidents/{INCIDENT}?status=by_hand",
        "incident CSV, all customers": f"/incidents/{INCIDENT}.csv",
    }


def measure(work: Path) -> dict:
    """Each page's median and slowest answer in ms over `REPEATS`; prints them."""
    from starlette.testclient import TestClient

    from flows.support_page import app

    path = warehouse(work)
    client = TestClient(app.create(path))
    found = {}
    for name, url in pages(path).items():
        client.get(url)  # warm: imports, templates, the page cache
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 404), (url, response.status_code)
        found[name] = {
            "url": url,
            "bytes": len(response.content),
            "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            f"under {TARGET_MS} ms": max(times) < TARGET_MS,
        }
        print(
            f"support page {name:<28} median {found[name]['median_ms']:7.1f} ms  "
            f"max {found[name]['max_ms']:7.1f} ms  {found[name]['bytes']:>9,} bytes",
            flush=True,
        )
    return {"repeats": REPEATS, "pages": found}
