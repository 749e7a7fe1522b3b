"""Bookkeeping of runbook sessions: the outcome on the incident, notifications.

Both are safe to retry: the outcome event is written once per session (a retry finds it),
the status changes only while the incident is still open, and notifications carry a
dedup key per session (and step and kind). Approval notices also go to Slack when the
providers file has a `slack` connection; Slack being down never fails the activity (a
retry after a crash may post the same notice twice).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from connectors.errors import ConnectorError
from connectors.slack import SlackConnection, post_message
from core.errors import FirelineError
from store.enums import EventType, IncidentStatus
from store.incidents import append_event, get_snapshot, has_event
from store.notifications import add_notification
from workflows.names import NOTIFY_APPROVAL_ACTIVITY, RECORD_OUTCOME_ACTIVITY
from workflows.session_models import (
    ApprovalNotice,
    OutcomeRecord,
    OutcomeRecorded,
    OutcomeResult,
    SessionStatus,
)

# Statuses a resolving session may move on to RESOLVED (a cancelled or already resolved
# incident stays as it is).
RESOLVABLE = (IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED)
# The providers-file connection approval notices are also posted to, when configured.
SLACK_CONNECTION = "slack"


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
            recorded = not await has_event(
                session,
                record.org_id,
                record.incident_id,
                type=EventType.PLAYBOOK_ACTION_EXECUTED,
                actor=actor,
            )
            if recorded:
                await append_event(
                    session,
                    org_id=record.org_id,
                    incident_id=record.incident_id,
                    type=EventType.PLAYBOOK_ACTION_EXECUTED,
                    payload=_outcome_payload(record),
                    actor=actor,
                )
            if recorded:
                await _follow_triage(session, snapshot.triage, record)
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
            await add_notification(
                session,
                org_id=record.org_id,
                title=f"Runbook session {_words(record.status)}",
                message=record.summary,
                severity=outcome_severity(record.status, record.result),
                links=self._links(record.session_id, record.incident_id),
                incident_id=record.incident_id,
                source=record.session_id,
                dedup_key=f"{record.session_id}/outcome",
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
                links=self._links(notice.session_id, notice.incident_id),
                incident_id=notice.incident_id,
                source=notice.session_id,
                dedup_key=f"{notice.session_id}/{notice.step}/{notice.kind}",
            )
        return {"notification_id": notification_id, "slack": await self._to_slack(notice)}

    async def _to_slack(self, notice: ApprovalNotice) -> str:
        """Post the notice to the `slack` connection: "posted", "not_configured" or
        "failed" (logged; the approval waits all the same)."""
        if not self._deps.has_connection(SLACK_CONNECTION, "slack"):
            return "not_configured"
        link = self._deps.link(_session_path(notice.session_id))
        text = f"*{_TITLES[notice.kind]}*\n{_message(notice)}\nSession: {link}"
        try:
            connection = self._deps.connection(SLACK_CONNECTION, "slack")
            slack = SlackConnection.model_validate(connection.authentication)
            await post_message(slack, message=text)
        except (ConnectorError, FirelineError, ValidationError) as err:
            reason = str(err).splitlines()[0]
            activity.logger.warning("approval notice not posted to Slack: %s", reason)
            return "failed"
        return "posted"

    def _links(self, session_id: str, incident_id: str | None) -> list[dict[str, Any]]:
        links = [
            {
                "text": "Session",
                "url": self._deps.link(_session_path(session_id)),
                "external": False,
            }
        ]
        if incident_id:
            incident = self._deps.link(f"/incidents/{quote(incident_id, safe='')}")  # console
            links.append({"text": "Incident", "url": incident, "external": False})
        return links


_TITLES = {
    "approval_requested": "Runbook step waits for approval",
    "approval_escalated": "Runbook approval escalated",
}


def outcome_severity(status: SessionStatus, result: OutcomeResult) -> str:
    if result == "escalated" or status == "rollback_failed":
        return "error"
    return "warning" if result == "in_progress" else "info"


def _words(status: SessionStatus) -> str:
    return status.replace("_", " ")


def _session_path(session_id: str) -> str:
    return f"/v1/sessions/{quote(session_id, safe=':')}"


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


async def _follow_triage(
    session: AsyncSession, triage: dict[str, Any] | None, record: OutcomeRecord
) -> None:
    """A session triage started by itself sets the triage status when it ends."""
    decision = (triage or {}).get("decision") or {}
    if decision.get("session_id") != record.session_id:
        return
    await append_event(
        session,
        org_id=record.org_id,
        incident_id=str(record.incident_id),
        type=EventType.TRIAGED,
        payload={
            "analysis_id": (triage or {})["analysis_id"],
            "stage": "outcome",
            "status": record.result,  # resolved | in_progress (a person reviews) | escalated
            "outcome": {"session_id": record.session_id, "summary": record.summary},
        },
        actor=f"session:{record.session_id}",
    )


def _outcome_payload(record: OutcomeRecord) -> dict[str, Any]:
    """A PLAYBOOK action by the system; `action`/`result` keep the older payload's names."""
    return {
        "action_kind": "PLAYBOOK",
        "label": f"runbook {record.runbook} ({record.runbook_id}): {record.result}",
        "actor_type": "SYSTEM",
        "action": f"runbook:{record.runbook_id}",
        "result": record.result,
        "details": {
            "session_id": record.session_id,
            "runbook_id": record.runbook_id,
            "result": record.result,
            "runbook": record.runbook,
            "status": record.status,
            "confidence": record.confidence,
            "summary": record.summary,
            "requester": record.requester,
            "steps": [step.model_dump(mode="json") for step in record.steps],
            "rollbacks": [rollback.model_dump(mode="json") for rollback in record.rollbacks],
        },
    }
