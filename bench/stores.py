"""`make bench-stores`: the warehouse's two heavy writes on each store, side by side: a DuckDB
file, and a PostgreSQL database on the local server (`--pg`, an administrator's URL: the bench
makes a database of its own per case and drops it after).

* `seal`     a run sealed into a warehouse that holds nothing yet, then a second one into the
             warehouse holding the first (`sealing.seal`: the load of its ~100,000 evidence lines
             and its other tables, the manifest, the verdict; a PostgreSQL writer first mirrors
             what the store holds). The run is the sample (scale 1) reconciled over the whole day
             without Prefect, its work tables (evidence, credits, exceptions, customers,
             transactions) replicated with suffixed ids to `--evidence-lines`: built once under
             `bench/work/stores/`, copied for each seal.
* `approve`  finance's approval of a run of `--credit-lines` credit lines (an initial batch of
             every line), then of a second run raising every line (a supplemental batch, after
             the proof of the first batch's ledger entries): the runs of `bench.run`'s approve,
             loaded in a process of their own first.

Each case runs in a fresh process, which times only the writes (wall and CPU seconds of the
process, DuckDB's threads included; the PostgreSQL server's own work is in the wall time
only) and reports its peak RSS (imports included). Results: a table on stdout and
`bench/results/<UTC time>-stores.json`.

    python -m bench.stores [--pg postgresql://postgres@127.0.0.1:5432/postgres]
        [--evidence-lines 100000] [--credit-lines 100000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.run import ROOT, WORK, machine, saved, synthetic_run

HERE = WORK / "stores"
PG_VARIABLE = "CREDITS_BENCH_PG_DSN"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
STORES = ("duckdb", "postgresql")
WHOLE_DAY = ('window_start = "2025-01-07T00:00:00Z"', 'window_end = "2025-01-08T00:00:00Z"')
# The work tables a seal loads from, and the ids a replica suffixes (its first copy keeps them).
REPLICATED = ("evidence", "credits", "exceptions", "stg_customers", "stg_transactions")
IDS = ("txn_id", "customer_id", "credit_id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get(PG_VARIABLE, DEFAULT_PG))
    parser.add_argument("--evidence-lines", type=int, default=100_000)
    parser.add_argument("--credit-lines", type=int, default=100_000)
    parser.add_argument("child", nargs="*", help=argparse.SUPPRESS)  # WHAT LOCATION FOLDER
    args = parser.parse_args()
    if args.child:
        what, location, folder = args.child
        print(json.dumps(CHILDREN[what](location, Path(folder))))
        return
    started = time.perf_counter()
    prepared = prepared_run(args.evidence_lines)
    rows = []
    for what in ("seal", "approve"):
        for store in STORES:
            rows.append({"what": what, "store": store, **case(what, store, args, prepared)})
            print(_line(rows[-1]), flush=True)
    report = machine() | {
        "load_average_before": os.getloadavg(),
        "code_version": _code_version(),
        "server": _server_version(args.pg),
        "rows": rows,
        "total_s": round(time.perf_counter() - started, 1),
    }
    print(table(rows))
    saved(report, "-stores")


def case(what: str, store: str, args: argparse.Namespace, prepared: Path) -> dict:
    """One case on one store, in a folder (and a database) of its own, removed after."""
    folder = HERE / f"{what}-{store}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    location = str(folder / "warehouse.duckdb")
    if store == "postgresql":
        location = _database(args.pg, f"bench_stores_{what}")
    try:
        if what == "seal":
            for name in ("first", "second"):
                shutil.copytree(prepared, folder / name)
        else:
            (folder / "lines").write_text(str(args.credit_lines))
        child(f"{what}-prepare", location, folder)
        return child(what, location, folder)
    finally:
        if store == "postgresql":
            _drop(args.pg, location)
        shutil.rmtree(folder, ignore_errors=True)


def child(what: str, location: str, folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.stores", what, location, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{what}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# The run a seal loads


def prepared_run(evidence_lines: int) -> Path:
    """A reconciled run, not yet sealed, with about `evidence_lines` evidence lines: its folder
    (the work database in `_work/`) and `bench.json` (the run and its manifest), made once."""
    folder = HERE / f"run-{evidence_lines}"
    if (folder / "bench.json").exists():
        return folder
    from transforms import db, sample
    from transforms.ingest import incident, logs, tables
    from transforms.reconcile import credits
    from transforms.runfolder import manifest, runs
    from transforms.runfolder.manifest_model import Validation

    shutil.rmtree(HERE / "sample", ignore_errors=True)
    sample.generate(HERE / "sample", scale=1)
    window = dict(zip(("window_start", "window_end"), WHOLE_DAY, strict=True))
    toml = (HERE / "sample" / "INC-2025-01-07.toml").read_text().splitlines()
    toml = [window.get(line.split(" ")[0], line) for line in toml]
    (HERE / "sample" / "whole-day.toml").write_text("\n".join(toml) + "\n")
    loaded = incident.load(HERE / "sample" / "whole-day.toml")
    shutil.rmtree(HERE / "runs", ignore_errors=True)
    run = runs.start(loaded, HERE / "runs")
    with db.connect(run.work_db, run.spill_dir) as work:
        read = logs.stage(work, loaded, run.work_dir)
        table_files = tables.stage(work, loaded)
        credits.reconcile(work, loaded)
        base = work.table("evidence").count("*").fetchall()[0][0]
        _replicate(work, math.ceil(evidence_lines / base))
        content = manifest.build(
            incident=loaded,
            run=run,
            log_files=read,
            table_files=table_files,
            accounting=manifest.account(work, read),
            totals=manifest.credit_totals(work),
            exceptions={},
            outputs={},
            validation=Validation(blocking=(), warnings=()),
            verdict=runs.RunStatus.PENDING_APPROVAL,
        )
        evidence = work.table("evidence").count("*").fetchall()[0][0]
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(run.folder, folder)
    shutil.rmtree(HERE / "runs")
    plain = {
        "run_id": run.run_id,
        "incident_id": run.incident_id,
        "started_at": run.started_at.isoformat(),
        "evidence_lines": evidence,
        "manifest": content.text(),
    }
    (folder / "bench.json").write_text(json.dumps(plain))
    return folder


def _replicate(work, copies: int) -> None:
    """Each table of `REPLICATED` `copies` times over, the ids of every copy but the first
    suffixed (`~k`): as many distinct transactions, customers and credits."""
    for name in REPLICATED:
        columns = [c for c, *_ in work.execute(f"describe {name}").fetchall()]
        picked = ", ".join(
            f"case when k = 0 then {c} else {c} || '~' || k end as {c}" if c in IDS else c
            for c in columns
        )
        work.execute(
            f"create or replace table {name} as select {picked} from {name}, range($n) as r(k)",
            {"n": copies},
        )


# What each child process does


def _seal_prepare(location: str, folder: Path) -> dict:
    """The warehouse made, empty (its schema, in PostgreSQL its tables)."""
    from transforms.finance import warehouse

    with warehouse.writer(location):
        pass
    return {}


def _seal(location: str, folder: Path) -> dict:
    from transforms.finance import sealing
    from transforms.runfolder.manifest_model import Manifest
    from transforms.runfolder.runs import Run

    found: dict = {}
    for n, name in enumerate(("first", "second"), start=1):
        plain = json.loads((folder / name / "bench.json").read_text())
        run_id = f"{plain['run_id']}-{n}"  # two runs of one incident
        content = Manifest.parse(plain["manifest"]).model_copy(update={"run_id": run_id})
        started_at = datetime.fromisoformat(plain["started_at"])
        run = Run(run_id, plain["incident_id"], folder / name, started_at)
        with _measured(found, name):
            sealing.seal(run, content, location, None)
        found["evidence_lines"] = plain["evidence_lines"]
    return found | _peak()


def _approve_prepare(location: str, folder: Path) -> dict:
    """Two pending runs of one incident (every line at USD 10.00, then 15.00)."""
    from transforms.finance import warehouse

    lines = int((folder / "lines").read_text())
    with warehouse.writer(location) as con:
        for n, amount in ((1, 1000), (2, 1500)):
            synthetic_run(con, folder, f"20250108T00000{n}000000Z-bench000", lines, amount)
    return {}


def _approve(location: str, folder: Path) -> dict:
    from transforms.finance import ledger

    found: dict = {"credit_lines": int((folder / "lines").read_text())}
    for n, name in ((1, "first"), (2, "second")):
        with _measured(found, name):
            decision = ledger.approve(
                location,
                f"20250108T00000{n}000000Z-bench000",
                by="bench",
                note=None,
                outbox=folder / "outbox",
            )
        found[f"{name}_rows"] = decision.rows
    return found | _peak()


CHILDREN = {
    "seal-prepare": _seal_prepare,
    "seal": _seal,
    "approve-prepare": _approve_prepare,
    "approve": _approve,
}


class _measured:
    """Wall and CPU seconds of the block, into `found` as `<name>_s` and `<name>_cpu_s`."""

    def __init__(self, found: dict, name: str):
        self.found, self.name = found, name

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *_) -> None:
        self.found[f"{self.name}_s"] = round(time.perf_counter() - self.wall, 3)
        self.found[f"{self.name}_cpu_s"] = round(time.process_time() - self.cpu, 3)


def _peak() -> dict:
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1])
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"peak_rss_mb": round(max(peak_kb, children_kb) / 1024)}


# PostgreSQL


def _database(admin: str, name: str) -> str:
    """A new database `name` on the server `admin` names (an earlier one dropped): its URL."""
    _admin(admin, f"drop database if exists {name} with (force)", f"create database {name}")
    return urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))


def _drop(admin: str, url: str) -> None:
    _admin(admin, f"drop database if exists {urlsplit(url).path.lstrip('/')} with (force)")


def _admin(admin: str, *statements: str) -> None:
    import adbc_driver_postgresql.dbapi

    with (
        adbc_driver_postgresql.dbapi.connect(admin, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        for statement in statements:
            cursor.execute(statement)


def _server_version(admin: str) -> str:
    import adbc_driver_postgresql.dbapi

    with (
        adbc_driver_postgresql.dbapi.connect(admin, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("select version()")
        return cursor.fetchall()[0][0]


def _code_version() -> str:
    from transforms.runfolder import manifest

    return manifest.code_version()


# Output


def _line(row: dict) -> str:
    return (
        f"{row['what']:>8} {row['store']:>10}: first {row['first_s']:7.2f} s "
        f"({row['first_cpu_s']:.2f} CPU s), second {row['second_s']:7.2f} s "
        f"({row['second_cpu_s']:.2f} CPU s), peak RSS {row['peak_rss_mb']:,} MB"
    )


def table(rows: list[dict]) -> str:
    head = (
        "| what | store | first: wall s / CPU s | second: wall s / CPU s | peak RSS MB |\n"
        "|---|---|---:|---:|---:|"
    )
    body = [
        f"| {r['what']} | {r['store']} | {r['first_s']:.2f} / {r['first_cpu_s']:.2f} "
        f"| {r['second_s']:.2f} / {r['second_cpu_s']:.2f} | {r['peak_rss_mb']:,} |"
        for r in rows
    ]
    return "\n".join([head, *body])


if __name__ == "__main__":
    main()
