"""Runbook sessions: start one for an incident, list them, read one, cancel one.

Starting and cancelling need ORG_ADMIN, SRE_LEAD or ONCALL_ENGINEER; any role reads.
Another org's session is a 404. Cancel rolls the session back; terminating a session
(which skips the rollback) is deliberately not offered.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api.auth import Principal, Role, require_roles
from api.dependencies import CurrentPrincipal, SessionServiceDep
from api.idempotency import Idempotent
from api.schemas.sessions import (
    SessionLinksOut,
    SessionOut,
    SessionStartedOut,
    SessionStartIn,
    SessionSummaryOut,
    TargetOut,
)
from services.session_preview import SessionPreview
from services.session_views import SessionDetail, StartedSession
from workflows.session_models import SessionStatus

router = APIRouter(prefix="/v1", tags=["sessions"])

Starter = Annotated[
    Principal, Depends(require_roles(Role.ORG_ADMIN, Role.SRE_LEAD, Role.ONCALL_ENGINEER))
]
IncidentId = Annotated[str, Path(max_length=64)]
RunbookId = Annotated[str, Path(max_length=128)]
SessionId = Annotated[str, Path(max_length=255)]
# A closed workflow that never reported a final status shows Temporal's own.
StatusFilter = SessionStatus | Literal["terminated", "timed_out", "canceled", "unknown"]


@router.post(
    "/incidents/{incident_id}/runbooks/{runbook_id}/execute",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionStartedOut,
)
async def start_session(
    incident_id: IncidentId,
    runbook_id: RunbookId,
    body: SessionStartIn,
    principal: Starter,
    sessions: SessionServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Start a session; with an `Idempotency-Key`, a retry gets the first session back
    instead of starting a second one."""

    async def start() -> SessionStartedOut:
        started = await sessions.start(
            principal.org,
            incident_id,
            runbook_id,
            principal.sub,
            body.inputs,
            body.connection,
            request_key=idempotent.key,
        )
        return _started_out(started)

    return await idempotent(start, status_code=status.HTTP_201_CREATED)


@router.post("/incidents/{incident_id}/runbooks/{runbook_id}/preview")
async def preview_session(
    incident_id: IncidentId,
    runbook_id: RunbookId,
    body: SessionStartIn,
    principal: CurrentPrincipal,
    sessions: SessionServiceDep,
) -> SessionPreview:
    """What a session would do for this incident, rendered; runs and records nothing."""
    return await sessions.preview(
        principal.org, incident_id, runbook_id, principal.sub, body.inputs, body.connection
    )


def _started_out(started: StartedSession) -> SessionStartedOut:
    return SessionStartedOut(
        session_id=started.session_id,
        runbook_id=started.runbook_id,
        incident_id=started.incident_id,
        number=started.number,
        requester=started.requester,
        status=started.status,
        mode=started.mode,
        auto_threshold=started.auto_threshold,
        approve_every_step=started.approve_every_step,
        confidence=started.confidence,
        reasons=started.reasons,
        target=TargetOut.of(started.target),
        temporal_ui_url=started.temporal_ui_url,
        links=SessionLinksOut.of(started.session_id),
    )


@router.get("/sessions")
async def list_sessions(
    principal: CurrentPrincipal,
    sessions: SessionServiceDep,
    incident_id: Annotated[str | None, Query(max_length=64)] = None,
    runbook_id: Annotated[str | None, Query(max_length=128)] = None,
    status: StatusFilter | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[SessionSummaryOut]:
    """Newest first, each with its live status from Temporal."""
    found = await sessions.list(
        principal.org, incident_id=incident_id, runbook_id=runbook_id, status=status, limit=limit
    )
    return [SessionSummaryOut.model_validate(s) for s in found]


@router.get("/sessions/{session_id}")
async def get_session(
    session_id: SessionId, principal: CurrentPrincipal, sessions: SessionServiceDep
) -> SessionOut:
    """Steps (status, exit code, output tail, approver, timings), rollbacks, refusals, the
    pending approval and the outcome."""
    detail = await sessions.get(principal.org, session_id)
    return _session_out(detail)


@router.post("/sessions/{session_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_session(
    session_id: SessionId, principal: Starter, sessions: SessionServiceDep
) -> SessionOut:
    """Stop the session and roll back what it changed; the answer is its state right after
    the request (the rollback runs on). 409 when it is already over."""
    detail = await sessions.cancel(principal.org, session_id)
    return _session_out(detail)


def _session_out(detail: SessionDetail) -> SessionOut:
    state = detail.state.model_dump()
    if detail.confidence is not None:  # the API's record, else the workflow's own
        state["confidence"] = detail.confidence
    return SessionOut(
        **state,
        temporal_status=detail.temporal_status,
        temporal_ui_url=detail.temporal_ui_url,
        links=SessionLinksOut.of(detail.state.session_id),
    )
