"""The daily run's incident files (`data/incidents/`): what it runs and what it leaves out,
each with why."""

from __future__ import annotations

import os

from tests import golden_incident
from transforms.ingest.incident import folder


def test_the_daily_run_names_the_incident_files_it_leaves_out(tmp_path):
    golden_incident.write(tmp_path / "data")
    incident = (tmp_path / "data" / "incident.toml").read_text()
    (tmp_path / "INC-A.toml").write_text(incident.replace('"INC-GOLD"', '"INC-A"'))
    (tmp_path / "INC-B.TOML").write_text("")  # any case; a broken file is its run's to name
    (tmp_path / ".#INC-A.toml").symlink_to("/nonexistent/emacs-lock")
    (tmp_path / "INC-C.toml ").write_text("")
    (tmp_path / "old.toml").mkdir()
    (tmp_path / os.fsdecode(b"E_\xff.toml")).write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "INC-D").mkdir()  # an incident kept beside its logs and tables
    (tmp_path / "INC-D" / "INC-D.toml").write_text("")
    (tmp_path / "INC-D" / "logs.toml.txt").write_text("")
    (tmp_path / ".git").mkdir()  # a hidden folder's files are nobody's incident
    (tmp_path / ".git" / "config.toml").write_text("")
    files = folder.incident_files(tmp_path)
    assert [p.name for p in files.found] == ["INC-A.toml", "INC-B.TOML"]
    assert files.left_out == {
        ".#INC-A.toml": "a hidden file (an editor's lock or backup?): not run",
        "E_\ufffd.toml": "its name is not UTF-8: rename it",
        "INC-C.toml ": "its name ends in a blank: rename it",
        "old.toml": "a folder: subfolders are not read",
        "INC-D/INC-D.toml": folder.IN_SUBFOLDER,
        "data/incident.toml": folder.IN_SUBFOLDER,  # the golden incident INC-A was made from
    }
    assert folder.IN_SUBFOLDER.startswith("in a subfolder: not run")


def test_two_files_of_one_incident_are_both_left_out_naming_each_other(tmp_path):
    golden_incident.write(tmp_path / "data")
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text((tmp_path / "data" / "incident.toml").read_text())
    files = folder.incident_files(tmp_path)
    assert files.found == []
    assert files.left_out["a.toml"].startswith("incident INC-GOLD is also in b.toml")
    assert files.left_out["b.toml"].startswith("incident INC-GOLD is also in a.toml")
