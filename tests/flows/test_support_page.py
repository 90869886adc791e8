"""The support page through Starlette's test client, on the inline-rows warehouse of support's
commands: search, a customer, an incident's list and its CSV, escaping, the token, read-only."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import socket
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from flows.cli import app as cli
from flows.support_page import app, command
from tests.support_warehouse import HOSTILE, SCRIPT, build
from transforms.errors import ConfigError

TOKEN = "s3cret-token-0123456789"


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("page") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def client(warehouse_path) -> TestClient:
    return TestClient(app.create(warehouse_path))


def test_the_home_page_lists_the_incidents_and_a_search_box(client):
    page = client.get("/")
    assert page.status_code == 200
    assert 'name="q"' in page.text
    assert 'href="/incidents/INC-A"' in page.text and "r2" in page.text
    assert "newest run x1 was rejected by the quality gate" in page.text  # INC-X: only rejected


@pytest.mark.parametrize("query", ["c2", "  c2 ", "C2@EXAMPLE.COM", "t3"])
def test_search_by_id_email_or_payment_finds_the_customer(client, query):
    page = client.get("/", params={"q": query})
    assert page.status_code == 200, page.text
    assert "Name c2" in page.text and "c2@example.com" in page.text
    for text in ("USD 10.00", "waiting for approval", "2025-01-07 16:05 EST", "t3"):
        assert text in page.text


def test_a_customer_page_says_what_lookup_says(client):
    page = client.get("/customers/c5")
    assert page.status_code == 200
    assert "credit owed, paid by finance by hand" in page.text
    assert "excluded" not in page.text
    paid = client.get("/customers/c20").text
    assert "Failed payments (from run r1, which paid them)" in paid
    assert "paid USD 7.00 in batch INC-A-B001 on 2025-01-08 (run r1)" in paid


NOT_FOUND = (404, "Not affected, or not found")


@pytest.mark.parametrize(
    ("url", "heading", "message"),
    [
        ("/?q=nobody", NOT_FOUND, "customer nobody: no failed payment, credit or exception"),
        ("/?q=C2", NOT_FOUND, "no customer C2; did you mean c2?"),
        ("/?q=T3", NOT_FOUND, "no transaction T3; did you mean t3?"),
        ("/customers/nobody", NOT_FOUND, "customer nobody: no failed payment"),
        ("/incidents/INC-NOPE", NOT_FOUND, "incident INC-NOPE: not in the warehouse"),
        # only characters no one sees (a zero-width space, a NUL, an escape): it answered 503
        # with the command line's words ("give a CUSTOMER_ID or --txn TXN_ID")
        *(
            (url, NOT_FOUND, "only characters no one sees")
            for url in ("/?q=%E2%80%8B", "/?q=%00", "/?q=%1b", "/customers/%E2%80%8B")
        ),
        # the incident is known: "not affected" would say the opposite of the message
        (
            "/incidents/INC-X",
            (404, "No answer yet for this incident"),
            "its newest run x1 was rejected by the quality gate",
        ),
        # a filter, not a customer: the heading says so, and the box's words are not the CLI's
        (
            "/incidents/INC-A?status=paid",
            (400, "Not a filter of this list"),
            "status: &#39;paid&#39; is not one of pending, published, by_hand, excluded, all; "
            "did you mean &#39;published&#39;?",
        ),
        (
            "/incidents/INC-A?segment=Internal",
            (400, "Not a filter of this list"),
            "segment: no customer of INC-A has segment &#39;Internal&#39;; did you mean",
        ),
    ],
)
def test_a_page_without_an_answer_says_why(client, url, heading, message):
    page = client.get(url)
    status, words = heading
    assert page.status_code == status
    assert f"<h1>{words}</h1>" in page.text and message in page.text
    assert "--status" not in page.text and "--segment" not in page.text


def test_the_segment_box_forgives_blanks(client):
    page = client.get("/incidents/INC-A", params={"segment": " internal "})
    assert page.status_code == 200 and customer_links(page) == {"c4"}


@pytest.mark.parametrize("url", ["/customers/", "/customers/%20"])
def test_a_customer_page_without_an_id_goes_to_the_search_box(client, url):
    # It answered 503 with the command line's words ("give a CUSTOMER_ID or --txn TXN_ID").
    page = client.get(url, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/")


@pytest.mark.parametrize(
    ("query", "location"), [("INC-A", "/incidents/INC-A"), (" INC-X ", "/incidents/INC-X")]
)
def test_an_incident_id_in_the_search_box_opens_its_page(client, query, location):
    # It was "Not affected, or not found": no customer, payment or name INC-A.
    page = client.get("/", params={"q": query}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, location)


def customer_links(page) -> set[str]:
    return {
        line.split('href="/customers/')[1].split('"')[0]
        for line in page.text.splitlines()
        if 'href="/customers/' in line
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "published"}, {"c1", "c20", "c22"}),
        ({"status": "by_hand"}, {"c5", "c21", "c23", "c24"}),
        ({"segment": "internal"}, {"c4"}),
        ({"segment": "internal", "status": "pending"}, set()),
    ],
)
def test_the_incident_list_has_the_filters_of_credits_customers(client, params, expected):
    page = client.get("/incidents/INC-A", params=params)
    assert page.status_code == 200
    assert customer_links(page) == expected


def test_the_csv_download_is_the_spreadsheet_safe_csv_of_credits_customers(client, warehouse_path):
    download = client.get("/incidents/INC-A.csv", params={"status": "pending"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text, newline="")))
    names = {row["customer_id"]: row["name"] for row in rows}
    assert all(names[c] == f"'{name}" for c, name in HOSTILE.items())
    assert {row["status"] for row in rows} == {"pending"}
    same = CliRunner().invoke(
        cli,
        ["customers", "INC-A", "--status", "pending", "--format", "csv"]
        + ["--warehouse", str(warehouse_path)],
    )
    assert download.content == same.stdout_bytes


def test_a_csv_download_with_a_filter_the_list_lacks_is_a_bad_request_as_its_page(client):
    # it answered 404 "--status: ...", a command's option, where the page answers 400
    for params, said in [
        ({"status": "paid"}, "status: 'paid' is not one of"),
        ({"segment": "nope"}, "segment: no customer of INC-A has segment 'nope'"),
    ]:
        page = client.get("/incidents/INC-A", params=params)
        download = client.get("/incidents/INC-A.csv", params=params)
        assert page.status_code == download.status_code == 400
        assert download.text.startswith(said)
    trimmed = client.get("/incidents/INC-A.csv", params={"status": " pending "})
    assert trimmed.content == client.get("/incidents/INC-A.csv?status=pending").content
    assert client.get("/incidents/NOPE.csv").status_code == 404


def test_names_that_are_markup_or_formulas_are_shown_as_text(client):
    for url in ("/incidents/INC-A", "/customers/c13", "/customers/c7"):
        page = client.get(url).text
        assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in client.get("/customers/c13").text
    assert SCRIPT not in client.get("/incidents/INC-A").text
    shown = client.get("/customers/c7").text
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;click&#34;)" in shown
    assert 'href="http://x"' not in shown
    assert "script-src" not in client.get("/").headers["content-security-policy"]


def test_a_query_that_is_markup_is_echoed_as_text(client):
    # (its words match no customer's name: c13's is markup too, and found by `script alert`)
    page = client.get("/", params={"q": '"><script>q()</script>'})
    assert page.status_code == 404 and "<script>q" not in page.text


@pytest.fixture(scope="module")
def guarded(warehouse_path) -> TestClient:
    return TestClient(app.create(warehouse_path, token=TOKEN))


@pytest.mark.parametrize("url", ["/", "/?q=c2", "/customers/c2", "/incidents/INC-A.csv"])
def test_with_a_token_every_request_must_carry_it(guarded, url):
    guarded.cookies.clear()
    assert guarded.get(url).status_code == 401
    assert guarded.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code in (200,)


def test_a_token_in_the_address_once_is_kept_in_a_cookie(guarded):
    guarded.cookies.clear()
    assert guarded.get("/", params={"token": "wrong"}).status_code == 401
    assert guarded.get("/", params={"token": TOKEN}).status_code == 200
    assert guarded.get("/customers/c2").status_code == 200  # the cookie now carries it
    guarded.cookies.clear()
    assert guarded.get("/customers/c2").status_code == 401


def test_no_write_is_possible(client, warehouse_path):
    before = hashlib.sha256(warehouse_path.read_bytes()).hexdigest()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for url in ("/", "/customers/c2", "/incidents/INC-A", "/incidents/INC-A.csv"):
            assert client.request(method, url).status_code == 405
    for url in ("/", "/?q=c2", "/incidents/INC-A", "/incidents/INC-A.csv"):
        client.get(url)
    assert hashlib.sha256(warehouse_path.read_bytes()).hexdigest() == before


def test_the_page_reads_through_a_read_only_connection(warehouse_path):
    import duckdb

    from transforms.serving import support

    with support.connect(warehouse_path) as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("delete from ledger")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True)]
    + [("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.org", False)],
)
def test_only_loopback_addresses_go_without_a_token(host, loopback):
    assert command.is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "--host 0.0.0.0: other machines could reach the page"),
        (["--host", "0.0.0.0", "--token", "short"], "--token: use at least 16 characters"),
    ],
)
def test_serve_support_refuses_an_open_address_without_a_token(warehouse_path, args, message):
    result = CliRunner().invoke(
        cli, ["serve-support", *args, "--warehouse", str(warehouse_path)], env={}
    )
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_serve_support_on_a_port_in_use_exits_2_before_announcing_the_page(warehouse_path):
    # uvicorn alone announced nothing wrong, then exited 3 (the gate's code) when it could not bind
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve-support", "--port", str(port), "--warehouse", str(warehouse_path)]
        )
    assert result.exit_code == 2, result.output
    assert f"--host 127.0.0.1 --port {port}: cannot listen there" in " ".join(result.stderr.split())
    assert "support page on" not in result.stdout


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("192.0.2.1", "192.0.2.1 is not an address of this machine"),  # TEST-NET-1
        ("no-such-host.invalid", "no-such-host.invalid is not an address of this machine"),
    ],
)
def test_serve_support_on_an_address_not_of_this_machine_says_so(warehouse_path, host, said):
    # It said "another program (a support page already served?) may have it: give another
    # --port": no port would do.
    result = CliRunner().invoke(
        cli,
        ["serve-support", "--host", host, "--token", TOKEN, "--warehouse", str(warehouse_path)],
    )
    assert result.exit_code == 2, result.output
    told = " ".join(result.stderr.split())
    assert f"--host {host} --port 8765: cannot listen there" in told and said in told
    assert "another --port" not in told and "support page on" not in result.stdout


def test_serve_support_on_a_privileged_port_says_which_ports_do(monkeypatch):
    # as a user other than root, `--port 80` is refused by the system, not taken by a program
    def refused(sock, address):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refused)
    with pytest.raises(ConfigError) as raised:
        command.listen("127.0.0.1", 80)
    assert "a port below 1024 needs privileges: give a --port of 1024 or more" in str(raised.value)


def test_serve_support_names_a_missing_warehouse(tmp_path):
    result = CliRunner().invoke(cli, ["serve-support", "--warehouse", str(tmp_path / "no.duckdb")])
    assert result.exit_code == 2 and "no warehouse yet" in result.stderr


def test_a_long_list_comes_in_pages_that_keep_the_filters(client, monkeypatch):
    monkeypatch.setattr(app, "PAGE_SIZE", 5)
    pages = [
        client.get("/incidents/INC-A", params={"status": "all", "page": n}) for n in (1, 2, 3, 4)
    ]
    seen = [customer_links(p) for p in pages]
    assert [len(s) for s in seen] == [5, 5, 5, 3] and len(set().union(*seen)) == 18
    assert "Lines 6 to 10 of 18" in pages[1].text
    assert 'href="/incidents/INC-A?status=all&amp;page=3" rel="next"' in pages[1].text
    assert customer_links(client.get("/incidents/INC-A?page=99")) == seen[3]  # the last page
    assert customer_links(client.get("/incidents/INC-A?page=x")) == seen[0]


def test_a_busy_warehouse_gets_a_page_saying_so(warehouse_path, monkeypatch):
    from transforms.finance import warehouse
    from transforms.serving import support

    def busy(path):
        raise warehouse.WarehouseBusy(f"{path}: a run is writing; try again in a moment")

    monkeypatch.setattr(support, "connect", busy)
    page = TestClient(app.create(warehouse_path)).get("/?q=c2")
    assert page.status_code == 503 and "try again in a moment" in page.text


def test_an_incident_whose_id_ends_in_csv_has_its_page_and_its_download(tmp_path):
    # The ids allow it; the CSV route took its page's address and answered 404.
    from tests.support_warehouse import add_candidate, add_credit, add_customer, add_run
    from transforms.finance import warehouse

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "z1", "pending_approval", "2025-01-08T01:00:00Z", incident="INC.csv")
        add_candidate(con, "z1", "t1", "c1", incident="INC.csv")
        add_credit(con, "z1", "c1", 1000, incident="INC.csv")
        add_customer(con, "z1", "c1")
    pages = TestClient(app.create(path))
    page = pages.get("/incidents/INC.csv")
    assert page.status_code == 200 and "c1" in page.text and "INC.csv" in page.text
    download = pages.get("/incidents/INC.csv.csv")
    assert download.status_code == 200 and download.text.splitlines()[1].startswith("c1,")
    assert "attachment; filename=INC.csv-customers.csv" in download.headers["content-disposition"]
    assert pages.get("/incidents/NOPE.csv").status_code == 404


def test_the_search_box_finds_a_known_id_that_starts_with_a_blank(tmp_path):
    from tests.support_warehouse import add_candidate, add_credit, add_customer, add_run
    from transforms.finance import warehouse

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "z1", "pending_approval", "2025-01-08T01:00:00Z")
        for number, known in enumerate([" case", "case"]):
            add_candidate(con, "z1", f"t{number}", known)
            add_credit(con, "z1", known, 100)
            add_customer(con, "z1", known, name=f"person {number}")
    pages = TestClient(app.create(path))
    assert "person 0" in pages.get("/", params={"q": " case"}).text
    assert "person 1" in pages.get("/", params={"q": "case "}).text  # a paste, trimmed


@pytest.mark.parametrize(
    ("signame", "code"),
    [
        ("SIGINT", 0),  # Ctrl-C: stopped, as asked
        # a supervisor's stop: 128 + n and one line (the console's guard, kept for the whole
        # command, once turned it into exit 0)
        ("SIGTERM", 143),
    ],
)
def test_serve_support_serves_and_ctrl_c_ends_it_with_exit_0(warehouse_path, signame, code):
    import signal
    import subprocess
    import sys
    import urllib.request

    from tests.waiting import until

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    command = [sys.executable, "-m", "flows.cli", "serve-support", "--port", str(port)]
    page = subprocess.Popen(
        [*command, "--warehouse", str(warehouse_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = page.stdout.readline()  # "support page on http://127.0.0.1:PORT/ ..."
        address = first.split()[3]
        assert first.startswith(f"support page on http://127.0.0.1:{port}/"), first
        answered: list[int] = []

        def answers() -> bool:
            try:
                answered.append(urllib.request.urlopen(address, timeout=10).status)
            except OSError:  # not listening yet
                return False
            return True

        assert until(answers, seconds=60) and answered == [200]
        page.send_signal(signal.Signals[signame])
        assert page.wait(timeout=60) == code, page.stderr.read()
        said = page.stderr.read()
        assert "Traceback" not in said
        # it only reads: it said "(what it committed stays)", as if it had committed something,
        # then "run it again", as if a supervisor's stop of a server were a failure
        assert code == 0 or said == (
            f"stopped by {signame}: the support page stopped serving; it only reads, so nothing "
            "changed\n"
        )
        assert said == "" or code != 0
    finally:
        page.kill()


def test_a_customer_id_holding_a_line_feed_has_its_page(tmp_path):
    from tests.support_warehouse import add_candidate, add_credit, add_customer, add_run
    from transforms.finance import warehouse

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "z1", "pending_approval", "2025-01-08T01:00:00Z")
        add_candidate(con, "z1", "t1", "c\nnl")
        add_credit(con, "z1", "c\nnl", 100)
        add_customer(con, "z1", "c\nnl", name="person nl")
    page = TestClient(app.create(path)).get("/customers/c%0Anl")
    assert page.status_code == 200 and "person nl" in page.text


@pytest.mark.parametrize(
    ("typed", "shown", "status"),
    [
        # a NUL or a right-to-left override is dropped from an id, as a blank around it is
        ("c2\x00", "c2?", 200),
        ("c\u202e2", "c?2", 200),
        # an escape sequence leaves more than the id behind: not found
        ("\x1b[2Jc2", "?[2Jc2", 404),
    ],
)
def test_a_control_character_typed_into_the_search_box_is_not_sent_on(client, typed, shown, status):
    page = client.get("/", params={"q": typed})
    assert page.status_code == status
    assert typed not in page.text and shown in page.text


def test_an_address_several_customers_have_lists_each_to_pick(tmp_path):
    # A business's billing address: the page said "Not affected, or not found" (each was).
    from tests.support_warehouse import add_candidate, add_credit, add_run, insert
    from transforms.finance import warehouse
    from transforms.serving import pasted, support

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "z1", "pending_approval", "2025-01-08T01:00:00Z")
        for customer_id in ("b1", "b2"):
            add_candidate(con, "z1", f"t-{customer_id}", customer_id)
            add_credit(con, "z1", customer_id, 100)
            insert(
                con,
                "run_customers",
                run_id="z1",
                customer_id=customer_id,
                name="Brown",
                email="billing@brown.example",
                country="US",
                segment="business",
                status="active",
            )
    with support.connect(path) as con, pytest.raises(pasted.SharedEmail) as shared:
        support.lookup(con, "Billing@Brown.example ")
    assert shared.value.customer_ids == ("b1", "b2") and shared.value.exit_code == 2
    page = TestClient(app.create(path)).get("/", params={"q": "billing@brown.example"})
    assert page.status_code == 200 and "Several customers have this address" in page.text
    assert customer_links(page) == {"b1", "b2"}


@pytest.mark.parametrize(
    "name", ["Mohammad\u200cReza", "Ka\u00adtrin", "\U0001f469\u200d\U0001f4bb"]
)
def test_a_name_written_with_a_joiner_or_a_soft_hyphen_is_shown_as_it_is(name):
    from transforms.pages import visible

    assert visible(name) == name
    assert visible("a\u202eb\u200fc") == "a?b?c"  # direction marks still are not
