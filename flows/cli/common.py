"""What every `credits` command shares: the Typer app, the two consoles, the warehouse and outbox
options, and `guarded`, which turns our errors into a message and an exit code.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer._click.exceptions import NoSuchOption  # Typer vendors Click; typer is pinned (pyproject)
from typer.core import TyperGroup

from flows import console, stopping
from flows.cli import options
from transforms import commands, pages
from transforms.errors import (
    CreditsError,
    StorageError,
    ValidationRejected,
    environment_problem,
)

if TYPE_CHECKING:
    from transforms.runfolder.summary import RunSummary


class _ClosedPipeIsFine(TyperGroup):
    """`credits ... | head -1`: a reader that stops early is normal. Whatever the command, a
    closed stdout ends it quietly with exit 0 (Python's documented way: stdout sent to devnull,
    so the flush at exit cannot fail again); Click alone would exit 1. What prints through `out`
    goes on to devnull instead (`_VisibleConsole.on_broken_pipe`): the command finishes, with
    its own exit code. Output the machine refuses (`> file` on a full disk) is one line and exit
    4; a stdout closed from the start (`>&-`) is refused before the command does anything (exit
    2)."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:  # `--help` prints here
        if sys.stdout is None:  # Python found no descriptor 1: whatever is printed is lost
            err.print(
                "error: standard output is closed (`>&-`): the command's answer would be lost; "
                "send it to a file, or to /dev/null to discard it",
                markup=False,
            )
            raise typer.Exit(2)
        return _pipe_closed_is_exit_0(
            lambda: stopped_as_128_plus_n(
                lambda: super(_ClosedPipeIsFine, self).make_context(*args, **kwargs),
                before_the_command=True,
            )
        )

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:  # the command, once known
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta[COMMAND] = name
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:  # every command, and its sub-apps', prints here
        return _pipe_closed_is_exit_0(
            lambda: stopped_as_128_plus_n(
                lambda: _options_read(lambda: super(_ClosedPipeIsFine, self).invoke(ctx)),
                command=lambda: ctx.meta.get(COMMAND),
            )
        )


def _options_read(action):
    """A command's options are read here (Typer then runs it): a bad value's message in the
    docs' words, not pydantic's (`options.say_in_plain_words`)."""
    try:
        return action()
    except typer.BadParameter as error:
        options.say_in_plain_words(error)
        raise
    except NoSuchOption as error:  # Click's nearest may be `--help` (`lookup --email`)
        near = [
            name
            for name in error.possibilities or ()
            if name != "--help" or SequenceMatcher(None, error.option_name, name).ratio() > 0.8
        ]
        if not near and error.ctx is not None:
            listed = [p.opts[0] for p in error.ctx.command.params if p.opts[0].startswith("--")]
            error.message += f" (its options: {', '.join(n for n in listed if n != '--help')})"
        error.possibilities = near  # type: ignore[misc]
        raise


def _pipe_closed_is_exit_0(action):
    try:
        result = action()
        sys.stdout.flush()  # here, not at exit: a pipe closed on the last lines counts too
        return result
    except BrokenPipeError:
        _stdout_to_devnull()
        raise typer.Exit(0) from None
    except SystemExit as exiting:  # Rich's answer to a closed pipe in Typer's `--help`: exit 1
        if isinstance(exiting.__context__, BrokenPipeError):
            raise typer.Exit(0) from None
        raise
    except OSError as error:
        # Raised outside `guarded` (which names any file it writes): printing the answer, or
        # a note on stderr.
        if error.filename is not None or error.errno not in _STDOUT_REFUSED:
            raise
        _stdout_to_devnull()  # the flush at exit must not fail again
        with contextlib.suppress(OSError):  # stderr refused too (`2>> log` on a full disk)
            err.print(
                f"error: standard output: {error.strerror}: what was printed is incomplete; "
                "what the command committed stays. Free the space, or send the output "
                "elsewhere, and run it again",
                markup=False,
            )
        raise typer.Exit(StorageError.exit_code) from None
    except BaseException:  # the command's own exit code stands, whatever the pipe does
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _stdout_to_devnull()
        raise


_STDOUT_REFUSED = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF})


def stopped_as_128_plus_n(action, before_the_command: bool = False, command=lambda: None):
    """A stop signal that no handling of the command's own caught (the console's guard raises
    it as `KeyboardInterrupt` naming the signal): one line, exit 128 + n, where Typer would
    exit 130 silently for any of them. `before_the_command`: while its arguments are read;
    `command()`: the command's name, once known (one of `READS_ONLY` has nothing to leave half
    done; the support page, stopped by its supervisor, is simply stopped)."""
    try:
        return action()
    except KeyboardInterrupt as stopped:
        name = stop_signal(stopped).name
        said = console.STOPPED_EARLY if before_the_command else _stopped(command())
        err.print(said.format(name), end="", markup=False)
        raise typer.Exit(128 + stop_signal(stopped)) from None


def _stopped(command: str | None) -> str:
    """What a command stopped by a signal says (the signal's name to fill in)."""
    if command == "serve-support":
        return console.STOPPED_SERVING
    return console.STOPPED_READING if command in READS_ONLY else console.STOPPED_LATE


READS_ONLY = frozenset(
    {"customers", "lookup", "runs", "diff", "window", "audit", "verify-batch", "serve-support"}
)
"""The commands that write nothing: stopped, they changed nothing and are simply run again."""
COMMAND = "credits.command"  # the context's key for the command's name, once resolved


def stop_signal(stopped: KeyboardInterrupt) -> signal.Signals:
    """The signal a `KeyboardInterrupt` stands for: the one it names, else Ctrl-C's."""
    name = str(stopped)
    return signal.Signals[name] if name in signal.Signals.__members__ else signal.SIGINT


def _stdout_to_devnull() -> None:
    with contextlib.suppress(OSError, ValueError):  # ValueError: no descriptor (a test's)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _no_type_beside_a_flag() -> None:
    """Typer's help shows each option's type, `--dry-run  <bool>` too, as if a flag took a value
    (`--dry-run true`); a flag's is left out. Typer has no setting for it: its one method that
    shows the type answers None (nothing shown) for a flag."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_beside_a_flag()
app = typer.Typer(
    cls=_ClosedPipeIsFine,
    add_completion=False,
    rich_markup_mode="markdown",  # paragraphs wrap to the terminal, not to the docstring
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},  # every command's, inherited
    pretty_exceptions_enable=False,
    help="Find every customer hurt by a payment outage and pay a fair credit, once, with proof.",
)


class _VisibleConsole(Console):
    """A console that shows no control character the text it prints carries (line feeds kept;
    `pages.visible`); its own styles are added after, as escapes of its own."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        shown = (pages.visible(o, keep="\n") if isinstance(o, str) else o for o in objects)
        super().print(*shown, **kwargs)

    def on_broken_pipe(self) -> None:
        """A reader that left early (`| head -1`) discards the rest of the output, and the
        command goes on, its exit code its own: Rich's answer (exit 1, made 0 by
        `_pipe_closed_is_exit_0`) ended an approval showing its diff inside its transaction,
        rolled back behind a quiet exit 0, and a run the gate rejected printing its summary
        with 0 where 3 is due."""
        self.quiet = True
        with contextlib.suppress(OSError, ValueError):  # ValueError: no descriptor (a test's)
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.file.fileno())


out = _VisibleConsole(highlight=False, soft_wrap=True)
err = _VisibleConsole(stderr=True, highlight=False, soft_wrap=True)


def terminal_width() -> int:
    """The width tables fit: `COLUMNS` when set, else the terminal's (stdout's, or the one a
    pipe into `less` or `head` leaves on stderr or stdin), else 120 (a file, a test)."""
    from transforms.serving.views import WIDTH

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for descriptor in (1, 2, 0):
        try:
            found = os.get_terminal_size(descriptor).columns
        except (OSError, ValueError):
            continue
        if found > 0:
            return found
    return WIDTH


def typed(arguments: str, warehouse: str | Path, outbox: Path | None = None) -> str:
    """`credits ARGUMENTS` as one types it here (`commands.credits`), with the `--warehouse` (a
    URL's password masked) and `--outbox` this command was given when they are not the ones a
    command finds by itself (`CREDITS_WAREHOUSE`, `CREDITS_OUTBOX`, else the folder's): pasted
    without them, a hint's command read another warehouse."""
    from flows.settings import outbox_default, warehouse_default
    from transforms.finance import pg_location

    location, shown = str(warehouse), None
    if location != warehouse_default():
        shown = pg_location.shown(location) if pg_location.is_url(location) else location
    arguments = commands.on_warehouse(arguments, shown)
    if outbox is not None and outbox != outbox_default():
        arguments += f" --outbox {shlex.quote(str(outbox))}"
    return commands.credits(arguments)


def print_lines(lines: list[str]) -> None:
    """Plain lines, written as they are (fast, and grep finds a customer's line)."""
    out.file.write("\n".join(lines) + "\n")


def plain(value: Any) -> str:
    """A value on one line: None is empty, every control character (a line feed too) `?`."""
    return pages.visible("" if value is None else str(value))


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # what stops a command (and SIGHUP)
# The stop signal `interrupt` received in this `stopped_by_signals` block, if any: DuckDB turns
# the KeyboardInterrupt raised inside one of its queries into its own "Query interrupted".
_received: list[int] = []


def interrupt(signum, frame) -> None:
    """A stop signal as Ctrl-C: `KeyboardInterrupt` naming it, once no module is being imported
    (`console.waits_for_an_import`). A second one is ignored: it must not cut the first one's
    unwinding (a rollback, a server's stop) short."""
    if console.waits_for_an_import(signum, frame):
        return
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    _received.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def stopped_by_signals(what: str) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP stop the block as Ctrl-C does (its transactions roll back);
    the command then says what was stopped and exits 128 + the signal's number, at once even
    while it waits on the PostgreSQL store (`stopping.statements_cancelled`)."""
    _received.clear()
    previous = {s: signal.signal(s, interrupt) for s in (*STOP_SIGNALS, signal.SIGHUP)}
    try:
        with stopping.statements_cancelled():
            yield
    except KeyboardInterrupt as stopped:
        name = stop_signal(stopped).name
        err.print(
            f"stopped: {what} ({name}): what it committed before stays committed, the rest "
            "was rolled back; run it again (the next approval finishes a batch left half way; "
            f"`{commands.credits('audit --verify')}` shows where things are)",
            markup=False,
        )
        raise typer.Exit(128 + signal.Signals[name]) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received.clear()


def guarded(action, passing: tuple[type[Exception], ...] = (), where: str | None = None):
    """Runs `action`, turning our errors into a message and their exit code, and bugs into 1;
    the errors in `passing` are the caller's to report. `where` says where the command writes,
    for a refusal of the machine whose own message names no path (Arrow's full disk)."""
    try:
        return action()
    except passing:
        raise
    except BrokenPipeError:  # stdout closed by its reader: the CLI's entry ends quietly
        raise
    except ValidationRejected as rejected:
        summary = rejected.summary
        if summary is not None:
            print_summary(summary)
        err.print(f"[bold red]rejected[/]: {escape(str(rejected))}; nothing was published")
        for line in summary.blocking if summary is not None else ():
            err.print(f"  - {line}", markup=False)  # `[quality]`, or an id such as `[/x]`
        if summary is not None:
            err.print(
                f"every expectation, with the rows that broke it: "
                f"{summary.run_folder / 'validation.html'}; fix the input each line names "
                "and run the incident again (a rejected run is never approved)",
                markup=False,
            )
            out.print(str(summary.run_folder), markup=False)
        raise typer.Exit(rejected.exit_code) from None
    except CreditsError as error:
        for line in error.done:  # what it did before it refused (a batch it finished)
            err.print(f"[yellow]note[/]: {escape(line)}")
        err.print(f"[bold red]error[/]: {escape(str(error))}")
        raise typer.Exit(error.exit_code) from None
    except Exception as error:  # a bug: say so briefly; CREDITS_DEBUG=1 shows the traceback
        if _received:  # what the stop signal broke ("Query interrupted"): stopped, not a bug
            raise KeyboardInterrupt(signal.Signals(_received[0]).name) from None
        problem = environment_problem(error)
        if problem is not None:  # not a bug: the machine refused (full disk, read-only, ...)
            if where is not None and "/" not in problem:
                problem = f"{problem} (writing under {where})"
            refused = StorageError(
                f"{problem}. The command stopped there; what it committed before stays "
                f"committed (`{commands.credits('audit')}` shows it). Free the space or make "
                "the folder writable, then run it again"
            )
            err.print(f"[bold red]error[/]: {escape(str(refused))}")
            raise typer.Exit(refused.exit_code) from None
        if os.environ.get("CREDITS_DEBUG"):
            raise
        damaged = _damaged(error)
        if damaged is not None:  # not a bug: the warehouse was damaged behind our back
            err.print(f"[bold red]error[/]: {escape(damaged)}")
            raise typer.Exit(3) from None
        if _server_gone(error):
            # not a bug: the Prefect server a run used (long-lived, or PREFECT_API_URL) went away
            err.print(
                f"[bold red]error[/]: {escape(str(error))}: the Prefect server stopped answering "
                "(stopped, or PREFECT_API_URL names none). Nothing was published: a run not "
                "sealed is never approved. Start the server, or leave PREFECT_API_URL unset for "
                "a temporary one, and run again"
            )
            raise typer.Exit(4) from None
        err.print(f"[bold red]internal error[/]: {escape(f'{type(error).__name__}: {error}')}")
        err.print("set CREDITS_DEBUG=1 to see the traceback")
        raise typer.Exit(1) from None


def _server_gone(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from, is httpx failing to connect: Prefect's
    client raises it as is, or wrapped ("Failed to reach API at ...", a RuntimeError)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if type(error).__module__.startswith("httpx") and "Connect" in type(error).__name__:
            return True
        error = error.__cause__ or error.__context__
    return False


def _damaged(error: Exception) -> str | None:
    """What to say of a warehouse DuckDB cannot read whole (a table dropped, the file cut short
    or changed on disk): exit 3, as for any other tampering; None for any other error."""
    from transforms.finance import damage, pg_store

    tables = {t.name for t in pg_store.TABLES}
    return damage.dropped_table(error, tables) or damage.damaged(error)


def print_whole(table: Table) -> None:
    """Prints `table` on stdout never cut: wider than the console (a narrow terminal, or 80
    columns when piped to a file), it is printed at its own width, and a terminal wraps its
    lines, rather than amounts ending in an ellipsis. (Rich caps a print's width at the
    console's, so the console is widened for it.)"""
    from rich.measure import Measurement

    width = Measurement.get(out, out.options.update_width(10_000), table).maximum
    if width <= out.width:
        out.print(table)
        return
    kept = out._width  # None: found again from the terminal
    out.width = width
    try:
        out.print(table)
    finally:
        out._width = kept


def print_summary(summary: RunSummary) -> None:
    from transforms import money

    table = Table(title=f"{summary.incident_id} run {summary.run_id}: {summary.verdict}")
    table.add_column("what")
    table.add_column("count", justify="right")
    counts = {} if summary.log_funnel is None else summary.log_funnel.counts
    for key, value in counts.items():
        table.add_row(f"log lines: {key.replace('_', ' ')}", f"{value:,}")
    for key, value in summary.by_class.items():
        table.add_row(f"class {key}", f"{value:,}")
    for key, value in summary.exceptions.items():
        table.add_row(f"exception {key}", f"{value:,}")
    for currency, total in summary.totals_minor.items():
        table.add_row(f"credits {currency}", money.display(total, currency))
    print_whole(table)
    for line in summary.warnings:
        out.print(f"[yellow]warning[/]: {escape(line)}")
    for line in summary.window_messages:
        kind = "[yellow]warning[/]" if summary.window_check == "warning" else "note"
        out.print(f"{kind}: {escape(commands.pasteable(line))}")
