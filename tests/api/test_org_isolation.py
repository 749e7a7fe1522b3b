"""Another org's incident does not exist, whatever the route (404, never 403)."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import AuthHeaders
from tests.api.helpers import create

WRITES = [
    ("status", {"status": "INVESTIGATING"}),
    ("severity", {"severity": "SEV1"}),
    ("actions", {"action": "restart"}),
    ("signals", {"source": "x", "summary": "y"}),
    ("enrichments", {"enrichments": {"ticket_id": "X-1"}}),
]


@pytest.mark.parametrize(("path", "body"), WRITES)
async def test_org_b_cannot_change_org_a_incident(
    client: httpx.AsyncClient, auth: AuthHeaders, path: str, body: dict[str, object]
) -> None:
    incident = await create(client, auth("acme"))
    response = await client.post(
        f"/v1/incidents/{incident['id']}/{path}", json=body, headers=auth("globex", "ORG_ADMIN")
    )
    assert response.status_code == 404
    after = await client.get(f"/v1/incidents/{incident['id']}", headers=auth("acme"))
    assert after.json() == incident


async def test_org_b_cannot_read_or_list_org_a_incidents(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    incident = await create(client, auth("acme"), service="checkout")
    ours = await create(client, auth("globex"), service="checkout")
    for suffix in ("", "/timeline"):
        response = await client.get(
            f"/v1/incidents/{incident['id']}{suffix}", headers=auth("globex")
        )
        assert response.status_code == 404
    listing = await client.get(
        "/v1/incidents", params={"service": "checkout"}, headers=auth("globex")
    )
    assert [item["id"] for item in listing.json()["items"]] == [ours["id"]]
