"""IngestService keeps what the ingestion guide's sender says: tags given as an object, the
timeline's end and detection time, the collection context, and the evidence bundle."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.evidence import EvidenceService
from services.ingestion import IngestService, RawPayload
from store.db import Database
from store.enums import EventType
from store.incidents import append_event
from store.models import EvidenceBundleModel
from tests.ingest.payloads import map_file
from tests.services.ingestion_helpers import (
    ACTOR,
    BASE,
    ORG,
    counts,
    events,
    generic,
    snapshot,
    with_metadata,
)
from tests.store.helpers import count_rows

START = BASE["timeline"]["start"]


@pytest.fixture
def service(db: Database) -> IngestService:
    return IngestService(db)


async def bundle_rows(db: Database) -> int:
    async with db.read_session() as session:
        return await count_rows(session, EvidenceBundleModel)


def documented_bundle_id(evidence: dict[str, Any], source_payload: Any) -> str:
    """The id as the issue defines it, computed here independently of the service."""
    canonical = json.dumps(
        {"evidence": evidence, "sourcePayload": source_payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "bundle-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------- creation


async def test_a_tags_object_becomes_key_value_tags_in_the_created_event(
    db: Database, service: IngestService
) -> None:
    tags = {"environment": "production", "component": "api"}
    incident = generic(metadata=with_metadata(tags=tags))
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=incident)

    created = (await events(db, outcome.incident_id))[0]
    assert created.payload["tags"] == ["component:api", "environment:production"]
    assert (await snapshot(db, outcome.incident_id)).tags == [
        "component:api",
        "environment:production",
    ]


async def test_tags_a_later_delivery_adds_are_added_and_never_undo_a_persons_removal(
    db: Database, service: IngestService
) -> None:
    first = generic(metadata=with_metadata(tags={"component": "api"}))
    created = await service.ingest(org_id=ORG, actor=ACTOR, incident=first)
    more = generic(metadata=with_metadata(tags={"component": "api", "owner": "payments"}))

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=more)
    assert (outcome.status, outcome.events) == ("updated", (EventType.TAG_ADDED,))
    assert outcome.message == "updated: tags owner:payments added"
    assert (await snapshot(db, created.incident_id)).tags == ["component:api", "owner:payments"]

    async with db.session() as session:  # a person removes a tag the source still sends
        await append_event(
            session,
            org_id=ORG,
            incident_id=created.incident_id,
            type=EventType.TAG_REMOVED,
            payload={"tag": "owner:payments"},
            actor="alice",
        )
    again = await service.ingest(org_id=ORG, actor=ACTOR, incident=more)
    fewer = await service.ingest(org_id=ORG, actor=ACTOR, incident=first)
    assert (again.status, fewer.status) == ("unchanged", "unchanged")
    assert (await snapshot(db, created.incident_id)).tags == ["component:api"]


async def test_the_senders_timeline_and_context_are_on_the_created_incident(
    db: Database, service: IngestService
) -> None:
    incident = generic(
        timeline={"start": START, "end": "2025-03-01T12:30:00+02:00", "detectedAt": START},
        collectionContext={"windowMinutesAfter": 45},
    )
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=incident)

    created = (await events(db, outcome.incident_id))[0].payload
    assert (created["ended_at"], created["detected_at"]) == (
        "2025-03-01T10:30:00+00:00",
        "2025-03-01T10:00:00+00:00",
    )
    context = {"windowMinutesBefore": 15, "windowMinutesAfter": 45, "forceCollect": False}
    assert created["collection_context"] == context
    found = await snapshot(db, outcome.incident_id)
    assert (found.ended_at, found.detected_at) == (
        datetime(2025, 3, 1, 10, 30, tzinfo=UTC),
        datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
    )
    assert found.collection_context == context
    assert found.status == "OPEN"  # an end alone is not a resolve


async def test_without_a_collection_context_the_incident_has_none(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    found = await snapshot(db, outcome.incident_id)
    assert (found.collection_context, found.ended_at, found.detected_at) == (None, None, None)


# ---------------------------------------------------------------------- later deliveries


async def test_a_new_end_is_one_update_and_its_repeat_nothing(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(timeline={"start": START, "end": START})
    )
    later = generic(timeline={"start": START, "end": "2025-03-01T11:00:00Z"})

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=later)

    assert (outcome.status, outcome.events) == ("updated", (EventType.UPDATED,))
    assert outcome.message == "updated: ended_at changed"
    assert (await events(db, first.incident_id))[-1].payload == {
        "changes": {"ended_at": "2025-03-01T11:00:00+00:00"}
    }
    assert (await snapshot(db, first.incident_id)).ended_at == datetime(
        2025, 3, 1, 11, 0, tzinfo=UTC
    )
    before = await counts(db)
    repeat = await service.ingest(org_id=ORG, actor=ACTOR, incident=later)
    assert (repeat.status, repeat.events) == ("unchanged", ())
    assert await counts(db) == before


async def test_omitting_the_end_or_the_context_later_changes_nothing(
    db: Database, service: IngestService
) -> None:
    sent = generic(
        timeline={"start": START, "end": "2025-03-01T11:00:00Z", "detectedAt": START},
        collectionContext={"forceCollect": True},
    )
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=sent)
    before = await counts(db)

    bare = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())

    assert (bare.status, bare.events) == ("unchanged", ())
    assert await counts(db) == before
    found = await snapshot(db, first.incident_id)
    assert found.ended_at == datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    assert found.collection_context == {
        "windowMinutesBefore": 15,
        "windowMinutesAfter": 15,
        "forceCollect": True,
    }


async def test_a_new_collection_context_replaces_the_old_one(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(collectionContext={"forceCollect": True})
    )
    later = generic(collectionContext={"windowMinutesBefore": 60})

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=later)

    assert outcome.events == (EventType.UPDATED,)
    assert (await snapshot(db, first.incident_id)).collection_context == {
        "windowMinutesBefore": 60,
        "windowMinutesAfter": 15,
        "forceCollect": False,
    }


# ---------------------------------------------------------------------- evidence bundles


async def test_the_bundle_id_is_the_documented_hash_of_evidence_and_payload(
    db: Database, service: IngestService
) -> None:
    payload = {"incident": {"id": "P123", "urgency": "high"}}
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(sourcePayload=payload))

    evidence = {
        "metrics": [
            {
                "timestamp": "2025-03-01T09:59:00Z",
                "name": "http_5xx_ratio",
                "value": 0.031,
                "unit": "ratio",
            }
        ],
        "logs": [{"message": "upstream timed out", "traceId": "abc123"}],
    }
    assert outcome.evidence_bundle_id == documented_bundle_id(evidence, payload)
    bundle = await EvidenceService(db).get(org_id=ORG, bundle_id=outcome.evidence_bundle_id)
    assert (bundle.incident_id, bundle.evidence, bundle.source_payload) == (
        outcome.incident_id,
        evidence,
        payload,
    )


async def test_empty_evidence_kinds_do_not_change_the_bundle(service: IngestService) -> None:
    evidence = {"logs": [{"message": "pool exhausted"}]}
    with_empty_kinds = {**evidence, "metrics": [], "traces": []}
    one = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(sourceRef="A", evidenceLite=evidence)
    )
    two = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(sourceRef="B", evidenceLite=with_empty_kinds)
    )
    assert one.evidence_bundle_id == two.evidence_bundle_id
    assert one.evidence_bundle_id == documented_bundle_id(evidence, None)


async def test_no_evidence_and_no_payload_is_no_bundle(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(evidenceLite={}))
    assert outcome.evidence_bundle_id is None
    assert await bundle_rows(db) == 0


async def test_a_batch_with_the_same_evidence_twice_stores_one_bundle_for_the_first(
    db: Database, service: IngestService
) -> None:
    batch = [generic(sourceRef="B-2"), generic(sourceRef="B-1")]
    outcomes = await service.ingest_many(org_id=ORG, actor=ACTOR, incidents=batch)

    assert outcomes[0].evidence_bundle_id is not None
    assert outcomes[0].evidence_bundle_id == outcomes[1].evidence_bundle_id
    assert await bundle_rows(db) == 1
    bundle = await EvidenceService(db).get(org_id=ORG, bundle_id=outcomes[0].evidence_bundle_id)
    assert bundle.incident_id == outcomes[0].incident_id


async def test_a_vendor_webhook_delivery_gets_the_bundle_of_its_evidence(
    db: Database, service: IngestService
) -> None:
    delivery = map_file("alertmanager-firing.json")
    outcomes = await service.ingest_many(
        org_id=ORG, actor=ACTOR, incidents=delivery.incidents, raw=RawPayload(b"{}")
    )
    for incident, outcome in zip(delivery.incidents, outcomes, strict=True):
        assert incident.evidence_lite.items()
        bundle = await EvidenceService(db).get(
            org_id=ORG, bundle_id=str(outcome.evidence_bundle_id)
        )
        assert bundle.incident_id == outcome.incident_id
