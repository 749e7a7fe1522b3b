"""A runbook for an incident, from the console: preview what a session would run, and
start it (the roles that may start sessions; the session page follows it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dependencies import SessionServiceDep
from console.pages import Person, render
from console.session import CSRF_FIELD, check_csrf
from console.sessions_page import STARTERS
from core.errors import FirelineError, NotFoundError

router = APIRouter(include_in_schema=False)


@router.get("/incidents/{incident_id}/runbooks/{runbook_id}/preview", response_class=HTMLResponse)
async def preview(
    request: Request, incident_id: str, runbook_id: str, me: Person, sessions: SessionServiceDep
) -> Response:
    try:
        shown = await sessions.preview(me.org, incident_id, runbook_id, me.sub, {})
    except NotFoundError:
        return render(request, "not_found.html", 404)
    except FirelineError as refused:
        return _refused(request, incident_id, runbook_id, refused)
    return render(
        request,
        "preview.html",
        preview=shown,
        incident_id=incident_id,
        runbook_id=runbook_id,
        can_start=me.has_any_role(STARTERS),
    )


@router.post("/incidents/{incident_id}/runbooks/{runbook_id}/execute")
async def execute(
    request: Request,
    incident_id: str,
    runbook_id: str,
    me: Person,
    sessions: SessionServiceDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if not me.has_any_role(STARTERS):
        return render(request, "not_found.html", 404)
    try:
        started = await sessions.start(me.org, incident_id, runbook_id, me.sub, {})
    except NotFoundError:
        return render(request, "not_found.html", 404)
    except FirelineError as refused:
        return _refused(request, incident_id, runbook_id, refused)
    return RedirectResponse(f"/sessions/{started.session_id}", status_code=303)


def _refused(request: Request, incident_id: str, runbook_id: str, why: Exception) -> Response:
    context = {"incident_id": incident_id, "runbook_id": runbook_id, "error": str(why)}
    return render(request, "preview.html", 422, preview=None, **context)
