"""The shipped Jira workflow, end to end: incident → Temporal → Jira → incident → SSE."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

from tests.conftest import VENV_BIN
from tests.fakes.jira_server import FakeJira
from tests.platform.conftest import JIRA_TOKEN
from tests.platform.harness import Platform, eventually
from tests.platform.ingest_helpers import all_dispatched
from tests.platform.sse import sse_events


async def _ticketed(platform: Platform, incident_id: str) -> dict[str, Any] | None:
    """The incident once the workflow wrote the ticket back (its last enrichment); the
    Jira step's own ticket link lands a moment before."""
    incident = await platform.incident(incident_id)
    return incident if incident["enrichments"].get("ticket_created_at") else None


async def _first_notification(platform: Platform) -> dict[str, Any]:
    async with platform.http.stream(
        "GET", "/v1/notifications/stream", headers=platform.auth()
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in sse_events(response):
            return event
    raise AssertionError("stream ended")


async def test_incident_opens_ticket_writes_it_back_and_notifies(
    platform: Platform, fake_jira: FakeJira
) -> None:
    listener = asyncio.create_task(_first_notification(platform))
    incident = await platform.create_incident(
        title="Checkout 5xx",
        severity="SEV2",
        service="checkout",
        enrichments={"target_project": "OPS"},
    )

    ticketed = await eventually(lambda: _ticketed(platform, incident["id"]))
    enrichments = ticketed["enrichments"]
    assert enrichments["ticket_type"] == "jira"
    assert enrichments["ticket_id"] == "OPS-1"
    assert enrichments["ticket_url"] == f"{fake_jira.url}/browse/OPS-1"
    assert enrichments["ticket_created_at"].startswith("20")
    [ref] = ticketed["external_refs"]
    assert (ref["system"], ref["id"], ref["url"]) == ("jira", "OPS-1", enrichments["ticket_url"])
    assert [issue.key for issue in fake_jira.issues] == ["OPS-1"]
    assert fake_jira.issue("OPS-1").summary == "[SEV2] Checkout 5xx"
    assert "fireline" in fake_jira.issue("OPS-1").labels

    event = await asyncio.wait_for(listener, 30)
    assert event["event"] == "notification"
    links = {link["text"]: link for link in event["data"]["links"]}
    assert links["OPS-1"] == {"text": "OPS-1", "url": enrichments["ticket_url"], "external": True}
    incident_link = links[f"Incident {incident['id']}"]
    assert incident_link["url"].endswith(f"/incidents/{incident['id']}")  # the console page
    assert "/v1/" not in incident_link["url"]
    assert incident_link["external"] is False


async def test_run_is_findable_in_temporal_by_incident_id(platform: Platform) -> None:
    incident = await platform.create_incident(enrichments={"target_project": "OPS"})
    await eventually(lambda: _ticketed(platform, incident["id"]))

    runs = await eventually(lambda: _listed(platform, incident["id"]))  # visibility lags
    assert [r["type"]["name"] for r in runs] == ["jira-incident-integration"]
    assert runs[0]["execution"]["workflowId"] == (
        f"acme:{incident['id']}:jira-incident-integration:1"
    )

    # The ticket is written back before the run's last action: wait for the run to end.
    await platform.client.get_workflow_handle(runs[0]["execution"]["workflowId"]).result()
    await all_dispatched(platform.db)  # the run is recorded only after it was started
    response = await platform.http.get(
        f"/v1/incidents/{incident['id']}/runs", headers=platform.auth()
    )
    [run] = response.json()
    assert run["workflow_id"] == "jira-incident-integration"
    assert run["status"] == "COMPLETED"
    assert "/namespaces/default/workflows/" in run["temporal_ui_url"]


async def _listed(platform: Platform, incident_id: str) -> list[dict[str, Any]]:
    listed = subprocess.run(
        [
            str(VENV_BIN / "temporal"),
            "workflow",
            "list",
            "--address",
            platform.settings.resolved_temporal_address,
            "--output",
            "json",
            "--query",
            f"FirelineIncidentId='{incident_id}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    runs: list[dict[str, Any]] = json.loads(listed.stdout)
    return runs


async def test_secret_never_reaches_history_or_api(platform: Platform) -> None:
    incident = await platform.create_incident(enrichments={"target_project": "OPS"})
    await eventually(lambda: _ticketed(platform, incident["id"]))
    run_id = f"acme:{incident['id']}:jira-incident-integration:1"

    history = await platform.client.get_workflow_handle(run_id).fetch_history()
    assert JIRA_TOKEN not in json.dumps(history.to_json_dict())
    workflows = await platform.http.get("/v1/workflows", headers=platform.auth())
    assert JIRA_TOKEN not in workflows.text


async def test_create_accepted_but_response_lost_still_one_ticket(
    platform: Platform, fake_jira: FakeJira
) -> None:
    fake_jira.fail_next_create_after_commit()
    incident = await platform.create_incident(enrichments={"target_project": "OPS"})

    ticketed = await eventually(lambda: _ticketed(platform, incident["id"]), timeout=60)
    assert [issue.key for issue in fake_jira.issues] == ["OPS-1"]
    assert ticketed["enrichments"]["ticket_id"] == "OPS-1"


async def test_incident_without_target_project_starts_no_ticket_run(
    platform: Platform, fake_jira: FakeJira
) -> None:
    incident = await platform.create_incident(title="No project")
    await asyncio.sleep(1.0)  # give the dispatcher a few passes
    response = await platform.http.get(
        f"/v1/incidents/{incident['id']}/runs", headers=platform.auth()
    )
    assert response.json() == []
    assert fake_jira.issues == []


async def test_another_org_cannot_see_runs(platform: Platform) -> None:
    incident = await platform.create_incident(enrichments={"target_project": "OPS"})
    await eventually(lambda: _ticketed(platform, incident["id"]))
    response = await platform.http.get(
        f"/v1/incidents/{incident['id']}/runs", headers=platform.auth("globex")
    )
    assert response.status_code == 404
