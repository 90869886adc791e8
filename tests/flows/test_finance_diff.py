"""What a run would change before finance approves it: `credits diff`, `credits approve
--dry-run`, the summary `credits approve` shows, and the decision decreases need."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests import stores, waiting
from tests.builders import customer, failure
from tests.flows.desk import LINES, batch_lines
from transforms import commands
from transforms.finance import diff as diffs
from transforms.finance import diff_text, journal, warehouse


def _diff(desk, run_id: str, against: str = diffs.PUBLISHED) -> diffs.Diff:
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        return diffs.compute(con, run_id, against)


def _changes(found: diffs.Diff) -> list[tuple[str, str, str, int, int]]:
    return [
        (line.customer_id, line.currency, line.change, line.before_minor, line.after_minor)
        for line in found.lines
    ]


def _reasons(found: diffs.Diff) -> str:
    return " | ".join(r for line in found.lines for r in line.reasons)


def test_a_wider_window_adds_the_customer_whose_failure_entered_it(desk):
    desk.approve(desk.run())
    found = _diff(desk, desk.run(top={"window_end": "2025-01-07T19:00:00"}))
    assert _changes(found) == [("c2", "USD", "added", 0, 1000)]
    (reason,) = found.lines[0].reasons
    assert reason.startswith("transaction t2 entered the window (failed 2025-01-07 18:30 EST)")
    assert "18:15 EST is now 2025-01-07 14:15 EST to 2025-01-07 19:00 EST" in reason
    assert found.counts["customers added"] == 1
    usd = next(t for t in found.totals if t.currency == "USD")
    assert (usd.before_minor, usd.after_minor, usd.difference_minor) == (1000, 2000, 1000)


def test_a_narrower_window_removes_it_again(desk):
    wide = desk.run(top={"window_end": "2025-01-07T19:00:00"})
    desk.approve(wide)
    found = _diff(desk, desk.run(), against=wide)
    assert _changes(found) == [("c2", "USD", "removed", 1000, 0)]
    assert "transaction t2 left the window" in found.lines[0].reasons[0]


def test_a_new_log_file_names_the_file(desk):
    desk.approve(desk.run())
    extra = failure("t4", customer_id="c2", amount_minor=500, currency="USD")
    (desk.root / "inc" / "logs" / "pod-b.jsonl").write_text(json.dumps(extra) + "\n")
    found = _diff(desk, desk.run())
    assert _changes(found) == [("c2", "USD", "added", 0, 1000)]
    assert found.lines[0].reasons == ("transaction t4: in a new log file logs/pod-b.jsonl",)


@pytest.mark.parametrize(
    ("usd", "change"), [(600, "decreased"), (1500, "increased")], ids=["lower", "higher"]
)
def test_a_policy_change_names_the_key(desk, usd, change):
    desk.approve(desk.run())
    found = _diff(desk, desk.run(policy={"flat_minor": {"USD": usd, "EUR": 900}}))
    assert _changes(found) == [("c1", "USD", change, 1000, usd)]
    assert found.lines[0].reasons == (f"policy flat_minor.USD changed: 1000 -> {usd}",)


def test_a_decrease_below_what_was_paid_names_what_was_paid_before_the_policy(desk):
    # 15.00 paid, then 10.00 accepted (never paid back), now 12.00: "flat_minor.USD changed:
    # 1000 -> 1200" alone gave a raise as the reason of a decrease
    desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))
    lower = desk.run()
    desk.approve(lower, accept_decreases=True)
    found = _diff(desk, desk.run(policy={"flat_minor": {"USD": 1200, "EUR": 900}}))
    assert _changes(found) == [("c1", "USD", "decreased", 1500, 1200)]
    assert found.lines[0].reasons == (
        f"earlier batches paid USD 15.00, more than the newest published run {lower} computes "
        "(USD 10.00): a decrease is never paid back",
        "policy flat_minor.USD changed: 1000 -> 1200",
    )


def test_a_policy_that_stops_crediting_a_line_names_the_key_that_decided_it(desk):
    # "transaction t1: failed -> excluded_segment" named no difference between the runs: the
    # segment was the same, the policy's exclude_segments was not
    desk.approve(desk.run())
    found = _diff(desk, desk.run(policy={"exclude_segments": ["consumer", "internal", "test"]}))
    assert _changes(found) == [("c1", "USD", "removed", 1000, 0), ("c3", "EUR", "removed", 900, 0)]
    changed = (
        "policy exclude_segments changed: ['internal', 'test'] -> ['consumer', 'internal', 'test']"
    )
    for line in found.lines:
        assert changed in line.reasons


def test_a_customer_flipped_to_closed_is_removed_naming_the_status(desk):
    desk.approve(desk.run())
    closed = [customer("c1", status="closed"), customer("c2"), customer("c3")]
    found = _diff(desk, desk.run(customers=closed))
    assert _changes(found) == [("c1", "USD", "removed", 1000, 0)]
    assert "customer c1's status: active -> closed" in found.lines[0].reasons
    assert [line.customer_id for line in found.decreases] == ["c1"]


def test_a_paid_account_closed_since_points_its_decrease_at_pay_by_hand(desk):
    # decreases.csv said "review by hand" while pay_by_hand.csv of the same batch listed what
    # was left to pay: one credit shown as a decrease and as owed, to be handled twice
    from transforms.finance import publication

    desk.approve(desk.run(policy={"flat_minor": {"USD": 500, "EUR": 900}}))
    closed = [customer("c1", status="closed"), customer("c2"), customer("c3")]
    decision = desk.approve(desk.run(customers=closed), accept_decreases=True)

    def rows(name: str) -> list[dict[str, str]]:
        with open(decision.batch_folder / name, newline="") as handle:
            return list(csv.DictReader(handle))

    ((decrease,), (by_hand,)) = rows("decreases.csv"), rows("pay_by_hand.csv")
    assert (decrease["customer_id"], decrease["detail"]) == ("c1", publication.CLOSED_DETAIL)
    assert (by_hand["customer_id"], by_hand["to_pay_minor"]) == ("c1", "500")


def test_a_table_row_that_changed_status_is_named(desk):
    from tests.flows.desk import TABLE

    desk.approve(desk.run(policy={"credit_recovered": False}))
    table = [{**row, "status": "succeeded"} if row["txn_id"] == "t3" else row for row in TABLE]
    found = _diff(desk, desk.run(transactions=table, policy={"credit_recovered": False}))
    assert _changes(found) == [("c3", "EUR", "removed", 900, 0)]
    assert found.lines[0].reasons == (
        "transaction t3: its table row changed status: failed -> succeeded",
    )


def test_against_published_is_exactly_what_approval_pays(desk):
    desk.approve(desk.run())
    run_id = desk.run(
        top={"window_end": "2025-01-07T19:00:00"}, policy={"flat_minor": {"USD": 1500, "EUR": 900}}
    )
    found = _diff(desk, run_id)
    decision = desk.approve(run_id)
    paid = {
        (r["customer_id"], r["currency"]): int(r["amount_minor"]) for r in batch_lines(decision)
    }
    assert paid == {
        (line.customer_id, line.currency): line.difference_minor for line in found.lines
    }
    assert _diff(desk, run_id).lines == ()  # once published, nothing differs


def test_nothing_published_yet_lists_every_credit_as_added(desk):
    found = _diff(desk, desk.run())
    assert _changes(found) == [("c1", "USD", "added", 0, 1000), ("c3", "EUR", "added", 0, 900)]
    assert found.baseline_run_id is None
    assert found.lines[0].reasons == ("nothing published yet for INC-T",)


def test_the_cli_gives_table_csv_and_json(desk):
    first = desk.run()
    desk.approve(first)
    second = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    table = desk.cli("diff", second)
    assert table.exit_code == 0, table.output
    assert "1 credits increased" in table.stdout and "USD: before USD 19.00" not in table.stdout
    assert "policy flat_minor.USD changed: 1000 -> 1500" in table.stdout
    rows = list(csv.DictReader(io.StringIO(desk.cli("diff", second, "--format", "csv").stdout)))
    assert [(r["customer_id"], r["change"], r["difference"]) for r in rows] == [
        ("c1", "increased", "5.00")
    ]
    document = json.loads(desk.cli("diff", second, "--against", first, "--format", "json").stdout)
    assert document["against"] == first and document["lines"][0]["difference_minor"] == 500
    assert {t["currency"]: t["difference_minor"] for t in document["totals"]} == {
        "EUR": 0,
        "USD": 500,
    }
    unknown = desk.cli("diff", "run-nope")
    assert unknown.exit_code == 2 and "not in the warehouse" in unknown.stderr


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _files(desk) -> tuple[dict[str, str], ...]:
    """Every file of the desk's folder (outbox, run folders), and of a DuckDB warehouse's
    folder (the file, its lock file)."""
    if stores.kind(desk.warehouse) == "postgres":
        return (_snapshot(desk.root),)
    return _snapshot(desk.root), _snapshot(Path(desk.warehouse).parent)


def test_a_dry_run_prints_the_batch_and_the_diff_and_changes_nothing(desk):
    desk.approve(desk.run())
    run_id = desk.run(top={"window_end": "2025-01-07T19:00:00"})
    before = _files(desk), desk.contents()
    result = desk.cli("approve", run_id, "--dry-run")
    assert result.exit_code == 0, result.output
    # the files (a DuckDB warehouse, its lock file, outbox, run folders) and the tables
    assert (_files(desk), desk.contents()) == before
    assert "batch INC-T-B002: 1 payment(s) USD 10.00" in result.stdout
    assert "transaction t2 entered the window" in result.stdout
    assert desk.status(run_id) == "pending_approval"


def test_approve_shows_the_diff_summary_before_it_publishes(desk):
    run_id = desk.run()
    result = desk.cli("approve", run_id, "--by", "alice")
    assert result.exit_code == 0, result.output
    summary = result.stdout.index("2 credits added")
    assert summary < result.stdout.index("batch INC-T-B001")


def test_decreases_stop_approval_until_accepted_and_the_journal_records_it(desk):
    desk.approve(desk.run())
    run_id = desk.run(policy={"flat_minor": {"USD": 600, "EUR": 900}})
    stopped = desk.cli("approve", run_id, "--by", "alice")
    assert stopped.exit_code == 2, stopped.output
    assert "decrease: c1 USD: decreased USD 10.00 -> USD 6.00" in stopped.stdout
    assert "--accept-decreases" in stopped.stderr
    assert desk.status(run_id) == "pending_approval" and len(desk.ledger()) == 2
    dry = desk.cli("approve", run_id, "--dry-run")
    assert dry.exit_code == 2 and "asks for --accept-decreases" in dry.stderr  # as approval
    assert desk.cli("approve", run_id, "--dry-run", "--accept-decreases").exit_code == 0
    accepted = desk.cli("approve", run_id, "--by", "alice", "--accept-decreases")
    assert accepted.exit_code == 0, accepted.output
    assert desk.status(run_id) == "published" and desk.paid()[("c1", "USD")] == 1000
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        approved = [e for e in journal.entries(con, "INC-T") if e.event == "approved"][-1]
    assert approved.detail["accepted_decreases"] == [found.credit_id for found in _diff_lines(desk)]


def test_a_decrease_is_decided_once_not_again_by_each_run_that_keeps_it(desk):
    # Each later run with the same inputs asked for --accept-decreases again and published an
    # empty batch reporting the same decrease: finance would handle one overpayment twice.
    desk.approve(desk.run())
    lower = {"flat_minor": {"USD": 600, "EUR": 900}}
    first = desk.approve(desk.run(policy=lower), accept_decreases=True)
    assert (first.batch_id, first.decreases) == ("INC-T-B002", 1)
    again = desk.approve(desk.run(policy=lower))  # no --accept-decreases needed
    assert (again.status, again.batch_id, again.decreases) == ("published", None, 0)
    up = desk.run(policy={"flat_minor": {"USD": 800, "EUR": 900}})  # still below 10.00 paid
    assert _diff(desk, up).decreases == ()
    assert _changes(_diff(desk, up)) == [("c1", "USD", "decreased", 1000, 800)]  # still shown
    assert desk.approve(up).batch_id is None
    lowest = desk.run(policy={"flat_minor": {"USD": 500, "EUR": 900}})  # a new decrease
    assert [line.customer_id for line in _diff(desk, lowest).decreases] == ["c1"]
    stopped = desk.cli("approve", lowest, "--by", "alice")
    assert stopped.exit_code == 2 and "--accept-decreases" in stopped.stderr
    assert desk.approve(lowest, accept_decreases=True).batch_id == "INC-T-B003"
    raised = desk.approve(desk.run(policy={"flat_minor": {"USD": 1200, "EUR": 900}}))
    assert (raised.batch_id, raised.rows) == ("INC-T-B004", 1)  # a raise above paid: paid
    assert desk.paid()[("c1", "USD")] == 1200


def test_a_paid_account_closed_since_is_one_decrease_not_one_a_run(desk):
    desk.approve(desk.run())
    closed = [customer("c1", status="closed"), customer("c2"), customer("c3")]
    desk.approve(desk.run(customers=closed), accept_decreases=True)
    higher = desk.run(customers=closed, policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    assert _diff(desk, higher).decreases == ()
    decision = desk.approve(higher)  # 5.00 more to pay c1 by hand: no decision to ask for
    assert (decision.decreases, decision.pay_by_hand) == (0, 1)


def _diff_lines(desk) -> list[diffs.Line]:
    rows = desk.query("select credit_id from run_credits where customer_id = 'c1' limit 1")
    return [diffs.Line(rows[0][0], "c1", "USD", "decreased", 1000, 600, ())]


def test_a_run_without_lines_of_its_own_is_refused(desk):
    from transforms.errors import ValidationRejected

    with pytest.raises(ValidationRejected) as rejected:
        desk.run(lines=[*LINES, "garbage"])
    result = desk.cli("diff", rejected.value.summary.run_id)
    assert result.exit_code == 2 and "it did not pass the quality gate" in result.stderr


def _paused_for_approval(desk, path) -> tuple[threading.Thread, dict, object]:
    """A run of `path` started with `wait_for_approval` in a thread, once it is paused: the
    thread, where its summary goes, and its paused flow run."""
    from flows.credit_reconciliation import credit_reconciliation

    result: dict = {}

    def run_waiting() -> None:
        result["summary"] = credit_reconciliation(
            str(path),
            str(desk.root / "out"),
            str(desk.warehouse),
            wait_for_approval=True,
            outbox=str(desk.outbox),
        )

    worker = threading.Thread(target=run_waiting)
    worker.start()
    paused = waiting.paused_for_approval(path, desk.warehouse)
    assert paused, "the flow run never paused for approval"
    return worker, result, paused


def test_the_pause_form_shows_the_decreases_and_takes_the_decision(desk):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.flow_runs import resume_flow_run

    desk.approve(desk.run())
    path = desk.write(policy={"flat_minor": {"USD": 600, "EUR": 900}})
    worker, result, paused = _paused_for_approval(desk, path)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["batch-summary"]))
        )
    shown = [a.data for a in artifacts if a.flow_run_id == paused.id]
    assert shown and "**1 decrease(s)**" in shown[0]
    assert "policy flat\\_minor.USD changed: 1000 \\-\\> 600" in shown[0]
    run_id = shown[0].split("run ", 1)[1].split("\n", 1)[0]
    resume_flow_run(paused.id, run_input={"approve": True, "by": "dora", "accept_decreases": True})
    worker.join(120)
    assert result["summary"].decision == "published" and desk.status(run_id) == "published"
    assert desk.paid()[("c1", "USD")] == 1000


def test_the_pause_form_refuses_a_blank_name_and_asks_again_for_a_decline_without_a_note(desk):
    # Each was taken, and the flow run then failed (its answer used up, the form not offered
    # again, the run left pending with nothing saying what to do).
    from prefect.flow_runs import resume_flow_run

    path = desk.write()
    worker, result, paused = _paused_for_approval(desk, path)
    with pytest.raises(Exception, match="by"):  # refused by the form's schema: still paused
        resume_flow_run(paused.id, run_input={"approve": True, "by": "   "})
    resume_flow_run(paused.id, run_input={"approve": False, "by": "dora"})  # no note
    asked_again = waiting.paused_for_approval(path, desk.warehouse)
    assert asked_again, "the form was not offered again"
    resume_flow_run(asked_again.id, run_input={"approve": False, "by": "dora", "note": "dup"})
    worker.join(120)
    assert result["summary"].decision == "declined"


def test_the_markdown_escapes_what_it_shows():
    line = diffs.Line("x", "*c1*", "USD", "removed", 1000, 0, ("customer [a](b) closed",))
    found = diffs.Diff("INC", "r2", diffs.PUBLISHED, "r1", (line,), (diffs.Total("USD", 1000, 0),))
    text = diff_text.markdown(found)
    assert "\\*c1\\*" in text and "\\[a\\]\\(b\\)" in text and "[a](b)" not in text
    assert "| USD | USD 10.00 | USD 0.00 | -USD 10.00 |" in text


def _first_diff(added: int, removed: int = 0) -> diffs.Diff:
    """A first diff of `added` USD credits of 10.00 (and `removed` EUR credits of 5.00)."""
    lines = [
        diffs.Line(f"k{i}", f"c{i}", "USD", "added", 0, 1000, ("nothing published yet for INC",))
        for i in range(added)
    ]
    lines += [
        diffs.Line(f"r{i}", f"e{i}", "EUR", "removed", 500, 0, (f"customer e{i}'s status: a -> b",))
        for i in range(removed)
    ]
    totals = (diffs.Total("EUR", 500 * removed, 0), diffs.Total("USD", 0, 1000 * added))
    counts = {"credits added": added, "credits removed": removed}
    return diffs.Diff("INC", "r2", diffs.PUBLISHED, None, tuple(lines), totals, counts)


def test_the_summary_counts_and_totals_each_change_and_ranks_the_reasons():
    text = "\n".join(diff_text.summary(_first_diff(added=1200, removed=3)))
    assert "run r2 against what is published (nothing yet): 1,200 credits added" in text
    assert "approving run r2 pays every credit line of the run (1,203 line(s))" in text
    assert "  added      USD    1,200 line(s)  +USD 12,000.00" in text
    assert "  removed    EUR        3 line(s)  -EUR 15.00" in text
    # The ids are left out of a reason's kind: three customers' statuses are one reason.
    reasons = text.split("reasons, most lines first:\n")[1].splitlines()
    assert reasons == [
        "    1,200 line(s): nothing published yet for INC",
        "        3 line(s): a customer's status: a -> b",
    ]


def test_a_later_diff_does_not_say_it_pays_every_line():
    found = _first_diff(added=2)
    later = diffs.Diff("INC", "r2", diffs.PUBLISHED, "r1", found.lines, found.totals, found.counts)
    assert "pays every credit line" not in "\n".join(diff_text.summary(later))
    assert "pays every credit line" in diff_text.markdown(found)


@pytest.mark.parametrize(
    ("every", "shown"), [(False, 20), (True, 45)], ids=["summary-first", "all"]
)
def test_the_terminal_gets_the_first_20_lines_of_each_change_unless_all(capsys, every, shown):
    from flows.cli import diff

    more = commands.credits("diff r2")
    diff.print_diff(_first_diff(added=45, removed=2), every=every, more=more)
    printed = capsys.readouterr().out
    assert printed.count("  added: USD 0.00 -> USD 10.00 (+USD 10.00)") == shown
    # the sign before the money, as the summary's totals show it (it said "(EUR -5.00)")
    assert printed.count("  removed: EUR 5.00 -> EUR 0.00 (-EUR 5.00)") == 2
    hint = f"25 more line(s) not shown. `{more} --all` prints every line; "
    assert (hint in printed) is not every
    assert (f"`{more} --csv FILE` writes every line" in printed) is not every
    assert printed.index("reasons, most lines first") < printed.index("added (")


def test_a_first_diff_and_dry_run_of_many_lines_show_a_summary_and_name_all_and_csv(desk, tmp_path):
    from tests.builders import txn

    ids = [f"t{i:02d}" for i in range(25)]
    run_id = desk.run(
        lines=[failure(t, customer_id=f"c{t}") for t in ids],
        transactions=[txn(t, customer_id=f"c{t}") for t in ids],
    )
    first = desk.cli("diff", run_id)
    assert first.exit_code == 0, first.output
    assert "pays every credit line of the run (25 line(s))" in first.stdout
    assert "added (first 20 of 25):" in first.stdout and first.stdout.count("    because") == 20
    # the commands it names carry the warehouse (and outbox) typed: without them they read
    # another warehouse, the default
    typed = commands.credits(f"diff {run_id} --warehouse {desk.warehouse}")
    assert f"`{typed} --all` prints every line" in first.stdout
    assert f"`{typed} --csv FILE` writes every line" in first.stdout
    assert desk.cli("diff", run_id, "--all").stdout.count("    because") == 25
    exported = tmp_path / "diff.csv"
    written = desk.cli("diff", run_id, "--csv", str(exported))
    assert written.exit_code == 0 and "25 line(s) written to" in written.stderr
    assert len(list(csv.DictReader(io.StringIO(exported.read_text())))) == 25
    assert "because" not in written.stdout  # the summary only: the lines are in the file
    dry = desk.cli("approve", run_id, "--dry-run")
    assert dry.exit_code == 0, dry.output
    dry_run = commands.credits(
        f"approve {run_id} --dry-run --warehouse {desk.warehouse} --outbox {desk.outbox}"
    )
    assert f"and 5 more (`{dry_run} --all`)" in dry.stdout
    assert "pays every credit line of the run" in dry.stdout


def test_a_dry_run_of_a_published_run_names_who_approved_it_when_and_the_batch(desk):
    # It said only "is already published: approving it again does nothing", where the real
    # approval names the decision: who, when on the incident's clocks, and in which batch.
    run_id = desk.run()
    desk.approve(run_id)
    ((by, at, zone, batch_id),) = desk.query(
        "select decided_by, decided_at, timezone, batch_id from runs where run_id = ?", run_id
    )
    result = desk.cli("approve", run_id, "--dry-run")
    assert result.exit_code == 0, result.output
    shown = f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}"
    assert batch_id == "INC-T-B001" and shown.endswith(("EST", "EDT"))
    assert (
        f"run {run_id} was already published: approved by {by} on {shown}, in batch "
        f"{batch_id}; approving it again does nothing" in " ".join(result.output.split())
    ), result.output
