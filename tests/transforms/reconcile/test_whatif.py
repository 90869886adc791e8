"""`whatif`: several policies priced from one staging; each column is what a run would publish."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests import golden_incident
from tests.builders import (
    customer,
    failure,
    policy_file,
    reconcile_incident,
    txn,
    with_policy,
    write_incident,
)
from transforms.errors import ConfigError, ValidationRejected
from transforms.ingest import incident, logs, tables
from transforms.ingest.rates import Rates
from transforms.quality import gate
from transforms.reconcile import classes, outputs, whatif

GOLDEN = Path(__file__).parents[2] / "golden"

# Policies for the golden incident (every class, rule and exception), each priced by the what-if
# and by a run with it in the incident file.
GOLDEN_POLICIES = {
    # a share of what failed, a floor and a cap in one currency
    "percent.toml": dict(
        version="pct",
        basis="percent_of_failed_amount",
        percent=Decimal("12.5"),
        min_minor={"USD": 400},
        cap_minor={"USD": 450, "EUR": 300},
    ),
    # flat per transaction, recovered payments not credited, no segment excluded
    "per_txn.toml": dict(
        version="txn",
        basis="flat_per_transaction",
        flat_minor={"USD": 700, "EUR": 600, "JPY": 900},
        credit_recovered=False,
        exclude_segments=[],
    ),
    # fewer outage codes and no table-only credits: the candidates classed again
    "narrow.toml": dict(
        version="narrow",
        flat_minor={"USD": 1000, "EUR": 900, "JPY": 1500},
        outage_error_codes=["DB_POOL_TIMEOUT"],
        credit_table_only=False,
    ),
}


# A share of what failed, floored and capped in each of the sample's currencies.
SAMPLE_PERCENT = dict(
    version="pct10",
    basis="percent_of_failed_amount",
    percent=10,
    min_minor={"USD": 500, "EUR": 500, "GBP": 400, "JPY": 750},
    cap_minor={"USD": 5000, "EUR": 5000, "GBP": 4000, "JPY": 7500},
)


def credit_file(path: Path, work: Path) -> list[dict[str, str]]:
    """The credits.csv a run of the incident file `path` publishes (the flow's transforms)."""
    con = reconcile_incident(path, work)
    out = work / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, out)
    con.close()
    with open(out, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def what_if(path: Path, *policy_files: Path, work: Path) -> whatif.WhatIf:
    loaded = incident.load(path)
    candidates = [whatif.Candidate("incident", loaded.path, loaded.policy)]
    candidates += [whatif.Candidate(p.name, p, incident.load_policy(p)) for p in policy_files]
    work.mkdir()
    return whatif.compare(loaded, candidates, work, gate.candidate_data_problems, gate.empty_tables)


def assert_column_is_the_credit_file(
    found: whatif.WhatIf, index: int, published: list[dict[str, str]]
) -> None:
    """The outcome's lines, amounts and the export's decimal text are the credit file's."""
    outcome = found.outcomes[index]
    assert outcome.applies, outcome.problem
    assert outcome.amounts == {
        (row["customer_id"], row["currency"]): int(row["credit_amount_minor"]) for row in published
    }
    columns, rows = whatif.export_rows(found)
    label = outcome.candidate.label
    exported = {(r["customer_id"], r["currency"]): r[label] for r in rows if r[label]}
    assert exported == {(r["customer_id"], r["currency"]): r["credit_amount"] for r in published}
    for figures in outcome.currencies:
        assert figures.total_minor == sum(
            int(r["credit_amount_minor"]) for r in published if r["currency"] == figures.currency
        )


def test_each_golden_column_is_the_credit_file_a_run_with_that_policy_publishes(tmp_path):
    path = golden_incident.write(tmp_path / "inc")
    files = [policy_file(tmp_path, name, **p) for name, p in GOLDEN_POLICIES.items()]
    found = what_if(path, *files, work=tmp_path / "what-if")
    # the incident's own policy: the golden credit file itself
    with open(GOLDEN / "credits.csv", encoding="utf-8", newline="") as handle:
        assert_column_is_the_credit_file(found, 0, list(csv.DictReader(handle)))
    for index, file in enumerate(files, start=1):
        copy = with_policy(path, f"run-{file.stem}.toml", file)
        published = credit_file(copy, tmp_path / f"run-{file.stem}")
        assert_column_is_the_credit_file(found, index, published)
    # the policies differ, so the comparison is not empty: t02 (recovered) gone, c8 kept
    assert found.outcomes[2].amounts[("c1", "USD")] == 700  # t01 only
    assert found.credited_not(0, 3) == {"c2", "c4"}  # DB_CONN_REFUSED (c2), table_only (c4)


def test_on_the_sample_each_column_is_the_credit_file_a_run_publishes(sample_incident, tmp_path):
    folder = tmp_path / "sample"
    shutil.copytree(sample_incident.parent, folder)  # the session's sample stays as it is
    path = folder / sample_incident.name
    files = [
        policy_file(tmp_path, "percent.toml", **SAMPLE_PERCENT),
        policy_file(
            tmp_path,
            "per_txn.toml",
            basis="flat_per_transaction",
            flat_minor={"USD": 500, "EUR": 500, "GBP": 400, "JPY": 700},
            credit_recovered=False,
        ),
    ]
    found = what_if(path, *files, work=tmp_path / "what-if")
    for index, file in enumerate([None, *files]):
        copy = path if file is None else with_policy(path, f"run-{file.stem}.toml", file)
        published = credit_file(copy, tmp_path / f"run-{index}")
        assert_column_is_the_credit_file(found, index, published)
    assert found.outcomes[1].floor_lifted > 0 and found.outcomes[1].cap_cut > 0
    assert found.credited_not(0, 2)  # recovered payments alone: credited, then nothing


def test_a_policy_without_an_amount_is_named_with_the_run_s_message_and_the_others_come_out(
    tmp_path,
):
    path = golden_incident.write(tmp_path / "inc")
    usd_only = policy_file(tmp_path, "usd_only.toml", version="usd", flat_minor={"USD": 1000})
    percent = policy_file(tmp_path, "percent.toml", **GOLDEN_POLICIES["percent.toml"])
    found = what_if(path, usd_only, percent, work=tmp_path / "what-if")
    refused = found.outcomes[1]
    copy = with_policy(path, "run-usd.toml", usd_only)
    with pytest.raises(ConfigError) as raised:
        reconcile_incident(copy, tmp_path / "run-usd")
    # the run's own message, naming the policy's file instead of the incident file
    assert refused.problem == str(raised.value).replace(str(copy), str(usd_only.resolve()))
    assert "policy.flat_minor: no amount for EUR, JPY" in refused.problem
    assert not refused.applies and refused.amounts == {} and found.credited_not(0, 1) is None
    assert found.outcomes[0].applies and found.outcomes[2].applies


def test_other_failure_events_cannot_apply_the_logs_being_read_once(tmp_path):
    path = golden_incident.write(tmp_path / "inc")
    other = policy_file(
        tmp_path, "events.toml", flat_minor={"USD": 1}, failure_events=["charge.error"]
    )
    found = what_if(path, other, work=tmp_path / "what-if")
    assert found.outcomes[1].problem.startswith(f"{other.resolve()}: policy.failure_events:")
    assert found.outcomes[0].applies


def test_the_same_failure_events_in_another_order_or_repeated_apply(tmp_path):
    path = golden_incident.write(tmp_path / "inc")
    same = policy_file(
        tmp_path,
        "same.toml",
        flat_minor={"USD": 1000, "EUR": 900, "JPY": 1500},
        failure_events=["payment.failed", "payment.failed"],
    )
    found = what_if(path, same, work=tmp_path / "what-if")
    assert found.outcomes[1].applies, found.outcomes[1].problem


@pytest.mark.parametrize(
    ("transactions", "customers", "named"),
    [
        ([], None, "the transaction table (transactions.parquet) holds no row, while the logs "),
        ([txn("t1")], [], "the customer table (customers.parquet) holds no row, while the logs "),
    ],
    ids=["no-transaction-row", "no-customer-row"],
)
def test_a_table_cut_to_its_header_refuses_the_what_if_as_the_gate_rejects_the_run(
    tmp_path, transactions, customers, named
):
    # A header-only table: the run is rejected (exit 3), the what-if showed every policy's
    # credits as if they would be paid.
    path = write_incident(
        tmp_path / "inc", lines=[failure("t1")], transactions=transactions, customers=customers
    )
    with pytest.raises(ValidationRejected) as refused:
        what_if(path, work=tmp_path / "what-if")
    assert refused.value.exit_code == 3
    assert str(refused.value).startswith(
        f"{path.resolve()}: a run of this incident would be rejected by the quality gate: "
        f"inputs: {named}give 1 candidate transaction(s)"
    ), str(refused.value)


def test_a_policy_that_cannot_price_a_credited_line_is_refused_as_the_gate_would(tmp_path):
    # t2's currency is no ISO currency: no policy has an amount for it, and the gate rejects
    lines = [failure("t1"), failure("t2")]
    transactions = [txn("t1"), txn("t2", customer_id="c2", currency="ZZZ")]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=transactions)
    found = what_if(path, work=tmp_path / "what-if")
    assert "1 credited transaction(s) the policy cannot price" in found.outcomes[0].problem
    assert "credited_class_priced" in found.outcomes[0].problem
    excluded = policy_file(tmp_path, "p.toml", flat_minor={"USD": 1}, exclude_segments=[])
    found = what_if(path, excluded, work=tmp_path / "what-if-2")
    assert not found.outcomes[1].applies


def test_a_policy_that_credits_a_payment_without_an_amount_is_refused_as_the_gate_would(
    tmp_path,
):
    # t2 has no amount: a flat policy prices it, but the gate rejects a run crediting it
    # (evidence credited_has_amount); the what-if showed the column as paid. A policy that does
    # not credit it (no table-only credits) applies, as its run passes.
    transactions = [txn("t1"), txn("t2", customer_id="c2", amount_minor=None)]
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=transactions)
    not_table_only = policy_file(
        tmp_path, "p.toml", flat_minor={"USD": 1000}, credit_table_only=False
    )
    found = what_if(path, not_table_only, work=tmp_path / "what-if")
    assert found.outcomes[0].problem == (
        f"{path.resolve()}: the quality gate would reject the run: 1 credited transaction(s) "
        "without an amount (e.g. t2; expectation credited_has_amount)"
    )
    assert found.outcomes[1].amounts == {("c1", "USD"): 1000}


def test_a_percent_policy_owing_a_closed_account_an_unknown_amount_is_refused(tmp_path):
    # c2 is closed and t2 has no amount: a percent of it is for finance to pay by hand, unknown
    transactions = [txn("t1"), txn("t2", customer_id="c2", amount_minor=None)]
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1")],
        transactions=transactions,
        customers=[customer("c1"), customer("c2", status="closed")],
    )
    percent = policy_file(tmp_path, "p.toml", basis="percent_of_failed_amount", percent=10)
    found = what_if(path, percent, work=tmp_path / "what-if")
    assert found.outcomes[0].applies  # flat: 10.00 owed by hand, whatever the amount
    assert "1 credited transaction(s) the policy cannot price" in found.outcomes[1].problem


def test_a_policy_the_gate_would_reject_for_its_codes_is_refused_as_the_gate_would(tmp_path):
    # Outage codes in another case than the table's: an ordinary column (money never paid),
    # where the run under that policy exits 3 ("an outage code written otherwise").
    lines = [failure("t1")]
    transactions = [txn("t1"), txn("t2", customer_id="c2")]  # t2: table-only, DB_POOL_TIMEOUT
    path = write_incident(tmp_path / "inc", lines=lines, transactions=transactions)
    folded = policy_file(
        tmp_path, "folded.toml", flat_minor={"USD": 1000}, outage_error_codes=["Db_Pool_Timeout"]
    )
    found = what_if(path, folded, work=tmp_path / "what-if")
    assert found.outcomes[0].applies
    assert found.outcomes[1].problem.startswith(
        f"{folded.resolve()}: the quality gate would reject the run: 2 failed transaction(s) "
        "inside the window carry an outage code written otherwise"
    )


def test_every_policy_of_a_classing_the_gate_would_reject_is_refused(tmp_path):
    # t2's code is the incident's in another case: its policy is rejected, and so is the next
    # policy of the same codes, priced on the same connection (it found the first's check
    # still open there: the what-if stopped with an internal error, exit 1)
    lines = [failure("t1")]
    transactions = [txn("t1"), txn("t2", customer_id="c2", error_code="db_pool_timeout")]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=transactions)
    same_codes = policy_file(tmp_path, "same.toml", flat_minor={"USD": 500})
    found = what_if(path, same_codes, work=tmp_path / "what-if")
    for outcome in found.outcomes:
        assert "carry an outage code written otherwise" in outcome.problem


def test_floor_cap_percentiles_and_exceptions_of_one_policy(tmp_path):
    amounts = {"c1": 100, "c2": 1000, "c3": 5000, "c4": 20000, "c5": 100000}
    path = write_incident(
        tmp_path / "inc",
        lines=[failure(f"t{c}") for c in amounts] + [failure("tx", code="RISK_REVIEW")],
        transactions=[txn(f"t{c}", customer_id=c, amount_minor=a) for c, a in amounts.items()],
    )
    percent = policy_file(
        tmp_path,
        "p.toml",
        basis="percent_of_failed_amount",
        percent=10,
        min_minor={"USD": 50},  # lifts c1 (10 -> 50)
        cap_minor={"USD": 5000},  # cuts c5 (10000 -> 5000)
    )
    outcome = what_if(path, percent, work=tmp_path / "what-if").outcomes[1]
    assert sorted(outcome.amounts.values()) == [50, 100, 500, 2000, 5000]
    (usd,) = outcome.currencies
    assert usd == whatif.CurrencyFigures("USD", 5, 7650, median_minor=500, p95_minor=5000)
    assert (outcome.floor_lifted, outcome.cap_cut) == (1, 1)
    assert outcome.exceptions == {"unknown_error_code": 1}


def test_who_gains_and_loses_between_policies(tmp_path):
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1"), failure("t2"), failure("t3")],
        transactions=[txn("t1", "c1"), txn("t2", "c2"), txn("t3", "c3", currency="EUR")],
        customers=[customer("c1"), customer("c2", segment="business"), customer("c3")],
    )
    no_business = policy_file(
        tmp_path, "nb.toml", flat_minor={"USD": 1, "EUR": 1}, exclude_segments=["business"]
    )
    usd = policy_file(tmp_path, "usd.toml", flat_minor={"USD": 1, "EUR": 0})  # EUR rounds to 0
    found = what_if(path, no_business, usd, work=tmp_path / "what-if")
    assert found.outcomes[0].customers == {"c1", "c2", "c3"}
    assert found.credited_not(0, 1) == {"c2"}  # credited, then nothing
    assert found.credited_not(1, 0) == frozenset()  # the negative case
    assert found.credited_not(0, 2) == {"c3"}
    assert found.credited_elsewhere(1) == {"c2"}
    assert found.credited_elsewhere(2) == {"c3"}
    assert found.credited_elsewhere(0) == frozenset()
    assert found.outcomes[2].exceptions == {"zero_credit": 1}


def test_the_logs_and_tables_are_staged_once_and_classes_made_once_per_class_rule(
    tmp_path, monkeypatch
):
    calls = {"logs": 0, "tables": 0, "classes": 0}

    def counted(name, function):
        def call(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(logs, "stage", counted("logs", logs.stage))
    monkeypatch.setattr(tables, "stage", counted("tables", tables.stage))
    monkeypatch.setattr(classes, "assign_classes", counted("classes", classes.assign_classes))
    path = golden_incident.write(tmp_path / "inc")
    files = [policy_file(tmp_path, name, **p) for name, p in GOLDEN_POLICIES.items()]
    found = what_if(path, *files, work=tmp_path / "what-if")
    assert all(o.applies for o in found.outcomes)
    # the incident's rules (shared by percent.toml), per_txn's flag, narrow's codes and flag
    assert calls == {"logs": 1, "tables": 1, "classes": 3}


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([7], 50, 7),  # one value is every percentile
        ([7], 95, 7),
        ([1, 2, 3, 4], 50, 2),  # rank ceil(2) = 2: the lower middle, an amount someone gets
        ([1, 2, 3, 4, 5], 50, 3),
        (list(range(1, 21)), 95, 19),  # rank ceil(19) = 19
        (list(range(1, 22)), 95, 20),  # rank ceil(19.95) = 20
    ],
)
def test_percentiles_are_by_nearest_rank(values, percent, expected):
    assert whatif.nearest_rank(values, percent) == expected


def _outcome(label: str, **totals: int) -> whatif.Outcome:
    figures = tuple(whatif.CurrencyFigures(c, 1, t, t, t) for c, t in sorted(totals.items()))
    return whatif.Outcome(whatif.Candidate(label, Path(label), None), currencies=figures)  # type: ignore[arg-type]


def test_totals_in_a_reporting_currency_convert_each_currency_total_once_half_up():
    found = whatif.WhatIf(
        None,  # type: ignore[arg-type]
        (
            _outcome("a", USD=1000, EUR=1234, JPY=1500),
            whatif.Outcome(whatif.Candidate("b", Path("b"), None), problem="no"),  # type: ignore[arg-type]
        ),
    )
    rates = Rates(Path("r.toml"), "USD", {"EUR": Decimal("1.0825"), "JPY": Decimal("0.0064")})
    # 12.34 EUR = 13.35805 USD -> 1336; 1500 JPY = 9.60 USD -> 960
    assert whatif.reported_totals(found, rates) == (1000 + 1336 + 960, None)


def test_a_currency_without_a_rate_stops_naming_the_rates_file_and_key():
    found = whatif.WhatIf(None, (_outcome("a", USD=1, GBP=1, EUR=1),))  # type: ignore[arg-type]
    rates = Rates(Path("/x/r.toml"), "USD", {"GBP": Decimal("1.25")})
    with pytest.raises(ConfigError, match=r"^/x/r.toml: rates.EUR: no rate for EUR"):
        whatif.reported_totals(found, rates)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        # 10^18 EUR cents at 1.0825: 1.0825 x 10^18 USD cents, a sound rate, a total too large
        ("1.0825", whatif.TooLarge("USD", "EUR")),
        ("1e308", whatif.TooLarge("USD", "EUR")),  # a rate no currency has: its rate is named
        ("0.9", 9 * 10**17 + 1),  # 0.9 x 10^18 cents, plus the USD line: shown (was refused)
    ],
)
def test_a_total_above_the_largest_is_too_large_to_show_not_a_wrong_rate(rate, expected):
    found = whatif.WhatIf(None, (_outcome("a", USD=1, EUR=10**18),))  # type: ignore[arg-type]
    rates = Rates(Path("/x/r.toml"), "USD", {"EUR": Decimal(rate)})
    assert whatif.reported_totals(found, rates) == (expected,)


def test_too_large_names_the_limit_and_the_rate_likeliest_the_wrong_way_round():
    message = whatif.TooLarge("USD", "JPY").message
    assert "total in USD" in message and "1,000,000,000,000,000,000 minor units of USD" in message
    # it said nothing of the rates: JPY entered as 150 (JPY per USD) for 0.0067 is the usual slip
    assert "is rates.JPY units of USD per one JPY?" in message
    # the reporting currency's own credits came to it: no rate to name
    assert "rate" not in whatif.TooLarge("USD").message


def test_too_large_names_the_currency_whose_rate_made_the_most_of_it():
    found = whatif.WhatIf(None, (_outcome("a", EUR=10, JPY=10**18),))  # type: ignore[arg-type]
    rates = Rates(Path("/x/r.toml"), "USD", {"EUR": Decimal("1.08"), "JPY": Decimal("150")})
    assert whatif.reported_totals(found, rates) == (whatif.TooLarge("USD", "JPY"),)


def _new_code_too(tmp_path: Path) -> Path:
    """A policy whose outage codes add NEW_CODE, which the incident's own policy leaves out."""
    return policy_file(
        tmp_path,
        "wider.toml",
        flat_minor={"USD": 1000},
        outage_error_codes=["DB_POOL_TIMEOUT", "NEW_CODE"],
    )


@pytest.mark.parametrize(
    ("row", "customers", "rejected"),
    [
        # t2's amount is 0: a run whose codes make it a candidate is rejected for the row
        (
            txn("t2", customer_id="c2", amount_minor=0, error_code="NEW_CODE"),
            None,
            "(amount_minor)",
        ),
        # t2's customer is in a status the gate refuses, once t2 is a candidate
        (
            txn("t2", customer_id="c2", error_code="NEW_CODE"),
            [customer("c1"), customer("c2", status="suspended")],
            "customers: expect_column_values_to_be_in_set(status)",
        ),
    ],
)
def test_a_policy_whose_codes_bring_in_a_table_row_the_gate_rejects_cannot_apply(
    tmp_path, row, customers, rejected
):
    lines = [failure("t1"), failure("t1\u00e9", customer_id="c1", amount_minor=5, currency="USD")]
    path = write_incident(
        tmp_path / "inc", lines=lines, transactions=[txn("t1"), row], customers=customers
    )
    wider = _new_code_too(tmp_path)
    found = what_if(path, wider, work=tmp_path / "what-if")
    assert found.outcomes[0].amounts == {("c1", "USD"): 1000}  # the row is no candidate: passes
    assert "the quality gate would reject the run: " in found.outcomes[1].problem
    assert rejected in found.outcomes[1].problem


def test_a_table_row_that_is_a_candidate_s_id_written_otherwise_lets_no_policy_apply(tmp_path):
    # The log's failed t1 composed (NFC), the table's row of it decomposed (NFD): whatever the
    # codes, no policy applies. Under the first the row is a candidate's id written otherwise;
    # under the second (its code an outage's) a candidate too, the pair one id in two forms.
    lines = [failure("t1"), failure("t1\u00e9", customer_id="c1", amount_minor=5, currency="USD")]
    twin = txn("t1\u0065\u0301", error_code="NEW_CODE")
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[txn("t1"), twin])
    found = what_if(path, _new_code_too(tmp_path), work=tmp_path / "what-if")
    reasons = ("txn_id is a candidate's written otherwise", "one id written in two Unicode forms")
    for outcome, reason in zip(found.outcomes, reasons, strict=True):
        assert not outcome.applies
        assert "the quality gate would reject the run: " in outcome.problem
        assert reason in outcome.problem


def test_a_policy_whose_codes_bring_in_failed_amounts_past_the_largest_sum_cannot_apply(tmp_path):
    # Two table rows of 10^16 minor units under a code only the second policy calls an outage:
    # its run stops (an input error); the what-if stopped whole (exit 2) instead of naming it.
    big = [txn(f"t{i}", amount_minor=10**16, error_code="NEW_CODE") for i in (1, 2)]
    path = write_incident(tmp_path / "inc", lines=[failure("t0")], transactions=[txn("t0"), *big])
    wider = _new_code_too(tmp_path)
    found = what_if(path, wider, work=tmp_path / "what-if")
    assert found.outcomes[0].applies, found.outcomes[0].problem
    assert "failed amounts of customer c1 in USD sum to 20,000," in found.outcomes[1].problem
    assert not found.outcomes[1].applies


def test_a_flat_credit_per_transaction_past_64_bits_that_the_cap_holds_applies(tmp_path):
    # 1,000 payments at 10^16 minor units each (10^19: past 64 bits) under a cap of 5,000: the
    # what-if said the policy cannot apply, as the run stopped; both pay the cap now
    rows = [txn(f"t{i}", customer_id="c1") for i in range(1000)]
    path = write_incident(tmp_path / "inc", lines=[failure("t0")], transactions=rows)
    capped = policy_file(
        tmp_path,
        "capped.toml",
        version="capped",
        basis="flat_per_transaction",
        flat_minor={"USD": 10**16},
        cap_minor={"USD": 5000},
    )
    found = what_if(path, capped, work=tmp_path / "what-if")
    assert found.outcomes[1].applies, found.outcomes[1].problem
    assert found.outcomes[1].amounts == {("c1", "USD"): 5000}
    assert found.outcomes[1].cap_cut == 1
    published = credit_file(with_policy(path, "run-capped.toml", capped), tmp_path / "run")
    assert_column_is_the_credit_file(found, 1, published)
