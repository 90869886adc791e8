"""The test helpers of the two stores (`tests/stores.py`)."""

from __future__ import annotations

import pytest

from tests import stores


def test_a_template_that_is_not_a_test_database_s_name_never_reaches_the_statement():
    # A database's name cannot be bound: the statement takes only names of our own pattern,
    # checked before any connection is made (this URL leads nowhere).
    nowhere = "postgresql://nobody@127.0.0.1:9/none"
    with (
        pytest.raises(ValueError, match="not a test database's name"),
        stores.database(nowhere, template="x; drop y"),
    ):
        pass
