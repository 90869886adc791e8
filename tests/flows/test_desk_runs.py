"""The finance desk's remembered steps (`tests/flows/desk_runs.py`): a restored run or approval
leaves what the real one left, and a test that changed anything a step depends on does it for
real. GX's remembered answers (`tests/flows/conftest.py`) are GX's own, for the worker that
asked and for any other."""

from __future__ import annotations

import shutil
import threading
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests import stores
from tests.flows import desk_runs
from tests.flows.desk import Desk
from tests.flows.desk_runs import DeskRuns
from transforms.errors import InputError

LOWER = {"flat_minor": {"USD": 500, "EUR": 900}}


class Desks:
    """Desks one after the other in the same folder, as the tests of one worker have them,
    each with a warehouse of its own on `store`."""

    def __init__(self, store: str, folder: Path, stack: ExitStack):
        self.store, self.folder, self.stack = store, folder, stack
        self.runs = DeskRuns(folder / "runs")
        self.patches = 0
        self._made = 0
        stack.callback(self.runs.close)

    def new(self) -> Desk:
        self._made += 1
        place = self.folder / f"warehouse-{self._made}"
        place.mkdir()
        location = self.stack.enter_context(stores.location(self.store, place))
        root = self.folder / "desk"
        desk_runs.empty(root)
        desk = Desk(root, location, self.runs, lambda: self.patches)
        self.stack.callback(desk.close)
        return desk


@pytest.fixture
def desks(prefect_harness, gx_answers, warehouse_location, tmp_path):
    """Desks on the store `warehouse_location` is on (each gets a warehouse of its own)."""
    with ExitStack() as stack:
        yield Desks(stores.kind(warehouse_location), tmp_path, stack)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_restored_runs_and_approval_leave_what_the_real_ones_left(desks):
    first = desks.new()
    older, newer = first.run(), first.run(policy=LOWER)
    decision = first.approve(newer)
    left = first.contents(), files(first.root)
    assert desks.runs.hits == 0
    second = desks.new()
    assert (second.run(), second.run(policy=LOWER)) == (older, newer)
    assert second.approve(newer) == decision
    assert desks.runs.hits == 3
    assert (second.contents(), files(second.root)) == left
    assert second.approve(newer).already_decided  # a real step on the restored state
    assert second.paid() == {("c1", "USD"): 500, ("c3", "EUR"): 900}
    # a warehouse changed behind the desk's back between two steps: the next one is real
    third = desks.new()
    assert third.run() == older
    stores.tamper(third.warehouse, "create table note (x integer)")
    assert third.run(policy=LOWER) != newer
    assert desks.runs.hits == 4


@stores.duckdb_only  # what ends a chain besides the warehouse is the same on both stores
def test_a_step_after_a_command_a_refusal_a_hand_made_change_a_patch_or_another_environment_is_real(
    desks, monkeypatch
):
    first = desks.new()
    reference, lower = first.run(), first.run(policy=LOWER)
    first.approve(lower)
    asked = desks.new()
    asked.run()
    assert desks.runs.hits == 1
    asked.cli("runs")
    assert asked.run(policy=LOWER) != lower
    threaded = desks.new()
    threaded.run(), threaded.run(policy=LOWER)
    assert desks.runs.hits == 3
    approval = threading.Thread(target=threaded.approve, args=(lower,))
    approval.start()
    approval.join()
    assert threaded.status(lower) == "published" and desks.runs.hits == 3
    refused = desks.new()
    refused.run()
    with pytest.raises(InputError):
        refused.approve("no-such-run")  # a step that raised: what it did is not known
    assert refused.run(policy=LOWER) != lower
    assert desks.runs.hits == 4
    by_hand = desks.new()
    (by_hand.root / "note.txt").write_text("changed by the test")
    assert by_hand.run() != reference
    monkeypatch.setenv("CREDITS_SOME_SETTING", "on")
    assert desks.new().run() != reference
    monkeypatch.delenv("CREDITS_SOME_SETTING")
    patched = desks.new()
    desks.patches += 1  # after the desk was made, as a test's own patch is
    assert patched.run() != reference
    assert desks.runs.hits == 4


def test_what_a_test_patched_is_read_from_monkeypatch(monkeypatch):
    before = desk_runs.patched(monkeypatch)
    monkeypatch.setattr(shutil, "copy2", shutil.copy2)
    monkeypatch.setenv("CREDITS_SOME_SETTING", "on")
    assert desk_runs.patched(monkeypatch) == (
        *before,
        ("shutil", "copy2"),
        "'CREDITS_SOME_SETTING'",
    )


@pytest.mark.real_gx
def test_a_remembered_gx_answer_is_gx_s_own_in_this_worker_and_the_next(tmp_path):
    from tests import gx_answers
    from tests.expectations.conftest import KEYS, PARAMETERS, VALID_FRAMES
    from transforms.quality import gx_run, suites

    frame = VALID_FRAMES["credits"]()
    frame.loc[0, "credit_amount_minor"] = -5  # broken: an answer with offending rows
    document = suites.load_suite_document("credits")
    keys = [KEYS["credits"]]
    values = suites.expectation_parameters(document, PARAMETERS)
    real = gx_run.clean_gx_result(gx_run.run_suite(document, frame, keys, values), document)
    assert not real["success"]

    asked = []

    def gx(*args):
        asked.append(args)
        return gx_run.run_suite(*args)

    first = gx_answers.remembered(gx, tmp_path)(document, frame, keys, values)
    other = gx_answers.remembered(gx, tmp_path)(document, frame, keys, values)  # another worker's
    assert len(asked) == 1 and len(list(tmp_path.iterdir())) == 1
    for answer in (first, other):
        assert gx_run.clean_gx_result(answer, document) == real
