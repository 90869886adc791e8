"""The session's Prefect test server (`tests/conftest.py::prefect_harness`)."""

from __future__ import annotations

import httpx

from tests.conftest import SERVER_SERVICES


def test_the_test_server_runs_no_background_service_and_answers_the_api(prefect_harness):
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    assert httpx.get(f"{api}/health").json() is True  # the API answers
    services = httpx.get(f"{api}/admin/settings").json()["server"]["services"]
    assert set(SERVER_SERVICES) == set(services)  # every service Prefect has is in the list
    assert {name: services[name]["enabled"] for name in SERVER_SERVICES} == dict.fromkeys(
        SERVER_SERVICES, False
    )


def test_the_in_process_runs_send_no_events(prefect_harness):
    # the server's event services are off: what the runs would send is dropped in the process
    from prefect.events.clients import NullEventsClient
    from prefect.events.worker import EventsWorker

    assert EventsWorker.instance().client_type is NullEventsClient
