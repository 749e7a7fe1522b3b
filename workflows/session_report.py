"""What a runbook session says about itself (pure).

The outcome's summary (kept on the incident and in the ticket), the line the Temporal UI
shows as the workflow's current details, the search attributes that find the session,
and the record written onto the incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeUpdate

from dsl.runbook_plan import ApprovalPlan
from workflows.names import SA_INCIDENT, SA_ORG, SA_PLAN_HASH, SA_SEVERITY, SA_WORKFLOW
from workflows.session_models import (
    OutcomeRecord,
    OutcomeResult,
    SessionInput,
    SessionOutcome,
    SessionState,
    SessionStatus,
    StepSummary,
)


def summary(
    runbook: str,
    state: SessionState,
    status: SessionStatus,
    result: OutcomeResult,
    confidence: float,
    reason: str | None,
) -> str:
    checked = [s for s in state.steps if s.phase in ("step", "postcheck")]
    passed = sum(1 for s in checked if s.status == "succeeded")
    parts = [
        f"Runbook '{runbook}' {status.replace('_', ' ')}: "
        f"{passed} of {len(checked)} steps and postchecks succeeded; "
        f"outcome {result} (confidence {confidence:.2f})."
    ]
    if reason:
        parts.append(f"Stopped: {reason}.")
    undone = [r.step for r in state.rollbacks if r.status == "undone"]
    failed = [r.step for r in state.rollbacks if r.status == "failed"]
    kept = [r.step for r in state.rollbacks if r.status == "no_rollback"]
    if undone:
        parts.append(f"Undone: {', '.join(undone)}.")
    if failed:
        parts.append(f"Rollback FAILED for: {', '.join(failed)}.")
    if kept:
        parts.append(f"No rollback defined (left as is): {', '.join(kept)}.")
    return " ".join(parts)


def details(state: SessionState, approval: ApprovalPlan, undoing: str | None) -> str:
    """The Temporal UI's current-details line (Markdown)."""
    pending = state.pending
    if pending is not None:
        then = (
            "then it is rejected"
            if pending.escalated or approval.on_timeout == "reject"
            else f"then it escalates to {', '.join(approval.escalate_to)}"
        )
        return (
            f"**Waiting for approval** of step `{pending.step}` from "
            f"{' or '.join(pending.roles)} until {_when(pending.deadline)}; {then}."
        )
    if state.status == "rolling_back":
        return f"**Rolling back**: undoing `{undoing or '-'}`."
    if state.status == "running":
        running = next((s for s in state.steps if s.status == "running"), None)
        return f"**Running** {running.phase} `{running.name}`." if running else "**Running**."
    if state.outcome is not None:
        return f"**{state.status.replace('_', ' ').capitalize()}**: {state.outcome.summary}"
    return f"**{state.status}**"


def identity_attributes(
    session: SessionInput, incident: Mapping[str, Any]
) -> list[SearchAttributeUpdate[Any]]:
    """The search attributes that find a session: org, runbook, plan, incident, severity."""
    updates: list[SearchAttributeUpdate[Any]] = [
        SA_ORG.value_set(session.org_id),
        SA_WORKFLOW.value_set(session.plan.id),
    ]
    if session.plan.plan_hash:
        updates.append(SA_PLAN_HASH.value_set(session.plan.plan_hash))
    if incident.get("id"):
        updates.append(SA_INCIDENT.value_set(str(incident["id"])))
    if incident.get("severity"):
        updates.append(SA_SEVERITY.value_set(str(incident["severity"])))
    return updates


def outcome_record(
    session: SessionInput, state: SessionState, outcome: SessionOutcome, incident_id: str
) -> OutcomeRecord:
    return OutcomeRecord(
        session_id=session.session_id,
        org_id=session.org_id,
        incident_id=incident_id,
        runbook_id=session.plan.id,
        runbook=session.plan.name,
        status=state.status,
        result=outcome.result,
        confidence=outcome.confidence,
        summary=outcome.summary,
        requester=session.requester,
        steps=[
            StepSummary(name=s.name, phase=s.phase, status=s.status, exit_code=s.exit_code)
            for s in state.steps
        ],
        rollbacks=state.rollbacks,
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
