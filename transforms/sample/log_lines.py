"""Log lines: the JSON lines of a slice's payments (attempts, failures, retries, successes,
HTTP access lines) and of the service's own health and pool lines."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from transforms.sample.payments import Slice, in_window
from transforms.sample.world import (
    CODES,
    CURRENCIES,
    DAY,
    DAY_MS,
    LOCAL_POD,
    PODS,
    SLICE_MS,
    World,
    customer_ids,
)

LOCAL_OFFSET_H = -5  # America/New_York in January
_CODE_HTTP = (503, 503, 504, 500, 402, 402, 402, 402, 202, 502)
_CODE_LEVEL = ("ERROR",) * 4 + ("WARN",) * 4 + ("ERROR", "ERROR")
_CODE_MESSAGE = (
    "HikariPool-1 - Connection is not available, request timed out after 30000ms.",
    "Connection to payments-db.internal:5432 refused.",
    "ledger-service did not answer within 10000ms",
    "unexpected error while persisting payment",
    "card declined by issuer",
    "insufficient funds",
    "card expired",
    "issuer responded do not honor",
    "payment held for risk review",
    "card gateway returned HTTP 502",
)
_P_PAD_TXN_ID = 0.01
_HEALTHCHECKS_PER_15MIN = 90  # per pod, every 10 s at scale=1
_POOL_STATS_PER_15MIN = 30  # per pod, every 30 s at scale=1


@dataclass
class Lines:
    """Formatted log lines with their sort keys (ms timestamp, pod index, creation order)."""

    ts: np.ndarray
    pod: np.ndarray
    seq: np.ndarray
    text: list[str]


@dataclass(frozen=True)
class _Text:
    """Per-payment text pieces shared by the line templates (object arrays, one per payment)."""

    tid: np.ndarray
    cid: np.ndarray
    amount: np.ndarray
    cur: np.ndarray
    trace: np.ndarray
    fail_cust: np.ndarray
    fail_amount: np.ndarray


@cache
def _ts_tables() -> tuple[tuple[list[str], list[str]], ...]:
    """Per pod: timestamp text per second of the day and per millisecond suffix."""
    utc = [f"{DAY}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
    local = []
    for s in range(86_400):
        t = s + LOCAL_OFFSET_H * 3600
        day, t = ("2025-01-06", t + 86_400) if t < 0 else (DAY, t)
        local.append(f"{day}T{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}")
    utc_ms = [f".{m:03d}Z" for m in range(1000)]
    local_ms = [f".{m:03d}000{LOCAL_OFFSET_H:+03d}:00" for m in range(1000)]
    return tuple((local, local_ms) if p == LOCAL_POD else (utc, utc_ms) for p in range(len(PODS)))


def _ts_text(ts: np.ndarray, pod: np.ndarray) -> list[str]:
    """RFC 3339 text of ``ts`` (ms) as each pod writes it."""
    tables = _ts_tables()
    return [
        tables[p][0][s] + tables[p][1][m]
        for p, s, m in zip(pod.tolist(), (ts // 1000).tolist(), (ts % 1000).tolist(), strict=True)
    ]


def make_text(
    rng: np.random.Generator, b: dict[str, np.ndarray], tid: np.ndarray, world: World
) -> _Text:
    """Build the per-payment text pieces of a batch."""
    n = len(tid)
    cid = np.array(customer_ids(world, b["cust"]), dtype=object)
    log_cid = customer_ids(world, np.where(b["log_cust"] >= 0, b["log_cust"], b["cust"]))
    amount = b["amount"].tolist()
    fail_cust = [
        "" if o == 1 else f'"customer_id":"{c}",'
        for o, c in zip(b["omit"].tolist(), log_cid, strict=True)
    ]
    fail_amount = [
        "" if o == 2 else f'"amount_minor":{a},'
        for o, a in zip(b["omit"].tolist(), amount, strict=True)
    ]
    trace = [f"{x:016x}" for x in rng.integers(0, 2**63 - 1, n, dtype=np.int64).tolist()]
    return _Text(
        tid=tid,
        cid=cid,
        amount=np.array(amount, dtype=object),
        cur=np.array(CURRENCIES, dtype=object)[b["cur"]],
        trace=np.array(trace, dtype=object),
        fail_cust=np.array(fail_cust, dtype=object),
        fail_amount=np.array(fail_amount, dtype=object),
    )


def _head(ts: list[str], pods: np.ndarray, level: str, event: str) -> list[str]:
    """The common start of a JSON line: ts, level, pod and event."""
    return [
        f'{{"ts":"{t}","level":"{level}","pod":"{PODS[p]}","event":"{event}"'
        for t, p in zip(ts, pods.tolist(), strict=True)
    ]


def _keep(ts: np.ndarray, *cols: np.ndarray) -> list[np.ndarray]:
    """Drop rows whose time falls after the sampled day (they belong to tomorrow's logs)."""
    m = ts < DAY_MS
    return [ts[m]] + [c[m] for c in cols]


def _attempt_lines(x: _Text, rows: np.ndarray, ts: np.ndarray, pod: np.ndarray) -> Lines:
    """``payment.attempt`` lines (first attempt of each payment)."""
    ts, rows, pod = _keep(ts, rows, pod)
    head = _head(_ts_text(ts, pod), pod, "INFO", "payment.attempt")
    cols = (x.tid[rows], x.cid[rows], x.amount[rows], x.cur[rows], x.trace[rows])
    text = [
        f'{h},"txn_id":"{i}","customer_id":"{c}","amount_minor":{a},"currency":"{u}",'
        f'"attempt":1,"trace_id":"{r}"}}'
        for h, i, c, a, u, r in zip(head, *cols, strict=True)
    ]
    return Lines(ts, pod, np.zeros(0), text)


def _retry_lines(
    x: _Text, rows: np.ndarray, ts: np.ndarray, pod: np.ndarray, k: int, backoff: np.ndarray
) -> Lines:
    """``payment.retry`` lines announcing attempt ``k + 1``."""
    ts, rows, pod, backoff = _keep(ts, rows, pod, backoff)
    head = _head(_ts_text(ts, pod), pod, "WARN", "payment.retry")
    text = [
        f'{h},"txn_id":"{i}","attempt":{k + 1},"backoff_ms":{g},"trace_id":"{r}"}}'
        for h, i, g, r in zip(head, x.tid[rows], backoff.tolist(), x.trace[rows], strict=True)
    ]
    return Lines(ts, pod, np.zeros(0), text)


def _failed_lines(
    rng: np.random.Generator,
    x: _Text,
    rows: np.ndarray,
    ts: np.ndarray,
    pod: np.ndarray,
    k: int,
    codes: np.ndarray,
    lat: np.ndarray,
) -> Lines:
    """``payment.failed`` lines of attempt ``k + 1``; a few carry a space-padded txn_id."""
    ts, rows, pod, codes, lat = _keep(ts, rows, pod, codes, lat)
    tid = x.tid[rows].copy()
    pad = rng.random(len(tid)) < _P_PAD_TXN_ID
    tid[pad] = [f" {t} " for t in tid[pad]]
    ts_text = _ts_text(ts, pod)
    cols = (x.fail_cust[rows], x.fail_amount[rows], x.cur[rows], x.trace[rows])
    text = [
        f'{{"ts":"{t}","level":"{_CODE_LEVEL[e]}","pod":"{PODS[p]}","event":"payment.failed",'
        f'"txn_id":"{i}",{c}{a}"currency":"{u}","error_code":"{CODES[e]}","attempt":{k + 1},'
        f'"latency_ms":{la},"trace_id":"{r}","message":"{_CODE_MESSAGE[e]}"}}'
        for t, p, i, e, la, c, a, u, r in zip(
            ts_text, pod.tolist(), tid, codes.tolist(), lat.tolist(), *cols, strict=True
        )
    ]
    return Lines(ts, pod, np.zeros(0), text)


def _succeeded_lines(
    x: _Text, rows: np.ndarray, ts: np.ndarray, pod: np.ndarray, k: int, lat: np.ndarray
) -> Lines:
    """``payment.succeeded`` lines of attempt ``k + 1``."""
    ts, rows, pod, lat = _keep(ts, rows, pod, lat)
    head = _head(_ts_text(ts, pod), pod, "INFO", "payment.succeeded")
    cols = (x.tid[rows], x.cid[rows], x.amount[rows], x.cur[rows], lat.tolist(), x.trace[rows])
    text = [
        f'{h},"txn_id":"{i}","customer_id":"{c}","amount_minor":{a},"currency":"{u}",'
        f'"attempt":{k + 1},"latency_ms":{la},"trace_id":"{r}"}}'
        for h, i, c, a, u, la, r in zip(head, *cols, strict=True)
    ]
    return Lines(ts, pod, np.zeros(0), text)


def payment_lines(
    rng: np.random.Generator,
    b: dict[str, np.ndarray],
    x: _Text,
    starts: np.ndarray,
    ends: np.ndarray,
) -> list[Lines]:
    """All payment event lines of a batch, in causal order per payment."""
    nf, ok, pods = b["n_fail"], b["success"], b["pods"]
    rows = np.nonzero(b["attempt_logged"])[0]
    parts = [_attempt_lines(x, rows, starts[rows, 0], pods[rows, 0])]
    for k in range(4):
        if k > 0:
            rows = np.nonzero((k < nf) | ((k == nf) & ok))[0]
            parts.append(
                _retry_lines(x, rows, starts[rows, k], pods[rows, k], k, b["gap"][rows, k - 1])
            )
        if k < 3:
            rows = np.nonzero((k < nf) & b["fail_logged"])[0]
            codes, lat = b["codes"][rows, k], b["lat"][rows, k]
            parts.append(_failed_lines(rng, x, rows, ends[rows, k], pods[rows, k], k, codes, lat))
        rows = np.nonzero((k == nf) & ok)[0]
        parts.append(_succeeded_lines(x, rows, ends[rows, k], pods[rows, k], k, b["lat"][rows, k]))
    return parts


def http_lines(b: dict[str, np.ndarray], x: _Text, ends: np.ndarray) -> Lines:
    """``http.request`` noise: the POST that carried each first attempt."""
    rows = np.nonzero(b["attempt_logged"])[0]
    nf, first = b["n_fail"][rows], b["codes"][rows, 0]
    status = np.where(nf > 0, np.array(_CODE_HTTP)[first], np.where(b["success"][rows], 201, 202))
    ts, rows, pod, status = _keep(ends[rows, 0] + 1, rows, b["pods"][rows, 0], status)
    head = _head(_ts_text(ts, pod), pod, "INFO", "http.request")
    lat = b["lat"][rows, 0].tolist()
    text = [
        f'{h},"method":"POST","path":"/v1/payments","status":{s},"duration_ms":{d},'
        f'"trace_id":"{r}"}}'
        for h, s, d, r in zip(head, status.tolist(), lat, x.trace[rows], strict=True)
    ]
    return Lines(ts, pod, np.zeros(0), text)


def _periodic_times(rng: np.random.Generator, sl: Slice, per_15min: int) -> np.ndarray:
    """Evenly spaced, jittered times of a probe run ``per_15min`` times per 15 min at scale=1."""
    n = max(1, round(per_15min * sl.scale * (sl.end - sl.start) / SLICE_MS))
    step = (sl.end - sl.start) / n
    return sl.start + ((np.arange(n) + rng.random(n)) * step).astype(np.int64)


def health_lines(rng: np.random.Generator, sl: Slice) -> list[Lines]:
    """``healthcheck`` and ``db.pool.stats`` noise of every pod; both sicken in the window."""
    parts = []
    for p in range(len(PODS)):
        ts = _periodic_times(rng, sl, _HEALTHCHECKS_PER_15MIN)
        pod = np.full(len(ts), p, np.int8)
        sick = in_window(ts) & (rng.random(len(ts)) < 0.12)
        dur = np.where(sick, rng.integers(200, 3_000, len(ts)), rng.integers(1, 6, len(ts)))
        head = _head(_ts_text(ts, pod), pod, "DEBUG", "healthcheck")
        text = [
            f'{h},"probe":"readiness","status":{503 if s else 200},"duration_ms":{d}}}'
            for h, s, d in zip(head, sick.tolist(), dur.tolist(), strict=True)
        ]
        parts.append(Lines(ts, pod, np.zeros(0), text))
        parts.append(_pool_lines(rng, sl, p))
    return parts


def _pool_lines(rng: np.random.Generator, sl: Slice, p: int) -> Lines:
    """``db.pool.stats`` noise of pod ``p``: the pool is exhausted during the window."""
    ts = _periodic_times(rng, sl, _POOL_STATS_PER_15MIN)
    pod = np.full(len(ts), p, np.int8)
    dry = in_window(ts)
    active = np.where(dry, 20, rng.integers(2, 13, len(ts)))
    waiting = np.where(dry, rng.integers(20, 180, len(ts)), 0)
    head = _head(_ts_text(ts, pod), pod, "INFO", "db.pool.stats")
    text = [
        f'{h},"pool":"payments-rw","active":{a},"idle":{20 - a},"waiting":{w},"max":20'
        + (',"top_holder":"ledger-sync"}' if d else "}")
        for h, a, w, d in zip(head, active.tolist(), waiting.tolist(), dry.tolist(), strict=True)
    ]
    return Lines(ts, pod, np.zeros(0), text)


def concat(parts: list[Lines], seq0: int) -> Lines:
    """Join parts; lines without a creation order get one from ``seq0`` in part order."""
    for part in parts:
        if len(part.seq) != len(part.ts):
            part.seq = seq0 + np.arange(len(part.ts), dtype=np.int64)
            seq0 += len(part.ts)
    return Lines(
        np.concatenate([p.ts for p in parts]).astype(np.int64),
        np.concatenate([p.pod for p in parts]).astype(np.int8),
        np.concatenate([p.seq for p in parts]).astype(np.int64),
        [t for p in parts for t in p.text],
    )


def split(lines: Lines, end: int) -> tuple[Lines, Lines]:
    """Split into lines before ``end`` and the rest (carried to a later slice)."""
    now, later = np.nonzero(lines.ts < end)[0], np.nonzero(lines.ts >= end)[0]
    return tuple(  # type: ignore[return-value]
        Lines(lines.ts[i], lines.pod[i], lines.seq[i], [lines.text[j] for j in i.tolist()])
        for i in (now, later)
    )
