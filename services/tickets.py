"""The tickets view of the runbook-automation documents: incidents as on-call people work
them — with their triage classification, best runbook and session status — and one
ticket in full: the servers it names and where each resolves, every ranked runbook, and
the sessions run for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.ci_extract import ExtractedName, extract_ci
from services.connections import ConnectionService
from services.incidents import IncidentService
from services.jsonable import jsonable
from services.runbook_catalog import RunbookCatalog
from services.session_target import LOCAL_RULE, target_from_incident
from services.session_views import SessionSummary
from services.sessions import SessionService
from store.records import IncidentFilters, IncidentSnapshot
from workflows.session_models import SessionTarget


@dataclass(frozen=True)
class TicketSummary:
    id: str
    title: str
    status: str
    severity: str
    source: str | None
    service: str | None
    created_at: datetime
    updated_at: datetime
    classification: str | None  # false_positive | true_positive | uncertain; None: not yet
    classification_confidence: float | None
    triage_status: str | None
    top_match: dict[str, Any] | None  # {runbook_id, confidence}
    session_id: str | None
    session_status: str | None  # running, or the outcome of the session triage started
    external_ticket: dict[str, Any] | None  # {id, url, system} written back by a workflow


@dataclass(frozen=True)
class TicketPage:
    items: list[TicketSummary]
    next_cursor: str | None


@dataclass(frozen=True)
class TicketDetail:
    ticket: TicketSummary
    description: str | None
    classification_reasons: list[str]
    ci: list[ExtractedName]
    target: SessionTarget  # where a session would run with no runbook template
    matches: list[dict[str, Any]]  # every runbook, ranked, with each factor
    executions: list[SessionSummary] = field(default_factory=list)


@dataclass(frozen=True)
class CiExtraction:
    names: list[ExtractedName]
    target: SessionTarget  # where a session would run, unless its runbook says otherwise


class TicketService:
    def __init__(
        self,
        incidents: IncidentService,
        catalog: RunbookCatalog,
        connections: ConnectionService,
    ) -> None:
        self._incidents = incidents
        self._catalog = catalog
        self._connections = connections

    async def list(
        self, *, org_id: str, filters: IncidentFilters, limit: int, cursor: str | None, sort: str
    ) -> TicketPage:
        page = await self._incidents.list(
            org_id=org_id, filters=filters, limit=limit, cursor=cursor, sort=sort
        )
        return TicketPage([ticket_summary(i) for i in page.items], page.next_cursor)

    async def get(self, *, org_id: str, ticket_id: str, sessions: SessionService) -> TicketDetail:
        """The ticket in full; `sessions` reads its execution history from Temporal."""
        snapshot = await self._incidents.get(org_id=org_id, incident_id=ticket_id)
        incident = jsonable(snapshot)
        connections = await self._connections.list(org_id=org_id)
        ranked = await self._catalog.rank(org_id, ticket_id)
        executions = await sessions.list(org_id, incident_id=ticket_id, limit=50)
        classification = (snapshot.triage or {}).get("classification") or {}
        return TicketDetail(
            ticket=ticket_summary(snapshot),
            description=snapshot.description,
            classification_reasons=list(classification.get("reasons") or []),
            ci=extract_ci(incident, connections),
            target=target_from_incident(incident, connections) or SessionTarget(rule=LOCAL_RULE),
            matches=[jsonable(r.ranking) for r in ranked],
            executions=executions,
        )

    async def extract_ci(self, *, org_id: str, ticket: Mapping[str, Any]) -> CiExtraction:
        connections = await self._connections.list(org_id=org_id)
        target = target_from_incident(ticket, connections) or SessionTarget(rule=LOCAL_RULE)
        return CiExtraction(extract_ci(ticket, connections), target)


def ticket_summary(snapshot: IncidentSnapshot) -> TicketSummary:
    triage = snapshot.triage or {}
    classification = triage.get("classification") or {}
    matches = triage.get("matches") or []
    session_id, session_status = _session(triage)
    return TicketSummary(
        id=snapshot.id,
        title=snapshot.title,
        status=snapshot.status,
        severity=snapshot.severity,
        source=snapshot.source_type,
        service=snapshot.service,
        created_at=snapshot.created_at,
        updated_at=snapshot.updated_at,
        classification=classification.get("verdict"),
        classification_confidence=classification.get("confidence"),
        triage_status=snapshot.triage_status,
        top_match=(
            {"runbook_id": matches[0]["runbook_id"], "confidence": matches[0]["confidence"]}
            if matches
            else None
        ),
        session_id=session_id,
        session_status=session_status,
        external_ticket=_external_ticket(snapshot.enrichments),
    )


def _session(triage: Mapping[str, Any]) -> tuple[str | None, str | None]:
    session_id = (triage.get("decision") or {}).get("session_id")
    if session_id is None:
        return None, None
    outcome = triage.get("outcome") or {}
    return session_id, triage.get("status") if outcome else "running"


def _external_ticket(enrichments: Mapping[str, Any]) -> dict[str, Any] | None:
    ticket_id = enrichments.get("ticket_id")
    if not ticket_id:
        return None
    return {
        "id": ticket_id,
        "url": enrichments.get("ticket_url"),
        "system": enrichments.get("ticket_type"),
    }
