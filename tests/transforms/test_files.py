"""Files written atomically (`transforms.files`)."""

from __future__ import annotations

import errno
import os
from contextlib import ExitStack

from transforms import files


def test_two_writers_of_one_file_each_rename_a_whole_file_of_their_own(tmp_path):
    # Two machines finishing one batch in a shared outbox (the first's store session cut while
    # it wrote, the second let in by the lock) write the same bytes to the same file. They
    # shared one temporary name: the second truncated the first's temporary file, which the
    # first then renamed, so credits.csv was published empty (or half written, and the
    # trailer's sha256 taken of that); and the second's rename found no file (exit 1).
    final = tmp_path / "credits.csv"
    data = b"entry_id,credit_id\n1,INC|c1|USD\n"
    with ExitStack() as first, ExitStack() as second:
        mine = first.enter_context(files.atomic_path(final))
        mine.write_bytes(data)
        theirs = second.enter_context(files.atomic_path(final))
        theirs.open("wb").close()  # the other writer has opened its temporary file
        first.close()  # the first renames its file
        assert final.read_bytes() == data
        theirs.write_bytes(data)
    assert final.read_bytes() == data  # the second renamed its own whole file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credits.csv"]  # no temporary left


def test_a_failed_write_leaves_the_file_as_it_was(tmp_path):
    final = tmp_path / "credits.csv"
    final.write_bytes(b"before")
    try:
        with files.atomic_path(final) as temp:
            temp.write_bytes(b"half")
            raise OSError("disk full")
    except OSError:
        pass
    assert final.read_bytes() == b"before" and list(tmp_path.iterdir()) == [final]


def test_temporaries_are_the_temporary_files_atomic_path_names(tmp_path):
    with files.atomic_path(tmp_path / "credits.csv") as temp:
        temp.write_text("x")
        assert files.temporaries(tmp_path) == [temp]  # a writer's, while it writes
    assert files.temporaries(tmp_path) == []  # renamed away
    for name in ["credits.csv.tmp", ".credits.csv.tmp", f".x.{'0' * 31}.tmp", f".x.{'g' * 32}.tmp"]:
        (tmp_path / name).write_text("")  # not names it gives
    assert files.temporaries(tmp_path) == []
    assert files.temporaries(tmp_path / "nowhere") == []


def test_a_file_written_once_never_replaces_other_bytes_already_there(tmp_path):
    # A batch's file written by two writers: the same bytes (a writer finishing what another
    # left) are accepted; other bytes (another warehouse's batch) are left there and returned.
    final = tmp_path / "batch.json"
    assert files.write_once(final, b"mine\n") is None
    assert files.write_once(final, b"mine\n") is None
    assert files.write_once(final, b"theirs\n") == b"mine\n"
    assert final.read_bytes() == b"mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.json"]  # no temporary left


def test_a_file_written_once_where_the_folder_has_no_hard_links_still_keeps_other_bytes(
    tmp_path, monkeypatch
):
    def no_links(source, target):
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP), str(target))

    monkeypatch.setattr(files.os, "link", no_links)  # some SMB and FUSE mounts
    final = tmp_path / "credits.csv"
    assert files.write_once(final, b"mine\n") is None
    assert files.write_once(final, b"theirs\n") == b"mine\n"
    assert final.read_bytes() == b"mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credits.csv"]
