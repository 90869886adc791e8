"""The `credits` command: exit codes, clear messages, no traceback, the run folder last."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests import golden_incident, quick_commands
from tests.builders import write_incident
from transforms import commands
from transforms.runfolder.runs import RunStatus
from transforms.runfolder.summary import NothingNew, RunSummary

runner = CliRunner()


def credits_command(*args: str, api_url: str | None = None) -> subprocess.CompletedProcess:
    """Runs `credits` in its own process, against the test server when `api_url` is given."""
    env = {**os.environ, **({"PREFECT_API_URL": api_url} if api_url else {})}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def run_incident(path: Path, tmp_path: Path, api_url: str) -> subprocess.CompletedProcess:
    """`credits run` into the test's own output folder and warehouse."""
    out, warehouse = str(tmp_path / "out"), str(tmp_path / "wh.duckdb")
    return credits_command(
        "run", str(path), "--output-dir", out, "--warehouse", warehouse, api_url=api_url
    )


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url)


def test_a_config_error_exits_2_naming_the_key_without_starting_prefect(tmp_path):
    path = write_incident(tmp_path / "inc", policy={"flat_mino": {}})
    result = credits_command("run", str(path))
    assert result.returncode == 2
    assert "policy.flat_mino: unknown key; did you mean 'flat_minor'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "temporary server" not in result.stderr


def test_a_table_missing_a_column_exits_2_naming_file_and_column(tmp_path):
    import pyarrow.parquet as pq

    path = write_incident(tmp_path / "inc")
    table = pq.read_table(path.parent / "customers.parquet").drop_columns(["status"])
    pq.write_table(table, path.parent / "customers.parquet")
    result = credits_command("run", str(path))
    assert result.returncode == 2
    assert "customers.parquet: required column 'status' is missing" in result.stderr


def test_an_unreachable_postgresql_warehouse_exits_4_before_prefect_starts(tmp_path):
    path = write_incident(tmp_path / "inc")
    url = "postgresql://finance:s3cret-pw@127.0.0.1:1/credits"  # port 1: nothing listens
    result = credits_command("run", str(path), "--warehouse", url)
    assert result.returncode == 4, result.stderr
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in result.stderr
    assert "postgresql://finance:***@127.0.0.1:1/credits" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr and "temporary server" not in result.stderr


def test_bad_usage_exits_2():
    assert credits_command("run").returncode == 2


def test_a_published_run_exits_0_and_prints_the_run_folder_last(golden_cli_run):
    result = golden_cli_run.result
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert (folder / "credits.csv").exists() and (folder / "manifest.json").exists()
    assert "pending_approval" in result.stdout
    # its warehouse was new: a run from another folder than finance's would make one unseen
    assert re.search(
        r"note: no warehouse was at /\S+/wh\.duckdb: this run made a new one", result.stdout
    )
    # the approval to type names this run's warehouse: `approve` alone would look elsewhere
    assert re.search(
        r"waiting for approval: review it with `\S+ diff \S+ --warehouse /\S+/wh\.duckdb`, "
        r"then: \S+ approve \S+ --by NAME --warehouse /\S+/wh\.duckdb\n",
        result.stdout,
    )


@pytest.mark.parametrize("mine", [False, True])
def test_a_run_from_a_folder_of_the_project_says_where_the_projects_warehouse_is(
    tmp_path, monkeypatch, mine
):
    # From data/sample it made data/sample/data/warehouse.duckdb, the project's one folder up
    # unsaid; a new warehouse in a folder of its own is only noted
    from flows.cli import run

    if mine:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "warehouse.duckdb").write_bytes(b"")
    (tmp_path / "data" / "sample").mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path / "data" / "sample")
    note = run.new_warehouse_note(Path("data/warehouse.duckdb"))
    assert note.startswith(
        f"note: no warehouse was at {tmp_path}/data/sample/data/warehouse.duckdb: this run made a "
        "new one, which knows no earlier run or payment;"
    )
    assert note.endswith(
        f"; the project's is at {tmp_path}/data/warehouse.duckdb: run again from {tmp_path} (or "
        f"with --warehouse {tmp_path}/data/warehouse.duckdb)"
        if mine
        else "; if finance keeps another, give it as --warehouse (or CREDITS_WAREHOUSE)"
    )


@pytest.mark.parametrize(
    ("activated", "warehouse", "typed"),
    [
        (False, "data/warehouse.duckdb", ".venv/bin/credits approve R1 --by NAME"),
        (True, "data/warehouse.duckdb", "credits approve R1 --by NAME"),  # the venv's on PATH
        (
            False,
            "/x/my wh.duckdb",
            ".venv/bin/credits approve R1 --by NAME --warehouse '/x/my wh.duckdb'",
        ),
        (
            False,
            "postgresql://u:secret@h/db",
            ".venv/bin/credits approve R1 --by NAME --warehouse 'postgresql://u:***@h/db'",
        ),
    ],
)
def test_the_approval_to_type_is_this_environments_credits_and_the_runs_warehouse(
    tmp_path, monkeypatch, activated, warehouse, typed
):
    # it said `credits approve ...`: "command not found" without the venv activated, and the
    # default warehouse's approval of a run another warehouse holds
    from flows.cli import run

    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "credits").write_text("")
    (venv / "credits").chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    monkeypatch.setenv("PATH", f"{venv}:/usr/bin" if activated else "/usr/bin")
    monkeypatch.delenv("CREDITS_WAREHOUSE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run.approve_command("R1", warehouse) == typed


@pytest.mark.parametrize(
    ("nothing_new", "said"),
    [
        (None, "waiting for approval: "),  # something to pay
        (  # its credits paid by the incident's batches: diff and approve --dry-run say so
            NothingNew("INC-M-B002"),
            "no change since batch INC-M-B002: nothing new to pay; approving run R1 publishes "
            "no batch: ",
        ),
        (NothingNew(None), "nothing to pay; approving run R1 publishes no batch: "),  # no batch
        (  # it said "nothing new to pay" while diff named accounts listed beyond what is owed
            NothingNew("INC-M-B002", listed_beyond=2),
            "no change since batch INC-M-B002: nothing new to pay, but 2 closed account(s) "
            "listed to pay by hand beyond what the run owes (`",
        ),
    ],
)
def test_a_run_with_nothing_new_to_pay_says_so_not_waiting_for_approval(nothing_new, said):
    # it said "waiting for approval" under the run's totals, as if they were still to pay
    from flows.cli import run

    summary = RunSummary(
        "R1", "INC-M", RunStatus.PENDING_APPROVAL, Path("runs/R1"), nothing_new=nothing_new
    )
    step = run.next_step(summary, "/x/wh.duckdb")
    assert step.startswith(said) and step.endswith(" approve R1 --by NAME --warehouse /x/wh.duckdb")
    named = "credits diff R1 --warehouse /x/wh.duckdb` names them); approving run R1"
    assert (named in step) == ("beyond" in said)


def test_a_run_waiting_for_approval_names_the_review_before_the_approval():
    # it named only `credits approve RUN --by NAME`: the README's review (`credits diff`) unsaid
    from flows.cli import run

    summary = RunSummary("R1", "INC-M", RunStatus.PENDING_APPROVAL, Path("runs/R1"))
    assert run.next_step(summary, "/x/wh.duckdb") == (
        f"waiting for approval: review it with `{commands.credits('diff R1')} --warehouse "
        f"/x/wh.duckdb`, then: {commands.credits('approve R1')} --by NAME --warehouse /x/wh.duckdb"
    )


def test_a_run_superseded_while_it_ran_says_so_not_waiting_for_approval():
    # a newer run of the incident was published while it ran (`sealing.superseded_by`): it
    # named an approval that is refused
    from flows.cli import run

    summary = RunSummary(
        "R1", "INC-M", RunStatus.PENDING_APPROVAL, Path("runs/R1"), superseded_by="R2"
    )
    step = run.next_step(summary, "/x/wh.duckdb")
    assert step.startswith("superseded: run R2, started after this one, was approved while")
    assert "approving run R1 is refused" in step and "run the incident again" in step
    assert "waiting for approval" not in step


def test_a_rejected_run_exits_3_naming_the_expectation_and_keys(api_url, tmp_path):
    path = golden_incident.write(tmp_path / "inc")
    with (path.parent / "logs/pod-a.jsonl").open("a") as log:
        log.write("garbage\n" * 10)  # min_quarantined_lines: the file's own share counts
    result = run_incident(path, tmp_path, api_url)
    assert result.returncode == 3, result.stderr
    assert "quarantined_share" in result.stderr and "logs/pod-a.jsonl" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "ERROR" not in result.stderr and "ValidationRejected(" not in result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert (folder / "manifest.json").exists() and not (folder / "credits.csv").exists()


def test_a_duplicated_txn_id_exits_3_and_the_run_is_recorded_as_rejected(api_url, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from transforms.finance import warehouse

    path = golden_incident.write(tmp_path / "inc")
    table_path = path.parent / "transactions.parquet"
    table = pq.read_table(table_path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), table_path)  # t01 twice
    result = run_incident(path, tmp_path, api_url)
    assert result.returncode == 3, result.stderr
    assert "transactions: expect_column_values_to_be_unique(txn_id)" in result.stderr
    assert "t01" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert not (folder / "credits.csv").exists()
    assert (folder / "report.html").exists() and (folder / "validation.html").exists()
    with warehouse.connect(tmp_path / "wh.duckdb", read_only=True) as con:
        assert con.execute("select status from runs").fetchall() == [("rejected",)]


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_a_corrupt_gzip_found_mid_run_exits_2_without_traceback(api_url, tmp_path, verbose):
    path = golden_incident.write(tmp_path / "inc")
    log = path.parent / "logs/pod-a.jsonl"
    (path.parent / "logs/pod-b.jsonl.gz").write_bytes(gzip.compress(log.read_bytes() * 50)[:-40])
    out, warehouse = str(tmp_path / "out"), str(tmp_path / "wh.duckdb")
    flags = ["-v"] if verbose else []
    result = credits_command(
        "run", str(path), "--output-dir", out, "--warehouse", warehouse, *flags, api_url=api_url
    )
    assert result.returncode == 2, result.stderr
    message = "logs/pod-b.jsonl.gz: the gzip stream is truncated or corrupt after line"
    assert "error: logs/pod-b.jsonl.gz" in result.stderr
    if verbose:  # -v keeps Prefect's lines too
        assert result.stderr.count(message) > 1 and "ERROR" in result.stderr, result.stderr
    else:  # ours, once: none of Prefect's ERROR lines repeating it
        assert result.stderr.count(message) == 1 and "ERROR" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


CTRL_C_DURING_IMPORTS = """
import sys
import time

class Interrupted:  # Ctrl-C arrives while the commands are being imported
    def find_spec(self, name, path=None, target=None):
        if name == "flows.cli":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupted())
sys.argv = ["credits", "runs"]
from flows.console import main

main()
"""


SIGTERM_DURING_IMPORTS = """
import os
import signal
import sys

class Terminated:  # `kill PID` arrives while the commands are being imported
    def find_spec(self, name, path=None, target=None):
        if name == "flows.cli":
            os.kill(os.getpid(), signal.SIGTERM)

sys.meta_path.insert(0, Terminated())
sys.argv = ["credits", "runs"]
from flows.console import main

main()
"""


@pytest.mark.parametrize(
    ("script", "exit_code", "signal_name"),
    [
        (CTRL_C_DURING_IMPORTS, 130, "SIGINT"),
        # SIGTERM ended silently with 143: an approval stopped that early printed nothing at all
        (SIGTERM_DURING_IMPORTS, 143, "SIGTERM"),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stop_while_the_commands_import_ends_with_one_line_and_128_plus_n(
    script, exit_code, signal_name
):
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == exit_code, done.stderr
    said = f"stopped by {signal_name} before the command started: nothing was done\n"
    assert done.stderr == said
    assert done.stdout == ""


SIGTERM_AS_A_DECISION_STARTS = """
import os
import signal
import sys

class Terminated:  # `kill PID` arrives while the command loads what it decides with
    def find_spec(self, name, path=None, target=None):
        if name == "transforms.finance.ledger":
            os.kill(os.getpid(), signal.SIGTERM)

sys.meta_path.insert(0, Terminated())
sys.argv = ["credits", *sys.argv[1:]]
from flows.console import main

main()
"""


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["approve", "r1", "--by", "a"], "the approval of run r1"),
        (["decline", "r1", "--by", "a", "--reason", "b"], "the decline of run r1"),
    ],
    ids=["approve", "decline"],
)
def test_sigterm_while_a_decision_loads_says_what_it_stopped(tmp_path, args, what):
    # Its finance modules load in a few tenths of a second before the command's own guard:
    # a SIGTERM then ended the approval silently (143, not a word).
    warehouse = ["--warehouse", str(tmp_path / "wh.duckdb")]
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_AS_A_DECISION_STARTS, *args, *warehouse],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 143, done.stderr
    assert " ".join(done.stderr.split()).startswith(f"stopped: {what} (SIGTERM): "), done.stderr
    assert not (tmp_path / "wh.duckdb").exists()


def test_the_console_script_is_the_guarded_entry():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["credits"] == "flows.console:main"


@pytest.mark.parametrize("command", [["--help"], ["run", "--help"], ["sample", "--help"]])
def test_help_is_available(command):
    assert runner.invoke(app, command).exit_code == 0


def test_sample_help_says_what_its_verbose_shows():
    # it said "show every log line (Prefect's, GX's, counts)": the sample has none of them
    shown = " ".join(
        runner.invoke(app, ["sample", "--help"], env={"COLUMNS": "200"}).output.split()
    )
    assert "Prefect" not in shown and "first what the generator planted, by kind" in shown


def _command_paths() -> list[list[str]]:
    """Every command as typed: [], ["run"], ..., ["warehouse", "copy"]."""
    from typer.main import get_command

    def walk(command, path):
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    return list(walk(get_command(app), []))


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "credits")
def test_dash_h_is_help_as_in_most_commands(path):
    # `credits -h` and `credits approve -h` answered "No such option: -h", exit 2
    env = {"COLUMNS": "120"}
    short = runner.invoke(app, [*path, "-h"], env=env)
    assert short.exit_code == 0, short.output
    assert short.output == runner.invoke(app, [*path, "--help"], env=env).output


def test_help_lists_decline_as_finance_s_word_and_hides_reject():
    listed = runner.invoke(app, ["--help"]).output
    assert "decline" in listed and "reject" not in listed


@pytest.mark.parametrize("typed", ["publshed", "Published", "PUBLISHED", "paid"])
def test_a_slip_in_diff_s_against_published_is_named_not_looked_up_as_a_run(tmp_path, typed):
    # `--against publshed` answered "run publshed: not in the warehouse": no word of 'published'
    from transforms.finance import warehouse

    warehouse.connect(tmp_path / "wh.duckdb").close()  # an empty warehouse
    args = ["diff", "20250101T000000000000Z-00000000", "--against", typed]
    result = runner.invoke(app, [*args, "--warehouse", str(tmp_path / "wh.duckdb")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"--against {typed!r}: did you mean 'published'" in message


def test_diff_s_against_published_pasted_with_blanks_is_published(tmp_path):
    from transforms.errors import CreditsError
    from transforms.finance import diff, warehouse

    # an empty warehouse: the run is unknown
    with warehouse.connect(tmp_path / "wh.duckdb") as con, pytest.raises(CreditsError) as refused:
        diff.compute(con, "20250101T000000000000Z-00000000", " published\n")
    assert "did you mean" not in str(refused.value)
    assert "not in the warehouse" in str(refused.value)


@pytest.mark.parametrize(
    "command",
    [["diff"], ["approve", "--dry-run"], ["approve", "--by", "a"], ["decline", "--by", "a"]],
    ids=["diff", "dry-run", "approve", "decline"],
)
def test_an_unknown_run_points_at_credits_runs(tmp_path, command):
    from transforms.finance import warehouse

    warehouse.connect(tmp_path / "wh.duckdb").close()  # an empty warehouse
    extra = ["--reason", "x"] if command[0] == "decline" else []
    args = [command[0], "20250101T000000000000Z-00000000", *command[1:], *extra]
    result = runner.invoke(app, [*args, "--warehouse", str(tmp_path / "wh.duckdb")])
    assert result.exit_code == 2, result.output
    assert f"not in the warehouse (`{commands.credits('runs')}` lists the runs)" in result.output
    assert "credits audit" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["runs"],
        ["audit"],
        ["lookup", "c1"],
        ["approve", "20250101T000000000000Z-00000000", "--by", "a"],
    ],
    ids=["runs", "audit", "lookup", "approve"],
)
def test_a_warehouse_path_that_is_a_loop_of_links_is_a_usage_error(tmp_path, command):
    looped = tmp_path / "wh.duckdb"
    # `ln -s wh.duckdb wh.duckdb`: `credits run` stopped at its load with exit 1 (a bug's), the
    # other commands said "no warehouse yet"
    looped.symlink_to(looped)
    result = runner.invoke(app, [*command, "--warehouse", str(looped)], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "a loop of symbolic links, not a DuckDB file" in result.output


def test_a_warehouse_given_with_blanks_around_it_is_the_one_it_names(tmp_path, monkeypatch):
    # `CREDITS_WAREHOUSE="data/warehouse.duckdb "` (a .env line, a paste) said "no warehouse
    # yet" at a path that looked like the real one, and " postgresql://..." was taken for a
    # DuckDB file's path (`credits run` made it, folders and all)
    from tests.support_warehouse import build

    monkeypatch.chdir(tmp_path)
    build(tmp_path / "wh.duckdb")
    for given in (" wh.duckdb", "wh.duckdb\t", f"{tmp_path / 'wh.duckdb'} \n"):
        listed = runner.invoke(app, ["runs"], env={"CREDITS_WAREHOUSE": given, "COLUMNS": "300"})
        assert listed.exit_code == 0, (given, listed.output)
        assert "r2" in listed.output
    url = runner.invoke(app, ["runs", "--warehouse", " postgresql://u@127.0.0.1:1/c "])
    assert url.exit_code == 4, url.output
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in " ".join(url.output.split())
    # the negative case: a file whose name holds the blanks is taken as it is
    build(tmp_path / "other.duckdb ")
    exact = runner.invoke(app, ["runs", "--warehouse", "other.duckdb "], env={"COLUMNS": "300"})
    assert exact.exit_code == 0 and "r2" in exact.output, exact.output


@pytest.mark.parametrize("target", ["folder", "/dev/stdout"])
def test_diff_refuses_a_csv_target_that_is_no_file_before_it_reads_anything(tmp_path, target):
    # `credits diff RUN --csv FOLDER` printed the whole diff, then said the target was a folder
    given = str(tmp_path) if target == "folder" else target
    result = runner.invoke(
        app, ["diff", "r1", "--csv", given, "--warehouse", str(tmp_path / "none.duckdb")]
    )
    assert result.exit_code == 2, result.output
    assert f"--csv {given}: is a" in result.output and "no warehouse yet" not in result.output


def test_audit_prints_each_journal_entry_on_one_line(tmp_path):
    # `approve --by $'Alice\nFinance' --note ...` printed the entry over two lines: a line
    # break in a name or a note could print a line that reads as an entry of its own
    from transforms.finance import journal, warehouse

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        forged = "x\n    9  2026-01-01T00:00:00Z  INC-A  r9  approved   by CFO"
        journal.append(
            con,
            "approved",
            actor="Alice\nFinance",
            key=None,
            incident_id="INC-A",
            run_id="r1",
            detail={"note": forged},
        )
    result = runner.invoke(app, ["audit", "--warehouse", str(path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert "by Alice?Finance  note=x?    9  2026-01-01" in line


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(name for name, command in group.commands.items() if not command.hidden)


@pytest.mark.parametrize("command", _commands())
def test_help_text_is_wrapped_to_the_terminal_not_to_the_source(command):
    # A docstring's own line breaks made ragged help ("would \n carry\n decreases").
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    shown = [line.rstrip() for line in result.stdout.splitlines()]
    prose = "\n".join(shown[2 : next(i for i, line in enumerate(shown) if "╭" in line)])
    for paragraph in prose.strip("\n").split("\n\n"):  # after the usage line
        lines = paragraph.splitlines()
        short = [line for line in lines[:-1] if len(line) < 60]
        assert not short, (command, lines)


def test_an_output_dir_that_is_a_file_exits_2_before_anything_starts(tmp_path):
    path = write_incident(tmp_path / "inc")
    (tmp_path / "afile").write_text("x")
    result = runner.invoke(app, ["run", str(path), "--output-dir", str(tmp_path / "afile")])
    assert result.exit_code == 2, result.output
    assert f"--output-dir {tmp_path / 'afile'}: is a file, not a folder" in result.output


@pytest.mark.parametrize("option", ["--output-dir", "--warehouse"])
def test_a_path_through_a_file_exits_2_naming_the_file(tmp_path, option):
    # It was an internal error (NotADirectoryError, FileExistsError) with Prefect's tracebacks.
    path = write_incident(tmp_path / "inc")
    afile = tmp_path / "inc" / "transactions.parquet"
    result = runner.invoke(app, ["run", str(path), option, str(afile / "out" / "wh.duckdb")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert (
        f"{option} {afile / 'out' / 'wh.duckdb'}: goes through {afile}, which is a file" in message
    )
    assert "Traceback" not in result.output


def test_an_output_dir_that_is_a_link_to_nothing_exits_2(tmp_path):
    path = write_incident(tmp_path / "inc")
    (tmp_path / "out").symlink_to(tmp_path / "gone")
    result = runner.invoke(app, ["run", str(path), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"--output-dir {tmp_path / 'out'}: is a link to nothing, not a folder" in message


@pytest.mark.parametrize(
    ("out", "said"),
    [
        ("afile", "--out {t}/afile: is a file, not a folder; give another path"),  # README.md
        ("afile/sub", "--out {t}/afile/sub: goes through {t}/afile, which is a file"),
    ],
)
def test_a_sample_into_a_file_exits_2_naming_it(tmp_path, out, said):
    # It was an internal error (NotADirectoryError), exit 1.
    (tmp_path / "afile").write_text("x")
    result = runner.invoke(app, ["sample", "--out", str(tmp_path / out)])
    assert result.exit_code == 2, result.output
    assert said.format(t=tmp_path) in " ".join(result.output.split())
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.parametrize(
    ("held", "toml"),
    [
        ("transactions.parquet", None),  # an incident folder of one's own: its real table
        ("INC-2025-01-07.toml", 'id = "INC-2025-01-07"\n'),  # the sample's file, edited
        ("logs/payment-api-5c4b-lm7rt.2025-01-07T00.jsonl.gz", None),
    ],
)
def test_a_sample_over_files_it_did_not_write_exits_2_and_keeps_them(tmp_path, held, toml):
    # `credits sample --out data/incidents/mine` replaced the folder's transactions.parquet,
    # and an edited INC-2025-01-07.toml, with the sample's, exit 0
    kept = tmp_path / held
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(toml or "my own")
    result = runner.invoke(app, ["sample", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"--out {tmp_path}: holds {held}, which the sample would replace" in message
    assert "give an empty or new folder, or move it away" in message
    assert kept.read_text() == (toml or "my own")
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(held).parts[0]]


def test_a_sample_replaces_an_earlier_sample(tmp_path):
    from transforms import sample

    (tmp_path / "INC-2025-01-07.toml").write_text(sample.INCIDENT_TOML)
    (tmp_path / "transactions.parquet").write_text("an earlier sample's")
    result = runner.invoke(app, ["sample", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "transactions.parquet").read_bytes().startswith(b"PAR1")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc on this machine")
def test_a_sample_where_no_folder_can_be_made_exits_2():
    # It was an internal error (FileNotFoundError), exit 1.
    result = runner.invoke(app, ["sample", "--out", "/proc/x"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "--out /proc/x: no folder can be made there" in message
    assert "give a folder you can write in" in message


def test_a_sample_larger_than_the_free_disk_exits_4_before_writing(tmp_path):
    # `--scale 100000000` (about 460 TB) was an internal error, exit 1 (MemoryError: 8.73 TiB
    # for an array), after writing the logs folder
    out = tmp_path / "big"
    result = runner.invoke(app, ["sample", "--out", str(out), "--scale", "100000000"])
    assert result.exit_code == 4, result.output
    message = " ".join(result.output.split())
    assert f"--scale 100000000 writes about 460,000 GB under {out}" in message
    assert "give a smaller --scale (1 writes about 4.6 MB)" in message
    assert not out.exists()


def test_a_sample_where_the_machine_refuses_a_folder_exits_4(tmp_path, monkeypatch):
    # root writes anywhere: the refusal of a read-only place is made here
    import errno

    def refused(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refused)
    result = runner.invoke(app, ["sample", "--out", str(tmp_path / "ro" / "sample")])
    assert result.exit_code == 4, result.output
    message = " ".join(result.output.split())
    assert f"--out {tmp_path / 'ro' / 'sample'}: cannot make this folder (Permission denied)" in (
        message
    )


def test_the_console_keeps_no_traceback_of_the_machine_refusing_but_keeps_a_bugs():
    # a read-only run folder inside the flow: the CLI says it once (exit 4); Prefect's console
    # neither repeats it nor prints its traceback. A bug keeps both.
    import errno
    import logging
    import sys

    from flows.quiet import DropExpectedTraceback, OurErrorsOnce

    def record(error: BaseException) -> logging.LogRecord:
        try:
            raise error
        except BaseException:
            info = sys.exc_info()
        message = f"Task run failed with exception: {error!r}"
        return logging.LogRecord("prefect", logging.ERROR, __file__, 1, message, None, info)

    refused = record(PermissionError(errno.EPERM, "Operation not permitted", "/x/out"))
    assert OurErrorsOnce().filter(refused) is False
    assert DropExpectedTraceback().filter(refused) and refused.exc_info is None
    state = logging.LogRecord(
        "prefect",
        logging.ERROR,
        __file__,
        1,
        "Finished in state Failed('... Read-only file system')",
        None,
        None,
    )
    assert OurErrorsOnce().filter(state) is False
    bug = record(ValueError("a bug"))
    assert OurErrorsOnce().filter(bug) is True
    assert DropExpectedTraceback().filter(bug) and bug.exc_info is not None


def test_the_daily_runs_files_not_run_end_its_flow_run_without_a_traceback():
    # `make serve`'s console printed 40 lines of traceback under "Engine execution exited with
    # unexpected exception" for one bad incident file, whose own lines had named it already
    import logging
    import sys

    from flows.deployment import FilesNotRun
    from flows.quiet import DropExpectedTraceback

    try:
        raise FilesNotRun("1 of 2 incident file(s) not run: zz-broken.toml", {})
    except FilesNotRun:
        info = sys.exc_info()
    ended = logging.LogRecord(
        "prefect.flow_runs",
        logging.ERROR,
        __file__,
        1,
        "Engine execution exited with unexpected exception",
        None,
        info,
    )
    assert DropExpectedTraceback().filter(ended) and ended.exc_info is None


def test_the_console_filters_are_added_once_the_console_one_first():
    # the CLI adds them, then the flow it runs (which `make serve` runs alone) again
    import logging

    from flows.quiet import DropExpectedTraceback, OurErrorsOnce, quiet_expected_tracebacks

    console, api = logging.StreamHandler(), logging.Handler()
    prefect = logging.getLogger("prefect")
    for handler in (console, api):
        prefect.addHandler(handler)
    try:
        quiet_expected_tracebacks(verbose=True)
        quiet_expected_tracebacks(verbose=False)
        quiet_expected_tracebacks()
    finally:
        for handler in (console, api):
            prefect.removeHandler(handler)
    assert [type(f) for f in console.filters] == [OurErrorsOnce, DropExpectedTraceback]
    assert [type(f) for f in api.filters] == [DropExpectedTraceback]


@pytest.mark.parametrize("command", ["run", "serve-prefect"])
@pytest.mark.parametrize("home", ["a file", "under a file"])
def test_a_prefect_home_that_is_no_folder_exits_2_naming_it(tmp_path, monkeypatch, command, home):
    # It was an internal error (NotADirectoryError) with a traceback, before Prefect started.
    afile = tmp_path / "afile"
    afile.write_text("x")
    prefect_home = afile if home == "a file" else afile / "prefect"
    monkeypatch.setenv("PREFECT_HOME", str(prefect_home))
    args = [command, str(write_incident(tmp_path / "inc"))] if command == "run" else [command]
    result = runner.invoke(app, [*args, "--port", "9"] if command == "serve-prefect" else args)
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"PREFECT_HOME={prefect_home}: not a folder Prefect can use" in message
    assert afile.read_text() == "x"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_an_approval_stopped_by_a_signal_says_so_and_exits_128_plus_it(capsys, signum, code):
    # It exited 143 and printed nothing: finance could not tell what was left.
    import typer

    from flows.cli.common import stopped_by_signals

    before = signal.getsignal(signum)
    with pytest.raises(typer.Exit) as exited, stopped_by_signals("the approval of run r1"):
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler raises in this thread at once
    assert exited.value.exit_code == code
    said = " ".join(capsys.readouterr().err.split())
    assert said.startswith(f"stopped: the approval of run r1 ({signal.Signals(signum).name}): ")
    assert "the next approval finishes a batch left half way" in said
    assert signal.getsignal(signum) == before  # the command's handlers are put back


def test_an_approval_signalled_inside_a_duckdb_query_is_stopped_not_a_bug(capsys):
    # A SIGTERM while the approval read a PostgreSQL store into its mirror exited 1 ("internal
    # error: RuntimeError: Query interrupted"): DuckDB turns the KeyboardInterrupt the handler
    # raises inside a query into its own error, which `guarded` took for a bug.
    import threading

    import duckdb
    import typer

    from flows.cli.common import guarded, stopped_by_signals

    def query() -> None:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        duckdb.connect().execute("select count(*) from range(100000000000)").fetchall()

    with pytest.raises(typer.Exit) as exited, stopped_by_signals("the approval of run r1"):
        guarded(query)
    assert exited.value.exit_code == 143
    said = " ".join(capsys.readouterr().err.split())
    assert said.startswith("stopped: the approval of run r1 (SIGTERM): "), said
    assert "internal error" not in said


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1:4200/api", "http:///api"])
def test_a_prefect_api_url_that_is_no_url_exits_2_before_the_run(tmp_path, url):
    # `notaurl` was reported as a bug (exit 1: "Failed to reach API at notaurl/").
    path = golden_incident.write(tmp_path / "inc")
    done = run_incident(path, tmp_path, api_url=url)
    assert done.returncode == 2, done.stderr
    assert f"PREFECT_API_URL={url!r}: not a Prefect API URL" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "credits")
def test_help_shows_no_type_beside_a_flag(path):
    # `--dry-run  <bool>` read as if the flag took a value (`--dry-run true`)
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout
    if path == ["approve"]:  # options that take a value still name its type
        assert re.search(r"--by\s+<str>", result.stdout) and "<Path>" in result.stdout


def test_an_unknown_option_is_never_told_to_be_help():
    # `credits lookup --email ADDRESS` said "(Possible options: --help)"
    result = runner.invoke(app, ["lookup", "--email", "a@b.c"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "No such option: --email" in said and "--help" not in said
    assert "(its options: --txn, --wide, --warehouse)" in said
    typo = runner.invoke(app, ["approve", "R1", "--dry-rn"], env={"COLUMNS": "200"})
    assert "(Possible options: --dry-run)" in typo.output  # a near one is still named
    typo = runner.invoke(app, ["lookup", "--hep"], env={"COLUMNS": "200"})
    assert "(Possible options: --help)" in typo.output  # --help too, when it was meant


def test_approves_help_says_by_is_required_but_for_a_dry_run():
    # `--by  who approves` read as optional; `credits approve RUN_ID` then refused it
    result = runner.invoke(app, ["approve", "--help"], env={"COLUMNS": "200"})
    assert "who approves (required, but not with --dry-run)" in result.stdout


def test_an_outbox_typed_empty_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch):
    # `--outbox "$BOX"` with BOX unset was the current folder: audit and approval looked there
    from transforms.finance import warehouse

    monkeypatch.chdir(tmp_path)
    warehouse.connect(tmp_path / "wh.duckdb").close()
    for typed in ("", "  "):
        args = ["audit", "--verify", "--warehouse", "wh.duckdb", "--outbox", typed]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.replace("│", " ").split())
        assert "--outbox" in said and "empty: name the outbox folder" in said, said
    # CREDITS_OUTBOX set blank (a `.env` line) is still the default, as documented
    blank = runner.invoke(
        app, ["audit", "--verify", "--warehouse", "wh.duckdb"], env={"CREDITS_OUTBOX": " "}
    )
    assert blank.exit_code == 0, blank.output


@pytest.mark.parametrize(
    "args",
    [
        ["sample", "--out", ""],
        ["run", ""],
        ["run", "x.toml", "--output-dir", ""],
        ["window", ""],
        ["verify-batch", ""],
        ["customers", "INC-1", "--out", ""],
        ["diff", "r1", "--csv", ""],
        ["what-if", "", "--policy", "p.toml"],
        # blanks only (`"$DIR "` with DIR unset): no one names a file so
        ["sample", "--out", " "],
        ["run", "  "],
    ],
    ids=" ".join,
)
def test_a_path_typed_empty_is_refused_before_anything_runs(tmp_path, monkeypatch, args):
    # `credits sample --out ""` wrote the whole sample into the current folder (Path("") is ".")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.replace("│", " ").split())
    assert "empty: name a file or folder" in said, said
    assert list(tmp_path.iterdir()) == []


def test_help_starts_neither_prefect_nor_the_diff_s_warehouse_reads():
    # `credits --help` took 1 to 2 s importing DuckDB, Arrow, Jinja and Babel (finance's
    # diff, the errors' DuckDB check, the pages' templates, money)
    # before printing a page of text: help, like every quick command, never imports Prefect
    helps = [["--help"], ["lookup", "--help"], ["approve", "--help"], ["diff", "--help"]]
    result = quick_commands.without_prefect(
        helps,
        cwd=Path(__file__).parents[2],
        nor=("transforms.finance.diff", "duckdb", "pyarrow", "jinja2", "babel"),
    )
    assert result.returncode == 0, result.stderr


def test_diff_s_default_against_is_the_diff_s_published():
    from transforms.finance import diff as diffs

    assert '] = "published",' in Path(__file__).parents[2].joinpath("flows/cli/diff.py").read_text()
    assert diffs.PUBLISHED == "published"


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["approve"], "RUN_ID"),
        (["decline"], "RUN_ID"),
        (["diff"], "RUN_ID"),
        (["run"], "FILE"),
        (["window"], "FILE"),
        (["what-if", "--policy", "p.toml"], "FILE"),
        (["verify-batch"], "PATH"),
        (["customers"], "INCIDENT_ID"),
    ],
)
def test_a_missing_argument_is_named_as_the_docs_name_it(command, name):
    # the docs say `credits approve RUN_ID`; help and errors said `{run_id}`, 'run_id'
    result = runner.invoke(app, command, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"Missing argument '{name}'" in result.output, result.output
    usage = runner.invoke(app, [command[0], "--help"], env={"COLUMNS": "200"}).stdout
    assert f"{{{name}}}" in usage.splitlines()[1], usage


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # a choice: it was "Value error, 'xls' is not one of 'table', 'csv', 'json'."
        (
            ["diff", "r1", "--format", "xls"],
            "--format': 'xls' is not one of 'table', 'csv', 'json'",
        ),
        (
            ["run", "x.toml", "--task-runner", "proc"],
            "--task-runner': 'proc' is not one of 'threads', 'dask'",
        ),
        # a whole number: it was "Input should be a valid integer, unable to parse string ..."
        (["sample", "--scale", "x"], "--scale': must be a whole number, not 'x'"),
        (["sample", "--seed", "1.5"], "--seed': must be a whole number, not '1.5'"),
        # a range: it was "Input should be greater than or equal to 1"
        (["sample", "--scale", "0"], "--scale': must be 1 or more, not 0"),
        # a negative seed was an internal error, exit 1 (numpy: expected non-negative integer)
        (["sample", "--seed", "-5"], "--seed': must be 0 or more, not -5"),
        (["serve-prefect", "--port", "70000"], "--port': must be 65535 or less, not 70000"),
    ],
)
def test_an_option_s_bad_value_is_said_in_plain_words_not_pydantic_s(args, said):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    shown = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for '{said}" in shown, shown
    assert "Value error" not in shown and "Input should" not in shown


def test_a_warehouse_typed_empty_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch):
    # `--warehouse "$WH"` with WH unset said "error: .: a folder, not a warehouse"
    from transforms.finance import warehouse

    monkeypatch.chdir(tmp_path)
    for typed in ("", "  "):
        result = runner.invoke(app, ["runs", "--warehouse", typed])
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.replace("│", " ").split())
        assert "--warehouse" in said and "empty: name the warehouse" in said, said
    # CREDITS_WAREHOUSE set blank (a `.env` line) is the default, as an empty one is
    warehouse.connect(tmp_path / "data" / "warehouse.duckdb").close()
    for blank in ("", " "):
        result = runner.invoke(app, ["runs"], env={"CREDITS_WAREHOUSE": blank})
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["customers", ""],
        ["customers", "  "],
        ["runs", "--incident", ""],
        ["audit", "--incident", " "],
    ],
    ids=" ".join,
)
def test_an_incident_id_typed_empty_is_refused_as_empty(tmp_path, monkeypatch, args):
    # `credits customers "$INC"` with INC unset said "incident : not in the warehouse"
    from transforms.finance import warehouse

    monkeypatch.chdir(tmp_path)
    warehouse.connect(tmp_path / "data" / "warehouse.duckdb").close()
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.replace("│", " ").split())
    assert "empty: give an incident id (e.g. INC-2025-01-07;" in said, said
    assert "not in the warehouse" not in said and "unknown to the warehouse" not in said


def test_approve_all_without_dry_run_is_refused_before_anything_is_decided(tmp_path, monkeypatch):
    # `approve RUN --all --by A` approved the run, the lines it seemed to ask for never shown
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["approve", "r1", "--all", "--by", "A"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert said.startswith("error: --all: only with --dry-run"), said
    assert list(tmp_path.iterdir()) == []  # no warehouse opened, no outbox made
    # the command it names reads the warehouse given, not the default
    shown = runner.invoke(app, ["approve", "r1", "--all", "--by", "A", "--warehouse", "w.duckdb"])
    said = " ".join(shown.stderr.split())
    assert f"`{commands.credits('diff r1 --all --warehouse w.duckdb')}` lists" in said, said
