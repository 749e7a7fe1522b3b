"""A runbook session in the console: its steps as they run (the fragment is fetched again
every second until the session is over), rollbacks, outcome, and cancel."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Role
from api.dependencies import SessionServiceDep
from console.pages import Person, render
from console.session import CSRF_FIELD, check_csrf
from core.errors import ConflictError, NotFoundError
from workflows.session_models import FINAL_STATUSES

STARTERS = (Role.ORG_ADMIN, Role.SRE_LEAD, Role.ONCALL_ENGINEER)  # as the API's
router = APIRouter(include_in_schema=False)


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def session_page(
    request: Request, session_id: str, me: Person, sessions: SessionServiceDep
) -> Response:
    return await _render(request, session_id, me, sessions, "session.html")


@router.get("/fragments/sessions/{session_id}", response_class=HTMLResponse)
async def session_fragment(
    request: Request, session_id: str, me: Person, sessions: SessionServiceDep
) -> Response:
    return await _render(request, session_id, me, sessions, "_session_body.html")


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
    request: Request, session_id: str, me: Person, sessions: SessionServiceDep, template: str
) -> Response:
    try:
        detail = await sessions.get(me.org, session_id)
    except NotFoundError:
        return render(request, "not_found.html", 404)
    state = detail.state
    return render(
        request,
        template,
        session=state,
        detail=detail,
        over=state.status in FINAL_STATUSES,
        can_cancel=me.has_any_role(STARTERS) and state.status not in FINAL_STATUSES,
    )
