"""The run summary a person reads shows credits as money, never minor units."""

from __future__ import annotations

import io

from rich.console import Console

from flows.cli import common


def test_the_run_summary_shows_credits_as_money(monkeypatch):
    shown = io.StringIO()
    monkeypatch.setattr(common, "out", Console(file=shown, width=100, highlight=False))
    common.print_summary(
        {
            "incident": {"id": "INC-M"},
            "run_id": "r1",
            "verdict": "pending approval",
            "totals_minor": {"JPY": 150000, "USD": 1475000, "BHD": 1234},
        }
    )
    text = shown.getvalue()
    for money in ("JPY 150,000", "USD 14,750.00", "BHD 1.234"):
        assert money in text
    assert "1,475,000" not in text and "minor units" not in text
