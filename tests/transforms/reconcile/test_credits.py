"""Credit rules 6-8 (docs/rules.md): customers, the policy's bases, floor and cap, amounts."""

from __future__ import annotations

import hashlib

import pytest

from tests.builders import customer, failure, reconcile_incident, rows, txn, write_incident
from transforms import money
from transforms.errors import ConfigError, InputError
from transforms.serving import answers


def credit_lines(tmp_path, transactions, policy=None, customers=None):
    """Credits for table_only failures (no log lines needed): (customer, currency, amount)."""
    path = write_incident(
        tmp_path / "inc", transactions=transactions, policy=policy, customers=customers
    )
    con = reconcile_incident(path, tmp_path)
    return con, rows(con, "credits", "customer_id", "currency", "credit_amount_minor")


@pytest.mark.parametrize(
    ("segment", "status", "reason", "exception"),
    [
        ("consumer", "active", "table_only", None),  # paid
        ("internal", "active", "excluded_segment", None),  # excluded: no exception
        ("test", "closed", "excluded_segment", None),  # excluded wins over closed
        ("business", "closed", "closed_account", "closed_account"),  # for finance by hand
    ],
)
def test_customer_rules(tmp_path, segment, status, reason, exception):
    con, lines = credit_lines(
        tmp_path, [txn("t1", customer_id="c1")], customers=[customer("c1", segment, status)]
    )
    assert rows(con, "evidence", "txn_id", "reason") == [("t1", reason)]
    assert (lines == [("c1", "USD", 1000)]) is (reason == "table_only")
    found = rows(
        con, "exceptions", "exception", "customer_id", "credit_owed_minor", "failed_amount_minor"
    )
    assert found == ([(exception, "c1", 1000, None)] if exception else [])


@pytest.mark.parametrize(
    "policy", [{"flat_minor": {"USD": 0}}, {"basis": "percent_of_failed_amount", "percent": 0.1}]
)
def test_a_closed_account_owed_nothing_is_a_zero_credit_not_a_line_to_pay_by_hand(tmp_path, policy):
    con, lines = credit_lines(
        tmp_path,
        [txn("t1", customer_id="c1", amount_minor=400)],
        policy=policy,
        customers=[customer("c1", status="closed")],
    )
    assert lines == []
    assert rows(con, "exceptions", "exception", "customer_id", "credit_owed_minor") == [
        ("zero_credit", "c1", 0)
    ]


def test_an_unknown_customer_owed_nothing_stays_unknown_customer(tmp_path):
    # the customer table lacking them is what finance checks, whatever the amount
    con, lines = credit_lines(
        tmp_path,
        [txn("t1", customer_id="ghost")],
        policy={"flat_minor": {"USD": 0}},
        customers=[customer("c1")],
    )
    assert lines == []
    assert rows(con, "exceptions", "exception", "customer_id", "credit_owed_minor") == [
        ("unknown_customer", "ghost", 0)
    ]


UNPRICED = [("t1", "unpriced"), ("t2", "unpriced")]
PRICED = [("t1", "table_only"), ("t2", "table_only")]


@pytest.mark.parametrize(
    ("policy", "reasons", "lines"),
    [
        # a percent of 10.00 alone would have left t1 out, and called it credited
        ({"basis": "percent_of_failed_amount"}, UNPRICED, []),
        # an unknown amount has no floor or cap to come to: 5.00 or 3.00 on it was a guess
        ({"basis": "percent_of_failed_amount", "min_minor": {"USD": 500}}, UNPRICED, []),
        ({"basis": "percent_of_failed_amount", "cap_minor": {"USD": 300}}, UNPRICED, []),
        # a flat basis needs no amount, within its floor and cap
        ({"basis": "flat_per_customer"}, PRICED, [("c1", "USD", 1000)]),
        ({"basis": "flat_per_customer", "cap_minor": {"USD": 300}}, PRICED, [("c1", "USD", 300)]),
    ],
)
def test_a_payment_without_an_amount_leaves_a_percent_line_unpriced(
    tmp_path, policy, reasons, lines
):
    transactions = [txn("t1", amount_minor=None), txn("t2", amount_minor=1000)]
    con, found = credit_lines(tmp_path, transactions, policy={"percent": 10, **policy})
    assert rows(con, "evidence", "txn_id", "reason") == reasons
    assert found == lines


@pytest.mark.parametrize(
    ("customers", "reason"),
    [
        # owed by hand an amount nobody knows: it was closed_account, owed empty, and passed
        ([customer("c1", status="closed")], "unpriced"),
        ([], "unpriced"),  # unknown_customer, owed empty
        ([customer("c1", segment="internal")], "excluded_segment"),  # owed nothing at all
    ],
)
def test_a_payment_without_an_amount_owed_by_hand_is_unpriced_too(tmp_path, customers, reason):
    transactions = [txn("t1", amount_minor=None)]
    policy = {"basis": "percent_of_failed_amount", "percent": 10}
    con, found = credit_lines(tmp_path, transactions, policy=policy, customers=customers)
    assert rows(con, "evidence", "txn_id", "reason") == [("t1", reason)]
    assert found == []


def test_a_transaction_exception_carries_the_failed_amount_not_a_credit_owed(tmp_path):
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1", code="RISK_REVIEW")],
        transactions=[txn("t1", amount_minor=1234, error_code="RISK_REVIEW")],
    )
    con = reconcile_incident(path, tmp_path)
    found = rows(con, "exceptions", "exception", "credit_owed_minor", "failed_amount_minor")
    assert found == [("unknown_error_code", None, 1234)]


def test_unknown_customer_is_an_exception_not_a_credit(tmp_path):
    con, lines = credit_lines(
        tmp_path, [txn("t1", customer_id="ghost")], customers=[customer("c1")]
    )
    assert lines == []
    assert rows(con, "exceptions", "exception", "customer_id", "txn_count") == [
        ("unknown_customer", "ghost", 1)
    ]


@pytest.mark.parametrize(
    ("held_as", "detail"),
    [
        # the customer table's id with a no-break space: "not in the customer table" sent
        # finance looking for a customer who is there, the difference invisible
        ("c1\u00a0", "; the table holds this id with U+00A0, which ids never match"),
        ("\u200bc1", "; the table holds this id with U+200B, which ids never match"),
        (" c1\t", "; the table holds this id with white space at its ends, which ids never match"),
    ],
)
def test_an_unknown_customer_the_table_holds_with_a_hidden_character_says_so(
    tmp_path, held_as, detail
):
    con, _ = credit_lines(tmp_path, [txn("t1", customer_id="c1")], customers=[customer(held_as)])
    assert rows(con, "exceptions", "exception", "detail") == [
        ("unknown_customer", "customer is not in the customer table" + detail)
    ]


@pytest.mark.parametrize(
    ("unknown", "customers", "detail"),
    [
        # ids compare exactly, so each stays an unknown_customer (docs/gate.md), but "not in
        # the customer table" sent finance looking for a customer the table may well hold
        ("c1", ["C1"], "; the customer table has 'C1' (differs in case)"),
        ("c1", ["c001"], "; the customer table has 'c001' (differs in leading zeros)"),
        ("C001", ["c1"], "; the customer table has 'c1' (differs in case and leading zeros)"),
        (
            "cus_12",
            ["cus_0000012"],
            "; the customer table has 'cus_0000012' (differs in leading zeros)",
        ),
        # several: the first named, the others counted
        ("c1", ["c01", "C1", "c001"], "; the customer table has 'C1' (differs in case) and 2 more"),
        # another number, another prefix, a zero inside a number: no hint
        ("c1", ["c10", "d1", "c2"], ""),
        ("c101", ["c11"], ""),
    ],
)
def test_an_unknown_customer_the_table_holds_in_another_case_or_zeros_names_it(
    tmp_path, unknown, customers, detail
):
    con, _ = credit_lines(
        tmp_path, [txn("t1", customer_id=unknown)], customers=[customer(c) for c in customers]
    )
    assert rows(con, "exceptions", "exception", "detail") == [
        ("unknown_customer", answers.UNKNOWN_DETAIL + detail)  # support shows what follows
    ]


def test_an_unknown_customer_the_table_holds_in_two_forms_names_the_first_ones_difference(
    tmp_path,
):
    # ` c1` (white space at its ends) comes first: its difference is named, as for it alone
    # (`arg_min` skipped its null hidden character and named the second id's U+00A0)
    con, _ = credit_lines(
        tmp_path,
        [txn("t1", customer_id="c1")],
        customers=[customer("c1\u00a0"), customer(" c1")],
    )
    assert rows(con, "exceptions", "exception", "detail") == [
        (
            "unknown_customer",
            "customer is not in the customer table; the table holds this id with white space at"
            " its ends, which ids never match",
        )
    ]


def test_an_unknown_customer_whose_own_id_has_white_space_at_its_ends_says_so(tmp_path):
    # the transaction table's `c1 ` against the customer table's `c1`: the blank does not show
    con, _ = credit_lines(tmp_path, [txn("t1", customer_id="c1 ")], customers=[customer("c1")])
    assert rows(con, "exceptions", "exception", "detail") == [
        (
            "unknown_customer",
            "customer is not in the customer table; its id has white space at its ends, which"
            " ids never match",
        )
    ]


def test_an_unknown_customer_whose_own_id_holds_a_hidden_character_says_so(tmp_path):
    # a log line's customer_id is read as written (its line is not quarantined): the customer
    # table's plain c1 does not match it, and "not in the customer table" hid why
    con, _ = credit_lines(tmp_path, [txn("t1", customer_id="c1\u200b")], customers=[customer("c1")])
    assert rows(con, "exceptions", "exception", "detail") == [
        (
            "unknown_customer",
            "customer is not in the customer table; its id holds U+200B, which ids never match",
        )
    ]


THREE_USD = [txn("t1", amount_minor=1005), txn("t2", amount_minor=2000), txn("t3", amount_minor=1)]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"basis": "flat_per_customer"}, 1000),  # one flat amount per customer and currency
        ({"basis": "flat_per_transaction"}, 3000),  # flat x 3 transactions
        ({"basis": "percent_of_failed_amount", "percent": 10}, 301),  # 300.6 -> 301
        ({"basis": "percent_of_failed_amount", "percent": 12.5}, 376),  # 375.75 -> 376
        ({"basis": "percent_of_failed_amount", "percent": 10, "min_minor": {"USD": 500}}, 500),
        ({"basis": "flat_per_transaction", "cap_minor": {"USD": 2500}}, 2500),
        # the floor first, then the cap: a cap below the floor is refused by the incident file
        (
            {"basis": "flat_per_customer", "min_minor": {"USD": 1200}, "cap_minor": {"USD": 1500}},
            1200,
        ),
        ({"basis": "flat_per_customer", "min_minor": {"EUR": 5000}}, 1000),  # another currency's
        # the percent basis reads no flat amount: none for USD is no configuration error
        ({"basis": "percent_of_failed_amount", "percent": 10, "flat_minor": {}}, 301),
    ],
)
def test_policy_bases_floor_and_cap(tmp_path, policy, expected):
    _, lines = credit_lines(tmp_path, THREE_USD, policy=policy)
    assert lines == [("c1", "USD", expected)]


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [
        (5, 10, 1),  # 0.5 rounds half up to 1
        (4, 10, 0),  # 0.4 rounds down to 0: no credit line, an exception
        (15, 10, 2),  # 1.5 -> 2
        (25, 10, 3),  # 2.5 -> 3 (half up, not to even)
        (1, 50, 1),  # 0.5 -> 1
        (3, 33.3, 1),  # 0.999 -> 1
        (9_000_000_000_000_000, 100, 9_000_000_000_000_000),  # no float anywhere
    ],
)
def test_percent_rounds_half_up_to_a_whole_minor_unit(tmp_path, amount, percent, expected):
    con, lines = credit_lines(
        tmp_path,
        [txn("t1", amount_minor=amount)],
        policy={"basis": "percent_of_failed_amount", "percent": percent},
    )
    assert lines == ([("c1", "USD", expected)] if expected else [])
    if not expected:
        assert rows(con, "exceptions", "exception") == [("zero_credit",)]


def test_one_line_per_customer_and_currency(tmp_path):
    transactions = [
        txn("t1", customer_id="c1", currency="USD"),
        txn("t2", customer_id="c1", currency="USD"),
        txn("t3", customer_id="c1", currency="EUR"),
        txn("t4", customer_id="c2", currency="JPY"),
    ]
    con, lines = credit_lines(tmp_path, transactions, policy={"basis": "flat_per_transaction"})
    assert lines == [("c1", "EUR", 900), ("c1", "USD", 2000), ("c2", "JPY", 1500)]


def test_a_currency_without_a_policy_amount_stops_the_run(tmp_path):
    with pytest.raises(ConfigError, match=r"flat_minor: no amount for GBP"):
        credit_lines(tmp_path, [txn("t1", currency="GBP")])


@pytest.mark.parametrize("owed", ["closed_account", "unknown_customer"])
def test_a_currency_owed_by_hand_needs_a_policy_amount_too(tmp_path, owed):
    # finance pays a closed or unknown customer by hand what it is owed: never owed "nothing"
    transactions = [txn("t1", currency="GBP", customer_id="c1"), txn("t2", customer_id="c2")]
    first = [customer("c1", status="closed")] if owed == "closed_account" else []
    with pytest.raises(ConfigError, match=r"flat_minor: no amount for GBP"):
        credit_lines(tmp_path, transactions, customers=[*first, customer("c2")])


def test_a_currency_only_on_unpaid_lines_needs_no_policy_amount(tmp_path):
    transactions = [txn("t1", currency="GBP", customer_id="c1"), txn("t2", customer_id="c2")]
    customers = [customer("c1", segment="internal"), customer("c2")]
    _, lines = credit_lines(tmp_path, transactions, customers=customers)
    assert lines == [("c2", "USD", 1000)]


@pytest.mark.parametrize(
    ("currency", "amount", "expected"),
    [
        ("USD", 1000, "10.00"),
        ("USD", 5, "0.05"),
        ("JPY", 1500, "1500"),  # no minor digits
        ("BHD", 1234, "1.234"),  # three minor digits
        ("EUR", 100000000, "1000000.00"),
    ],
)
def test_credit_amount_is_a_decimal_with_the_iso_digits(tmp_path, currency, amount, expected):
    con, _ = credit_lines(
        tmp_path, [txn("t1", currency=currency)], policy={"flat_minor": {currency: amount}}
    )
    assert rows(con, "credits", "credit_amount", "credit_amount_minor") == [(expected, amount)]


def test_credit_id_is_16_hex_of_sha256_of_incident_customer_currency(tmp_path):
    con, _ = credit_lines(tmp_path, [txn("t1", customer_id="c1")])
    expected = hashlib.sha256(b"INC-T|c1|USD").hexdigest()[:16]
    assert rows(con, "credits", "credit_id") == [(expected,)]


@pytest.mark.parametrize(
    ("policy", "paid"),
    [
        ({}, {"t1", "t2", "t3", "t4"}),  # the defaults credit recovered and table-only failures
        ({"credit_recovered": False}, {"t1", "t3", "t4"}),
        ({"credit_table_only": False}, {"t1", "t2", "t3"}),
    ],
)
def test_which_classes_are_credited(tmp_path, policy, paid):
    lines = [
        failure("t1"),
        failure("t2"),
        failure("t3", customer_id="c3", amount_minor=10, currency="USD"),
        failure("t5", code="CARD_DECLINED"),
        failure("t6", code="HUH"),
        failure("t7"),
    ]
    transactions = [
        txn("t1", customer_id="c1"),
        txn("t2", customer_id="c2", status="succeeded"),
        txn("t4", customer_id="c3"),
        txn("t5", customer_id="c1"),
        txn("t6", customer_id="c1"),
    ]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=transactions, policy=policy)
    con = reconcile_incident(path, tmp_path)
    credited = {t for t, flag in rows(con, "evidence", "txn_id", "credited") if flag}
    assert credited == paid


# Not CLF (ISO's 4 digits): no territory's tender, so no policy amount ever prices it (below)
@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD", "EUR", "KWD"])
@pytest.mark.parametrize("amount", [1, 5, 99, 100, 1234, 1_000_000])
def test_the_credit_file_and_the_batches_format_amounts_alike(tmp_path, currency, amount):
    con, _ = credit_lines(
        tmp_path, [txn("t1", currency=currency)], policy={"flat_minor": {currency: amount}}
    )
    assert rows(con, "credits", "credit_amount") == [(money.decimal_text(amount, currency),)]


@pytest.mark.parametrize(
    ("row", "policy"),
    [
        (txn("t1", customer_id="ghost", status="succeeded"), {"credit_recovered": False}),
        (txn("t1", customer_id="c9", status="succeeded"), {"credit_recovered": False}),
        (txn("t1", customer_id="ghost"), {"credit_table_only": False}),
        (txn("t1", customer_id="c9"), {"credit_table_only": False}),
    ],
)
def test_a_transaction_the_policy_does_not_credit_owes_nothing(tmp_path, row, policy):
    # recovered (a failure line, then succeeded) or table-only, for an unknown or closed customer
    lines = [failure("t1")] if row["status"] == "succeeded" else []
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        transactions=[row],
        customers=[customer("c9", status="closed")],
        policy=policy,
    )
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "exceptions", "exception") == []  # no unknown_customer, no closed_account
    ((reason, credited),) = rows(con, "evidence", "reason", "credited")
    assert reason.endswith("_not_credited") and credited is False


@pytest.mark.parametrize(
    ("customers", "policy", "reason"),
    [
        ([customer("c1", status="closed")], {}, "closed_account"),
        ([], {}, "unknown_customer"),
        ([customer("c1", segment="test")], {}, "excluded_segment"),
        ([customer("c1")], {"flat_minor": {"USD": 0}}, "zero_credit"),
        ([customer("c1", status="closed")], {"flat_minor": {"USD": 0}}, "zero_credit"),
        ([customer("c1")], {}, "table_only"),
    ],
)
def test_evidence_is_credited_only_when_its_line_is_in_the_credit_file(
    tmp_path, customers, policy, reason
):
    con, lines = credit_lines(tmp_path, [txn("t1")], policy=policy, customers=customers)
    assert rows(con, "evidence", "reason", "credited") == [(reason, bool(lines))]
    assert bool(lines) is (reason == "table_only")


@pytest.mark.parametrize(
    ("sign", "said"),
    [
        (1, r"sum to 10,000,"),
        # negative amounts (the gate's to reject) overflowed the same 64 bits: an internal error
        (-1, r"sum to -10,000,"),
    ],
)
def test_a_customer_whose_failed_amounts_sum_past_the_largest_amount_stops_the_run(
    tmp_path, sign, said
):
    # each amount is allowed (10^16 minor units at most); 1,000 of them would not fit 64 bits
    transactions = [txn(f"t{i}", customer_id="c1", amount_minor=sign * 10**16) for i in range(1000)]
    with pytest.raises(InputError, match=rf"failed amounts of customer c1 in USD {said}"):
        credit_lines(
            tmp_path, transactions, policy={"basis": "percent_of_failed_amount", "percent": 10}
        )


def test_a_flat_credit_per_transaction_past_the_largest_amount_stops_the_run(tmp_path):
    transactions = [txn(f"t{i}", customer_id="c1") for i in range(1000)]
    policy = {"basis": "flat_per_transaction", "flat_minor": {"USD": 10**16, "EUR": 900}}
    with pytest.raises(ConfigError, match=r"policy.flat_minor: USD 10,000,000,000,000,000 per"):
        credit_lines(tmp_path, transactions, policy=policy)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # 1,000 x 10^16 = 10^19 minor units before the cap, past 64 bits: the run stopped,
        # though the cap bounds the credit; now the capped credit is paid
        ({"cap_minor": {"USD": 5000}}, 5000),
        ({"min_minor": {"USD": 100}, "cap_minor": {"USD": 5000}}, 5000),
        ({"cap_minor": {"USD": 10**16}}, 10**16),  # the largest cap itself
    ],
)
def test_a_flat_credit_per_transaction_the_cap_holds_within_the_largest_amount_is_paid(
    tmp_path, policy, expected
):
    transactions = [txn(f"t{i}", customer_id="c1") for i in range(1000)]
    policy = {"basis": "flat_per_transaction", "flat_minor": {"USD": 10**16}, **policy}
    _, lines = credit_lines(tmp_path, transactions, policy=policy)
    assert lines == [("c1", "USD", expected)]


def test_a_percent_credit_past_the_largest_amount_stops_the_run(tmp_path):
    # 10,000 % of an allowed amount: 10^18 minor units, a credit no cap held down
    policy = {"basis": "percent_of_failed_amount", "percent": 10_000}
    with pytest.raises(ConfigError, match=r"policy.percent: 10000% of the failed USD amounts"):
        credit_lines(tmp_path, [txn("t1", amount_minor=10**16)], policy=policy)


def test_a_percent_credit_the_cap_holds_within_the_largest_amount_is_paid(tmp_path):
    policy = {"basis": "percent_of_failed_amount", "percent": 10_000, "cap_minor": {"USD": 500}}
    _, lines = credit_lines(tmp_path, [txn("t1", amount_minor=10**16)], policy=policy)
    assert lines == [("c1", "USD", 500)]


@pytest.mark.parametrize(
    ("amount_minor", "flat_minor", "error", "message"),
    [
        # 101 customers at the largest flat credit: 1.01 x 10^18, past a run's 64-bit totals
        (1000, 10**16, ConfigError, r"policy.flat_minor: the 101 credit lines in USD come to"),
        # 101 customers' failed amounts at the largest payment: the report's total of them
        (10**16, 1000, InputError, r"failed amounts of the 101 credit lines in USD sum to"),
        (-(10**16), 1000, InputError, r"failed amounts of the 101 credit lines in USD sum to -"),
    ],
)
def test_a_currency_whose_credit_lines_sum_past_the_largest_total_stops_the_run(
    tmp_path, amount_minor, flat_minor, error, message
):
    ids = [f"c{i:03}" for i in range(101)]
    transactions = [txn(f"t{i}", customer_id=i, amount_minor=amount_minor) for i in ids]
    with pytest.raises(error, match=message):
        credit_lines(
            tmp_path,
            transactions,
            policy={"flat_minor": {"USD": flat_minor}},
            customers=[customer(i) for i in ids],
        )


@pytest.mark.parametrize(
    "policy",
    [
        # the floor, at the largest amount, raises each customer's 10 % (or flat 1000) to it:
        # the error named policy.percent (or policy.flat_minor), which pay 101 x 100 or 1000
        {"basis": "percent_of_failed_amount", "percent": 10, "min_minor": {"USD": 10**16}},
        {"flat_minor": {"USD": 1000}, "min_minor": {"EUR": 5, "USD": 10**16}},
    ],
    ids=["percent", "flat"],
)
def test_credit_lines_the_floor_sums_past_the_largest_total_name_the_floor(tmp_path, policy):
    ids = [f"c{i:03}" for i in range(101)]
    transactions = [txn(f"t{i}", customer_id=i) for i in ids]
    with pytest.raises(
        ConfigError, match=r"incident.toml: policy.min_minor.USD: the 101 credit lines in USD"
    ):
        credit_lines(tmp_path, transactions, policy=policy, customers=[customer(i) for i in ids])


def test_a_currency_just_within_the_largest_total_is_paid(tmp_path):
    ids = [f"c{i:03}" for i in range(100)]  # 100 x 10^16 = 10^18: the largest total itself
    transactions = [txn(f"t{i}", customer_id=i) for i in ids]
    _, lines = credit_lines(
        tmp_path,
        transactions,
        policy={"flat_minor": {"USD": 10**16}},
        customers=[customer(i) for i in ids],
    )
    assert sum(amount for _, _, amount in lines) == 10**18


@pytest.mark.parametrize(
    "policy",
    [{"flat_minor": {"USD": 0}}, {"cap_minor": {"USD": 0}}],
    ids=["flat amount 0", "cap 0"],
)
def test_a_zero_credit_says_the_policy_works_it_out_to_zero_not_that_it_rounds(tmp_path, policy):
    # a flat amount or a cap of 0 rounds nothing: the detail said "rounds this credit to zero"
    con, lines = credit_lines(tmp_path, [txn("t1")], policy=policy, customers=[customer("c1")])
    assert lines == []
    assert rows(con, "exceptions", "exception", "detail") == [
        (
            "zero_credit",
            "the policy works this credit out to zero (its flat amount, percent or cap): "
            "nothing is paid",
        )
    ]


@pytest.mark.parametrize(
    ("policy", "dem_credit"),
    [
        # a flat amount for DEM, which is no money in 2025: it priced the payment, 5.00 DEM
        # credited in the evidence, where the rules say the key is kept and never used
        ({"flat_minor": {"USD": 1000, "DEM": 500}}, None),
        ({"flat_minor": {"USD": 1000}}, None),  # no amount for DEM: unpriced, as before
        # the percent basis prices it (the gate names the currency), but never with the
        # floor or the cap the policy keeps for DEM
        (
            {
                "basis": "percent_of_failed_amount",
                "percent": 10,
                "min_minor": {"USD": 1, "DEM": 5},
                "cap_minor": {"USD": 2000, "DEM": 50},
            },
            100,
        ),
    ],
)
def test_a_currency_that_is_no_money_is_never_priced_with_the_policy_s_amounts(
    tmp_path, policy, dem_credit
):
    transactions = [txn("d1", currency="DEM"), txn("u1", customer_id="c2")]
    con, lines = credit_lines(tmp_path, transactions, policy=policy)
    usd = 1000 if "flat_minor" in policy else 100  # the USD line keeps its policy amounts
    expected = [("c1", "DEM", dem_credit)] if dem_credit is not None else []
    assert lines == [*expected, ("c2", "USD", usd)]
    reason = "table_only" if dem_credit is not None else "unpriced"
    found = rows(con, "evidence", "txn_id", "credited", "reason")
    assert found == [("d1", dem_credit is not None, reason), ("u1", True, "table_only")]
