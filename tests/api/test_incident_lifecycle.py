"""Creating, reading and changing incidents over HTTP."""

from __future__ import annotations

import httpx

from tests.api.conftest import AuthHeaders
from tests.api.helpers import create


async def test_create_returns_the_snapshot(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    incident = await create(
        client,
        auth("acme", "ANALYST"),
        title="  Payments 5xx ",
        severity="SEV1",
        service="payments",
        environment="prod",
        description="error rate 12%",
        enrichments={"target_project": "PAY"},
    )
    assert incident["id"].startswith("inc_")
    assert {k: incident[k] for k in ("title", "severity", "original_severity", "status")} == {
        "title": "Payments 5xx",
        "severity": "SEV1",
        "original_severity": "SEV1",
        "status": "OPEN",
    }
    assert incident["enrichments"] == {"target_project": "PAY"}
    assert (incident["signals"], incident["actions"], incident["resolved_at"]) == ([], [], None)
    fetched = await client.get(f"/v1/incidents/{incident['id']}", headers=auth("acme", "VIEWER"))
    assert fetched.json() == incident


async def test_status_lifecycle_valid_and_invalid(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth())
    url = f"/v1/incidents/{incident['id']}/status"
    for status in ("INVESTIGATING", "MITIGATED", "RESOLVED"):
        response = await client.post(url, json={"status": status}, headers=auth())
        assert (response.status_code, response.json()["status"]) == (200, status)
    assert response.json()["resolved_at"] is not None

    invalid = await client.post(url, json={"status": "MITIGATED"}, headers=auth())
    assert invalid.status_code == 409
    assert invalid.json() == {
        "detail": "cannot change status from RESOLVED to MITIGATED; allowed: OPEN"
    }
    same = await client.post(url, json={"status": "RESOLVED"}, headers=auth())
    assert (same.status_code, same.json()["detail"]) == (
        409,
        "incident is already RESOLVED; allowed: OPEN",
    )

    reopened = await client.post(
        url, json={"status": "OPEN", "reason": "came back"}, headers=auth()
    )
    assert (reopened.json()["status"], reopened.json()["resolved_at"]) == ("OPEN", None)
    timeline = await client.get(f"/v1/incidents/{incident['id']}/timeline", headers=auth())
    last = timeline.json()["events"][-1]
    assert (last["type"], last["payload"]) == (
        "INCIDENT_STATUS_CHANGED",
        {"from": "RESOLVED", "to": "OPEN", "reason": "came back"},
    )


async def test_severity_actions_signals_and_enrichments(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth())
    base = f"/v1/incidents/{incident['id']}"
    severity = await client.post(f"{base}/severity", json={"severity": "SEV1"}, headers=auth())
    assert (severity.json()["severity"], severity.json()["original_severity"]) == ("SEV1", "SEV2")
    again = await client.post(f"{base}/severity", json={"severity": "SEV1"}, headers=auth())
    assert (again.status_code, again.json()["detail"]) == (409, "incident is already SEV1")

    await client.post(f"{base}/actions", json={"action": "restart", "result": "ok"}, headers=auth())
    await client.post(
        f"{base}/signals", json={"source": "prometheus", "summary": "p99 3s"}, headers=auth()
    )
    enriched = await client.post(
        f"{base}/enrichments",
        json={"enrichments": {"ticket_id": "OPS-4", "ticket_url": "https://jira/OPS-4"}},
        headers=auth("acme", "ANALYST"),
    )
    body = enriched.json()
    (action,) = body["actions"]
    assert (action["label"], action["action_kind"]) == ("restart → ok", "OTHER")
    assert (action["actor_type"], action["actor_ref"]) == ("USER", "acme-user")
    assert body["signals"][0]["summary"] == "p99 3s"
    assert body["enrichments"]["ticket_url"] == "https://jira/OPS-4"
    assert body["last_seq"] == 5

    timeline = (await client.get(f"{base}/timeline", headers=auth("acme", "VIEWER"))).json()
    assert [event["seq"] for event in timeline["events"]] == [1, 2, 3, 4, 5]
    assert timeline["events"][0]["actor"] == "acme-user"


async def test_unknown_incident_is_404(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    for response in (
        await client.get("/v1/incidents/inc_nope", headers=auth()),
        await client.get("/v1/incidents/inc_nope/timeline", headers=auth()),
        await client.post(
            "/v1/incidents/inc_nope/status", json={"status": "MITIGATED"}, headers=auth()
        ),
    ):
        assert response.json() == {"detail": "incident inc_nope not found"}
        assert response.status_code == 404
