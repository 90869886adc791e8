"""The support page in a real browser (headless Chromium), served by uvicorn as
`credits serve-support` serves it: search a customer and read the result."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import uvicorn

from flows.support_page import app
from tests.flows import test_report_browser as report_browser
from tests.support_warehouse import build

browser = report_browser.browser  # the fixture: skipped (or failed under CI=true) without chromium
chromium = report_browser.chromium


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> str:
    warehouse = build(tmp_path_factory.mktemp("browser") / "warehouse.duckdb")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app.create(warehouse), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):  # waits for the server to listen (not a timed assertion)
        if server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert server.started, "the support page did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_the_browser_searches_a_customer_and_reads_the_answer(served, browser, tmp_path):
    home = chromium(browser, tmp_path / "profile", "--dump-dom", f"{served}/")
    assert 'name="q"' in home and "INC-A" in home
    # the search box is a GET form: submitting it opens this address
    found = chromium(
        browser,
        tmp_path / "profile",
        "--dump-dom",
        f"{served}/?{urlencode({'q': ' C5@Example.com '})}",
    )
    for text in ("Name c5", "USD 10.00", "credit owed, paid by finance by hand", "14:20 EST"):
        assert text in found
    listed = chromium(browser, tmp_path / "profile", "--dump-dom", f"{served}/incidents/INC-A")
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in listed  # shown as text, never run
    missing = chromium(browser, tmp_path / "profile", "--dump-dom", f"{served}/?q=C5")
    assert "no customer C5; did you mean c5?" in missing


def test_the_browser_draws_the_customer_page(served, browser, tmp_path):
    screenshot = tmp_path / "support.png"
    chromium(
        browser,
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1200,900",
        f"{served}/customers/c20",
    )
    assert Path(screenshot).stat().st_size > 10_000  # a drawn page, not a blank one
