"""Peak RSS and CPU of `credits run` by stage: the run in this process, its RSS (and its
children's) sampled every 50 ms, each transform a task calls marked from its start to its end.

    python -m bench.rss_by_stage OUT.json run INCIDENT.toml [--output-dir DIR] [--warehouse W]

Prints one line per stage (its wall seconds, the process's CPU seconds meanwhile, its peak in
the main process, MB) and writes them, with the timeline, to OUT.json. With
`BENCH_PROFILE=STAGE[,STAGE]` (e.g. `publish.publish`), each such stage is also run under
cProfile and its statistics written beside OUT.json (`OUT.STAGE.pstats`). The CPU seconds are
the whole process's (DuckDB's threads included): exact for the stages after the map, which run
one at a time. The map's partitions run side by side: their peaks overlap. The
children's sum includes, for an instant, each child forked before it runs its program.
"""

from __future__ import annotations

import contextlib
import cProfile
import functools
import importlib
import json
import os
import sys
import threading
import time

import psutil

MB = 1 << 20
INTERVAL_S = 0.05
# The transforms the flow's tasks call, by module: each marks its stage.
STAGES = {
    "transforms.finance.warehouse": ["record_start"],
    "transforms.ingest.logs": ["extract"],
    "transforms.ingest.logs.recipe": ["reduce"],
    "transforms.ingest.tables": ["stage"],
    "transforms.reconcile.classes": ["classify"],
    "transforms.reconcile.credits": ["build"],
    "transforms.runfolder.publish": ["write_outputs", "publish"],
    "transforms.quality.gate": ["check"],
    "transforms.reconcile.window": ["check"],
    "transforms.runfolder.report": ["write"],
    "transforms.finance.sealing": ["seal"],
}


class Sampler(threading.Thread):
    """RSS of this process and the sum of its children's, every `INTERVAL_S`."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.started = time.perf_counter()
        self.samples: list[tuple[float, int, int]] = []
        self.marks: list[tuple[str, float, float, float]] = []
        self.running = True
        self.profiled = set(filter(None, os.environ.get("BENCH_PROFILE", "").split(",")))
        self.out = ""

    def now(self) -> float:
        return time.perf_counter() - self.started

    def run(self) -> None:
        me = psutil.Process()
        while self.running:
            children = 0
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # it may just have ended
                    children += child.memory_info().rss
            self.samples.append((self.now(), me.memory_info().rss, children))
            time.sleep(INTERVAL_S)

    def marked(self, name: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            start, cpu = self.now(), time.process_time()
            profile = cProfile.Profile() if name in self.profiled else None
            try:
                if profile is None:
                    return function(*args, **kwargs)
                return profile.runcall(function, *args, **kwargs)
            finally:
                self.marks.append((name, start, self.now(), time.process_time() - cpu))
                if profile is not None:
                    profile.dump_stats(f"{self.out}.{name}.pstats")

        return timed

    def stages(self) -> list[dict]:
        found: dict[str, dict] = {}
        for name, start, end, cpu in self.marks:
            # A stage shorter than the interval gets the samples on either side.
            low, high = start - INTERVAL_S, end + INTERVAL_S
            inside = [(main, kids) for t, main, kids in self.samples if low <= t <= high]
            row = found.setdefault(
                name, {"stage": name, "seconds": 0.0, "cpu_s": 0.0, "main_peak_mb": 0}
            )
            row["seconds"] = round(row["seconds"] + end - start, 2)
            row["cpu_s"] = round(row["cpu_s"] + cpu, 2)
            peak = max((main for main, _ in inside), default=0)
            row["main_peak_mb"] = max(row["main_peak_mb"], round(peak / MB))
        return list(found.values())


def main() -> None:
    out, arguments = sys.argv[1], sys.argv[2:]
    sampler = Sampler()
    sampler.out = out
    sampler.start()
    for module_name, names in STAGES.items():
        module = importlib.import_module(module_name)
        for name in names:
            stage = f"{module_name.rsplit('.', 1)[-1]}.{name}"
            setattr(module, name, sampler.marked(stage, getattr(module, name)))
    from flows.cli import app

    try:
        app(arguments, standalone_mode=False)
    finally:
        sampler.running = False
        sampler.join()
        samples = sampler.samples
        report = {
            "main_peak_mb": round(max(s[1] for s in samples) / MB),
            "children_peak_mb": round(max(s[2] for s in samples) / MB),
            "stages": sampler.stages(),
            "timeline": [
                (round(t, 2), round(m / MB), round(k / MB)) for t, m, k in sampler.samples
            ],
        }
        with open(out, "w") as handle:
            json.dump(report, handle, indent=1)
        for row in report["stages"]:
            seconds, cpu, peak = row["seconds"], row["cpu_s"], row["main_peak_mb"]
            print(f"{row['stage']:<28} {seconds:8.2f} s {cpu:8.2f} CPU s {peak:6,} MB")
        print(
            f"peak: main {report['main_peak_mb']:,} MB, children {report['children_peak_mb']:,} MB"
        )


if __name__ == "__main__":
    main()
