"""Incident endpoints: parse, call IncidentService, return a schema."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.auth import Principal, Role, require_roles
from api.dependencies import CurrentPrincipal, IncidentServiceDep
from api.schemas.incidents import (
    ActionIn,
    EnrichmentsIn,
    EventOut,
    IncidentCreateIn,
    IncidentListQuery,
    IncidentOut,
    IncidentPageOut,
    IncidentSummaryOut,
    SeverityChangeIn,
    SignalIn,
    StatusChangeIn,
    TimelineOut,
)
from store.records import IncidentFilters

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

Writer = Annotated[
    Principal,
    Depends(require_roles(Role.ORG_ADMIN, Role.SRE_LEAD, Role.ONCALL_ENGINEER, Role.ANALYST)),
]
StatusChanger = Annotated[
    Principal, Depends(require_roles(Role.ORG_ADMIN, Role.SRE_LEAD, Role.ONCALL_ENGINEER))
]
SeverityChanger = Annotated[Principal, Depends(require_roles(Role.ORG_ADMIN, Role.SRE_LEAD))]
IncidentId = Annotated[str, Path(max_length=64)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_incident(
    body: IncidentCreateIn, principal: Writer, incidents: IncidentServiceDep
) -> IncidentOut:
    snapshot = await incidents.create(
        org_id=principal.org,
        actor=principal.sub,
        title=body.title,
        severity=body.severity,
        description=body.description,
        service=body.service,
        environment=body.environment,
        enrichments=body.enrichments,
    )
    return IncidentOut.model_validate(snapshot)


@router.get("")
async def list_incidents(
    query: Annotated[IncidentListQuery, Query()],
    principal: CurrentPrincipal,
    incidents: IncidentServiceDep,
) -> IncidentPageOut:
    filters = IncidentFilters(
        statuses=tuple(query.status),
        severity=query.severity,
        service=query.service,
        environment=query.environment,
        text=query.q or None,
    )
    page = await incidents.list(
        org_id=principal.org, filters=filters, limit=query.limit, cursor=query.cursor
    )
    return IncidentPageOut(
        items=[IncidentSummaryOut.model_validate(item) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{incident_id}")
async def get_incident(
    incident_id: IncidentId, principal: CurrentPrincipal, incidents: IncidentServiceDep
) -> IncidentOut:
    snapshot = await incidents.get(org_id=principal.org, incident_id=incident_id)
    return IncidentOut.model_validate(snapshot)


@router.get("/{incident_id}/timeline")
async def get_timeline(
    incident_id: IncidentId, principal: CurrentPrincipal, incidents: IncidentServiceDep
) -> TimelineOut:
    events = await incidents.timeline(org_id=principal.org, incident_id=incident_id)
    return TimelineOut(
        incident_id=incident_id, events=[EventOut.model_validate(event) for event in events]
    )


@router.post("/{incident_id}/status")
async def change_status(
    incident_id: IncidentId,
    body: StatusChangeIn,
    principal: StatusChanger,
    incidents: IncidentServiceDep,
) -> IncidentOut:
    snapshot = await incidents.change_status(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        status=body.status,
        reason=body.reason,
    )
    return IncidentOut.model_validate(snapshot)


@router.post("/{incident_id}/severity")
async def change_severity(
    incident_id: IncidentId,
    body: SeverityChangeIn,
    principal: SeverityChanger,
    incidents: IncidentServiceDep,
) -> IncidentOut:
    snapshot = await incidents.change_severity(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        severity=body.severity,
        reason=body.reason,
    )
    return IncidentOut.model_validate(snapshot)


@router.post("/{incident_id}/actions")
async def record_action(
    incident_id: IncidentId, body: ActionIn, principal: Writer, incidents: IncidentServiceDep
) -> IncidentOut:
    snapshot = await incidents.record_action(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        action=body.action,
        result=body.result,
        details=body.details,
    )
    return IncidentOut.model_validate(snapshot)


@router.post("/{incident_id}/signals")
async def add_signal(
    incident_id: IncidentId, body: SignalIn, principal: Writer, incidents: IncidentServiceDep
) -> IncidentOut:
    snapshot = await incidents.add_signal(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        source=body.source,
        summary=body.summary,
        data=body.data,
    )
    return IncidentOut.model_validate(snapshot)


@router.post("/{incident_id}/enrichments")
async def enrich(
    incident_id: IncidentId, body: EnrichmentsIn, principal: Writer, incidents: IncidentServiceDep
) -> IncidentOut:
    snapshot = await incidents.enrich(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        enrichments=body.enrichments,
    )
    return IncidentOut.model_validate(snapshot)
