"""Signal, action and SLO rows and the tag/correlation-key index, projected from events.

Like the snapshot, every row is derived from one event (keyed by its seq) or from the
snapshot, in the transaction that appends the event; `rebuild` recomputes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import Base
from store.enums import EventType
from store.projection import EventLike, Snapshot, apply_event_in_place
from store.rows import row_values
from store.sql import insert_rows
from store.timeline_models import (
    IncidentActionModel,
    IncidentKeyModel,
    IncidentSignalModel,
    SloViolationModel,
)

# What the ingestion API's evidence kinds are as signal types.
_SIGNAL_TYPE_OF_KIND = {"metrics": "METRIC", "logs": "LOG", "traces": "TRACE", "events": "EVENT"}
_EVENT_ROW_TABLES: tuple[type[Base], ...] = (
    IncidentSignalModel,
    IncidentActionModel,
    SloViolationModel,
)


# A row to insert: its table and its values (every column).
TableRow = tuple[type[Base], dict[str, Any]]


def event_rows(event: EventLike, snapshot: Snapshot) -> list[TableRow]:
    """The rows one event adds; `snapshot` is the incident after the event."""
    builder = _BUILDERS.get(event.type)
    return [builder(event, snapshot)] if builder else []


def key_rows(snapshot: Snapshot) -> set[tuple[str, str]]:
    """(kind, value) of every tag and correlation key the snapshot carries."""
    return {("tag", tag) for tag in snapshot["tags"]} | {
        ("correlation_key", key) for key in snapshot["correlation_keys"]
    }


async def sync_keys(
    session: AsyncSession, org_id: str, incident_id: str, before: Snapshot | None, after: Snapshot
) -> None:
    """Add and remove index rows so they match `after`."""
    old = key_rows(before) if before else set()
    new = key_rows(after)
    for kind, value in old - new:
        await session.execute(
            delete(IncidentKeyModel).where(
                IncidentKeyModel.org_id == org_id,
                IncidentKeyModel.incident_id == incident_id,
                IncidentKeyModel.kind == kind,
                IncidentKeyModel.value == value,
            )
        )
    rows = [
        {"org_id": org_id, "incident_id": incident_id, "kind": kind, "value": value}
        for kind, value in sorted(new - old)
    ]
    await insert_rows(session, IncidentKeyModel, rows)


async def list_rows(
    session: AsyncSession, table: type[Any], org_id: str, incident_id: str
) -> list[dict[str, Any]]:
    """One incident's rows of `table`, in event order, as plain dicts."""
    statement = (
        select(table)
        .where(table.org_id == org_id, table.incident_id == incident_id)
        .order_by(table.seq)
    )
    return [row_values(row) for row in (await session.scalars(statement)).all()]


async def rebuild(
    session: AsyncSession,
    org_id: str,
    incident_id: str,
    events: Sequence[EventLike],
    final: Snapshot,
) -> bool:
    """Rewrite the incident's rows from its events; True when any differed."""
    expected: list[TableRow] = []
    snapshot: Snapshot | None = None
    for event in events:
        snapshot = apply_event_in_place(snapshot, event)
        expected += event_rows(event, snapshot)
    changed = False
    for table in _EVENT_ROW_TABLES:
        wanted = [values for row_table, values in expected if row_table is table]
        if await list_rows(session, table, org_id, incident_id) != wanted:
            await _delete_rows(session, table, org_id, incident_id)
            await insert_rows(session, table, wanted)
            changed = True
    stored = await _stored_keys(session, org_id, incident_id)
    if stored != key_rows(final):
        await _delete_rows(session, IncidentKeyModel, org_id, incident_id)
        await sync_keys(session, org_id, incident_id, None, final)
        changed = True
    return changed


async def _stored_keys(
    session: AsyncSession, org_id: str, incident_id: str
) -> set[tuple[str, str]]:
    statement = select(IncidentKeyModel.kind, IncidentKeyModel.value).where(
        IncidentKeyModel.org_id == org_id, IncidentKeyModel.incident_id == incident_id
    )
    return {(kind, value) for kind, value in (await session.execute(statement)).all()}


async def _delete_rows(session: AsyncSession, table: Any, org_id: str, incident_id: str) -> None:
    await session.execute(
        delete(table).where(table.org_id == org_id, table.incident_id == incident_id)
    )


def _signal(event: EventLike, snapshot: Snapshot) -> TableRow:
    payload = event.payload
    return IncidentSignalModel, dict(
        **_event_key(event),
        project_id=snapshot["project_id"],
        signal_type=payload.get("signal_type")
        or _SIGNAL_TYPE_OF_KIND.get(str(payload.get("kind")), "EVENT"),
        service_name=payload.get("service_name"),
        environment=payload.get("environment"),
        correlation_key=payload.get("correlation_key"),
        trace_id=payload.get("trace_id"),
        source=payload.get("source") or "unknown",
        summary=payload.get("summary") or "",
        data=payload.get("data") or {},
        ts=_time(payload.get("ts")) or event.ts,
    )


def _action(event: EventLike, snapshot: Snapshot) -> TableRow:
    """Older action events carry `action`/`result`; they read as PLAYBOOK actions."""
    payload = event.payload
    label = payload.get("label") or " → ".join(
        str(part) for part in (payload.get("action"), payload.get("result")) if part
    )
    return IncidentActionModel, dict(
        **_event_key(event),
        actor_type=payload.get("actor_type") or "USER",
        actor_ref=payload.get("actor_ref") or event.actor,
        action_kind=payload.get("action_kind") or "PLAYBOOK",
        label=label[:500],
        details=payload.get("details"),
        ts=event.ts,
    )


def _note(event: EventLike, snapshot: Snapshot) -> TableRow:
    text = str(event.payload.get("text", ""))
    return IncidentActionModel, dict(
        **_event_key(event),
        actor_type=event.payload.get("actor_type") or "USER",
        actor_ref=event.actor,
        action_kind="NOTE",
        label=text[:500],
        details={"text": text},
        ts=event.ts,
    )


def _slo_violation(event: EventLike, snapshot: Snapshot) -> TableRow:
    payload = event.payload
    return SloViolationModel, dict(
        **_event_key(event),
        slo_id=payload["slo_id"],
        window_start=_time(payload["window_start"]),
        window_end=_time(payload["window_end"]),
        error_budget_consumed=float(payload["error_budget_consumed"]),
        threshold_breached=bool(payload["threshold_breached"]),
        details=payload.get("details"),
        ts=event.ts,
    )


def _event_key(event: EventLike) -> dict[str, Any]:
    return {"org_id": event.org_id, "incident_id": event.incident_id, "seq": event.seq}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


_BUILDERS = {
    EventType.SIGNAL_INGESTED.value: _signal,
    EventType.PLAYBOOK_ACTION_EXECUTED.value: _action,
    EventType.NOTE_ADDED.value: _note,
    EventType.SLO_VIOLATION_RECORDED.value: _slo_violation,
}
