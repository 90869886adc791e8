"""The sample's files: ``generate`` writes the customers, the hourly gzip log files with their
shipping dirt (duplicates, malformed lines), ``transactions.parquet`` and the incident file."""

from __future__ import annotations

import contextlib
import gzip
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.errors import ConfigError, StorageError
from transforms.files import atomic_path, write_text
from transforms.sample.log_lines import (
    Lines,
    concat,
    health_lines,
    http_lines,
    make_text,
    payment_lines,
    split,
)
from transforms.sample.payments import (
    Slice,
    merge_batches,
    natural_batch,
    plant_batch,
    table_rows,
    timeline,
    us,
)
from transforms.sample.plants import Plant, count_plants, plan_plants
from transforms.sample.world import (
    CURRENCIES,
    CUSTOMER_CHUNK,
    DAY,
    DAY_MS,
    HOUR_MS,
    INCIDENT_TOML,
    PODS,
    STATUSES,
    SUCCEEDED,
    TRANSACTIONS_SCHEMA,
    World,
    customer_ids,
    make_world,
    write_customers,
)

_DUP_RATE = 0.005
_BAD_RATE = 0.0008
_BAD_CAP = 0.002  # malformed lines never exceed this share of a file
_GZIP_LEVEL = 1  # fast; files are about 35% larger than at level 6
_STACK_LINES = (
    "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, "
    "request timed out after 30000ms.",
    "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
    "\tat com.payco.payments.PaymentRepository.save(PaymentRepository.java:88)",
    "Caused by: java.net.ConnectException: Connection refused",
)


INCIDENT_FILE = "INC-2025-01-07.toml"
# What scale 1 writes (logs, tables, incident file), measured; the files grow linearly.
BYTES_PER_SCALE = 4_600_000


def require_room(out_dir: Path, scale: int) -> None:
    """Refuses (`StorageError`, exit 4) a scale whose files the disk under `out_dir` has no
    room for, before anything is written (`--scale 100000000` asked for 460 TB)."""
    out_dir = Path(out_dir)
    where = next(p for p in (out_dir, *out_dir.absolute().parents) if p.exists())
    usage, needed = shutil.disk_usage(where), scale * BYTES_PER_SCALE
    free = usage.free
    if usage.total and needed > free:  # no size at all (/proc): no disk; the folder is refused
        todo = (  # at scale 1 there is no smaller one: "about 0 GB", "0.0 GB free" said it
            f"give a smaller --scale (1 writes about {BYTES_PER_SCALE / 1e6:.1f} MB)"
            if scale > 1
            else "free some space, or give a folder on a disk with room"
        )
        raise StorageError(
            f"--scale {scale} writes about {_size(needed, '.0f')} under {out_dir}; {where} has "
            f"{_size(free, '.1f')} free: {todo}"
        )


def _size(size: int, gigabytes: str) -> str:
    """A size in GB (`gigabytes` its format), or in MB below one GB."""
    return f"{size / 1e9:,{gigabytes}} GB" if size >= 1e9 else f"{size / 1e6:,.1f} MB"


def written_names() -> list[str]:
    """The files `generate` writes, relative to its folder."""
    logs = [
        f"logs/payment-api-{pod}.{DAY}T{hour:02d}.jsonl.gz" for pod in PODS for hour in range(24)
    ]
    return [INCIDENT_FILE, "customers.parquet", "transactions.parquet", *logs]


def require_replaceable(out_dir: Path) -> None:
    """Refuses (`ConfigError`, exit 2) a folder holding a file of the sample's names that is no
    earlier sample's: the folder's incident file is not the sample's own, word for word (an
    incident folder of one's own holds `transactions.parquet`; an edited sample, the edit)."""
    out_dir = Path(out_dir)
    if (out_dir / INCIDENT_FILE).is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if (out_dir / INCIDENT_FILE).read_text(encoding="utf-8") == INCIDENT_TOML:
                return  # an earlier sample: every file of it is the generator's to replace
    held = next((name for name in written_names() if (out_dir / name).exists()), None)
    if held is not None:
        raise ConfigError(
            f"--out {out_dir}: holds {held}, which the sample would replace; only an earlier "
            f"sample's files are (beside its {INCIDENT_FILE} as the sample wrote it): give an "
            "empty or new folder, or move it away"
        )


def generate(
    out_dir: Path, scale: int = 1, seed: int = 7, transactions: int | None = None
) -> dict[str, int]:
    """Write the sample incident of 2025-01-07 under ``out_dir`` and return what was written.

    Args:
        out_dir: target folder, created if missing; existing files of the same names are
            replaced atomically (temp file in the same folder, then ``os.replace``); the
            CLI first refuses a folder whose files are no earlier sample's
            (`require_replaceable`).
        scale: volume multiplier (integer >= 1); scale=1 is about 150k log lines, and lines,
            payments, customers and planted cases all grow linearly.
        seed: random seed; the same (seed, scale) gives byte-identical files.
        transactions: pad ``transactions.parquet`` to this many rows with succeeded payments
            that no log line mentions (for benchmarks: a big table, the same credits); the
            logs and every other file are as without it.

    Returns:
        Counts: ``files``, ``log_files``, ``log_lines`` (every line incl. duplicates and
        malformed), ``duplicate_lines`` (extra copies), ``malformed_lines``,
        ``payment_failed_lines`` (before duplication), ``transactions``, ``customers``, and
        ``planted_<class>`` / ``planted_<situation>`` for the planted cases.

    Raises:
        ValueError: if ``scale`` is not an integer >= 1.
    """
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be an integer >= 1, got {scale!r}")
    out_dir = Path(out_dir)
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    world = make_world(rng, scale)
    plants = plan_plants(rng, world, scale)
    write_customers(out_dir / "customers.parquet", rng, world)
    counts = _write_day(out_dir, rng, world, plants, scale)
    if transactions is not None and transactions > counts["transactions"]:
        counts["transactions"] = _pad_transactions(out_dir, world, transactions, seed)
    write_text(out_dir / INCIDENT_FILE, INCIDENT_TOML)
    counts.update(customers=world.n_known, log_files=24 * len(PODS), files=24 * len(PODS) + 3)
    counts.update(count_plants(plants))
    return counts


class _LogSink:
    """Hourly gzip JSONL files per pod, with shipping dirt (duplicates, malformed lines).

    Grain: one line per log event; a file holds one pod's lines of one UTC hour, plus a few
    duplicates of the previous hour's last lines at its top (at-least-once shipping).
    """

    def __init__(self, folder: Path, rng: np.random.Generator) -> None:
        self.folder, self.rng = folder, rng
        self.files: list[gzip.GzipFile] = []
        self.hour = 0
        self.resend: list[list[str]] = [[] for _ in PODS]  # duplicates for the next file
        self.lines, self.bad = [0] * len(PODS), [0] * len(PODS)
        self.counts = {"log_lines": 0, "duplicate_lines": 0, "malformed_lines": 0}

    def open_hour(self, stack: contextlib.ExitStack, hour: int) -> None:
        """Open the files of ``hour`` (closed and moved into place when ``stack`` closes)."""
        self.hour, self.files = hour, []
        for p, pod in enumerate(PODS):
            path = self.folder / f"payment-api-{pod}.{DAY}T{hour:02d}.jsonl.gz"
            raw = stack.enter_context(open(stack.enter_context(atomic_path(path)), "wb"))  # noqa: SIM115
            gz = gzip.GzipFile(
                filename="", mode="wb", compresslevel=_GZIP_LEVEL, fileobj=raw, mtime=0
            )
            self.files.append(stack.enter_context(gz))
            self.lines[p], self.bad[p] = 0, 0
            self._put(p, self.resend[p], dups=len(self.resend[p]))
            self.resend[p] = []

    def write(self, p: int, text: list[str], last: bool) -> None:
        """Append one slice of pod ``p`` (sorted lines), adding duplicates and malformed lines."""
        dup = self.rng.random(len(text)) < _DUP_RATE
        out = [text[i] for i in np.repeat(np.arange(len(text)), 1 + dup).tolist()]
        allowed = int(_BAD_CAP * (self.lines[p] + len(out))) - self.bad[p]
        n_bad = min(int(self.rng.binomial(len(out), _BAD_RATE)), allowed)
        for _ in range(n_bad):
            self._insert_malformed(out)
        self.bad[p] += n_bad
        self.counts["malformed_lines"] += n_bad
        self._put(p, out, dups=int(dup.sum()))
        if last and self.hour < 23 and text and self.rng.random() < 0.5:
            tail = text[-30:]
            picks = self.rng.choice(len(tail), int(self.rng.integers(1, 3)), replace=False)
            self.resend[p] = [tail[i] for i in sorted(picks.tolist())]

    def _insert_malformed(self, out: list[str]) -> None:
        """Insert a truncated copy of a line before it, or a plain-text stack-trace line."""
        pos = int(self.rng.integers(0, len(out))) if out else 0
        if out and self.rng.random() < 0.6:
            line = out[pos]
            out.insert(pos, line[: int(self.rng.integers(10, len(line) - 1))])
        else:
            out.insert(pos, _STACK_LINES[int(self.rng.integers(0, len(_STACK_LINES)))])

    def _put(self, p: int, out: list[str], dups: int) -> None:
        """Compress lines into pod ``p``'s open file and count them."""
        if out:
            self.files[p].write(("\n".join(out) + "\n").encode("utf-8"))
        self.lines[p] += len(out)
        self.counts["log_lines"] += len(out)
        self.counts["duplicate_lines"] += dups


@dataclass
class _Day:
    """Running state of the day: next txn number, next line order, lines of later slices."""

    sink: _LogSink
    counts: dict[str, int]
    next_txn: int = 1
    next_seq: int = 0
    carry: Lines | None = None


def _write_day(
    out_dir: Path, rng: np.random.Generator, world: World, plants: list[Plant], scale: int
) -> dict[str, int]:
    """Write the 96 log files and transactions.parquet, slice by slice; return counts."""
    length = Slice.length(scale)
    by_slice: dict[int, list[Plant]] = {}
    for plant in sorted(plants, key=lambda p: p.t0):
        by_slice.setdefault(plant.t0 // length, []).append(plant)
    day = _Day(_LogSink(out_dir / "logs", rng), {"transactions": 0, "payment_failed_lines": 0})
    path = out_dir / "transactions.parquet"
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, TRANSACTIONS_SCHEMA) as writer:
        for hour in range(24):
            tables = []
            with contextlib.ExitStack() as stack:
                day.sink.open_hour(stack, hour)
                for start in range(hour * HOUR_MS, (hour + 1) * HOUR_MS, length):
                    sl = Slice(start, start + length, scale)
                    last = sl.end % HOUR_MS == 0
                    tables.append(
                        _write_slice(rng, world, by_slice.get(start // length, []), sl, day, last)
                    )
            table = pa.concat_tables(tables)
            writer.write_table(table)
            day.counts["transactions"] += table.num_rows
    return day.counts | day.sink.counts


def _write_slice(
    rng: np.random.Generator,
    world: World,
    plants: list[Plant],
    sl: Slice,
    day: _Day,
    last: bool,
) -> pa.Table:
    """Generate one slice, write its log lines (and those carried into it), return its rows."""
    b = merge_batches(natural_batch(rng, world, sl), plant_batch(rng, world, plants))
    n = len(b["t0"])
    tid = np.array([f"txn_{i:07d}" for i in range(day.next_txn, day.next_txn + n)], object)
    day.next_txn += n
    starts, ends, final = timeline(b)
    x = make_text(rng, b, tid, world)
    payments = payment_lines(rng, b, x, starts, ends)
    failing = (np.arange(3) < b["n_fail"][:, None]) & b["fail_logged"][:, None]
    day.counts["payment_failed_lines"] += int((failing & (ends[:, :3] < DAY_MS)).sum())
    parts = payments + [http_lines(b, x, ends)] + health_lines(rng, sl)
    lines = concat(([day.carry] if day.carry else []) + parts, day.next_seq)
    day.next_seq += len(lines.ts)
    now, day.carry = split(lines, sl.end)
    for p in range(len(PODS)):
        idx = np.nonzero(now.pod == p)[0]
        idx = idx[np.lexsort((now.seq[idx], now.ts[idx]))]
        day.sink.write(p, [now.text[i] for i in idx.tolist()], last)
    return table_rows(b, tid, world, final)


def _pad_transactions(out_dir: Path, world: World, rows: int, seed: int) -> int:
    """Rewrite transactions.parquet with filler rows up to ``rows``: succeeded payments of known
    customers spread over the day (txn ids ``txn_p...``), drawn from their own random stream."""
    rng = np.random.default_rng([seed, 1])
    path = out_dir / "transactions.parquet"
    source = pq.ParquetFile(path)
    missing = rows - source.metadata.num_rows
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, TRANSACTIONS_SCHEMA) as writer:
        for batch in source.iter_batches():
            writer.write_batch(batch)
        for start in range(0, missing, CUSTOMER_CHUNK * 10):
            n = min(CUSTOMER_CHUNK * 10, missing - start)
            nums = rng.integers(0, world.n_known, n)
            created = np.sort(rng.integers(0, DAY_MS, n))
            cur = np.array(CURRENCIES)[rng.integers(0, len(CURRENCIES), n)]
            table = pa.table(
                {
                    "txn_id": [f"txn_p{start + i:09d}" for i in range(n)],
                    "customer_id": customer_ids(world, nums),
                    "amount_minor": rng.integers(500, 50_000, n),
                    "currency": cur,
                    "status": np.full(n, STATUSES[SUCCEEDED]),
                    "error_code": pa.nulls(n, pa.string()),
                    "created_at": us(created),
                    "updated_at": us(created + 500),
                },
                schema=TRANSACTIONS_SCHEMA,
            )
            writer.write_table(table)
    return rows
