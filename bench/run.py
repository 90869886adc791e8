"""`make bench`: the pipeline against DuckDB's raw scan and a naive pandas reading of the same logs.

For each size (1 M, 10 M, 40 M log lines by default) the sample generator writes a day of logs
(gzip JSON lines, then a plain copy) and a transaction table of at least 5 M rows under
`bench/work/` (kept between runs). On each copy, in this order and each in its own process, so
that wall time and peak RSS are its own:

* `scan`     DuckDB's raw scan: `select count(*) from read_json(...)` over the same files;
* `extract`  the log extraction (plan, map on threads, reduce into a work database), no Prefect;
* `run`      `credits run` end to end (ephemeral Prefect server, quality gate, outputs);
* `pandas`   a naive pandas reading of the same rules (whole log in a DataFrame), at 1 M only;
* `startup`  an empty flow run: the cost of starting Prefect's ephemeral server;
* `fixed`    `credits run` on a one-line incident (one log line, one transaction, one customer):
             the whole fixed cost of a run (Prefect, imports, Great Expectations, warehouse),
             which the end-to-end target leaves out; measured with Prefect's temporary server,
             then against a long-lived one (`credits serve-prefect`'s, found by the run).

At 10 M lines (`whatif`), `credits what-if`'s work (`whatif.compare`) with the incident's policy
alone and with five policies, in two mixes (`whatif_cases`).

`approve` measures finance's approval at 100,000 credit lines (`--credit-lines`), last, or
alone with `--approve-only`: two synthetic runs are loaded straight into a fresh warehouse, each
with its run folder (`credits.csv`, `manifest.json`), and `ledger.approve` is timed on the first
(an initial batch of every line) and then on the second (every credit raised: a supplemental
batch of increases, after the proof of the first batch's entries against its trailer).

Each copy's files are read once first, so every measurement finds them in the page cache.
The incident used has a whole-day window, so no file is pruned and every measurement reads the
same files; `run-pruned` is the real incident window (5 of 24 hours read) for reference.
Each measurement reports wall and CPU seconds (the process and its children); `--repeat N`
measures each case N times and keeps the medians (a shared machine: compare ratios of cases
measured side by side). Results: a table on stdout and `bench/results/<UTC time>.json` with
the machine and versions; the history is in `bench/README.md`.

    python -m bench.run [--lines 1M 10M 40M] [--pandas-up-to 1M] [--plain-up-to 10M] [--repeat 3]
        [--no-approve]
    python -m bench.run --approve-only [--credit-lines 100000]
    python -m bench.run --support-page-only    (each support page's answer time, on the sample)
    python -m bench.run --dask-only [--lines 40M] [--repeat N]
        (`credits run` on threads and on a Dask cluster of a scheduler and two single-threaded
        worker processes on this machine, alternated: the cluster's CPU and memory per process)
    python -m bench.run --whatif-only [--lines 10M] [--repeat N]
        (`credits what-if`'s work, `whatif.compare`, with the incident's policy alone and with
        five policies, on the whole-day incident: each in its own process, imports included)
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import gate, support_page

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"
LINES_PER_SCALE = 152_000  # the sample writes about this many lines per unit of scale
TRANSACTIONS = 5_000_000
WHOLE_DAY = ('window_start = "2025-01-07T00:00:00Z"', 'window_end = "2025-01-08T00:00:00Z"')
# The log funnel's counts a manifest records (a synthetic run read no log).
FUNNEL = ("lines_read", "parsed", "relevant", "irrelevant", "duplicates", "quarantined")
PACKAGES = ("duckdb", "pyarrow", "numpy", "pandas", "prefect", "prefect-dask", "dask")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", nargs="+", default=["1M", "10M", "40M"])
    parser.add_argument("--pandas-up-to", default="1M")
    parser.add_argument(
        "--plain-up-to", default=None, help="plain copies only up to this size (default: all)"
    )
    parser.add_argument("--approve-only", action="store_true", help="measure approval only")
    parser.add_argument("--credit-lines", type=int, default=100_000)
    parser.add_argument("--support-page-only", action="store_true", help="the support page only")
    parser.add_argument("--gate-only", action="store_true", help="the quality gate only")
    parser.add_argument("--whatif-only", action="store_true", help="what-if, 1 and 5 policies")
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure each case N times, keep the medians"
    )
    parser.add_argument("--no-approve", action="store_true", help="leave approval out")
    parser.add_argument(
        "--envelopes-only",
        action="store_true",
        help="extraction of the first size's lines wrapped as CRI and Docker against plain",
    )
    parser.add_argument(
        "--dask-only",
        action="store_true",
        help="the first size's run on threads and on a local Dask cluster, alternated",
    )
    parser.add_argument("what", nargs="*", help=argparse.SUPPRESS)  # a child: WHAT FOLDER
    args = parser.parse_args()
    if args.what:
        print(json.dumps(measure(args.what[0], Path(args.what[1]))))
        return
    if args.approve_only:
        approval_only(args.credit_lines)
        return
    if args.support_page_only:
        support_page_only()
        return
    if args.gate_only:
        gate_only(args.lines[0], max(1, args.repeat))
        return
    if args.whatif_only:
        whatif_only(args.lines[0], max(1, args.repeat))
        return
    if args.envelopes_only:
        envelopes_only(args.lines[0], max(1, args.repeat))
        return
    if args.dask_only:
        dask_only(args.lines[0], max(1, args.repeat))
        return
    rows = []
    repeat = max(1, args.repeat)
    startup = median_of([child("startup", WORK) for _ in range(repeat)])
    small = tiny(dataset(_count(args.lines[0]), "gzip"))
    fixed = median_of([child("fixed", small) for _ in range(repeat)])
    startup |= {"fixed_run_s": fixed["wall_s"], "fixed_run_cpu_s": fixed["cpu_s"]}
    served = served_fixed(small, repeat)
    startup |= {"served_run_s": served["wall_s"], "served_run_cpu_s": served["cpu_s"]}
    for size in args.lines:
        lines = _count(size)
        plain = args.plain_up_to is None or lines <= _count(args.plain_up_to)
        for copy in ("gzip", "plain") if plain else ("gzip",):
            folder = dataset(lines, copy)
            _warm(folder)
            for what in ("scan", "extract", "run", "run-pruned"):
                if what == "run-pruned" and copy == "plain":
                    continue
                found = median_of([child(what, folder) for _ in range(repeat)])
                rows.append({"size": size, "copy": copy, "what": what, **found})
                _show(rows[-1])
            if lines <= _count(args.pandas_up_to) and copy == "gzip":
                found = median_of([child("pandas", folder) for _ in range(repeat)])
                rows.append({"size": size, "copy": copy, "what": "pandas", **found})
                _show(rows[-1])
    report = machine() | {
        "startup": startup,
        "rows": rows,
        "approval": None if args.no_approve else approval(args.credit_lines),
        "support_page": support_page.measure(WORK),
        # `credits what-if`: five policies against one, at 10 M lines when that size is measured
        "whatif": whatif_cases("10M", repeat) if "10M" in args.lines else None,
        "targets": targets(rows, startup),
    }
    print(table(rows, startup))
    print(json.dumps(report["targets"], indent=2))
    saved(report)


def approval(credit_lines: int) -> dict:
    """The approval step, in its own process, on a fresh warehouse; prints and returns it."""
    folder = WORK / f"approve-{credit_lines}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "lines").write_text(str(credit_lines))
    row = {"what": "approve", "credit_lines": credit_lines, **child("approve", folder)}
    shutil.rmtree(folder)
    print(
        f"approve {credit_lines:,} credit lines: initial batch {row['initial_s']:.2f} s, "
        f"supplemental batch {row['supplemental_s']:.2f} s, peak RSS {row['peak_rss_mb']:,} MB",
        flush=True,
    )
    return row


def approval_only(credit_lines: int) -> None:
    """`--approve-only`: results in `bench/results/<UTC time>-approve.json`."""
    rows = [approval(credit_lines)]
    saved(machine() | {"code_version": _code_version(), "rows": rows}, "-approve")


def support_page_only() -> None:
    """`--support-page-only`: results in `bench/results/<UTC time>-support-page.json`."""
    report = machine() | {
        "code_version": _code_version(),
        "load_average_before": os.getloadavg(),  # other work on the machine slows every page
        "support_page": support_page.measure(WORK),
    }
    saved(report, "-support-page")


def gate_only(size: str, repeat: int) -> None:
    """The quality gate alone on the staged sample of `size` lines (`bench/gate.py`)."""
    found = gate.run(WORK, dataset(_count(size), "gzip"), repeat)
    report = {"size": size, "code": _code_version(), **median_of(found), "all": found}
    saved(report, f"-gate-{size}")


def whatif_only(size: str, repeat: int) -> None:
    """`whatif_cases` alone, kept in `results/<time>-whatif.json`."""
    saved(whatif_cases(size, repeat), "-whatif")


def whatif_cases(size: str, repeat: int) -> dict:
    """`whatif.compare` with one policy, then five (two mixes), on the whole-day incident of
    `size` lines; prints each and its ratio to one policy (target <= 1.3)."""
    folder = dataset(_count(size), "gzip")
    _warm(folder)
    rows = []
    for what in ("whatif-1", "whatif-5", "whatif-5-pricing"):
        found = median_of([child(what, folder) for _ in range(repeat)])
        rows.append({"size": size, "copy": "gzip", "what": what, **found})
        print(
            f"{size:>4} {what}: {found['wall_s']:8.2f} s {found['cpu_s']:8.2f} CPU s "
            f"{found['peak_rss_mb']:6,} MB  credit lines {found['credit_lines']}",
            flush=True,
        )
    ratios = {}
    for row in rows[1:]:
        ratios[row["what"]] = {k: round(row[k] / rows[0][k], 2) for k in ("wall_s", "cpu_s")}
        print(f"{row['what']} / whatif-1: {ratios[row['what']]} (target <= 1.3)")
    return {"rows": rows, "over_one": ratios}


# Four policies beside the sample incident's own (flat per customer), for `whatif-5`: a share
# with floor and cap, flat per payment without recovered ones, a smaller flat amount, and other
# outage codes (the last two change the classes: the candidates are classed again for each).
# `whatif-5-pricing` has four that change the pricing only (basis, amounts, floor, cap,
# segments): one classing for all five.
WHATIF_POLICIES = {
    "whatif-5": (
        'basis = "percent_of_failed_amount"\npercent = 10\n'
        "min_minor = { USD = 500, EUR = 500, GBP = 400, JPY = 750 }\n"
        "cap_minor = { USD = 5000, EUR = 5000, GBP = 4000, JPY = 7500 }\n",
        'basis = "flat_per_transaction"\ncredit_recovered = false\n'
        "flat_minor = { USD = 500, EUR = 500, GBP = 400, JPY = 750 }\n",
        "flat_minor = { USD = 500, EUR = 500, GBP = 400, JPY = 750 }\n",
        "flat_minor = { USD = 1000, EUR = 1000, GBP = 800, JPY = 1500 }\n"
        'outage_error_codes = ["DB_POOL_TIMEOUT", "DB_CONN_REFUSED"]\ncredit_table_only = false\n',
    ),
    "whatif-5-pricing": (
        'basis = "percent_of_failed_amount"\npercent = 10\n'
        "min_minor = { USD = 500, EUR = 500, GBP = 400, JPY = 750 }\n"
        "cap_minor = { USD = 5000, EUR = 5000, GBP = 4000, JPY = 7500 }\n",
        'basis = "flat_per_transaction"\n'
        "flat_minor = { USD = 500, EUR = 500, GBP = 400, JPY = 750 }\n"
        "cap_minor = { USD = 1500, EUR = 1500, GBP = 1200, JPY = 2250 }\n",
        "flat_minor = { USD = 500, EUR = 500, GBP = 400, JPY = 750 }\n",
        'basis = "percent_of_failed_amount"\npercent = 12.5\nexclude_segments = ["internal"]\n',
    ),
}


def _whatif(folder: Path, what: str) -> dict:
    import tempfile

    from transforms.ingest import incident
    from transforms.quality import gate as quality_gate
    from transforms.reconcile import whatif

    loaded = incident.load(folder / "whole-day.toml")
    candidates = [whatif.Candidate("incident", loaded.path, loaded.policy)]
    with tempfile.TemporaryDirectory(prefix="bench-what-if-") as scratch:
        if what in WHATIF_POLICIES:
            for n, table in enumerate(WHATIF_POLICIES[what]):
                path = Path(scratch) / f"policy-{n}.toml"
                path.write_text(f'[policy]\nversion = "p{n}"\n{table}', encoding="utf-8")
                candidates.append(whatif.Candidate(path.name, path, incident.load_policy(path)))
        work = Path(scratch) / "work"
        work.mkdir()
        found = whatif.compare(
            loaded,
            candidates,
            work,
            quality_gate.candidate_data_problems,
            quality_gate.empty_tables,
        )
    return {
        "policies": len(found.outcomes),
        "credit_lines": [len(o.amounts) for o in found.outcomes],
        "problems": [o.problem for o in found.outcomes if o.problem],
    }


def envelopes_only(size: str, repeat: int) -> None:
    """Extraction of the same records as plain JSON lines and wrapped as CRI and Docker lines
    and as OTLP JSON (10 records a line), gzip, the file names kept, side by side: wall and CPU
    seconds and their ratio to plain."""
    plain = dataset(_count(size), "gzip")
    rows = []
    for envelope in ("none", "cri", "docker", "otlp"):
        folder = plain if envelope == "none" else wrapped(plain, envelope)
        _warm(folder)
        found = median_of([child("extract", folder) for _ in range(repeat)])
        rows.append({"size": size, "copy": "gzip", "what": f"extract-{envelope}", **found})
        _show(rows[-1])
    for row in rows:
        ratio = row["wall_s"] / rows[0]["wall_s"]
        wall, cpu = row["wall_s"], row["cpu_s"]
        print(f"{row['what']:>16}: {wall:8.2f} s wall {cpu:8.2f} s CPU  x{ratio:.2f}")


def dask_only(size: str, repeat: int) -> None:
    """`credits run` of the whole-day incident at `size` lines (gzip) on threads and on a Dask
    cluster (a `dask scheduler` and two `dask worker` processes of one thread each, on this
    machine, started afresh for each run and left out of its wall time), alternated `repeat`
    times. The cluster's CPU seconds and each process's peak RSS are read from /proc, so a
    partition map that funnels through one process shows."""
    folder = dataset(_count(size), "gzip")
    _warm(folder)
    rows: list[dict] = []
    for _ in range(repeat):
        rows.append({"what": "run", **child("run", folder)})
        _show_dask(rows[-1])
        with DaskCluster() as cluster:
            env = os.environ | {DASK_ADDRESS: cluster.address}
            found = child("run-dask", folder, env)
            rows.append({"what": "run-dask", **found, "cluster": cluster.used()})
        _show_dask(rows[-1])
    saved(machine() | {"size": size, "dask": rows}, "-dask")


def _show_dask(row: dict) -> None:
    cluster = row.get("cluster", {})
    print(
        f"{row['what']:>9}: {row['wall_s']:7.2f} s wall, {row['cpu_s']:7.2f} CPU s (run's "
        f"process), peak RSS {row['peak_rss_mb']} MB; cluster: {json.dumps(cluster)}",
        flush=True,
    )


DASK_ADDRESS = "BENCH_DASK_ADDRESS"
"""The scheduler a `run-dask` measurement's run is given (`--dask-address`)."""


class DaskCluster:
    """A scheduler and two single-threaded workers (each under its nanny), as on real machines,
    each its own process group; `used()` gives each process tree's CPU seconds since the
    cluster was up and its peak RSS."""

    def __enter__(self) -> DaskCluster:
        from distributed import Client

        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        dask = str(Path(sys.executable).with_name("dask"))
        folder = WORK / "dask"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        commands = {"scheduler": [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)]}
        for name in ("w1", "w2"):
            commands[name] = [dask, "worker", self.address, "--name", name, "--nthreads", "1"]
            commands[name] += ["--local-directory", str(folder / name)]
        self.processes = {}
        for name, command in commands.items():
            with open(folder / f"{name}.log", "w") as log:
                self.processes[name] = subprocess.Popen(
                    [*command, "--no-dashboard"],
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        self.before = {name: self._cpu(name) for name in self.processes}
        return self

    def _tree(self, name: str) -> list:
        import psutil

        root = psutil.Process(self.processes[name].pid)
        return [root, *root.children(recursive=True)]

    def _cpu(self, name: str) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self._tree(name))

    def used(self) -> dict:
        """Per process tree: CPU seconds since the cluster was up, and the peak RSS (MB)."""
        found = {}
        for name in self.processes:
            peak = 0
            for process in self._tree(name):
                status = Path(f"/proc/{process.pid}/status").read_text()
                hwm = next(x for x in status.splitlines() if x.startswith("VmHWM"))
                peak = max(peak, int(hwm.split()[1]))
            found[name] = {
                "cpu_s": round(self._cpu(name) - self.before[name], 3),
                "peak_rss_mb": round(peak / 1024),
            }
        return found

    def __exit__(self, *_: object) -> None:
        import signal

        for process in self.processes.values():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wrapped(source: Path, envelope: str) -> Path:
    """The gzip copy `source` with every log line wrapped as `envelope` writes it, made once."""
    from isal import igzip

    folder = source.parent / f"gzip-{envelope}"
    if (folder / "whole-day.toml").exists():
        return folder
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    time = "2025-01-07T20:00:00.123456789Z"
    for path in sorted((source / "logs").glob("*.jsonl.gz")):
        with igzip.open(path, "rb") as lines, igzip.open(folder / "logs" / path.name, "wb") as out:
            if envelope == "otlp":
                out.writelines(_otlp_lines(lines))
                continue
            for line in lines:
                text = line.rstrip(b"\n")
                if envelope == "cri":
                    out.write(time.encode() + b" stdout F " + text + b"\n")
                else:
                    entry = {"log": text.decode("utf-8", "replace") + "\n", "stream": "stdout"}
                    out.write(json.dumps(entry | {"time": time}).encode() + b"\n")
    for name in ("transactions.parquet", "customers.parquet"):
        shutil.copy(source / name, folder / name)
    section = f'[sources.log_format]\nenvelope = "{envelope}"\n\n[policy]'
    text = (source / "whole-day.toml").read_text().replace("[policy]", section, 1)
    (folder / "whole-day.toml").write_text(text)
    return folder


def _otlp_lines(lines, per_line: int = 10):
    """JSON lines as OTLP JSON lines of `per_line` log records each (as the OpenTelemetry
    collector's file exporter writes them): the fields as attributes, integers as strings,
    the time in `timeUnixNano`; a line that is not a JSON object is a record's string body."""
    from datetime import datetime

    def value(v):
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"stringValue": v if isinstance(v, str) else json.dumps(v)}

    def record(line: bytes) -> dict:
        try:
            fields = json.loads(line)
            at = datetime.fromisoformat(fields.pop("ts"))
        except (ValueError, TypeError, KeyError, AttributeError):
            return {"body": {"stringValue": line.decode("utf-8", "replace").rstrip("\n")}}
        nanos = round(at.timestamp() * 1_000_000) * 1000
        attributes = [{"key": k, "value": value(v)} for k, v in fields.items()]
        return {"timeUnixNano": str(nanos), "attributes": attributes}

    def request(records: list[dict]) -> bytes:
        scope = {"scope": {"name": "payments"}, "logRecords": records}
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "pay"}}]}
        body = {"resourceLogs": [{"resource": resource, "scopeLogs": [scope]}]}
        return json.dumps(body, separators=(",", ":")).encode() + b"\n"

    pending: list[dict] = []
    for line in lines:
        pending.append(record(line))
        if len(pending) == per_line:
            yield request(pending)
            pending = []
    if pending:
        yield request(pending)


def machine() -> dict:
    """What a result was measured on: cores, platform, and the versions that matter."""
    return {
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "versions": {"python": platform.python_version()}
        | {p: metadata.version(p) for p in PACKAGES},
    }


def saved(report: dict, suffix: str = "") -> Path:
    """Writes a result as `bench/results/<UTC time><suffix>.json`, prints and returns its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}{suffix}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(out)
    return out


def _code_version() -> str:
    from transforms.runfolder import manifest

    return manifest.code_version()


def dataset(lines: int, copy: str) -> Path:
    """The sample with about `lines` log lines, gzip or plain, generated once."""
    gz = WORK / f"lines={lines}" / "gzip"
    if not (gz / "whole-day.toml").exists():
        from transforms import sample

        scale = math.ceil(lines / LINES_PER_SCALE)
        sample.generate(gz, scale=scale, transactions=TRANSACTIONS)
        _whole_day(gz)
    if copy == "gzip":
        return gz
    plain = gz.parent / "plain"
    if not (plain / "whole-day.toml").exists():
        (plain / "logs").mkdir(parents=True, exist_ok=True)
        for source in sorted((gz / "logs").glob("*.jsonl.gz")):
            with gzip.open(source) as data, open(plain / "logs" / source.stem, "wb") as target:
                shutil.copyfileobj(data, target, 1 << 24)
        for name in ("transactions.parquet", "customers.parquet"):
            shutil.copy(gz / name, plain / name)
        for name in ("INC-2025-01-07.toml", "whole-day.toml"):
            text = (gz / name).read_text().replace("logs/*.jsonl.gz", "logs/*.jsonl")
            (plain / name).write_text(text)
    return plain


def tiny(source: Path) -> Path:
    """A one-line incident beside the sample: its first payment failure, transaction, customer."""
    folder = WORK / "tiny"
    if (folder / "whole-day.toml").exists():
        return folder
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    (folder / "logs").mkdir(parents=True, exist_ok=True)
    line = next(_outage_failures(sorted((source / "logs").glob("*.jsonl.gz"))))
    (folder / "logs" / "one.jsonl").write_bytes(line)
    txn_id = json.loads(line)["txn_id"]
    transactions = pq.read_table(source / "transactions.parquet")
    row = transactions.filter(pc.equal(transactions["txn_id"], txn_id))
    pq.write_table(row, folder / "transactions.parquet")
    customers = pq.read_table(source / "customers.parquet")
    customer = row["customer_id"][0].as_py()
    pq.write_table(
        customers.filter(pc.equal(customers["customer_id"], customer)),
        folder / "customers.parquet",
    )
    text = (source / "whole-day.toml").read_text().replace("logs/*.jsonl.gz", "logs/*.jsonl")
    (folder / "whole-day.toml").write_text(text)
    return folder


def _warm(folder: Path) -> None:
    """Reads the copy's files once, so that every measurement finds them in the page cache
    (the first one would otherwise pay for the disk, and the comparison would be unfair)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                while handle.read(1 << 24):
                    pass


def _outage_failures(paths: list[Path]):
    for path in paths:
        with gzip.open(path) as lines:
            yield from (x for x in lines if b'"payment.failed"' in x and b'"DB_POOL' in x)


def _whole_day(folder: Path) -> None:
    text = (folder / "INC-2025-01-07.toml").read_text()
    lines = [
        WHOLE_DAY[0] if line.startswith("window_start") else line for line in text.splitlines()
    ]
    lines = [WHOLE_DAY[1] if line.startswith("window_end") else line for line in lines]
    (folder / "whole-day.toml").write_text("\n".join(lines) + "\n")


def median_of(found: list[dict]) -> dict:
    """One case measured several times: the median wall and CPU seconds, the highest peak RSS
    and every wall time measured (the machine may be shared: medians, and ratios of cases
    measured side by side, are what to compare)."""
    walls = sorted(f["wall_s"] for f in found)
    cpus = sorted(f["cpu_s"] for f in found)
    middle = len(found) // 2
    return found[0] | {
        "wall_s": walls[middle],
        "cpu_s": cpus[middle],
        "peak_rss_mb": max(f["peak_rss_mb"] for f in found),
        "wall_s_all": [f["wall_s"] for f in found],
    }


def served_fixed(small: Path, repeat: int) -> dict:
    """The one-line run against a long-lived server (`credits serve-prefect`'s, started here and
    left out of the measure), which the run finds by itself through its record."""
    from flows import long_lived

    port = _free_port()
    home = WORK / "prefect-served"
    with long_lived.running(f"http://127.0.0.1:{port}/api", home):
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        return median_of(
            [child("fixed", small, env | {"PREFECT_HOME": str(home)}) for _ in range(repeat)]
        )


def _free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child(what: str, folder: Path, env: dict[str, str] | None = None) -> dict:
    """Runs one measurement in a fresh process and returns what it reports."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", what, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(what: str, folder: Path) -> dict:
    """One measurement in this process: wall seconds, peak RSS, lines and bytes read."""
    started = time.perf_counter()
    result = {
        "scan": _scan,
        "extract": _extract,
        "run": _run,
        "run-pruned": _run,
        "run-dask": _run,
        "fixed": _run,
        "pandas": _pandas,
        "startup": _startup,
        "approve": _approve,
        "whatif-1": _whatif,
        "whatif-5": _whatif,
        "whatif-5-pricing": _whatif,
    }[what](folder, what)
    wall = time.perf_counter() - started
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in used)
    # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's size at fork.
    status = Path("/proc/self/status").read_text()
    self_rss = int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1])
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    logs = sorted((folder / "logs").glob("*")) if (folder / "logs").exists() else []
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": round(max(self_rss, children_rss) / 1024),
        "log_bytes": sum(_text_bytes(p) for p in logs),
        "file_bytes": sum(p.stat().st_size for p in logs),
        **result,
    }


def _text_bytes(path: Path) -> int:
    """Uncompressed size (gzip keeps it mod 2**32 in its last 4 bytes: fine below 4 GiB)."""
    if path.suffix != ".gz":
        return path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(-4, os.SEEK_END)
        return int.from_bytes(handle.read(4), "little")


def _scan(folder: Path, _: str) -> dict:
    import duckdb

    glob = str(folder / "logs" / "*")
    sql = (
        "select count(*) from read_json($glob, format = 'newline_delimited', ignore_errors = true)"
    )
    return {"lines": duckdb.connect().execute(sql, {"glob": glob}).fetchall()[0][0]}


def _extract(folder: Path, _: str) -> dict:
    from transforms import db
    from transforms.ingest import incident, logs

    loaded = incident.load(folder / "whole-day.toml")
    work = WORK / "extract-work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "spill").mkdir(parents=True)
    with db.connect(work / "work.duckdb", work / "spill") as con:
        read = logs.stage(con, loaded, work, logs.on_threads)
        counted = con.sql("select bucket, count(*) from int_log_lines_bucketed group by bucket")
        buckets = dict(sorted(counted.fetchall()))
    shutil.rmtree(work)
    return {"lines": sum(f.lines for f in read), "buckets": buckets}


def _run(folder: Path, what: str) -> dict:
    toml = "INC-2025-01-07.toml" if what == "run-pruned" else "whole-day.toml"
    out = WORK / "run-output"
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "run",
            str(folder / toml),
            "--output-dir",
            str(out / "runs"),
            "--warehouse",
            str(out / "warehouse.duckdb"),
            *(
                ["--task-runner", "dask", "--dask-address", os.environ[DASK_ADDRESS]]
                if what == "run-dask"
                else []
            ),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 3):
        raise RuntimeError(done.stderr[-2000:])
    manifest = json.loads(next((out / "runs").glob("*/*/manifest.json")).read_text())
    shutil.rmtree(out)
    funnel = manifest["log_funnel"]
    return {
        "lines": funnel["lines_read"],
        "verdict": manifest["verdict"],
        "files_read": len(manifest["inputs"]["logs"]),
        "files_pruned": len(manifest["inputs"].get("logs_pruned", [])),
    }


def _approve(folder: Path, _: str) -> dict:
    """Two runs of one incident with `lines` credit lines each (USD 10.00, then 15.00), loaded
    straight into a fresh warehouse; each approval timed on its own."""
    from transforms.finance import ledger, warehouse

    lines = int((folder / "lines").read_text())
    path = folder / "warehouse.duckdb"
    with warehouse.connect(path) as con:
        for n, amount in ((1, 1000), (2, 1500)):
            synthetic_run(con, folder, f"20250108T00000{n}000000Z-bench000", lines, amount)
    timings = {}
    for n, name in ((1, "initial_s"), (2, "supplemental_s")):
        started = time.perf_counter()
        decision = ledger.approve(
            path,
            f"20250108T00000{n}000000Z-bench000",
            by="bench",
            note=None,
            outbox=folder / "outbox",
        )
        timings[name] = round(time.perf_counter() - started, 3)
        timings[name.replace("_s", "_rows")] = decision.rows
    return {"lines": lines, **timings}


def synthetic_run(con, folder: Path, run_id: str, lines: int, amount_minor: int) -> None:
    """One pending run: its credit lines in the warehouse, its credits.csv and manifest.json (a
    whole manifest: approval reads the warehouse's copy as one)."""
    import hashlib

    from transforms.finance import journal
    from transforms.runfolder.manifest_model import Manifest

    run_folder = folder / "runs" / f"run={run_id}"
    run_folder.mkdir(parents=True)
    started = datetime.strptime(run_id[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    con.execute(
        """
        insert into run_credits
        select $run_id, substr(sha256('BENCH|' || i), 1, 16), 'INC-BENCH',
            printf('cus_%07d', i), 'USD', printf('%d.%02d', $amount // 100, $amount % 100),
            $amount, 1, $amount, 'flat', 'outage credit', 'v1'
        from range($lines) as t(i)
        """,
        {"run_id": run_id, "amount": amount_minor, "lines": lines},
    )
    credits = run_folder / "credits.csv"
    con.execute(
        "copy (select * exclude (run_id) from run_credits where run_id = $run_id "
        "order by customer_id) to $out (header)",
        {"run_id": run_id, "out": str(credits)},
    )
    at = started.isoformat()
    content = Manifest.model_validate(
        {
            "schema_version": 1,
            "run_id": run_id,
            "verdict": "pending_approval",
            "incident": {
                "id": "INC-BENCH",
                "title": "bench",
                "timezone": "UTC",
                "file": {"path": str(folder / "bench.toml"), "sha256": "0" * 64},
            },
            "window": {"start_utc": at, "end_utc": at, "start_local": at, "end_local": at},
            "policy": {
                "version": "v1",
                "basis": "flat",
                "flat_minor": {"USD": amount_minor},
                "percent": "0",
                "min_minor": {},
                "cap_minor": {},
                "failure_events": ["payment.failed"],
                "outage_error_codes": ["DB_POOL_TIMEOUT"],
                "decline_error_codes": [],
                "credit_recovered": True,
                "credit_table_only": True,
                "exclude_segments": [],
                "sha256": "bench",
            },
            "inputs": {"logs": [], "tables": []},
            "log_funnel": dict.fromkeys(FUNNEL, 0) | {"identity_holds": True},
            "candidates": {
                "from_logs": lines,
                "table_only": 0,
                "total": lines,
                "by_class": {},
                "identity_holds": True,
            },
            "accounting_problems": [],
            "totals_minor": {"USD": lines * amount_minor},
            "exceptions": {},
            "validation": {"blocking": [], "warnings": []},
            "outputs": {
                "credits.csv": {
                    "rows": lines,
                    "sha256": hashlib.sha256(credits.read_bytes()).hexdigest(),
                }
            },
            "started_at": at,
            "finished_at": at,
            "code_version": "bench",
        }
    )
    (run_folder / "manifest.json").write_text(content.text())
    con.execute(
        """
        insert into runs (run_id, incident_id, incident_title, timezone, window_start_utc,
            window_end_utc, status, policy_version, policy_sha256, run_folder, started_at,
            finished_at, manifest)
        values ($run_id, 'INC-BENCH', 'bench', 'UTC', $start, $start, 'pending_approval', 'v1',
            'bench', $folder, $start, $start, $manifest)
        """,
        {
            "run_id": run_id,
            "start": started,
            "folder": str(run_folder),
            "manifest": json.dumps(content.plain(), sort_keys=True),
        },
    )
    # as the pipeline's seal does: approval needs the run journaled validated, with its totals
    journal.append(
        con,
        "validated",
        actor="bench",
        key=None,
        incident_id="INC-BENCH",
        run_id=run_id,
        detail={
            "verdict": "pending_approval",
            "totals_minor": content.totals_minor,
            "blocking": [],
        },
    )


def _startup(folder: Path, _: str) -> dict:
    code = "import flows\nfrom prefect import flow\n@flow\ndef empty():\n    return 0\nempty()\n"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    return {}


def _pandas(folder: Path, _: str) -> dict:
    """The rules the naive way: every line parsed into one DataFrame, then filtered."""
    import pandas as pd

    from transforms.ingest import incident

    loaded = incident.load(folder / "whole-day.toml")
    policy = loaded.policy
    records, bad = [], 0
    for path in sorted((folder / "logs").glob("*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    record = json.loads(line)
                except ValueError:
                    bad += 1
                    continue
                if isinstance(record, dict):
                    records.append({**record, "raw": line, "file": path.name, "line": number})
                else:
                    bad += 1
    frame = pd.DataFrame(records)
    frame = frame[~frame.duplicated("raw")]
    frame["ts_utc"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601", errors="coerce")
    failures = frame[
        frame["event"].isin(policy.failure_events)
        & (frame["ts_utc"] >= loaded.window_start)
        & (frame["ts_utc"] < loaded.window_end)
    ].copy()
    failures["txn_id"] = failures["txn_id"].str.strip()
    codes = failures.groupby("txn_id")["error_code"].agg(lambda c: set(c.dropna()))
    outage = codes[codes.map(lambda c: bool(c & set(policy.outage_error_codes)))]
    table = pd.read_parquet(loaded.sources.transactions.path, columns=["txn_id", "status"])
    matched = table[table["txn_id"].isin(outage.index)]
    return {"lines": len(records) + bad, "candidates": len(codes), "in_table": len(matched)}


def targets(rows: list[dict], startup: dict) -> dict:
    """The issue's targets, checked against this run's numbers: wall-time ratios of cases
    measured side by side, and the same ratios in CPU seconds (steadier on a shared machine)."""

    def find(size: str, copy: str, what: str) -> dict | None:
        return next(
            (r for r in rows if (r["size"], r["copy"], r["what"]) == (size, copy, what)), None
        )

    def ratio(a: dict | None, b: dict | None, key: str, less: float = 0.0) -> float | None:
        return round((a[key] - less) / b[key], 2) if a and b else None

    our_fixed = round(startup["fixed_run_s"] - startup["wall_s"], 2)
    found: dict = {"our fixed cost beyond the empty flow, s (<= 1.0)": our_fixed}
    found["our fixed cost beyond the empty flow, CPU s"] = round(
        startup["fixed_run_cpu_s"] - startup["cpu_s"], 2
    )
    found["one-line run, Prefect's defaults, s (<= 6.0)"] = startup["fixed_run_s"]
    found["one-line run against a long-lived server, s (<= 3.0)"] = startup["served_run_s"]
    for key, unit in (("wall_s", ""), ("cpu_s", " CPU")):
        fixed = startup["fixed_run_s" if key == "wall_s" else "fixed_run_cpu_s"]
        for size in ("10M", "40M"):
            scan, extract, run = (find(size, "gzip", w) for w in ("scan", "extract", "run"))
            found[f"extract/scan gzip {size}{unit} (<= 1.3)"] = ratio(extract, scan, key)
            found[f"(run - fixed)/scan gzip {size}{unit} (<= 2.0)"] = ratio(run, scan, key, fixed)
            scan, extract = find(size, "plain", "scan"), find(size, "plain", "extract")
            found[f"extract/scan plain {size}{unit} (<= 4)"] = ratio(extract, scan, key)
        pandas, extract = find("1M", "gzip", "pandas"), find("1M", "gzip", "extract")
        found[f"pandas/extract 1M gzip{unit} (>= 20)"] = ratio(pandas, extract, key)
        big, small = find("40M", "gzip", "run"), find("10M", "gzip", "run")
        found[f"run 40M/10M gzip{unit} (<= 4.4)"] = ratio(big, small, key)
    big = find("40M", "gzip", "run")
    found["peak RSS MB, run 40M gzip (<= 1024)"] = big["peak_rss_mb"] if big else None
    return {name: value for name, value in found.items() if value is not None}


def table(rows: list[dict], startup: dict) -> str:
    head = (
        "| size | copy | what | lines | MB | wall s | CPU s | peak RSS MB | MB/s |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|"
    )
    body = [
        f"| {r['size']} | {r['copy']} | {r['what']} | {r['lines']:,} "
        f"| {r['log_bytes'] / 1e6:,.0f} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} "
        f"| {r['peak_rss_mb']:,} "
        f"| {r['log_bytes'] / 1e6 / r['wall_s']:,.0f} |"
        for r in rows
    ]
    fixed = (
        f"\nPrefect start-up (an empty flow run): {startup['wall_s']:.2f} s "
        f"({startup['cpu_s']:.2f} CPU s); fixed cost of a run (a one-line incident): "
        f"{startup['fixed_run_s']:.2f} s ({startup['fixed_run_cpu_s']:.2f} CPU s); against a "
        f"long-lived server: {startup['served_run_s']:.2f} s "
        f"({startup['served_run_cpu_s']:.2f} CPU s)"
    )
    return "\n".join([head, *body, fixed])


def _show(row: dict) -> None:
    print(
        f"{row['size']:>4} {row['copy']:>5} {row['what']:>10}: {row['wall_s']:8.2f} s "
        f"{row['cpu_s']:8.2f} CPU s "
        f"{row['peak_rss_mb']:6,} MB  {row['lines']:,} lines",
        flush=True,
    )


def _count(size: str) -> int:
    return int(float(size.rstrip("MmKk")) * (1e6 if size[-1] in "Mm" else 1e3))


if __name__ == "__main__":
    main()
