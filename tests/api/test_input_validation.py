"""Bad input: 422 with the field path, and nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import create, stored_row_counts


def error_locations(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"severity": "SEV1"}, ["body", "title"]),
        ({"title": "   ", "severity": "SEV1"}, ["body", "title"]),
        ({"title": "x", "severity": "urgent"}, ["body", "severity"]),
        ({"title": "x" * 501, "severity": "SEV1"}, ["body", "title"]),
        ({"title": "x", "severity": "SEV1", "description": "d" * 5001}, ["body", "description"]),
        ({"title": "x", "severity": "SEV1", "service": "s" * 201}, ["body", "service"]),
        ({"title": "x", "severity": "SEV1", "owner": "bob"}, ["body", "owner"]),
        (
            {"title": "x", "severity": "SEV1", "enrichments": {"bad key": 1}},
            ["body", "enrichments", "bad key", "[key]"],
        ),
    ],
)
async def test_rejected_creates_write_nothing(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    body: dict[str, Any],
    location: list[Any],
) -> None:
    response = await client.post("/v1/incidents", json=body, headers=auth())
    assert location in error_locations(response)
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_a_body_that_is_not_json_is_400_and_writes_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    response = await client.post(
        "/v1/incidents",
        content=b"{not json",
        headers={**auth(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "the request body is not valid JSON: Expecting property name enclosed in double "
        "quotes (at character 1); send a JSON object"
    )
    assert await stored_row_counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    ("content_type", "named"),
    [("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"), (None, "no")],
)
async def test_a_body_that_is_not_sent_as_json_is_415_and_writes_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, content_type: str | None, named: str
) -> None:
    headers = auth() if content_type is None else {**auth(), "content-type": content_type}
    body = b'{"title": "Checkout 5xx", "severity": "SEV2"}'
    response = await client.post("/v1/incidents", content=body, headers=headers)
    assert response.status_code == 415
    assert named in response.json()["detail"]
    assert "Content-Type: application/json" in response.json()["detail"]
    assert await stored_row_counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("status", {"status": "DONE"}, ["body", "status"]),
        ("status", {"status": "MITIGATED", "extra": 1}, ["body", "extra"]),
        ("severity", {}, ["body", "severity"]),
        ("severity", {"severity": "SEV1", "reason": "r" * 1001}, ["body", "reason"]),
        ("actions", {"action": ""}, ["body", "action"]),
        ("signals", {"source": "x"}, ["body", "summary"]),
        ("enrichments", {"enrichments": {}}, ["body", "enrichments"]),
    ],
)
async def test_rejected_changes_write_nothing(
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
    assert location in error_locations(response)
    assert await stored_row_counts(db) == before


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 201}, ["query", "limit"]),
        ({"status": "DONE"}, ["query", "status", 0]),
        ({"severity": "SEV9"}, ["query", "severity", 0]),
        ({"sort": "title"}, ["query", "sort"]),
        ({"since": "2026-01-01T00:00:00"}, ["query", "since"]),
        ({"projectId": "p" * 65}, ["query", "projectId"]),
        ({"colour": "red"}, ["query", "colour"]),
    ],
)
async def test_bad_list_parameters(
    client: httpx.AsyncClient, auth: AuthHeaders, params: dict[str, Any], location: list[Any]
) -> None:
    response = await client.get("/v1/incidents", params=params, headers=auth())
    assert location in error_locations(response)


async def test_a_tampered_cursor_is_422(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    response = await client.get("/v1/incidents", params={"cursor": "bm9wZQ"}, headers=auth())
    assert response.status_code == 422
    assert "cursor" in response.json()["detail"]
