"""A runbook session's approvals: waiting for one, the decisions taken, and whether one
can be taken.

A step's request notifies its approvers and waits durably; an unanswered request
escalates (or is rejected) on timeout. The same rules answer the `decide` Update
(refused at once, with the error type the API maps to a status) and the `approve` /
`reject` Signals (a refusal is kept in the state). Workflow code, like the session that
owns it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from dsl.runbook_plan import ApprovalPlan
from workflows.session_calls import notify_approval
from workflows.session_models import (
    ALREADY_DECIDED,
    FINAL_STATUSES,
    NOT_PENDING,
    OTHER_ORG,
    ROLE_MISSING,
    SELF_APPROVAL,
    SESSION_OVER,
    ApprovalDecision,
    ApprovalNotice,
    DecisionResult,
    NoticeKind,
    PendingApproval,
    Refusal,
    SessionInput,
    SessionState,
    SignalDecision,
)

TIMEOUT_APPROVER = "fireline:approval-timeout"


class Decisions:
    """One decision per step at most; `state` is the session's, whose refusals it keeps."""

    def __init__(self, state: SessionState) -> None:
        self._state = state
        self._results: dict[str, DecisionResult] = {}
        self._notes: dict[str, str | None] = {}

    def __contains__(self, step: str) -> bool:
        return step in self._results

    def of(self, step: str) -> tuple[DecisionResult, str | None]:
        """The decision on `step` and its note."""
        return self._results[step], self._notes.get(step)

    def apply(self, step: str, approve: bool, approver: str, note: str | None) -> DecisionResult:
        result = DecisionResult(
            step=step, approved=approve, approver=approver, decided_at=workflow.now()
        )
        self._results[step] = result
        self._notes[step] = note
        return result

    def raise_if_refused(self, decision: ApprovalDecision) -> None:
        """Another org's decision learns nothing, not even which refusal it would get."""
        if decision.org_id is not None and decision.org_id != self._state.org_id:
            raise ApplicationError("not this org's session", type=OTHER_ORG, non_retryable=True)
        refused = self._refusal(decision.step, decision.approver, decision.approver_roles)
        if refused is not None:
            error, message = refused
            raise ApplicationError(message, type=error, non_retryable=True)

    def take_signal(self, decision: SignalDecision, *, approve: bool) -> None:
        """Apply a signalled decision, or keep why it was refused (a signal has no reply)."""
        refused = self._refusal(decision.step, decision.approver, decision.roles)
        if refused is None:
            self.apply(decision.step, approve, decision.approver, decision.note)
            return
        error, message = refused
        self._state.refusals.append(
            Refusal(
                step=decision.step,
                approver=decision.approver,
                approve=approve,
                error=error,
                message=message,
                at=workflow.now(),
            )
        )

    def _refusal(self, step: str, approver: str, roles: Sequence[str]) -> tuple[str, str] | None:
        return refusal(step, approver, roles, state=self._state, decisions=self._results)


class ApprovalWait:
    """Asks for a step's approval and waits for the decision, escalating on timeout."""

    def __init__(
        self,
        session: SessionInput,
        state: SessionState,
        decisions: Decisions,
        publish: Callable[[], None],
    ) -> None:
        self._session = session
        self._state = state
        self._decisions = decisions
        self._publish = publish

    async def decision(self, step: str, command: str) -> tuple[DecisionResult, str | None]:
        """The decision on `step` and its note; a rejection by timeout when none came."""
        approval: ApprovalPlan = self._session.plan.approval
        roles = list(approval.roles)
        decided = await self._wait(
            step, roles, approval.timeout_seconds, "approval_requested", command
        )
        if not decided and approval.on_timeout == "escalate":
            roles = list(dict.fromkeys([*roles, *approval.escalate_to]))
            wait = approval.escalation_timeout_seconds or approval.timeout_seconds
            decided = await self._wait(step, roles, wait, "approval_escalated", command)
        if not decided:
            self._decisions.apply(step, False, TIMEOUT_APPROVER, "no decision in time")
        self._state.pending = None
        self._state.status = "running"
        return self._decisions.of(step)

    async def _wait(
        self, step: str, roles: list[str], seconds: float, kind: NoticeKind, command: str
    ) -> bool:
        now = workflow.now()
        deadline = now + timedelta(seconds=seconds)
        previous = self._state.pending
        self._state.pending = PendingApproval(
            step=step,
            roles=roles,
            requested_at=previous.requested_at if previous else now,
            deadline=deadline,
            escalated=kind == "approval_escalated",
            command=command,
        )
        self._state.status = "waiting_approval"
        step_state = self._state.step(step)
        assert step_state is not None, step
        step_state.status = "waiting_approval"
        self._publish()
        await notify_approval(
            ApprovalNotice(
                kind=kind,
                session_id=self._session.session_id,
                org_id=self._session.org_id,
                incident_id=self._state.incident_id,
                runbook=self._session.plan.name,
                step=step,
                roles=roles,
                deadline=deadline,
            )
        )
        remaining = (deadline - workflow.now()).total_seconds()
        try:
            await workflow.wait_condition(
                lambda: step in self._decisions,
                timeout=max(remaining, 0.001),
                timeout_summary=f"approval of {step}",
            )
        except TimeoutError:
            return step in self._decisions
        return True


def refusal(
    step: str,
    approver: str,
    roles: Sequence[str],
    *,
    state: SessionState,
    decisions: Mapping[str, DecisionResult],
) -> tuple[str, str] | None:
    """Why this decision cannot be applied: (error type, message); None if it can."""
    decided = decisions.get(step)
    if decided is not None:
        verb = "approved" if decided.approved else "rejected"
        return ALREADY_DECIDED, f"step '{step}' was already {verb} by {decided.approver}"
    if state.status in (*FINAL_STATUSES, "rolling_back"):
        return SESSION_OVER, f"the session is over ({state.status})"
    pending = state.pending
    if pending is None or pending.step != step:
        waiting = (
            f"; step '{pending.step}' is" if pending else "; no step is"
        ) + " waiting for an approval"
        return NOT_PENDING, f"step '{step}' is not waiting for an approval{waiting}"
    if approver == state.requester:
        return SELF_APPROVAL, f"{approver} started this session and cannot decide its steps"
    if not set(roles) & set(pending.roles):
        held = ", ".join(roles) or "no role"
        return ROLE_MISSING, (
            f"deciding step '{step}' needs one of the roles {', '.join(pending.roles)}; "
            f"{approver} has {held}"
        )
    return None
