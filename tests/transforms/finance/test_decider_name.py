"""Who decides (`--by` of approve and decline): a person's name, on one line of plain text."""

from __future__ import annotations

import pytest

from transforms.errors import ConfigError
from transforms.finance.approval import require_name


@pytest.mark.parametrize(
    ("by", "said"),
    [
        ("", "name the person who decides"),
        ("   ", "name the person who decides"),
        # an escape and a line break went into the journal and every batch's batch.json as
        # given: another tool reading them showed a forged line ("Eve" then "root")
        ("Eve\x1b[2J\nroot", "the control or format character U+001B at character 4"),
        ("Alice\u202eecnaniF", "U+202E"),
        ("a" * 201, "at most 200 characters (201)"),
    ],
)
def test_a_decider_s_name_is_plain_text_on_one_line(by, said):
    with pytest.raises(ConfigError) as refused:
        require_name(by)
    assert str(refused.value).startswith("--by: ") and said in str(refused.value)


def test_a_name_with_accents_and_spaces_is_a_name():
    require_name("Zoë O'Brien-Łukasz (Finance)")
