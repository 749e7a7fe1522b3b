"""One incident: summary and enrichments, triage with its correction, signals and SLO
violations, workflow runs and runbook sessions with their Temporal links, the timeline; and
the changes a person makes there (status, severity, notes, tags, a triage verdict), each
allowed to the roles the API allows it to."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Principal, Role
from api.dependencies import (
    IncidentServiceDep,
    RunbookCatalogDep,
    RunServiceDep,
    SessionServiceDep,
    TimelineServiceDep,
    TriageServiceDep,
)
from api.routes.runbooks import draft_download
from console.pages import STATUS_CHANGERS, WRITERS, Person, render
from console.session import CSRF_FIELD, check_csrf
from core.errors import ConflictError, InvalidInputError, NotFoundError
from services.incident_timeline import IncidentTimelineService
from services.incidents import IncidentService
from services.runs import RunService
from services.sessions import SessionService
from store.enums import IncidentStatus, Severity

SEVERITY_CHANGERS = (Role.ORG_ADMIN, Role.SRE_LEAD)
CsrfToken = Annotated[str, Form(alias=CSRF_FIELD)]
CONSOLE_PATH = re.compile(r"/[a-z][a-z/-]*")  # never another site: no "//", no scheme

router = APIRouter(include_in_schema=False)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_page(
    request: Request,
    incident_id: str,
    me: Person,
    incidents: IncidentServiceDep,
    timeline: TimelineServiceDep,
    runs: RunServiceDep,
    sessions: SessionServiceDep,
) -> Response:
    return await _page(request, me, incident_id, incidents, timeline, runs, sessions)


@router.post("/incidents/{incident_id}/status")
async def change_status(
    request: Request,
    incident_id: str,
    me: Person,
    incidents: IncidentServiceDep,
    status: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form()] = "",
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)
    return await _changed(
        request,
        incident_id,
        me,
        STATUS_CHANGERS,
        lambda: incidents.change_status(
            org_id=me.org,
            incident_id=incident_id,
            actor=me.sub,
            status=IncidentStatus(status),
            reason=reason or None,
        ),
        back=back,
    )


@router.post("/incidents/{incident_id}/severity")
async def change_severity(
    request: Request,
    incident_id: str,
    me: Person,
    incidents: IncidentServiceDep,
    severity: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)
    return await _changed(
        request,
        incident_id,
        me,
        SEVERITY_CHANGERS,
        lambda: incidents.change_severity(
            org_id=me.org,
            incident_id=incident_id,
            actor=me.sub,
            severity=Severity(severity),
            reason=reason or None,
        ),
    )


@router.post("/incidents/{incident_id}/notes")
async def add_note(
    request: Request,
    incident_id: str,
    me: Person,
    timeline: TimelineServiceDep,
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)

    def change() -> Awaitable[object]:
        return timeline.add_note(org_id=me.org, incident_id=incident_id, actor=me.sub, text=text)

    return await _changed(request, incident_id, me, WRITERS, change)


@router.post("/incidents/{incident_id}/tags")
async def change_tags(
    request: Request,
    incident_id: str,
    me: Person,
    timeline: TimelineServiceDep,
    tag: Annotated[str, Form(min_length=1, max_length=200)],
    remove: Annotated[bool, Form()] = False,
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)
    verb = timeline.remove_tag if remove else timeline.add_tag

    def change() -> Awaitable[object]:
        return verb(org_id=me.org, incident_id=incident_id, actor=me.sub, tag=tag.strip())

    return await _changed(request, incident_id, me, WRITERS, change)


@router.post("/incidents/{incident_id}/verdict")
async def incident_verdict(
    request: Request,
    incident_id: str,
    me: Person,
    triage: TriageServiceDep,
    verdict: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)

    def change() -> Awaitable[object]:
        return triage.record_verdict(
            org_id=me.org, incident_id=incident_id, verdict=verdict, note=note or None, actor=me.sub
        )

    return await _changed(request, incident_id, me, WRITERS, change)


@router.get("/incidents/{incident_id}/runbook-draft.yaml")
async def runbook_draft(
    request: Request, incident_id: str, me: Person, catalog: RunbookCatalogDep
) -> Response:
    """The draft runbook for this incident, as a file to save and edit."""
    try:
        draft = await catalog.draft(me.org, incident_id)
    except NotFoundError:
        return render(request, "not_found.html", 404)
    return draft_download(draft)


async def _changed(
    request: Request,
    incident_id: str,
    me: Principal,
    roles: tuple[Role, ...],
    change: Callable[[], Awaitable[object]],
    back: str = "",
) -> Response:
    """Make `change` when `me` holds one of `roles`; back to the page (or to `back`, a
    console path such as /tickets), or the refusal."""
    if not me.has_any_role(roles):
        return render(request, "refused.html", 403, reason="your role may not change this")
    try:
        await change()
    except NotFoundError as missing:  # the incident (or another org's), or a tag it lacks
        return render(request, "refused.html", 404, reason=str(missing))
    except (ConflictError, InvalidInputError, ValueError) as refused:
        return render(request, "refused.html", 409, reason=str(refused))
    if not CONSOLE_PATH.fullmatch(back):
        back = f"/incidents/{incident_id}"
    return RedirectResponse(back, status_code=303)


async def _page(
    request: Request,
    me: Principal,
    incident_id: str,
    incidents: IncidentService,
    timeline: IncidentTimelineService,
    runs: RunService,
    sessions: SessionService,
) -> Response:
    try:
        details = await timeline.details(org_id=me.org, incident_id=incident_id)
        events = await incidents.timeline(org_id=me.org, incident_id=incident_id)
        workflow_runs = await runs.runs_for_incident(me.org, incident_id)
    except NotFoundError:
        return render(request, "not_found.html", 404)
    incident = details.snapshot
    return render(
        request,
        "incident.html",
        incident=incident,
        details=details,
        events=events,
        triage=incident.triage or {},
        runs=workflow_runs,
        sessions=await sessions.list(me.org, incident_id=incident_id, limit=20),
        statuses=[s.value for s in IncidentStatus],
        severities=[s.value for s in Severity],
        can_change_status=me.has_any_role(STATUS_CHANGERS),
        can_change_severity=me.has_any_role(SEVERITY_CHANGERS),
    )
