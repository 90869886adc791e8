"""Payments: one batch of columns per slice of the day (grain: one payment), natural traffic
and the planted cases merged, with their attempts' timeline and the transaction table's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from transforms.sample.plants import Plant, failure_latency
from transforms.sample.world import (
    BUSINESS,
    CODE_LAT_BASE,
    CODE_LAT_SPAN,
    CODES,
    CURRENCIES,
    FAILED,
    HOUR_MS,
    INTERNAL,
    OUTAGE_CODE_P,
    OUTAGE_CODES,
    PENDING,
    PODS,
    REFUNDED,
    SLICE_MS,
    STATUSES,
    SUCCEEDED,
    TRANSACTIONS_SCHEMA,
    UPSTREAM,
    WINDOW_END_MS,
    WINDOW_START_MS,
    World,
    customer_ids,
)

DAY_START_US = int(datetime(2025, 1, 7, tzinfo=UTC).timestamp()) * 1_000_000
_P_OUTAGE = 0.5  # share of payments hit by the outage while it lasts
_DECLINE_CODE_P = (0.50, 0.25, 0.10, 0.15)


# Outcomes when not hit by the outage: succeeded, declined, pending, refunded, sporadic error.
_OUTCOME_CUM_P = np.cumsum([0.9555, 0.03, 0.005, 0.008, 0.0015])
_P_RECOVER = 0.35
_P_OMIT_CUSTOMER = 0.15  # failure lines of table-backed payments may lack customer_id
_SCALE_PER_SLICE = 16  # above this scale slices get shorter than 15 min: memory stays flat


def _empty_batch(n: int) -> dict[str, np.ndarray]:
    """Columns of ``n`` payments with defaults: succeeded on the first attempt, fully logged."""
    return {
        "t0": np.zeros(n, np.int64),  # attempt time, ms since 2025-01-07T00:00Z
        "cust": np.zeros(n, np.int64),
        "log_cust": np.full(n, -1, np.int64),
        "cur": np.zeros(n, np.int8),
        "amount": np.zeros(n, np.int64),  # minor units
        "pods": np.zeros((n, 4), np.int8),  # pod per attempt
        "n_fail": np.zeros(n, np.int8),
        "codes": np.zeros((n, 3), np.int8),  # error code per failing attempt
        "success": np.ones(n, bool),  # last attempt succeeded
        "lat": np.zeros((n, 4), np.int64),  # ms per attempt
        "gap": np.zeros((n, 3), np.int64),  # ms from a failure to its retry
        "status": np.zeros(n, np.int8),  # -1: no table row
        "err": np.full(n, -1, np.int8),
        "refund": np.zeros(n, np.int64),  # ms from success to refund
        "attempt_logged": np.ones(n, bool),
        "fail_logged": np.ones(n, bool),
        "omit": np.zeros(n, np.int8),  # failure lines: 1 drop customer_id, 2 drop amount_minor
    }


def _latency(rng: np.random.Generator, codes: np.ndarray) -> np.ndarray:
    """Latency in ms of attempts failing with ``codes``."""
    span = CODE_LAT_SPAN[codes]
    return CODE_LAT_BASE[codes] + (rng.random(codes.shape) * span).astype(np.int64)


def _success_latency(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """Latency in ms of successful attempts (log-normal, median about 320 ms)."""
    return np.clip(rng.lognormal(np.log(320), 0.5, shape), 40, 8_000).astype(np.int64)


def in_window(ts: np.ndarray) -> np.ndarray:
    """True where ``ts`` (ms) lies in [window start, window end)."""
    return (ts >= WINDOW_START_MS) & (ts < WINDOW_END_MS)


def _draw_customers(rng: np.random.Generator, world: World, sl: Slice) -> np.ndarray:
    """Customer numbers of the payments starting in slice ``sl``."""
    lam = world.rate[:, sl.start // HOUR_MS] * sl.scale * (sl.end - sl.start) / HOUR_MS
    out = []
    for (nums, cum), k in zip(world.pickers, rng.poisson(lam).tolist(), strict=True):
        pick = np.searchsorted(cum, rng.random(k) * cum[-1], side="right")
        out.append(nums[np.minimum(pick, len(nums) - 1)])
    return np.concatenate(out)


def _draw_currency(rng: np.random.Generator, world: World, cust: np.ndarray) -> np.ndarray:
    """Currency index per payment: the customer's primary one, sometimes the secondary."""
    second = world.currency2[cust]
    use = (second >= 0) & (rng.random(len(cust)) < 0.25)
    return np.where(use, second, world.currency[cust]).astype(np.int8)


def _draw_amounts(rng: np.random.Generator, cur: np.ndarray, business: np.ndarray) -> np.ndarray:
    """Amounts in minor units: price-like cents for USD/EUR/GBP, round yen for JPY."""
    n = len(cur)
    jpy = cur == CURRENCIES.index("JPY")
    base = rng.lognormal(np.log(3_500), 0.9, n) * np.where(business, 4.0, 1.0)
    base = np.where(jpy, base * 1.2, base)
    style = rng.random(n)
    cents = np.where(style < 0.45, (base // 100) * 100 + 99, base)
    cents = np.where((style >= 0.45) & (style < 0.65), np.round(base / 100) * 100, cents)
    yen = np.where(style < 0.4, np.round(base / 100) * 100, np.round(base / 10) * 10)
    return np.clip(np.where(jpy, yen, cents), np.where(jpy, 100, 99), 5_000_000).astype(np.int64)


def natural_batch(rng: np.random.Generator, world: World, sl: Slice) -> dict[str, np.ndarray]:
    """Ordinary traffic of one slice: outcomes follow the outage while it lasts."""
    cust = _draw_customers(rng, world, sl)
    n = len(cust)
    b = _empty_batch(n)
    b["t0"] = sl.start + rng.integers(0, sl.end - sl.start, n)
    b["cust"] = cust
    b["cur"] = _draw_currency(rng, world, cust)
    b["amount"] = _draw_amounts(rng, b["cur"], world.segment[cust] == BUSINESS)
    b["pods"] = rng.integers(0, len(PODS), (n, 4)).astype(np.int8)
    b["gap"] = np.where(
        rng.random((n, 3)) < 0.6,
        rng.integers(2_000, 10_000, (n, 3)),
        rng.integers(30_000, 300_000, (n, 3)),
    )
    b["omit"] = (rng.random(n) < _P_OMIT_CUSTOMER).astype(np.int8)
    _draw_outcomes(rng, b)
    return b


def _draw_outcomes(rng: np.random.Generator, b: dict[str, np.ndarray]) -> None:
    """Fill attempts, codes, latencies and table status of a natural batch in place."""
    n, t0 = len(b["t0"]), b["t0"]
    o_code = rng.choice(4, n, p=OUTAGE_CODE_P).astype(np.int8)
    o_lat = _latency(rng, o_code)
    outage = (rng.random(n) < _P_OUTAGE) & in_window(t0 + o_lat)
    # cat: 0 succeeded, 1 declined, 2 pending, 3 refunded, 4 sporadic outage-code error
    cat = np.searchsorted(_OUTCOME_CUM_P, rng.random(n), side="right")
    cat = np.where(outage | (cat > 4), 0, cat)
    later = rng.choice(4, (n, 3), p=OUTAGE_CODE_P)
    declines = 4 + rng.choice(4, (n, 3), p=_DECLINE_CODE_P)
    sporadic = np.where(rng.random(n) < 0.5, UPSTREAM, INTERNAL)
    s_lat = _latency(rng, sporadic)
    cat = np.where((cat == 4) & (in_window(t0) | in_window(t0 + s_lat)), 0, cat)
    codes = np.where(rng.random((n, 3)) < 0.2, declines, later)
    codes[:, 0] = o_code
    codes = np.where((cat == 1)[:, None], declines, codes)
    codes[:, 0] = np.where(cat == 4, sporadic, codes[:, 0])
    nf = np.select(
        [outage, cat == 1, cat == 4],
        [rng.choice([1, 2, 3], n, p=[0.7, 0.22, 0.08]), rng.choice([1, 2], n, p=[0.85, 0.15]), 1],
        0,
    )
    u = rng.random(n)
    b["success"] = np.select(
        [outage, cat == 1], [u < _P_RECOVER, u < 0.10], (cat != 2) & (cat != 4)
    )
    b["n_fail"], b["codes"] = nf.astype(np.int8), codes.astype(np.int8)
    _fill_latencies(rng, b, np.where(outage, o_lat, s_lat))
    _retry_declines_into_outage(rng, b, cat == 1)
    _fill_status(rng, b, outage, cat == 3)


def _fill_latencies(rng: np.random.Generator, b: dict[str, np.ndarray], lat0: np.ndarray) -> None:
    """Latency per attempt: by error code for failing attempts, log-normal for the rest."""
    n, nf = len(b["t0"]), b["n_fail"]
    lat = _success_latency(rng, (n, 4))
    lat[:, :3] = np.where(np.arange(3) < nf[:, None], _latency(rng, b["codes"]), lat[:, :3])
    first_outage = (nf > 0) & (b["codes"][:, 0] < len(OUTAGE_CODES))  # keep the drawn latency
    lat[:, 0] = np.where(first_outage, lat0, lat[:, 0])
    b["lat"] = lat


def _retry_declines_into_outage(
    rng: np.random.Generator, b: dict[str, np.ndarray], declined: np.ndarray
) -> None:
    """A declined payment retried inside the window may hit the outage on its second try."""
    start1 = b["t0"] + b["lat"][:, 0] + b["gap"][:, 0]
    hit = declined & (b["n_fail"] == 2) & in_window(start1) & (rng.random(len(start1)) < 0.5)
    code = rng.choice(4, len(start1), p=OUTAGE_CODE_P).astype(np.int8)
    b["codes"][:, 1] = np.where(hit, code, b["codes"][:, 1])
    b["lat"][:, 1] = np.where(hit, _latency(rng, code), b["lat"][:, 1])


def _fill_status(
    rng: np.random.Generator, b: dict[str, np.ndarray], outage: np.ndarray, refunded: np.ndarray
) -> None:
    """Table status and error code: the last attempt decides; some outage rows stay pending."""
    n, nf, ok = len(b["t0"]), b["n_fail"].astype(np.int64), b["success"]
    last_code = b["codes"][np.arange(n), np.maximum(nf - 1, 0)]
    stuck = outage & ~ok & (rng.random(n) < 0.03)  # the status update never reached the DB
    status = np.select(
        [ok & refunded, ok, stuck | (nf == 0)], [REFUNDED, SUCCEEDED, PENDING], FAILED
    )
    b["status"] = status.astype(np.int8)
    b["err"] = np.where(status == FAILED, last_code, -1).astype(np.int8)
    b["refund"] = np.where(status == REFUNDED, rng.integers(HOUR_MS, 8 * HOUR_MS, n), 0)


def plant_batch(
    rng: np.random.Generator, world: World, plants: list[Plant]
) -> dict[str, np.ndarray]:
    """Columns for the planted payments of one slice."""
    n = len(plants)
    b = _empty_batch(n)
    for i, p in enumerate(plants):
        nf = len(p.codes)
        b["t0"][i], b["cust"][i], b["log_cust"][i], b["pods"][i] = p.t0, p.cust, p.log_cust, p.pod
        b["n_fail"][i], b["codes"][i, :nf], b["success"][i] = nf, p.codes, p.success
        b["lat"][i] = [p.lat0] + [failure_latency(c) for c in p.codes[1:]] + [300] * (4 - nf)
        b["gap"][i] = p.gap
        status = p.status if p.status is not None else (SUCCEEDED if p.success else FAILED)
        b["status"][i], b["err"][i] = status, p.codes[-1] if status == FAILED else -1
        b["attempt_logged"][i], b["fail_logged"][i], b["omit"][i] = (
            p.attempt_logged,
            p.fail_logged,
            p.omit,
        )
    b["cur"] = _draw_currency(rng, world, b["cust"])
    b["amount"] = _draw_amounts(rng, b["cur"], world.segment[b["cust"]] == BUSINESS)
    return b


def merge_batches(*batches: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Concatenate batches and order the payments by attempt time."""
    merged = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    order = np.argsort(merged["t0"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


def timeline(b: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end (ms) of every attempt, shape (n, 4), and the time of the final state."""
    n = len(b["t0"])
    starts, ends = np.zeros((n, 4), np.int64), np.zeros((n, 4), np.int64)
    starts[:, 0] = b["t0"]
    for k in range(4):
        ends[:, k] = starts[:, k] + b["lat"][:, k]
        if k < 3:
            starts[:, k + 1] = ends[:, k] + b["gap"][:, k]
    nf = b["n_fail"].astype(np.int64)
    last = np.where(b["success"], nf, np.maximum(nf - 1, 0))
    final = ends[np.arange(n), last]
    final = np.where(b["status"] == PENDING, b["t0"], final) + b["refund"]
    return starts, ends, final


def table_rows(
    b: dict[str, np.ndarray], tid: np.ndarray, world: World, final: np.ndarray
) -> pa.Table:
    """Rows of transactions.parquet for the payments with a table row."""
    m = b["status"] >= 0
    err = b["err"][m]
    codes = np.array(CODES, dtype=object)[np.maximum(err, 0)]
    return pa.table(
        {
            "txn_id": pa.array(tid[m], pa.string()),
            "customer_id": pa.array(customer_ids(world, b["cust"][m]), pa.string()),
            "amount_minor": pa.array(b["amount"][m], pa.int64()),
            "currency": pa.array(np.array(CURRENCIES, dtype=object)[b["cur"][m]], pa.string()),
            "status": pa.array(np.array(STATUSES, dtype=object)[b["status"][m]], pa.string()),
            "error_code": pa.array(codes, pa.string(), mask=err < 0),
            "created_at": us(b["t0"][m]),
            "updated_at": us(final[m]),
        },
        schema=TRANSACTIONS_SCHEMA,
    )


def us(ms: np.ndarray) -> pa.Array:
    """Milliseconds since the day start as a timestamp[us, tz=UTC] array."""
    return pa.array(DAY_START_US + ms * 1_000, pa.timestamp("us", tz="UTC"))


@dataclass(frozen=True)
class Slice:
    """A stretch of the day generated at once: [start, end) in ms since 2025-01-07T00:00Z.

    Slices are 15 minutes up to scale 16 and shorter above, so that a slice never holds more
    than about 16 x 1,600 log lines and memory does not grow with scale.
    """

    start: int
    end: int
    scale: int

    @staticmethod
    def length(scale: int) -> int:
        """Slice length in ms for ``scale``: 15 minutes divided into equal whole-ms parts."""
        parts = -(-scale // _SCALE_PER_SLICE)
        while SLICE_MS % parts:
            parts += 1
        return SLICE_MS // parts
