"""Text a spreadsheet shows as text: a cell that starts like a formula gets a `'`."""

from __future__ import annotations

import pytest

from transforms import spreadsheet


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        # harmless text, numbers and empty cells stay as they are
        ("Zoë Müller", "Zoë Müller"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),
        (None, None),
        # a negative amount as text stays a number a spreadsheet sums (`diff --csv`)
        ("-1500", "-1500"),
        ("-0.266", "-0.266"),
        ("-0.266\n", "'-0.266\n"),
        ("-1e3", "'-1e3"),
        ("-007", "'-007"),  # an id a spreadsheet would turn into -7
    ],
)
def test_a_cell_starting_like_a_formula_is_neutralised(value, shown):
    assert spreadsheet.safe(value) == shown
