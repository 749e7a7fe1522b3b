"""Incident repository: events, snapshots and their queries (the only select() for them)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConflictError, NotFoundError
from core.ids import utcnow
from store import outbox, timeline
from store.base import Base
from store.enums import EventType
from store.models import IncidentEventModel, IncidentModel, OutboxModel
from store.projection import Snapshot, apply_event_in_place, replay
from store.records import IncidentSnapshot, RebuildResult, StoredEvent
from store.rows import row_values, to_record
from store.sql import affected_rows, insert_rows

_REBUILD_BATCH = 500


async def append_event(
    session: AsyncSession,
    *,
    org_id: str,
    incident_id: str,
    type: EventType | str,
    payload: dict[str, Any],
    actor: str,
    ts: datetime | None = None,
) -> StoredEvent:
    """Append one event, project it onto the snapshot and enqueue its outbox rows."""
    (event,) = await append_events(
        session,
        org_id=org_id,
        incident_id=incident_id,
        events=[(type, payload)],
        actor=actor,
        ts=ts,
    )
    return event


async def append_events(
    session: AsyncSession,
    *,
    org_id: str,
    incident_id: str,
    events: Sequence[tuple[EventType | str, dict[str, Any]]],
    actor: str,
    ts: datetime | None = None,
    new_incident: bool = False,
) -> list[StoredEvent]:
    """Append several events to one incident with one snapshot read and one write.

    `new_incident`: the caller made `incident_id` just now, so there is nothing to read.
    """
    row = None if new_incident else await _snapshot_row(session, org_id, incident_id, lock=True)
    before = row_values(row) if row else None
    snapshot = copy.deepcopy(before)  # the row keeps its own values: a change must show
    last_seq = row.last_seq if row else 0
    stored: list[StoredEvent] = []
    # Inserted table by table, events first: outbox rows refer to them.
    rows: dict[type[Base], list[dict[str, Any]]] = {IncidentEventModel: [], OutboxModel: []}
    for type, payload in events:
        _check_can_append(snapshot, incident_id, EventType(type))
        event = StoredEvent(
            org_id=org_id,
            incident_id=incident_id,
            seq=last_seq + len(stored) + 1,
            ts=(ts or utcnow()).astimezone(UTC),
            type=EventType(type).value,
            payload=payload,
            actor=actor,
        )
        rows[IncidentEventModel].append(vars(event))
        snapshot = apply_event_in_place(snapshot, event)
        for table, values in timeline.event_rows(event, snapshot):
            rows.setdefault(table, []).append(values)
        rows[OutboxModel] += outbox.rows_for(event, snapshot["status"])
        stored.append(event)
    if snapshot is not None:
        await _write_snapshot(session, row, snapshot)
        for table, table_rows in rows.items():
            await insert_rows(session, table, table_rows)
        await timeline.sync_keys(session, org_id, incident_id, before, snapshot)
    if row is not None:
        await session.flush()  # the snapshot's UPDATE; the new rows went in as they came
    return stored


async def link_ticket(
    session: AsyncSession,
    *,
    org_id: str,
    incident_id: str,
    ref: dict[str, Any],
    actor: str,
) -> bool:
    """Append LINKED_TO_TICKET unless the same ticket (system, id, url) is linked already,
    so a retried provider call links it once; True when it appended."""
    current = await get_snapshot(session, org_id, incident_id, for_update=True)
    keys = ("system", "id", "url")
    if any(all(existing.get(k) == ref[k] for k in keys) for existing in current.external_refs):
        return False
    await append_event(
        session,
        org_id=org_id,
        incident_id=incident_id,
        type=EventType.LINKED_TO_TICKET,
        payload={k: ref[k] for k in keys},
        actor=actor,
    )
    return True


async def get_snapshot(
    session: AsyncSession, org_id: str, incident_id: str, *, for_update: bool = False
) -> IncidentSnapshot:
    """The org's incident; NotFoundError also when it belongs to another org.

    `for_update` locks the row until the transaction ends (PostgreSQL), so a check made
    on this snapshot still holds when the caller appends the next event.
    """
    row = await _snapshot_row(session, org_id, incident_id, lock=for_update)
    if row is None:
        raise incident_not_found(incident_id)
    return to_record(IncidentSnapshot, row)


def incident_not_found(incident_id: str) -> NotFoundError:
    # One answer for "missing" and "another org's": never reveal that it exists.
    return NotFoundError(f"incident {incident_id} not found")


async def list_events(session: AsyncSession, org_id: str, incident_id: str) -> list[StoredEvent]:
    statement = (
        select(IncidentEventModel)
        .where(IncidentEventModel.org_id == org_id, IncidentEventModel.incident_id == incident_id)
        .order_by(IncidentEventModel.seq)
    )
    return [to_record(StoredEvent, row) for row in (await session.scalars(statement)).all()]


async def has_event(
    session: AsyncSession, org_id: str, incident_id: str, *, type: EventType, actor: str
) -> bool:
    """Whether `actor` already appended an event of `type` to the incident (the database
    filters: an incident with many events costs no more than one with few)."""
    statement = (
        select(IncidentEventModel.seq)
        .where(
            IncidentEventModel.org_id == org_id,
            IncidentEventModel.incident_id == incident_id,
            IncidentEventModel.type == type.value,
            IncidentEventModel.actor == actor,
        )
        .limit(1)
    )
    return (await session.scalar(statement)) is not None


async def rebuild_all(session: AsyncSession) -> RebuildResult:
    """Recompute every snapshot (all orgs) from its events; rewrite rows that differ."""
    keys = (
        await session.execute(
            select(IncidentEventModel.org_id, IncidentEventModel.incident_id).distinct()
        )
    ).all()
    changed = 0
    for done, (org_id, incident_id) in enumerate(keys, start=1):
        changed += await _rebuild_one(session, org_id, incident_id)
        if done % _REBUILD_BATCH == 0:
            await session.flush()
            session.expunge_all()  # keep memory flat on large databases
    changed += await _delete_snapshots_without_events(session)
    await session.flush()
    return RebuildResult(rebuilt=len(keys), changed=changed)


async def _rebuild_one(session: AsyncSession, org_id: str, incident_id: str) -> bool:
    events = await list_events(session, org_id, incident_id)
    expected = replay(events)
    assert expected is not None  # keys come from the events table
    rows_changed = await timeline.rebuild(session, org_id, incident_id, events, expected)
    row = await session.get(IncidentModel, incident_id)
    if row is not None and row_values(row) == expected:
        return rows_changed
    await _write_snapshot(session, row, expected)
    return True


async def _delete_snapshots_without_events(session: AsyncSession) -> int:
    has_events = (
        select(IncidentEventModel.seq)
        .where(
            IncidentEventModel.org_id == IncidentModel.org_id,
            IncidentEventModel.incident_id == IncidentModel.id,
        )
        .exists()
    )
    result = await session.execute(delete(IncidentModel).where(~has_events))
    return affected_rows(result)


async def _snapshot_row(
    session: AsyncSession, org_id: str, incident_id: str, *, lock: bool = False
) -> IncidentModel | None:
    statement = select(IncidentModel).where(
        IncidentModel.org_id == org_id, IncidentModel.id == incident_id
    )
    if lock:
        # Serialises appends to one incident on PostgreSQL (SQLite: BEGIN IMMEDIATE does).
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


def _check_can_append(snapshot: Snapshot | None, incident_id: str, event_type: EventType) -> None:
    if event_type == EventType.CREATED and snapshot is not None:
        raise ConflictError(f"incident {incident_id} already exists")
    if event_type != EventType.CREATED and snapshot is None:
        raise incident_not_found(incident_id)


async def _write_snapshot(
    session: AsyncSession, row: IncidentModel | None, snapshot: Snapshot
) -> None:
    if row is None:
        await insert_rows(session, IncidentModel, [snapshot])
        return
    for key, value in snapshot.items():
        setattr(row, key, value)
