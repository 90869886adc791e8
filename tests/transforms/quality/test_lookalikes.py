"""Ids that look alike in two scripts (`quality/lookalikes.py`): the beginnings an ASCII id must
have to be translated at all, and the pairs found the same however long those beginnings are."""

from __future__ import annotations

import pytest

from transforms import db
from transforms.quality import lookalikes


@pytest.mark.parametrize(
    ("skeletons", "most", "expected"),
    [
        # every ASCII id whose translation is tx1: 1 is any of `1 I l |`
        (["tx1"], 4096, (3, ["tx1", "txI", "txl", "tx|"])),
        # too many whole ids: only their beginnings, as long as keeps them few
        (["tx1"], 3, (2, ["tx"])),
        (["t01"], 7, (2, ["t0", "tO"])),
        # a Cyrillic т stays itself in a skeleton: no ASCII id looks like it, none is translated
        (["\u0442x-9"], 4096, (0, [])),
        ([], 4096, (0, [])),
        # a skeleton shorter than the others is a whole id among the beginnings
        (["a", "bc"], 4096, (2, ["a", "bc"])),
    ],
)
def test_the_beginnings_of_the_ascii_ids_that_can_look_alike(
    monkeypatch, skeletons, most, expected
):
    monkeypatch.setattr(lookalikes, "MOST_PREFIXES", most)
    assert lookalikes.prefixes(skeletons) == expected


@pytest.mark.parametrize("most", [4096, 1])
def test_pairs_are_the_same_whether_the_ascii_ids_are_picked_whole_or_by_beginning(
    monkeypatch, most
):
    # a candidate with a fullwidth 1; the table's tx01 and txO1 look like it (O is 0), txO2 does
    # not, and its row with a Cyrillic О (U+041E) looks like all three
    monkeypatch.setattr(lookalikes, "MOST_PREFIXES", most)
    con = db.connect()
    con.execute("create table int_candidates_classified as select unnest(['tx0\uff11']) as txn_id")
    table = ["tx01", "txO1", "txO2", "tx\u041e1", None]
    con.execute("create table stg_transactions as select unnest($ids) as txn_id", {"ids": table})
    found = lookalikes.pairs(con, ["tx0\uff11"], ["tx\u041e1"])
    assert found == [
        lookalikes.Pair("tx0\uff11", "tx01", True, False),
        lookalikes.Pair("tx0\uff11", "txO1", True, False),
        lookalikes.Pair("tx0\uff11", "tx\u041e1", True, False),
    ]
