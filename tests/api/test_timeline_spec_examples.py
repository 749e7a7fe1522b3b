"""The timeline-service document's examples, sent verbatim, do what it says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import AuthHeaders

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "timeline_service"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return document


async def test_the_documents_examples_run_unchanged(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    created = await client.post("/v1/incidents", json=example("create-incident"), headers=auth())
    assert created.status_code == 201, created.text
    incident = created.json()
    assert (incident["project_id"], incident["service"], incident["severity"]) == (
        "proj_123",
        "api-gateway",
        "SEV1",
    )
    assert (incident["environment"], incident["detected_by"]) == ("production", "grafana")
    assert incident["correlation_keys"] == ["api-gw-500-spike"]
    assert incident["status"] == "OPEN"

    base = f"/v1/incidents/{incident['id']}"
    lead = auth("acme", "SRE_LEAD")
    status = await client.post(f"{base}/status", json=example("change-status"), headers=lead)
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "INVESTIGATING"

    action = await client.post(f"{base}/actions", json=example("add-action"), headers=auth())
    assert action.status_code == 200, action.text
    [recorded] = action.json()["actions"]
    assert recorded["action_kind"] == "NOTE"
    assert recorded["label"] == "Investigating database connection pool"
    assert recorded["details"] == "Checking if connection pool is exhausted"
    assert (recorded["actor_type"], recorded["actor_ref"]) == ("USER", "acme-user")

    # The document's list query: repeated status, a severity and a limit.
    listed = await client.get(
        "/v1/incidents?status=OPEN&status=INVESTIGATING&severity=SEV1&limit=20", headers=auth()
    )
    assert [row["id"] for row in listed.json()["items"]] == [incident["id"]]

    timeline = (await client.get(f"{base}/timeline", headers=auth())).json()["events"]
    assert [event["type"] for event in timeline] == [
        "INCIDENT_CREATED",
        "INCIDENT_STATUS_CHANGED",
        "INCIDENT_PLAYBOOK_ACTION_EXECUTED",
    ]
    assert timeline[1]["payload"]["reason"] == "Team is looking into the root cause"
