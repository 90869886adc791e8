"""`python -m bench.run --gate-only [--lines 1M]`: the quality gate alone, on a staged run.

The sample of `--lines` log lines (whole-day window, as `make bench`) is staged once into
`bench/work/gate-<lines>/work.duckdb` (logs, tables, classes, credits and the credit file, as a
run leaves them before its gate). Each measurement is a fresh process that imports Great
Expectations first (not measured: a run does it while Prefect starts), then times
`gate.check`: wall and CPU seconds (every thread of the process, DuckDB's among them).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def staged(work: Path, folder: Path) -> Path:
    """The run's work database before its gate, staged once from the sample in `folder`."""
    out = work / f"gate-{folder.parent.name}"
    if (out / "done").exists():
        return out
    from transforms import db
    from transforms.ingest import incident, logs, tables
    from transforms.reconcile import credits, outputs

    shutil.rmtree(out, ignore_errors=True)
    (out / "spill").mkdir(parents=True)
    loaded = incident.load(folder / "whole-day.toml")
    with db.connect(out / "work.duckdb", out / "spill") as con:
        logs.stage(con, loaded, out / "extracts")
        tables.stage(con, loaded)
        credits.reconcile(con, loaded)
        outputs.write_csv(
            con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, out / "credits.csv"
        )
    shutil.copy(folder / "whole-day.toml", out / "whole-day.toml")
    (out / "done").write_text("")
    return out


def measure(out: Path) -> dict:
    """One gate over the staged run, in this process: seconds, CPU seconds, rows per dataset."""
    from transforms import db
    from transforms.ingest import incident
    from transforms.quality import gate, gx_run
    from transforms.runfolder import manifest

    gx_run.preload()
    loaded = incident.load(out / "whole-day.toml")
    with db.connect(out / "work.duckdb", out / "spill") as con:
        totals = manifest.credit_totals(con)
        rows = {
            name: con.table(name).shape[0]
            for name in ("int_file_profile", "stg_failures", "evidence", "credits")
        }
        cpu_before = time.process_time()
        started = time.perf_counter()
        verdict = gate.check(con, loaded, out / "credits.csv", totals)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": peak,
        "passed": verdict.passed,
        "outcomes": sum(len(r.outcomes) for r in verdict.results),
        "rows": rows,
    }


def run(work: Path, folder: Path, repeat: int) -> list[dict]:
    """The gate measured `repeat` times, each in a fresh process; prints each measurement."""
    out = staged(work, folder)
    found = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-m", "bench.gate", str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        found.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(found[-1]), flush=True)
    return found


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]))))
