"""POST /v1/incidents/ingest on the real app: outcomes, roles, every refusal, and that a
refused request stores nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from store.db import Database
from store.models import EvidenceBundleModel, IncidentSourceModel, IngestPayloadModel
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app, stored_row_counts
from tests.store.helpers import count_rows

INGEST = "/v1/incidents/ingest"
NOTHING = {"incidents": 0, "events": 0, "outbox": 0, "sources": 0, "payloads": 0, "bundles": 0}


def generic(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sourceType": "CUSTOM",
        "sourceRef": "disk-full-db-1",
        "title": "Disk full on db-1",
        "timeline": {"start": "2024-05-01T10:00:00Z"},
        "severity": "high",
        "description": "/var is at 100%",
        "metadata": {"service": "postgres", "environment": "prod", "tags": ["disk"]},
    }
    body.update(overrides)
    return body


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


async def stored(db: Database) -> dict[str, int]:
    incidents, events, outbox = await stored_row_counts(db)
    async with db.read_session() as session:
        sources = await count_rows(session, IncidentSourceModel)
        payloads = await count_rows(session, IngestPayloadModel)
        bundles = await count_rows(session, EvidenceBundleModel)
    return {
        "incidents": incidents,
        "events": events,
        "outbox": outbox,
        "sources": sources,
        "payloads": payloads,
        "bundles": bundles,
    }


async def post_json(
    client: httpx.AsyncClient, headers: dict[str, str], body: Any
) -> httpx.Response:
    return await client.post(INGEST, json=body, headers=headers)


# ------------------------------------------------------------------------------- outcomes


async def test_created_then_unchanged_then_updated_by_a_resolve(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    analyst = auth("acme", "ANALYST")
    first = await post_json(client, analyst, generic())
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["status"] == "created"
    assert created["events"] == ["INCIDENT_CREATED"]
    assert created["incidentId"] in created["message"]

    repeat = await post_json(client, analyst, generic())
    assert repeat.status_code == 200
    assert repeat.json()["status"] == "unchanged"
    assert repeat.json()["incidentId"] == created["incidentId"]
    assert repeat.json()["events"] == []

    resolved_body = generic(
        timeline={"start": "2024-05-01T10:00:00Z", "resolvedAt": "2024-05-01T11:00:00Z"}
    )
    resolve = await post_json(client, analyst, resolved_body)
    assert resolve.status_code == 200
    assert resolve.json()["status"] == "updated"
    assert resolve.json()["incidentId"] == created["incidentId"]
    assert resolve.json()["events"] == ["INCIDENT_STATUS_CHANGED"]

    incident = await client.get(f"/v1/incidents/{created['incidentId']}", headers=analyst)
    assert incident.json()["status"] == "RESOLVED"
    assert incident.json()["source_ref"] == "disk-full-db-1"
    assert (await stored(db))["incidents"] == 1


async def test_the_raw_body_is_kept_with_its_content_type(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    raw = json.dumps(generic()).encode()
    headers = {**auth("acme", "ANALYST"), "Content-Type": "application/json; charset=utf-8"}
    response = await client.post(INGEST, content=raw, headers=headers)
    assert response.status_code == 201
    async with db.read_session() as session:
        rows = (await session.execute(IngestPayloadModel.__table__.select())).all()
    assert [(row.body, row.content_type) for row in rows] == [
        (raw.decode(), "application/json; charset=utf-8")
    ]


async def test_a_json_subtype_content_type_is_accepted(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    headers = {**auth("acme", "ANALYST"), "Content-Type": "application/vnd.fireline+json"}
    response = await client.post(INGEST, content=json.dumps(generic()), headers=headers)
    assert response.status_code == 201, response.text


async def test_a_tags_object_takes_numbers_and_booleans_as_their_json_text(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    analyst = auth("acme", "ANALYST")
    metadata = {"tags": {"priority": 2, "canary": True, "ratio": 0.5, "owner": "db-team"}}
    created = await post_json(client, analyst, generic(metadata=metadata))
    assert created.status_code == 201, created.text
    incident = await client.get(f"/v1/incidents/{created.json()['incidentId']}", headers=analyst)
    assert incident.json()["tags"] == ["canary:true", "owner:db-team", "priority:2", "ratio:0.5"]


# ---------------------------------------------------------------------------------- roles


@pytest.mark.parametrize("role", ["ANALYST", "ORG_ADMIN"])
async def test_analysts_and_org_admins_may_ingest(
    client: httpx.AsyncClient, auth: AuthHeaders, role: str
) -> None:
    response = await post_json(client, auth("acme", role), generic())
    assert response.status_code == 201


@pytest.mark.parametrize("role", ["VIEWER", "ONCALL_ENGINEER", "SRE_LEAD"])
async def test_other_roles_get_403_and_store_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, role: str
) -> None:
    response = await post_json(client, auth("acme", role), generic())
    assert response.status_code == 403
    assert response.json()["detail"] == "requires one of the roles: ANALYST, ORG_ADMIN"
    assert await stored(db) == NOTHING


async def test_no_token_is_401(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post(INGEST, json=generic())
    assert response.status_code == 401
    assert await stored(db) == NOTHING


async def test_another_org_cannot_read_the_ingested_incident(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    created = (await post_json(client, auth("acme", "ANALYST"), generic())).json()
    for suffix in ("", "/timeline"):
        response = await client.get(
            f"/v1/incidents/{created['incidentId']}{suffix}", headers=auth("globex")
        )
        assert response.status_code == 404
    listing = await client.get("/v1/incidents", headers=auth("globex"))
    assert listing.json()["items"] == []


async def test_the_same_source_ref_in_another_org_is_another_incident(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    ours = await post_json(client, auth("acme", "ANALYST"), generic())
    theirs = await post_json(client, auth("globex", "ANALYST"), generic())
    assert (ours.status_code, theirs.status_code) == (201, 201)
    assert ours.json()["incidentId"] != theirs.json()["incidentId"]


# ------------------------------------------------------------------------------------ 422


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in keys}


def with_timeline(**timeline: str) -> dict[str, Any]:
    return generic(timeline=timeline)


INVALID: list[tuple[str, Any, list[list[str]], str]] = [
    (
        "sourceRef over 512",
        generic(sourceRef="r" * 513),
        [["body", "sourceRef"]],
        "String should have at most 512 characters",
    ),
    (
        "title over 500",
        generic(title="t" * 501),
        [["body", "title"]],
        "String should have at most 500 characters",
    ),
    (
        "description over 5000",
        generic(description="d" * 5001),
        [["body", "description"]],
        "String should have at most 5000 characters",
    ),
    (
        "window 0",
        generic(collectionContext={"windowMinutesBefore": 0}),
        [["body", "collectionContext", "windowMinutesBefore"]],
        "Input should be greater than or equal to 1",
    ),
    (
        "window 121",
        generic(collectionContext={"windowMinutesAfter": 121}),
        [["body", "collectionContext", "windowMinutesAfter"]],
        "Input should be less than or equal to 120",
    ),
    (
        "unknown severity",
        generic(severity="urgent"),
        [["body", "severity"]],
        "Input should be 'critical', 'high', 'medium', 'low' or 'info'",
    ),
    (
        "unknown sourceType",
        generic(sourceType="NAGIOS"),
        [["body", "sourceType"]],
        "Input should be 'SCENARIO', 'GOOGLE_CLOUD', 'PAGERDUTY'",
    ),
    (
        "invalid date",
        with_timeline(start="the first of May"),
        [["body", "timeline", "start"]],
        "Input should be a valid datetime",
    ),
    (
        "date without timezone",
        with_timeline(start="2024-05-01T10:00:00"),
        [["body", "timeline", "start"]],
        "Input should have timezone info",
    ),
    (
        "end before start",
        with_timeline(start="2024-05-01T10:00:00Z", end="2024-05-01T09:00:00Z"),
        [["body", "timeline"]],
        "end (2024-05-01T09:00:00+00:00) is before start",
    ),
    (
        "tags object over 50 entries",
        generic(metadata={"tags": {f"k{n}": "v" for n in range(51)}}),
        [["body", "metadata", "tags"]],
        "Dictionary should have at most 50 items",
    ),
    (
        "tag value null",
        generic(metadata={"tags": {"component": "api", "owner": None}}),
        [["body", "metadata", "tags", "owner"]],
        "a tag value must be text, a number or true/false, not null",
    ),
    (
        "tag value an object",
        generic(metadata={"tags": {"owner": {"team": "db"}}}),
        [["body", "metadata", "tags", "owner"]],
        "a tag value must be text, a number or true/false, not an object",
    ),
    (
        "tag over 200 characters",
        generic(metadata={"tags": {"component": "a" * 191}}),
        [["body", "metadata", "tags", "component"]],
        "the tag 'key:value' would be 201 characters; at most 200 are allowed",
    ),
    (
        "empty tag key",
        generic(metadata={"tags": {"": "api"}}),
        [["body", "metadata", "tags", "", "[key]"]],
        "String should have at least 1 character",
    ),
    (
        "tags neither a list nor an object",
        generic(metadata={"tags": "component:api"}),
        [["body", "metadata", "tags"]],
        "Input should be a list of tags or an object of key to value",
    ),
    (
        "unknown top-level key",
        generic(owner="bob"),
        [["body", "owner"]],
        "Extra inputs are not permitted",
    ),
    (
        "not an object",
        ["a", "list"],
        [["body"]],
        "Input should be a valid dictionary",
    ),
]


@pytest.mark.parametrize(
    ("body", "locations", "message"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
async def test_each_invalid_field_is_a_422_at_its_path_and_stores_nothing(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    body: Any,
    locations: list[list[str]],
    message: str,
) -> None:
    response = await post_json(client, auth("acme", "ANALYST"), body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == locations
    assert message in detail[0]["msg"]
    assert await stored(db) == NOTHING


async def test_all_missing_required_fields_are_listed_at_once(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    body = without(generic(), "sourceType", "sourceRef", "title", "timeline")
    response = await post_json(client, auth("acme", "ANALYST"), body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == [
        ["body", "sourceType"],
        ["body", "sourceRef"],
        ["body", "title"],
        ["body", "timeline"],
    ]
    assert {(error["msg"], error["type"]) for error in detail} == {("Field required", "missing")}
    assert await stored(db) == NOTHING


async def test_a_422_never_echoes_the_input(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    secret = "hunter2-api-key-in-the-wrong-field"
    body = generic(severity=secret, metadata={"tags": "not-a-list", "password": secret})
    response = await post_json(client, auth("acme", "ANALYST"), body)
    assert response.status_code == 422
    assert secret not in response.text
    for error in response.json()["detail"]:
        assert set(error) == {"loc", "msg", "type"}


# ------------------------------------------------------------------------------ 400 / 415


def raw_post(
    client: httpx.AsyncClient, headers: dict[str, str], content: bytes, content_type: str
) -> Any:
    return client.post(INGEST, content=content, headers={**headers, "Content-Type": content_type})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"sourceType": "CUSTOM", "title": }', "not valid JSON: Expecting value: line 1"),
        (b"", "the request body is empty"),
        ('{"title": "caf\u00e9"}'.encode("latin-1"), "not UTF-8: invalid byte 0xe9 at byte offset"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nested more than 32 levels deep"),
        (b'{"sourceType": NaN}', "contains NaN"),
    ],
    ids=["malformed", "empty", "not-utf8", "too-deep", "nan"],
)
async def test_an_unreadable_body_is_400_and_stores_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, content: bytes, expected: str
) -> None:
    response = await raw_post(client, auth("acme", "ANALYST"), content, "application/json")
    assert response.status_code == 400
    assert expected in response.json()["detail"]
    assert await stored(db) == NOTHING


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_body_that_is_not_declared_json_is_415_and_stores_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, content_type: str
) -> None:
    body = json.dumps(generic()).encode()
    response = await raw_post(client, auth("acme", "ANALYST"), body, content_type)
    assert response.status_code == 415
    detail = response.json()["detail"]
    assert f"Content-Type is '{content_type}'" in detail
    assert "Content-Type: application/json" in detail
    assert "curl -d" in detail
    assert await stored(db) == NOTHING


async def test_a_form_post_like_curl_d_is_415(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    response = await client.post(
        INGEST, data={"title": "Disk full"}, headers=auth("acme", "ANALYST")
    )
    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.json()["detail"]
    assert await stored(db) == NOTHING


# ------------------------------------------------------------------------------------ 413


async def test_a_body_over_max_body_bytes_is_413_and_stores_nothing(
    db: Database, tmp_path: Path, auth: AuthHeaders
) -> None:
    app = fireline_app(db, tmp_path, max_body_bytes=300)
    body = json.dumps(generic(description="d" * 400)).encode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fireline.test") as http:
        response = await raw_post(http, auth("acme", "ANALYST"), body, "application/json")
        assert response.status_code == 413
        assert response.json()["detail"] == (
            f"request body is {len(body)} bytes; the limit is 300 bytes (FIRELINE_MAX_BODY_BYTES)"
        )
        assert await stored(db) == NOTHING
        small = await raw_post(
            http, auth("acme", "ANALYST"), json.dumps(generic()).encode(), "application/json"
        )
        assert small.status_code == 201


# ------------------------------------------------------------------------------------ 429


async def test_a_burst_over_the_rate_limit_is_429_with_retry_after(
    db: Database, tmp_path: Path, auth: AuthHeaders
) -> None:
    # One token per 100 s: the refill during the test is negligible, so Retry-After is 100.
    app = fireline_app(db, tmp_path, ingest_rate=0.01, ingest_burst=2)
    analyst = auth("acme", "ANALYST")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fireline.test") as http:
        accepted = [await post_json(http, analyst, generic(sourceRef=f"r{n}")) for n in range(2)]
        assert [response.status_code for response in accepted] == [201, 201]
        before = await stored(db)
        refused = [await post_json(http, analyst, generic(sourceRef=f"late{n}")) for n in range(3)]
        for response in refused:
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "100"
            assert "FIRELINE_INGEST_RATE" in response.json()["detail"]
        assert await stored(db) == before
        assert before["incidents"] == 2
        # Each org has its own budget.
        other = await post_json(http, auth("globex", "ANALYST"), generic())
        assert other.status_code == 201


async def test_a_refused_request_is_charged_only_after_authentication(
    db: Database, tmp_path: Path, auth: AuthHeaders
) -> None:
    app = fireline_app(db, tmp_path, ingest_rate=0.01, ingest_burst=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fireline.test") as http:
        for _ in range(3):
            assert (await post_json(http, auth("acme", "VIEWER"), generic())).status_code == 403
        assert (await post_json(http, auth("acme", "ANALYST"), generic())).status_code == 201
