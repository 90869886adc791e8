"""Planted cases: the payments put into the day on purpose, one per case the pipeline must
classify (classes, customers, window edges), counted as ``planted_*`` in ``generate``'s result."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms.sample.world import (
    CODE_LAT_BASE,
    CODE_LAT_SPAN,
    CONSUMER,
    INTERNAL,
    LOCAL_POD,
    OUTAGE_CODE_P,
    PENDING,
    POOL,
    REFUSED,
    STAFF,
    TEST,
    UPSTREAM,
    WINDOW_END_MS,
    WINDOW_START_MS,
    World,
)

_DECLINED = 4
_RISK, _GW502 = 8, 9


@dataclass(frozen=True)
class Plant:
    """One deliberately planted payment (a case the pipeline must classify).

    Attributes:
        cls: truth class of the candidate (``failed``, ``log_only``...), or "" when the payment
            is not a candidate (outside the window, no class).
        tag: situation name used for the ``planted_<tag>`` counts ("" for none).
        t0: attempt time, ms since 2025-01-07T00:00Z (= ``created_at``).
        lat0: latency of the first attempt in ms (first failure at ``t0 + lat0``).
        codes: error code indices of the failing attempts, in order.
        success: True when a retry after the failures succeeded.
        cust: customer number (table and log).
        log_cust: customer number written in the failure lines when it differs, else -1.
        status: table status index, -1 for no table row, None for succeeded when ``success``
            else failed.
        gap: ms between a failure and the retry that follows it.
        attempt_logged: False drops the ``payment.attempt`` line.
        fail_logged: False drops the ``payment.failed`` lines (log line lost).
        omit: 0 none, 1 drop customer_id, 2 drop amount_minor from the failure lines.
        pod: pod index of every line of this payment.
    """

    cls: str
    tag: str
    t0: int
    lat0: int
    codes: tuple[int, ...]
    cust: int
    pod: int
    success: bool = False
    log_cust: int = -1
    status: int | None = None
    gap: int = 4_000
    attempt_logged: bool = True
    fail_logged: bool = True
    omit: int = 0


def plan_plants(rng: np.random.Generator, world: World, scale: int) -> list[Plant]:
    """Plan every planted payment: class cases (x scale), customer cases and window edges."""
    plants: list[Plant] = []
    plants += _plant_classes(rng, world, scale)
    plants += _plant_customers(rng, world, scale)
    plants += _plant_edges(rng, world)
    return plants


def _active_consumers(world: World) -> np.ndarray:
    """Customer numbers of active consumers present in customers.parquet."""
    known = np.arange(world.n_known)
    return known[(world.segment[known] == CONSUMER) & ~world.closed[known]]


def _inside(rng: np.random.Generator) -> int:
    """A random attempt time well inside the window (chains finish before it ends)."""
    return int(rng.integers(WINDOW_START_MS + 60_000, WINDOW_END_MS - 600_000))


def _outage_code(rng: np.random.Generator) -> int:
    """A random outage error code index."""
    return int(rng.choice(4, p=OUTAGE_CODE_P))


def failure_latency(code: int) -> int:
    """The fixed latency used for a planted failing attempt with ``code``."""
    return int(CODE_LAT_BASE[code] + CODE_LAT_SPAN[code] // 2)


def _plant_classes(rng: np.random.Generator, world: World, scale: int) -> list[Plant]:
    """Payments for the rare event classes, placed well inside the window."""
    out: list[Plant] = []
    consumers = _active_consumers(world)

    def add(cls: str, tag: str, codes: tuple[int, ...], cust: int = -1, **kw: object) -> None:
        t0, pod = _inside(rng), int(rng.integers(0, 4))
        cust = cust if cust >= 0 else int(rng.choice(consumers))
        out.append(Plant(cls, tag, t0, failure_latency(codes[0]), codes, cust, pod, **kw))

    for i in range(40 * scale):
        codes = (_outage_code(rng),) * (1 if i % 3 else 2)
        add("log_only", "", codes, status=-1)
    for i in range(12 * scale):
        add("unattributable", "", (_outage_code(rng),), status=-1, attempt_logged=False,
            omit=1 if i % 3 else 2)  # fmt: skip
    for i in range(10 * scale):
        add("table_only", "", (_outage_code(rng),), fail_logged=False, attempt_logged=i % 5 < 3)
    for _ in range(3 * scale):
        add("unknown_error_code", "", (_RISK,), status=PENDING)
        add("unknown_error_code", "", (_GW502,))
    for _ in range(2 * scale):
        add("unknown_error_code", "", (_DECLINED, _GW502))
        add("failed", "outage_and_unknown_code", (_GW502, POOL))
        add("failed", "decline_then_outage", (_DECLINED, POOL))
        add("recovered", "decline_then_outage", (_DECLINED + 1, UPSTREAM), success=True)
    for i in range(3 * scale):
        a, b = rng.choice(consumers, 2, replace=False).tolist()
        add("recovered" if i % 3 == 2 else "failed", "customer_mismatch", (POOL,), cust=a,
            log_cust=b, success=i % 3 == 2)  # fmt: skip
    return out


def _plant_customers(rng: np.random.Generator, world: World, scale: int) -> list[Plant]:
    """Outage failures for unknown, closed, internal, test and specially named customers."""
    known = np.arange(world.n_known)
    seg, closed = world.segment[known], world.closed[known]
    groups = [
        ("closed_account", rng.choice(known[closed], 4 * scale, replace=False)),
        ("excluded_internal", rng.choice(known[seg == STAFF], 3 * scale, replace=False)),
        ("excluded_test", rng.choice(known[seg == TEST], 3 * scale, replace=False)),
        ("unknown_customer", np.arange(world.n_known, len(world.currency))),
        ("special_name", np.array(world.special, dtype=np.int64)),
    ]
    out = []
    for tag, nums in groups:
        for i, cust in enumerate(nums.tolist()):
            code = _outage_code(rng)
            log_only = tag == "unknown_customer" and i % 4 == 3
            cls, status = ("log_only", -1) if log_only else ("failed", None)
            pod = int(rng.integers(0, 4))
            out.append(
                Plant(
                    cls, tag, _inside(rng), failure_latency(code), (code,), cust, pod, status=status
                )
            )
    return out


def _plant_edges(rng: np.random.Generator, world: World) -> list[Plant]:
    """Fixed failures at and around the window edges (not scaled)."""
    ws, we = WINDOW_START_MS, WINDOW_END_MS
    lp = LOCAL_POD
    specs = [  # (cls, tag, first failure at, lat0, codes, pod, extra)
        ("failed", "edge_start_inside", ws, 30_000, (POOL,), 0, {}),
        ("failed", "edge_start_inside", ws, 30_000, (POOL,), 1, {}),
        ("failed", "edge_start_inside", ws, 10_000, (UPSTREAM,), lp, {}),
        ("", "edge_start_outside", ws - 1, 10_000, (UPSTREAM,), 2, {}),
        ("", "edge_start_outside", ws - 1, 5, (REFUSED,), lp, {}),
        ("failed", "edge_end_inside", we - 1, 5, (REFUSED,), 0, {}),
        ("failed", "edge_end_inside", we - 1, 30_000, (POOL,), lp, {}),
        ("", "edge_end_outside", we, 0, (REFUSED,), 1, {}),
        ("", "edge_end_outside", we, 0, (REFUSED,), 2, {}),
        ("", "edge_end_outside", we, 0, (REFUSED,), lp, {}),
        ("recovered", "edge_recovered_after_end", we - 30_000, 5, (REFUSED,), 3,
         {"success": True, "gap": 50_000}),
        ("failed", "edge_straddle_decline_before", ws - 2_000, 400, (_DECLINED, REFUSED), 0, {}),
        ("declined", "edge_straddle_outage_before", ws - 2_000, 5, (REFUSED, _DECLINED), 1, {}),
        ("table_only", "edge_table_created_at_start", ws + 10_000, 10_000, (UPSTREAM,), 0,
         {"fail_logged": False}),
        ("", "edge_table_created_at_end", we + 10_000, 10_000, (UPSTREAM,), 0,
         {"fail_logged": False}),
        ("", "edge_table_created_before_start", ws + 9_999, 10_000, (UPSTREAM,), 2,
         {"fail_logged": False}),
    ]  # fmt: skip
    for k in range(8):  # early symptoms and the tail: outage codes just outside the window
        at = (
            ws - int(rng.integers(60_000, 360_000)) if k < 4 else we + int(rng.integers(1, 600_000))
        )
        code = (POOL, REFUSED, UPSTREAM, INTERNAL)[k % 4]
        lat = failure_latency(code)
        at = max(at, we + lat) if k >= 4 else at  # created_at stays outside the window too
        specs.append(("", "early_outage" if k < 4 else "late_outage", at, lat, (code,), k % 4, {}))
    consumers = _active_consumers(world)
    out = []
    for cls, tag, fail_at, lat0, codes, pod, extra in specs:
        cust = int(rng.choice(consumers))
        out.append(Plant(cls, tag, fail_at - lat0, lat0, codes, cust, pod, **extra))
    return out


def count_plants(plants: list[Plant]) -> dict[str, int]:
    """Count planted payments per truth class and per situation tag (``planted_*`` keys).

    Customer tags (``closed_account``, ``excluded_*``, ``unknown_customer``...) have one payment
    per customer, so their counts are also counts of distinct customers.
    """
    counts: dict[str, int] = {}
    for plant in plants:
        for key in {plant.cls, plant.tag} - {""}:
            counts[f"planted_{key}"] = counts.get(f"planted_{key}", 0) + 1
    return dict(sorted(counts.items()))
