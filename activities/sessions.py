"""Bookkeeping of runbook sessions: the outcome on the incident, approval notifications.

Both are safe to retry: the outcome event is written once per session (a retry finds it),
the status changes only while the incident is still open, and notifications carry a
dedup key per session, step and kind.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from store.enums import EventType, IncidentStatus
from store.incidents import append_event, get_snapshot, list_events
from store.notifications import add_notification
from store.records import StoredEvent
from workflows.names import NOTIFY_APPROVAL_ACTIVITY, RECORD_OUTCOME_ACTIVITY
from workflows.session_models import ApprovalNotice, OutcomeRecord, OutcomeRecorded

# Statuses a resolving session may move on to RESOLVED (a cancelled or already resolved
# incident stays as it is).
RESOLVABLE = (IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED)


class SessionActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name=RECORD_OUTCOME_ACTIVITY)
    async def record_outcome(self, record: OutcomeRecord) -> OutcomeRecorded:
        what = f"record runbook session {record.session_id} on incident {record.incident_id}"
        with as_activity_failure(what):
            return await self._record(record)

    async def _record(self, record: OutcomeRecord) -> OutcomeRecorded:
        actor = f"session:{record.session_id}"
        async with self._deps.db.session() as session:
            snapshot = await get_snapshot(
                session, record.org_id, record.incident_id, for_update=True
            )
            events = await list_events(session, record.org_id, record.incident_id)
            recorded = not any(_is_outcome_of(event, record.session_id) for event in events)
            if recorded:
                await append_event(
                    session,
                    org_id=record.org_id,
                    incident_id=record.incident_id,
                    type=EventType.PLAYBOOK_ACTION_EXECUTED,
                    payload=_outcome_payload(record),
                    actor=actor,
                )
            resolve = record.result == "resolved" and snapshot.status in RESOLVABLE
            if resolve:
                await append_event(
                    session,
                    org_id=record.org_id,
                    incident_id=record.incident_id,
                    type=EventType.STATUS_CHANGED,
                    payload={
                        "from": snapshot.status,
                        "to": IncidentStatus.RESOLVED.value,
                        "reason": f"runbook session {record.session_id} ({record.runbook}) "
                        f"resolved it with confidence {record.confidence:.2f}",
                    },
                    actor=actor,
                )
        return OutcomeRecorded(recorded=recorded, resolved=resolve)

    @activity.defn(name=NOTIFY_APPROVAL_ACTIVITY)
    async def notify_approval(self, notice: ApprovalNotice) -> dict[str, Any]:
        async with self._deps.db.session() as session:
            notification_id = await add_notification(
                session,
                org_id=notice.org_id,
                title=_TITLES[notice.kind],
                message=_message(notice),
                severity="warning" if notice.kind == "approval_escalated" else "info",
                incident_id=notice.incident_id,
                source=notice.session_id,
                dedup_key=f"{notice.session_id}/{notice.step}/{notice.kind}",
            )
        return {"notification_id": notification_id}


_TITLES = {
    "approval_requested": "Runbook step waits for approval",
    "approval_escalated": "Runbook approval escalated",
}


def _message(notice: ApprovalNotice) -> str:
    roles = " or ".join(notice.roles)
    deadline = notice.deadline.strftime("%Y-%m-%d %H:%M UTC")
    if notice.kind == "approval_escalated":
        return (
            f"Nobody decided step '{notice.step}' of runbook '{notice.runbook}' in time; "
            f"escalated to {roles}. Unless approved by {deadline}, it is rejected and "
            f"the session's changes are rolled back (session {notice.session_id})."
        )
    return (
        f"Runbook '{notice.runbook}' waits for {roles} to approve step '{notice.step}' "
        f"before {deadline} (session {notice.session_id})."
    )


def _is_outcome_of(event: StoredEvent, session_id: str) -> bool:
    if event.type != EventType.PLAYBOOK_ACTION_EXECUTED:
        return False
    details = event.payload.get("details") or {}
    return isinstance(details, dict) and details.get("session_id") == session_id


def _outcome_payload(record: OutcomeRecord) -> dict[str, Any]:
    """Shaped like IncidentService.record_action's: action, result, details."""
    return {
        "action": f"runbook:{record.runbook_id}",
        "result": record.result,
        "details": {
            "session_id": record.session_id,
            "runbook": record.runbook,
            "status": record.status,
            "confidence": record.confidence,
            "summary": record.summary,
            "requester": record.requester,
            "steps": [step.model_dump(mode="json") for step in record.steps],
            "rollbacks": [rollback.model_dump(mode="json") for rollback in record.rollbacks],
        },
    }
