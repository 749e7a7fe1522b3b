"""The tickets view (incidents with their triage, best runbook and session) and CI
extraction: which servers a ticket names and the connection each resolves to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.dependencies import CurrentPrincipal, SessionServiceDep, TicketServiceDep
from api.schemas.tickets import ExtractCiIn, TicketListQuery
from services.tickets import CiExtraction, TicketDetail, TicketPage
from store.records import IncidentFilters

router = APIRouter(prefix="/v1", tags=["tickets"])
TicketId = Annotated[str, Path(max_length=64)]


@router.get("/tickets")
async def list_tickets(
    query: Annotated[TicketListQuery, Query()],
    principal: CurrentPrincipal,
    tickets: TicketServiceDep,
) -> TicketPage:
    filters = IncidentFilters(
        statuses=tuple(query.status),
        severities=tuple(query.severity),
        source_types=tuple(query.source),
        classifications=tuple(query.classification),
        since=query.since,
        until=query.until,
        text=query.q or None,
    )
    return await tickets.list(
        org_id=principal.org,
        filters=filters,
        limit=query.limit,
        cursor=query.cursor,
        sort=query.sort,
    )


@router.get("/tickets/{ticket_id}")
async def get_ticket(
    ticket_id: TicketId,
    principal: CurrentPrincipal,
    tickets: TicketServiceDep,
    sessions: SessionServiceDep,
) -> TicketDetail:
    return await tickets.get(org_id=principal.org, ticket_id=ticket_id, sessions=sessions)


@router.post("/infrastructure/extract-ci")
async def extract_ci(
    body: ExtractCiIn, principal: CurrentPrincipal, tickets: TicketServiceDep
) -> CiExtraction:
    """The names the ticket gives (CI association, service, description, title) and the
    connection each resolves to, with the rule; `target` is where a session would run."""
    return await tickets.extract_ci(org_id=principal.org, ticket=body.model_dump())
