"""Where a batch's files are for this machine (`outbox.located`): under the outbox it is given
(a shared outbox mounted at another path per machine), else where the batch was written."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from transforms.errors import InputError
from transforms.finance import outbox


def batch_in(root: Path) -> SimpleNamespace:
    folder = outbox.folder_of(root, "INC-T", "INC-T-B001")
    return SimpleNamespace(incident_id="INC-T", batch_id="INC-T-B001", folder=folder)


def written(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / outbox.TRAILER).write_text("{}\n")
    return folder


def test_a_batch_is_found_under_the_outbox_given_first(tmp_path):
    batch = batch_in(tmp_path / "machine-a" / "outbox")
    here = written(outbox.folder_of(tmp_path / "machine-b" / "outbox", "INC-T", "INC-T-B001"))
    assert outbox.located(batch, tmp_path / "machine-b" / "outbox") == here


def test_a_batch_only_where_it_was_written_is_found_there(tmp_path):
    batch = batch_in(tmp_path / "outbox")
    written(batch.folder)
    assert outbox.located(batch, tmp_path / "elsewhere") == batch.folder


def test_a_batch_not_written_yet_is_finished_where_its_first_files_are_else_here(tmp_path):
    """A stale, empty mount point at the recorded path does not take the batch: it goes under
    the outbox given, where finance looks."""
    batch = batch_in(tmp_path / "outbox")
    given = tmp_path / "shared"
    expected = outbox.folder_of(given, "INC-T", "INC-T-B001")
    batch.folder.parent.mkdir(parents=True)  # the recorded outbox is there, the batch is not
    assert outbox.located(batch, given) == expected
    batch.folder.mkdir()
    (batch.folder / "credits.csv").write_text("half a fi")  # an approval stopped mid-file
    assert outbox.located(batch, given) == batch.folder
    assert outbox.located(batch, None) == batch.folder


def test_a_path_that_is_no_batch_names_the_batches_near_it_not_the_whole_disk(
    tmp_path, monkeypatch
):
    # `verify-batch data/outbox/x` typed in / or a home folder walked the whole tree below it
    # (and failed, exit 1, on a /proc entry that vanished as it was read)
    written(outbox.folder_of(tmp_path / "data" / "outbox", "INC-T", "INC-T-B001"))
    written(outbox.folder_of(tmp_path / "a" / "b" / "outbox", "INC-T", "INC-T-B002"))  # 5 deep
    written(outbox.folder_of(tmp_path / ".venv" / "outbox", "INC-T", "INC-T-B003"))  # hidden
    monkeypatch.chdir(tmp_path)
    near = "data/outbox/incident=INC-T/batch=INC-T-B001"
    for given, below in [("data/outbox/x", "data/outbox"), ("outbox/x", ".")]:
        with pytest.raises(InputError) as raised:
            outbox.batch_folder(Path(given))
        assert (
            str(raised.value) == f"{given}: no such folder; the batch folders below {below}: {near}"
        )
