"""The transactional outbox: incident events that should start workflows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.enums import EventType, IncidentStatus
from store.models import OutboxModel
from store.records import OutboxRow, StoredEvent
from store.rows import to_record
from store.sql import affected_rows

__all__ = ["OutboxRow", "mark_dispatched", "pending", "rows_for", "trigger_events_for"]

# Events missing here (enrichments, signals, notes, actions, tags...) start nothing:
# workflows write enrichments, and those must not trigger workflows again.
_TRIGGER_BY_EVENT = {
    EventType.CREATED: "created",
    EventType.UPDATED: "updated",
    EventType.STATUS_CHANGED: "status_changed",
    EventType.SEVERITY_CHANGED: "severity_changed",
    EventType.RESOLVED: "resolved",
}


_ENDED = (IncidentStatus.RESOLVED, IncidentStatus.CANCELLED)
TRIAGE_TRIGGERS = ("created", "reopened")
VERDICT_TRIGGER = "verdict"  # a person's triage verdict: the org's classifier learns it


def starts_triage(event: StoredEvent) -> bool:
    """Whether the dispatcher triages the incident on this event (when triage is on)."""
    return any(trigger in TRIAGE_TRIGGERS for trigger in trigger_events_for(event))


def trigger_events_for(event: StoredEvent, status: str | None = None) -> list[str]:
    """`status`: the incident's status after the event, when known."""
    if event.type == EventType.TRIAGED and event.payload.get("stage") == "verdict":
        return [VERDICT_TRIGGER]
    if event.type == EventType.ENRICHED and status in _ENDED:
        # A ticket written back after the incident ended (triage closed it first): the
        # workflows that close tickets on "resolved" run now that there is one.
        return ["resolved"] if "ticket_id" in event.payload.get("enrichments", {}) else []
    trigger = _TRIGGER_BY_EVENT.get(EventType(event.type))
    if trigger is None:
        return []
    if event.type == EventType.STATUS_CHANGED and event.payload["to"] == IncidentStatus.RESOLVED:
        return [trigger, "resolved"]
    if event.type == EventType.STATUS_CHANGED and event.payload.get("from") in _ENDED:
        return [trigger, "reopened"]
    return [trigger]


def rows_for(event: StoredEvent, status: str | None = None) -> list[dict[str, Any]]:
    """The event's outbox rows (OutboxModel's columns), for its transaction to insert."""
    return [
        {
            "org_id": event.org_id,
            "incident_id": event.incident_id,
            "event_seq": event.seq,
            "event_type": event.type,
            "trigger_event": trigger,
            "created_at": event.ts,
            "dispatched_at": None,
        }
        for trigger in trigger_events_for(event, status)
    ]


async def pending(session: AsyncSession, limit: int) -> list[OutboxRow]:
    """Oldest undispatched rows of every org (the dispatcher serves all orgs).

    On PostgreSQL the rows stay locked until the caller's transaction ends, and rows
    locked by another dispatcher are skipped.
    """
    statement = (
        select(OutboxModel)
        .where(OutboxModel.dispatched_at.is_(None))
        .order_by(OutboxModel.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.scalars(statement)).all()
    return [to_record(OutboxRow, row) for row in rows]


async def mark_dispatched(session: AsyncSession, outbox_id: int) -> bool:
    """Returns False when the row was already marked (or does not exist)."""
    result = await session.execute(
        update(OutboxModel)
        .where(OutboxModel.id == outbox_id, OutboxModel.dispatched_at.is_(None))
        .values(dispatched_at=utcnow())
    )
    return affected_rows(result) == 1
