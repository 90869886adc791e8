"""The session's Prefect test server (`tests/conftest.py::prefect_harness`)."""

from __future__ import annotations

from tests.conftest import SERVER_SERVICES


def test_the_test_server_runs_no_background_service_and_answers_the_api(prefect_harness):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        services = client._client.get("/admin/settings").json()["server"]["services"]
        assert client.api_healthcheck() is None  # the API answers
    named = {
        n.removeprefix("PREFECT_SERVER_SERVICES_").removesuffix("_ENABLED").lower()
        for n in SERVER_SERVICES
    }
    assert named == set(services)  # every service Prefect has is in the list
    assert {name: services[name]["enabled"] for name in named} == dict.fromkeys(named, False)
