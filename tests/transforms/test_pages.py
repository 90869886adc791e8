"""The page templates: strict about their values, and shipped with the package."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import jinja2
import pytest

from transforms import pages

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "transforms" / "templates"

OUTCOME = {
    "expectation_id": "v_not_null",
    "expectation": "expect_column_values_to_not_be_null",
    "column": "v",
    "severity": "blocking",
    "success": False,
    "unexpected_count": 1,
    "offending": ["k1"],
    "notes": "n.",
}
SUITE = {"suite": "s", "passed": False, "blocking_failures": 1, "warnings": 0}
DOCUMENT = {"passed": False, "blocking_failures": 1, "warnings": 0, "quarantine": None}
RUN = {
    "incident_id": "INC-P",
    "run_id": "20250108T120000000000Z-0a1b2c3d",
    "runs_command": ".venv/bin/credits runs --incident INC-P",
    "quarantine_rules": ["run_quarantined_share_within_limit"],
    "failure_lines_rule": "no_failure_line_quarantined",
}
NO_FAILURE_LINES = {"lines": 0, "first": None, "reasons": [], "other_reasons": 0, "what_to_do": "-"}
QUARANTINE = {
    "lines": 1000,
    "quarantined": 50,
    "share": 0.05,
    "max_quarantined_share": 0.01,
    "within_limit": False,
    "worst_files": [{"file": "logs/<x>.jsonl", "lines": 100, "quarantined": 40, "share": 0.4}],
    "what_to_do": "Look at quarantine.jsonl",
    "failure_lines": NO_FAILURE_LINES,
}


def test_the_validation_page_from_its_values():
    document = DOCUMENT | {"suites": [SUITE | {"outcomes": [OUTCOME]}]}
    page = pages.render("validation.html", document=document, max_offending=20, **RUN)
    assert '<span class="fail">BLOCKED</span>' in page and "<code>k1</code>" in page


def test_the_validation_page_shows_the_failure_lines_quarantined_and_links_their_warning():
    failure_lines = {
        "lines": 7,
        "first": {"file": "logs/<a>.jsonl", "line": 1204},
        "reasons": [{"reason": "amount_minor is not an integer", "lines": 6}],
        "other_reasons": 1,
        "what_to_do": "Add each payment by hand",
    }
    outcome = OUTCOME | {"expectation_id": "no_failure_line_quarantined", "severity": "warning"}
    suite = SUITE | {"suite": "file_profile", "outcomes": [outcome]}
    quarantine = QUARANTINE | {"within_limit": True, "failure_lines": failure_lines}
    document = DOCUMENT | {"quarantine": quarantine, "suites": [suite]}
    page = pages.render("validation.html", document=document, max_offending=20, **RUN)
    assert '<p id="failure-lines" class="warn">7 quarantined log line(s) are failure lines' in page
    assert "<code>logs/&lt;a&gt;.jsonl</code> line 1,204" in page
    assert "<td>amount_minor is not an integer</td><td>6</td>" in page
    assert "1 other reason(s)" in page and "Add each payment by hand." in page
    assert '<a href="#failure-lines">Measured: 7 failure line(s) quarantined' in page


def test_the_validation_page_shows_the_quarantine_and_links_its_failing_rule():
    outcome = OUTCOME | {
        "expectation_id": "run_quarantined_share_within_limit",
        "unexpected_count": 0,
    }
    suite = SUITE | {"suite": "file_profile", "outcomes": [outcome]}
    document = DOCUMENT | {"quarantine": QUARANTINE, "suites": [suite]}
    page = pages.render("validation.html", document=document, max_offending=20, **RUN)
    assert '<section id="quarantine">' in page and "over the limit" in page
    assert "50 of 1,000 lines quarantined (5.00%)" in " ".join(page.split())
    assert "the limit is 1.00%" in page and "<code>logs/&lt;x&gt;.jsonl</code>" in page
    assert "40.0%" in page and "Look at quarantine.jsonl." in page
    assert '<a href="#quarantine">Measured: 50 of 1,000 lines (5.00%), limit 1.00%</a>' in page


def test_the_validation_page_names_its_run_says_as_of_the_run_and_links_the_report():
    document = DOCUMENT | {"suites": [SUITE | {"outcomes": [OUTCOME]}]}
    page = pages.render("validation.html", document=document, max_offending=20, **RUN)
    assert "<title>INC-P run 20250108T120000000000Z-0a1b2c3d: data quality</title>" in page
    assert "<h1>INC-P run <code>20250108T120000000000Z-0a1b2c3d</code>: data quality</h1>" in page
    text = " ".join(page.split())
    assert (
        "As of the run" in text and "<code>.venv/bin/credits runs --incident INC-P</code>" in text
    )
    assert '<a href="report.html">' in page


def test_a_value_the_template_is_not_given_is_an_error_not_an_empty_string():
    document = DOCUMENT | {"suites": [SUITE | {"outcomes": [OUTCOME]}]}
    with pytest.raises(jinja2.UndefinedError, match="max_offending"):
        pages.render("validation.html", document=document, **RUN)
    without_notes = {k: v for k, v in OUTCOME.items() if k != "notes"}
    with pytest.raises(jinja2.UndefinedError, match="notes"):
        pages.render(
            "validation.html",
            document=DOCUMENT | {"suites": [SUITE | {"outcomes": [without_notes]}]},
            max_offending=20,
            **RUN,
        )


def test_every_template_is_shipped_in_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = pyproject["tool"]["setuptools"]["package-data"]["transforms"]
    templates = [p.relative_to(ROOT / "transforms").as_posix() for p in TEMPLATES.iterdir()]
    assert {"templates/report.html", "templates/validation.html"} <= set(templates)
    for name in templates:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in shipped), name


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("*bold* _it_", r"\*bold\* \_it\_"),  # emphasis
        ("[a](b) <b>", r"\[a\]\(b\) \<b\>"),  # a link and a tag
        ("# c1 | - x", r"\# c1 \| \- x"),  # a heading, a table cell's end, a list item
        ("a\\b `c`", r"a\\b \`c\`"),  # a backslash itself, code
        ("plain c1, 10.00 USD", "plain c1, 10.00 USD"),  # nothing to escape: as it is
        (42, "42"),  # any value, as its text
        # a line break (a hostile customer id) would end the table row: rows or paragraphs of
        # the id's choosing in the approval form
        ("c1\n\nApproved by the CFO\n| x |", r"c1??Approved by the CFO?\| x \|"),
        ("c1\r\u202eevil\x1b[2J", r"c1??evil?\[2J"),  # a CR, a right-to-left override, an escape
    ],
)
def test_markdown_text_escapes_every_markdown_punctuation_character(value, shown):
    assert pages.markdown_text(value) == shown


def test_markdown_text_escapes_only_the_characters_it_is_given():
    assert pages.markdown_text("*a* (b) #c", "*") == r"\*a\* (b) #c"
