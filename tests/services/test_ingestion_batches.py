"""ingest_many: one transaction per call, and the raw payload kept once, bounded."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from ingest.model import GenericIncident
from services.ingestion import IngestService, RawPayload
from store.db import Database
from store.enums import EventType
from tests.services.ingestion_helpers import (
    ACTOR,
    ORG,
    Counts,
    counts,
    generic,
    snapshot,
    stored_payloads,
)

NOTHING = Counts(incidents=0, events=0, outbox=0, sources=0, payloads=0, bundles=0)


def untitled(source_ref: str) -> GenericIncident:
    """An incident the database refuses (incidents.title is NOT NULL): validation is
    bypassed on purpose, to fail inside the transaction after other items were written."""
    valid = generic(sourceRef=source_ref)
    return GenericIncident.model_construct(**{**dict(valid), "title": None})


async def test_a_batch_that_fails_in_the_database_writes_nothing(db: Database) -> None:
    wakeups: list[str] = []
    service = IngestService(db, on_commit=lambda: wakeups.append("wake"))
    batch = [generic(sourceRef="A-1"), untitled("A-2"), generic(sourceRef="A-3")]

    with pytest.raises(IntegrityError):
        await service.ingest_many(
            org_id=ORG, actor=ACTOR, incidents=batch, raw=RawPayload(b"[1, 2, 3]")
        )

    assert await counts(db) == NOTHING
    assert wakeups == []
    # The keys were not claimed: the valid items can still create their incidents.
    outcomes = await service.ingest_many(org_id=ORG, actor=ACTOR, incidents=[batch[0], batch[2]])
    assert [o.status for o in outcomes] == ["created", "created"]


async def test_one_call_shares_one_payload_row_listing_every_incident(db: Database) -> None:
    service = IngestService(db)
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(sourceRef="B-0"))
    batch = [generic(sourceRef="B-2"), generic(sourceRef="B-0"), generic(sourceRef="B-1")]
    raw = RawPayload(b'{"alerts": 3}', "application/json", "delivery-7")

    outcomes = await service.ingest_many(org_id=ORG, actor=ACTOR, incidents=batch, raw=raw)

    assert [(o.source_ref, o.status) for o in outcomes] == [
        ("B-2", "created"),
        ("B-0", "unchanged"),
        ("B-1", "created"),
    ]
    (payload,) = await stored_payloads(db)
    assert payload.incident_ids == [o.incident_id for o in outcomes]
    assert (payload.org_id, payload.source_type, payload.delivery_id) == (
        ORG,
        "PAGERDUTY",
        "delivery-7",
    )
    assert (payload.content_type, payload.size, payload.truncated, payload.body) == (
        "application/json",
        13,
        False,
        '{"alerts": 3}',
    )


async def test_a_batch_where_nothing_changed_stores_no_payload(db: Database) -> None:
    service = IngestService(db)
    batch = [generic(sourceRef="C-1"), generic(sourceRef="C-2")]
    await service.ingest_many(org_id=ORG, actor=ACTOR, incidents=batch, raw=RawPayload(b"first"))
    before = await counts(db)

    again = await service.ingest_many(
        org_id=ORG, actor=ACTOR, incidents=batch, raw=RawPayload(b"second")
    )

    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert await counts(db) == before
    assert [p.body for p in await stored_payloads(db)] == ["first"]


async def test_the_same_key_twice_in_one_batch_creates_then_updates(db: Database) -> None:
    service = IngestService(db)
    batch = [generic(sourceRef="D-1"), generic(sourceRef="D-1", status="resolved")]

    first, second = await service.ingest_many(org_id=ORG, actor=ACTOR, incidents=batch)

    assert (first.status, second.status) == ("created", "updated")
    assert first.incident_id == second.incident_id
    assert second.events == (EventType.STATUS_CHANGED,)
    assert (await snapshot(db, first.incident_id)).status == "RESOLVED"
    assert (await counts(db)).incidents == 1


async def test_an_empty_batch_does_nothing(db: Database) -> None:
    service = IngestService(db)
    assert (
        await service.ingest_many(org_id=ORG, actor=ACTOR, incidents=[], raw=RawPayload(b"x")) == []
    )
    assert await counts(db) == NOTHING


async def test_a_body_over_the_limit_is_cut_and_keeps_its_size(db: Database) -> None:
    service = IngestService(db, max_stored_payload_bytes=10)
    body = b'{"t": "\xc3\xa9\xc3\xa9\xc3\xa9"}'  # the cut falls inside the second "é"

    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(), raw=RawPayload(body))

    (payload,) = await stored_payloads(db)
    assert (payload.size, payload.truncated) == (len(body), True)
    assert payload.body == '{"t": "é'  # the split character is dropped, not replaced


async def test_a_body_at_the_limit_is_kept_whole_and_bad_utf8_is_replaced(db: Database) -> None:
    body = b'{"x": "\xff"}'
    service = IngestService(db, max_stored_payload_bytes=len(body))

    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(), raw=RawPayload(body))

    (payload,) = await stored_payloads(db)
    assert (payload.size, payload.truncated, payload.body) == (len(body), False, '{"x": "\ufffd"}')


async def test_payloads_are_kept_per_org(db: Database) -> None:
    service = IngestService(db)
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(), raw=RawPayload(b"ours"))
    await service.ingest(
        org_id="globex", actor=ACTOR, incident=generic(), raw=RawPayload(b"theirs")
    )
    assert [p.body for p in await stored_payloads(db)] == ["ours"]
    assert [p.body for p in await stored_payloads(db, org_id="globex")] == ["theirs"]
