"""The run report in a real browser (headless Chromium), and its place in the flow.

`make test` installs Debian's chromium when it is missing (as root, with apt-get); with CI=true
a missing browser fails the test, elsewhere it skips saying why (no root, no apt-get).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import golden_incident
from transforms.errors import ValidationRejected
from transforms.runfolder import report

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def golden_runs(prefect_harness, tmp_path_factory) -> dict[str, Path]:
    """The golden incident run twice through the flow: once passing, once rejected."""
    from flows.credit_reconciliation import credit_reconciliation

    folder = tmp_path_factory.mktemp("report")
    warehouse = str(folder / "warehouse.duckdb")
    passing = golden_incident.write(folder / "passing")
    summary = credit_reconciliation(str(passing), str(folder / "out"), warehouse)
    failing = golden_incident.write(folder / "failing")
    with (failing.parent / "logs/pod-a.jsonl").open("a") as log:
        log.write("garbage\n" * 5)  # too many malformed lines: the gate rejects the run
    with pytest.raises(ValidationRejected) as rejected:
        credit_reconciliation(str(failing), str(folder / "out"), warehouse)
    return {
        "passing": summary.run_folder,
        "rejected": rejected.value.summary.run_folder,
    }


@pytest.fixture(scope="module")
def browser() -> str:
    return find_browser()


def find_browser() -> str:
    """Chromium's path; without it the test fails under CI=true and skips elsewhere."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(missing_browser())
        pytest.skip(missing_browser())
    return path


def missing_browser() -> str:
    """Why there is no browser: `make test` installs Debian's chromium only as root with apt."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return (
            "chromium is not installed, and `make test` cannot install it here: that takes "
            "root and apt-get (Debian's chromium). Install chromium to run the browser test"
        )
    return "chromium is not installed: `make test` installs Debian's chromium (as root)"


def chromium(browser: str, profile: Path, *args: str) -> str:
    result = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_run_has_its_report_listed_in_the_manifest(golden_runs):
    for folder in golden_runs.values():
        listed = json.loads((folder / "manifest.json").read_text())["outputs"]
        assert "report.html" in listed and (folder / "report.html").exists()


def test_the_browser_shows_the_totals_and_the_chart(golden_runs, browser, tmp_path):
    page = golden_runs["passing"] / "report.html"
    dom = chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    for text in ("USD 20.00", "EUR 9.00", "JPY 1,500", "waiting for finance's approval"):
        assert text in dom
    assert "<svg" in dom and "outage window" in dom
    screenshot = tmp_path / "report.png"
    chromium(
        browser,
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1200,1800",
        page.as_uri(),
    )
    assert screenshot.stat().st_size > 20_000  # a page with a chart, not a blank one


def test_a_rejected_run_reports_why_in_the_browser(golden_runs, browser, tmp_path):
    page = golden_runs["rejected"] / "report.html"
    dom = chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert "Rejected by the quality gate" in dom
    assert "max_quarantined_share" in dom or "quarantined" in dom


def test_the_flow_links_the_report_and_its_summary_as_artifacts(golden_runs):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    key = report.artifact_key("INC-GOLD")
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key, f"{key}-page"]))
        )
    summaries = [a.data for a in found if a.key == key]
    links = [a.data for a in found if a.key == f"{key}-page"]  # Prefect stores links as markdown
    assert any("# INC-GOLD: pending approval" in text and "USD 20.00" in text for text in summaries)
    uri = (golden_runs["passing"] / "report.html").as_uri()
    assert f"[report.html]({uri})" in links


@pytest.mark.parametrize(
    ("root", "apt", "says"),
    [
        (False, True, "cannot install it here: that takes root and apt-get"),  # not root
        (True, False, "cannot install it here: that takes root and apt-get"),  # no apt
        (True, True, "`make test` installs Debian's chromium (as root)"),  # could, did not yet
    ],
)
def test_a_missing_browser_says_why(monkeypatch, root, apt, says):
    monkeypatch.setattr(os, "geteuid", lambda: 0 if root else 1000)
    monkeypatch.setattr(shutil, "which", lambda name: "/x" if name == "apt-get" and apt else None)
    assert says in missing_browser()


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [("true", pytest.fail.Exception), (None, pytest.skip.Exception), ("", pytest.skip.Exception)],
)
def test_a_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        find_browser()
