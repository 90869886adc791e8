"""The profile path (`profiles.validate`) gives the row path's outcomes: the same success,
unexpected count and offending keys for every expectation type the suites use, and it refuses
what it cannot translate."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from tests.expectations.conftest import KEYS, PARAMETERS, VALID_FRAMES
from tests.expectations.test_gx_suites import CASES
from transforms import db
from transforms.quality import gate, profile_counts, profiles, suites, validation

T = pd.Timestamp
START = T("2025-01-07T10:00:00Z")
END = T("2025-01-07T14:00:00Z")
ON = {"type": "comparison", "column": {"name": "flag"}, "operator": "==", "parameter": True}


def spec(id_: str, type_: str, **kwargs) -> dict:
    return {
        "type": type_,
        "id": id_,
        "kwargs": kwargs,
        "meta": {"notes": "n.", "severity": "blocking"},
    }


BETWEEN = "expect_column_values_to_be_between"
EDGES = [
    spec("n_not_null", "expect_column_values_to_not_be_null", column="n"),
    spec("n_range", BETWEEN, column="n", min_value=0, max_value=10),
    spec(
        "n_open", BETWEEN, column="n", min_value=0, max_value=10, strict_min=True, strict_max=True
    ),
    spec("n_min_only", BETWEEN, column="n", min_value=1),
    spec("n_max_param", BETWEEN, column="n", max_value={"$PARAMETER": "n_max"}),
    spec(
        "ts_window",
        BETWEEN,
        column="ts",
        min_value={"$PARAMETER": "start"},
        max_value={"$PARAMETER": "end"},
        strict_max=True,
    ),
    spec("s_in_set", "expect_column_values_to_be_in_set", column="s", value_set=["x", "y", "w"]),
    spec(
        "s_in_param",
        "expect_column_values_to_be_in_set",
        column="s",
        value_set={"$PARAMETER": "letters"},
    ),
    spec("s_not_bad", "expect_column_values_to_not_be_in_set", column="s", value_set=["bad"]),
    spec(
        "s_not_none",
        "expect_column_values_to_not_be_in_set",
        column="s",
        value_set={"$PARAMETER": "none"},
    ),
    spec("s_not_blank", "expect_column_values_to_match_regex", column="s", regex=r"\S"),
    spec("h_hex", "expect_column_values_to_match_regex", column="h", regex="^[0-9a-f]{16}$"),
    spec("s_unique", "expect_column_values_to_be_unique", column="s"),
    spec("uv_unique", "expect_compound_columns_to_be_unique", column_list=["u", "v"]),
    spec("c_eq_d", "expect_column_pair_values_to_be_equal", column_A="c", column_B="d"),
    spec("a_gt_b", "expect_column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b"),
    spec(
        "a_ge_b",
        "expect_column_pair_values_a_to_be_greater_than_b",
        column_A="a",
        column_B="b",
        or_equal=True,
    ),
    spec("s_when_flag", "expect_column_values_to_not_be_null", column="s", row_condition=ON),
    spec("n_when_flag", BETWEEN, column="n", min_value=3, strict_min=True, row_condition=ON),
    spec("ok_true", "expect_column_values_to_be_in_set", column="ok", value_set=[True]),
    spec("f_not_null", "expect_column_values_to_not_be_null", column="f"),
    spec("f_share", BETWEEN, column="f", min_value=0, max_value=1, strict_max=True),
]
EDGE_PARAMETERS = {"n_max": 9, "start": START, "end": END, "letters": ["w", "x", "y"], "none": []}


@pytest.fixture
def edges_suite(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    write_suite(tmp_path, "edges", EDGES)
    return "edges"


def write_suite(folder, name: str, expectations: list[dict]) -> None:
    document = {"name": name, "id": None, "expectations": expectations, "meta": {}}
    (folder / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")


def edges_frame() -> pd.DataFrame:
    """Four rows that break nothing in EDGES but sit on its edges."""
    berlin = pd.Series(
        pd.to_datetime(
            [
                "2025-01-07T11:00:00+01:00",
                "2025-01-07T14:59:59+01:00",
                "2025-01-07T12:00:00Z",
                None,
            ],
            utc=True,
        )
    ).dt.tz_convert("Europe/Berlin")  # timestamps in another zone: compared as instants
    return pd.DataFrame(
        {
            "k": ["r1", "r2", "r3", "r4"],
            "n": pd.Series([4, 9, 5, 2], dtype="Int64"),
            "ts": berlin.astype("datetime64[us, Europe/Berlin]"),
            "s": ["x", "y", None, "w"],
            "h": ["0123456789abcdef", None, "fedcba9876543210", "00112233aabbccdd"],
            "a": pd.Series([2, 5, None, 7], dtype="Int64"),
            "b": pd.Series([1, 4, None, 6], dtype="Int64"),
            "u": ["p", "p", None, "q"],
            "v": pd.Series([1, 2, None, 1], dtype="Int64"),
            "c": pd.Series([1, 2, None, 3], dtype="Int64"),
            "d": pd.Series([1, 2, None, 3], dtype="Int64"),
            "flag": [True, True, False, None],
            "ok": [True, True, True, None],
            "f": [0.0, 0.5, 0.25, 0.999],
        }
    )


def outcomes(result: validation.SuiteResult) -> list[tuple]:
    return [(o.expectation_id, o.success, o.unexpected_count, o.offending) for o in result.outcomes]


def both_paths(frame: pd.DataFrame | pa.Table, suite: str, parameters: dict, key) -> list[tuple]:
    """The outcomes, asserted equal on the row path (whole and in slices of two) and the
    profile path."""
    table = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )
    rows = outcomes(validation.validate(table, suite, parameters, key))
    sliced = outcomes(validation.validate(table, suite, parameters, key, chunk_rows=2))
    profiled = outcomes(profiles.validate(db.connect(), table, suite, parameters, key))
    assert sliced == rows
    assert profiled == rows
    return rows


def failed(found: list[tuple]) -> dict[str, tuple]:
    return {id_: (count, offending) for id_, success, count, offending in found if not success}


EDGE_CASES = [
    # nothing broken: every value on or inside an edge
    ([], {}),
    # a null: not_null breaks; between, sets and regexes skip it
    ([(0, "n", None)], {"n_not_null": (1, ("r1",))}),
    # 0 and 10 are in the closed range, outside the open one (both edges), 0 below the minimum
    (
        [(0, "n", 0), (1, "n", 10)],
        {
            "n_open": (2, ("r1", "r2")),
            "n_min_only": (1, ("r1",)),
            "n_max_param": (1, ("r2",)),
            "n_when_flag": (1, ("r1",)),
        },
    ),
    # below the closed range and above the parameter's maximum
    ([(0, "n", -1), (1, "n", 11)], None),
    # the window's end (strict) in another zone, and a microsecond before its start
    (
        [(0, "ts", T("2025-01-07T15:00:00+01:00")), (1, "ts", T("2025-01-07T09:59:59.999999Z"))],
        None,
    ),
    # not in the set, in the not-set, blank, tab-only, a vertical tab, a no-break space
    ([(0, "s", "z"), (1, "s", "bad")], None),
    ([(0, "s", ""), (1, "s", "\t"), (3, "s", "\x0b")], None),
    ([(0, "s", "\u00a0"), (1, "s", "a\u2003")], None),
    # the hex pattern: upper case, 15 chars, a final newline (Python's `$` allows it), two
    ([(0, "h", "0123456789ABCDEF"), (2, "h", "fedcba987654321")], None),
    ([(0, "h", "0123456789abcdef\n"), (2, "h", "fedcba9876543210\n\n")], None),
    # duplicates: a value twice (both rows), a pair twice, a pair with a null part twice
    ([(1, "s", "x")], None),
    ([(1, "v", 1)], {"uv_unique": (2, ("r1", "r2"))}),
    ([(0, "u", None), (1, "u", None), (1, "v", 1)], {"uv_unique": (2, ("r1", "r2"))}),
    # both parts null twice: such rows are not compared
    ([(0, "u", None), (0, "v", None), (1, "u", None), (1, "v", None)], {}),
    # an equal pair (a > b breaks, a >= b holds), a reversed pair, both null (not compared)
    (
        [(1, "b", 5), (3, "a", 1), (0, "a", None), (0, "b", None)],
        {"a_gt_b": (2, ("r2", "r4")), "a_ge_b": (1, ("r4",))},
    ),
    # equality: unequal twice, both null (not compared)
    ([(0, "c", 5), (1, "d", 7), (3, "c", None), (3, "d", None)], {"c_eq_d": (2, ("r1", "r2"))}),
    # the row condition: only rows with flag true are checked; a null flag is not true
    ([(0, "s", None), (2, "s", None), (3, "n", 1), (1, "n", 3)], None),
    ([(3, "flag", True), (3, "s", None), (2, "flag", False)], None),
    # floating point: NaN is missing (as pandas has it), 1.0 is at the strict maximum
    (
        [(0, "f", float("nan")), (1, "f", 1.0)],
        {"f_not_null": (1, ("r1",)), "f_share": (1, ("r2",))},
    ),
    # a boolean not in the set, and a key that is null
    ([(2, "ok", False), (1, "k", None), (1, "n", None)], None),
]


@pytest.mark.parametrize(("cells", "expected"), EDGE_CASES)
def test_the_profile_path_gives_the_row_path_outcomes_on_edges(edges_suite, cells, expected):
    frame = edges_frame()
    for row, column, value in cells:
        frame.loc[row, column] = value
    found = both_paths(frame, edges_suite, EDGE_PARAMETERS, "k")
    if expected is not None:
        assert failed(found) == expected
    else:
        assert failed(found), "the case must break something"


def test_a_pair_with_one_null_side_breaks_on_the_profile_path(edges_suite):
    # GX's pandas path cannot compare pandas' NA (it raises, a SuiteError); the profile path
    # counts the row as breaking, as GX's SQL engines do: never a silent pass
    frame = edges_frame()
    frame.loc[0, "b"] = None
    frame.loc[1, "d"] = None
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pytest.raises(suites.SuiteError, match="boolean value of NA is ambiguous"):
        validation.validate(table, "edges", EDGE_PARAMETERS, "k")
    result = profiles.validate(db.connect(), table, "edges", EDGE_PARAMETERS, "k")
    assert failed(outcomes(result)) == {
        "a_gt_b": (1, ("r1",)),
        "a_ge_b": (1, ("r1",)),
        "c_eq_d": (1, ("r2",)),
    }


def test_a_nan_is_missing_on_both_paths(edges_suite):
    # a NaN that Arrow holds as a value (not as a null): pandas takes it for missing, DuckDB for
    # a number above all others unless the profile path says otherwise
    table = pa.Table.from_pandas(edges_frame(), preserve_index=False)
    nan = pa.array([float("nan"), 0.5, 0.25, 0.999], from_pandas=False)
    table = table.set_column(table.schema.get_field_index("f"), "f", nan)
    assert table["f"].null_count == 0
    found = both_paths(table, edges_suite, EDGE_PARAMETERS, "k")
    assert failed(found) == {"f_not_null": (1, ("r1",))}


def test_an_empty_dataset_passes_on_both_paths(edges_suite):
    frame = edges_frame().iloc[0:0]
    found = both_paths(frame, edges_suite, EDGE_PARAMETERS, "k")
    assert failed(found) == {}


PROFILED_CASES = [case for case in CASES if case.values[0] != "file_profile"]
"""Every corruption case of the suites (`tests/expectations/test_gx_suites.py`) but those of
`file_profile`, which goes to GX as rows (it sums a column: it has no profile translation)."""


@pytest.mark.parametrize(("suite", "target", "cells", "offending", "also"), PROFILED_CASES)
def test_each_suite_corruption_fires_alike_on_the_profile_path(
    suite, target, cells, offending, also
):
    frame = VALID_FRAMES[suite]()
    for row, column, value in cells:
        frame.loc[row, column] = value
    found = failed(both_paths(frame, suite, PARAMETERS, KEYS[suite]))
    assert set(found) == {target} | also
    assert set(found[target][1]) == offending


@pytest.mark.parametrize("suite", sorted(set(KEYS) - {"file_profile"}))
def test_each_valid_suite_frame_passes_on_the_profile_path(suite):
    found = both_paths(VALID_FRAMES[suite](), suite, PARAMETERS, KEYS[suite])
    assert failed(found) == {}


# -- what the profile path cannot translate is refused, never skipped ---------------------------
TWO_ROWS = pa.table({"k": ["a", "b"], "v": [1, 2]})


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        # a type with no translation
        (
            spec("v_sum", "expect_column_sum_to_be_between", column="v", max_value=9),
            r"'odd': expectation 'v_sum' \(expect_column_sum_to_be_between\): no profile",
        ),
        # an argument that would change the verdict unseen
        (
            spec("v_most", "expect_column_values_to_not_be_null", column="v", mostly=0.5),
            r"'v_most'.*does not translate \['mostly'\]",
        ),
        # a row condition other than `column == value`
        (
            spec(
                "v_cond",
                "expect_column_values_to_not_be_null",
                column="v",
                row_condition={**ON, "operator": ">"},
            ),
            r"'v_cond'.*only `column == value`",
        ),
        # a pattern without its RE2 form
        (
            spec("v_digit", "expect_column_values_to_match_regex", column="k", regex=r"\d"),
            r"'v_digit'.*no RE2 form",
        ),
    ],
)
def test_an_untranslatable_expectation_is_refused(tmp_path, monkeypatch, expectation, message):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    fine = spec("v_not_null", "expect_column_values_to_not_be_null", column="v")
    write_suite(tmp_path, "odd", [fine, expectation])
    with pytest.raises(suites.SuiteError, match=message):
        profiles.validate(db.connect(), TWO_ROWS, "odd", {}, "k")


def test_the_file_profile_suite_is_refused_on_the_profile_path():
    frame = pa.Table.from_pandas(VALID_FRAMES["file_profile"](), preserve_index=False)
    with pytest.raises(suites.SuiteError, match="run_quarantined_share_within_limit"):
        profiles.validate(db.connect(), frame, "file_profile", PARAMETERS, "file")


def test_an_expectation_gx_drops_is_refused(tmp_path, monkeypatch):
    # a type the profile path knows but GX does not load is still counted (as the row path)
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    monkeypatch.setitem(
        profiles.KINDS, "expect_column_values_to_be_a_unicorn", profiles.Kind.NOT_NULL
    )
    monkeypatch.setattr(
        profiles,
        "_profile_spec",
        lambda check: {**check.spec, "kwargs": {"column": check.spec["id"]}},
    )
    write_suite(
        tmp_path,
        "dropped",
        [
            spec("v_not_null", "expect_column_values_to_not_be_null", column="v"),
            spec("custom", "expect_column_values_to_be_a_unicorn", column="v"),
        ],
    )
    with pytest.raises(suites.SuiteError, match=r"loaded 1 of 2.*custom"):
        profiles.validate(db.connect(), TWO_ROWS, "dropped", {}, "k")


@pytest.mark.parametrize(
    "missing",
    [
        spec("w_set", "expect_column_values_to_not_be_null", column="w"),
        # names the profile's own projection makes, which the frame lacks too
        spec("w_set", "expect_column_values_to_not_be_null", column="key_text"),
        spec("w_set", "expect_column_pair_values_to_be_equal", column_A="v", column_B="value"),
        spec(
            "w_set",
            "expect_column_values_to_not_be_null",
            column="v",
            row_condition={**ON, "column": {"name": "value"}, "parameter": 1},
        ),
    ],
)
def test_a_missing_column_is_an_error_not_a_pass(tmp_path, monkeypatch, missing):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    fine = spec("v_not_null", "expect_column_values_to_not_be_null", column="v")
    write_suite(tmp_path, "gone", [fine, missing])  # two checks: one statement, then each alone
    with pytest.raises(suites.SuiteError, match=r"could not profile 'w_set'"):
        profiles.validate(db.connect(), TWO_ROWS, "gone", {}, "k")


@pytest.mark.parametrize(
    ("error", "calls", "named"),
    [
        # refused together: each check alone then, and the one DuckDB refuses is named
        (duckdb.BinderException("no column w"), [2, 1, 1], "'w_set'"),
        # a stopped run's interrupt: not tried again
        (duckdb.InterruptException("Interrupted!"), [2], "its checks"),
    ],
)
def test_a_refused_statement_names_its_check(tmp_path, monkeypatch, error, calls, named):
    monkeypatch.setattr(suites, "SUITE_DIR", tmp_path)
    fine = spec("v_not_null", "expect_column_values_to_not_be_null", column="v")
    write_suite(tmp_path, "two", [fine, {**fine, "id": "w_set"}])
    made = []

    def profile(con, part, *args):
        made.append(len(part))
        if len(part) > 1 or part[0][1].spec["id"] == "w_set":
            raise error
        return real(con, part, *args)

    real = profile_counts._profile
    monkeypatch.setattr(profile_counts, "_profile", profile)
    with pytest.raises(suites.SuiteError, match=rf"could not profile {named}"):
        profiles.validate(db.connect(), TWO_ROWS, "two", {}, "k")
    assert made == calls


def test_a_key_column_that_is_not_text_or_integer_is_refused():
    frame = pa.table({"k": [1.5, 2.5], "v": [1, 2]})
    with pytest.raises(suites.SuiteError, match="key column 'k' is double"):
        profiles.validate(db.connect(), frame, "credit_totals", PARAMETERS, "k")


@pytest.mark.parametrize(
    ("checks", "rows", "expected"),
    [
        (3, 4, [range(0, 3)]),  # a small frame: every check in one statement
        (40, 4, [range(0, 16), range(16, 32), range(32, 40)]),  # at most 16 checks in one
        (3, 40_000, [range(0, 2), range(2, 3)]),  # two checks' rows fit, then the third
        (2, 100_000, [range(0, 1), range(1, 2)]),  # one check's rows fill a statement
        (2, 10_000_000, [range(0, 1), range(1, 2)]),  # more than that: still one each
        (2, 0, [range(0, 2)]),  # an empty frame
        (0, 4, []),  # no checks
    ],
)
def test_a_statement_profiles_up_to_its_rows_in_checks(checks, rows, expected):
    assert profile_counts._batches(checks, rows) == expected


def test_a_suite_of_many_checks_on_few_rows_fits_in_duckdb_s_memory():
    # 100 checks of three rows in one statement did not fit in the 512 MB limit
    kinds = [
        ("expect_column_values_to_not_be_null", {"column": "v"}),
        ("expect_column_values_to_be_between", {"column": "v", "min_value": 0, "max_value": 9}),
        ("expect_column_values_to_be_unique", {"column": "k"}),
    ]
    checks = [
        profiles.translate("many", spec(f"e{i}", kinds[i % 3][0], **kinds[i % 3][1]))
        for i in range(100)
    ]
    found = profile_counts.count(db.connect(), TWO_ROWS, "many", checks, ["k"], {})
    assert [c.unexpected_count for c in found] == [0] * 100


@pytest.mark.parametrize("per_statement", [8, profile_counts.ROWS_PER_STATEMENT])
def test_checks_give_the_same_counts_alone_or_together(edges_suite, monkeypatch, per_statement):
    # the 4-row edge frame, two checks a statement or all of them (the default), against one
    monkeypatch.setattr(profile_counts, "ROWS_PER_STATEMENT", per_statement)
    document = suites.load_suite_document("edges")
    checks = [profiles.translate("edges", spec) for spec in document["expectations"]]
    values = suites.expectation_parameters(document, EDGE_PARAMETERS)
    for cells, _ in EDGE_CASES:
        frame = edges_frame()
        for row, column, value in cells:
            frame.loc[row, column] = value
        table = pa.Table.from_pandas(frame, preserve_index=False)
        found = profile_counts.count(db.connect(), table, "edges", checks, ["k"], values)
        counted = [(c.unexpected_count, c.offending, c.profile.to_pylist()) for c in found]
        monkeypatch.setattr(profile_counts, "ROWS_PER_STATEMENT", 1)
        alone = profile_counts.count(db.connect(), table, "edges", checks, ["k"], values)
        monkeypatch.setattr(profile_counts, "ROWS_PER_STATEMENT", per_statement)
        assert counted == [(c.unexpected_count, c.offending, c.profile.to_pylist()) for c in alone]
        assert len(counted) == len(checks)


def test_gx_and_duckdb_must_agree(edges_suite, monkeypatch):
    # a profile whose range GX accepts while DuckDB counts breaking rows: never trusted
    real = profile_counts.count

    def lying(*args):
        return [
            profile_counts.Counted(f.unexpected_count + 1, f.offending, f.profile)
            for f in real(*args)
        ]

    monkeypatch.setattr(profile_counts, "count", lying)
    table = pa.Table.from_pandas(edges_frame(), preserve_index=False)
    with pytest.raises(suites.SuiteError, match="disagree"):
        profiles.validate(db.connect(), table, "edges", EDGE_PARAMETERS, "k")


def test_the_gate_sends_every_suite_but_file_profile_and_credit_totals_as_profiles():
    assert gate.FORMS == {
        "file_profile": gate.Form.ROWS,
        "stg_failures": gate.Form.PROFILE,
        "transactions": gate.Form.PROFILE,
        "customers": gate.Form.PROFILE,
        "evidence": gate.Form.PROFILE,
        "credits": gate.Form.PROFILE,
        "credit_totals": gate.Form.ROWS,
    }
    for suite, form in gate.FORMS.items():  # every suite sent as a profile translates in full
        if form is gate.Form.PROFILE:
            document = suites.load_suite_document(suite)
            assert [profiles.translate(suite, s).spec for s in document["expectations"]]


def test_gx_reports_counts_on_a_profile_and_every_breaking_row_on_rows():
    # A profile's rows are `lowest` and `highest`, which name no row of the data: GX is asked for
    # its counts only there (`Detail.COUNTS`), and for the breaking rows' keys on the rows path.
    frame = VALID_FRAMES["credits"]()
    frame.loc[0, "credit_amount_minor"] = -5
    table = pa.Table.from_pandas(frame, preserve_index=False)
    key = KEYS["credits"]
    profiled = profiles.validate(db.connect(), table, "credits", PARAMETERS, key)
    rows = validation.validate(table, "credits", PARAMETERS, key)
    assert failed(outcomes(profiled)) == failed(outcomes(rows)) != {}

    def reported(result: validation.SuiteResult) -> dict[str, dict]:
        return {r["expectation_config"]["id"]: r["result"] for r in result.gx_result["results"]}

    broken = next(iter(failed(outcomes(rows))))
    assert reported(profiled)[broken]["unexpected_count"] >= 1
    assert "unexpected_index_list" not in reported(profiled)[broken]
    assert reported(rows)[broken]["unexpected_index_list"]
