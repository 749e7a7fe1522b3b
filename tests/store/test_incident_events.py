"""Appending events: sequence numbers, snapshot, outbox rows, one transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import ConflictError, NotFoundError
from store import timeline
from store.db import Database
from store.enums import EventType
from store.incidents import append_event, get_snapshot, has_event, list_events
from store.models import IncidentEventModel, IncidentModel, IncidentSignalModel, OutboxModel
from tests.store.helpers import append, count_rows, create_incident


async def outbox_triggers(db: Database, incident_id: str) -> list[tuple[int, str | None]]:
    async with db.read_session() as session:
        rows = await session.execute(
            select(OutboxModel.event_seq, OutboxModel.trigger_event)
            .where(OutboxModel.incident_id == incident_id)
            .order_by(OutboxModel.id)
        )
        return [(row.event_seq, row.trigger_event) for row in rows.all()]


async def test_events_get_consecutive_seqs_and_update_the_snapshot(db: Database) -> None:
    incident_id = await create_incident(db)
    await append(db, "acme", incident_id, EventType.NOTE_ADDED, {"text": "looking"})
    third = await append(db, "acme", incident_id, EventType.SEVERITY_CHANGED, {"to": "SEV1"})
    async with db.read_session() as session:
        events = await list_events(session, "acme", incident_id)
        snapshot = await get_snapshot(session, "acme", incident_id)
    assert [event.seq for event in events] == [1, 2, 3]
    assert (snapshot.severity, snapshot.last_seq, snapshot.updated_at) == ("SEV1", 3, third.ts)


async def test_outbox_rows_follow_the_trigger_mapping(db: Database) -> None:
    incident_id = await create_incident(db)
    history: list[tuple[EventType, dict[str, Any]]] = [
        (EventType.ENRICHED, {"enrichments": {"ticket_id": "OPS-1"}}),
        (EventType.SIGNAL_INGESTED, {"source": "prom", "summary": "5xx"}),
        (EventType.NOTE_ADDED, {"text": "x"}),
        (EventType.PLAYBOOK_ACTION_EXECUTED, {"action": "restart"}),
        (EventType.TAG_ADDED, {"tag": "db"}),
        (EventType.UPDATED, {"changes": {"title": "New"}}),
        (EventType.SEVERITY_CHANGED, {"from": "SEV2", "to": "SEV1"}),
        (EventType.STATUS_CHANGED, {"from": "OPEN", "to": "INVESTIGATING"}),
        (EventType.STATUS_CHANGED, {"from": "INVESTIGATING", "to": "RESOLVED"}),
        (EventType.RESOLVED, {}),
    ]
    for event_type, payload in history:
        await append(db, "acme", incident_id, event_type, payload)
    assert await outbox_triggers(db, incident_id) == [
        (1, "created"),
        (7, "updated"),
        (8, "severity_changed"),
        (9, "status_changed"),
        (10, "status_changed"),
        (10, "resolved"),
        (11, "resolved"),
    ]


async def test_event_snapshot_and_outbox_row_share_the_transaction(db: Database) -> None:
    incident_id = await create_incident(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await append_event(
                session,
                org_id="acme",
                incident_id=incident_id,
                type=EventType.SEVERITY_CHANGED,
                payload={"to": "SEV1"},
                actor="tester",
            )
            raise RuntimeError("crash before commit")
    async with db.read_session() as session:
        assert await count_rows(session, IncidentEventModel) == 1
        assert (await get_snapshot(session, "acme", incident_id)).severity == "SEV2"
    assert await outbox_triggers(db, incident_id) == [(1, "created")]


async def test_a_second_created_event_is_a_conflict(db: Database) -> None:
    incident_id = await create_incident(db)
    with pytest.raises(ConflictError, match="already exists"):
        await append(db, "acme", incident_id, EventType.CREATED, {"title": "x", "severity": "SEV1"})


async def test_events_for_a_missing_or_foreign_incident_are_not_found(db: Database) -> None:
    incident_id = await create_incident(db, "acme")
    with pytest.raises(NotFoundError, match="not found"):
        await append(db, "acme", "inc_missing", EventType.NOTE_ADDED, {"text": "x"})
    with pytest.raises(NotFoundError, match="not found"):
        await append(db, "globex", incident_id, EventType.NOTE_ADDED, {"text": "x"})
    async with db.read_session() as session:
        assert await count_rows(session, IncidentEventModel) == 1


async def test_concurrent_appends_to_one_incident_lose_nothing(db: Database) -> None:
    incident_id = await create_incident(db)
    await asyncio.gather(
        *(
            append(db, "acme", incident_id, EventType.SIGNAL_INGESTED, {"summary": f"{n:02}"})
            for n in range(12)
        )
    )
    async with db.read_session() as session:
        events = await list_events(session, "acme", incident_id)
        snapshot = await get_snapshot(session, "acme", incident_id)
        rows = await timeline.list_rows(session, IncidentSignalModel, "acme", incident_id)
    assert [event.seq for event in events] == list(range(1, 14))
    assert sorted(row["summary"] for row in rows) == [f"{n:02}" for n in range(12)]
    assert snapshot.last_seq == 13


async def test_two_engines_on_one_sqlite_file_write_concurrently(db: Database) -> None:
    """Like the API and the worker: separate pools, read-then-write transactions."""
    if not db.is_sqlite:
        pytest.skip("SQLite locking only")
    other = Database(db.url)
    try:
        incident_id = await create_incident(db)
        await asyncio.gather(
            *(
                append(engine, "acme", incident_id, EventType.NOTE_ADDED, {"n": n})
                for n in range(10)
                for engine in (db, other)
            )
        )
    finally:
        await other.dispose()
    async with db.read_session() as session:
        assert (await get_snapshot(session, "acme", incident_id)).last_seq == 21
        assert await count_rows(session, IncidentModel) == 1


async def test_has_event_looks_for_that_type_by_that_actor_on_that_incident(db: Database) -> None:
    incident_id = await create_incident(db)
    other_incident = await create_incident(db)
    await append(db, "acme", incident_id, EventType.NOTE_ADDED, {"text": "by the tester"})

    async def has(org: str, incident: str, type: EventType, actor: str) -> bool:
        async with db.read_session() as session:
            return await has_event(session, org, incident, type=type, actor=actor)

    assert await has("acme", incident_id, EventType.NOTE_ADDED, "tester")
    assert not await has("acme", incident_id, EventType.NOTE_ADDED, "someone-else")
    assert not await has("acme", incident_id, EventType.TAG_ADDED, "tester")
    assert not await has("acme", other_incident, EventType.NOTE_ADDED, "tester")
    assert not await has("other-org", incident_id, EventType.NOTE_ADDED, "tester")
