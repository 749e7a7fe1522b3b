"""Deliveries racing each other, each in its own transaction, still make one incident."""

from __future__ import annotations

import asyncio
from collections import Counter

from services.ingestion import IngestService
from store.db import Database
from store.enums import EventType
from tests.services.ingestion_helpers import ACTOR, ORG, counts, events, generic

RACERS = 10


async def test_identical_first_deliveries_racing_open_one_incident(db: Database) -> None:
    service = IngestService(db)

    outcomes = await asyncio.gather(
        *(service.ingest(org_id=ORG, actor=ACTOR, incident=generic()) for _ in range(RACERS))
    )

    assert Counter(o.status for o in outcomes) == {"created": 1, "unchanged": RACERS - 1}
    assert len({o.incident_id for o in outcomes}) == 1
    (incident_id,) = {o.incident_id for o in outcomes}
    stored = await events(db, incident_id)
    assert [e.type for e in stored].count(EventType.CREATED) == 1
    assert len(stored) == 3  # CREATED and the two signals, once
    assert ((await counts(db)).incidents, (await counts(db)).sources) == (1, 1)


async def test_racing_resolves_change_the_status_once(db: Database) -> None:
    service = IngestService(db)
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    resolved = generic(status="resolved")

    outcomes = await asyncio.gather(
        *(service.ingest(org_id=ORG, actor=ACTOR, incident=resolved) for _ in range(RACERS))
    )

    assert Counter(o.status for o in outcomes) == {"updated": 1, "unchanged": RACERS - 1}
    stored = await events(db, first.incident_id)
    assert [e.type for e in stored].count(EventType.STATUS_CHANGED) == 1


async def test_batches_sharing_keys_in_opposite_orders_neither_deadlock_nor_duplicate(
    db: Database,
) -> None:
    service = IngestService(db)
    forward = [generic(sourceRef="K-1"), generic(sourceRef="K-2")]
    backward = list(reversed(forward))

    results = await asyncio.gather(
        *(
            service.ingest_many(org_id=ORG, actor=ACTOR, incidents=forward if i % 2 else backward)
            for i in range(RACERS)
        )
    )

    statuses = Counter(o.status for outcomes in results for o in outcomes)
    assert statuses == {"created": 2, "unchanged": 2 * RACERS - 2}
    assert (await counts(db)).incidents == 2
    for outcomes in results:  # outcomes keep the order of their own input
        assert [o.source_ref for o in outcomes] in (["K-1", "K-2"], ["K-2", "K-1"])


async def test_racing_deliveries_of_new_evidence_append_it_once(db: Database) -> None:
    service = IngestService(db)
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(evidenceLite=None))
    with_log = generic(evidenceLite={"logs": [{"message": "pool exhausted"}]})

    outcomes = await asyncio.gather(
        *(service.ingest(org_id=ORG, actor=ACTOR, incident=with_log) for _ in range(RACERS))
    )

    assert Counter(o.status for o in outcomes) == {"updated": 1, "unchanged": RACERS - 1}
    stored = await events(db, first.incident_id)
    assert [e.type for e in stored] == [EventType.CREATED, EventType.SIGNAL_INGESTED]
