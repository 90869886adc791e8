"""A run's recorded manifest as the run proof reads it (`run_proof`): an edit the proof names,
never a crash."""

from __future__ import annotations

import hashlib

import pytest

from transforms.finance import run_proof

DEEP = "[" * 100_000 + "]" * 100_000  # valid JSON, deeper than Python's json decodes


@pytest.mark.parametrize(
    ("manifest", "canonical"),
    [
        ('{"b": 1,  "a": 2}', '{"a":2,"b":1}'),  # the stores' spacing differs: the value counts
        ("not json", "not json"),  # edited into text: its own hash, which matches no seal
        (DEEP, DEEP),  # `audit --verify` stopped with "internal error: RecursionError" (exit 1)
    ],
    ids=["json", "not-json", "nested-too-deep"],
)
def test_a_manifest_s_hash_is_of_its_value_or_else_of_its_text(manifest, canonical):
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert run_proof.manifest_sha256(manifest) == expected
