"""GET /v1/incidents: the timeline document's filters and sorts, in both vocabularies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.api.conftest import AuthHeaders
from tests.api.helpers import create


async def listed(client: httpx.AsyncClient, auth: AuthHeaders, params: Any) -> list[str]:
    response = await client.get("/v1/incidents", params=params, headers=auth())
    assert response.status_code == 200, response.text
    return [row["title"] for row in response.json()["items"]]


async def test_filters_by_project_service_environment_tag_and_text(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    await create(
        client,
        auth(),
        title="gw",
        projectId="web",
        serviceName="gateway",
        environment="production",
        tags=["component:api"],
    )
    await create(
        client,
        auth(),
        title="db",
        projectId="data",
        service="postgres",
        environment="production",
        description="pool exhausted",
    )
    await create(
        client,
        auth(),
        title="gw staging",
        projectId="web",
        serviceName="gateway",
        environment="staging",
    )

    assert await listed(client, auth, {"projectId": "web"}) == ["gw staging", "gw"]
    assert await listed(client, auth, {"project_id": "web"}) == ["gw staging", "gw"]
    assert await listed(client, auth, {"service": "gateway", "environment": "production"}) == ["gw"]
    assert await listed(client, auth, {"tag": "component:api"}) == ["gw"]
    assert await listed(client, auth, {"searchQuery": "POOL"}) == ["db"]
    assert await listed(client, auth, {"q": "staging"}) == ["gw staging"]


async def test_status_and_severity_repeat_and_accept_the_ingestion_words(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    await create(client, auth(), title="critical", severity="SEV1")
    high = await create(client, auth(), title="high", severity="high")
    await create(client, auth(), title="low", severity="SEV4")
    assert high["severity"] == "SEV2"  # create speaks both vocabularies too
    await client.post(
        f"/v1/incidents/{high['id']}/status", json={"status": "INVESTIGATING"}, headers=auth()
    )

    assert await listed(client, auth, [("severity", "high"), ("severity", "SEV1")]) == [
        "high",
        "critical",
    ]
    assert await listed(client, auth, {"severity": "info"}) == ["low"]
    assert await listed(client, auth, {"status": "acknowledged"}) == ["high"]
    assert await listed(client, auth, [("status", "open"), ("status", "resolved")]) == [
        "low",
        "critical",
    ]


async def test_since_and_until_bound_the_creation_time(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await create(client, auth(), title="recent", service="checkout")
    after = datetime.now(UTC) + timedelta(seconds=1)
    recent = {"service": "checkout", "since": before.isoformat()}
    assert await listed(client, auth, recent) == ["recent"]
    assert await listed(client, auth, {"since": after.isoformat()}) == []
    assert await listed(client, auth, {"until": before.isoformat()}) == []
    assert await listed(client, auth, {"until": after.isoformat()}) == ["recent"]


async def test_sorts(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    for title, severity in (("a", "SEV3"), ("b", "SEV1"), ("c", "SEV3"), ("d", "SEV2")):
        await create(client, auth(), title=title, severity=severity)
    first = await client.get("/v1/incidents", params={"sort": "created_at"}, headers=auth())
    a_id = first.json()["items"][0]["id"]
    await client.post(f"/v1/incidents/{a_id}/notes", json={"text": "touched"}, headers=auth())

    assert await listed(client, auth, {}) == ["d", "c", "b", "a"]
    assert await listed(client, auth, {"sort": "created_at"}) == ["a", "b", "c", "d"]
    assert await listed(client, auth, {"sort": "-updated_at"}) == ["a", "d", "c", "b"]
    assert await listed(client, auth, {"sort": "updated_at"}) == ["b", "c", "d", "a"]
    assert await listed(client, auth, {"sort": "severity"}) == ["b", "d", "c", "a"]
    assert await listed(client, auth, {"sort": "-severity"}) == ["c", "a", "d", "b"]


async def test_paging_keeps_the_sort(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    for title, severity in (("a", "SEV3"), ("b", "SEV1"), ("c", "SEV2")):
        await create(client, auth(), title=title, severity=severity)
    page = (
        await client.get("/v1/incidents", params={"sort": "severity", "limit": 2}, headers=auth())
    ).json()
    rest = await listed(client, auth, {"sort": "severity", "cursor": page["next_cursor"]})
    assert [row["title"] for row in page["items"]] + rest == ["b", "c", "a"]
    mixed = await client.get(
        "/v1/incidents",
        params={"sort": "created_at", "cursor": page["next_cursor"]},
        headers=auth(),
    )
    assert mixed.status_code == 422
    assert "made for sort=severity" in mixed.json()["detail"]
