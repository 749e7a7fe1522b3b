"""Approvals: the steps waiting for a decision, and deciding them.

Anyone in the org may call these; the session itself checks the decision (the caller
must hold one of the step's roles and must not have started the session). Deciding
accepts an `Idempotency-Key` header: a retry gets the first answer.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth import Principal
from api.dependencies import ApprovalServiceDep, CurrentPrincipal
from api.idempotency import Idempotent
from api.schemas.approvals import (
    BatchIn,
    BatchOut,
    BatchResultOut,
    DecisionIn,
    DecisionOut,
    PendingApprovalListOut,
    PendingApprovalOut,
)
from services.approvals import ApprovalService

router = APIRouter(prefix="/v1", tags=["approvals"])

KEY_ANSWERS: dict[int | str, dict[str, str]] = {
    400: {"description": "A malformed Idempotency-Key"},
    409: {"description": "A request with this Idempotency-Key is still being handled"},
    422: {"description": "Invalid body, or an Idempotency-Key used for another request"},
}
DECISION_ANSWERS: dict[int | str, dict[str, str]] = {
    **KEY_ANSWERS,
    403: {"description": "The caller lacks the step's roles, or started the session"},
    404: {"description": "No such session in this org, or the step is not waiting"},
    409: {"description": "Already decided, the session is over, or the key is in use"},
    503: {"description": "Temporal or the session's worker did not answer; retry"},
}


@router.get("/approvals")
async def list_pending_approvals(
    principal: CurrentPrincipal, approvals: ApprovalServiceDep
) -> PendingApprovalListOut:
    """Steps of the org's sessions waiting for a decision, oldest request first;
    `can_decide` says whether the caller may decide each one."""
    views = await approvals.pending(principal.org, principal)
    return PendingApprovalListOut(items=[PendingApprovalOut.model_validate(v) for v in views])


@router.post(
    "/sessions/{session_id}/steps/{step}/approve",
    response_model=DecisionOut,
    responses=DECISION_ANSWERS,
)
async def approve_step(
    session_id: str,
    step: str,
    principal: CurrentPrincipal,
    approvals: ApprovalServiceDep,
    idempotent: Idempotent,
    body: DecisionIn | None = None,
) -> Response:
    """Approve the step the session waits for: it runs next."""
    return await idempotent(
        lambda: _decide(approvals, principal.org, session_id, step, True, principal, body)
    )


@router.post(
    "/sessions/{session_id}/steps/{step}/reject",
    response_model=DecisionOut,
    responses=DECISION_ANSWERS,
)
async def reject_step(
    session_id: str,
    step: str,
    principal: CurrentPrincipal,
    approvals: ApprovalServiceDep,
    idempotent: Idempotent,
    body: DecisionIn | None = None,
) -> Response:
    """Reject the step the session waits for: the session rolls back what it changed."""
    return await idempotent(
        lambda: _decide(approvals, principal.org, session_id, step, False, principal, body)
    )


@router.post("/approvals/decide", response_model=BatchOut, responses=KEY_ANSWERS)
async def decide_many(
    body: BatchIn,
    principal: CurrentPrincipal,
    approvals: ApprovalServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Approve or reject several steps at once. Each is decided on its own and reported
    with the status code deciding it alone would have given; one refused never stops the
    others."""

    async def decide() -> BatchOut:
        requests = [decision.request() for decision in body.decisions]
        outcomes = await approvals.decide_many(principal.org, requests, principal)
        return BatchOut(results=[BatchResultOut.of(outcome) for outcome in outcomes])

    return await idempotent(decide)


async def _decide(
    approvals: ApprovalService,
    org: str,
    session_id: str,
    step: str,
    approve: bool,
    principal: Principal,
    body: DecisionIn | None,
) -> DecisionOut:
    note = body.note if body is not None else None
    view = await approvals.decide(org, session_id, step, approve, principal, note)
    return DecisionOut.model_validate(view)
