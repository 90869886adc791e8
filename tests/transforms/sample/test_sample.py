"""Tests of transforms.sample: determinism, file contracts, shipping dirt and planted truth.

The ground truth is recomputed here from the written files with the pipeline's rules (pandas),
independently of the generator's bookkeeping, and compared with the ``planted_*`` counts.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.ingest import incident
from transforms.sample import files as sample_files
from transforms.sample import generate

W0 = pd.Timestamp("2025-01-07T19:15:00Z")
W1 = pd.Timestamp("2025-01-07T23:15:00Z")
OUTAGE = {"DB_POOL_TIMEOUT", "DB_CONN_REFUSED", "UPSTREAM_TIMEOUT", "INTERNAL_ERROR"}
DECLINE = {"CARD_DECLINED", "INSUFFICIENT_FUNDS", "EXPIRED_CARD", "DO_NOT_HONOR"}
PODS = ("7d9f-abc12", "7d9f-kx8p4", "7d9f-q2w9z", "5c4b-lm7rt")
FILE_RE = re.compile(
    r"payment-api-(?P<pod>[0-9a-z]{4}-[0-9a-z]{5})\.2025-01-07T(?P<hour>\d\d)\.jsonl\.gz"
)
UTC_TS = re.compile(r"2025-01-07T\d\d:\d\d:\d\d\.\d{3}Z")
LOCAL_TS = re.compile(r"2025-01-0[67]T\d\d:\d\d:\d\d\.\d{6}-05:00")
CREDITABLE = ("failed", "recovered", "log_only")


# ---------------------------------------------------------------------------------------------
# Fixtures: one scale=1 seed=7 sample for the module, read once.
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, scale=1, seed=7)


@pytest.fixture(scope="module")
def root(generated: tuple[Path, dict[str, int]]) -> Path:
    return generated[0]


@pytest.fixture(scope="module")
def counts(generated: tuple[Path, dict[str, int]]) -> dict[str, int]:
    return generated[1]


@pytest.fixture(scope="module")
def raw_lines(root: Path) -> dict[str, list[str]]:
    """File name -> its lines (LF split, the final empty piece dropped)."""
    out = {}
    for path in sorted((root / "logs").iterdir()):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        assert text.endswith("\n") and "\r" not in text, path.name
        out[path.name] = text[:-1].split("\n")
    return out


@pytest.fixture(scope="module")
def parsed(raw_lines: dict[str, list[str]]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Valid JSON lines as a frame (with file, pod and hour of the file), and bad lines per file."""
    rows, bad = [], {}
    for name, lines in raw_lines.items():
        m = FILE_RE.fullmatch(name)
        for line in lines:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad.setdefault(name, []).append(line)
                continue
            obj.update(src_file=name, src_pod=m["pod"], src_hour=int(m["hour"]), raw=line)
            rows.append(obj)
    df = pd.DataFrame(rows)
    df["ts_utc"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    return df, bad


@pytest.fixture(scope="module")
def events(parsed: tuple[pd.DataFrame, dict[str, list[str]]]) -> pd.DataFrame:
    return parsed[0]


@pytest.fixture(scope="module")
def transactions(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "transactions.parquet")


@pytest.fixture(scope="module")
def customers(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "customers.parquet")


@pytest.fixture(scope="module")
def truth(events: pd.DataFrame, transactions: pd.DataFrame, customers: pd.DataFrame) -> dict:
    """Classify with the pipeline's rules, straight from the files."""
    return _classify(events, transactions, customers)


def _classify(events: pd.DataFrame, tx: pd.DataFrame, cu: pd.DataFrame) -> dict:
    fails = events[(events.event == "payment.failed")]
    c = fails[(fails.ts_utc >= W0) & (fails.ts_utc < W1)].copy()
    c["txn_id"] = c["txn_id"].str.strip()
    c["complete"] = c[["customer_id", "amount_minor", "currency"]].notna().all(axis=1)
    g = c.groupby("txn_id")
    cand = pd.DataFrame(
        {
            "codes": g["error_code"].agg(frozenset),
            "log_customers": g["customer_id"].agg(lambda s: frozenset(s.dropna())),
            "complete": g["complete"].all(),
        }
    ).join(tx.set_index("txn_id")[["status", "customer_id"]])

    def klass(r: pd.Series) -> str:
        if r.codes & OUTAGE:
            if pd.isna(r.status):
                return "log_only" if r.complete else "unattributable"
            return "recovered" if r.status == "succeeded" else "failed"
        return "declined" if r.codes <= DECLINE else "unknown_error_code"

    cand["cls"] = cand.apply(klass, axis=1)
    cand["mismatch"] = [
        pd.notna(t) and bool(logs) and logs != {t}
        for t, logs in zip(cand.customer_id, cand.log_customers, strict=True)
    ]
    table_only = tx[
        (tx.status == "failed")
        & tx.error_code.isin(OUTAGE)
        & (tx.created_at >= W0)
        & (tx.created_at < W1)
        & ~tx.txn_id.isin(cand.index)
    ]
    cred = cand[cand.cls.isin(CREDITABLE)]
    who = [
        t if pd.notna(t) else min(logs)
        for t, logs in zip(cred.customer_id, cred.log_customers, strict=True)
    ]
    affected = set(who) | set(table_only.customer_id)
    info = cu.set_index("customer_id")
    known = info.loc[sorted(affected & set(info.index))]
    return {
        "candidates": cand,
        "table_only": table_only,
        "affected": affected,
        "counts": cand.cls.value_counts().to_dict()
        | {
            "table_only": len(table_only),
            "customer_mismatch": int(cand.mismatch.sum()),
            "unknown_customer": len(affected - set(info.index)),
            "excluded": int(known.segment.isin(["internal", "test"]).sum()),
            "closed_account": int((known.status == "closed").sum()),
        },
    }


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------------------------------------
# Determinism and layout
# ---------------------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(root: Path, tmp_path: Path) -> None:
    again = generate(tmp_path, scale=1, seed=7)
    assert again["log_lines"] > 0
    assert _digests(tmp_path) == _digests(root)


def test_other_seed_gives_different_files(root: Path, tmp_path: Path) -> None:
    generate(tmp_path, scale=1, seed=8)
    mine, theirs = _digests(root), _digests(tmp_path)
    assert mine.keys() == theirs.keys()
    differ = {k for k in mine if mine[k] != theirs[k]}
    assert {"transactions.parquet", "customers.parquet"} <= differ
    assert sum(k.startswith("logs/") for k in differ) == 96
    assert "INC-2025-01-07.toml" not in differ


def test_gzip_headers_carry_no_name_and_no_time(root: Path) -> None:
    for path in (root / "logs").iterdir():
        head = path.read_bytes()[:10]
        assert head[:3] == b"\x1f\x8b\x08", path.name
        assert head[3] & 0x08 == 0, f"{path.name} stores a file name"
        assert head[4:8] == b"\0\0\0\0", f"{path.name} stores an mtime"


def test_writes_the_expected_files(root: Path, counts: dict[str, int]) -> None:
    names = {p.name for p in (root / "logs").iterdir()}
    expected = {f"payment-api-{p}.2025-01-07T{h:02d}.jsonl.gz" for p in PODS for h in range(24)}
    assert names == expected
    assert {p.name for p in root.iterdir()} == {
        "logs",
        "transactions.parquet",
        "customers.parquet",
        "INC-2025-01-07.toml",
    }
    assert counts["files"] == 99 and counts["log_files"] == 96


def test_incident_file_describes_the_outage(root: Path) -> None:
    parsed = tomllib.loads((root / "INC-2025-01-07.toml").read_text(encoding="utf-8"))
    assert (parsed["id"], parsed["timezone"]) == ("INC-2025-01-07", "America/New_York")
    assert (parsed["window_start"], parsed["window_end"]) == (
        "2025-01-07T14:15:00",
        "2025-01-07T18:15:00",
    )
    assert parsed["sources"] == {
        "logs": ["logs/*.jsonl.gz"],
        "logs_timezone": "UTC",
        "transactions": "transactions.parquet",
        "customers": "customers.parquet",
    }
    policy = parsed["policy"]
    assert (policy["version"], policy["basis"]) == ("2025-01-v1", "flat_per_customer")
    assert policy["flat_minor"] == {"USD": 1000, "EUR": 1000, "GBP": 800, "JPY": 1500}
    assert (policy["percent"], policy["min_minor"], policy["cap_minor"]) == (10, {}, {})
    assert policy["failure_events"] == ["payment.failed"]
    assert set(policy["outage_error_codes"]) == OUTAGE
    assert set(policy["decline_error_codes"]) == DECLINE
    assert (policy["credit_recovered"], policy["credit_table_only"]) == (True, True)
    assert policy["exclude_segments"] == ["internal", "test"]
    loaded = incident.load(root / "INC-2025-01-07.toml")  # the pipeline accepts it as written
    assert (loaded.window_start, loaded.window_end) == (W0, W1)


def test_failed_run_leaves_no_temp_files_and_keeps_old_files(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "sample"
    shutil.copytree(root, target)
    before = _digests(target)
    calls = {"n": 0}
    real = sample_files.health_lines

    def failing(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 30:  # in hour 7, after 28 log files were written
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(sample_files, "health_lines", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        generate(target, scale=1, seed=99)
    leftovers = [p.name for p in target.rglob("*") if p.name.startswith(".")]
    assert leftovers == []
    after = _digests(target)
    assert after.keys() == before.keys()
    changed = {k for k in after if after[k] != before[k]}
    assert "transactions.parquet" not in changed and "INC-2025-01-07.toml" not in changed
    assert "logs/payment-api-7d9f-abc12.2025-01-07T07.jsonl.gz" not in changed  # never replaced
    assert "logs/payment-api-7d9f-abc12.2025-01-07T00.jsonl.gz" in changed  # done, replaced


@pytest.mark.parametrize("scale", [0, -1, 1.5, True, "2"])
def test_rejects_bad_scale(tmp_path: Path, scale: object) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale=scale)  # type: ignore[arg-type]
    assert not (tmp_path / "customers.parquet").exists()


def test_volume_grows_linearly_with_scale(counts: dict[str, int], tmp_path: Path) -> None:
    double = generate(tmp_path, scale=2, seed=7)
    for key in ("log_lines", "transactions", "customers", "payment_failed_lines"):
        assert 1.9 < double[key] / counts[key] < 2.1, key
    assert double["planted_log_only"] == 2 * counts["planted_log_only"]
    assert 100_000 <= counts["log_lines"] <= 200_000


# ---------------------------------------------------------------------------------------------
# Parquet contracts
# ---------------------------------------------------------------------------------------------
def test_transactions_schema_is_exact(root: Path) -> None:
    schema = pq.read_schema(root / "transactions.parquet").remove_metadata()
    assert schema == pa.schema(
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


def test_customers_schema_is_exact(root: Path) -> None:
    schema = pq.read_schema(root / "customers.parquet").remove_metadata()
    names = ["customer_id", "name", "email", "country", "segment", "status"]
    assert schema == pa.schema([(n, pa.string()) for n in names])


def test_transactions_content(transactions: pd.DataFrame, counts: dict[str, int]) -> None:
    tx = transactions
    assert len(tx) == counts["transactions"]
    assert tx.txn_id.is_unique and tx.txn_id.str.fullmatch(r"txn_\d{7,}").all()
    assert (tx.amount_minor > 0).all()
    assert set(tx.currency) == {"USD", "EUR", "GBP", "JPY"}
    assert set(tx.status) == {"succeeded", "failed", "pending", "refunded"}
    assert tx.error_code.notna().eq(tx.status == "failed").all()
    assert (tx.updated_at >= tx.created_at).all()
    day = tx.created_at.dt.strftime("%Y-%m-%d")
    assert (day == "2025-01-07").all()
    hours = tx.created_at.dt.hour.nunique()
    assert hours == 24  # the whole day, not only the window
    jpy = tx[tx.currency == "JPY"].amount_minor
    assert (jpy % 10 == 0).mean() > 0.95  # whole yen, rounded like prices


def test_customers_content(customers: pd.DataFrame, counts: dict[str, int]) -> None:
    cu = customers
    assert len(cu) == counts["customers"]
    assert cu.customer_id.is_unique
    assert cu.country.str.fullmatch(r"[A-Z]{2}").all()
    assert set(cu.segment) == {"consumer", "business", "internal", "test"}
    assert set(cu.status) == {"active", "closed"}
    assert cu.email.str.contains("@").all()
    names = set(cu.name)
    assert {"Zoë Müller", "山田 太郎", "José Núñez"} <= names
    assert any(n.startswith("=") for n in names) and any(n.startswith("+") for n in names)
    assert any(not n.isascii() for n in names - {"Zoë Müller", "山田 太郎", "José Núñez"})


def test_each_customer_pays_mostly_in_one_currency(transactions: pd.DataFrame) -> None:
    per = transactions.groupby("customer_id").currency.nunique()
    assert per.max() == 2
    assert 0.005 < (per == 2).mean() < 0.10


# ---------------------------------------------------------------------------------------------
# Log lines: format and dirt
# ---------------------------------------------------------------------------------------------
def test_every_line_is_json_or_deliberately_malformed(
    raw_lines: dict[str, list[str]],
    parsed: tuple[pd.DataFrame, dict[str, list[str]]],
    counts: dict[str, int],
) -> None:
    events, bad = parsed
    assert events.ts.notna().all() and events.event.notna().all()
    kinds = Counter()
    for name, lines in bad.items():
        good = [line for line in raw_lines[name] if line not in bad[name]]
        for line in lines:
            if line.startswith("{"):
                assert any(g.startswith(line) for g in good), f"{name}: unexpected {line!r}"
                kinds["truncated"] += 1
            else:
                assert "Exception" in line or line.startswith("\tat "), f"{name}: {line!r}"
                kinds["stack"] += 1
        assert len(lines) / len(raw_lines[name]) < 0.003, name
    assert kinds["truncated"] >= 10 and kinds["stack"] >= 10
    assert sum(kinds.values()) == counts["malformed_lines"]
    assert sum(map(len, raw_lines.values())) == counts["log_lines"]


def test_lines_carry_the_contract_fields(events: pd.DataFrame) -> None:
    assert (events.pod == events.src_pod).all()
    pay = events[events.event.str.startswith("payment.")]
    assert set(pay.event) == {"payment.attempt", "payment.succeeded", "payment.failed",
                              "payment.retry"}  # fmt: skip
    assert pay.txn_id.notna().all()
    with_amount = pay[pay.amount_minor.notna()].raw
    assert with_amount.str.contains(r'"amount_minor":[1-9][0-9]*,', regex=True).all()  # JSON ints
    assert set(pay.currency.dropna()) == {"USD", "EUR", "GBP", "JPY"}
    noise = events[~events.event.str.startswith("payment.")]
    assert {"http.request", "healthcheck", "db.pool.stats"} <= set(noise.event)
    assert len(noise) / len(events) > 0.25


def test_timestamps_one_pod_writes_local_time(events: pd.DataFrame) -> None:
    local = events.src_pod == "5c4b-lm7rt"
    assert events[local].ts.str.fullmatch(LOCAL_TS.pattern).all()
    assert events[~local].ts.str.fullmatch(UTC_TS.pattern).all()
    assert events[local].ts.str.startswith("2025-01-06").any()  # UTC hours 00-04


def test_each_file_holds_its_utc_hour_except_resent_lines(
    events: pd.DataFrame, raw_lines: dict[str, list[str]]
) -> None:
    off = events[events.ts_utc.dt.hour != events.src_hour]
    assert len(off) > 0
    for row in off.itertuples():
        assert row.src_hour == row.ts_utc.hour + 1, row.raw
        prev = f"payment-api-{row.src_pod}.2025-01-07T{row.src_hour - 1:02d}.jsonl.gz"
        assert row.raw in raw_lines[prev]
        assert row.raw in raw_lines[row.src_file][:3]  # re-sent at the top of the next file


def test_duplicates_are_present(
    raw_lines: dict[str, list[str]], events: pd.DataFrame, counts: dict[str, int]
) -> None:
    all_lines = events.raw.tolist()  # valid lines only: stack-trace lines repeat by nature
    extra = len(all_lines) - len(set(all_lines))
    adjacent = sum(
        a == b and a.startswith("{")
        for lines in raw_lines.values()
        for a, b in zip(lines, lines[1:], strict=False)
    )
    assert extra == counts["duplicate_lines"]
    failed = events[events.event == "payment.failed"].raw
    assert failed.nunique() == counts["payment_failed_lines"] < len(failed)
    assert 0.002 < extra / len(all_lines) < 0.01
    assert adjacent > 0.7 * extra
    assert extra - adjacent >= 10  # some repeated in the next hour's file


def test_failure_lines_show_the_dirt(events: pd.DataFrame) -> None:
    fails = events[events.event == "payment.failed"]
    padded = fails[fails.txn_id != fails.txn_id.str.strip()]
    assert len(padded) >= 10 and padded.txn_id.str.fullmatch(r" txn_\d+ ").all()
    assert fails.customer_id.isna().sum() >= 100
    in_window = fails[(fails.ts_utc >= W0) & (fails.ts_utc < W1)]
    unknown = set(in_window.error_code) - OUTAGE - DECLINE
    assert unknown == {"RISK_REVIEW", "GATEWAY_502"}


def test_the_outage_story(events: pd.DataFrame) -> None:
    first = events[events.event.isin(["payment.succeeded", "payment.failed"])]
    first = first[first.attempt == 1]
    inside = (first.ts_utc >= W0) & (first.ts_utc < W1)
    failed = first.event == "payment.failed"
    assert 0.4 < failed[inside].mean() < 0.65
    assert failed[~inside].mean() < 0.05
    outside_codes = first[~inside & failed].error_code
    assert outside_codes.isin(DECLINE).mean() > 0.9


def test_retries_and_multi_code_failures(events: pd.DataFrame) -> None:
    pay = events[events.event.str.startswith("payment.")].copy()
    pay["txn"] = pay.txn_id.str.strip()
    by = pay.groupby("txn")
    kinds = by.event.agg(frozenset)
    recovered = kinds[kinds.map(lambda k: {"payment.failed", "payment.retry",
                                           "payment.succeeded"} <= k)]  # fmt: skip
    assert len(recovered) >= 100
    codes = pay[pay.event == "payment.failed"].groupby("txn").error_code.agg(frozenset)
    mixed = codes[codes.map(lambda c: bool(c & DECLINE) and bool(c & OUTAGE))]
    assert len(mixed) >= 5
    assert (codes.map(len) > 1).sum() >= 50


def test_window_edges_are_exercised(events: pd.DataFrame) -> None:
    fails = events[events.event == "payment.failed"]
    at = fails.ts_utc.value_counts()
    assert at.get(W0, 0) >= 3 and at.get(W1, 0) >= 3
    assert at.get(W0 - pd.Timedelta(milliseconds=1), 0) >= 2
    assert at.get(W1 - pd.Timedelta(milliseconds=1), 0) >= 2
    outage = fails[fails.error_code.isin(OUTAGE)]
    before = outage[(outage.ts_utc >= W0 - pd.Timedelta(minutes=10)) & (outage.ts_utc < W0)]
    after = outage[(outage.ts_utc >= W1) & (outage.ts_utc < W1 + pd.Timedelta(minutes=15))]
    assert len(before) >= 4 and len(after) >= 4
    edge_local = fails[(fails.ts_utc == W0) | (fails.ts_utc == W1)]
    assert (edge_local.src_pod == "5c4b-lm7rt").sum() >= 2


# ---------------------------------------------------------------------------------------------
# Ground truth: every class and exception occurs, and matches what was planted
# ---------------------------------------------------------------------------------------------
def test_every_class_occurs_several_times(truth: dict) -> None:
    got = truth["counts"]
    for cls in ("failed", "recovered", "declined", "log_only", "unattributable",
                "unknown_error_code", "table_only", "customer_mismatch", "unknown_customer",
                "excluded", "closed_account"):  # fmt: skip
        assert got.get(cls, 0) >= 3, (cls, got)


@pytest.mark.parametrize(
    "cls",
    ["log_only", "unattributable", "table_only", "unknown_error_code", "customer_mismatch",
     "unknown_customer"],
)  # fmt: skip
def test_rare_classes_match_the_plan_exactly(truth: dict, counts: dict[str, int], cls: str) -> None:
    assert truth["counts"][cls] == counts[f"planted_{cls}"]


def test_common_classes_include_the_plan(truth: dict, counts: dict[str, int]) -> None:
    got = truth["counts"]
    assert got["failed"] >= max(1000, counts["planted_failed"])
    assert got["recovered"] >= max(500, counts["planted_recovered"])
    assert got["declined"] >= 20
    assert got["closed_account"] >= counts["planted_closed_account"]
    excluded = counts["planted_excluded_internal"] + counts["planted_excluded_test"]
    assert got["excluded"] >= excluded


def test_unattributable_lines_lack_customer_or_amount(truth: dict, events: pd.DataFrame) -> None:
    cand = truth["candidates"]
    ids = set(cand[cand.cls == "unattributable"].index)
    lines = events[events.txn_id.str.strip().isin(ids) & (events.event == "payment.failed")]
    assert lines.customer_id.isna().any() and lines.amount_minor.isna().any()
    assert (lines.customer_id.isna() | lines.amount_minor.isna()).all()


def test_straddling_payments_follow_the_window_rule(truth: dict, events: pd.DataFrame) -> None:
    fails = events[events.event == "payment.failed"]
    early = fails[fails.ts_utc < W0]
    early_codes = early.groupby(early.txn_id.str.strip()).error_code.agg(frozenset)
    cand = truth["candidates"].join(early_codes.rename("early"), how="inner")
    # codes logged before 19:15 do not count: a decline then an outage failure inside is an
    # outage failure, an outage failure then a decline inside is a decline
    assert ((cand.cls == "failed") & cand.early.map(lambda c: c <= DECLINE)).any()
    assert ((cand.cls == "declined") & cand.early.map(lambda c: bool(c & OUTAGE))).any()


def test_special_names_are_among_the_affected(truth: dict, customers: pd.DataFrame) -> None:
    hostile = ('=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", 'Jim "Jimbo" O\'Brien, Jr.')
    for name in ("Zoë Müller", "山田 太郎", "José Núñez", *hostile):
        ids = set(customers[customers.name == name].customer_id)  # common names may repeat
        assert ids & truth["affected"], name
    assert customers.name.isin(hostile).sum() == 3


@pytest.mark.parametrize("doc", ["README.md", "docs/support.md"])
def test_the_docs_look_up_a_plain_credited_customer_of_the_sample(
    doc: str, truth: dict, customers: pd.DataFrame
) -> None:
    # The hostile names stay in the sample; the example a reader types first is a plain one.
    text = (Path(__file__).parents[3] / doc).read_text(encoding="utf-8")
    (example,) = set(re.findall(r"credits lookup (cus_\d+)", text))
    assert example in truth["affected"]
    name = customers.set_index("customer_id").loc[example, "name"]
    assert re.fullmatch(r"[A-Za-z][A-Za-z .'-]*", name), name
