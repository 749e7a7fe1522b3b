"""What a finished session asks of its linked ticket, per ticketing system (pure).

Jira: a comment with the summary, and the transition the outcome maps to.
ServiceNow: a work note with the summary and links; resolved → Resolved (6) with the
summary as resolution notes; in progress → In Progress (2); escalated → In Progress and,
when known, handed to the escalation assignment group.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from workflows.session_models import SessionInput, SessionOutcome

SERVICENOW_IN_PROGRESS = "2"
SERVICENOW_CLOSE_CODE = "Solved (Permanently)"


def ticket_update(
    session: SessionInput, outcome: SessionOutcome, incident_id: str | None
) -> dict[str, Any]:
    """The provider parameters that update `session.ticket` with `outcome`."""
    assert session.ticket is not None
    if session.ticket_system == "servicenow":
        return _servicenow(session, outcome, incident_id)
    params: dict[str, Any] = {"issue_id": session.ticket, "comment": outcome.summary}
    transition = session.ticket_transitions.get(outcome.result)
    if transition:
        params["transition_to"] = transition
    return params


def _servicenow(
    session: SessionInput, outcome: SessionOutcome, incident_id: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ticket_id": session.ticket,
        "work_note": "\n".join([outcome.summary, *_links(session, incident_id)]),
    }
    if outcome.result == "resolved":
        params.update(resolve=True, close_code=SERVICENOW_CLOSE_CODE, close_notes=outcome.summary)
        return params
    params["state"] = SERVICENOW_IN_PROGRESS
    if outcome.result == "escalated" and session.escalation_group:
        params["assignment_group"] = session.escalation_group
    return params


def _links(session: SessionInput, incident_id: str | None) -> list[str]:
    base = session.fireline_url.rstrip("/")
    links = [f"Session: {base}/v1/sessions/{quote(session.session_id, safe=':')}"]
    if incident_id:
        links.append(f"Incident: {base}/incidents/{quote(incident_id, safe='')}")
    return links
