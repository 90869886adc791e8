"""`credits what-if` against the reference model, on generated incidents: each policy's column is
the `credits.csv` the model says a run with that policy publishes (or the policy cannot apply
where the model's run stops, the gate would reject it, or it reads other failure events)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from tests.reference import model
from tests.reference.incidents import incidents, policies, policy_table, write
from transforms.errors import ConfigError, InputError, ValidationRejected
from transforms.ingest import incident
from transforms.quality import gate
from transforms.reconcile import whatif


def _table_only(txn_id: str, customer: str, amount: int, currency: str) -> dict:
    """A failed outage payment in the table, in the window, without a log line (table_only)."""
    return {
        "txn_id": txn_id,
        "customer_id": customer,
        "amount_minor": amount,
        "currency": currency,
        "status": "failed",
        "error_code": "DB_POOL_TIMEOUT",
        "created_at": datetime(2025, 1, 7, 0, 0, 30, tzinfo=UTC),
    }


# Credits in four currencies (BHD: three digits) under a flat, a percent (floor, cap) and a
# per-transaction policy; generated incidents seldom credit anyone.
CREDITED = model.Incident(
    "2025-01-07T00:00:00",
    "2025-01-07T00:01:00",
    policy=model.Policy(flat_minor={"USD": 1000, "EUR": 900, "JPY": 1500, "BHD": 1000}),
    log_files=(("logs/a.jsonl", b""),),
    transactions=tuple(
        _table_only(f"t{n}", customer, amount, currency)
        for n, (customer, amount, currency) in enumerate(
            [
                ("c1", 1, "USD"),
                ("c1", 12345, "USD"),
                ("c2", 999999, "EUR"),
                ("c10", 7, "JPY"),
                ("C1", 1005, "BHD"),
            ]
        )
    ),
    customers=tuple(
        {
            "customer_id": c,
            "name": c,
            "email": f"{c}@example.com",
            "country": "US",
            "segment": "consumer",
            "status": "active",
        }
        for c in ("c1", "c2", "c10", "C1")
    ),
)
CREDITED_OTHERS = [
    model.Policy(
        basis="percent_of_failed_amount",
        percent=Decimal("12.5"),
        min_minor={"USD": 100, "BHD": 200},
        cap_minor={"EUR": 5000},
    ),
    model.Policy(basis="flat_per_transaction", flat_minor={"USD": 7, "EUR": 1, "JPY": 0, "BHD": 3}),
]


def _credit_lines(credits_csv: str) -> dict[tuple[str, str], int]:
    rows = csv.DictReader(io.StringIO(credits_csv))
    return {(r["customer_id"], r["currency"]): int(r["credit_amount_minor"]) for r in rows}


@settings(max_examples=25)  # cheap: each example reads its logs once for three policies
@given(incidents(), st.lists(policies(), min_size=2, max_size=2))
@example(CREDITED, CREDITED_OTHERS)
# a failure logged in a currency that is no ISO code as written: quarantined, the gate rejects
# every column (the failure would go uncredited under the quarantine limits)
@example(
    dataclasses.replace(
        CREDITED,
        log_files=(
            (
                "logs/a.jsonl",
                b'{"ts": "2025-01-07T00:00:10Z", "event": "payment.failed", "txn_id": "t9", '
                b'"error_code": "DB_POOL_TIMEOUT", "currency": "usd"}\n',
            ),
        ),
    ),
    CREDITED_OTHERS,
)
def test_each_column_is_the_model_s_credit_file_for_that_policy(case, others):
    with tempfile.TemporaryDirectory() as folder:
        try:
            loaded = incident.load(write(case, Path(folder) / "incident"))
        except ConfigError:
            assume(False)  # the incident itself is refused: no what-if either
        candidates = [whatif.Candidate("incident", loaded.path, loaded.policy)]
        models = [case]
        # one policy reads the incident's failure events (so it can apply), one maybe others
        others = [
            dataclasses.replace(others[0], failure_events=case.policy.failure_events),
            *others[1:],
        ]
        for number, policy in enumerate(others):
            path = Path(folder) / f"policy-{number}.toml"
            path.write_text(policy_table(policy), encoding="utf-8")
            candidates.append(whatif.Candidate(path.name, path, incident.load_policy(path)))
            models.append(dataclasses.replace(case, policy=policy))
        work = Path(folder) / "work"
        work.mkdir()
        try:
            found = whatif.compare(
                loaded, candidates, work, gate.candidate_data_problems, gate.empty_tables
            )
        except InputError:  # a log file refused whole (a JSON array of failures): the run too
            assert model.run(case).config_error
            return
        except ValidationRejected as rejected:  # every run of the incident: refused whole
            assert _a_table_without_rows(case), rejected
            event("a table with no row while the logs give candidates")
            return
    assert not _a_table_without_rows(case), "the gate rejects every run: no what-if either"
    for outcome, modelled in zip(found.outcomes, models, strict=True):
        expected = model.run(modelled)
        if modelled.policy.failure_events != case.policy.failure_events:
            event("other failure events")
            assert "policy.failure_events" in outcome.problem
        elif expected.config_error:
            event("a currency without flat_minor")
            assert "policy.flat_minor: no amount for" in outcome.problem
        elif any(e.reason == "unpriced" for e in expected.evidence.values()):
            event("unpriced")
            assert "credited_class_priced" in outcome.problem
        elif any(
            row["status"] not in ("active", "closed")
            and row["customer_id"] in {e.customer_id for e in expected.evidence.values()}
            for row in modelled.customers
        ):
            # a candidate's customer in a status the gate refuses: the run is rejected, and the
            # candidates (so the customers touched) depend on the policy's codes
            event("a touched customer the gate rejects")
            assert "customers: expect_column_values_to_be_in_set(status)" in outcome.problem
        elif _currency_the_gate_refuses(modelled, expected):
            event("a log line quarantined for its currency, which the gate rejects")
            assert "quarantined log line(s)" in outcome.problem
        elif _ids_the_gate_refuses(modelled, expected):
            event("a table id with a hidden character the gate rejects")
            assert "hidden character" in outcome.problem or "written otherwise" in outcome.problem
        else:
            event("priced" if outcome.amounts else "priced, nothing credited")
            assert outcome.applies, outcome.problem
            assert outcome.amounts == _credit_lines(expected.credits_csv)


def _a_table_without_rows(case: model.Incident) -> bool:
    """The transaction or the customer table holds no row while the logs give candidates: the
    gate rejects a run of the incident under any policy (`gate.empty_tables`)."""
    logged = any(e.failure_lines for e in model.run(case).evidence.values())
    return logged and not (case.transactions and case.customers)


def _currency_the_gate_refuses(case: model.Incident, expected: model.Outcome) -> bool:
    """A log line is quarantined for its currency alone (no money on the window's days, or no
    ISO 4217 code as written): the gate rejects the run, a failure in it would be lost."""
    lines = {
        (name, number): text
        for name, data in case.log_files
        for name, number, text in model.file_lines(name, data)
    }
    for name, number in expected.quarantined:
        text = lines[(name, number)]
        if case.line_checks != "all" and not model.failure_capable(text, case.policy):
            continue  # a line the shape check quarantined: never read for its currency
        try:
            fields = json.loads(text, object_pairs_hook=model._Members)
        except (UnicodeDecodeError, ValueError):
            continue
        if not isinstance(fields, dict) or not isinstance(fields.get("currency"), str):
            continue
        if fields.twice & model.CONTRACT_KEYS:
            continue  # quarantined for a key given twice
        without = json.dumps({**fields, "currency": None}).encode()
        if model.check_line((name, number, without), case).fields is not None:
            return True
    return False


def _ids_the_gate_refuses(case: model.Incident, expected: model.Outcome) -> bool:
    """A candidate's table txn_id holds a hidden character, or a table row's txn_id, not a
    candidate's, is one once its hidden characters are removed (the gate rejects either)."""
    candidates = set(expected.evidence)
    for row in case.transactions:
        txn_id = row["txn_id"].strip(model.ASCII_SPACE)
        visible = "".join(c for c in txn_id if not model._hidden_character(c))
        if visible != txn_id and (txn_id in candidates or visible in candidates):
            return True
    return False
