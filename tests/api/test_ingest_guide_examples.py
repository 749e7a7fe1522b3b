"""The ingestion guide's request bodies, sent verbatim, and what the incident keeps of them:
tags as `key:value`, the sender's timeline and collection context, and evidence bundles."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from store.db import Database
from store.models import EvidenceBundleModel
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app
from tests.api.test_ingest_endpoint import INGEST, post_json, stored
from tests.store.helpers import count_rows

GUIDE = Path(__file__).resolve().parent.parent / "fixtures" / "ingestion_guide"
BASIC = "quick-start-basic-request"
SIMPLE = "example-1-simple-incident"
WITH_EVIDENCE = "example-2-pre-collected-evidence"
FORCE_COLLECTION = "example-3-force-evidence-collection"
CUSTOM = "custom-sources"
EXAMPLES = [BASIC, SIMPLE, WITH_EVIDENCE, FORCE_COLLECTION, CUSTOM]
BUNDLE_ID = re.compile(r"bundle-[0-9a-f]{32}")
RESPONSE_KEYS = {"incidentId", "evidenceBundleId", "analysisId", "status", "message", "events"}


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


def example_bytes(name: str) -> bytes:
    return (GUIDE / f"{name}.json").read_bytes()


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(example_bytes(name))
    return document


async def send_example(
    client: httpx.AsyncClient, headers: dict[str, str], name: str
) -> httpx.Response:
    return await client.post(
        INGEST,
        content=example_bytes(name),
        headers={**headers, "Content-Type": "application/json"},
    )


async def counts(db: Database) -> dict[str, int]:
    async with db.read_session() as session:
        bundles = await count_rows(session, EvidenceBundleModel)
    return {**await stored(db), "bundles": bundles}


async def incident_of(
    client: httpx.AsyncClient, headers: dict[str, str], response: httpx.Response
) -> dict[str, Any]:
    found = await client.get(f"/v1/incidents/{response.json()['incidentId']}", headers=headers)
    assert found.status_code == 200, found.text
    incident: dict[str, Any] = found.json()
    return incident


# ---------------------------------------------------------------- the guide's bodies


@pytest.mark.parametrize("name", EXAMPLES)
async def test_each_guide_body_is_created_then_a_repeat_is_unchanged(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, name: str
) -> None:
    analyst = auth("acme", "ANALYST")
    first = await send_example(client, analyst, name)
    assert first.status_code == 201, first.text
    created = first.json()
    assert set(created) == RESPONSE_KEYS
    assert created["status"] == "created"
    # The analysis the new incident gets (triage is on by default).
    assert created["analysisId"] == f"acme:{created['incidentId']}:triage:1"
    assert created["events"][0] == "INCIDENT_CREATED"
    after_first = await counts(db)

    repeat = await send_example(client, analyst, name)
    assert repeat.status_code == 200, repeat.text
    assert repeat.json()["status"] == "unchanged"
    assert repeat.json()["analysisId"] is None
    assert repeat.json()["events"] == []
    assert repeat.json()["incidentId"] == created["incidentId"]
    assert repeat.json()["evidenceBundleId"] == created["evidenceBundleId"]
    assert await counts(db) == after_first


@pytest.mark.parametrize(
    ("name", "has_bundle"),
    [
        (BASIC, False),
        (SIMPLE, False),
        (WITH_EVIDENCE, True),
        (FORCE_COLLECTION, False),
        (CUSTOM, True),
    ],
)
async def test_a_bundle_exists_only_for_a_body_with_evidence_or_a_source_payload(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, name: str, has_bundle: bool
) -> None:
    bundle_id = (await send_example(client, auth("acme", "ANALYST"), name)).json()[
        "evidenceBundleId"
    ]
    if has_bundle:
        assert BUNDLE_ID.fullmatch(bundle_id)
    else:
        assert bundle_id is None
    assert (await counts(db))["bundles"] == int(has_bundle)


async def test_the_custom_source_tags_object_becomes_key_value_incident_tags(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    analyst = auth("acme", "ANALYST")
    response = await send_example(client, analyst, CUSTOM)
    incident = await incident_of(client, analyst, response)
    assert incident["tags"] == ["component:api", "environment:production"]
    assert incident["custom_fields"] == {"internalId": "INT-12345", "category": "performance"}
    assert (incident["service"], incident["team"]) == ("my-service", "platform-team")

    await send_example(client, analyst, BASIC)  # an incident without tags
    for tag in ("component:api", "environment:production"):
        listed = await client.get("/v1/incidents", params={"tag": tag}, headers=analyst)
        assert [row["id"] for row in listed.json()["items"]] == [incident["id"]]


async def test_the_custom_source_payload_is_readable_through_its_bundle(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    analyst = auth("acme", "ANALYST")
    created = (await send_example(client, analyst, CUSTOM)).json()
    bundle = await client.get(f"/v1/evidence/{created['evidenceBundleId']}", headers=analyst)
    assert bundle.status_code == 200, bundle.text
    body = bundle.json()
    assert set(body) == {"bundleId", "incidentId", "evidence", "sourcePayload", "createdAt"}
    assert (body["bundleId"], body["incidentId"]) == (
        created["evidenceBundleId"],
        created["incidentId"],
    )
    assert body["evidence"] == {}
    assert body["sourcePayload"] == {"originalFormat": "internal", "data": "..."}


async def test_pre_collected_evidence_is_in_the_bundle_and_becomes_signals(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    analyst = auth("acme", "ANALYST")
    response = await send_example(client, analyst, WITH_EVIDENCE)
    assert response.json()["events"] == [
        "INCIDENT_CREATED",
        "INCIDENT_SIGNAL_INGESTED",
        "INCIDENT_SIGNAL_INGESTED",
    ]
    bundle = await client.get(
        f"/v1/evidence/{response.json()['evidenceBundleId']}", headers=auth("acme", "VIEWER")
    )
    assert bundle.status_code == 200, bundle.text
    assert bundle.json()["sourcePayload"] is None
    assert bundle.json()["evidence"] == {
        "metrics": [
            {
                "name": "connection_pool_active",
                "value": 100.0,
                "timestamp": "2024-01-15T11:00:00Z",
                "labels": {"pool": "main"},
            }
        ],
        "logs": [
            {
                "message": "Connection pool exhausted",
                "level": "ERROR",
                "timestamp": "2024-01-15T11:00:05Z",
                "service": "database-service",
            }
        ],
    }
    incident = await incident_of(client, analyst, response)
    assert [signal["signal_type"] for signal in incident["signals"]] == ["METRIC", "LOG"]


async def test_the_timeline_end_is_on_the_incident_and_does_not_resolve_it(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    analyst = auth("acme", "ANALYST")
    incident = await incident_of(client, analyst, await send_example(client, analyst, BASIC))
    assert (incident["started_at"], incident["ended_at"]) == (
        "2024-01-15T10:00:00Z",
        "2024-01-15T11:00:00Z",
    )
    assert (incident["status"], incident["resolved_at"], incident["detected_at"]) == (
        "OPEN",
        None,
        None,
    )
    assert incident["collection_context"] is None  # the sender said nothing about it
    assert (incident["severity"], incident["original_severity"]) == ("SEV2", "high")


async def test_the_collection_context_is_on_the_incident_as_sent(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    analyst = auth("acme", "ANALYST")
    response = await send_example(client, analyst, FORCE_COLLECTION)
    incident = await incident_of(client, analyst, response)
    assert incident["collection_context"] == {
        "windowMinutesBefore": 30,
        "windowMinutesAfter": 30,
        "forceCollect": True,
    }
    assert incident["source_type"] == "PAGERDUTY"


async def test_detected_and_resolved_times_of_the_guides_pagerduty_normalisation(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    """The guide's PagerDuty example, normalised as it shows, for an incident resolved since."""
    body = {
        "sourceType": "PAGERDUTY",
        "sourceRef": "P123456",
        "title": "High error rate in payment-service",
        "severity": "high",
        "timeline": {
            "start": "2024-01-15T10:00:00Z",
            "end": "2024-01-15T10:40:00Z",
            "detectedAt": "2024-01-15T10:02:00Z",
            "resolvedAt": "2024-01-15T10:40:00Z",
        },
        "metadata": {
            "service": "payment-service",
            "team": "on-call-team",
            "tags": {"urgency": "high", "status": "resolved"},
            "customFields": {"priority": None, "incidentKey": None},
        },
        "collectionContext": {"forceCollect": True},
        "sourcePayload": {"incident": {"id": "P123456", "urgency": "high"}},
    }
    analyst = auth("acme", "ANALYST")
    response = await post_json(client, analyst, body)
    assert response.status_code == 201, response.text
    incident = await incident_of(client, analyst, response)
    assert (incident["detected_at"], incident["ended_at"], incident["resolved_at"]) == (
        "2024-01-15T10:02:00Z",
        "2024-01-15T10:40:00Z",
        "2024-01-15T10:40:00Z",
    )
    assert incident["status"] == "RESOLVED"
    assert incident["tags"] == ["status:resolved", "urgency:high"]
    assert incident["collection_context"] == {
        "windowMinutesBefore": 15,
        "windowMinutesAfter": 15,
        "forceCollect": True,
    }


# --------------------------------------------------------------------- later deliveries


async def test_a_later_delivery_that_changes_the_end_updates_the_incident(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    analyst = auth("acme", "ANALYST")
    created = (await send_example(client, analyst, BASIC)).json()
    later = example(BASIC)
    later["timeline"]["end"] = "2024-01-15T11:30:00Z"
    later["timeline"]["detectedAt"] = "2024-01-15T10:05:00+02:00"
    later["collectionContext"] = {"windowMinutesBefore": 60}

    response = await post_json(client, analyst, later)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["events"]) == (
        "updated",
        ["INCIDENT_UPDATED"],
    )
    assert response.json()["message"] == (
        "updated: ended_at, detected_at, collection_context changed"
    )
    incident = await incident_of(client, analyst, response)
    assert (incident["ended_at"], incident["detected_at"]) == (
        "2024-01-15T11:30:00Z",
        "2024-01-15T08:05:00Z",
    )
    assert incident["collection_context"] == {
        "windowMinutesBefore": 60,
        "windowMinutesAfter": 15,
        "forceCollect": False,
    }
    timeline = await client.get(f"/v1/incidents/{created['incidentId']}/timeline", headers=analyst)
    assert timeline.json()["events"][-1]["payload"] == {
        "changes": {
            "ended_at": "2024-01-15T11:30:00+00:00",
            "detected_at": "2024-01-15T08:05:00+00:00",
            "collection_context": {
                "windowMinutesBefore": 60,
                "windowMinutesAfter": 15,
                "forceCollect": False,
            },
        }
    }

    before = await counts(db)
    again = await post_json(client, analyst, later)
    assert (again.json()["status"], again.json()["events"]) == ("unchanged", [])
    # The same instant with another offset, and an omitted context, are no change either.
    same_instant = copy.deepcopy(later)
    same_instant["timeline"]["detectedAt"] = "2024-01-15T08:05:00Z"
    del same_instant["collectionContext"]
    del same_instant["timeline"]["end"]
    repeat = await post_json(client, analyst, same_instant)
    assert (repeat.json()["status"], repeat.json()["events"]) == ("unchanged", [])
    assert await counts(db) == before


# ------------------------------------------------------------------------ evidence bundles


def with_evidence(source_ref: str, value: float = 100) -> dict[str, Any]:
    body = example(WITH_EVIDENCE)
    body["sourceRef"] = source_ref
    body["evidenceLite"]["metrics"][0]["value"] = value
    return body


async def test_the_same_evidence_is_one_bundle_and_other_evidence_another(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    analyst = auth("acme", "ANALYST")
    first = (await post_json(client, analyst, with_evidence("db-1"))).json()
    same = (await post_json(client, analyst, with_evidence("db-2"))).json()
    other = (await post_json(client, analyst, with_evidence("db-3", value=99))).json()

    assert first["incidentId"] != same["incidentId"]
    assert same["evidenceBundleId"] == first["evidenceBundleId"]
    assert other["evidenceBundleId"] != first["evidenceBundleId"]
    assert (await counts(db))["bundles"] == 2
    shared = await client.get(f"/v1/evidence/{same['evidenceBundleId']}", headers=analyst)
    assert shared.json()["incidentId"] == first["incidentId"]  # the first to carry it


async def test_the_same_content_in_two_orgs_is_two_bundles_each_private(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    ours = (await send_example(client, auth("acme", "ANALYST"), CUSTOM)).json()
    theirs = (await send_example(client, auth("globex", "ANALYST"), CUSTOM)).json()
    assert ours["evidenceBundleId"] == theirs["evidenceBundleId"]
    assert (await counts(db))["bundles"] == 2

    path = f"/v1/evidence/{ours['evidenceBundleId']}"
    acme = await client.get(path, headers=auth("acme", "VIEWER"))
    globex = await client.get(path, headers=auth("globex", "VIEWER"))
    assert (acme.json()["incidentId"], globex.json()["incidentId"]) == (
        ours["incidentId"],
        theirs["incidentId"],
    )


async def test_another_orgs_bundle_is_404_like_a_missing_one(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    bundle_id = (await send_example(client, auth("acme", "ANALYST"), CUSTOM)).json()[
        "evidenceBundleId"
    ]
    missing_id = "bundle-" + "0" * 32
    theirs = await client.get(f"/v1/evidence/{bundle_id}", headers=auth("globex", "ORG_ADMIN"))
    missing = await client.get(f"/v1/evidence/{missing_id}", headers=auth("globex", "ORG_ADMIN"))
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert theirs.json()["detail"] == f"no evidence bundle '{bundle_id}' in this organisation"
    assert missing.json()["detail"] == theirs.json()["detail"].replace(bundle_id, missing_id)


@pytest.mark.parametrize("bundle_id", ["nope", "bundle-XYZ", "bundle-" + "a" * 33, "b" * 300])
async def test_a_malformed_bundle_id_is_404_naming_the_id_format(
    client: httpx.AsyncClient, auth: AuthHeaders, bundle_id: str
) -> None:
    response = await client.get(f"/v1/evidence/{bundle_id}", headers=auth("acme", "VIEWER"))
    assert response.status_code == 404
    assert "bundle ids look like bundle-<32 hex digits>" in response.json()["detail"]
    assert bundle_id[:80] in response.json()["detail"]


async def test_reading_a_bundle_needs_a_token(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    bundle_id = (await send_example(client, auth("acme", "ANALYST"), CUSTOM)).json()[
        "evidenceBundleId"
    ]
    assert (await client.get(f"/v1/evidence/{bundle_id}")).status_code == 401


async def test_a_source_payload_that_is_not_an_object_is_kept_as_sent(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    body = example(BASIC)
    body["sourcePayload"] = "<alert id='42'>disk full</alert>"
    analyst = auth("acme", "ANALYST")
    created = (await post_json(client, analyst, body)).json()
    bundle = await client.get(f"/v1/evidence/{created['evidenceBundleId']}", headers=analyst)
    assert bundle.json()["sourcePayload"] == "<alert id='42'>disk full</alert>"
