"""The shipped ServiceNow workflows, end to end: the org's form chooses the ticketing system
per incident → Temporal → ServiceNow (FakeServiceNow, real pysnow) → incident → notification
→ resolve → work note and Resolved state."""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from connectors.servicenow import correlation_id
from tests.fakes.jira_server import FakeJira
from tests.fakes.servicenow_server import FakeServiceNow
from tests.platform.conftest import jira_providers
from tests.platform.harness import Platform, eventually, make_settings, running_platform

CREATE_RUN = "servicenow-incident-integration"
RESOLVE_RUN = "servicenow-resolve-ticket"
FORM = {
    "name": "Incident form",
    "fields": [
        {
            "name": "ticketing_system",
            "label": "Ticketing System",
            "type": "radio",
            "required": True,
            "options": ["jira", "servicenow"],
            "default_value": "jira",
        },
        {
            "name": "target_project",
            "label": "Jira Project",
            "type": "select",
            "options": ["OPS"],
            "default_value": "OPS",
        },
    ],
}


@pytest.fixture
def fake_servicenow() -> Iterator[FakeServiceNow]:
    with FakeServiceNow() as fake:
        yield fake


def servicenow_providers(fake: FakeServiceNow) -> dict[str, object]:
    auth = {"service_now_base_url": fake.url, "username": fake.USER, "password": fake.PASSWORD}
    return {"servicenow": {"type": "servicenow", "authentication": auth}}


@pytest.fixture
async def platform(
    tmp_path: Path,
    temporal_env: WorkflowEnvironment,
    fake_jira: FakeJira,
    fake_servicenow: FakeServiceNow,
    workflows_dir: Path,
) -> AsyncIterator[Platform]:
    providers = {**jira_providers(fake_jira), **servicenow_providers(fake_servicenow)}
    settings = make_settings(tmp_path, temporal_env, workflows_dir, providers)
    async with running_platform(settings, temporal_env) as running:
        response = await running.http.post(
            "/v1/incidents/form-schema", json=FORM, headers=running.auth()
        )
        assert response.status_code == 201, response.text
        yield running


async def _ticketed(platform: Platform, incident_id: str) -> dict[str, Any] | None:
    incident = await platform.incident(incident_id)
    return incident if incident["enrichments"].get("ticket_created_at") else None


async def _opened(platform: Platform, fake: FakeServiceNow, **fields: Any) -> dict[str, Any]:
    incident = await platform.create_incident(
        enrichments={"ticketing_system": "servicenow"}, **fields
    )
    return await eventually(lambda: _ticketed(platform, incident["id"]))


async def test_servicenow_chosen_opens_one_ticket_links_it_and_notifies(
    platform: Platform, fake_servicenow: FakeServiceNow, fake_jira: FakeJira
) -> None:
    incident = await _opened(platform, fake_servicenow, title="Checkout 5xx", severity="SEV1")

    [record] = fake_servicenow.incidents.values()
    enrichments = incident["enrichments"]
    assert enrichments["ticket_type"] == "servicenow"
    assert enrichments["ticket_id"] == record["number"] == "INC0010001"
    assert enrichments["ticket_sys_id"] == record["sys_id"]
    assert (
        enrichments["ticket_url"] == f"{fake_servicenow.url}/incident.do?sys_id={record['sys_id']}"
    )
    [ref] = incident["external_refs"]
    assert (ref["system"], ref["id"]) == ("servicenow", "INC0010001")
    assert record["short_description"] == "[SEV1] Checkout 5xx"
    assert (record["urgency"], record["impact"], record["priority"]) == ("1", "1", "1")
    run_id = f"acme:{incident['id']}:{CREATE_RUN}:1"
    assert record["correlation_id"] == correlation_id(f"{run_id}/create-servicenow-incident/0")
    assert fake_jira.issues == []  # the form chose ServiceNow, not Jira

    notes = await eventually(lambda: _titled(platform, "ServiceNow incident INC0010001 opened"))
    links = {link["text"]: link for link in notes["links"]}
    assert links["INC0010001"] == {
        "text": "INC0010001",
        "url": enrichments["ticket_url"],
        "external": True,
    }
    assert links[f"Incident {incident['id']}"]["external"] is False


async def _titled(platform: Platform, title: str) -> dict[str, Any] | None:
    return next((n for n in await platform.notifications() if n["title"] == title), None)


async def test_jira_chosen_opens_no_servicenow_ticket(
    platform: Platform, fake_servicenow: FakeServiceNow, fake_jira: FakeJira
) -> None:
    incident = await platform.create_incident(enrichments={"ticketing_system": "jira"})

    ticketed = await eventually(lambda: _ticketed(platform, incident["id"]))

    assert ticketed["enrichments"]["ticket_type"] == "jira"
    assert [issue.key for issue in fake_jira.issues] == ["OPS-1"]
    assert fake_servicenow.incidents == {}


async def test_resolving_the_incident_notes_and_resolves_the_ticket_once(
    platform: Platform, fake_servicenow: FakeServiceNow
) -> None:
    incident = await _opened(platform, fake_servicenow)
    fake_servicenow.fail_next_write_after_commit("PATCH")  # the first answer is lost

    response = await platform.http.post(
        f"/v1/incidents/{incident['id']}/status",
        json={"newStatus": "RESOLVED", "reason": "fixed"},
        headers=platform.auth(),
    )
    assert response.status_code == 200, response.text

    record = fake_servicenow.incident("INC0010001")
    await eventually(lambda: _resolved(fake_servicenow), timeout=60)
    assert record["close_code"] == "Solved (Permanently)"
    assert record["close_notes"] == "Resolved in Fireline: Checkout 5xx"
    [note] = fake_servicenow.notes(record["sys_id"])
    assert f"Fireline incident {incident['id']} was resolved" in note
    done = "Incident resolved; ServiceNow incident INC0010001 resolved."
    assert await eventually(lambda: _message(platform, done))


async def _resolved(fake: FakeServiceNow) -> bool:
    return fake.incident("INC0010001")["state"] == "6"


async def _message(platform: Platform, text: str) -> bool:
    return text in await platform.messages()


async def test_a_lost_create_answer_still_leaves_one_ticket(
    platform: Platform, fake_servicenow: FakeServiceNow
) -> None:
    fake_servicenow.fail_next_write_after_commit("POST")

    incident = await _opened(platform, fake_servicenow)

    assert len(fake_servicenow.incidents) == 1
    assert incident["enrichments"]["ticket_id"] == "INC0010001"


async def test_the_password_never_reaches_history_logs_or_the_api(
    platform: Platform, fake_servicenow: FakeServiceNow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    incident = await _opened(platform, fake_servicenow)

    history = await platform.client.get_workflow_handle(
        f"acme:{incident['id']}:{CREATE_RUN}:1"
    ).fetch_history()
    workflows = await platform.http.get("/v1/workflows", headers=platform.auth())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for place in (json.dumps(history.to_json_dict()), workflows.text, logged):
        assert FakeServiceNow.PASSWORD not in place


async def test_a_data_policy_refusal_fails_the_step_naming_the_fields(
    platform: Platform, fake_servicenow: FakeServiceNow
) -> None:
    fake_servicenow.mandatory_on_resolve = ("assignment_group",)
    incident = await _opened(platform, fake_servicenow)

    await platform.http.post(
        f"/v1/incidents/{incident['id']}/status",
        json={"newStatus": "RESOLVED", "reason": "fixed"},
        headers=platform.auth(),
    )

    run_id = await eventually(lambda: _run_of(platform, incident["id"], RESOLVE_RUN))
    reasons = await platform.failure_of(run_id)
    assert "step 'resolve-servicenow-incident'" in reasons
    assert "data policy requires assignment_group" in reasons
    assert fake_servicenow.incident("INC0010001")["state"] == "1"


async def _run_of(platform: Platform, incident_id: str, workflow_id: str) -> str | None:
    response = await platform.http.get(f"/v1/incidents/{incident_id}/runs", headers=platform.auth())
    runs = [run["run_id"] for run in response.json() if run["workflow_id"] == workflow_id]
    return runs[0] if runs else None


# ------------------------------------------------- an org's own instance, in its connection store


@pytest.fixture
def tls_servicenow(
    tls_context: ssl.SSLContext,
    tls_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FakeServiceNow]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_certificate[0]))  # trust the fake's cert
    with FakeServiceNow(ssl_context=tls_context) as fake:
        yield fake


@pytest.fixture
async def store_platform(
    tmp_path: Path, temporal_env: WorkflowEnvironment, fake_jira: FakeJira, workflows_dir: Path
) -> AsyncIterator[Platform]:
    """Jira in the providers file; ServiceNow only in an org's connection store."""
    settings = make_settings(tmp_path, temporal_env, workflows_dir, jira_providers(fake_jira))
    async with running_platform(settings, temporal_env) as running:
        yield running


async def test_an_orgs_stored_connection_opens_its_ticket_and_other_orgs_get_none(
    store_platform: Platform, tls_servicenow: FakeServiceNow
) -> None:
    port = int(tls_servicenow.url.rsplit(":", 1)[1])
    connection = {
        "name": "servicenow",
        "kind": "servicenow",
        "host": "127.0.0.1",
        "port": port,
        "username": FakeServiceNow.USER,
        "credential": {"kind": "password", "secret": FakeServiceNow.PASSWORD},
    }
    created = await store_platform.http.post(
        "/v1/connections", json=connection, headers=store_platform.auth()
    )
    assert created.status_code == 201, created.text
    assert FakeServiceNow.PASSWORD not in created.text

    incident = await store_platform.create_incident(enrichments={"ticketing_system": "servicenow"})
    ticketed = await eventually(lambda: _ticketed(store_platform, incident["id"]))
    assert ticketed["enrichments"]["ticket_id"] == "INC0010001"
    assert ticketed["enrichments"]["ticket_url"].startswith(f"https://127.0.0.1:{port}/")

    other = await store_platform.create_incident(
        "globex", enrichments={"ticketing_system": "servicenow"}
    )
    run_id = f"globex:{other['id']}:{CREATE_RUN}:1"
    reasons = await store_platform.failure_of(run_id)
    assert "POST /v1/connections (kind servicenow)" in reasons
    assert len(tls_servicenow.incidents) == 1


# ------------------------------------------------------- ServiceNow -> Fireline -> ServiceNow


async def _webhook(platform: Platform, record: dict[str, Any]) -> dict[str, Any]:
    body = {**record, "instance_url": "https://acme.service-now.com"}
    response = await platform.http.post(
        "/v1/webhooks/servicenow", json=body, headers=platform.auth()
    )
    assert response.status_code in (200, 201, 202), response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _events(platform: Platform, incident_id: str) -> list[dict[str, Any]]:
    response = await platform.http.get(
        f"/v1/incidents/{incident_id}/timeline", headers=platform.auth()
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def test_a_servicenow_incident_round_trips_without_echoes(
    platform: Platform, fake_servicenow: FakeServiceNow
) -> None:
    raised = fake_servicenow.add_incident(short_description="Payments API down", urgency="1")
    answer = await _webhook(platform, raised)
    [created] = answer["incidents"]
    incident = await platform.incident(created["incidentId"])
    assert incident["enrichments"]["ticket_type"] == "servicenow"
    assert incident["enrichments"]["ticket_id"] == raised["number"]

    resolved = await platform.http.post(
        f"/v1/incidents/{incident['id']}/status",
        json={"newStatus": "RESOLVED", "reason": "fixed"},
        headers=platform.auth(),
    )
    assert resolved.status_code == 200, resolved.text
    await eventually(lambda: _resolved_number(fake_servicenow, raised["number"]), timeout=60)
    run_id = await eventually(lambda: _run_of(platform, incident["id"], RESOLVE_RUN))
    await platform.client.get_workflow_handle(run_id).result()
    before = await _events(platform, incident["id"])
    assert [e["type"] for e in before][-1:] == ["INCIDENT_STATUS_CHANGED"]
    runs_before = await _runs(platform, incident["id"])

    # ServiceNow posts Fireline's own resolve back: it is recognised and changes nothing.
    echo = await _webhook(platform, fake_servicenow.incident(raised["number"]))

    assert echo["incidents"] == []
    assert "Fireline's own change" in echo["ignored"]
    assert await _events(platform, incident["id"]) == before
    assert await _runs(platform, incident["id"]) == runs_before
    assert len(fake_servicenow.incidents) == 1  # and Fireline opened no second ticket


async def _resolved_number(fake: FakeServiceNow, number: str) -> bool:
    return fake.incident(number)["state"] == "6"


async def _runs(platform: Platform, incident_id: str) -> list[str]:
    response = await platform.http.get(f"/v1/incidents/{incident_id}/runs", headers=platform.auth())
    return sorted(run["run_id"] for run in response.json())
