"""What the `credits` consoles print: text from the data never drives the terminal."""

from __future__ import annotations

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


def test_a_rejected_run_s_reasons_and_warnings_are_printed_as_text_not_markup(capsys):
    # `[quality]` in the unknown-customers reason was eaten as a style; an id such as `[/x]`
    # made Rich raise inside the error handler.
    from pathlib import Path

    import pytest
    import typer

    from transforms.errors import ValidationRejected
    from transforms.runfolder.runs import RunStatus
    from transforms.runfolder.summary import RunSummary

    summary = RunSummary(
        run_id="r1",
        incident_id="INC-T",
        verdict=RunStatus.REJECTED,
        run_folder=Path("runs/r1"),
        blocking=("inputs: e.g. '[/x]0' ([quality] max_unknown_customer_share)",),
        warnings=("ids like [bold]x[/bold]",),
    )

    def rejected():
        raise ValidationRejected("1 blocking", summary)

    with pytest.raises(typer.Exit) as stopped:
        common.guarded(rejected)
    assert stopped.value.exit_code == 3
    printed = capsys.readouterr()
    assert "e.g. '[/x]0' ([quality] max_unknown_customer_share)" in printed.err
    assert "warning: ids like [bold]x[/bold]" in printed.out


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
