"""The timeline of an incident: tags, notes, actions, signals, SLO violations, tickets.

Each route appends one event and answers with the incident and its timeline rows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.body import require_json_content_type
from api.dependencies import TimelineServiceDep
from api.routes.incidents import IncidentId, Writer
from api.schemas.incidents import (
    ActionIn,
    IncidentOut,
    NoteIn,
    SignalIn,
    SloViolationIn,
    TagIn,
    TicketLinkIn,
)

router = APIRouter(
    prefix="/v1/incidents",
    tags=["incident timeline"],
    dependencies=[Depends(require_json_content_type)],
)


@router.post("/{incident_id}/tags")
async def add_tag(
    incident_id: IncidentId, body: TagIn, principal: Writer, timeline: TimelineServiceDep
) -> IncidentOut:
    """Adding a tag the incident already has changes nothing."""
    details = await timeline.add_tag(
        org_id=principal.org, incident_id=incident_id, actor=principal.sub, tag=body.tag
    )
    return IncidentOut.of(details)


@router.delete("/{incident_id}/tags/{tag:path}")
async def remove_tag(
    incident_id: IncidentId,
    tag: Annotated[str, Path(max_length=200)],
    principal: Writer,
    timeline: TimelineServiceDep,
) -> IncidentOut:
    details = await timeline.remove_tag(
        org_id=principal.org, incident_id=incident_id, actor=principal.sub, tag=tag
    )
    return IncidentOut.of(details)


@router.post("/{incident_id}/notes")
async def add_note(
    incident_id: IncidentId, body: NoteIn, principal: Writer, timeline: TimelineServiceDep
) -> IncidentOut:
    details = await timeline.add_note(
        org_id=principal.org, incident_id=incident_id, actor=principal.sub, text=body.text
    )
    return IncidentOut.of(details)


@router.post("/{incident_id}/actions")
async def record_action(
    incident_id: IncidentId, body: ActionIn, principal: Writer, timeline: TimelineServiceDep
) -> IncidentOut:
    details = await timeline.record_action(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        action=body.to_action(),
    )
    return IncidentOut.of(details)


@router.post("/{incident_id}/signals")
async def add_signal(
    incident_id: IncidentId, body: SignalIn, principal: Writer, timeline: TimelineServiceDep
) -> IncidentOut:
    details = await timeline.add_signal(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        signal=body.to_signal(),
    )
    return IncidentOut.of(details)


@router.post("/{incident_id}/slo-violations")
async def record_slo_violation(
    incident_id: IncidentId,
    body: SloViolationIn,
    principal: Writer,
    timeline: TimelineServiceDep,
) -> IncidentOut:
    details = await timeline.record_slo_violation(
        org_id=principal.org,
        incident_id=incident_id,
        actor=principal.sub,
        violation=body.to_violation(),
    )
    return IncidentOut.of(details)


@router.post("/{incident_id}/tickets")
async def link_ticket(
    incident_id: IncidentId, body: TicketLinkIn, principal: Writer, timeline: TimelineServiceDep
) -> IncidentOut:
    """Link an external ticket: it joins `external_refs` and the ticket_* enrichments."""
    details = await timeline.link_ticket(
        org_id=principal.org, incident_id=incident_id, actor=principal.sub, link=body.to_link()
    )
    return IncidentOut.of(details)
