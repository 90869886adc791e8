"""Generate a realistic, deterministic sample incident for outage-credits.

The story: on 2025-01-07 the payment service degraded from 14:15 to 18:15 America/New_York
(19:15Z to 23:15Z, window [start, end)). A new service (``ledger-sync``) held database
connections, the pool ran dry and about half of all payments failed inside the window. Outside
the window failures are rare and mostly customer declines.

``generate`` writes, under ``out_dir``:

* ``logs/payment-api-<pod>.2025-01-07T<HH>.jsonl.gz``: JSON lines, gzip, one file per pod and UTC
  hour (4 pods x 24 hours). Grain: one log event per line. Three pods write UTC timestamps with
  ``Z`` and milliseconds; pod ``5c4b-lm7rt`` writes local time with ``-05:00`` and microseconds.
  Amounts are integer minor units (``amount_minor``, JPY has no minor digits).
* ``transactions.parquet``: grain one payment, key ``txn_id``; timestamps in UTC, microseconds.
* ``customers.parquet``: grain one customer, key ``customer_id``.
* ``INC-2025-01-07.toml``: the incident definition and credit policy.

The logs carry the dirt of real shipping: about 0.5% byte-identical duplicate lines (a few of them
repeated at the top of the same pod's next hourly file), a few malformed lines (truncated JSON,
plain-text stack-trace lines; at most 0.2% of any file), ``txn_id`` values padded with spaces in
some failure lines, failure lines without ``customer_id``, and unknown error codes.

Every case the pipeline must classify is planted on purpose (see ``_plan_plants``); the counts of
planted cases come back in the result of ``generate`` under ``planted_*`` keys.

Output is a pure function of ``(seed, scale)``: byte-identical files for the same arguments (gzip
headers carry no name and mtime 0). No wall clock is read. Volume grows linearly with ``scale``;
memory stays flat because the day is generated in slices of at most 15 minutes (shorter at large
scales) and streamed into the hourly files, and customers are written in chunks.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.files import atomic_path, write_text

__all__ = ["INCIDENT_TOML", "generate"]

DAY = "2025-01-07"
DAY_START_US = int(datetime(2025, 1, 7, tzinfo=UTC).timestamp()) * 1_000_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SLICE_MS = 15 * 60_000
WINDOW_START_MS = (19 * 60 + 15) * 60_000  # 2025-01-07T19:15:00Z = 14:15 America/New_York
WINDOW_END_MS = (23 * 60 + 15) * 60_000  # 2025-01-07T23:15:00Z = 18:15 America/New_York
LOCAL_OFFSET_H = -5  # America/New_York in January

PODS = ("7d9f-abc12", "7d9f-kx8p4", "7d9f-q2w9z", "5c4b-lm7rt")
LOCAL_POD = 3  # older image with TZ=America/New_York: logs local time with an offset
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
OUTAGE_CODES = ("DB_POOL_TIMEOUT", "DB_CONN_REFUSED", "UPSTREAM_TIMEOUT", "INTERNAL_ERROR")
DECLINE_CODES = ("CARD_DECLINED", "INSUFFICIENT_FUNDS", "EXPIRED_CARD", "DO_NOT_HONOR")
UNKNOWN_CODES = ("RISK_REVIEW", "GATEWAY_502")
CODES = OUTAGE_CODES + DECLINE_CODES + UNKNOWN_CODES
STATUSES = ("succeeded", "failed", "pending", "refunded")
SEGMENTS = ("consumer", "business", "internal", "test")

# Code indices into CODES / STATUSES / SEGMENTS.
_POOL, _REFUSED, _UPSTREAM, _INTERNAL = 0, 1, 2, 3
_DECLINED = 4
_RISK, _GW502 = 8, 9
_SUCCEEDED, _FAILED, _PENDING, _REFUNDED = 0, 1, 2, 3
_CONSUMER, _BUSINESS, _STAFF, _TEST = 0, 1, 2, 3

# Per code: latency of the failing attempt in ms (base + uniform span), HTTP status, message.
_CODE_LAT_BASE = np.array([30_000, 1, 10_000, 20, 150, 150, 120, 150, 300, 50], dtype=np.int64)
_CODE_LAT_SPAN = np.array([60, 15, 40, 400, 1000, 900, 600, 1000, 600, 2950], dtype=np.int64)
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

# Natural traffic. Volume at scale=1 gives about 150k log lines for the day.
_TXNS_PER_DAY = 33_000
_CUSTOMERS = 12_000
_P_OUTAGE = 0.5  # share of payments hit by the outage while it lasts
_OUTAGE_CODE_P = (0.55, 0.15, 0.20, 0.10)
_DECLINE_CODE_P = (0.50, 0.25, 0.10, 0.15)
# Outcomes when not hit by the outage: succeeded, declined, pending, refunded, sporadic error.
_OUTCOME_CUM_P = np.cumsum([0.9555, 0.03, 0.005, 0.008, 0.0015])
_P_RECOVER = 0.35
_P_OMIT_CUSTOMER = 0.15  # failure lines of table-backed payments may lack customer_id
_P_PAD_TXN_ID = 0.01
_HEALTHCHECKS_PER_15MIN = 90  # per pod, every 10 s at scale=1
_POOL_STATS_PER_15MIN = 30  # per pod, every 30 s at scale=1
_SCALE_PER_SLICE = 16  # above this scale slices get shorter than 15 min: memory stays flat
_DUP_RATE = 0.005
_BAD_RATE = 0.0008
_BAD_CAP = 0.002  # malformed lines never exceed this share of a file
_GZIP_LEVEL = 1  # fast; files are about 35% larger than at level 6
_CUSTOMER_CHUNK = 100_000  # customers per row group of customers.parquet

# Local-hour activity profile, shifted into UTC per country.
_PROFILE = np.array(
    [0.25, 0.15, 0.10, 0.08, 0.08, 0.12, 0.25, 0.45, 0.65, 0.80, 0.90, 1.00]
    + [1.05, 1.00, 0.95, 0.95, 1.00, 1.05, 1.10, 1.10, 1.00, 0.85, 0.60, 0.40]
)

INCIDENT_TOML = """\
id = "INC-2025-01-07"
title = "Payment service outage: database connections exhausted"
timezone = "America/New_York"
window_start = "2025-01-07T14:15:00"
window_end = "2025-01-07T18:15:00"

[sources]
logs = ["logs/*.jsonl.gz"]
logs_timezone = "UTC"
transactions = "transactions.parquet"
customers = "customers.parquet"

[policy]
version = "2025-01-v1"
basis = "flat_per_customer"
flat_minor = { USD = 1000, EUR = 1000, GBP = 800, JPY = 1500 }
percent = 10
min_minor = {}
cap_minor = {}
failure_events = ["payment.failed"]
outage_error_codes = ["DB_POOL_TIMEOUT", "DB_CONN_REFUSED", "UPSTREAM_TIMEOUT", "INTERNAL_ERROR"]
decline_error_codes = ["CARD_DECLINED", "INSUFFICIENT_FUNDS", "EXPIRED_CARD", "DO_NOT_HONOR"]
credit_recovered = true
credit_table_only = true
exclude_segments = ["internal", "test"]
"""

TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("txn_id", pa.string()),
        ("customer_id", pa.string()),
        ("amount_minor", pa.int64()),
        ("currency", pa.string()),
        ("status", pa.string()),
        ("error_code", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
CUSTOMERS_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("customer_id", "name", "email", "country", "segment")]
    + [("status", pa.string())]
)


# ---------------------------------------------------------------------------------------------
# Name pools. In the word lists "_" stands for a space inside one name.
# ---------------------------------------------------------------------------------------------
def _words(text: str) -> tuple[str, ...]:
    """Split a space-separated word list; "_" inside a word becomes a space."""
    return tuple(word.replace("_", " ") for word in text.split())


_WEST_FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Daniel Lisa Matthew Nancy "
    "Anthony Emily Ashley Olivia Liam Noah Emma Ava Sophia Mia Ethan Chloé Renée"
)
_WEST_LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson Anderson "
    "Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young "
    "Allen King Nguyen Patel Kim O'Connor Tremblay"
)
# country -> (currency index, UTC offset in hours, share of customers, first names, last names)
_COUNTRIES = {
    "US": (0, -5, 0.45, _WEST_FIRST, _WEST_LAST),
    "CA": (0, -5, 0.05, _WEST_FIRST + ("François", "Émilie"), _WEST_LAST + ("Gagnon", "Côté")),
    "MX": (0, -6, 0.04, _words("José María Juan Guadalupe Luis Ana Sofía Jesús Andrés Martín"),
           _words("García Hernández López Martínez González Pérez Rodríguez Sánchez Núñez")),
    "GB": (2, 0, 0.10, _words("Oliver George Amelia Isla Harry Jack Charlotte Freya Alfie Poppy"),
           _words("Smith Jones Taylor Brown Williams Wilson Evans Roberts Wright Hughes Khan")),
    "IE": (1, 0, 0.02, _words("Siobhán Seán Aoife Niamh Ciarán Pádraig Saoirse Conor"),
           _words("Murphy Kelly O'Sullivan Walsh Ó_Briain Byrne Ryan O'Brien")),
    "DE": (1, 1, 0.09, _words("Zoë Jürgen Lena Lukas Anna Felix Sophie Maximilian Jörg Björn"),
           _words("Müller Schmidt Schneider Fischer Weber Meyer Wagner Groß Köhler Weiß")),
    "FR": (1, 1, 0.07, _words("Chloé Léa Hugo Louis Jules Camille Manon Théo Élodie Zoé Inès"),
           _words("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Lefèvre")),
    "ES": (1, 1, 0.04, _words("José Lucía Martín Sofía Hugo Álvaro Marta Iñigo"),
           _words("García Fernández González López Sánchez Pérez Gómez Muñoz Ibáñez")),
    "IT": (1, 1, 0.03, _words("Giulia Marco Francesca Luca Chiara Matteo Niccolò"),
           _words("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci")),
    "NL": (1, 1, 0.02, _words("Daan Sem Emma Julia Lotte Bram Anouk"),
           _words("de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Visser")),
    "JP": (3, 9, 0.09, (), ()),  # names from _JP_FIRST / _JP_LAST
}  # fmt: skip
_COUNTRY_CODES = tuple(_COUNTRIES)
_JP_FIRST = _words("太郎:Taro 花子:Hanako 翔太:Shota 陽菜:Hina 健:Ken 美咲:Misaki 大輔:Daisuke")
_JP_LAST = _words(
    "山田:Yamada 佐藤:Sato 鈴木:Suzuki 高橋:Takahashi 田中:Tanaka 伊藤:Ito 中村:Nakamura"
)
_COMPANY_SUFFIX = {
    "US": "LLC", "CA": "Inc.", "MX": "S.A. de C.V.", "GB": "Ltd", "IE": "Ltd", "DE": "GmbH",
    "FR": "SARL", "ES": "S.L.", "IT": "S.r.l.", "NL": "B.V.", "JP": "",
}  # fmt: skip
_MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")
_STAFF_DOMAIN = "payco.example"
_SECONDARY_CURRENCY = (1, 0, 1, 0)  # USD -> EUR, EUR -> USD, GBP -> EUR, JPY -> USD
# (name, country): customers every run has, credited in the outage (unicode and hostile text).
_SPECIAL_NAMES = (
    ("Zoë Müller", "DE"),
    ("José Núñez", "MX"),
    ("山田 太郎", "JP"),
    ('=HYPERLINK("http://x","click")', "US"),
    ("+cmd|' /C calc'!A0", "US"),
    ('Jim "Jimbo" O\'Brien, Jr.', "US"),
)
_STACK_LINES = (
    "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, "
    "request timed out after 30000ms.",
    "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
    "\tat com.payco.payments.PaymentRepository.save(PaymentRepository.java:88)",
    "Caused by: java.net.ConnectException: Connection refused",
)


@dataclass(frozen=True)
class _World:
    """Customers as arrays indexed by customer number; unknown customers are appended last.

    Attributes:
        n_known: customers in customers.parquet (numbers ``0 .. n_known - 1``); the numbers
            after them are customers absent from it (see ``_customer_ids``).
        country: country index per known customer (into ``_COUNTRY_CODES``).
        currency: primary currency index per customer.
        currency2: secondary currency index, or -1.
        segment: segment index per customer (into ``SEGMENTS``).
        closed: True for closed accounts.
        pickers: per country, (customer numbers, cumulative activity weight).
        rate: expected payments per UTC hour at scale=1, shape (countries, 24).
        special: customer numbers carrying ``_SPECIAL_NAMES``, in order.
    """

    n_known: int
    country: np.ndarray
    currency: np.ndarray
    currency2: np.ndarray
    segment: np.ndarray
    closed: np.ndarray
    pickers: tuple[tuple[np.ndarray, np.ndarray], ...]
    rate: np.ndarray
    special: tuple[int, ...]


@dataclass(frozen=True)
class _Plant:
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


def generate(
    out_dir: Path, scale: int = 1, seed: int = 7, transactions: int | None = None
) -> dict[str, int]:
    """Write the sample incident of 2025-01-07 under ``out_dir`` and return what was written.

    Args:
        out_dir: target folder, created if missing; existing files of the same names are
            replaced atomically (temp file in the same folder, then ``os.replace``).
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
    world = _make_world(rng, scale)
    plants = _plan_plants(rng, world, scale)
    _write_customers(out_dir / "customers.parquet", rng, world)
    counts = _write_day(out_dir, rng, world, plants, scale)
    if transactions is not None and transactions > counts["transactions"]:
        counts["transactions"] = _pad_transactions(out_dir, world, transactions, seed)
    write_text(out_dir / "INC-2025-01-07.toml", INCIDENT_TOML)
    counts.update(customers=world.n_known, log_files=24 * len(PODS), files=24 * len(PODS) + 3)
    counts.update(_count_plants(plants))
    return counts


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------
def _make_world(rng: np.random.Generator, scale: int) -> _World:
    """Draw the customers as arrays: country, segment, status, currencies and activity."""
    n, n_unknown = _CUSTOMERS * scale, 4 * scale
    shares = np.array([c[2] for c in _COUNTRIES.values()])
    country = rng.choice(len(shares), n, p=shares / shares.sum()).astype(np.int8)
    segment = rng.choice(4, n, p=[0.83, 0.15, 0.012, 0.008]).astype(np.int8)
    closed = rng.random(n) < 0.02
    special = _pick_special(rng, country, segment, closed)
    currency = np.array([c[0] for c in _COUNTRIES.values()], dtype=np.int8)[country]
    currency2 = np.where(rng.random(n) < 0.03, np.array(_SECONDARY_CURRENCY)[currency], -1)
    weight = rng.lognormal(0.0, 1.0, n) * np.where(segment == _BUSINESS, 3.0, 1.0)
    weight *= np.where(segment == _TEST, 5.0, 1.0)
    ghosts = np.zeros(n_unknown, np.int8)  # customers absent from customers.parquet
    return _World(
        n_known=n,
        country=country,
        currency=np.concatenate([currency, rng.integers(0, 4, n_unknown).astype(np.int8)]),
        currency2=np.concatenate([currency2, ghosts - 1]).astype(np.int8),
        segment=np.concatenate([segment, ghosts]),
        closed=np.concatenate([closed, ghosts.astype(bool)]),
        pickers=_make_pickers(country, weight),
        rate=_make_rates(),
        special=tuple(special.tolist()),
    )


def _customer_ids(world: _World, nums: np.ndarray) -> list[str]:
    """customer_id text of customer numbers; numbers past the known ones get unknown ids."""
    n = world.n_known
    return [f"cus_{i + 1 if i < n else i + 50_001:07d}" for i in nums.tolist()]


def _pick_special(
    rng: np.random.Generator, country: np.ndarray, segment: np.ndarray, closed: np.ndarray
) -> np.ndarray:
    """Choose distinct active consumers for the special names and set their country."""
    pool = np.nonzero((segment == _CONSUMER) & ~closed)[0]
    chosen = rng.choice(pool, len(_SPECIAL_NAMES), replace=False)
    for num, (_, cc) in zip(chosen.tolist(), _SPECIAL_NAMES, strict=True):
        country[num] = _COUNTRY_CODES.index(cc)
    return chosen


def _make_pickers(
    country: np.ndarray, weight: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per country: customer numbers and cumulative weights for weighted sampling."""
    out = []
    for c in range(len(_COUNTRIES)):
        nums = np.nonzero(country == c)[0]
        out.append((nums, np.cumsum(weight[nums])))
    return tuple(out)


def _make_rates() -> np.ndarray:
    """Expected payments per (country, UTC hour) at scale=1, following local daytime."""
    rate = np.zeros((len(_COUNTRIES), 24))
    for c, (_, offset, share, _, _) in enumerate(_COUNTRIES.values()):
        local = _PROFILE[(np.arange(24) + offset) % 24]
        rate[c] = _TXNS_PER_DAY * share * local / _PROFILE.sum()
    return rate


@cache
def _ascii_slug(text: str) -> str:
    """Fold ``text`` to a lower-case ASCII slug for e-mail addresses."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _make_names(rng: np.random.Generator, world: _World, nums: np.ndarray) -> dict[str, list[str]]:
    """Draw a realistic name and e-mail for customer numbers ``nums`` (ascending)."""
    n = len(nums)
    u_first, u_last, u_num = rng.random(n), rng.random(n), rng.integers(0, 100, n)
    u_dom, romaji = rng.integers(0, len(_MAIL_DOMAINS), n), rng.random(n) < 0.2
    country, segment = world.country[nums].tolist(), world.segment[nums].tolist()
    names, emails = [], []
    rows = zip(nums.tolist(), country, segment, u_first, u_last, u_num, u_dom, romaji, strict=True)
    for num, c, seg, f, la, k, d, rom in rows:
        first, last, first_slug, last_slug = _draw_person(c, f, la, bool(rom))
        if seg == _BUSINESS:
            name, email = _company(c, last, last_slug)
        elif seg == _STAFF:
            name, email = f"{first} {last}", f"{first_slug}.{last_slug}@{_STAFF_DOMAIN}"
        elif seg == _TEST:
            name, email = f"Test Customer {num:05d}", f"qa+{num:05d}@{_STAFF_DOMAIN}"
        else:
            japanese = c == _COUNTRY_CODES.index("JP") and not rom
            name = f"{last} {first}" if japanese else f"{first} {last}"
            email = f"{first_slug}.{last_slug}{k if k >= 40 else ''}@{_MAIL_DOMAINS[d]}"
        names.append(name)
        emails.append(email)
    for num, (name, _) in zip(world.special, _SPECIAL_NAMES, strict=True):
        if nums[0] <= num <= nums[-1]:
            names[num - nums[0]] = name
    return {"name": names, "email": emails}


def _draw_person(c: int, f: float, la: float, romaji: bool) -> tuple[str, str, str, str]:
    """Return (first, last, first slug, last slug) for country index ``c``."""
    code = _COUNTRY_CODES[c]
    if code == "JP":
        fk, fr = _JP_FIRST[int(f * len(_JP_FIRST))].split(":")  # kanji:romaji
        lk, lr = _JP_LAST[int(la * len(_JP_LAST))].split(":")
        first, last = (fr, lr) if romaji else (fk, lk)
        return first, last, fr.lower(), lr.lower()
    firsts, lasts = _COUNTRIES[code][3], _COUNTRIES[code][4]
    first, last = firsts[int(f * len(firsts))], lasts[int(la * len(lasts))]
    return first, last, _ascii_slug(first), _ascii_slug(last)


def _company(c: int, last: str, last_slug: str) -> tuple[str, str]:
    """Return a company name and billing e-mail built on a family name."""
    code = _COUNTRY_CODES[c]
    if code == "JP":
        return f"株式会社{last}商事", f"keiri@{last_slug}-shoji.example"
    return f"{last} Trading {_COMPANY_SUFFIX[code]}", f"billing@{last_slug}-trading.example"


def _write_customers(path: Path, rng: np.random.Generator, world: _World) -> None:
    """Write customers.parquet (grain: one customer; key customer_id; all columns strings).

    Row groups of ``_CUSTOMER_CHUNK`` customers keep memory bounded at large scales.
    """
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, CUSTOMERS_SCHEMA) as writer:
        for lo in range(0, world.n_known, _CUSTOMER_CHUNK):
            nums = np.arange(lo, min(lo + _CUSTOMER_CHUNK, world.n_known))
            writer.write_table(_customer_rows(rng, world, nums))


def _customer_rows(rng: np.random.Generator, world: _World, nums: np.ndarray) -> pa.Table:
    """Rows of customers.parquet for customer numbers ``nums``."""
    cols: dict[str, object] = dict(_make_names(rng, world, nums))
    cols["customer_id"] = _customer_ids(world, nums)
    cols["country"] = np.array(_COUNTRY_CODES, dtype=object)[world.country[nums]]
    cols["segment"] = np.array(SEGMENTS, dtype=object)[world.segment[nums]]
    cols["status"] = np.where(world.closed[nums], "closed", "active").astype(object)
    arrays = {f.name: pa.array(cols[f.name], pa.string()) for f in CUSTOMERS_SCHEMA}
    return pa.table(arrays, schema=CUSTOMERS_SCHEMA)


# ---------------------------------------------------------------------------------------------
# Planted cases
# ---------------------------------------------------------------------------------------------
def _plan_plants(rng: np.random.Generator, world: _World, scale: int) -> list[_Plant]:
    """Plan every planted payment: class cases (x scale), customer cases and window edges."""
    plants: list[_Plant] = []
    plants += _plant_classes(rng, world, scale)
    plants += _plant_customers(rng, world, scale)
    plants += _plant_edges(rng, world)
    return plants


def _active_consumers(world: _World) -> np.ndarray:
    """Customer numbers of active consumers present in customers.parquet."""
    known = np.arange(world.n_known)
    return known[(world.segment[known] == _CONSUMER) & ~world.closed[known]]


def _inside(rng: np.random.Generator) -> int:
    """A random attempt time well inside the window (chains finish before it ends)."""
    return int(rng.integers(WINDOW_START_MS + 60_000, WINDOW_END_MS - 600_000))


def _outage_code(rng: np.random.Generator) -> int:
    """A random outage error code index."""
    return int(rng.choice(4, p=_OUTAGE_CODE_P))


def _lat(code: int) -> int:
    """The fixed latency used for a planted failing attempt with ``code``."""
    return int(_CODE_LAT_BASE[code] + _CODE_LAT_SPAN[code] // 2)


def _plant_classes(rng: np.random.Generator, world: _World, scale: int) -> list[_Plant]:
    """Payments for the rare event classes, placed well inside the window."""
    out: list[_Plant] = []
    consumers = _active_consumers(world)

    def add(cls: str, tag: str, codes: tuple[int, ...], cust: int = -1, **kw: object) -> None:
        t0, pod = _inside(rng), int(rng.integers(0, 4))
        cust = cust if cust >= 0 else int(rng.choice(consumers))
        out.append(_Plant(cls, tag, t0, _lat(codes[0]), codes, cust, pod, **kw))

    for i in range(40 * scale):
        codes = (_outage_code(rng),) * (1 if i % 3 else 2)
        add("log_only", "", codes, status=-1)
    for i in range(12 * scale):
        add("unattributable", "", (_outage_code(rng),), status=-1, attempt_logged=False,
            omit=1 if i % 3 else 2)  # fmt: skip
    for i in range(10 * scale):
        add("table_only", "", (_outage_code(rng),), fail_logged=False, attempt_logged=i % 5 < 3)
    for _ in range(3 * scale):
        add("unknown_error_code", "", (_RISK,), status=_PENDING)
        add("unknown_error_code", "", (_GW502,))
    for _ in range(2 * scale):
        add("unknown_error_code", "", (_DECLINED, _GW502))
        add("failed", "outage_and_unknown_code", (_GW502, _POOL))
        add("failed", "decline_then_outage", (_DECLINED, _POOL))
        add("recovered", "decline_then_outage", (_DECLINED + 1, _UPSTREAM), success=True)
    for i in range(3 * scale):
        a, b = rng.choice(consumers, 2, replace=False).tolist()
        add("recovered" if i % 3 == 2 else "failed", "customer_mismatch", (_POOL,), cust=a,
            log_cust=b, success=i % 3 == 2)  # fmt: skip
    return out


def _plant_customers(rng: np.random.Generator, world: _World, scale: int) -> list[_Plant]:
    """Outage failures for unknown, closed, internal, test and specially named customers."""
    known = np.arange(world.n_known)
    seg, closed = world.segment[known], world.closed[known]
    groups = [
        ("closed_account", rng.choice(known[closed], 4 * scale, replace=False)),
        ("excluded_internal", rng.choice(known[seg == _STAFF], 3 * scale, replace=False)),
        ("excluded_test", rng.choice(known[seg == _TEST], 3 * scale, replace=False)),
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
                _Plant(cls, tag, _inside(rng), _lat(code), (code,), cust, pod, status=status)
            )
    return out


def _plant_edges(rng: np.random.Generator, world: _World) -> list[_Plant]:
    """Fixed failures at and around the window edges (not scaled)."""
    ws, we = WINDOW_START_MS, WINDOW_END_MS
    lp = LOCAL_POD
    specs = [  # (cls, tag, first failure at, lat0, codes, pod, extra)
        ("failed", "edge_start_inside", ws, 30_000, (_POOL,), 0, {}),
        ("failed", "edge_start_inside", ws, 30_000, (_POOL,), 1, {}),
        ("failed", "edge_start_inside", ws, 10_000, (_UPSTREAM,), lp, {}),
        ("", "edge_start_outside", ws - 1, 10_000, (_UPSTREAM,), 2, {}),
        ("", "edge_start_outside", ws - 1, 5, (_REFUSED,), lp, {}),
        ("failed", "edge_end_inside", we - 1, 5, (_REFUSED,), 0, {}),
        ("failed", "edge_end_inside", we - 1, 30_000, (_POOL,), lp, {}),
        ("", "edge_end_outside", we, 0, (_REFUSED,), 1, {}),
        ("", "edge_end_outside", we, 0, (_REFUSED,), 2, {}),
        ("", "edge_end_outside", we, 0, (_REFUSED,), lp, {}),
        ("recovered", "edge_recovered_after_end", we - 30_000, 5, (_REFUSED,), 3,
         {"success": True, "gap": 50_000}),
        ("failed", "edge_straddle_decline_before", ws - 2_000, 400, (_DECLINED, _REFUSED), 0, {}),
        ("declined", "edge_straddle_outage_before", ws - 2_000, 5, (_REFUSED, _DECLINED), 1, {}),
        ("table_only", "edge_table_created_at_start", ws + 10_000, 10_000, (_UPSTREAM,), 0,
         {"fail_logged": False}),
        ("", "edge_table_created_at_end", we + 10_000, 10_000, (_UPSTREAM,), 0,
         {"fail_logged": False}),
        ("", "edge_table_created_before_start", ws + 9_999, 10_000, (_UPSTREAM,), 2,
         {"fail_logged": False}),
    ]  # fmt: skip
    for k in range(8):  # early symptoms and the tail: outage codes just outside the window
        at = (
            ws - int(rng.integers(60_000, 360_000)) if k < 4 else we + int(rng.integers(1, 600_000))
        )
        code = (_POOL, _REFUSED, _UPSTREAM, _INTERNAL)[k % 4]
        lat = _lat(code)
        at = max(at, we + lat) if k >= 4 else at  # created_at stays outside the window too
        specs.append(("", "early_outage" if k < 4 else "late_outage", at, lat, (code,), k % 4, {}))
    consumers = _active_consumers(world)
    out = []
    for cls, tag, fail_at, lat0, codes, pod, extra in specs:
        cust = int(rng.choice(consumers))
        out.append(_Plant(cls, tag, fail_at - lat0, lat0, codes, cust, pod, **extra))
    return out


def _count_plants(plants: list[_Plant]) -> dict[str, int]:
    """Count planted payments per truth class and per situation tag (``planted_*`` keys).

    Customer tags (``closed_account``, ``excluded_*``, ``unknown_customer``...) have one payment
    per customer, so their counts are also counts of distinct customers.
    """
    counts: dict[str, int] = {}
    for plant in plants:
        for key in {plant.cls, plant.tag} - {""}:
            counts[f"planted_{key}"] = counts.get(f"planted_{key}", 0) + 1
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------------------------------------
# Payments: one batch of columns per slice (grain: one payment)
# ---------------------------------------------------------------------------------------------
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
    span = _CODE_LAT_SPAN[codes]
    return _CODE_LAT_BASE[codes] + (rng.random(codes.shape) * span).astype(np.int64)


def _success_latency(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """Latency in ms of successful attempts (log-normal, median about 320 ms)."""
    return np.clip(rng.lognormal(np.log(320), 0.5, shape), 40, 8_000).astype(np.int64)


def _in_window(ts: np.ndarray) -> np.ndarray:
    """True where ``ts`` (ms) lies in [window start, window end)."""
    return (ts >= WINDOW_START_MS) & (ts < WINDOW_END_MS)


def _draw_customers(rng: np.random.Generator, world: _World, sl: _Slice) -> np.ndarray:
    """Customer numbers of the payments starting in slice ``sl``."""
    lam = world.rate[:, sl.start // HOUR_MS] * sl.scale * (sl.end - sl.start) / HOUR_MS
    out = []
    for (nums, cum), k in zip(world.pickers, rng.poisson(lam).tolist(), strict=True):
        pick = np.searchsorted(cum, rng.random(k) * cum[-1], side="right")
        out.append(nums[np.minimum(pick, len(nums) - 1)])
    return np.concatenate(out)


def _draw_currency(rng: np.random.Generator, world: _World, cust: np.ndarray) -> np.ndarray:
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


def _natural_batch(rng: np.random.Generator, world: _World, sl: _Slice) -> dict[str, np.ndarray]:
    """Ordinary traffic of one slice: outcomes follow the outage while it lasts."""
    cust = _draw_customers(rng, world, sl)
    n = len(cust)
    b = _empty_batch(n)
    b["t0"] = sl.start + rng.integers(0, sl.end - sl.start, n)
    b["cust"] = cust
    b["cur"] = _draw_currency(rng, world, cust)
    b["amount"] = _draw_amounts(rng, b["cur"], world.segment[cust] == _BUSINESS)
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
    o_code = rng.choice(4, n, p=_OUTAGE_CODE_P).astype(np.int8)
    o_lat = _latency(rng, o_code)
    outage = (rng.random(n) < _P_OUTAGE) & _in_window(t0 + o_lat)
    # cat: 0 succeeded, 1 declined, 2 pending, 3 refunded, 4 sporadic outage-code error
    cat = np.searchsorted(_OUTCOME_CUM_P, rng.random(n), side="right")
    cat = np.where(outage | (cat > 4), 0, cat)
    later = rng.choice(4, (n, 3), p=_OUTAGE_CODE_P)
    declines = 4 + rng.choice(4, (n, 3), p=_DECLINE_CODE_P)
    sporadic = np.where(rng.random(n) < 0.5, _UPSTREAM, _INTERNAL)
    s_lat = _latency(rng, sporadic)
    cat = np.where((cat == 4) & (_in_window(t0) | _in_window(t0 + s_lat)), 0, cat)
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
    hit = declined & (b["n_fail"] == 2) & _in_window(start1) & (rng.random(len(start1)) < 0.5)
    code = rng.choice(4, len(start1), p=_OUTAGE_CODE_P).astype(np.int8)
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
        [ok & refunded, ok, stuck | (nf == 0)], [_REFUNDED, _SUCCEEDED, _PENDING], _FAILED
    )
    b["status"] = status.astype(np.int8)
    b["err"] = np.where(status == _FAILED, last_code, -1).astype(np.int8)
    b["refund"] = np.where(status == _REFUNDED, rng.integers(HOUR_MS, 8 * HOUR_MS, n), 0)


def _plant_batch(
    rng: np.random.Generator, world: _World, plants: list[_Plant]
) -> dict[str, np.ndarray]:
    """Columns for the planted payments of one slice."""
    n = len(plants)
    b = _empty_batch(n)
    for i, p in enumerate(plants):
        nf = len(p.codes)
        b["t0"][i], b["cust"][i], b["log_cust"][i], b["pods"][i] = p.t0, p.cust, p.log_cust, p.pod
        b["n_fail"][i], b["codes"][i, :nf], b["success"][i] = nf, p.codes, p.success
        b["lat"][i] = [p.lat0] + [_lat(c) for c in p.codes[1:]] + [300] * (4 - nf)
        b["gap"][i] = p.gap
        status = p.status if p.status is not None else (_SUCCEEDED if p.success else _FAILED)
        b["status"][i], b["err"][i] = status, p.codes[-1] if status == _FAILED else -1
        b["attempt_logged"][i], b["fail_logged"][i], b["omit"][i] = (
            p.attempt_logged,
            p.fail_logged,
            p.omit,
        )
    b["cur"] = _draw_currency(rng, world, b["cust"])
    b["amount"] = _draw_amounts(rng, b["cur"], world.segment[b["cust"]] == _BUSINESS)
    return b


def _merge_batches(*batches: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Concatenate batches and order the payments by attempt time."""
    merged = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    order = np.argsort(merged["t0"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


def _timeline(b: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    final = np.where(b["status"] == _PENDING, b["t0"], final) + b["refund"]
    return starts, ends, final


def _table_rows(
    b: dict[str, np.ndarray], tid: np.ndarray, world: _World, final: np.ndarray
) -> pa.Table:
    """Rows of transactions.parquet for the payments with a table row."""
    m = b["status"] >= 0
    err = b["err"][m]
    codes = np.array(CODES, dtype=object)[np.maximum(err, 0)]
    return pa.table(
        {
            "txn_id": pa.array(tid[m], pa.string()),
            "customer_id": pa.array(_customer_ids(world, b["cust"][m]), pa.string()),
            "amount_minor": pa.array(b["amount"][m], pa.int64()),
            "currency": pa.array(np.array(CURRENCIES, dtype=object)[b["cur"][m]], pa.string()),
            "status": pa.array(np.array(STATUSES, dtype=object)[b["status"][m]], pa.string()),
            "error_code": pa.array(codes, pa.string(), mask=err < 0),
            "created_at": _us(b["t0"][m]),
            "updated_at": _us(final[m]),
        },
        schema=TRANSACTIONS_SCHEMA,
    )


def _us(ms: np.ndarray) -> pa.Array:
    """Milliseconds since the day start as a timestamp[us, tz=UTC] array."""
    return pa.array(DAY_START_US + ms * 1_000, pa.timestamp("us", tz="UTC"))


# ---------------------------------------------------------------------------------------------
# Log lines
# ---------------------------------------------------------------------------------------------
@dataclass
class _Lines:
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


def _make_text(
    rng: np.random.Generator, b: dict[str, np.ndarray], tid: np.ndarray, world: _World
) -> _Text:
    """Build the per-payment text pieces of a batch."""
    n = len(tid)
    cid = np.array(_customer_ids(world, b["cust"]), dtype=object)
    log_cid = _customer_ids(world, np.where(b["log_cust"] >= 0, b["log_cust"], b["cust"]))
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


def _attempt_lines(x: _Text, rows: np.ndarray, ts: np.ndarray, pod: np.ndarray) -> _Lines:
    """``payment.attempt`` lines (first attempt of each payment)."""
    ts, rows, pod = _keep(ts, rows, pod)
    head = _head(_ts_text(ts, pod), pod, "INFO", "payment.attempt")
    cols = (x.tid[rows], x.cid[rows], x.amount[rows], x.cur[rows], x.trace[rows])
    text = [
        f'{h},"txn_id":"{i}","customer_id":"{c}","amount_minor":{a},"currency":"{u}",'
        f'"attempt":1,"trace_id":"{r}"}}'
        for h, i, c, a, u, r in zip(head, *cols, strict=True)
    ]
    return _Lines(ts, pod, np.zeros(0), text)


def _retry_lines(
    x: _Text, rows: np.ndarray, ts: np.ndarray, pod: np.ndarray, k: int, backoff: np.ndarray
) -> _Lines:
    """``payment.retry`` lines announcing attempt ``k + 1``."""
    ts, rows, pod, backoff = _keep(ts, rows, pod, backoff)
    head = _head(_ts_text(ts, pod), pod, "WARN", "payment.retry")
    text = [
        f'{h},"txn_id":"{i}","attempt":{k + 1},"backoff_ms":{g},"trace_id":"{r}"}}'
        for h, i, g, r in zip(head, x.tid[rows], backoff.tolist(), x.trace[rows], strict=True)
    ]
    return _Lines(ts, pod, np.zeros(0), text)


def _failed_lines(
    rng: np.random.Generator,
    x: _Text,
    rows: np.ndarray,
    ts: np.ndarray,
    pod: np.ndarray,
    k: int,
    codes: np.ndarray,
    lat: np.ndarray,
) -> _Lines:
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
    return _Lines(ts, pod, np.zeros(0), text)


def _succeeded_lines(
    x: _Text, rows: np.ndarray, ts: np.ndarray, pod: np.ndarray, k: int, lat: np.ndarray
) -> _Lines:
    """``payment.succeeded`` lines of attempt ``k + 1``."""
    ts, rows, pod, lat = _keep(ts, rows, pod, lat)
    head = _head(_ts_text(ts, pod), pod, "INFO", "payment.succeeded")
    cols = (x.tid[rows], x.cid[rows], x.amount[rows], x.cur[rows], lat.tolist(), x.trace[rows])
    text = [
        f'{h},"txn_id":"{i}","customer_id":"{c}","amount_minor":{a},"currency":"{u}",'
        f'"attempt":{k + 1},"latency_ms":{la},"trace_id":"{r}"}}'
        for h, i, c, a, u, la, r in zip(head, *cols, strict=True)
    ]
    return _Lines(ts, pod, np.zeros(0), text)


def _payment_lines(
    rng: np.random.Generator,
    b: dict[str, np.ndarray],
    x: _Text,
    starts: np.ndarray,
    ends: np.ndarray,
) -> list[_Lines]:
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


def _http_lines(b: dict[str, np.ndarray], x: _Text, ends: np.ndarray) -> _Lines:
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
    return _Lines(ts, pod, np.zeros(0), text)


def _periodic_times(rng: np.random.Generator, sl: _Slice, per_15min: int) -> np.ndarray:
    """Evenly spaced, jittered times of a probe run ``per_15min`` times per 15 min at scale=1."""
    n = max(1, round(per_15min * sl.scale * (sl.end - sl.start) / SLICE_MS))
    step = (sl.end - sl.start) / n
    return sl.start + ((np.arange(n) + rng.random(n)) * step).astype(np.int64)


def _health_lines(rng: np.random.Generator, sl: _Slice) -> list[_Lines]:
    """``healthcheck`` and ``db.pool.stats`` noise of every pod; both sicken in the window."""
    parts = []
    for p in range(len(PODS)):
        ts = _periodic_times(rng, sl, _HEALTHCHECKS_PER_15MIN)
        pod = np.full(len(ts), p, np.int8)
        sick = _in_window(ts) & (rng.random(len(ts)) < 0.12)
        dur = np.where(sick, rng.integers(200, 3_000, len(ts)), rng.integers(1, 6, len(ts)))
        head = _head(_ts_text(ts, pod), pod, "DEBUG", "healthcheck")
        text = [
            f'{h},"probe":"readiness","status":{503 if s else 200},"duration_ms":{d}}}'
            for h, s, d in zip(head, sick.tolist(), dur.tolist(), strict=True)
        ]
        parts.append(_Lines(ts, pod, np.zeros(0), text))
        parts.append(_pool_lines(rng, sl, p))
    return parts


def _pool_lines(rng: np.random.Generator, sl: _Slice, p: int) -> _Lines:
    """``db.pool.stats`` noise of pod ``p``: the pool is exhausted during the window."""
    ts = _periodic_times(rng, sl, _POOL_STATS_PER_15MIN)
    pod = np.full(len(ts), p, np.int8)
    dry = _in_window(ts)
    active = np.where(dry, 20, rng.integers(2, 13, len(ts)))
    waiting = np.where(dry, rng.integers(20, 180, len(ts)), 0)
    head = _head(_ts_text(ts, pod), pod, "INFO", "db.pool.stats")
    text = [
        f'{h},"pool":"payments-rw","active":{a},"idle":{20 - a},"waiting":{w},"max":20'
        + (',"top_holder":"ledger-sync"}' if d else "}")
        for h, a, w, d in zip(head, active.tolist(), waiting.tolist(), dry.tolist(), strict=True)
    ]
    return _Lines(ts, pod, np.zeros(0), text)


def _concat(parts: list[_Lines], seq0: int) -> _Lines:
    """Join parts; lines without a creation order get one from ``seq0`` in part order."""
    for part in parts:
        if len(part.seq) != len(part.ts):
            part.seq = seq0 + np.arange(len(part.ts), dtype=np.int64)
            seq0 += len(part.ts)
    return _Lines(
        np.concatenate([p.ts for p in parts]).astype(np.int64),
        np.concatenate([p.pod for p in parts]).astype(np.int8),
        np.concatenate([p.seq for p in parts]).astype(np.int64),
        [t for p in parts for t in p.text],
    )


def _split(lines: _Lines, end: int) -> tuple[_Lines, _Lines]:
    """Split into lines before ``end`` and the rest (carried to a later slice)."""
    now, later = np.nonzero(lines.ts < end)[0], np.nonzero(lines.ts >= end)[0]
    return tuple(  # type: ignore[return-value]
        _Lines(lines.ts[i], lines.pod[i], lines.seq[i], [lines.text[j] for j in i.tolist()])
        for i in (now, later)
    )


# ---------------------------------------------------------------------------------------------
# Log files
# ---------------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class _Slice:
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


@dataclass
class _Day:
    """Running state of the day: next txn number, next line order, lines of later slices."""

    sink: _LogSink
    counts: dict[str, int]
    next_txn: int = 1
    next_seq: int = 0
    carry: _Lines | None = None


def _write_day(
    out_dir: Path, rng: np.random.Generator, world: _World, plants: list[_Plant], scale: int
) -> dict[str, int]:
    """Write the 96 log files and transactions.parquet, slice by slice; return counts."""
    length = _Slice.length(scale)
    by_slice: dict[int, list[_Plant]] = {}
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
                    sl = _Slice(start, start + length, scale)
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
    world: _World,
    plants: list[_Plant],
    sl: _Slice,
    day: _Day,
    last: bool,
) -> pa.Table:
    """Generate one slice, write its log lines (and those carried into it), return its rows."""
    b = _merge_batches(_natural_batch(rng, world, sl), _plant_batch(rng, world, plants))
    n = len(b["t0"])
    tid = np.array([f"txn_{i:07d}" for i in range(day.next_txn, day.next_txn + n)], object)
    day.next_txn += n
    starts, ends, final = _timeline(b)
    x = _make_text(rng, b, tid, world)
    payments = _payment_lines(rng, b, x, starts, ends)
    failing = (np.arange(3) < b["n_fail"][:, None]) & b["fail_logged"][:, None]
    day.counts["payment_failed_lines"] += int((failing & (ends[:, :3] < DAY_MS)).sum())
    parts = payments + [_http_lines(b, x, ends)] + _health_lines(rng, sl)
    lines = _concat(([day.carry] if day.carry else []) + parts, day.next_seq)
    day.next_seq += len(lines.ts)
    now, day.carry = _split(lines, sl.end)
    for p in range(len(PODS)):
        idx = np.nonzero(now.pod == p)[0]
        idx = idx[np.lexsort((now.seq[idx], now.ts[idx]))]
        day.sink.write(p, [now.text[i] for i in idx.tolist()], last)
    return _table_rows(b, tid, world, final)


def _pad_transactions(out_dir: Path, world: _World, rows: int, seed: int) -> int:
    """Rewrite transactions.parquet with filler rows up to ``rows``: succeeded payments of known
    customers spread over the day (txn ids ``txn_p...``), drawn from their own random stream."""
    rng = np.random.default_rng([seed, 1])
    path = out_dir / "transactions.parquet"
    source = pq.ParquetFile(path)
    missing = rows - source.metadata.num_rows
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, TRANSACTIONS_SCHEMA) as writer:
        for batch in source.iter_batches():
            writer.write_batch(batch)
        for start in range(0, missing, _CUSTOMER_CHUNK * 10):
            n = min(_CUSTOMER_CHUNK * 10, missing - start)
            nums = rng.integers(0, world.n_known, n)
            created = np.sort(rng.integers(0, DAY_MS, n))
            cur = np.array(CURRENCIES)[rng.integers(0, len(CURRENCIES), n)]
            table = pa.table(
                {
                    "txn_id": [f"txn_p{start + i:09d}" for i in range(n)],
                    "customer_id": _customer_ids(world, nums),
                    "amount_minor": rng.integers(500, 50_000, n),
                    "currency": cur,
                    "status": np.full(n, STATUSES[_SUCCEEDED]),
                    "error_code": pa.nulls(n, pa.string()),
                    "created_at": _us(created),
                    "updated_at": _us(created + 500),
                },
                schema=TRANSACTIONS_SCHEMA,
            )
            writer.write_table(table)
    return rows


# ---------------------------------------------------------------------------------------------
# The sample's logs in other log formats (`[sources.log_format]`)
# ---------------------------------------------------------------------------------------------
_TEXT_PATTERN = (
    r"^(?P<ts>\S+ \S+ \S+) (?P<level>[A-Z]+) (?P<event>\S+)( txn=\[(?P<txn_id>[^\]]*)\])?"
    r"( customer=(?P<customer_id>\S+))?( amount=(?P<amount_minor>\S+))?"
    r"( currency=(?P<currency>\S+))?( code=(?P<error_code>\S+))?( .*)?$"
)
LOG_FORMATS: dict[str, str] = {
    # JSON lines with nested fields and the time in epoch milliseconds (microsecond fractions).
    "jsonl_nested": """\
[sources.log_format]
kind = "jsonl"
ts = "@timestamp"
ts_format = "epoch_ms"
event = "type"
txn_id = "payment.id"
customer_id = "payment.customer.id"
amount_minor = "payment.amount_minor"
currency = "payment.currency"
error_code = "error.code"
""",
    # logfmt with the sample's own RFC 3339 times.
    "logfmt": """\
[sources.log_format]
kind = "logfmt"
""",
    # Plain text lines; the time as written by strftime with an offset.
    "regex": f"""\
[sources.log_format]
kind = "regex"
pattern = '{_TEXT_PATTERN}'
ts_format = "%Y-%m-%d %H:%M:%S.%f %z"
""",
}


def write_log_format(sample_dir: Path, out_dir: Path, kind: str) -> Path:
    """Rewrite the sample under ``sample_dir`` with its logs in another format (a key of
    ``LOG_FORMATS``) under ``out_dir``; returns the new incident file.

    Every well-formed line says the same in the new format; a malformed line stays as it was
    (so it is malformed there too), and byte-identical lines stay byte-identical.
    """
    render = {"jsonl_nested": _nested_line, "logfmt": _logfmt_line, "regex": _text_line}[kind]
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    for source in sorted((sample_dir / "logs").glob("*.jsonl.gz")):
        with gzip.open(source, "rt", encoding="utf-8") as lines:
            text = "".join(_convert(line.rstrip("\n"), render) + "\n" for line in lines)
        target = out_dir / "logs" / source.name.replace(".jsonl.gz", f".{kind}.log")
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    for table in ("transactions.parquet", "customers.parquet"):
        with atomic_path(out_dir / table) as tmp:
            tmp.write_bytes((sample_dir / table).read_bytes())
    incident = INCIDENT_TOML.replace('logs = ["logs/*.jsonl.gz"]', f'logs = ["logs/*.{kind}.log"]')
    incident = incident.replace("\n[policy]", "\n" + LOG_FORMATS[kind] + "\n[policy]")
    write_text(out_dir / "INC-2025-01-07.toml", incident)
    return out_dir / "INC-2025-01-07.toml"


def _convert(line: str, render) -> str:
    try:
        fields = json.loads(line)
    except ValueError:
        return line
    return render(fields) if isinstance(fields, dict) else line


def _nested_line(f: dict) -> str:
    at = datetime.fromisoformat(f.pop("ts").replace("Z", "+00:00"))
    micros = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    out: dict = {"type": f.pop("event")}
    payment = {k: f.pop(k) for k in ("txn_id", "amount_minor", "currency") if k in f}
    if "txn_id" in payment:
        payment["id"] = payment.pop("txn_id")
    if "customer_id" in f:
        payment["customer"] = {"id": f.pop("customer_id")}
    if payment:
        out["payment"] = payment
    if "error_code" in f:
        out["error"] = {"code": f.pop("error_code")}
    body = json.dumps({**out, **f}, separators=(",", ":"), ensure_ascii=False)
    return f'{{"@timestamp":{micros // 1000}.{micros % 1000:03d},{body[1:]}'


def _logfmt_line(f: dict) -> str:
    return " ".join(f"{k}={_logfmt_value(v)}" for k, v in f.items())


def _logfmt_value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    if text and not any(c in text for c in ' "=\\') and text == text.strip():
        return text
    return json.dumps(text, ensure_ascii=False)


def _text_line(f: dict) -> str:
    at = datetime.fromisoformat(f["ts"].replace("Z", "+00:00"))
    parts = [at.strftime("%Y-%m-%d %H:%M:%S.%f %z"), f.get("level", "INFO"), f["event"]]
    if "txn_id" in f:
        parts.append(f"txn=[{f['txn_id']}]")
    if "customer_id" in f:
        parts.append(f"customer={f['customer_id']}")
    if "amount_minor" in f:
        parts.append(f"amount={f['amount_minor']}")
    if "currency" in f:
        parts.append(f"currency={f['currency']}")
    if "error_code" in f:
        parts.append(f"code={f['error_code']}")
    rest = {k: v for k, v in f.items() if k not in _TEXT_FIELDS}
    return " ".join(parts + [_logfmt_line(rest)] if rest else parts)


_TEXT_FIELDS = {
    "ts",
    "level",
    "event",
    "txn_id",
    "customer_id",
    "amount_minor",
    "currency",
    "error_code",
}
