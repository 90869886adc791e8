"""Hash chains: how the journal and the ledger prove that no entry was edited, deleted or moved.

Each entry stores `prev_hash` (the hash of the entry before it; `GENESIS` for the first), its
`hash`, and its `link`, the kind of link that made `hash` from `prev_hash` and the entry's
canonical JSON:

- `sha256`: sha256(prev_hash + canonical JSON). It catches accidental and careless edits, but
  whoever can write the warehouse can recompute the chain after an edit; the heads the batch
  trailers in the outbox recorded (an external witness) then give the rewrite away.
- `hmac-sha256`: HMAC-SHA256 of the same text under `CREDITS_JOURNAL_KEY` (the commands read it
  from the environment, never from a file). Without the key nobody can recompute the chain.

An entry is written with a keyed link when a key is given. A chain may go from plain to keyed
links (a key added later), never back: once a chain holds a keyed link, writing needs the key,
and a plain link after a keyed one is reported. Keyed links cannot be checked without the key:
they are reported as unverified, not as tampered.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from transforms import commands
from transforms.errors import ConfigError

GENESIS = "0" * 64
KEY_VARIABLE = "CREDITS_JOURNAL_KEY"
# json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), built once: a batch
# hashes every one of its entries.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Link(enum.StrEnum):
    """How an entry's hash was made from the previous hash and its content."""

    SHA256 = "sha256"
    HMAC = "hmac-sha256"


@dataclass(frozen=True)
class Linked:
    """One chained entry as a check sees it: how to name it, its place, its links, its content."""

    label: str
    seq: int
    prev_hash: str | None
    hash: str | None
    link: str | None
    body: dict[str, Any] | str


@dataclass(frozen=True)
class Check:
    """What checking a chain found: tampering, and keyed links left unchecked for want of a key."""

    tampered: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    hashes: frozenset[str] = frozenset()


def link_for(key: bytes | None) -> Link:
    """The link a writer with (or without) a key makes."""
    return Link.SHA256 if key is None else Link.HMAC


def digest(link: Link | str, key: bytes | None, prev_hash: str, body: dict[str, Any] | str) -> str:
    """The hash of an entry with `body` (or its canonical text) after `prev_hash` (a keyed link
    needs the key)."""
    text = (prev_hash + (body if isinstance(body, str) else canonical(body))).encode()
    if link == Link.SHA256:
        return hashlib.sha256(text).hexdigest()
    if link != Link.HMAC or key is None:
        raise ValueError(f"cannot make a {link} link without a key")
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def require_key(
    name: str, head: Linked | None, key: bytes | None, earlier: Sequence[Linked] = ()
) -> None:
    """Refuses (`ConfigError`, exit 2) to extend a chain whose newest entry a writer without the
    right key would break: no key, or another one. A key that verifies a keyed entry of
    `earlier` (the entries before `head`, when the caller has them) is the chain's: a newest
    entry it does not verify was changed, which `verify` names (tampered, not a wrong key)."""
    if head is None or head.link != Link.HMAC:
        return
    if key is None:
        raise ConfigError(
            f"the {name} is keyed (its newest entry has an HMAC link): set {KEY_VARIABLE} to "
            "the key it was written with"
        )
    if digest(Link.HMAC, key, head.prev_hash or "", head.body) != head.hash and not any(
        _verifies(entry, key) for entry in reversed(earlier)
    ):
        raise ConfigError(
            f"{KEY_VARIABLE} does not verify the newest {name} entry ({head.label}): it is not "
            "the key the chain was written with (or the entry was changed: "
            f"`{commands.credits('audit --verify')}` tells)"
        )


def _verifies(entry: Linked, key: bytes) -> bool:
    """Whether `key` made the keyed link of `entry`."""
    return entry.link == Link.HMAC and entry.hash == digest(
        Link.HMAC, key, entry.prev_hash or "", entry.body
    )


def verify(name: str, entries: Sequence[Linked], key: bytes | None) -> Check:
    """Checks a chain in order; every break is a sentence naming the entry."""
    tampered: list[str] = []
    keyed: list[Linked] = []
    keyed_failures: list[str] = []
    prev_hash, expected_seq = GENESIS, 1
    for entry in entries:
        if entry.hash is None or entry.link not in set(Link) or entry.seq < 1:
            tampered.append(
                f"{entry.label}: has no valid seq, hash or link (written outside the code)"
            )
            continue
        if entry.seq != expected_seq:
            tampered.append(
                f"{entry.label}: expected entry {expected_seq} here (deleted or reordered)"
            )
        if entry.prev_hash != prev_hash:
            tampered.append(f"{entry.label}: does not follow the entry before it")
        if entry.link == Link.SHA256 and keyed:
            tampered.append(
                f"{entry.label}: a plain sha256 link after keyed ones (written without the key, "
                "or rewritten)"
            )
        if entry.link == Link.HMAC:
            keyed.append(entry)
        if (entry.link == Link.SHA256 or key is not None) and digest(
            entry.link, key, entry.prev_hash or "", entry.body
        ) != entry.hash:
            changed = f"{entry.label}: its content was changed after it was written"
            if entry.link == Link.HMAC:
                changed += f" (or {KEY_VARIABLE} is not the key it was written with)"
            (keyed_failures if entry.link == Link.HMAC else tampered).append(changed)
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    if len(keyed) > 1 and len(keyed_failures) == len(keyed):
        tampered.append(
            f"{name}: none of its {len(keyed)} keyed entries verifies with {KEY_VARIABLE}: it "
            "is not the key they were written with (or every one of them was rewritten)"
        )
    else:
        tampered.extend(keyed_failures)
    unverified = []
    if keyed and key is None:
        unverified.append(
            f"{name}: {len(keyed)} keyed entries (the first: {keyed[0].label}) cannot be "
            f"checked without {KEY_VARIABLE}; their links were followed, their content not"
        )
    return Check(tampered, unverified, frozenset(e.hash for e in entries if e.hash))


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the text a link hashes."""
    return _CANONICAL.encode(value)


def parsed(text: str) -> Any:
    """JSON text as a value, as every reader of the warehouse's JSON and a batch's trailer
    reads it; `ValueError` for text that is not JSON, and for JSON nested deeper than the
    standard library decodes (an edit: the product writes shallow values), where its
    RecursionError stopped `audit --verify` (exit 1)."""
    return _loaded(text, None)


def parsed_once(text: str) -> Any:
    """`parsed`, for a file whose every object the product writes with each key once (a batch's
    trailer): a key given twice is `ValueError`, an edit, which a reader keeping the first
    (some payment systems' parsers) would read otherwise than the last that was checked."""
    return _loaded(text, _once)


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} twice: a file this product writes has it once")
        seen[key] = value
    return seen


def _loaded(text: str, hook: Any) -> Any:
    try:
        return json.loads(text, object_pairs_hook=hook)
    except RecursionError:
        raise ValueError("JSON nested too deeply to be read") from None


def quoted(value: Any, width: int = 60) -> str:
    """A value as a finding quotes it (`repr`), text cut to `width` characters: a value edited
    into a huge one is named in a line, not printed whole."""
    if isinstance(value, str) and len(value) > width:
        value = f"{value[: width - 3]}..."
    return repr(value)
