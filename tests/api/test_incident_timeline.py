"""Tags, notes, actions, signals, SLO violations and ticket links: each an event, shown on
the incident, role-checked, org-scoped; bad input changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import create, stored_row_counts

SLO = {
    "sloId": "checkout-availability",
    "windowStart": "2026-12-01T10:00:00Z",
    "windowEnd": "2026-12-01T11:00:00Z",
    "errorBudgetConsumed": 37.5,
    "thresholdBreached": True,
    "details": {"objective": 99.9},
}


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def event_types(client: httpx.AsyncClient, auth: AuthHeaders, incident_id: str) -> list[str]:
    response = await client.get(f"/v1/incidents/{incident_id}/timeline", headers=auth())
    return [event["type"] for event in response.json()["events"]]


async def test_tags_are_added_once_and_removed(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth(), tags=["team:payments"])
    base = f"/v1/incidents/{incident['id']}"
    tagged = await post(client, auth(), f"{base}/tags", {"tag": "db"})
    assert tagged["tags"] == ["db", "team:payments"]
    again = await post(client, auth(), f"{base}/tags", {"tag": "db"})
    assert again["last_seq"] == tagged["last_seq"]  # a present tag changes nothing

    removed = await client.delete(f"{base}/tags/team:payments", headers=auth())
    assert removed.status_code == 200, removed.text
    assert removed.json()["tags"] == ["db"]
    assert await event_types(client, auth, incident["id"]) == [
        "INCIDENT_CREATED",
        "INCIDENT_TAG_ADDED",
        "INCIDENT_TAG_REMOVED",
    ]
    listed = await client.get("/v1/incidents", params={"tag": "db"}, headers=auth())
    assert [row["id"] for row in listed.json()["items"]] == [incident["id"]]
    gone = await client.get("/v1/incidents", params={"tag": "team:payments"}, headers=auth())
    assert gone.json()["items"] == []


async def test_removing_a_tag_the_incident_lacks_is_404(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    incident = await create(client, auth())
    before = await stored_row_counts(db)
    response = await client.delete(f"/v1/incidents/{incident['id']}/tags/db", headers=auth())
    assert (response.status_code, response.json()["detail"]) == (
        404,
        f"incident {incident['id']} has no tag 'db'",
    )
    assert await stored_row_counts(db) == before


async def test_a_tag_with_a_slash_is_removed_by_its_path(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth(), tags=["runbook:/ops/restart"])
    response = await client.delete(
        f"/v1/incidents/{incident['id']}/tags/runbook:/ops/restart", headers=auth()
    )
    assert response.json()["tags"] == []


async def test_notes_are_note_actions_in_the_timeline(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth())
    text = "Pool exhausted at 10:02; " + "x" * 600
    body = await post(client, auth(), f"/v1/incidents/{incident['id']}/notes", {"text": text})
    [note] = body["actions"]
    assert (note["action_kind"], note["label"]) == ("NOTE", text[:500])
    assert note["details"] == {"text": text}  # the label is cut, the note is whole
    assert await event_types(client, auth, incident["id"]) == [
        "INCIDENT_CREATED",
        "INCIDENT_NOTE_ADDED",
    ]


async def test_signals_carry_typed_fields_and_join_correlation_keys(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth(), initialCorrelationKey="gw-500")
    signal = {
        "signalType": "METRIC",
        "serviceName": "api-gateway",
        "environment": "production",
        "correlationKey": "db-pool",
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "source": "prometheus",
        "summary": "5xx rate 12%",
        "data": {"value": 0.12},
        "ts": "2026-12-01T10:01:00+01:00",
    }
    body = await post(client, auth(), f"/v1/incidents/{incident['id']}/signals", signal)
    [stored] = body["signals"]
    assert stored["signal_type"] == "METRIC" and stored["service_name"] == "api-gateway"
    assert (stored["trace_id"], stored["data"]) == (signal["traceId"], {"value": 0.12})
    assert stored["ts"] == "2026-12-01T09:01:00Z"
    assert body["correlation_keys"] == ["gw-500", "db-pool"]
    assert body["primary_signal_id"] == stored["id"]

    for params in ({"correlationKey": "db-pool"}, {"traceId": signal["traceId"]}):
        listed = await client.get("/v1/incidents", params=params, headers=auth())
        assert [row["id"] for row in listed.json()["items"]] == [incident["id"]]


async def test_slo_violations_are_listed_on_the_incident(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth())
    body = await post(client, auth(), f"/v1/incidents/{incident['id']}/slo-violations", SLO)
    [violation] = body["slo_violations"]
    assert violation["slo_id"] == "checkout-availability"
    assert (violation["window_start"], violation["window_end"]) == (
        "2026-12-01T10:00:00Z",
        "2026-12-01T11:00:00Z",
    )
    assert (violation["error_budget_consumed"], violation["threshold_breached"]) == (37.5, True)
    read = (await client.get(f"/v1/incidents/{incident['id']}", headers=auth())).json()
    assert read["slo_violations"] == body["slo_violations"]


async def test_a_linked_ticket_becomes_an_external_ref_once(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth())
    path = f"/v1/incidents/{incident['id']}/tickets"
    link = {"system": "servicenow", "ticketId": "INC0010001", "url": "https://sn.example/INC1"}
    first = await post(client, auth(), path, link)
    again = await post(client, auth(), path, link)
    assert again["last_seq"] == first["last_seq"]
    [ref] = again["external_refs"]
    assert (ref["system"], ref["id"], ref["url"]) == ("servicenow", "INC0010001", link["url"])
    assert again["enrichments"] == {
        "ticket_type": "servicenow",
        "ticket_id": "INC0010001",
        "ticket_url": link["url"],
    }


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("tags", {"tag": "  "}, ["body", "tag"]),
        ("tags", {"tag": "t" * 201}, ["body", "tag"]),
        ("notes", {"text": ""}, ["body", "text"]),
        ("notes", {"note": "x"}, ["body", "note"]),
        ("actions", {"actionKind": "DANCE", "label": "x"}, ["body", "actionKind"]),
        ("actions", {"actionKind": "NOTE"}, ["body"]),
        ("signals", {"signalType": "GUESS", "source": "x", "summary": "y"}, ["body", "signalType"]),
        ("signals", {"source": "x", "summary": "y", "ts": "2026-12-01T10:00:00"}, ["body", "ts"]),
        ("slo-violations", {**SLO, "windowEnd": "2026-12-01T09:00:00Z"}, ["body"]),
        ("slo-violations", {**SLO, "errorBudgetConsumed": -1}, ["body", "errorBudgetConsumed"]),
        ("slo-violations", {k: v for k, v in SLO.items() if k != "sloId"}, ["body", "sloId"]),
        ("tickets", {"system": "Jira!", "id": "OPS-1"}, ["body", "system"]),
        ("tickets", {"system": "jira", "id": "OPS-1", "url": "javascript:x"}, ["body", "url"]),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    path: str,
    body: dict[str, Any],
    location: list[Any],
) -> None:
    incident = await create(client, auth())
    before = await stored_row_counts(db)
    response = await client.post(
        f"/v1/incidents/{incident['id']}/{path}", json=body, headers=auth()
    )
    assert response.status_code == 422, response.text
    assert location in [problem["loc"] for problem in response.json()["detail"]]
    assert await stored_row_counts(db) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("tags", {"tag": "db"}),
        ("notes", {"text": "hello"}),
        ("actions", {"label": "restart"}),
        ("signals", {"source": "x", "summary": "y"}),
        ("slo-violations", SLO),
        ("tickets", {"system": "jira", "id": "OPS-1"}),
    ],
)
async def test_viewers_cannot_write_and_other_orgs_cannot_see(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    path: str,
    body: dict[str, Any],
) -> None:
    incident = await create(client, auth())
    before = await stored_row_counts(db)
    url = f"/v1/incidents/{incident['id']}/{path}"
    viewer = await client.post(url, json=body, headers=auth("acme", "VIEWER"))
    other_org = await client.post(url, json=body, headers=auth("globex", "ORG_ADMIN"))
    assert viewer.status_code == 403
    assert (other_org.status_code, other_org.json()["detail"]) == (
        404,
        f"incident {incident['id']} not found",
    )
    assert await stored_row_counts(db) == before
