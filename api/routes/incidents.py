"""Incident endpoints: create, list, read, change status or severity, enrich."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.auth import Principal, Role, require_roles
from api.body import require_json_content_type
from api.dependencies import CurrentPrincipal, IncidentServiceDep, TimelineServiceDep
from api.schemas.incidents import (
    EnrichmentsIn,
    EventOut,
    IncidentCreateIn,
    IncidentListQuery,
    IncidentOut,
    IncidentPageOut,
    IncidentSummaryOut,
    SeverityChangeIn,
    StatusChangeIn,
    TimelineOut,
)
from store.records import IncidentFilters

router = APIRouter(
    prefix="/v1/incidents",
    tags=["incidents"],
    dependencies=[Depends(require_json_content_type)],
)

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
        project_id=body.project_id,
        detected_by=body.detected_by,
        correlation_key=body.initial_correlation_key,
        runbook_path=body.runbook_path,
        tags=body.tags,
    )
    return IncidentOut.model_validate(IncidentSummaryOut.model_validate(snapshot).model_dump())


@router.get("")
async def list_incidents(
    query: Annotated[IncidentListQuery, Query()],
    principal: CurrentPrincipal,
    incidents: IncidentServiceDep,
) -> IncidentPageOut:
    filters = IncidentFilters(
        statuses=tuple(query.status),
        severities=tuple(query.severity),
        service=query.service,
        environment=query.environment,
        project_id=query.project_id,
        tag=query.tag,
        correlation_key=query.correlation_key,
        trace_id=query.trace_id,
        triage_statuses=tuple(query.triage_status),
        since=query.since,
        until=query.until,
        text=query.q or query.search_query or None,
    )
    page = await incidents.list(
        org_id=principal.org,
        filters=filters,
        limit=query.limit,
        cursor=query.cursor,
        sort=query.sort,
    )
    return IncidentPageOut(
        items=[IncidentSummaryOut.model_validate(item) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{incident_id}")
async def get_incident(
    incident_id: IncidentId, principal: CurrentPrincipal, timeline: TimelineServiceDep
) -> IncidentOut:
    return IncidentOut.of(await timeline.details(org_id=principal.org, incident_id=incident_id))


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
    timeline: TimelineServiceDep,
) -> IncidentOut:
    await incidents.change_status(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        status=body.status,
        reason=body.reason,
    )
    return IncidentOut.of(await timeline.details(org_id=principal.org, incident_id=incident_id))


@router.post("/{incident_id}/severity")
async def change_severity(
    incident_id: IncidentId,
    body: SeverityChangeIn,
    principal: SeverityChanger,
    incidents: IncidentServiceDep,
    timeline: TimelineServiceDep,
) -> IncidentOut:
    await incidents.change_severity(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        severity=body.severity,
        reason=body.reason,
    )
    return IncidentOut.of(await timeline.details(org_id=principal.org, incident_id=incident_id))


@router.post("/{incident_id}/enrichments")
async def enrich(
    incident_id: IncidentId,
    body: EnrichmentsIn,
    principal: Writer,
    incidents: IncidentServiceDep,
    timeline: TimelineServiceDep,
) -> IncidentOut:
    await incidents.enrich(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        enrichments=body.enrichments,
    )
    return IncidentOut.of(await timeline.details(org_id=principal.org, incident_id=incident_id))
