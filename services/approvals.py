"""Approvals of runbook session steps: what waits for a decision, and deciding it.

Pending approvals come from Temporal visibility (the session publishes its status and
pending step as search attributes) and are then confirmed with each session's `state`
query, since visibility lags behind. A decision goes through the session's `decide`
Update: the workflow checks it (role, requester, pending step) and refuses it at once,
and the refusal becomes the matching error here (403, 404 or 409).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import (
    ConflictError,
    FirelineError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
)
from core.settings import Settings
from services.session_lookup import find_session
from services.temporal import visibility_literal
from workflows.names import DECIDE_UPDATE, SA_SESSION_STATUS, SESSION_WORKFLOW, STATE_QUERY
from workflows.session_models import (
    DECISION_ERRORS,
    FINAL_STATUSES,
    ApprovalDecision,
    DecisionResult,
    SessionState,
)

log = logging.getLogger("fireline.approvals")

T = TypeVar("T")
R = TypeVar("R")

# How long one call to a session may take: a session whose worker is down must not hang
# the approvals list or a decision.
RPC_TIMEOUT = timedelta(seconds=30)
# Sessions asked at once (state queries, decisions of one batch).
CONCURRENCY = 16
ERROR_BY_STATUS: dict[int, type[FirelineError]] = {
    404: NotFoundError,
    403: ForbiddenError,
    409: ConflictError,
}
STATUS_BY_ERROR: dict[type[FirelineError], int] = {
    NotFoundError: 404,
    ForbiddenError: 403,
    ConflictError: 409,
    InvalidInputError: 422,
    ServiceUnavailableError: 503,
}


class SessionUnreachableError(ServiceUnavailableError):
    """Temporal or the session's worker did not answer in time (the API answers 503)."""


class Approver(Protocol):
    """The caller deciding: their user id and roles (api.auth.Principal fits)."""

    @property
    def sub(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class PendingApprovalView:
    session_id: str
    incident_id: str | None
    runbook_id: str
    step: str
    roles: list[str]
    requested_at: datetime
    deadline: datetime
    escalated: bool
    requester: str
    can_decide: bool  # the caller holds one of `roles` and did not start the session
    approve_url: str
    reject_url: str
    command: str | None  # rendered and quoted, as it will run
    host: str | None  # where it runs (None: locally)
    target_rule: str  # which rule chose the host
    confidence: float | None  # how well the runbook matched the incident (None: not kept)


@dataclass(frozen=True)
class DecisionView:
    session_id: str
    step: str
    approved: bool
    approver: str
    decided_at: datetime


@dataclass(frozen=True)
class DecisionRequest:
    session_id: str
    step: str
    approve: bool
    note: str | None = None


@dataclass(frozen=True)
class DecisionOutcome:
    """One decision of a batch: its own status, and its result or why it was refused."""

    session_id: str
    step: str
    status_code: int
    decision: DecisionView | None = None
    detail: str | None = None


class ApprovalService:
    def __init__(
        self, client: Client, settings: Settings, *, rpc_timeout: timedelta = RPC_TIMEOUT
    ) -> None:
        self._client = client
        self._settings = settings
        self._rpc_timeout = rpc_timeout

    async def pending(self, org: str, approver: Approver) -> list[PendingApprovalView]:
        """The org's steps waiting for a decision, oldest request first."""
        candidates = [
            execution.id
            async for execution in self._client.list_workflows(
                _pending_query(org, self._settings.task_queue)
            )
        ]
        states = await _bounded(candidates, self._state_or_none)
        views = [
            _pending_view(state, approver)
            for state in states
            if state is not None and state.pending is not None and state.org_id == org
        ]
        return sorted(views, key=lambda view: (view.requested_at, view.session_id))

    async def decide(
        self,
        org: str,
        session_id: str,
        step: str,
        approve: bool,
        approver: Approver,
        note: str | None = None,
    ) -> DecisionView:
        """Approve or reject `step`; NotFoundError, ForbiddenError or ConflictError when
        the session refuses (the workflow's own message says why).

        The Update goes first, carrying the caller's org, which the session checks before
        anything else: a decision costs one call to Temporal. Only one that found no open
        session of this org looks the session up, to say why."""
        decision = ApprovalDecision(
            step=step,
            approve=approve,
            approver=approver.sub,
            approver_roles=sorted(approver.roles),
            note=note,
            org_id=org,
        )
        handle = self._client.get_workflow_handle(session_id)
        try:
            result = await send_decision(handle, decision, self._rpc_timeout)
        except NoOpenSession as missing:
            found = await find_session(self._client, org, session_id)  # NotFoundError
            if found.is_open:
                raise missing.reason from None
            status = _session_status(found.description)
            raise ConflictError(f"session is over ({status}); nothing to decide") from None
        return DecisionView(
            session_id=session_id,
            step=result.step,
            approved=result.approved,
            approver=result.approver,
            decided_at=result.decided_at,
        )

    async def decide_many(
        self, org: str, decisions: Sequence[DecisionRequest], approver: Approver
    ) -> list[DecisionOutcome]:
        """Each decision on its own, at once; one refused never stops the others."""

        async def one(request: DecisionRequest) -> DecisionOutcome:
            return await self._outcome(org, request, approver)

        return await _bounded(list(decisions), one)

    async def _outcome(
        self, org: str, request: DecisionRequest, approver: Approver
    ) -> DecisionOutcome:
        def refused(status_code: int, detail: str) -> DecisionOutcome:
            return DecisionOutcome(
                request.session_id, request.step, status_code=status_code, detail=detail
            )

        try:
            view = await self.decide(
                org, request.session_id, request.step, request.approve, approver, request.note
            )
        except SessionUnreachableError as err:
            return refused(503, str(err))
        except FirelineError as err:
            return refused(_status_of(err), str(err))
        except Exception as err:  # one broken decision must not lose the others' results
            log.exception("deciding %s/%s failed", request.session_id, request.step)
            return refused(500, f"unexpected error: {type(err).__name__}")
        return DecisionOutcome(request.session_id, request.step, status_code=200, decision=view)

    async def _state_or_none(self, session_id: str) -> SessionState | None:
        handle = self._client.get_workflow_handle(session_id)
        try:
            state: SessionState = await handle.query(
                STATE_QUERY, result_type=SessionState, rpc_timeout=self._rpc_timeout
            )
        except Exception as err:  # a session that cannot answer is not listed as pending
            log.warning("state query of session %s failed: %s", session_id, err)
            return None
        return state


class NoOpenSession(Exception):
    """The Update found no open session of the caller's org: none by that id, one that
    ended, another org's, or a workflow that is not a session."""

    def __init__(self, reason: Exception) -> None:
        super().__init__(str(reason))
        self.reason = reason


async def send_decision(
    handle: WorkflowHandle[Any, Any],
    decision: ApprovalDecision,
    rpc_timeout: timedelta = RPC_TIMEOUT,
) -> DecisionResult:
    """Send `decision` through the `decide` Update; a refusal becomes our error."""
    try:
        result: DecisionResult = await handle.execute_update(
            DECIDE_UPDATE, decision, result_type=DecisionResult, rpc_timeout=rpc_timeout
        )
    except WorkflowUpdateFailedError as err:
        refusal = _refusal(err)  # None also for another org's session: it is not ours
        if refusal is None:
            raise NoOpenSession(err) from None
        raise refusal from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise SessionUnreachableError(
            f"session '{handle.id}' did not answer in time (is a Fireline worker running?); "
            "retry in a moment"
        ) from None
    except RPCError as err:
        # No workflow by that id, or one that has ended.
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise NoOpenSession(err) from None
        raise
    return result


def _refusal(err: WorkflowUpdateFailedError) -> FirelineError | None:
    """The session's refusal as our error; None for a failure that is not a refusal."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in DECISION_ERRORS:
        return ERROR_BY_STATUS[DECISION_ERRORS[cause.type]](cause.message)
    return None


def _status_of(err: FirelineError) -> int:
    for cls in type(err).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _session_status(description: WorkflowExecutionDescription) -> str:
    """How a closed session ended: its own final status, else (terminated, timed out)
    the execution's."""
    published = description.typed_search_attributes.get(SA_SESSION_STATUS)
    if published in FINAL_STATUSES:
        return str(published)
    execution = description.status
    return execution.name.lower() if execution is not None else "closed"


def _pending_query(org: str, task_queue: str) -> str:
    """Sessions of this deployment's workers only: another deployment's sessions in the
    same namespace cannot answer our queries (and would stall the page until timeout)."""
    return (
        f"FirelineOrg = {visibility_literal(org)} AND WorkflowType = '{SESSION_WORKFLOW}' "
        f"AND TaskQueue = {visibility_literal(task_queue)} "
        "AND FirelineSessionStatus = 'waiting_approval' AND ExecutionStatus = 'Running'"
    )


def _pending_view(state: SessionState, approver: Approver) -> PendingApprovalView:
    pending = state.pending
    assert pending is not None
    can_decide = approver.sub != state.requester and not approver.roles.isdisjoint(pending.roles)
    return PendingApprovalView(
        session_id=state.session_id,
        incident_id=state.incident_id,
        runbook_id=state.runbook_id,
        step=pending.step,
        roles=list(pending.roles),
        requested_at=pending.requested_at,
        deadline=pending.deadline,
        escalated=pending.escalated,
        requester=state.requester,
        can_decide=can_decide,
        approve_url=decision_path(state.session_id, pending.step, "approve"),
        reject_url=decision_path(state.session_id, pending.step, "reject"),
        command=pending.command,
        host=state.target.host,
        target_rule=state.target.rule,
        confidence=state.confidence,
    )


def decision_path(session_id: str, step: str, verb: str) -> str:
    return f"/v1/sessions/{quote(session_id, safe=':@')}/steps/{quote(step, safe='')}/{verb}"


async def _bounded(items: list[T], work: Callable[[T], Awaitable[R]]) -> list[R]:
    """`work` on every item, CONCURRENCY at a time, results in order."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def limited(item: T) -> R:
        async with limit:
            return await work(item)

    return list(await asyncio.gather(*(limited(item) for item in items)))
