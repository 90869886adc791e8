"""The sample refuses a disk without room for it, saying what to do."""

from __future__ import annotations

import shutil
from collections import namedtuple

import pytest

from transforms.errors import StorageError
from transforms.sample import files

Usage = namedtuple("Usage", "total used free")


def test_a_nearly_full_disk_at_scale_1_is_told_in_megabytes_to_free_space(tmp_path, monkeypatch):
    # It said "--scale 1 writes about 0 GB under ...; ... has 0.0 GB free: give a smaller
    # --scale (1 writes about 4.6 MB)": there is no smaller scale, and no size was 0
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(300_000, 0, 290_000))
    with pytest.raises(StorageError) as refused:
        files.require_room(tmp_path / "s", 1)
    said = str(refused.value)
    assert "--scale 1 writes about 4.6 MB under" in said and "has 0.3 MB free" in said, said
    assert "smaller --scale" not in said and "free some space" in said, said


def test_a_scale_too_large_is_told_in_gigabytes_to_give_a_smaller_one(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(10**11, 0, 5 * 10**10))
    with pytest.raises(StorageError) as refused:
        files.require_room(tmp_path / "s", 100_000)
    said = str(refused.value)
    assert "writes about 460 GB" in said and "has 50.0 GB free" in said, said
    assert "give a smaller --scale (1 writes about 4.6 MB)" in said, said
