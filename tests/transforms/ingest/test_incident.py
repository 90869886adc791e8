"""The incident file: defaults, the window in UTC, a clear error for every mistake, and the
JSON Schema that editors check incident files with."""

from __future__ import annotations

import json
import os
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import jsonschema
import pytest

from tests.builders import write_incident
from transforms import sample
from transforms.errors import ConfigError, StorageError
from transforms.ingest import incident


def load(tmp_path, **settings):
    return incident.load(write_incident(tmp_path / "inc", **settings))


def test_a_naive_window_is_read_in_the_incident_time_zone(tmp_path):
    loaded = load(tmp_path)
    assert loaded.window_start == datetime(2025, 1, 7, 19, 15, tzinfo=UTC)
    assert loaded.window_end == datetime(2025, 1, 7, 23, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        # POSIX's sign is ISO's reversed: Etc/GMT+5, read as UTC+5, is UTC-05:00
        (
            "Etc/GMT+5",
            r"timezone: 'Etc/GMT\+5' is UTC-05:00 all year \(the sign reversed\), as POSIX "
            r"writes it: write the offset in the window times \(\.\.\.-05:00\) and leave "
            r"timezone out, or the name of the region whose clock the window was written on",
        ),
        ("Etc/GMT-9", r"timezone: 'Etc/GMT-9' is UTC\+09:00 all year \(the sign reversed\)"),
    ],
)
def test_a_posix_offset_zone_is_refused_for_a_window_time_it_would_read(tmp_path, zone, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, top={"timezone": zone, "window_start": "2025-07-07T14:15:00"})


JULY = {"window_start": "2025-07-07T14:15:00", "window_end": "2025-07-07T18:15:00"}


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        # IANA's EST, MST and HST are Panama's (Cancun's, Jamaica's), Arizona's and Hawaii's
        # clocks, standard time all year: a July window written in Phoenix is read at -07:00
        ("EST", datetime(2025, 7, 7, 19, 15, tzinfo=UTC)),
        ("MST", datetime(2025, 7, 7, 21, 15, tzinfo=UTC)),
        ("HST", datetime(2025, 7, 8, 0, 15, tzinfo=UTC)),
        ("EST5EDT", datetime(2025, 7, 7, 18, 15, tzinfo=UTC)),  # New York's rules
        ("Etc/GMT", datetime(2025, 7, 7, 14, 15, tzinfo=UTC)),
        ("Etc/GMT+0", datetime(2025, 7, 7, 14, 15, tzinfo=UTC)),  # zero has no sign to reverse
        ("America/Phoenix", datetime(2025, 7, 7, 21, 15, tzinfo=UTC)),
    ],
)
def test_a_zone_that_is_a_clock_people_read_reads_the_window(tmp_path, zone, start):
    loaded = load(tmp_path, top={"timezone": zone, **JULY})
    assert (loaded.timezone, loaded.window_start) == (zone, start)


def test_a_posix_offset_zone_only_shows_a_window_given_with_offsets(tmp_path):
    july = {"window_start": "2025-07-07T18:15:00Z", "window_end": "2025-07-07T22:15:00Z"}
    shown = load(tmp_path, top={"timezone": "Etc/GMT+5", **july})
    assert (shown.timezone, shown.window_start) == (
        "Etc/GMT+5",
        datetime(2025, 7, 7, 18, 15, tzinfo=UTC),
    )


def test_a_log_clock_at_a_fixed_offset_is_taken(tmp_path):
    # a service whose clock is set to EST writes EST all year: that is what its lines mean
    assert load(tmp_path, sources={"logs_timezone": "EST"}).sources.logs_timezone == "EST"


def without_timezone(path):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("timezone =")))
    return path


def test_a_naive_window_without_a_timezone_is_refused_not_read_in_utc(tmp_path):
    # A post-mortem's local times read in the default UTC moved the window by hours.
    path = without_timezone(write_incident(tmp_path / "inc"))
    with pytest.raises(ConfigError, match=r"window_start: has no offset and `timezone` is not set"):
        incident.load(path)


def test_a_window_with_offsets_needs_no_timezone(tmp_path):
    window = {"window_start": "2025-01-07T19:15:00Z", "window_end": "2025-01-07T23:15:00Z"}
    loaded = incident.load(without_timezone(write_incident(tmp_path / "inc", top=window)))
    assert (loaded.timezone, loaded.window_start) == (
        "UTC",
        datetime(2025, 1, 7, 19, 15, tzinfo=UTC),
    )


def test_a_window_with_an_offset_is_taken_as_is(tmp_path):
    window = {"window_start": "2025-01-07T19:15:00Z", "window_end": "2025-01-08T08:15:00+09:00"}
    loaded = load(tmp_path, top={**window, "timezone": "Asia/Tokyo"})
    assert loaded.window_start == datetime(2025, 1, 7, 19, 15, tzinfo=UTC)
    assert loaded.window_end == datetime(2025, 1, 7, 23, 15, tzinfo=UTC)


def test_a_window_in_lowercase_rfc_3339_is_read(tmp_path):
    window = {"window_start": "2025-01-07t19:15:00z", "window_end": "2025-01-08t04:45:00+05:30"}
    loaded = load(tmp_path, top=window)
    assert loaded.window_start == datetime(2025, 1, 7, 19, 15, tzinfo=UTC)
    assert loaded.window_end == datetime(2025, 1, 7, 23, 15, tzinfo=UTC)


@pytest.mark.parametrize("literal", [False, True])  # a string, or a TOML date-time literal
def test_a_window_edge_finer_than_a_microsecond_is_refused_naming_the_one_to_write(
    tmp_path, literal
):
    # Log and table times are read to the microsecond: an end of 18:15:00.0000005 was cut to
    # 18:15:00, and a failure logged at 23:15:00.0000001Z, inside the window, was left out.
    path = write_incident(tmp_path / "inc", top={"window_end": "2025-01-07T18:15:00.0000005"})
    if literal:
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace('"2025-01-07T18:15:00.0000005"', "2025-01-07T18:15:00.0000005")
        )
    with pytest.raises(ConfigError) as error:
        incident.load(path)
    assert (
        "window_end: '2025-01-07T18:15:00.0000005' is finer than a microsecond, which log and "
        "table times are read to; write 2025-01-07T18:15:00.000001"
    ) in str(error.value)


def test_a_window_edge_whose_digits_past_the_microsecond_are_zeros_is_read(tmp_path):
    loaded = load(tmp_path, top={"window_start": "2025-01-07t19:15:00.000000000Z"})
    assert loaded.window_start == datetime(2025, 1, 7, 19, 15, tzinfo=UTC)


def test_omitted_policy_keys_take_the_documented_defaults(tmp_path):
    policy = load(tmp_path).policy
    assert policy.basis == "flat_per_customer"
    assert policy.failure_events == ("payment.failed",)
    assert policy.exclude_segments == ("internal", "test")
    assert policy.credit_recovered and policy.credit_table_only
    assert policy.min_minor == {} and policy.cap_minor == {}


def test_a_fractional_percent_is_exact(tmp_path):
    policy = load(tmp_path, policy={"basis": "percent_of_failed_amount", "percent": 12.5}).policy
    assert policy.percent == Decimal("12.5")


@pytest.mark.parametrize(
    ("window", "days", "money", "not_money"),
    [
        # DEM withdrawn in 2002, HRK in 2023; CNH (offshore yuan) no territory's tender
        (("2025-01-07T19:15:00Z", "2025-01-07T23:15:00Z"), "2025-01-07", {"BGN"}, {"DEM", "CNH"}),
        (("2025-01-07T19:15:00Z", "2025-01-07T23:15:00Z"), "2025-01-07", {"EUR"}, {"HRK"}),
        # the lev is legal tender to 2026-01-31, the euro with it from the 1st
        (("2026-01-31T10:00:00Z", "2026-01-31T11:00:00Z"), "2026-01-31", {"BGN", "EUR"}, set()),
        (("2026-02-01T10:00:00Z", "2026-02-01T11:00:00Z"), "2026-02-01", {"EUR"}, {"BGN"}),
        # a window across the change: either, on any of its days
        (
            ("2026-01-31T23:00:00Z", "2026-02-01T01:00:00Z"),
            "2026-01-31 to 2026-02-01",
            {"BGN", "EUR"},
            set(),
        ),
        # an end at midnight (excluded) touches no day after it
        (("2026-01-31T23:00:00Z", "2026-02-01T00:00:00Z"), "2026-01-31", {"BGN"}, set()),
        (("2026-02-01T00:00:00Z", "2026-02-01T01:00:00Z"), "2026-02-01", set(), {"BGN"}),
        # ISO's "no currency" and "testing" codes are no money, and neither are funds codes
        (("2025-01-07T19:15:00Z", "2025-01-07T23:15:00Z"), "2025-01-07", {"USD"}, {"XXX", "USN"}),
    ],
)
def test_a_currency_is_money_only_when_legal_tender_on_a_day_of_the_window(
    tmp_path, window, days, money, not_money
):
    loaded = load(tmp_path, top=dict(zip(("window_start", "window_end"), window, strict=True)))
    assert loaded.money_days_text == days
    assert money <= set(loaded.currencies) and not not_money & set(loaded.currencies)
    assert loaded.currencies is loaded.currencies  # computed once per set of days (cached)


def test_a_policy_amount_may_be_in_a_currency_code_not_in_use_on_the_window_s_days(tmp_path):
    # a policy outlives an incident: its keys need only be currency codes (the amount stays
    # unused: a line in DEM is refused before any amount is looked up)
    loaded = load(tmp_path, policy={"flat_minor": {"USD": 1000, "DEM": 500}})
    assert loaded.policy.flat_minor == {"DEM": 500, "USD": 1000}
    assert "DEM" not in loaded.currencies


def test_the_policy_hash_changes_with_the_policy(tmp_path):
    first = load(tmp_path / "a").policy.sha256
    assert first == load(tmp_path / "b").policy.sha256
    assert first != load(tmp_path / "c", policy={"flat_minor": {"USD": 1001}}).policy.sha256


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"top": {"window_end": "2025-01-07T14:15:00"}}, r"window_end: must be after window_start"),
        (  # on the clocks it was written on ("(2025-01-07T19:15:00Z)" alone read as a shift)
            {"top": {"window_end": "2025-01-07T14:00:00"}},
            r"window_end: must be after window_start: window_start 2025-01-07 14:15:00 EST "
            r"\(19:15:00Z\), window_end 2025-01-07 14:00:00 EST \(19:00:00Z\)",
        ),
        ({"top": {"window_end": "2025-02-08T14:16:00"}}, r"longer than 31 days"),
        ({"top": {"timezone": "Mars/Olympus"}}, r"timezone: unknown time zone 'Mars/Olympus'"),
        # a folder of the time zone database is not a zone (it used to escape as an OSError)
        ({"top": {"timezone": "America"}}, r"timezone: unknown time zone 'America'"),
        ({"sources": {"logs_timezone": "EST5"}}, r"sources.logs_timezone: unknown time zone"),
        ({"top": {"window_strat": "x"}}, r"window_strat: unknown key; did you mean 'window_start'"),
        (
            {"policy": {"flat_mino": {}}},
            r"policy.flat_mino: unknown key; did you mean 'flat_minor'",
        ),
        ({"sources": {"log": "x"}}, r"sources.log: unknown key; did you mean 'logs'"),
        ({"policy": {"basis": "generous"}}, r"policy.basis: 'generous' is not one of"),
        (
            {"policy": {"flat_minor": {"USD": 10.5}}},
            r"policy.flat_minor.USD: must be a whole number",
        ),
        # an amount written in the currency's units gets its minor units (it read "got
        # Decimal('10.5')"), a quoted one is told to lose its quotes
        (
            {"policy": {"flat_minor": {"USD": 10.5}}},
            r"policy.flat_minor.USD: must be a whole number of minor units >= 0, got 10.5: "
            r"USD 10.50 is written 1050 \(USD has 2 minor digits\)",
        ),
        # a whole number written as a decimal may be minor units with a `.0` (JSON's, a
        # float's) or the currency's units: both readings, never one guessed (it said "USD
        # 1000.00 is written 100000" of `1000.0`, a hundred times the amount meant)
        (
            {"policy": {"flat_minor": {"USD": Decimal("1000.0")}}},
            r"policy.flat_minor.USD: must be a whole number of minor units >= 0, got 1000.0: "
            r"write 1000 for USD 10.00, or 100000 for USD 1000.00 \(USD has 2 minor digits\)",
        ),
        (
            {"policy": {"cap_minor": {"USD": Decimal("1e3")}}},
            r"policy.cap_minor.USD: must be a whole number of minor units >= 0, got 1E\+3: "
            r"write 1000 for USD 10.00, or 100000 for USD 1000.00",
        ),
        (
            {"policy": {"min_minor": {"JPY": Decimal("1500.0")}}},
            r"policy.min_minor.JPY: must be a whole number of minor units >= 0, got 1500.0: "
            r"write 1500 \(JPY has 0 minor digits\)",
        ),
        (
            {"policy": {"cap_minor": {"JPY": "1500"}}},
            r"policy.cap_minor.JPY: must be a whole number of minor units >= 0, got the text "
            r"'1500': write the number without quotes \(JPY has 0 minor digits\)",
        ),
        ({"policy": {"flat_minor": {"USX": 10}}}, r"policy.flat_minor.USX: is not an ISO 4217"),
        # a number written as people write it ("must be a number" said nothing of the quotes)
        (
            {"policy": {"percent": "10%"}},
            r"policy.percent: must be a number, not the text '10%': write it alone, without "
            r"quotes or % \(10\)",
        ),
        (
            {"quality": {"max_quarantined_share": "1%"}},
            r"quality.max_quarantined_share: must be a fraction between 0 and 1, not the text "
            r"'1%': 1% is written 0.01",
        ),
        # no number of minor units at all: told so (the hint's arithmetic raised, exit 1)
        (
            {"policy": {"flat_minor": {"USD": float("nan")}}},
            r"policy.flat_minor.USD: must be a whole number of minor units >= 0, got NaN \(USD",
        ),
        (
            {"policy": {"flat_minor": {"USD": float("inf")}}},
            r"policy.flat_minor.USD: must be a whole number of minor units >= 0, got Infinity",
        ),
        (
            {"policy": {"cap_minor": {"USD": 1e30}}},
            r"policy.cap_minor.USD: must be a whole number of minor units >= 0, got 1E\+30 \(",
        ),
        (
            {"quality": {"max_quarantined_share": "1e999999999%"}},
            r"quality.max_quarantined_share: must be a number$",
        ),
        # a code in lower case gets the code (currency codes are upper case)
        (
            {"policy": {"flat_minor": {"usd": 10}}},
            r"policy.flat_minor.usd: is not an ISO 4217 currency code; did you mean 'USD'\?",
        ),
        # ISO's "no currency" and "testing" codes: no money to pay a credit in
        ({"policy": {"flat_minor": {"XXX": 10}}}, r"policy.flat_minor.XXX: is not an ISO 4217"),
        ({"policy": {"cap_minor": {"XTS": 10}}}, r"policy.cap_minor.XTS: is not an ISO 4217"),
        ({"policy": {"flat_minor": {"USD": -1}}}, r"policy.flat_minor.USD: must be a whole number"),
        ({"policy": {"percent": -1}}, r"policy.percent: must be a positive number"),
        (
            {"policy": {"credit_recovered": "yes"}},
            r"policy.credit_recovered: must be true or false",
        ),
        ({"top": {"window_start": "2025-03-09T02:30:00"}}, r"does not exist in America/New_York"),
        # New York's 01:30 of 2 November happens twice: taking the first silently ended a window
        # an hour before the one meant, and its failures were left out
        (
            {"top": {"window_end": "2025-11-02T01:30:00"}},
            r"window_end: 2025-11-02 01:30:00 happens twice in America/New_York \(a DST fold\); "
            r"write its offset: 2025-11-02T01:30:00-04:00 \(the first\) or "
            r"2025-11-02T01:30:00-05:00 \(the second\)",
        ),
        ({"top": {"window_start": "soon"}}, r"window_start: 'soon' is not an ISO 8601 date-time"),
        # a leap second is no window edge: the instant after it is (docs/incident-file.md)
        (
            {"top": {"window_end": "2025-01-07T23:59:60Z"}},
            r"window_end: '2025-01-07T23:59:60Z' is not an ISO 8601 date-time",
        ),
        # A time as people write it gets the format to use, with an example.
        (
            {"top": {"window_end": "6:15pm"}},
            r"window_end: '6:15pm' is not an ISO 8601 date-time; write it like "
            r'"2025-01-07T18:15:00" \(read in the incident\'s timezone\)',
        ),
        # A zone's name with a slip gets the name it meant.
        (
            {"top": {"timezone": "America/NewYork"}},
            r"timezone: unknown time zone 'America/NewYork'; did you mean 'America/New_York'\?",
        ),
        (
            {"top": {"timezone": "europe/paris"}},
            r"timezone: unknown time zone 'europe/paris'; did you mean 'Europe/Paris'\?",
        ),
        ({"top": {"id": "../../etc"}}, r"id: start with a letter or digit, then use letters"),
        ({"top": {"id": "-rf"}}, r"id: start with a letter or digit"),
        ({"top": {"id": "A" * 101}}, r"id: .* at most 100 characters"),
        (
            {"policy": {"min_minor": {"USD": 500}, "cap_minor": {"USD": 100}}},
            r"USD floor is above its cap",
        ),
        ({"policy": {"failure_events": ["payment.failed", " "]}}, r"failure_events: .* blank"),
        # a title reaches every credits.csv description: no NUL, escape or direction override
        (
            {"top": {"title": "DB\x00pool"}},
            r"title: holds the control or format character U\+0000 at",
        ),
        ({"top": {"title": "pool \u202egnp"}}, r"title: .* U\+202E at character 6"),
        ({"top": {"title": "two\nlines"}}, r"title: .* U\+000A"),
        # so does the policy's version, on every credits.csv line, every batch line and each
        # what-if column's heading (where an escape recoloured the terminal)
        (
            {"policy": {"version": "v1\x1b[31m"}},
            r"policy.version: holds the control or format character U\+001B at character 3",
        ),
        ({"policy": {"version": "v\u202e1"}}, r"policy.version: .* U\+202E at character 2"),
        ({"policy": {"version": "2025\r\nv1"}}, r"policy.version: .* U\+000D"),
        # a title or version of megabytes, copied onto every credit line, ran the run out of
        # memory (an internal error)
        ({"top": {"title": "x" * 5_000_000}}, r"title: at most 500 characters \(5,000,000\)"),
        ({"policy": {"version": "v" * 501}}, r"policy.version: at most 500 characters \(501\)"),
        # an outage list that can credit nothing, or a code that matches no line as written
        ({"policy": {"outage_error_codes": []}}, r"policy.outage_error_codes: must name at least"),
        (
            {"policy": {"outage_error_codes": ["DB_POOL_TIMEOUT "]}},
            r"policy.outage_error_codes: 'DB_POOL_TIMEOUT ' is blank or has blanks around it",
        ),
        ({"policy": {"decline_error_codes": [""]}}, r"policy.decline_error_codes: '' is blank"),
        # the outage list would win, unseen: a decline credited or an outage left unpaid
        (
            {"policy": {"outage_error_codes": ["X", "Y"], "decline_error_codes": ["Y", "Z"]}},
            r"policy.decline_error_codes: Y also in outage_error_codes: a code is an outage's",
        ),
        # a segment no customer has would exclude nobody: a typo paid internal accounts
        (
            {"policy": {"exclude_segments": ["internal", "Test"]}},
            r"policy.exclude_segments: 'Test' is not a customer segment .* did you mean 'test'",
        ),
        (
            {"policy": {"exclude_segments": ["internal "]}},
            r"exclude_segments: 'internal ' is not a customer segment .* did you mean 'internal'",
        ),
        ({"policy": {"exclude_segments": ["staff"]}}, r"'staff' is not a customer segment \("),
        # values no run could compute with (they used to end in an internal error)
        ({"policy": {"percent": float("nan")}}, r"policy.percent: must be a finite number"),
        ({"policy": {"percent": float("inf")}}, r"policy.percent: must be a finite number"),
        ({"policy": {"percent": 1e300}}, r"policy.percent: must be at most 10,000 percent"),
        ({"policy": {"percent": 1e-300}}, r"policy.percent: may have at most 4 decimal places"),
        (
            {"policy": {"flat_minor": {"USD": 2**63 - 1}}},
            r"policy.flat_minor.USD: must be at most 10,000,000,000,000,000 minor units",
        ),
        (
            {"top": {"window_start": "2025-01-07"}},
            r"window_start: '2025-01-07' needs a time of day",
        ),
        (
            {"top": {"window_detection": {"mad_multiplier": 1e300}}},
            r"window_detection.mad_multiplier: must be at most 1000",
        ),
        (  # the schema's minimum: it was taken, and acted as 0
            {"top": {"window_detection": {"mad_multiplier": -1}}},
            r"window_detection.mad_multiplier: must be at least 0",
        ),
        # an integer key, strictly, as min_rise_lines is: true was read as 1, "12" as 12
        ({"quality": {"min_quarantined_lines": True}}, r"min_quarantined_lines: must be a whole"),
        ({"quality": {"min_quarantined_lines": "12"}}, r"min_quarantined_lines: must be a whole"),
        (  # past 128 bits, bound into the file profile's SQL: a traceback mid-staging (exit 1)
            {"quality": {"min_quarantined_lines": 10**40}},
            r"quality.min_quarantined_lines: must be at most 1,000,000,000,000,000,000$",
        ),
        (
            {"top": {"window_detection": {"min_rise_lines": 10**40}}},
            r"window_detection.min_rise_lines: must be at most 1,000,000,000,000,000,000$",
        ),
        ({"quality": {"min_quarantined_lines": 0}}, r"min_quarantined_lines: must be at least 1$"),
        (  # past Python's 4,300 digits of an int: it was "Value error, Exceeds the limit"
            {"sources": {"log_clock_skew": "1" * 5000 + " h"}},
            r"sources.log_clock_skew: '1+ h' is longer than 366 days",
        ),
        (  # Python's `$` matched before the line feed: a run folder named with a line break
            {"top": {"id": "INC-T\n"}},
            r"^.*incident.toml: id: ",
        ),
        (  # compared exactly, it matched no line: every failure counted irrelevant, exit 0
            {"policy": {"failure_events": ["payment.failed "]}},
            r"policy.failure_events: 'payment.failed ' has blanks around it",
        ),
        (  # the machine's own zone: one file, other windows on other machines
            {"top": {"timezone": "localtime"}},
            r"timezone: unknown time zone 'localtime' \(an IANA name",
        ),
        (  # a file of the system's zone database DuckDB does not know: a bug's exit 1
            {"sources": {"logs_timezone": "right/UTC"}},
            r"sources.logs_timezone: unknown time zone 'right/UTC'",
        ),
        (
            {"sources": {"log_clock_skew": "100000000000d"}},
            r"sources.log_clock_skew: '100000000000d' is longer than 366 days",
        ),
        (
            {"top": {"window_end": "9999-12-31T23:59:59"}},
            r"window_end: must be in the years 1970 to 2999, not 9999",
        ),
        (
            {"top": {"window_start": "0001-01-01T10:00:00", "window_end": "0001-01-01T12:00:00"}},
            r"window_start: must be in the years 1970 to 2999, not 1",
        ),
    ],
)
def test_mistakes_in_the_incident_file_name_the_file_and_the_key(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message) as error:
        load(tmp_path, **settings)
    assert "incident.toml" in str(error.value)


def test_a_byte_order_mark_before_the_incident_file_is_read_past(tmp_path):
    path = write_incident(tmp_path / "inc")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as some Windows editors save it
    assert incident.load(path).id == "INC-T"


@pytest.mark.parametrize("load", [incident.load, incident.load_policy])
def test_a_file_this_user_may_not_read_is_the_machine_refusing(tmp_path, monkeypatch, load):
    # chmod 000 (the tests run as root, who reads it anyway): a PermissionError's exit 4 said
    # to "free the space or make the folder writable"
    path = write_incident(tmp_path / "inc")
    real_read_text = Path.read_text

    def read_text(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    with pytest.raises(StorageError, match=r"inc/incident.toml: cannot be read by this user \("):
        load(path)


def test_an_incident_folder_whose_name_is_not_utf8_is_a_config_error_naming_it(tmp_path):
    # A folder copied from a Latin-1 share (`INC-\xe9`): its path reached pyarrow as text it
    # cannot encode, a UnicodeEncodeError's traceback (exit 1) when the tables were read.
    folder = write_incident(tmp_path / "inc").parent
    moved = os.fsencode(tmp_path) + b"/INC-\xe9"
    os.rename(os.fsencode(folder), moved)
    with pytest.raises(ConfigError, match=r"/INC-\\xe9/incident.toml: its path is not UTF-8"):
        incident.load(Path(os.fsdecode(moved)) / "incident.toml")


def test_a_table_file_linked_to_a_path_that_is_not_utf8_is_a_config_error(tmp_path):
    path = write_incident(tmp_path / "inc")
    target = os.fsencode(tmp_path) + b"/t-\xe9.parquet"
    os.rename(os.fsencode(path.parent / "transactions.parquet"), target)
    (path.parent / "transactions.parquet").symlink_to(os.fsdecode(target))
    with pytest.raises(ConfigError, match=r"/t-\\xe9.parquet: its path is not UTF-8"):
        incident.load(path)


def test_a_file_that_is_not_toml_is_a_config_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("id = \n")
    with pytest.raises(ConfigError, match=r"broken.toml: not a valid TOML file"):
        incident.load(path)


def test_a_toml_file_nested_too_deeply_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 20000 + "]" * 20000 + "\n")
    with pytest.raises(ConfigError, match=r"deep.toml: not a valid TOML file: nested too deeply"):
        incident.load(path)


@pytest.mark.parametrize("sign", ["", "-"])
def test_a_number_past_the_digits_python_reads_is_named_with_its_line(tmp_path, sign):
    # tomllib's int() refuses past 4,300 digits: it was a traceback, naming no file or key
    path = write_incident(tmp_path / "inc")
    text = path.read_text().replace(
        "[policy]\n", f"[policy]\nmin_minor = {{ USD = {sign}{'9' * 5000} }}\n"
    )
    path.write_text(text)
    line = text.splitlines().index(next(s for s in text.splitlines() if "min_minor" in s)) + 1
    with pytest.raises(
        ConfigError,
        match=rf"incident.toml: not a valid TOML file: line {line}: a number of 5,000 digits",
    ):
        incident.load(path)


@pytest.mark.parametrize(
    ("min_minor", "message"),
    [
        # past the largest amount, alone or beside other currencies, as an integer of any size,
        # a decimal or a text: each names the floor's own key
        ({"USD": 99999999999999999999999}, "must be at most 10,000,000,000,000,000"),
        ({"EUR": 5, "USD": 99999999999999999999999, "JPY": 1}, "must be at most"),
        ({"USD": 10**16 + 1}, "must be at most 10,000,000,000,000,000"),
        ({"USD": 1e30}, "must be a whole number of minor units >= 0, got 1E\\+30"),
        ({"USD": "99999999999999999999999"}, "must be a whole number of minor units >= 0, got the"),
        ({"USD": -99999999999999999999999}, "must be a whole number of minor units >= 0, got -9"),
    ],
)
@pytest.mark.parametrize("key", ["min_minor", "cap_minor", "flat_minor"])
def test_an_amount_past_the_largest_names_its_own_key(tmp_path, key, min_minor, message):
    policy = {"basis": "percent_of_failed_amount", "percent": 10, key: min_minor}
    path = write_incident(tmp_path / "inc", policy=policy)
    with pytest.raises(ConfigError, match=rf"incident.toml: policy.{key}.USD: {message}"):
        incident.load(path)


def test_a_byte_that_is_not_utf8_is_named_with_its_line(tmp_path):
    # It was "'utf-8' codec can't decode byte 0xe9 in position 27": an offset nobody can find
    path = write_incident(tmp_path / "inc", top={"title": "Cafe"})
    path.write_bytes(path.read_bytes().replace(b"Cafe", b"Caf\xe9"))  # saved as Latin-1
    with pytest.raises(
        ConfigError,
        match=r"incident.toml: not a valid TOML file: byte 0xe9 at byte 13 of line 2 is not UTF-8",
    ):
        incident.load(path)


@pytest.mark.parametrize("loop", ["incident.toml", "transactions.parquet"])
def test_a_loop_of_symbolic_links_is_a_config_error_naming_it(tmp_path, loop):
    # Python 3.11's resolve raises RuntimeError on a loop: a bug's exit 1
    path = write_incident(tmp_path / "inc")
    (path.parent / loop).unlink()
    (path.parent / loop).symlink_to(loop)
    with pytest.raises(ConfigError, match=rf"{loop}: a loop of symbolic links, not "):
        incident.load(path)


@pytest.mark.parametrize(
    "sources",
    [
        {"transactions": "tx\x00.parquet"},  # a TOML string may hold "\u0000"
        {"customers": {"duckdb": "pay\x00.duckdb", "table": "customers"}},
    ],
)
def test_a_table_path_holding_a_nul_is_a_config_error_naming_it(tmp_path, sources):
    # Path.resolve raised ValueError ("embedded null byte"): `credits run` exited 1
    path = write_incident(tmp_path / "inc", sources=sources)
    with pytest.raises(ConfigError, match=r"incident.toml: .*\\x00.*: a path cannot hold"):
        incident.load(path)


@pytest.mark.parametrize("link", ["incident.toml", "transactions.parquet"])
def test_a_link_to_nothing_is_named_as_written_with_its_target(tmp_path, link):
    # the message named only the target ("nothere.parquet: file not found"), not the file written
    path = write_incident(tmp_path / "inc")
    (path.parent / link).unlink()
    (path.parent / link).symlink_to("nothere")
    with pytest.raises(ConfigError, match=rf"{link}: a symbolic link to .*nothere, which does not"):
        incident.load(path)


def test_an_incident_file_that_is_a_named_pipe_is_refused_not_waited_on(tmp_path):
    # The read waited for a writer forever, as a table source's did
    path = tmp_path / "inc.toml"
    os.mkfifo(path)
    with pytest.raises(ConfigError, match=r"inc.toml: not a regular file \(a named pipe"):
        incident.load(path)


@pytest.mark.parametrize(
    ("names", "given", "listed"),
    [
        # A slip in the date: the folder's incident files, the closest named.
        (
            ["INC-2025-01-07.toml", "other.toml", "notes.txt"],
            "INC-2025-01-08.toml",
            "in {folder}: INC-2025-01-07.toml, other.toml (did you mean INC-2025-01-07.toml?)",
        ),
        ([], "nope.toml", "in {folder}: none there"),  # an empty folder says so
        # an incident kept in a folder of its own, with its logs and tables: named, not "none"
        (
            ["INC-B/INC-B.toml", "INC-B/logs/x.toml"],
            "nope.toml",
            "in {folder}: none there; in its folders: INC-B/INC-B.toml",
        ),
        # as the daily run names them: any case, a hidden folder's files (.git's) left out
        (
            ["INC-B/INC-B.TOML", ".git/config.toml"],
            "nope.toml",
            "in {folder}: none there; in its folders: INC-B/INC-B.TOML",
        ),
        (["a.toml"], "missing/INC.toml", "(the folder {folder}/missing does not exist)"),
    ],
)
def test_a_missing_incident_file_lists_the_incident_files_beside_it(tmp_path, names, given, listed):
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    with pytest.raises(ConfigError, match=r"incident file not found") as raised:
        incident.load(tmp_path / given)
    assert str(raised.value).endswith(listed.format(folder=tmp_path.resolve()))


@pytest.mark.parametrize(
    "given",
    [
        "INC-2025-01-07",  # the incident's id, from the project's folder
        "INC-2025-01-07.toml",
        "sample/INC-2025-01-07.toml",  # `data/` left off: a folder that does not exist
    ],
)
def test_an_incident_file_given_from_the_wrong_folder_names_where_it_is(tmp_path, given):
    # `credits window INC-2025-01-07` listed pyproject.toml as an incident file, not the file
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "data" / "sample").mkdir(parents=True)
    (tmp_path / "data" / "sample" / "INC-2025-01-07.toml").write_text("")
    (tmp_path / ".venv" / "INC-2025-01-07.toml").parent.mkdir()
    (tmp_path / ".venv" / "INC-2025-01-07.toml").write_text("")  # hidden folders: not searched
    with pytest.raises(ConfigError) as raised:
        incident.load(tmp_path / given)
    found = tmp_path.resolve() / "data" / "sample" / "INC-2025-01-07.toml"
    assert str(raised.value) == (
        f"{(tmp_path / given).resolve()}: incident file not found; did you mean {found}?"
    )


def test_the_sample_policy_hash_is_pinned(tmp_path):
    # The hash names runs and is in manifests and the warehouse: the same file must give the
    # same hash, byte for byte, whatever parses it (these values come from the first parser).
    path = tmp_path / "INC.toml"
    path.write_text(sample.INCIDENT_TOML)
    policy = incident.load(path).policy
    assert policy.sha256 == "57154e6e8151dd593f3b4fb9a2da5a9551617a5ab9acf6112bae0aa21262fbd0"
    path.write_text(
        sample.INCIDENT_TOML.replace('"flat_per_customer"', '"percent_of_failed_amount"')
        .replace("percent = 10", "percent = 12.50")
        .replace("min_minor = {}", "min_minor = { USD = 100, EUR = 50 }")
        .replace("cap_minor = {}", "cap_minor = { USD = 5000 }")
    )
    policy = incident.load(path).policy
    # one spelling per number: `12.50` is 12.5, as `12.5` and `1.25e1` are (the same policy,
    # the same hash, the one `12.5` always had; test_run_ids.py); the sample's `10` kept its own
    assert policy.as_json()["percent"] == "12.5"
    assert list(policy.as_json()["min_minor"]) == ["EUR", "USD"]  # currencies sorted
    assert policy.sha256 == "ae2b3da1a11943415019340196645e07b4e76140823a635f019655e5d2f0a2a7"


# The JSON Schema -----------------------------------------------------------------------------
SCHEMA = Path(__file__).parents[3] / "incident.schema.json"


def schema_errors(toml_text: str) -> list[str]:
    """What an editor would flag: the TOML as JSON (its date-times as text) against the schema."""
    data = json.loads(json.dumps(tomllib.loads(toml_text), default=lambda value: value.isoformat()))
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return [error.message for error in validator.iter_errors(data)]


def test_the_committed_schema_is_the_one_the_models_give():
    assert SCHEMA.read_text(encoding="utf-8") == incident.json_schema(), "run `make schema`"
    jsonschema.Draft202012Validator.check_schema(json.loads(incident.json_schema()))


def sample_with(old: str, new: str) -> str:
    assert old in sample.INCIDENT_TOML
    return sample.INCIDENT_TOML.replace(old, new)


@pytest.mark.parametrize(
    "text",
    [
        sample.INCIDENT_TOML,
        # TOML date-times, local or with an offset, as well as strings
        sample_with('window_start = "2025-01-07T14:15:00"', "window_start = 2025-01-07T14:15:00"),
        sample_with('window_end = "2025-01-07T18:15:00"', "window_end = 2025-01-07T23:15:00Z"),
        sample_with('window_end = "2025-01-07T18:15:00"', 'window_end = "2025-01-07t23:15:00z"'),
        sample_with("percent = 10", "percent = 12.5"),
        sample_with(
            'logs = ["logs/*.jsonl.gz"]', 'logs = "logs/*.jsonl.gz"\nlog_clock_skew = "2s"'
        ),
        sample_with(
            'customers = "customers.parquet"',
            'customers = { duckdb = "payments.duckdb", table = "main.customers" }',
        ),
        sample_with(
            'transactions = "transactions.parquet"',
            'transactions = { postgres = "env:PAYMENTS_DSN", query = "select 1", slack = "2 h" }',
        ),
        sample_with('customers = "customers.parquet"', 'customers = "customers.CSV"'),
        sample.INCIDENT_TOML + "\n[quality]\nmax_quarantined_share = 0.05\n",
        sample_with(
            "[policy]",
            '[sources.log_format]\nkind = "regex"\n'
            r"pattern = '(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)'"
            '\nts_format = "%Y-%m-%dT%H:%M:%S%z"\n\n[policy]',
        ),
    ],
)
def test_the_schema_accepts_what_the_parser_accepts(tmp_path, monkeypatch, text):
    monkeypatch.setenv("PAYMENTS_DSN", "postgresql://db/payments")
    path = tmp_path / "incident.toml"
    path.write_text(text)
    incident.load(path)
    assert schema_errors(text) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # a misspelled key, at each level
        (sample_with("flat_minor", "flat_mino"), "'flat_mino' was unexpected"),
        (sample_with("window_start", "window_strat"), "'window_strat' was unexpected"),
        (sample_with("logs =", "log ="), "'log' was unexpected"),
        (
            sample_with(
                'transactions = "transactions.parquet"',
                'transactions = { postgres = "env:X", table = "t", statment_timeout = "1s" }',
            ),
            "is not valid under any of the given schemas",
        ),
        # wrong values
        (sample_with('basis = "flat_per_customer"', 'basis = "generous"'), "'generous' is not one"),
        (sample_with("GBP = 800", "GBP = -1"), "-1 is less than the minimum of 0"),
        (sample_with("GBP = 800", "GBP = 8.5"), "8.5 is not of type 'integer'"),
        (sample_with('"INC-2025-01-07"', '"../etc"'), "'../etc' does not match"),
        (sample_with("credit_recovered = true", 'credit_recovered = "yes"'), "not of type"),
        (sample_with('"transactions.parquet"', '"transactions.json"'), "not valid under any"),
    ],
)
def test_the_schema_flags_a_misspelled_key_or_a_wrong_value(tmp_path, text, flagged):
    path = tmp_path / "incident.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        incident.load(path)
    errors = schema_errors(text)
    assert any(flagged in error for error in errors), errors


@pytest.mark.parametrize(
    ("names", "listed"),
    [
        (["INC-B.toml", "INC-A.toml", "notes.txt"], "(*.toml: INC-A.toml, INC-B.toml)"),
        ([], "(*.toml: none there)"),  # an empty folder says so
        (["INC-C/INC-C.toml"], "(*.toml: none there; in its folders: INC-C/INC-C.toml)"),
    ],
)
def test_a_folder_given_as_the_incident_file_lists_its_incident_files(tmp_path, names, listed):
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    with pytest.raises(ConfigError, match="a folder, not an incident file") as raised:
        incident.load(tmp_path)
    assert str(raised.value).endswith(listed)


def test_checking_a_regex_pattern_leaves_duckdbs_default_connection_free():
    # The pattern is tried in DuckDB (RE2); a result left pending on DuckDB's default connection
    # blocked the next statement anyone ran on it.
    incident.LogFormat.model_validate(
        {"kind": "regex", "pattern": r"(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)"}
    )
    assert duckdb.sql("select 42").fetchall() == [(42,)]


# A policy file (`credits what-if --policy`): a [policy] table with the incident file's checks.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a misspelt key: the file, the dotted key and a did-you-mean, as in an incident file
        ("[policy]\nflat_minr = { USD = 500 }\n", "policy.flat_minr: unknown key; did you mean"),
        # the policy's own checks
        ("[policy]\nbasis = 'percent_of_failed_amount'\n", "policy.percent: must be a positive"),
        ("[policy]\nflat_minor = { EUR = 1.5 }\n", "policy.flat_minor.EUR: must be a whole number"),
        # the keys without their table, or another table beside it
        (
            "basis = 'flat_per_customer'\nversion = 'v2'\n",
            "basis, version: the policy's keys go under a [policy] table: add the line [policy]",
        ),
        ("[policy]\n[polcy]\n", "polcy: unknown key; did you mean 'policy'?"),
        ("", "policy: is required"),
        ("[policy\n", "not a valid TOML file"),
    ],
)
def test_a_bad_policy_file_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        incident.load_policy(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_a_policy_file_is_read_as_the_same_table_in_an_incident_file(tmp_path):
    table = "[policy]\nversion = 'p2'\nbasis = 'percent_of_failed_amount'\npercent = 12.5\n"
    (tmp_path / "policy.toml").write_text(table, encoding="utf-8")
    path = write_incident(tmp_path / "inc")
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[policy]")] + table, encoding="utf-8")
    assert incident.load_policy(tmp_path / "policy.toml") == incident.load(path).policy
    # an incident file given as the policy: its own ("id: unknown key; known keys: ['policy']")
    assert incident.load_policy(path) == incident.load(path).policy
    with pytest.raises(ConfigError, match="policy file not found"):
        incident.load_policy(tmp_path / "missing.toml")


def test_the_segments_a_policy_may_exclude_are_those_the_gate_allows():
    import json
    from pathlib import Path

    from transforms.ingest.incident.sections import SEGMENTS

    suite = json.loads((Path(__file__).parents[3] / "expectations/customers.json").read_text())
    (allowed,) = [
        e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["kwargs"].get("column") == "segment" and "value_set" in e["kwargs"]
    ]
    assert tuple(allowed) == SEGMENTS


@pytest.mark.parametrize(
    ("given", "said"),
    [
        # a slip of the name: the folder's TOML files, the closest as a did-you-mean
        ("shre.toml", "the TOML files in {tmp}: rates.toml, share.toml (did you mean share.toml?)"),
        ("nothing-like.toml", "the TOML files in {tmp}: rates.toml, share.toml"),
        ("gone/share.toml", "the folder {tmp}/gone does not exist"),
    ],
)
def test_a_missing_policy_file_names_the_toml_files_beside_it(tmp_path, given, said):
    # `what-if --policy shre.toml` said only "shre.toml: policy file not found"
    for name in ("share.toml", "rates.toml"):
        (tmp_path / name).write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        incident.load_policy(tmp_path / given)
    assert str(raised.value) == (
        f"{tmp_path / given}: policy file not found; " + said.format(tmp=tmp_path)
    )


def test_a_rates_file_given_as_the_policy_says_to_give_it_as_rates(tmp_path):
    # `what-if --policy rates.toml` said "currency: unknown key; known keys: ['policy']"
    path = tmp_path / "rates.toml"
    path.write_text('currency = "USD"\n[rates]\nEUR = 1.05\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        incident.load_policy(path)
    assert str(raised.value) == (
        f"{path}: a rates file (currency, rates), not a policy: give it as --rates, and a file "
        "with a [policy] table as --policy"
    )


# TOML gives a key to the [table] line above it: a key written below the wrong one is named
# with the table it belongs to ("window_start: is required" and "known keys: [...]" sent the
# user looking for a key that was there, a line too low; "did you mean 'timezone'" of
# `logs_timezone` written at the top, another key).
@pytest.mark.parametrize(
    ("line", "below", "message"),
    [
        (  # a top-level key below [sources]
            'timezone = "America/New_York"\n',
            "[sources]\n",
            "sources.timezone: a key of the file's top, not of [sources]",
        ),
        (
            'window_start = "2025-01-07T14:15:00"\n',
            "[policy]\n",
            "policy.window_start: a key of the file's top, not of [policy]",
        ),
        (  # a policy key below [sources], a quality key below [policy]
            None,
            ("[sources]\ncredit_recovered = false\n"),
            "sources.credit_recovered: a key of [policy], not of [sources]",
        ),
        (
            None,
            "[policy]\nmax_quarantined_share = 0.05\n",
            "policy.max_quarantined_share: a key of [quality], not of [policy]",
        ),
        (  # a key of [sources] at the top
            None,
            'id = "INC-T"\nlogs_timezone = "UTC"\n',
            "logs_timezone: a key of [sources], not of the file's top",
        ),
    ],
)
def test_a_key_below_the_wrong_table_line_is_named_with_its_table(tmp_path, line, below, message):
    path = write_incident(tmp_path / "inc")
    text = path.read_text(encoding="utf-8")
    if line is None:  # `below` is added after its first line
        first = below.split("\n")[0] + "\n"
        assert first in text
        text = text.replace(first, below, 1)
    else:  # `line` moved below the line `below`
        assert line in text and below in text
        text = text.replace(line, "", 1).replace(below, below + line, 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        incident.load(path)
    assert str(raised.value).startswith(f"{path}: {message}"), str(raised.value)


@pytest.mark.parametrize("given", ["~/policy.toml", "$HOME/policy.toml", "${POLICIES}/p.toml"])
def test_a_policy_or_rates_file_written_with_a_shell_word_says_it_is_not_expanded(
    tmp_path, monkeypatch, given
):
    # as the incident file's message says it: "the folder .../~ does not exist" alone
    from transforms.ingest import rates

    monkeypatch.chdir(tmp_path)
    for load_it in (incident.load_policy, rates.load):
        with pytest.raises(ConfigError) as raised:
            load_it(Path(given))
        assert "does not exist; ~ and $VARIABLES are not expanded" in str(raised.value)
