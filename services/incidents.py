"""Incident use cases: each method is one transaction over the event store.

Role checks happen at the edge (API dependencies); the rules here hold for every caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConflictError, InvalidInputError
from core.ids import new_id
from services.forms import apply_form
from store import incident_queries, incidents
from store.db import Database
from store.enums import EventType, IncidentStatus, Severity
from store.records import IncidentFilters, IncidentPage, IncidentSnapshot, StoredEvent

ALLOWED_TRANSITIONS: dict[IncidentStatus, tuple[IncidentStatus, ...]] = {
    IncidentStatus.OPEN: (
        IncidentStatus.INVESTIGATING,
        IncidentStatus.MITIGATED,
        IncidentStatus.RESOLVED,
        IncidentStatus.CANCELLED,
    ),
    IncidentStatus.INVESTIGATING: (
        IncidentStatus.MITIGATED,
        IncidentStatus.RESOLVED,
        IncidentStatus.CANCELLED,
    ),
    IncidentStatus.MITIGATED: (IncidentStatus.RESOLVED, IncidentStatus.CANCELLED),
    IncidentStatus.RESOLVED: (IncidentStatus.OPEN,),
    IncidentStatus.CANCELLED: (),
}


def check_transition(current: IncidentStatus, target: IncidentStatus) -> None:
    """Raise ConflictError naming the allowed targets unless current → target is allowed."""
    allowed = ALLOWED_TRANSITIONS[current]
    if target in allowed:
        return
    allowed_text = ", ".join(allowed) if allowed else f"none, {current} is final"
    if target == current:
        raise ConflictError(f"incident is already {current}; allowed: {allowed_text}")
    raise ConflictError(f"cannot change status from {current} to {target}; allowed: {allowed_text}")


class IncidentService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        org_id: str,
        actor: str,
        title: str,
        severity: Severity,
        description: str | None = None,
        service: str | None = None,
        environment: str | None = None,
        enrichments: Mapping[str, Any] | None = None,
        original_severity: str | None = None,
        project_id: str | None = None,
        detected_by: str | None = None,
        correlation_key: str | None = None,
        runbook_path: str | None = None,
        tags: Sequence[str] = (),
    ) -> IncidentSnapshot:
        """CREATED, then ENRICHED when there are enrichments (they only ever arrive through
        ENRICHED events); both commit together. Enrichments are checked against the org's
        incident form, whose defaults fill the fields left out."""
        if not title.strip():
            raise InvalidInputError("title must not be blank")
        incident_id = new_id("inc")
        created = {
            "title": title.strip(),
            "severity": severity.value,
            "original_severity": original_severity or severity.value,
            "description": description,
            "service": service,
            "environment": environment,
            "project_id": project_id,
            "detected_by": detected_by,
            "correlation_keys": [correlation_key] if correlation_key else [],
            "runbook_path": runbook_path,
            "tags": list(dict.fromkeys(tags)),
        }
        async with self._db.session() as session:
            entered = await apply_form(session, org_id, enrichments or {})
            await append(session, org_id, incident_id, EventType.CREATED, created, actor)
            if entered:
                payload = {"enrichments": _checked_enrichments(entered)}
                await append(session, org_id, incident_id, EventType.ENRICHED, payload, actor)
            return await incidents.get_snapshot(session, org_id, incident_id)

    async def change_status(
        self,
        *,
        org_id: str,
        incident_id: str,
        actor: str,
        status: IncidentStatus,
        reason: str | None = None,
    ) -> IncidentSnapshot:
        async with self._db.session() as session:
            current = await incidents.get_snapshot(session, org_id, incident_id, for_update=True)
            check_transition(IncidentStatus(current.status), status)
            payload = {"from": current.status, "to": status.value, "reason": reason}
            await append(session, org_id, incident_id, EventType.STATUS_CHANGED, payload, actor)
            return await incidents.get_snapshot(session, org_id, incident_id)

    async def change_severity(
        self,
        *,
        org_id: str,
        incident_id: str,
        actor: str,
        severity: Severity,
        reason: str | None = None,
    ) -> IncidentSnapshot:
        async with self._db.session() as session:
            current = await incidents.get_snapshot(session, org_id, incident_id, for_update=True)
            if current.severity == severity:
                raise ConflictError(f"incident is already {severity}")
            payload = {"from": current.severity, "to": severity.value, "reason": reason}
            await append(session, org_id, incident_id, EventType.SEVERITY_CHANGED, payload, actor)
            return await incidents.get_snapshot(session, org_id, incident_id)

    async def enrich(
        self, *, org_id: str, incident_id: str, actor: str, enrichments: Mapping[str, Any]
    ) -> IncidentSnapshot:
        payload = {"enrichments": _checked_enrichments(enrichments)}
        return await self._record(org_id, incident_id, EventType.ENRICHED, payload, actor)

    async def get(self, *, org_id: str, incident_id: str) -> IncidentSnapshot:
        async with self._db.read_session() as session:
            return await incidents.get_snapshot(session, org_id, incident_id)

    async def list(
        self,
        *,
        org_id: str,
        filters: IncidentFilters | None = None,
        limit: int = 50,
        cursor: str | None = None,
        sort: str = incident_queries.DEFAULT_SORT,
    ) -> IncidentPage:
        if limit < 1:
            raise InvalidInputError("limit must be at least 1")
        if sort not in incident_queries.SORTS:
            raise InvalidInputError(f"sort must be one of {', '.join(incident_queries.SORTS)}")
        async with self._db.read_session() as session:
            return await incident_queries.list_snapshots(
                session, org_id, filters or IncidentFilters(), limit, cursor, sort
            )

    async def timeline(self, *, org_id: str, incident_id: str) -> Sequence[StoredEvent]:
        async with self._db.read_session() as session:
            events = await incidents.list_events(session, org_id, incident_id)
        if not events:
            raise incidents.incident_not_found(incident_id)
        return events

    async def _record(
        self,
        org_id: str,
        incident_id: str,
        event_type: EventType,
        payload: dict[str, Any],
        actor: str,
    ) -> IncidentSnapshot:
        """Append one event that needs no check beyond the incident existing."""
        async with self._db.session() as session:
            await append(session, org_id, incident_id, event_type, payload, actor)
            return await incidents.get_snapshot(session, org_id, incident_id)


async def append(
    session: AsyncSession,
    org_id: str,
    incident_id: str,
    event_type: EventType,
    payload: dict[str, Any],
    actor: str,
) -> StoredEvent:
    """Append one event in the caller's transaction (the positional form services use)."""
    return await incidents.append_event(
        session,
        org_id=org_id,
        incident_id=incident_id,
        type=event_type,
        payload=payload,
        actor=actor,
    )


def _checked_enrichments(enrichments: Mapping[str, Any]) -> dict[str, Any]:
    if not enrichments:
        raise InvalidInputError("enrichments must contain at least one key")
    if any(not isinstance(key, str) or not key.strip() for key in enrichments):
        raise InvalidInputError("enrichment keys must be non-blank strings")
    return dict(enrichments)
