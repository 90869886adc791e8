"""The sample's world: the day's constants, the name pools and the customers (grain: one
customer, key ``customer_id``), drawn once per (seed, scale)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.files import atomic_path

DAY = "2025-01-07"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SLICE_MS = 15 * 60_000
WINDOW_START_MS = (19 * 60 + 15) * 60_000  # 2025-01-07T19:15:00Z = 14:15 America/New_York
WINDOW_END_MS = (23 * 60 + 15) * 60_000  # 2025-01-07T23:15:00Z = 18:15 America/New_York
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
POOL, REFUSED, UPSTREAM, INTERNAL = 0, 1, 2, 3
SUCCEEDED, FAILED, PENDING, REFUNDED = 0, 1, 2, 3
CONSUMER, BUSINESS, STAFF, TEST = 0, 1, 2, 3


# Per code: latency of the failing attempt in ms (base + uniform span), HTTP status, message.
CODE_LAT_BASE = np.array([30_000, 1, 10_000, 20, 150, 150, 120, 150, 300, 50], dtype=np.int64)
CODE_LAT_SPAN = np.array([60, 15, 40, 400, 1000, 900, 600, 1000, 600, 2950], dtype=np.int64)


# Natural traffic. Volume at scale=1 gives about 150k log lines for the day.
_TXNS_PER_DAY = 33_000
_CUSTOMERS = 12_000
OUTAGE_CODE_P = (0.55, 0.15, 0.20, 0.10)
CUSTOMER_CHUNK = 100_000  # customers per row group of customers.parquet


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


@dataclass(frozen=True)
class World:
    """Customers as arrays indexed by customer number; unknown customers are appended last.

    Attributes:
        n_known: customers in customers.parquet (numbers ``0 .. n_known - 1``); the numbers
            after them are customers absent from it (see ``customer_ids``).
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


def make_world(rng: np.random.Generator, scale: int) -> World:
    """Draw the customers as arrays: country, segment, status, currencies and activity."""
    n, n_unknown = _CUSTOMERS * scale, 4 * scale
    shares = np.array([c[2] for c in _COUNTRIES.values()])
    country = rng.choice(len(shares), n, p=shares / shares.sum()).astype(np.int8)
    segment = rng.choice(4, n, p=[0.83, 0.15, 0.012, 0.008]).astype(np.int8)
    closed = rng.random(n) < 0.02
    special = _pick_special(rng, country, segment, closed)
    currency = np.array([c[0] for c in _COUNTRIES.values()], dtype=np.int8)[country]
    currency2 = np.where(rng.random(n) < 0.03, np.array(_SECONDARY_CURRENCY)[currency], -1)
    weight = rng.lognormal(0.0, 1.0, n) * np.where(segment == BUSINESS, 3.0, 1.0)
    weight *= np.where(segment == TEST, 5.0, 1.0)
    ghosts = np.zeros(n_unknown, np.int8)  # customers absent from customers.parquet
    return World(
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


def customer_ids(world: World, nums: np.ndarray) -> list[str]:
    """customer_id text of customer numbers; numbers past the known ones get unknown ids."""
    n = world.n_known
    return [f"cus_{i + 1 if i < n else i + 50_001:07d}" for i in nums.tolist()]


def _pick_special(
    rng: np.random.Generator, country: np.ndarray, segment: np.ndarray, closed: np.ndarray
) -> np.ndarray:
    """Choose distinct active consumers for the special names and set their country."""
    pool = np.nonzero((segment == CONSUMER) & ~closed)[0]
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


def _make_names(rng: np.random.Generator, world: World, nums: np.ndarray) -> dict[str, list[str]]:
    """Draw a realistic name and e-mail for customer numbers ``nums`` (ascending)."""
    n = len(nums)
    u_first, u_last, u_num = rng.random(n), rng.random(n), rng.integers(0, 100, n)
    u_dom, romaji = rng.integers(0, len(_MAIL_DOMAINS), n), rng.random(n) < 0.2
    country, segment = world.country[nums].tolist(), world.segment[nums].tolist()
    names, emails = [], []
    rows = zip(nums.tolist(), country, segment, u_first, u_last, u_num, u_dom, romaji, strict=True)
    for num, c, seg, f, la, k, d, rom in rows:
        first, last, first_slug, last_slug = _draw_person(c, f, la, bool(rom))
        if seg == BUSINESS:
            name, email = _company(c, last, last_slug)
        elif seg == STAFF:
            name, email = f"{first} {last}", f"{first_slug}.{last_slug}@{_STAFF_DOMAIN}"
        elif seg == TEST:
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


def write_customers(path: Path, rng: np.random.Generator, world: World) -> None:
    """Write customers.parquet (grain: one customer; key customer_id; all columns strings).

    Row groups of ``CUSTOMER_CHUNK`` customers keep memory bounded at large scales.
    """
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, CUSTOMERS_SCHEMA) as writer:
        for lo in range(0, world.n_known, CUSTOMER_CHUNK):
            nums = np.arange(lo, min(lo + CUSTOMER_CHUNK, world.n_known))
            writer.write_table(_customer_rows(rng, world, nums))


def _customer_rows(rng: np.random.Generator, world: World, nums: np.ndarray) -> pa.Table:
    """Rows of customers.parquet for customer numbers ``nums``."""
    cols: dict[str, object] = dict(_make_names(rng, world, nums))
    cols["customer_id"] = customer_ids(world, nums)
    cols["country"] = np.array(_COUNTRY_CODES, dtype=object)[world.country[nums]]
    cols["segment"] = np.array(SEGMENTS, dtype=object)[world.segment[nums]]
    cols["status"] = np.where(world.closed[nums], "closed", "active").astype(object)
    arrays = {f.name: pa.array(cols[f.name], pa.string()) for f in CUSTOMERS_SCHEMA}
    return pa.table(arrays, schema=CUSTOMERS_SCHEMA)
