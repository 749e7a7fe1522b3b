"""The decisions taken on a runbook session's steps, and whether one can be taken.

The same rules answer the `decide` Update (refused at once, with the error type the API
maps to a status) and the `approve` / `reject` Signals (a refusal is kept in the state).
Workflow code, like the session that owns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.session_models import (
    ALREADY_DECIDED,
    FINAL_STATUSES,
    NOT_PENDING,
    OTHER_ORG,
    ROLE_MISSING,
    SELF_APPROVAL,
    SESSION_OVER,
    ApprovalDecision,
    DecisionResult,
    Refusal,
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
