"""A batch's trailer against its files (`outbox.check`): its totals as decimals are those of
its credits.csv as the product writes them, and it holds exactly the keys the product writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from transforms import csv_lf
from transforms.errors import InputError
from transforms.finance import chain, outbox
from transforms.finance.rows import BatchRow, BatchState

LINES = [  # (credit_id, customer_id, currency, amount, amount_minor)
    ("k1", "c1", "USD", "10.00", "1000"),
    ("k2", "c2", "USD", "30.00", "3000"),
    ("k3", "c3", "JPY", "1500", "1500"),
]


def batch_folder(root: Path) -> tuple[Path, dict]:
    """A batch of LINES written as the product writes it, and its trailer."""
    folder = outbox.folder_of(root, "INC-T", "INC-T-B001")
    folder.mkdir(parents=True)
    columns = {c: [] for c in outbox.BATCH_COLUMNS}
    for credit_id, customer_id, currency, amount, amount_minor in LINES:
        row = dict.fromkeys(outbox.BATCH_COLUMNS, "")
        row |= {
            "entry_id": f"{credit_id}-01",
            "batch_id": "INC-T-B001",
            "credit_id": credit_id,
            "incident_id": "INC-T",
            "customer_id": customer_id,
            "currency": currency,
            "amount": amount,
            "amount_minor": amount_minor,
            "entry_kind": "initial",
            "policy_version": "v1",
            "run_id": "r1",
        }
        for column, value in row.items():
            columns[column].append(value)
    lines = pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()})
    (folder / "credits.csv").write_bytes(csv_lf.file_bytes(outbox.BATCH_COLUMNS, lines))
    for name in ("decreases.csv", "pay_by_hand.csv"):
        (folder / name).write_text("batch_id\n")
    return folder, outbox.trailer_of(batch_of(folder), folder, chain.GENESIS)


def batch_of(folder: Path) -> BatchRow:
    """The warehouse's record of the batch `batch_folder` writes."""
    return BatchRow(
        batch_id="INC-T-B001",
        incident_id="INC-T",
        run_id="r1",
        kind="initial",
        row_count=3,
        totals_minor={"JPY": 1500, "USD": 4000},
        entry_hash="",
        policy_version="v1",
        folder=folder,
        state=BatchState.PUBLISHED,
        approved_by="alice",
        created_at=datetime(2025, 1, 8, 12, tzinfo=UTC),
        published_at=None,
        journal_head=chain.GENESIS,
        ledger_head="ab" * 32,
    )


def test_a_written_trailer_holds_every_key_and_proves_itself(tmp_path):
    folder, trailer = batch_folder(tmp_path)
    assert set(trailer) == outbox.TRAILER_KEYS
    assert trailer["totals"] == {"JPY": "1500", "USD": "40.00"}
    assert outbox.check(folder, trailer)[0] == []


@pytest.mark.parametrize(
    ("change", "findings"),
    [
        # the decimal totals finance reads, raised; the minor units left alone
        (
            {"totals": {"JPY": "1500", "USD": "400.00"}},
            [
                "totals: the file gives {'JPY': '1500', 'USD': '40.00'}, the trailer says "
                "{'JPY': '1500', 'USD': '400.00'}"
            ],
        ),
        # the same amount written otherwise is not what the product writes
        (
            {"totals": {"JPY": "1500", "USD": "40"}},
            [
                "totals: the file gives {'JPY': '1500', 'USD': '40.00'}, the trailer says "
                "{'JPY': '1500', 'USD': '40'}"
            ],
        ),
        # a currency left out of the decimals
        (
            {"totals": {"USD": "40.00"}},
            [
                "totals: the file gives {'JPY': '1500', 'USD': '40.00'}, the trailer says "
                "{'USD': '40.00'}"
            ],
        ),
        # a key the product never writes: a note finance would read as an instruction
        (
            {"note": "pay to IBAN XX00"},
            ["note: the trailer holds a key no batch is written with (added since)"],
        ),
        # a key the product always writes, removed
        (
            {"approved_by": None},
            ["approved_by: missing from the trailer (removed since it was written)"],
        ),
        (
            {"totals": None},
            [
                "totals: missing from the trailer (removed since it was written)",
                "totals: the file gives {'JPY': '1500', 'USD': '40.00'}, the trailer says None",
            ],
        ),
        # a trailer of version 1 has no ledger head: it still proves itself alone
        ({"ledger_head": None}, []),
    ],
)
def test_a_trailer_changed_after_it_was_written_is_named(tmp_path, change, findings):
    folder, trailer = batch_folder(tmp_path)
    for key, value in change.items():
        if value is None:
            del trailer[key]
        else:
            trailer[key] = value
    (folder / outbox.TRAILER).write_text(json.dumps(trailer))
    assert outbox.check(folder, outbox.read_trailer(folder))[0] == findings


@pytest.mark.parametrize("value", [["INC-T-B001"], {"a": 1}], ids=["a list", "an object"])
@pytest.mark.parametrize("key", ["batch_id", "journal_head", "ledger_head"])
def test_a_trailer_value_edited_into_a_list_or_object_is_named_not_a_crash(tmp_path, key, value):
    # `audit --verify`, `verify-batch` and every approval of the incident exited 1 ("internal
    # error: TypeError: unhashable type") on such a trailer instead of naming it (exit 3).
    from transforms.finance import batch_proof

    folder, trailer = batch_folder(tmp_path)
    trailer[key] = value
    (folder / outbox.TRAILER).write_text(json.dumps(trailer))
    ledger_head = "ab" * 32
    found = batch_proof.check(
        batch_of(folder), folder, [], frozenset(), frozenset({ledger_head}), None
    )
    # the finding names the key and the value edited in (another finding may name the key alone)
    assert any(key in finding and str(value) in finding for finding in found), found


@pytest.mark.parametrize(
    ("change", "findings"),
    [
        # a second credit file beside the batch's: finance collecting *.csv would pay it again
        (
            lambda folder: (folder / "credits-2.csv").write_bytes(
                (folder / "credits.csv").read_bytes()
            ),
            ["credits-2.csv: in the batch folder, but no batch is written with it (added since)"],
        ),
        # a note, or a folder, added
        (
            lambda folder: (folder / "README.txt").write_text("pay to IBAN XX00\n"),
            ["README.txt: in the batch folder, but no batch is written with it (added since)"],
        ),
        (
            lambda folder: (folder / "more").mkdir(),
            ["more: in the batch folder, but no batch is written with it (added since)"],
        ),
        # hidden: a writer killed while it wrote left its temporary (a warning, `leftovers`); a
        # shared folder's own files (NFS's silly renames, a Mac's Finder): no finding
        (lambda folder: (folder / f".credits.csv.{'0' * 32}.tmp").write_text("x"), []),
        (lambda folder: (folder / ".nfs0000000000ab12cd00000001").write_text("x"), []),
        (lambda folder: (folder / ".DS_Store").write_text("x"), []),
    ],
    ids=["a-second-credit-file", "a-note", "a-folder", "a-killed-writer-s-temporary", "nfs", "mac"],
)
def test_a_file_added_to_a_batch_folder_is_named(tmp_path, change, findings):
    # Each passed `verify-batch` and `audit --verify`: only the files the trailer lists were read.
    folder, trailer = batch_folder(tmp_path)
    change(folder)
    found = outbox.check(folder, trailer)[0]
    assert [finding.split(": finance")[0] for finding in found] == findings


def test_a_batch_file_swapped_for_a_symbolic_link_is_named(tmp_path):
    # The same bytes elsewhere, linked in: verified today, and what finance pays tomorrow is
    # whatever that file then holds. The product never writes a link.
    folder, trailer = batch_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes((folder / "credits.csv").read_bytes())
    (folder / "credits.csv").unlink()
    (folder / "credits.csv").symlink_to(elsewhere)
    (found,) = outbox.check(folder, trailer)[0]
    assert found.startswith(f"credits.csv: a symbolic link (to {elsewhere}), not the file")
    # and the batch as it was written proves itself
    (folder / "credits.csv").unlink()
    (folder / "credits.csv").write_bytes(elsewhere.read_bytes())
    assert outbox.check(folder, trailer)[0] == []


def test_a_trailer_nested_too_deep_to_read_is_named_not_a_crash(tmp_path):
    # `verify-batch` stopped with "internal error: RecursionError" (exit 1).
    folder, _ = batch_folder(tmp_path)
    (folder / outbox.TRAILER).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="batch.json: not valid JSON"):
        outbox.read_trailer(folder)


def test_a_trailer_holding_a_key_twice_is_named(tmp_path):
    # A key given twice verified clean (Python keeps the last): a reader that keeps the first,
    # as some payment systems' parsers do, saw another row count and totals than were checked.
    folder, trailer = batch_folder(tmp_path)
    text = json.dumps(trailer)
    (folder / outbox.TRAILER).write_text(text.replace("{", '{"row_count": 1, ', 1))
    assert outbox.check(folder, chain.parsed(text))[0] == []  # what a reader of the last sees
    with pytest.raises(InputError, match="batch.json: .*'row_count' twice"):
        outbox.read_trailer(folder)


@pytest.mark.parametrize("swap", ["named pipe", "link to a device"])
def test_a_trailer_swapped_for_a_pipe_or_a_device_is_named_not_read(tmp_path, swap):
    # `audit --verify` and every approval read it: a pipe waited for a writer forever, a link to
    # /dev/zero read until the memory ran out
    import os

    from transforms.finance import batch_proof

    folder, _ = batch_folder(tmp_path)  # its trailer not written: a pipe or a link instead
    if swap == "named pipe":
        os.mkfifo(folder / outbox.TRAILER)
    else:
        (folder / outbox.TRAILER).symlink_to("/dev/zero")
    with pytest.raises(InputError, match="batch.json: not a regular file"):
        outbox.read_trailer(folder)
    found = batch_proof.check(batch_of(folder), folder, [], frozenset(), frozenset(), None)
    assert found[0].startswith("batch INC-T-B001: its files cannot be read (")
    assert "batch.json: not a regular file" in found[0]


def test_a_record_edited_into_a_huge_value_is_named_in_a_line_of_its_own_size(tmp_path):
    # A batch's totals edited in the warehouse into 200,000 characters (JSON nested too deep to
    # read) printed all of them in the finding, on every `audit --verify`.
    from dataclasses import replace

    from transforms.finance import batch_proof

    folder, trailer = batch_folder(tmp_path)
    (folder / outbox.TRAILER).write_text(json.dumps(trailer))
    huge = "[" * 100_000 + "]" * 100_000
    batch = replace(batch_of(folder), totals_minor=huge)
    found = batch_proof.check(batch, folder, [], frozenset(), frozenset({"ab" * 32}), None)
    (named,) = [f for f in found if "totals_minor" in f]
    assert named.startswith("batch INC-T-B001: the warehouse records totals_minor '[[[[")
    assert "...'" in named and len(named) < 300, len(named)


def test_a_stray_trailer_this_login_may_not_read_is_named_not_a_traceback(tmp_path, monkeypatch):
    # Another login's copy of a batch (its files 0600) under another name in the outbox: reading
    # its trailer raised PermissionError through `audit --verify` and every approval.
    from types import SimpleNamespace

    from transforms.finance import proof

    stray = tmp_path / "incident=INC-T" / "old"
    stray.mkdir(parents=True)
    (stray / outbox.TRAILER).write_text("{}")

    def refused(folder: Path) -> dict:
        raise PermissionError(13, "Permission denied", str(folder / outbox.TRAILER))

    monkeypatch.setattr(outbox, "read_trailer", refused)
    (found,) = proof._stray_trailers(SimpleNamespace(incident_ids=None), frozenset({stray}))
    assert found.startswith(f"{stray}: holds a trailer of batch (unreadable) (batch.json) outside")
