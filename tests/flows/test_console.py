"""What the `credits` consoles print: text from the data never drives the terminal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.cli import common


def test_a_terminal_escape_a_cr_or_a_direction_override_in_printed_text_is_a_question_mark(
    capsys,
):
    # An id from a hostile table, printed by `lookup`, `diff` or `approve`.
    common.out.print("customer \x1b[31mRED\r\u202e: x\nnext", markup=False)
    common.err.print("[bold]refused[/]: \x1b]0;pwned\x07")
    printed = capsys.readouterr()
    assert printed.out == "customer ?[31mRED??: x\nnext\n"
    assert printed.err == "refused: ?]0;pwned?\n"


def test_plain_puts_a_value_on_one_line():
    assert common.plain("a\nb\tc") == "a?b?c"
    assert common.plain(None) == "" and common.plain("Zoë") == "Zoë"


def test_a_refusal_of_the_machine_that_names_no_path_says_where_the_command_writes(capsys):
    import errno

    import pytest
    import typer

    def full_disk():  # as Arrow says it: no file named
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(typer.Exit) as stopped:
        common.guarded(full_disk, where="/data/output or into the warehouse wh.duckdb")
    assert stopped.value.exit_code == 4
    message = " ".join(capsys.readouterr().err.split())
    assert "No space left on device (writing under /data/output or into the warehouse" in message


def _rejected(folder: str, blocking: str, warnings: tuple[str, ...] = ()) -> int:
    """The exit code `guarded` gives a run the gate rejected, its summary printed."""
    import typer

    from transforms.errors import ValidationRejected
    from transforms.runfolder.runs import RunStatus
    from transforms.runfolder.summary import RunSummary

    summary = RunSummary(
        run_id="r1",
        incident_id="INC-T",
        verdict=RunStatus.REJECTED,
        run_folder=Path(folder),
        blocking=(blocking,),
        warnings=warnings,
    )

    def rejected():
        raise ValidationRejected("run r1 rejected by the quality gate", summary)

    with pytest.raises(typer.Exit) as stopped:
        common.guarded(rejected)
    return stopped.value.exit_code


def test_a_rejected_run_s_reasons_and_warnings_are_printed_as_text_not_markup(capsys):
    # `[quality]` in the unknown-customers reason was eaten as a style; an id such as `[/x]`
    # made Rich raise inside the error handler.
    reason = "inputs: e.g. '[/x]0' ([quality] max_unknown_customer_share)"
    assert _rejected("runs/r1", reason, warnings=("ids like [bold]x[/bold]",)) == 3
    printed = capsys.readouterr()
    assert "e.g. '[/x]0' ([quality] max_unknown_customer_share)" in printed.err
    assert "warning: ids like [bold]x[/bold]" in printed.out


@pytest.mark.parametrize(
    ("kind", "code", "said"),
    [
        # `credits what-if` refuses an incident whose table is cut to its header naming its path
        ("rejected", 3, "rejected: /data/[/x]/inc.toml: would be rejected"),
        ("bug", 1, "internal error: OSError: /data/[/x]/inc.toml: would be rejected"),
    ],
)
def test_an_error_naming_a_path_is_printed_as_text_not_markup(capsys, kind, code, said):
    # a folder such as `[/x]` in a rejection's or a bug's message made Rich raise inside the
    # error handler: a traceback
    import typer

    from transforms.errors import ValidationRejected

    def failing():
        message = "/data/[/x]/inc.toml: would be rejected"
        raise ValidationRejected(message) if kind == "rejected" else OSError(message)

    with pytest.raises(typer.Exit) as stopped:
        common.guarded(failing)
    assert stopped.value.exit_code == code
    assert said in " ".join(capsys.readouterr().err.split())


def refused():
    import httpx

    raise httpx.ConnectError("[Errno 111] Connection refused")


def wrapped():  # as Prefect's client raises it when its health check fails
    try:
        refused()
    except Exception as error:
        raise RuntimeError("Failed to reach API at http://127.0.0.1:4200/api/") from error


@pytest.mark.parametrize(
    ("gone", "said"),
    [
        (refused, "Connection refused: the Prefect server stopped answering"),
        (wrapped, "Failed to reach API at http://127.0.0.1:4200/api/: the Prefect server stopped"),
    ],
)
def test_a_prefect_server_gone_mid_run_exits_4_saying_so(capsys, gone, said):
    import typer

    with pytest.raises(typer.Exit) as stopped:
        common.guarded(gone)
    assert stopped.value.exit_code == 4
    message = " ".join(capsys.readouterr().err.split())
    assert said in message
    assert "internal error" not in message


def test_a_runtime_error_of_another_cause_is_still_a_bug(capsys):
    import typer

    def bug():
        raise RuntimeError("Failed to reach API") from KeyError("x")

    with pytest.raises(typer.Exit) as stopped:
        common.guarded(bug)
    assert stopped.value.exit_code == 1


# `kill PID` (or Ctrl-C) arriving while a given module is first imported, in `credits ARGS...`.
SIGNAL_AT_AN_IMPORT = """
import os
import signal
import sys

module, signum = sys.argv[1], int(sys.argv[2])

class Signalled:
    def find_spec(self, name, path=None, target=None):
        if name == module:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signum)

sys.meta_path.insert(0, Signalled())
sys.argv = ["credits", *sys.argv[3:]]
from flows.console import main

main()
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize(
    ("command", "module", "said"),
    [
        # DuckDB, the first heavy import (the run imports it first, under the console's guard)
        ("run", "duckdb", " before the run started: nothing was run"),
        # a module the run imports itself, after the console's guard and before the run's
        # (the system's default was put back between the two): SIGTERM and SIGHUP said
        # nothing, and Typer turned SIGINT into a silent 130
        ("run", "transforms.finance.pg_location", " before the run started: nothing was run"),
        # a command with no signal handling of its own (SIGINT: the same silent 130)
        ("runs", "transforms.serving.run_listing", ": the command ended there"),
    ],
    ids=["first-import", "run-starting", "runs"],
)
def test_a_stop_as_the_command_starts_ends_with_one_line_and_128_plus_n(
    tmp_path, command, module, said, signum
):
    args = [command, "--warehouse", str(tmp_path / "wh.duckdb")]
    if command == "run":
        args += [str(tmp_path / "INC-X.toml"), "--output-dir", str(tmp_path / "out")]
    script = [sys.executable, "-c", SIGNAL_AT_AN_IMPORT, module, str(int(signum)), *args]
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    done = subprocess.run(script, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 128 + signum, done.stderr
    name = signal.Signals(signum).name
    assert done.stderr.startswith(f"stopped by {name}{said}"), done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "out").exists() and not (tmp_path / "wh.duckdb").exists()


def _catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler for `signum` now (Linux: SigCgt in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return bool(caught >> (signum - 1) & 1)


# `kill PID` arriving at the first call of a function of a given name (once a given module is
# being found, if one is named), in `credits ARGS...`.
SIGNAL_AT_A_CALL = """
import os
import sys

after, name, signum = sys.argv[1], sys.argv[2], int(sys.argv[3])
armed = [after == ""]

class Arming:
    def find_spec(self, module, path=None, target=None):
        if module == after:
            sys.meta_path.remove(self)
            armed[0] = True

def profile(frame, event, arg):
    if armed[0] and event == "call" and frame.f_code.co_name == name:
        sys.setprofile(None)
        os.kill(os.getpid(), signum)

sys.meta_path.insert(0, Arming())
sys.setprofile(profile)
sys.argv = ["credits", *sys.argv[4:]]
from flows.console import main

main()
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize(
    ("after", "name", "said"),
    [
        # Python code that DuckDB's extension runs as it initialises: the interrupt raised there
        # aborted the process (nanobind: exit 134) or became an ImportError's traceback (exit 1)
        ("_duckdb", "_find_new_", " before the run started: nothing was run"),
        ("_duckdb", "name", " before the run started: nothing was run"),
        # Typer reading the commands' signatures, then the arguments: a traceback, then a
        # silent 130
        ("", "get_params_from_function", " before the command started: nothing was done"),
        ("", "parse_args", " before the command started: nothing was done"),
        # between two of Typer's steps, outside any of ours: Typer's silent 130
        ("", "make_context", ": the command ended there (what it committed stays)"),
        # outside Typer's steps: its shell completion's check, before them (a traceback)
        ("", "_main_shell_completion", ": the command ended there (what it committed stays)"),
    ],
    ids=[
        "duckdb-init",
        "duckdb-init-2",
        "typer-commands",
        "arguments",
        "between-typer-steps",
        "before-typer-steps",
    ],
)
def test_a_stop_anywhere_before_the_command_ends_with_one_line_and_128_plus_n(
    tmp_path, after, name, said, signum
):
    args = ["run", str(tmp_path / "INC-X.toml"), "--output-dir", str(tmp_path / "out")]
    args += ["--warehouse", str(tmp_path / "wh.duckdb")]
    script = [sys.executable, "-c", SIGNAL_AT_A_CALL, after, name, str(int(signum)), *args]
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    done = subprocess.run(script, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 128 + signum, done.stderr
    assert done.stderr == f"stopped by {signal.Signals(signum).name}{said}\n"
    assert not (tmp_path / "out").exists() and not (tmp_path / "wh.duckdb").exists()


def test_a_stop_while_typer_prints_a_usage_error_is_one_line_and_128_plus_n(tmp_path):
    # after Typer's steps: it imports its Rich printer for the error (a traceback before)
    script = [sys.executable, "-c", SIGNAL_AT_A_CALL, "", "rich_format_error", "15"]
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    done = subprocess.run([*script, "nosuchcommand"], capture_output=True, text=True, env=env)
    assert done.returncode == 143, done.stderr
    assert done.stderr == "stopped by SIGTERM: the command ended there (what it committed stays)\n"


# A module that stops its own process as it is imported, then what its importer does next.
STOPPED_IN_AN_IMPORT = """
import signal
import sys
import time

sys.path.insert(0, sys.argv[1])
from flows import console

signal.signal(signal.SIGTERM, console._stop)

class Held:
    def __del__(self):
        pass

held = Held()
try:
    import stops_itself
    {next}
    print("went on")
except KeyboardInterrupt as stopped:
    print("stopped by", stopped)
"""


@pytest.mark.parametrize(
    "then",
    [
        "time.sleep(3600)",  # a C call, no Python call before it: the stop waited for its end
        "held = None",  # a finaliser first, where the stop was reported and lost
    ],
    ids=["c-call", "finaliser"],
)
def test_a_stop_that_waited_for_an_import_is_raised_at_once_after_it(tmp_path, then):
    (tmp_path / "stops_itself.py").write_text("import os, signal\nos.kill(os.getpid(), 15)\n")
    script = STOPPED_IN_AN_IMPORT.replace("{next}", then)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert (done.stdout, done.stderr) == ("stopped by SIGTERM\n", "")


def test_under_a_profiler_a_stop_in_an_import_is_raised_where_it_came(tmp_path):
    # cProfile's profiler is C's: nothing to chain to, nothing to put back; the import fails
    (tmp_path / "stops_itself.py").write_text("import os, signal\nos.kill(os.getpid(), 15)\n")
    script = "import cProfile\ncProfile.Profile().enable()\n" + STOPPED_IN_AN_IMPORT.replace(
        "{next}", "pass"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert (done.stdout, done.stderr) == ("stopped by SIGTERM\n", "")


# Not SIGINT: Python catches it from its very start, and one arriving while Python imports its
# `site` (before any of ours) ends in Python's own "Fatal Python error: init_import_site", exit
# 1 (the console's docstring says so); once `flows.console` runs, it is one line and 130, as
# the test above checks deterministically.
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_right_after_the_spawn_exits_128_plus_n(tmp_path, signum):
    # Sent at once, or a few hundredths of a second later: whatever the moment, the exit is
    # 128 + n; once the process catches the signal (the console's guard is its first act), the
    # one line says what was stopped. Before that (the interpreter starting, a few hundredths
    # of a second), the system's default ends it: killed by the signal (a shell shows 128 + n),
    # silent, nothing done. A process that caught the signal and then died of it silently is
    # the bug (a window between the console's guard and the command's).
    from tests.builders import failure, txn, write_incident

    # a good incident: however late a signal came on a fast machine, it stops a run, never
    # an exit 2 on a missing file
    incident = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    credits = Path(sys.executable).parent / "credits"
    args = ["run", str(incident), "--output-dir", str(tmp_path / "out")]
    args += ["--warehouse", str(tmp_path / "wh.duckdb")]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    name = signal.Signals(signum).name
    for delay in (0, 0.02, 0.05, 0.1):
        started = subprocess.Popen(
            [str(credits), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        time.sleep(delay)
        caught = _catches(started.pid, signum)
        started.send_signal(signum)
        _, stderr = started.communicate(timeout=60)
        if caught or started.returncode >= 0:
            assert started.returncode == 128 + signum, (delay, stderr)
            assert stderr.startswith(f"stopped by {name}"), (delay, stderr)
            assert len(stderr.splitlines()) == 1, (delay, stderr)
        else:  # not started yet: the system's default action
            assert started.returncode == -signum and stderr == "", (delay, stderr)


AFTER_THE_COMMAND = """
import atexit
import os
import signal
import sys

# a stop while Python exits, e.g. while Prefect's workers drain at exit
atexit.register(lambda: os.kill(os.getpid(), signal.SIGTERM))
sys.argv = ["credits", "--help"]
from flows.console import main

main()
"""


def test_a_stop_once_the_command_is_over_is_the_systems_default():
    # The guard stayed for Python's exit: a SIGTERM then raised KeyboardInterrupt in an atexit
    # callback ("Exception ignored in atexit callback", exit 0); it ends as the system does.
    done = subprocess.run(
        [sys.executable, "-c", AFTER_THE_COMMAND], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert done.stderr == ""


def test_a_signal_ignored_at_the_start_stays_ignored(tmp_path):
    # `nohup credits ...` ignores SIGHUP: the guard, kept for the whole command, took it over
    # and the terminal closing stopped the command (129).
    args = ["runs", "--warehouse", str(tmp_path / "wh.duckdb")]
    script = [sys.executable, "-c", SIGNAL_AT_AN_IMPORT, "transforms.serving.run_listing"]
    done = subprocess.run(
        [*script, str(int(signal.SIGHUP)), *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert done.returncode == 2, done.stderr  # the command went on: no warehouse there
    assert "no warehouse yet" in done.stderr and "stopped" not in done.stderr


def test_a_rejected_run_says_where_to_read_why_and_what_to_do_next(capsys):
    # A newcomer's customer table with an unknown segment was told which rows broke the check,
    # and nothing about the page holding every expectation or that the fix is a new run.
    reason = "customers: expect_column_values_to_be_in_set(segment): ... [1 rows; e.g. c1]"
    assert _rejected("/out/incident=INC-T/run=r1", reason) == 3
    message = " ".join(capsys.readouterr().err.split())
    assert "/out/incident=INC-T/run=r1/validation.html" in message
    assert "run the incident again" in message


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_that_cannot_show_a_character_gets_it_escaped_not_a_traceback(
    tmp_path, encoding
):
    # A shell whose locale is not UTF-8 (PYTHONIOENCODING, PYTHONUTF8=0 under LANG=C): the
    # sample was written, then printing its folder was a raw traceback and exit 1 (`lookup`
    # and `customers` of a customer named Zoë the same).
    out = tmp_path / "Zoë…"
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "sample", "--out", str(out), "--seed", "1"],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")
    assert "Traceback" not in done.stderr.decode(encoding, "replace")
    printed = done.stdout.decode(encoding).strip()
    assert printed.endswith("INC-2025-01-07.toml") and "Zo" in printed
