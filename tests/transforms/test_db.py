"""The SQL statements: found by file name under any stage's `sql/` folder."""

from __future__ import annotations

import re

import duckdb
import pytest

from transforms import db
from transforms.ingest.incident import values
from transforms.quality import profile_counts


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


def test_fragments_of_one_statement_sit_in_one_statement_with_their_own_views_and_values():
    # profile_in_set reads `gate_expectation_rows` and binds $value_set: two parts of one
    # statement, each over its own rows and with its own set
    first, first_values = db.fragment(
        "profile_in_set", "a", ("gate_expectation_rows",), {"value_set": ["x"], "unused": 1}
    )
    second, second_values = db.fragment(
        "profile_in_set", "b", ("gate_expectation_rows",), {"value_set": ["y"]}
    )
    assert first_values == {"value_set_a": ["x"]}  # only what it names, renamed
    assert "--" not in first and "gate_expectation_rows_a" in first and "$value_set_a" in first
    rows = "select 'k1' as key_text, 'x' as value union all select 'k2', 'y'"
    sql = (
        f"with gate_expectation_rows_a as ({rows}), gate_expectation_rows_b as ({rows}), "
        f"a as ({first}), b as ({second}) "
        "select (select list(key_text) from a), (select list(key_text) from b)"
    )
    found = db.connect().execute(sql, {**first_values, **second_values}).fetchall()
    assert found == [(["k2"], ["k1"])]  # each broken by the row the other's set holds


FRAGMENTS = ("profile_outcome", "profile_range", *(k.value for k in profile_counts.Kind))


@pytest.mark.parametrize("name", FRAGMENTS)
def test_a_statement_made_a_part_holds_no_comment_or_parameter_mark_in_a_literal(name):
    # `fragment` drops `--...` and renames `$name` in the text: a literal holding either would
    # be cut (its quotes no longer pair up on the line) or renamed
    text, _ = db.fragment(name, "0", (), {key: None for key in _names(name)})
    for line in text.splitlines():
        assert line.count("'") % 2 == 0, line
        assert not any("$" in literal for literal in re.findall(r"'[^']*'", line)), line


def _names(name: str) -> set[str]:
    return set(re.findall(r"\$([a-z_][a-z0-9_]*)", re.sub(r"--[^\n]*", "", db.statement(name))))


def test_a_fragment_needs_every_value_its_statement_names():
    with pytest.raises(TypeError, match=r"profile_in_set\.sql needs parameters \['value_set'\]"):
        db.fragment("profile_in_set", "a", ("gate_expectation_rows",), {})


@pytest.fixture
def con():
    connection = db.connect()
    connection.execute("create table t (k integer primary key)")
    yield connection
    connection.close()


def keys(con) -> list[int]:
    return [k for (k,) in con.execute("select k from t order by k").fetchall()]


def test_a_transaction_commits_its_block(con):
    with db.transaction(con):
        con.execute("insert into t values (1), (2)")
    assert keys(con) == [1, 2]
    with db.transaction(con):  # committed: a new transaction can begin
        con.execute("insert into t values (3)")
    assert keys(con) == [1, 2, 3]


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_a_transaction_rolls_back_on_any_error_and_raises_it_again(con, error):
    con.execute("insert into t values (1)")
    with pytest.raises(type(error)) as raised, db.transaction(con):
        con.execute("insert into t values (2)")
        raise error
    assert raised.value is error
    assert keys(con) == [1]  # the block's row is gone, the earlier one stays


def test_a_failed_statement_rolls_the_whole_block_back(con):
    with pytest.raises(duckdb.ConstraintException), db.transaction(con):
        con.execute("insert into t values (1)")
        con.execute("insert into t values (1)")
    assert keys(con) == []


def test_a_failed_commit_raises_its_own_error(con):
    other = con.cursor()
    failing = pytest.raises(duckdb.TransactionException, match="Failed to commit")
    with failing, db.transaction(con):
        con.execute("insert into t values (1)")
        with db.transaction(other):  # commits the same key first
            other.execute("insert into t values (1)")
    assert keys(con) == [1]  # the other's row


class _EndedTransaction:
    """A connection whose transaction has already ended when the block fails (as a full disk
    ends DuckDB's while it writes the WAL): its rollback raises."""

    def begin(self):
        pass

    def rollback(self):
        raise duckdb.TransactionException("cannot rollback - no transaction is active")

    def commit(self):  # pragma: no cover - the block fails before
        raise AssertionError("committed")


def test_a_failed_rollback_never_hides_the_error_that_ended_the_block():
    ended = _EndedTransaction()
    with pytest.raises(OSError, match="No space left on device"), db.transaction(ended):
        raise OSError(28, "No space left on device")


def test_a_commit_hook_runs_after_each_commit_and_only_inside_its_block(con):
    sent: list[int] = []
    with db.on_commit(con, lambda: sent.append(1)):
        with db.transaction(con):
            con.execute("create table hooked (x int)")
        with pytest.raises(ValueError), db.transaction(con):
            raise ValueError("rolled back: not sent")
    with db.transaction(con):
        con.execute("insert into hooked values (1)")
    assert sent == [1]


def test_interrupt_all_stops_a_query_running_in_another_thread():
    # A stopped `credits run` interrupts the queries its task threads run instead of waiting.
    import threading

    con = db.connect()
    ended: list[BaseException] = []

    def scan() -> None:
        try:
            con.execute("select count(*) from range(100000000000) a").fetchall()
        except BaseException as error:  # noqa: BLE001 (what ended the query is the answer)
            ended.append(error)

    worker = threading.Thread(target=scan)
    worker.start()
    while worker.is_alive() and not ended:
        db.interrupt_all()  # again until it lands: the query may not have started yet
        worker.join(0.1)
    worker.join(60)  # a bound, not a measure: without the interrupt the scan runs for hours
    assert not worker.is_alive() and ended and "nterrupt" in str(ended[0])
    con.close()


def test_the_ascii_white_space_trimmed_off_ids_is_bound_never_spelled_out():
    # `chr(32) || chr(9) || ... || chr(13)` stood six times in three statements, and once more as
    # `[[:space:]]` in stg_transactions ("trimmed like log txn_ids"): one set, bound as
    # $ascii_space from values.ASCII_SPACE, so that the log's and the table's ids cannot drift
    spelled = [
        name
        for name, (path, *_) in db.sql_files().items()
        if re.search(r"chr\(32\)|\[\[:space:\]\]", path.read_text(encoding="utf-8"))
    ]
    assert spelled == []
    assert values.ASCII_SPACE == " \t\n\x0b\x0c\r"


def test_a_table_txn_id_loses_ascii_white_space_at_its_ends_only():
    con = duckdb.connect()
    con.register(
        "source_transactions",
        duckdb.sql(
            "select unnest(['\x0b t1\x0c\r', '\u00a0t2', 't 3\t']) as txn_id, 'c1' as customer_id, "
            "1 as amount_minor, 'USD' as currency, 'failed' as status, null as error_code, "
            "null::timestamptz as created_at, null::timestamptz as updated_at"
        ).arrow(),
    )
    db.run(con, "stg_transactions", ascii_space=values.ASCII_SPACE)
    assert sorted(con.sql("select txn_id from stg_transactions").fetchall()) == [
        ("t 3",),  # an inner space is the id's
        ("t1",),  # \v, space, \f, \r: ASCII white space
        ("\u00a0t2",),  # no-break space: a hidden character, left for the gate to name
    ]
