"""Proof that each run the warehouse holds as pending or decided is what the journal says.

`check_runs` finds, each as a sentence naming the run: a pending run without the pipeline's
`validated` entry (a row written by hand) or with other totals than it journaled; a decided run
whose status, decider, time, note (a decline's reason) or batch is not the decision the journal
records; a run whose start time is not its `started` entry (the newest run supersedes the
others); a run, pending or decided, whose manifest in the warehouse is not the one its seal's
journal entry (`validated` or `rejected`) recorded (`manifest_sha256`: the copy approvals, `diff`
and support read), or whose columns loaded from that manifest (its incident, time zone, window,
policy, finish) are no longer the manifest's. `missing_runs` finds the runs the journal sealed or
decided that the warehouse no longer holds. `proof.check` runs both with the other checks of the
warehouse. `check_folders` finds, for `credits audit --verify`, each sealed run's folder this
machine reaches whose manifest.json or outputs changed since the seal; `misplaced`, a decision
kept in a folder that is not its run's (a run folder copied under another incident), which
`require_no_copies` refuses for a decline as `proof.require` does for an approval.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from transforms import commands
from transforms.errors import InputError, ProofFailed
from transforms.finance import approval, chain, journal, outbox_head
from transforms.finance.rows import RunRow
from transforms.runfolder.manifest_model import Manifest
from transforms.runfolder.runs import RunStatus

DECISIONS = ("approved", "declined")  # the journal's events of finance's decision on a run
SEALS = ("validated", "rejected")  # the pipeline's entry of a sealed run


def manifest_sha256(text: str) -> str:
    """The sha256 of a run's manifest as the warehouse holds it: of its canonical JSON (the
    stores write the same value in other spacing), of the text itself when it is no JSON."""
    try:
        canonical = chain.canonical(chain.parsed(text))
    except (ValueError, TypeError):
        canonical = str(text)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_runs(runs: Iterable[RunRow], entries: Iterable[journal.Entry]) -> list[str]:
    """Each pending or decided run against the journal: the pipeline journaled a pending run
    `validated`, with the totals its manifest records, and finance's decisions are those the
    journal records."""
    by_run: dict[str, list[journal.Entry]] = defaultdict(list)
    for entry in entries:
        if entry.run_id:
            by_run[entry.run_id].append(entry)
    problems = []
    for run in runs:
        entries = by_run.get(run.run_id, [])
        decided = [e for e in entries if e.event in DECISIONS]
        name = f"run {run.run_id}"
        started = [e for e in entries if e.event == "started"]
        if started and run.started_at != started[0].at:  # it decides which run supersedes
            problems.append(
                f"{name}: started at {run.started_at} in the warehouse, but journal entry "
                f"{started[0].seq} records {started[0].at}: edited since (the newest run "
                "supersedes the others)"
            )
        sealed = [e for e in entries if e.event in SEALS and "manifest_sha256" in e.detail]
        if sealed and manifest_sha256(run.manifest) != sealed[-1].detail["manifest_sha256"]:
            problems.append(  # a seal journaled before the hash was recorded has none to check
                f"{name}: its manifest in the warehouse is not the one journal entry "
                f"{sealed[-1].seq} recorded when the run was sealed: edited since"
            )
        elif sealed:
            problems += _record_edits(name, run)
        if sealed and sealed[-1].detail.get("run_folder", str(run.run_folder)) != str(
            run.run_folder
        ):  # its decision.json would be looked for elsewhere (a seal before this has none)
            problems.append(
                f"{name}: its folder in the warehouse is {run.run_folder}, not the folder "
                f"{sealed[-1].detail['run_folder']} journal entry {sealed[-1].seq} recorded when "
                "the run was sealed: edited since (the decision kept in its folder is not read)"
            )
        if run.status == RunStatus.PENDING_APPROVAL:
            validated = [e for e in entries if e.event == "validated"]
            if not validated:
                problems.append(
                    f"{name}: pending approval in the warehouse, but the journal never recorded "
                    "it validated: no run of the pipeline sealed it (its row was written by hand)"
                )
            elif _nonzero(validated[-1].detail.get("totals_minor")) != _nonzero(
                _recorded_totals(run)
            ):
                problems.append(
                    f"{name}: its sealed manifest's totals are not those the journal recorded "
                    f"when it was validated (journal entry {validated[-1].seq}): changed since"
                )
        if decided and run.status in (
            RunStatus.PENDING_APPROVAL,
            RunStatus.DECLINED,
            RunStatus.PUBLISHED,
        ):
            last = decided[-1]
            said = RunStatus.DECLINED if last.event == "declined" else RunStatus.PUBLISHED
            if run.status != said:
                problems.append(
                    f"{name}: {run.status} in the warehouse, but journal entry {last.seq} "
                    f"records it {last.event} by {last.actor}: its status was set back"
                )
            elif run.decided_by != last.actor:
                problems.append(
                    f"{name}: {last.event} by {run.decided_by} in the warehouse, but journal "
                    f"entry {last.seq} records it {last.event} by {last.actor}: edited since"
                )
            else:
                problems += _decision_edits(name, run, last, entries)
    return problems


def missing_runs(
    runs: Iterable[RunRow], entries: Iterable[journal.Entry], incident_ids: frozenset[str] | None
) -> list[str]:
    """Each run of `incident_ids` (None: all) that the journal records sealed or decided but the
    warehouse does not hold: no command deletes a run (a run stopped before its load has only
    its `started` entry)."""
    held = {run.run_id for run in runs}
    recorded: dict[str, list[journal.Entry]] = defaultdict(list)
    for entry in entries:
        if (
            entry.event in (*SEALS, *DECISIONS, "published")
            and entry.run_id
            and entry.run_id not in held
            and (incident_ids is None or entry.incident_id in incident_ids)
        ):
            recorded[entry.run_id].append(entry)
    return [
        f"run {run_id}: journal entries {', '.join(str(e.seq) for e in found)} record it "
        f"({', '.join(e.event for e in found)}); the warehouse has no such run: its row was "
        "deleted, or moved to another incident"
        for run_id, found in sorted(recorded.items())
    ]


def _record_edits(name: str, run: RunRow) -> list[str]:
    """The run's columns its load took from its manifest, against that manifest (proved by the
    seal's journal entry): a run moved to another incident was approved against that incident's
    ledger, which had not paid its credits; a time zone no zone database knows stopped every
    command that shows the run; a policy version edited went into its batch's trailer."""
    try:
        manifest = Manifest.parse(run.manifest)
    except ValueError:  # proved by its seal, yet no manifest: approval names it (`approval`)
        return []
    sealed = {
        "incident_id": manifest.incident.id,
        "incident_title": manifest.incident.title,
        "timezone": manifest.incident.timezone,
        "window_start_utc": datetime.fromisoformat(manifest.window.start_utc),
        "window_end_utc": datetime.fromisoformat(manifest.window.end_utc),
        "policy_version": manifest.policy.version,
        "policy_sha256": manifest.policy.sha256,
        "finished_at": datetime.fromisoformat(manifest.finished_at),
    }
    return [
        f"{name}: its {column} in the warehouse is {_shown(getattr(run, column))}, not its "
        f"sealed manifest's {_shown(value)}: edited since"
        for column, value in sealed.items()
        if getattr(run, column) != value
    ]


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else chain.quoted(value)


def _decision_edits(
    name: str, run: RunRow, last: journal.Entry, entries: list[journal.Entry]
) -> list[str]:
    """A decided run's note (the approval's note, the decline's reason), time and batch as the
    warehouse has them, against the journal's entries of that decision."""
    said_note = last.detail.get("reason" if last.event == "declined" else "note") or ""
    edits = []
    if (run.decision_note or "") != said_note:
        note = chain.quoted(run.decision_note or "")
        edits.append(f"its note {note}, not {chain.quoted(said_note)}")
    if run.decided_at is None or run.decided_at != last.at:
        edits.append(f"its time {run.decided_at}, not {last.at}")
    if last.event == "approved":
        published = [e for e in entries if e.event == "published" and e.seq > last.seq]
        said_batch = published[0].detail.get("batch_id") if published else None
        if run.batch_id != said_batch:
            edits.append(f"its batch {run.batch_id}, not {said_batch}")
    if not edits:
        return []
    return [
        f"{name}: its decision in the warehouse differs from journal entry {last.seq} "
        f"({last.event} by {last.actor}): {'; '.join(edits)}: edited since"
    ]


def _recorded_totals(run: RunRow) -> Any:
    """The totals of the run's recorded manifest, read leniently: a copy that no longer parses
    as a manifest is approval's to name (`approval.recorded_manifest`), not a tamper here."""
    try:
        return chain.parsed(run.manifest).get("totals_minor")
    except (ValueError, TypeError, AttributeError):
        return None


def _nonzero(totals: Any) -> dict[str, Any]:
    return {c: t for c, t in totals.items() if t} if isinstance(totals, dict) else {}


def unreached(runs: Iterable[RunRow]) -> list[str]:
    """The output folders holding run folders this machine does not reach, each as what was
    not checked: the decisions kept there (`outbox_head.RUN_FILE`), which name a warehouse
    restored from an older backup. Machines that share the warehouse may each write runs into
    an output folder of their own."""
    gone: dict[Path, list[str]] = defaultdict(list)
    for run in runs:
        if not run.run_folder.is_dir():
            gone[run.run_folder.parent.parent].append(run.run_id)
    return [
        f"{output}: the folders of {len(ids)} run(s) ({', '.join(sorted(ids)[:3])}"
        f"{', ...' if len(ids) > 3 else ''}) are not reachable from this machine (another "
        f"machine's output folder, or removed): the decisions kept there ({outbox_head.RUN_FILE})"
        " were not checked against the journal; run "
        f"`{commands.credits('audit --verify')}` where they are"
        for output, ids in sorted(gone.items())
    ]


def check_folders(runs: Iterable[RunRow]) -> tuple[list[str], list[str]]:
    """Each sealed run (pending, decided or rejected) whose folder this machine reaches, against
    the manifest the warehouse recorded (`approval.folder_changes`): what finance reviewed (its
    credits.csv, exceptions.csv) and the evidence behind each line, edited, replaced or removed
    since, even after the run was decided. Returns the changes found and the runs not checked:
    a manifest.json this login may not read (another machine's login wrote it). A run stopped
    while sealing has no sealed folder; one out of reach is `unreached`'s."""
    changed, unread = [], []
    for run in runs:
        if run.status == RunStatus.SEALING or not run.run_folder.is_dir():
            continue
        manifest = run.run_folder / "manifest.json"
        if manifest.is_file() and not os.access(manifest, os.R_OK):
            unread.append(
                f"run {run.run_id}: {manifest}: this login may not read it: its folder was not "
                "checked against the manifest the warehouse recorded"
            )
            continue
        try:
            approval.recorded_manifest(run)
        except InputError:  # the warehouse's copy is no manifest: `check_runs` names it
            continue
        changed += [f"run {run.run_id}: {change}" for change in approval.folder_changes(run)]
    return changed, unread


def check_rows(con, runs: Iterable[RunRow]) -> list[str]:
    """Each pending or published run whose rows in the warehouse are not those its recorded
    manifest sealed (`approval.require_record_as_sealed`, `require_exceptions_as_sealed`): its
    credit lines (what approving pays, what support tells a customer) and its exceptions (what a
    batch lists to pay by hand), written again as its credits.csv and exceptions.csv. An
    approval checks its own run so; this is for `credits audit --verify`, which said every chain
    was intact over a run whose rows were edited."""
    found = []
    for run in runs:
        if run.status not in (RunStatus.PENDING_APPROVAL, RunStatus.PUBLISHED):
            continue
        try:
            sealed = approval.recorded_manifest(run).outputs
        except InputError:  # the warehouse's copy is no manifest: `check_runs` names it
            continue
        for name, require in (
            ("credits.csv", approval.require_record_as_sealed),
            ("exceptions.csv", approval.require_exceptions_as_sealed),
        ):
            if name not in sealed:  # an approval names it (`approval.require_sealed`)
                continue
            try:
                require(con, run)
            except ProofFailed as failed:
                said = str(failed).split("\n", 1)[0].removesuffix(": nothing was paid")
                found.append(f"{said}: {'; '.join(failed.findings)}")
    return found


def misplaced(kept: dict[Path, Any], entries: Iterable[journal.Entry]) -> dict[Path, str]:
    """Each decision kept (`outbox_head.runs_kept`) that the journal holds but that lies in a
    folder other than its run's own, as a finding: a decision is written only into its run's
    folder, so this is a run folder copied or moved under another incident (or another run's
    name), which finance may take for a run of that one."""
    by_seq = {e.seq: e for e in entries}
    found = {}
    for path, head in sorted(kept.items()):
        held = by_seq.get(head.seq) if isinstance(head, outbox_head.Head) else None
        if held is None or held.hash != head.hash:  # not held: `outbox_head.check_runs`
            continue
        own = (f"incident={held.incident_id}", f"run={held.run_id}")
        if (path.parent.parent.name, path.parent.name) != own:
            found[path] = (
                f"{path} records {head.named()}, a decision on run {held.run_id} of incident "
                f"{held.incident_id}, but lies in {path.parent}: a copy of that run's folder "
                f"(or the folder moved) under another incident or name; remove it (the run's "
                f"own folder is {'/'.join(own)})"
            )
    return found


def require_no_copies(con, run: RunRow) -> None:
    """Refuses (`ProofFailed`, exit 3) a decision on `run` while a folder beside its own holds a
    copy of a decided run's folder (`misplaced`), naming the copy as an approval does: a
    decline read it as its incident's journal head missing, or went on."""
    copies = misplaced(outbox_head.runs_kept([run.run_folder]), journal.entries(con))
    if copies:
        raise ProofFailed(
            f"a run folder beside run {run.run_id}'s is a copy of another run's: nothing was "
            "written",
            list(copies.values()),
        )
