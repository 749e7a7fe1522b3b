"""The timeline of an incident: tags, notes, actions, signals, SLO violations, tickets.

Each change is one event on the incident's append-only stream, projected into the snapshot
and the timeline rows in the same transaction. Role checks happen at the edge (API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFoundError
from services.incidents import append
from store import incidents, timeline
from store.db import Database
from store.enums import EventType
from store.models import IncidentActionModel, IncidentSignalModel, SloViolationModel
from store.projection import signal_id
from store.records import IncidentSnapshot


@dataclass(frozen=True)
class NewSignal:
    signal_type: str  # METRIC | LOG | TRACE | EVENT | ALERT
    source: str
    summary: str
    service_name: str | None = None
    environment: str | None = None
    correlation_key: str | None = None
    trace_id: str | None = None
    data: Mapping[str, Any] | None = None
    ts: datetime | None = None  # when the source observed it; default: when recorded


@dataclass(frozen=True)
class NewAction:
    action_kind: str  # NOTE | COMMAND | PLAYBOOK | ESCALATION | COMMUNICATION | OTHER
    label: str
    details: Any = None
    actor_type: str = "USER"


@dataclass(frozen=True)
class NewSloViolation:
    slo_id: str
    window_start: datetime
    window_end: datetime
    error_budget_consumed: float
    threshold_breached: bool
    details: Any = None


@dataclass(frozen=True)
class TicketLink:
    system: str  # jira, servicenow, ...
    ticket_id: str
    url: str | None = None

    def ref(self) -> dict[str, Any]:
        return {"system": self.system, "id": self.ticket_id, "url": self.url}


@dataclass(frozen=True)
class IncidentDetails:
    """The snapshot with its timeline rows, each list in event order."""

    snapshot: IncidentSnapshot
    signals: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    slo_violations: list[dict[str, Any]]


class IncidentTimelineService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def details(self, *, org_id: str, incident_id: str) -> IncidentDetails:
        async with self._db.read_session() as session:
            return await load_details(session, org_id, incident_id)

    async def add_tag(
        self, *, org_id: str, incident_id: str, actor: str, tag: str
    ) -> IncidentDetails:
        """Adding a tag the incident already has changes nothing (no event)."""
        async with self._db.session() as session:
            current = await incidents.get_snapshot(session, org_id, incident_id, for_update=True)
            if tag in current.tags:
                return await load_details(session, org_id, incident_id)
            return await self._append(
                session, org_id, incident_id, EventType.TAG_ADDED, {"tag": tag}, actor
            )

    async def remove_tag(
        self, *, org_id: str, incident_id: str, actor: str, tag: str
    ) -> IncidentDetails:
        async with self._db.session() as session:
            current = await incidents.get_snapshot(session, org_id, incident_id, for_update=True)
            if tag not in current.tags:
                raise NotFoundError(f"incident {incident_id} has no tag {tag!r}")
            payload = {"tag": tag}
            return await self._append(
                session, org_id, incident_id, EventType.TAG_REMOVED, payload, actor
            )

    async def add_note(
        self, *, org_id: str, incident_id: str, actor: str, text: str
    ) -> IncidentDetails:
        return await self._record(org_id, incident_id, EventType.NOTE_ADDED, {"text": text}, actor)

    async def record_action(
        self, *, org_id: str, incident_id: str, actor: str, action: NewAction
    ) -> IncidentDetails:
        payload = {
            "action_kind": action.action_kind,
            "label": action.label,
            "details": action.details,
            "actor_type": action.actor_type,
            "actor_ref": actor,
        }
        return await self._record(
            org_id, incident_id, EventType.PLAYBOOK_ACTION_EXECUTED, payload, actor
        )

    async def add_signal(
        self, *, org_id: str, incident_id: str, actor: str, signal: NewSignal
    ) -> IncidentDetails:
        payload = {
            "signal_type": signal.signal_type,
            "source": signal.source,
            "summary": signal.summary,
            "service_name": signal.service_name,
            "environment": signal.environment,
            "correlation_key": signal.correlation_key,
            "trace_id": signal.trace_id,
            "data": dict(signal.data or {}),
            "ts": signal.ts.isoformat() if signal.ts else None,
        }
        return await self._record(org_id, incident_id, EventType.SIGNAL_INGESTED, payload, actor)

    async def record_slo_violation(
        self, *, org_id: str, incident_id: str, actor: str, violation: NewSloViolation
    ) -> IncidentDetails:
        payload = {
            "slo_id": violation.slo_id,
            "window_start": violation.window_start.isoformat(),
            "window_end": violation.window_end.isoformat(),
            "error_budget_consumed": violation.error_budget_consumed,
            "threshold_breached": violation.threshold_breached,
            "details": violation.details,
        }
        return await self._record(
            org_id, incident_id, EventType.SLO_VIOLATION_RECORDED, payload, actor
        )

    async def link_ticket(
        self, *, org_id: str, incident_id: str, actor: str, link: TicketLink
    ) -> IncidentDetails:
        """A ticket already linked with the same url changes nothing."""
        async with self._db.session() as session:
            await incidents.link_ticket(
                session, org_id=org_id, incident_id=incident_id, ref=link.ref(), actor=actor
            )
            return await load_details(session, org_id, incident_id)

    async def _record(
        self,
        org_id: str,
        incident_id: str,
        event_type: EventType,
        payload: dict[str, Any],
        actor: str,
    ) -> IncidentDetails:
        async with self._db.session() as session:
            return await self._append(session, org_id, incident_id, event_type, payload, actor)

    async def _append(
        self,
        session: AsyncSession,
        org_id: str,
        incident_id: str,
        event_type: EventType,
        payload: dict[str, Any],
        actor: str,
    ) -> IncidentDetails:
        await append(session, org_id, incident_id, event_type, payload, actor)
        return await load_details(session, org_id, incident_id)


async def load_details(session: AsyncSession, org_id: str, incident_id: str) -> IncidentDetails:
    """The org's incident and its timeline rows; NotFoundError for another org's."""
    snapshot = await incidents.get_snapshot(session, org_id, incident_id)
    rows = [
        await timeline.list_rows(session, table, org_id, incident_id)
        for table in (IncidentSignalModel, IncidentActionModel, SloViolationModel)
    ]
    for signal in rows[0]:
        signal["id"] = signal_id(incident_id, signal["seq"])
    return IncidentDetails(snapshot, *rows)
