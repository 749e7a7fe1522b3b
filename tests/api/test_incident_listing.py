"""GET /v1/incidents: filters, enrichments in rows, cursor pagination."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import AuthHeaders
from tests.api.helpers import create


async def test_rows_carry_enrichments_for_a_ticket_column(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth())
    await client.post(
        f"/v1/incidents/{incident['id']}/enrichments",
        json={"enrichments": {"ticket_id": "OPS-1", "ticket_url": "https://jira/OPS-1"}},
        headers=auth(),
    )
    page = (await client.get("/v1/incidents", headers=auth())).json()
    assert page["next_cursor"] is None
    (row,) = page["items"]
    assert row["enrichments"] == {"ticket_id": "OPS-1", "ticket_url": "https://jira/OPS-1"}
    assert "signals" not in row  # list rows stay small; the detail has them


async def test_pages_cover_everything_once_newest_first(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    created = [(await create(client, auth(), title=f"incident {n}"))["id"] for n in range(11)]
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 4}
    while True:
        page = (await client.get("/v1/incidents", params=params, headers=auth())).json()
        assert len(page["items"]) <= 4
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == list(reversed(created))


async def test_filters(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    db_outage = await create(
        client, auth(), title="Database outage", severity="SEV1", service="db", environment="prod"
    )
    slow = await create(
        client,
        auth(),
        title="Slow checkout",
        severity="SEV3",
        service="checkout",
        environment="staging",
        description="Not a database problem",
    )
    await client.post(
        f"/v1/incidents/{slow['id']}/status", json={"status": "MITIGATED"}, headers=auth()
    )

    async def ids(**params: Any) -> list[str]:
        response = await client.get("/v1/incidents", params=params, headers=auth())
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(status=["OPEN", "INVESTIGATING"]) == [db_outage["id"]]
    assert await ids(status=["OPEN", "MITIGATED"]) == [slow["id"], db_outage["id"]]
    assert await ids(severity="SEV3") == [slow["id"]]
    assert await ids(service="db", environment="prod") == [db_outage["id"]]
    assert await ids(q="DATABASE") == [slow["id"], db_outage["id"]]
    assert await ids(q="outage") == [db_outage["id"]]
