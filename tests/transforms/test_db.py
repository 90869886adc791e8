"""The SQL statements: found by file name under any stage's `sql/` folder."""

from __future__ import annotations

import pytest

from transforms import db


def test_every_statement_name_is_unique_across_the_stages():
    found = db.sql_files()
    repeated = {name: paths for name, paths in found.items() if len(paths) > 1}
    assert repeated == {}
    assert len(found) > 50  # every stage's folder was searched


def test_a_statement_is_found_in_its_stage_folder():
    assert db.statement("credits").startswith("-- The credit file:")
    stages = {name: paths[0].parent.parent.name for name, paths in db.sql_files().items()}
    assert (stages["credits"], stages["stg_logs"], stages["wh_load_run"]) == (
        "reconcile",
        "ingest",
        "finance",
    )


def test_an_unknown_statement_names_the_folders_searched():
    with pytest.raises(FileNotFoundError, match=r"no statement nothing_here\.sql"):
        db.statement("nothing_here")
