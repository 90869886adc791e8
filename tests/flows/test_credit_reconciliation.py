"""The flow end to end through Prefect's test harness, on the golden incident."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests import golden_incident
from transforms import processes
from transforms.errors import ConfigError, ValidationRejected
from transforms.runfolder import runs
from transforms.runfolder.manifest_model import Manifest

GOLDEN = Path(__file__).parents[1] / "golden"


@pytest.fixture(scope="module")
def golden_run(prefect_harness, tmp_path_factory):
    from flows.credit_reconciliation import credit_reconciliation

    folder = tmp_path_factory.mktemp("golden")
    path = golden_incident.write(folder / "inc")
    warehouse = str(folder / "warehouse.duckdb")
    first = credit_reconciliation(str(path), str(folder / "out"), warehouse)
    second = credit_reconciliation(str(path), str(folder / "out"), warehouse)
    return first.run_folder, second.run_folder


def test_the_golden_credit_file_matches_byte_for_byte(golden_run):
    first, _ = golden_run
    assert (first / "credits.csv").read_bytes() == (GOLDEN / "credits.csv").read_bytes()
    assert (first / "exceptions.csv").read_bytes() == (GOLDEN / "exceptions.csv").read_bytes()


def test_identical_inputs_give_byte_identical_outputs(golden_run):
    first, second = golden_run
    assert first != second
    for name in ("credits.csv", "exceptions.csv", "evidence.parquet", "quarantine.jsonl"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_the_manifest_is_last_and_accounts_for_everything(golden_run):
    folder, _ = golden_run
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["verdict"] == "pending_approval"
    assert manifest["log_funnel"] == {
        "lines_read": 16,
        "parsed": 14,
        "relevant": 10,
        "irrelevant": 4,
        "duplicates": 1,
        "quarantined": 1,
        "identity_holds": True,
    }
    assert manifest["candidates"]["total"] == 11 == sum(manifest["candidates"]["by_class"].values())
    assert manifest["candidates"]["by_class"]["table_only"] == 1
    assert manifest["totals_minor"] == {"EUR": 900, "JPY": 1500, "USD": 2000}
    assert manifest["window"]["start_local"] == "2025-01-07T14:15:00-05:00"
    # the golden logs hold only a few lines around the window: no baseline to check it against
    assert manifest["window_check"]["status"] == "unchecked"
    credits = manifest["outputs"]["credits.csv"]
    assert credits["rows"] == 4
    assert credits["sha256"] == hashlib.sha256((folder / "credits.csv").read_bytes()).hexdigest()
    assert not (folder / "_work").exists()
    newest = max(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert newest.name == "manifest.json"


def test_the_manifest_reads_back_through_its_model_byte_for_byte(golden_run):
    folder, _ = golden_run
    written = (folder / "manifest.json").read_text(encoding="utf-8")
    assert Manifest.parse(written).text() == written


def test_evidence_has_one_row_per_candidate_with_its_class(golden_run):
    folder, _ = golden_run
    evidence = pq.read_table(folder / "evidence.parquet").to_pylist()
    assert [row["txn_id"] for row in evidence] == [f"t{n:02d}" for n in range(1, 12)]
    t01 = evidence[0]
    assert (t01["class"], t01["credited"], t01["failure_lines"]) == ("failed", True, 1)
    assert t01["source_files"] == "logs/pod-a.jsonl"


def test_a_blocked_run_keeps_its_evidence_but_publishes_no_credit_file(prefect_harness, tmp_path):
    from flows.credit_reconciliation import credit_reconciliation

    path = golden_incident.write(tmp_path / "inc")
    with (tmp_path / "inc/logs/pod-a.jsonl").open("a") as log:
        log.write("garbage\n" * 5)  # 6 of 21 lines quarantined: far above 1 %
    killed = tmp_path / "out" / "incident=INC-0" / "run=killed" / "_work"  # an earlier run's
    killed.mkdir(parents=True)
    # its process: pid 1 as started at the epoch, so not the pid 1 running now
    dead = dataclasses.replace(processes.Recorded.of(), pid=1, started=0.0)
    dead.write(killed / runs.OWNER)
    with pytest.raises(ValidationRejected) as rejected:
        credit_reconciliation(str(path), str(tmp_path / "out"), str(tmp_path / "wh.duckdb"))
    assert not killed.exists()  # the run swept the scratch of the killed one
    summary = rejected.value.summary
    folder = summary.run_folder
    assert summary.verdict == "rejected"
    assert any("quarantined_share" in line for line in summary.blocking)
    assert not (folder / "credits.csv").exists()
    assert "credits.csv" not in json.loads((folder / "manifest.json").read_text())["outputs"]
    for name in ("evidence.parquet", "quarantine.jsonl", "validation.json", "validation.html"):
        assert (folder / name).exists(), name


def test_a_run_stopped_by_its_configuration_removes_its_scratch(prefect_harness, tmp_path):
    # Its _work/ was left, and the next run removed it as that "of a run killed on this machine".
    from flows.credit_reconciliation import credit_reconciliation
    from tests.builders import failure, txn, write_incident

    path = write_incident(
        tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1", currency="GBP")]
    )
    with pytest.raises(ConfigError, match="flat_minor: no amount for GBP"):
        credit_reconciliation(str(path), str(tmp_path / "out"), str(tmp_path / "wh.duckdb"))
    (folder,) = (tmp_path / "out").glob("incident=*/run=*")
    assert not (folder / "_work").exists()


def test_the_stages_before_publishing_share_one_duckdb_instance_of_the_work_database(
    prefect_harness, tmp_path, monkeypatch
):
    # Each new DuckDB instance costs about 20 ms of CPU (its catalog); a run kept one per task
    # (8), a tenth of a small run. A database attached to an instance is seen by every
    # connection to it: a connection that does not see `probe` is a new instance.
    from flows.credit_reconciliation import credit_reconciliation
    from tests.builders import failure, txn, write_incident
    from transforms import db

    instances = []
    connect = db.connect

    def probed(database=":memory:", spill_dir=None):
        con = connect(database, spill_dir)
        if Path(database).name == "work.duckdb":
            attached = con.execute("select database_name from duckdb_databases()").fetchall()
            if ("probe",) not in attached:
                con.execute("attach ':memory:' as probe")
                instances.append(database)
        return con

    monkeypatch.setattr(db, "connect", probed)
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    summary = credit_reconciliation(str(path), str(tmp_path / "out"), str(tmp_path / "wh.duckdb"))
    assert summary.verdict == "pending_approval"
    # the one the stages share, then publishing's own (sealing attaches the file to the
    # warehouse, so no other instance of it may be open then)
    assert len(instances) == 2


def test_the_run_s_pages_name_the_warehouse_it_loaded_into(golden_run):
    # a run into a warehouse other than data/warehouse.duckdb: its pages' commands named none,
    # so pasted they approved or listed in the default one
    first, _ = golden_run
    warehouse = first.parents[2] / "warehouse.duckdb"
    report = (first / "report.html").read_text(encoding="utf-8")
    assert (
        f"credits approve {first.name.removeprefix('run=')} --by NAME --warehouse {warehouse}"
        in report
    )
    for name in ("report.html", "validation.html"):
        page = (first / name).read_text(encoding="utf-8")
        assert f"credits runs --incident INC-GOLD --warehouse {warehouse}</code>" in page, name
