"""The gate's contract: suite files, loading guards, parameters, determinism and the report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from tests import html_page
from tests.html_page import HOSTILE
from transforms.quality import suites, validation, validation_page

ROOT = Path(__file__).resolve().parents[2]
SUITES = {
    "stg_failures",
    "file_profile",
    "transactions",
    "customers",
    "evidence",
    "credits",
    "credit_totals",
}


def suite_documents() -> list[tuple[str, dict]]:
    return [
        (path.stem, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(suites.SUITE_DIR.glob("*.json"))
    ]


# -- the suite files --------------------------------------------------------------------------


def test_suite_dir_holds_exactly_the_pipeline_suites():
    assert suites.SUITE_DIR == ROOT / "expectations"
    assert {stem for stem, _ in suite_documents()} == SUITES


@pytest.mark.parametrize(("stem", "document"), suite_documents(), ids=lambda v: str(v)[:20])
def test_every_expectation_has_notes_and_severity(stem, document):
    assert document["name"] == stem
    ids = [spec["id"] for spec in document["expectations"]]
    assert len(ids) == len(set(ids)), "expectation ids must be unique within a suite"
    for spec in document["expectations"]:
        # the severity is written once, in meta; GX's own field is derived when the suite loads
        assert set(spec) == {"type", "kwargs", "meta", "id"}, spec.get("id")
        notes = spec["meta"]["notes"]
        assert isinstance(notes, str) and notes.strip() and notes.endswith("."), spec["id"]
        assert spec["meta"]["severity"] in {"blocking", "warning"}, spec["id"]


@pytest.mark.parametrize("stem", ["transactions", "customers"])
def test_a_set_check_on_a_users_table_names_the_values_allowed(stem):
    # The gate prints the note on a rejection: a customer table with segment "retail" must be
    # told which segments to write instead, not only which rows broke the check.
    document = dict(suite_documents())[stem]
    for spec in document["expectations"]:
        allowed = spec["kwargs"].get("value_set")
        if spec["type"] == "expect_column_values_to_be_in_set" and isinstance(allowed, list):
            notes = spec["meta"]["notes"]
            assert all(f"`{value}`" in notes for value in allowed), (spec["id"], notes)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_gx_severity_is_derived_from_meta_severity_when_a_suite_loads(suite):
    from great_expectations.core import ExpectationSuite

    document = suites.load_suite_document(suite)
    gx_suite = ExpectationSuite(**document)
    for spec, expectation in zip(document["expectations"], gx_suite.expectations, strict=True):
        expected = {"blocking": "critical", "warning": "warning"}[spec["meta"]["severity"]]
        assert expectation.severity.value == expected, spec["id"]


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_is_gx_native_and_round_trips(suite):
    from great_expectations.core import ExpectationSuite

    document = suites.load_suite_document(suite)
    gx_suite = ExpectationSuite(**document)
    assert len(gx_suite.expectations) == len(document["expectations"])
    dumped = gx_suite.to_json_dict()
    assert dumped["name"] == suite
    assert dumped["expectations"] == document["expectations"]


def write_suite(folder: Path, name: str, expectations: list[dict]) -> None:
    document = {"name": name, "id": None, "expectations": expectations, "meta": {}}
    (folder / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")


def spec(id_: str, type_: str, kwargs: dict, severity: str = "blocking") -> dict:
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"notes": "n.", "severity": severity},
        "id": id_,
    }


FRAME = pd.DataFrame({"k": ["a", "b"], "v": [1, 2]})


def test_validate_raises_when_gx_loads_fewer_expectations_than_the_json(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    write_suite(
        tmp_path,
        "dropped",
        [
            spec("v_not_null", "expect_column_values_to_not_be_null", {"column": "v"}),
            spec("custom", "expect_column_values_to_be_a_unicorn", {"column": "v"}),
        ],
    )
    with pytest.raises(suites.SuiteError, match=r"loaded 1 of 2.*custom"):
        validation.validate(FRAME, "dropped", {}, "k")


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"notes": "n."}, "meta.severity"),
        ({"notes": "n.", "severity": "fatal"}, "meta.severity"),
        ({"severity": "blocking"}, "meta.notes"),
        ({"notes": " ", "severity": "blocking"}, "meta.notes"),
    ],
)
def test_validate_refuses_expectations_without_notes_or_severity(
    tmp_path, monkeypatch, meta, message
):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    bad = spec("v_not_null", "expect_column_values_to_not_be_null", {"column": "v"})
    bad["meta"] = meta
    write_suite(tmp_path, "bad", [bad])
    with pytest.raises(suites.SuiteError, match=message):
        validation.validate(FRAME, "bad", {}, "k")


@pytest.mark.parametrize("gx_severity", ["critical", "warning"])
def test_validate_refuses_a_second_severity(tmp_path, monkeypatch, gx_severity):
    # GX's `severity` beside `meta.severity` is refused, even when the two agree
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    bad = spec("v_not_null", "expect_column_values_to_not_be_null", {"column": "v"}, "warning")
    bad["severity"] = gx_severity
    write_suite(tmp_path, "bad", [bad])
    with pytest.raises(suites.SuiteError, match=r"v_not_null.*remove 'severity'"):
        validation.validate(FRAME, "bad", {}, "k")


def test_a_warning_reaches_gx_as_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    warned = spec("v_not_null", "expect_column_values_to_not_be_null", {"column": "v"}, "warning")
    write_suite(tmp_path, "warned", [warned])
    result = validation.validate(FRAME.assign(v=[1, None]), "warned", {}, "k")
    assert result.warnings and not result.blocking_failures
    assert result.gx_result["results"][0]["expectation_config"]["severity"] == "warning"


def test_validate_refuses_unknown_suite():
    with pytest.raises(suites.SuiteError, match="no such suite"):
        validation.validate(FRAME, "no_such_suite", {}, "k")


# -- parameters, keys, GX errors ----------------------------------------------------------------


def test_missing_parameter_is_an_error(harness):
    parameters = dict(harness.parameters)
    del parameters["window_end_utc"]
    with pytest.raises(suites.SuiteError, match="window_end_utc"):
        validation.validate(
            harness.valid("stg_failures"), "stg_failures", parameters, ["file", "line"]
        )


def test_missing_key_column_is_an_error(harness):
    with pytest.raises(suites.SuiteError, match="key columns"):
        validation.validate(harness.valid("customers"), "customers", {}, "id")


def test_missing_data_column_is_an_error_not_a_pass(harness):
    frame = harness.valid("customers").drop(columns=["email"])
    with pytest.raises(suites.SuiteError, match="email_present"):
        harness.run("customers", frame)


def test_naive_datetime_parameter_is_an_error(harness):
    parameters = dict(harness.parameters, window_start_utc=pd.Timestamp("2025-01-07T10:00"))
    with pytest.raises(suites.SuiteError, match="timezone-aware"):
        harness.run("stg_failures", harness.valid("stg_failures"), parameters)


def test_parameters_are_applied_at_validation_time(harness):
    narrow = dict(harness.parameters, window_end_utc=pd.Timestamp("2025-01-07T11:30:00Z"))
    result = harness.run("stg_failures", harness.valid("stg_failures"), narrow)
    assert harness.failed_ids(result) == {"ts_utc_in_window"}
    (outcome,) = result.blocking_failures
    assert outcome.offending == ("gw-a.log:17", "gw-b.log:5")  # 11:30 is excluded: strict max
    config = result.gx_result["results"][4]["expectation_config"]
    assert config["kwargs"]["max_value"] == "2025-01-07T11:30:00+00:00"


def test_set_parameters_are_accepted(harness):
    parameters = dict(harness.parameters, iso_currencies={"USD", "EUR"})
    result = harness.run("transactions", harness.valid("transactions"), parameters)
    assert harness.failed_ids(result) == {"currency_iso"}
    assert result.blocking_failures[0].offending == ("T3",)


def test_offending_keys_are_capped_sorted_and_deduplicated(harness):
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{n:02d}" for n in range(30, 0, -1)] + ["C30"],
            "name": "x",
            "email": None,
            "country": "DE",
            "segment": "consumer",
            "status": "active",
        }
    )
    result = harness.run("customers", frame)
    by_id = {o.expectation_id: o for o in result.outcomes}
    email = by_id["email_present"]
    assert email.unexpected_count == 31
    assert email.offending == tuple(f"C{n:02d}" for n in range(1, 21))
    assert by_id["customer_id_unique"].offending == ("C30",)


def test_null_part_of_a_compound_key_is_shown(harness):
    frame = harness.valid("stg_failures")
    frame["file"] = frame["file"].astype(object)
    frame.loc[0, "file"] = None
    frame.loc[0, "txn_id"] = ""
    result = harness.run("stg_failures", frame)
    assert result.blocking_failures[0].offending == ("<null>:3",)


# -- GX runtime behaviour -----------------------------------------------------------------------


@pytest.mark.real_gx  # GX itself, twice: no answer remembered
def test_validation_is_deterministic(harness):
    frame = harness.valid("evidence")
    frame.loc[0, "currency"] = None
    first = harness.run("evidence", frame)
    second = harness.run("evidence", frame.copy())
    assert first == second
    assert json.dumps(first.gx_result, sort_keys=True) == json.dumps(
        second.gx_result, sort_keys=True
    )
    assert "ge_load_time" not in first.gx_result["meta"]["batch_markers"]
    ids = [r["expectation_config"]["id"] for r in first.gx_result["results"]]
    assert ids == harness.expectation_ids("evidence")


@pytest.mark.real_gx  # GX itself: a remembered answer prints nothing either
def test_validating_prints_no_progress_bars(harness, capfd):
    harness.run("credits", harness.valid("credits"))
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out


@pytest.mark.real_gx  # GX's own contexts, slice after slice
def test_gx_keeps_at_most_one_slice_after_validating(harness):
    """GX keeps what it computed in its context: each slice gets a new one, so memory holds at
    most the last slice's metrics, whatever the frame's length."""
    import gc

    frame = pd.concat([harness.valid("stg_failures")] * 700, ignore_index=True)
    frame["line"] = range(len(frame))
    keys = harness.keys["stg_failures"]
    validation.validate(frame, "stg_failures", harness.parameters, keys, chunk_rows=500)
    del frame
    gc.collect()
    kept = [o for o in gc.get_objects() if isinstance(o, pd.Series | pd.DataFrame)]
    assert [len(o) for o in kept if len(o) == 2100] == []  # the frame, or its narrow columns


@pytest.mark.real_gx  # GX itself: a remembered answer writes nothing either
def test_gx_writes_no_files(harness, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for suite in sorted(SUITES):
        harness.run(suite, harness.valid(suite))
    assert list(tmp_path.iterdir()) == []
    assert not (ROOT / "gx").exists()
    assert not (ROOT / "great_expectations").exists()


def test_import_is_cheap():
    code = (
        "import sys, transforms.quality; "
        "print(sorted(m for m in ('great_expectations', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


# -- the report -------------------------------------------------------------------------------


def report_results(harness, customer_id: str = HOSTILE) -> list[validation.SuiteResult]:
    customers = harness.valid("customers")
    customers.loc[1, "customer_id"] = customer_id
    customers.loc[1, "email"] = None
    transactions = harness.valid("transactions")
    transactions.loc[0, "status"] = "<b>odd</b>"
    return [
        harness.run("customers", customers),
        harness.run("transactions", transactions),
        harness.run("credit_totals", harness.valid("credit_totals")),
    ]


def assert_keys_sorted(node) -> None:
    if isinstance(node, dict):
        assert list(node) == sorted(node)
        for value in node.values():
            assert_keys_sorted(value)
    elif isinstance(node, list):
        for value in node:
            assert_keys_sorted(value)


RUN = {"incident_id": "INC-Q", "run_id": "20250108T120000000000Z-0a1b2c3d"}


def test_write_report_json(harness, tmp_path):
    results = report_results(harness)
    json_path, html_path = validation_page.write_report(results, tmp_path / "out", **RUN)
    assert json_path == tmp_path / "out" / "validation.json"
    assert html_path == tmp_path / "out" / "validation.html"

    def no_constants(name):
        raise ValueError(f"non-standard JSON constant {name}")

    text = json_path.read_text(encoding="utf-8")
    document = json.loads(text, parse_constant=no_constants)
    assert text == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    assert list(document) == [
        "report",
        "passed",
        "blocking_failures",
        "warnings",
        "quarantine",
        "suites",
    ]
    assert document["quarantine"] is None  # measured by the gate on a run's file profile
    assert list(document["suites"][0]) == [
        "suite",
        "passed",
        "blocking_failures",
        "warnings",
        "outcomes",
        "gx_result",
    ]
    assert_keys_sorted(document["suites"][0]["gx_result"])
    assert document["passed"] is False
    assert document["blocking_failures"] == 1 and document["warnings"] == 1
    assert [s["suite"] for s in document["suites"]] == [
        "customers",
        "transactions",
        "credit_totals",
    ]
    customers = document["suites"][0]
    assert customers["passed"] is True and customers["warnings"] == 1
    email = next(o for o in customers["outcomes"] if o["expectation_id"] == "email_present")
    assert email["offending"] == [HOSTILE] and email["severity"] == "warning"
    assert customers["gx_result"]["suite_name"] == "customers"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "validation.html",
        "validation.json",
    ]


@pytest.mark.real_gx  # GX itself, twice: no answer remembered
def test_write_report_is_deterministic(harness, tmp_path):
    first = validation_page.write_report(report_results(harness), tmp_path / "a", **RUN)
    second = validation_page.write_report(report_results(harness), tmp_path / "b", **RUN)
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()


def test_write_report_html_is_self_contained_and_escaped(harness, tmp_path):
    _, plain_path = validation_page.write_report(
        report_results(harness, "PLAIN-KEY"), tmp_path / "p", **RUN
    )
    plain_page = plain_path.read_text(encoding="utf-8")
    assert not re.search(r"https?:|//", plain_page, re.IGNORECASE)  # no address anywhere
    plain = html_page.parse(plain_page)
    _, html_path = validation_page.write_report(report_results(harness), tmp_path, **RUN)
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in page  # the browser may load nothing else
    lowered = page.lower()
    assert "<script" not in lowered and "<link" not in lowered and "<img" not in lowered
    # the hostile offending key: the same elements as with a plain one, and shown as written
    hostile = html_page.parse(page)
    assert hostile.elements == plain.elements
    assert plain.text.count("PLAIN-KEY") == 1 and hostile.text.count(HOSTILE) == 1
    assert "<b>odd</b>" not in hostile.text  # offending values are keys, not the values
    assert "BLOCKED" in page
    for text in ("customers", "transactions", "credit_totals", "email_present", "warning"):
        assert text in page
    notes = suites.load_suite_document("transactions")["expectations"][7]["meta"]["notes"]
    assert notes in page


def test_write_report_replaces_existing_files(harness, tmp_path):
    (tmp_path / "validation.json").write_text("old", encoding="utf-8")
    validation_page.write_report(report_results(harness)[:1], tmp_path, **RUN)
    assert json.loads((tmp_path / "validation.json").read_text(encoding="utf-8"))["passed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation.html", "validation.json"]


# -- long frames: validated in slices ------------------------------------------------------------


def _credits_with_problems(harness) -> pd.DataFrame:
    """Nine credit rows: a null currency in the first slice, a non-positive amount in the last,
    and a credit_id and a (customer, currency) repeated across slices."""
    base = harness.valid("credits")
    frame = pd.concat([base] * 3, ignore_index=True)
    frame["credit_id"] = [f"{n:016x}" for n in range(9)]
    frame["customer_id"] = [f"C{n}" for n in range(9)]
    frame.loc[1, "currency"] = None
    frame.loc[8, "credit_amount_minor"] = 0
    frame.loc[7, "credit_id"] = frame.loc[0, "credit_id"]
    frame.loc[6, ["customer_id", "currency"]] = frame.loc[2, ["customer_id", "currency"]].values
    return frame


def _summary(result: validation.SuiteResult) -> list[tuple]:
    return [(o.expectation_id, o.success, o.unexpected_count, o.offending) for o in result.outcomes]


@pytest.mark.parametrize("as_arrow", [False, True])
def test_a_long_frame_validated_in_slices_gives_the_one_pass_outcome(harness, as_arrow):
    frame = _credits_with_problems(harness)
    whole = harness.run("credits", frame)
    data = pa.Table.from_pandas(frame, preserve_index=False) if as_arrow else frame
    sliced = validation.validate(data, "credits", harness.parameters, "credit_id", chunk_rows=2)
    assert _summary(sliced) == _summary(whole)
    assert harness.failed_ids(sliced) == {
        "currency_not_null",
        "credit_id_unique",
        "customer_currency_unique",
        "credit_amount_positive",
        "credit_amount_at_least_policy_min",
    }
    assert sliced.gx_result["statistics"]["unsuccessful_expectations"] == 5
    assert sliced.gx_result["success"] is False


def test_sliced_results_sum_counts_and_recompute_percentages(harness):
    frame = _credits_with_problems(harness)
    sliced = validation.validate(frame, "credits", harness.parameters, "credit_id", chunk_rows=4)
    (result,) = [
        r["result"]
        for r in sliced.gx_result["results"]
        if r["expectation_config"]["id"] == "currency_not_null"
    ]
    assert (result["element_count"], result["unexpected_count"]) == (9, 1)
    assert result["unexpected_percent"] == pytest.approx(100 / 9)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_a_frame_of_only_the_columns_a_suite_reads_is_enough(harness, suite):
    wanted = suites.columns(suite, harness.keys[suite])
    frame = harness.valid(suite)
    assert set(wanted) <= set(frame.columns)
    result = harness.run(suite, frame[wanted])
    assert all(outcome.success for outcome in result.outcomes)


def test_the_columns_of_a_suite_include_its_row_conditions():
    assert "credited" in suites.columns("evidence", "txn_id")


def test_a_suite_with_a_whole_table_expectation_is_never_sliced(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    count = {"min_value": 5, "max_value": 5}
    write_suite(tmp_path, "counted", [spec("five", "expect_table_row_count_to_be_between", count)])
    frame = pd.DataFrame({"k": list("abcde")})
    result = validation.validate(frame, "counted", {}, "k", chunk_rows=2)
    assert [o.success for o in result.outcomes] == [True]


def test_an_expectation_gx_cannot_evaluate_on_a_later_slice_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    ranged = {"column": "v", "min_value": 0, "max_value": 9}
    write_suite(tmp_path, "ranged", [spec("v_range", "expect_column_values_to_be_between", ranged)])
    frame = pd.DataFrame({"k": list("abcd"), "v": pd.array([1, 2, "x", 4], dtype=object)})
    # The first slice (1, 2) is fine; GX raises on the second: the merged result says so.
    with pytest.raises(suites.SuiteError, match=r"could not evaluate 'v_range'"):
        validation.validate(frame, "ranged", {}, "k", chunk_rows=2)
