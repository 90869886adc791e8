"""The failure events a part of a split record names (`lost.held`): the map stops the run on
such a part rather than quarantine it, its failure lost under the quarantine limit."""

from __future__ import annotations

import pytest

from transforms.ingest.logs import lost

EVENTS = ("payment.failed", "charge/error")


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ('{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn', ["payment.failed"]),
        ('{"event": "\\u0070ayment.failed"', ["payment.failed"]),  # spelt with an escape
        ('{"log":"{\\"event\\":\\"payment.failed\\",\\"tx', ["payment.failed"]),  # in Docker's log
        ('{"log":"{\\"event\\":\\"\\\\u0070ayment.failed', ["payment.failed"]),  # both, cut there
        ("ts=2025-01-07T20:00:00Z event=charge/error txn", ["charge/error"]),  # logfmt
        ('{"event": "payment.failed_retry", "txn', []),  # a longer name: another event
        ('{"event": "payment.failed.v2"', []),
        ('{"event": "xpayment.failed"', []),
        ('{"event": "payment.succeeded", "note": "was payment', []),
    ],
)
def test_a_part_holds_a_failure_event_named_whole_spelt_with_escapes_or_not(text, held):
    assert lost.held(text, EVENTS) == held
