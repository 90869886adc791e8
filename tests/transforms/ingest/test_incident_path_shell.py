"""An incident file's path with a shell's `~` or `$VARIABLE` left unexpanded (quoted, or from a
script's config): the message says so, not only that a folder named `~` does not exist."""

from __future__ import annotations

import pytest

from transforms.errors import ConfigError
from transforms.ingest import incident


@pytest.mark.parametrize("given", ["~/incidents/inc.toml", "$HOME/incidents/inc.toml"])
def test_an_unexpanded_home_is_named(tmp_path, monkeypatch, given):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        incident.load(given)
    assert str(raised.value).endswith(
        "does not exist); ~ and $VARIABLES are not expanded: write the folder's path itself"
    ), str(raised.value)
