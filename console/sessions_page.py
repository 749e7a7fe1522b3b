"""A runbook session in the console: its steps as they run (the fragment is fetched again
every second until the session is over), the commands' output line by line as it is
printed (a live stream), rollbacks, outcome, and cancel."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from api.auth import Role
from api.dependencies import IncidentServiceDep, SessionServiceDep, SessionStreamDep
from console.pages import TEMPLATES, Person, render
from console.session import CSRF_FIELD, check_csrf
from core.errors import ConflictError, NotFoundError
from services.incidents import IncidentService
from services.session_stream import SessionEvent
from services.sessions import SessionService
from workflows.session_models import FINAL_STATUSES

STARTERS = (Role.ORG_ADMIN, Role.SRE_LEAD, Role.ONCALL_ENGINEER)  # as the API's
router = APIRouter(include_in_schema=False)


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def session_page(
    request: Request,
    session_id: str,
    me: Person,
    sessions: SessionServiceDep,
    incidents: IncidentServiceDep,
) -> Response:
    return await _render(request, session_id, me, sessions, "session.html", incidents)


@router.get("/fragments/sessions/{session_id}", response_class=HTMLResponse)
async def session_fragment(
    request: Request, session_id: str, me: Person, sessions: SessionServiceDep
) -> Response:
    return await _render(request, session_id, me, sessions, "_session_body.html")


@router.get("/sessions/{session_id}/output")
async def session_output(session_id: str, me: Person, stream: SessionStreamDep) -> Response:
    """Server-sent `output` frames (HTML lines to append), then `end` once it is over."""
    try:
        events = await stream.follow(me.org, session_id)
    except NotFoundError:
        return Response(status_code=404)
    return StreamingResponse(
        _output_frames(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _output_frames(events: AsyncIterator[SessionEvent | None]) -> AsyncIterator[str]:
    async for event in events:
        if event is None:
            yield ": keepalive\n\n"
        elif event.event in ("output", "error"):
            html = TEMPLATES.get_template("_output_lines.html").render(event=event)
            data = "".join(f"data: {line}\n" for line in html.strip().splitlines())
            yield f"event: output\n{data}\n"
        elif event.event == "end":
            yield "event: end\ndata: over\n\n"


@router.post("/sessions/{session_id}/cancel")
async def cancel(
    request: Request,
    session_id: str,
    me: Person,
    sessions: SessionServiceDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if me.has_any_role(STARTERS):
        # Over already, or not this org's: the page it goes back to says what it is.
        with contextlib.suppress(NotFoundError, ConflictError):
            await sessions.cancel(me.org, session_id)
    return RedirectResponse(f"/sessions/{session_id}", status_code=303)


async def _render(
    request: Request,
    session_id: str,
    me: Person,
    sessions: SessionService,
    template: str,
    incidents: IncidentService | None = None,
) -> Response:
    try:
        detail = await sessions.get(me.org, session_id)
    except NotFoundError:
        return render(request, "not_found.html", 404)
    state = detail.state
    ticket = await _ticket(incidents, me.org, state.incident_id) if incidents else {}
    return render(
        request,
        template,
        session=state,
        detail=detail,
        over=state.status in FINAL_STATUSES,
        ticket=ticket,
        can_cancel=me.has_any_role(STARTERS) and state.status not in FINAL_STATUSES,
    )


async def _ticket(incidents: IncidentService, org: str, incident_id: str | None) -> dict[str, str]:
    """The incident's ticket (id and url), for a link on the page; empty without one."""
    if incident_id is None:
        return {}
    try:
        enrichments = (await incidents.get(org_id=org, incident_id=incident_id)).enrichments
    except NotFoundError:
        return {}
    if not enrichments.get("ticket_id"):
        return {}
    return {"id": str(enrichments["ticket_id"]), "url": str(enrichments.get("ticket_url") or "")}
