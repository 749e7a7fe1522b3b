"""What starting a runbook session is made of: its id, its inputs checked, the ticket it
updates, its index row and the search attributes its workflow starts with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast, get_args

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from core.errors import InvalidInputError
from dsl.runbook_plan import RunbookPlan
from dsl.triggers import validate_inputs
from store.sessions import NewSession
from workflows.names import (
    SA_SESSION_STATUS,
)
from workflows.session_models import SessionInput, TicketSystem
from workflows.session_report import identity_attributes

TICKET_SYSTEMS = get_args(TicketSystem)


def session_id_for(org: str, incident_id: str, runbook_id: str, number: int) -> str:
    return f"{org}:{incident_id}:runbook:{runbook_id}:{number}"


def checked_inputs(plan: RunbookPlan, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs with declared defaults filled in; InvalidInputError naming every bad one
    (the rules and messages of a workflow's manual inputs)."""
    checked, errors = validate_inputs({i.name: i for i in plan.inputs}, inputs)
    if errors:
        raise InvalidInputError(f"runbook '{plan.id}': " + "; ".join(errors))
    return checked


def linked_ticket(incident: Mapping[str, Any]) -> tuple[TicketSystem, str] | None:
    """The ticket a workflow wrote back on the incident (enrichments `ticket_type` and
    `ticket_id`): a Jira key or a ServiceNow number. A ticket of a system a session cannot
    update is left alone; a key without a type is Jira's (as before ServiceNow existed)."""
    enrichments = incident.get("enrichments")
    if not isinstance(enrichments, Mapping):
        return None
    key, kind = enrichments.get("ticket_id"), enrichments.get("ticket_type")
    if not isinstance(key, str) or not key.strip():
        return None
    system = str(kind or "jira").lower()
    if system not in TICKET_SYSTEMS:
        return None
    return cast(TicketSystem, system), key.strip()


def new_row(request: SessionInput, incident_id: str, request_key: str | None) -> NewSession:
    return NewSession(
        org_id=request.org_id,
        incident_id=incident_id,
        runbook_id=request.plan.id,
        requester=request.requester,
        plan_hash=request.plan.plan_hash,
        mode=request.mode,
        confidence=request.confidence,
        target_connection=request.target.connection,
        target_rule=request.target.rule,
        request_key=request_key,
    )


def search_attributes(request: SessionInput, incident: Mapping[str, Any]) -> TypedSearchAttributes:
    """What the workflow upserts first (its identity), and its status: a listing filtered
    by them finds the session from its start."""
    identity = [SearchAttributePair(u.key, u.value) for u in identity_attributes(request, incident)]
    return TypedSearchAttributes([*identity, SearchAttributePair(SA_SESSION_STATUS, "running")])
