"""Payment ids that look alike: letters of other scripts drawn like ASCII ones (a Cyrillic `х`
for an `x`, a Greek `Ι` for an `I`, a fullwidth `９` for a `9`), from Unicode's confusables
(UTS #39, as the `confusable-homoglyphs` package ships them).

An id's *skeleton* is its visible characters (no control, format or space character but
U+0020) in NFKC, each character that looks like an ASCII one replaced by its ASCII class's
representative; the ASCII classes are the few look-alikes within ASCII (`1 I l |`, `0 O`,
`' ``). Two ids with one skeleton look alike. Only ids beyond ASCII are given a skeleton here;
an ASCII id's is `translate(txn_id, FROM, TO)` in SQL (`translation`), and only for the few
ASCII ids that begin as an id looking like one of theirs would (`prefixes`): a run with one id
beyond ASCII does not translate its millions of others.
"""

from __future__ import annotations

import functools
import itertools
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb

from transforms import db
from transforms.ingest.incident.values import HIDDEN_CHARACTER

ASCII_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
# At most this many prefixes go to DuckDB (a hash table of a few kB, probed once per id): an id
# of fourteen characters with nine of `0 O` and `1 I l |` begins 1,024 ways.
MOST_PREFIXES = 4096


@dataclass(frozen=True)
class Pair:
    """Two ids that look alike: `alike` (beyond ASCII) and `other`, each a candidate's or not."""

    alike: str
    other: str
    alike_is_candidate: bool
    other_is_candidate: bool


@functools.cache
def _representatives() -> dict[str, str]:
    """Each character that looks like an ASCII one (ASCII's own look-alikes included), and the
    representative of its ASCII class (the class's smallest character)."""
    # about 1 MB of data: loaded only when an id beyond ASCII is seen
    from confusable_homoglyphs import confusables

    data = confusables.confusables_data
    parent = {c: c for c in ASCII_PRINTABLE}

    def root(c: str) -> str:
        while parent[c] != c:
            c = parent[c]
        return c

    for c in ASCII_PRINTABLE:
        for alike in data.get(c, ()):
            if alike["c"] in parent:
                one, other = sorted((root(c), root(alike["c"])))
                parent[other] = one
    found = {c: root(c) for c in ASCII_PRINTABLE}
    for c, alikes in data.items():
        ascii_alikes = sorted(found[a["c"]] for a in alikes if a["c"] in parent)
        if len(c) == 1 and c not in found and ascii_alikes:
            found[c] = ascii_alikes[0]
    return found


def translation() -> tuple[str, str]:
    """The ASCII characters that are not their class's representative, and theirs: an ASCII
    id's skeleton is `translate(txn_id, FROM, TO)`."""
    moved = [(c, r) for c, r in _representatives().items() if c.isascii() and c != r]
    return "".join(c for c, _ in moved), "".join(r for _, r in moved)


@functools.cache
def _ascii_looks() -> dict[str, str]:
    """Each character an ASCII id's skeleton can hold, and the ASCII characters it stands for
    there (`translation`): `1` for `1Il|`, `x` for `x`. A look-alike translated away (`I`) is
    no key: no skeleton holds it."""
    table = str.maketrans(*translation())
    looks: dict[str, str] = {}
    for c in map(chr, range(0x80)):
        looks[c.translate(table)] = looks.get(c.translate(table), "") + c
    return looks


def prefixes(skeletons: Iterable[str]) -> tuple[int, list[str]]:
    """The beginnings an ASCII id must have to look like one of `skeletons` (its translated
    skeleton one of them): their length and the beginnings, sorted. As long as keeps them at
    most `MOST_PREFIXES`: usually whole ids, so only the look-alikes themselves pass, and always
    a superset of them. A skeleton no ASCII id can have (a Cyrillic `т` stays itself) has none."""
    looks = _ascii_looks()
    reachable = sorted({s for s in skeletons if all(c in looks for c in s)})
    if not reachable:
        return 0, []

    def count(length: int) -> int:
        return sum(math.prod(len(looks[c]) for c in s[:length]) for s in reachable)

    length = max(len(s) for s in reachable)
    while length and count(length) > MOST_PREFIXES:
        length -= 1
    found = {
        "".join(p) for s in reachable for p in itertools.product(*(looks[c] for c in s[:length]))
    }
    return length, sorted(found)


def visible(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, str]:
    """Each id without its control, format and space characters other than U+0020 (the one
    rule, `values.HIDDEN_CHARACTER`, applied by `sql/ids_visible.sql`)."""
    return dict(db.run(con, "ids_visible", ids=list(ids), hidden=HIDDEN_CHARACTER).fetchall())


def skeleton(shown: str) -> str:
    """How an id looks, from its visible form `shown`: in NFKC, every look-alike its ASCII
    class's representative."""
    representatives = _representatives()
    normal = unicodedata.normalize("NFKC", shown)
    return "".join(representatives.get(c, c) for c in normal)


def first_beyond_ascii(txn_id: str) -> str:
    """The id's first character beyond ASCII, as `U+0445 CYRILLIC SMALL LETTER HA`."""
    c = next(c for c in txn_id if not c.isascii())
    return f"U+{ord(c):04X} {unicodedata.name(c, 'UNNAMED')}"


def pairs(
    con: duckdb.DuckDBPyConnection, candidate_ids: Sequence[str], table_ids: Sequence[str]
) -> list[Pair]:
    """Pairs of ids, candidates' or the transaction table's, one of them beyond ASCII and one a
    candidate's, that look alike (one skeleton) and differ; each pair once, sorted.
    `candidate_ids` and `table_ids` are the ids beyond ASCII of each (the gate's look-ups)."""
    if not candidate_ids and not table_ids:  # the usual run: no look-up at all
        return []
    candidates = set(candidate_ids)
    ids = sorted(candidates.union(table_ids))
    shown = visible(con, ids)
    skeletons = [skeleton(shown[txn_id]) for txn_id in ids]
    prefix_length, beginnings = prefixes(skeletons)
    source, target = translation()
    found = db.run(
        con,
        "ids_looking_alike",
        ids=ids,
        skeletons=skeletons,
        are_candidates=[txn_id in candidates for txn_id in ids],
        prefix_length=prefix_length,
        prefixes=beginnings,
        source=source,
        target=target,
    ).fetchall()
    seen: dict[frozenset[str], Pair] = {}
    for pair in (Pair(*row) for row in found):
        seen.setdefault(frozenset((pair.alike, pair.other)), pair)
    return sorted(seen.values(), key=lambda p: (p.alike, p.other))


def _named_elsewhere(pair: Pair, shown: dict[str, str]) -> bool:
    """The pair is one id in two Unicode forms or with hidden characters, which the gate's other
    checks name (`id_checks.ids_in_two_forms`, `id_checks.table_ids_as_candidates`): two
    candidates, or a table row beyond ASCII that is no candidate's. `shown`: each id's visible
    form."""
    normal = {unicodedata.normalize("NFKC", shown[i]) for i in (pair.alike, pair.other)}
    if len(normal) > 1:
        return False
    if pair.alike_is_candidate and pair.other_is_candidate:
        return True
    outside = pair.other if pair.alike_is_candidate else pair.alike
    return not outside.isascii()


def problems(
    con: duckdb.DuckDBPyConnection, candidate_ids: Sequence[str], table_ids: Sequence[str]
) -> tuple[str, ...]:
    """Why the run is rejected when a candidate's id looks like another id, a candidate's or a
    transaction table row's, in another script: compared exactly they are two payments. Nothing
    otherwise. `candidate_ids` and `table_ids` are the ids beyond ASCII of each."""
    found = pairs(con, candidate_ids, table_ids)
    if not found:
        return ()
    shown = visible(con, {i for pair in found for i in (pair.alike, pair.other)})
    found = [pair for pair in found if not _named_elsewhere(pair, shown)]
    if not found:
        return ()
    first = found[0]
    where = "a candidate" if first.other_is_candidate else "a transaction table row, no candidate"
    return (
        f"{len(found):,} pair(s) of payment ids look alike (e.g. {ascii(first.alike)} "
        f"({first_beyond_ascii(first.alike)}) and {ascii(first.other)}, {where}): letters of "
        "another script drawn like ASCII ones (Unicode's confusables) make them one id to the "
        "eye, but ids compare exactly, so they are two payments: a failure logged under one is "
        "credited as log_only beside the other's row (a retry that went through), or one payment "
        "is credited twice. Find who wrote the look-alike id (a paste, a forged log line), write "
        "the ids alike in the logs and the table, and run again",
    )
