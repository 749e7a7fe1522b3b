"""A runbook session's live status, read from Temporal: the search attributes the session
keeps current (FirelineSessionStatus, FirelinePendingStep), else the execution's own
status once it ended without a final one (terminated, timed out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from services.temporal import visibility_literal
from store.sessions import RunbookSessionRecord
from workflows.names import SA_PENDING_STEP, SA_SESSION_STATUS, SESSION_WORKFLOW
from workflows.session_models import FINAL_STATUSES


@dataclass(frozen=True)
class LiveStatus:
    status: str
    pending_step: str | None
    temporal_status: str


async def live_statuses(
    client: Client, org: str, rows: Sequence[RunbookSessionRecord]
) -> dict[str, LiveStatus]:
    """Each row's status from ONE visibility listing; a session the listing does not
    show yet (visibility lags a start by a moment) is described on its own."""
    if not rows:
        return {}
    ids = ", ".join(visibility_literal(row.session_id) for row in rows)
    query = (
        f"WorkflowType = {visibility_literal(SESSION_WORKFLOW)} "
        f"AND FirelineOrg = {visibility_literal(org)} AND WorkflowId IN ({ids})"
    )
    live = {
        execution.id: live_status(execution)
        async for execution in client.list_workflows(query, page_size=len(rows))
    }
    for row in rows:
        if row.session_id not in live:
            live[row.session_id] = await _described(client, row.session_id)
    return live


def live_status(execution: WorkflowExecution) -> LiveStatus:
    """The session's status: its search attribute, unless the run ended without setting a
    final one (terminated, timed out): then Temporal's own status says what happened."""
    attributes = execution.typed_search_attributes
    status = attributes.get(SA_SESSION_STATUS)
    pending = attributes.get(SA_PENDING_STEP) or None
    temporal = execution.status.name if execution.status else "UNKNOWN"
    if execution.status != WorkflowExecutionStatus.RUNNING and status not in FINAL_STATUSES:
        return LiveStatus(status=temporal.lower(), pending_step=None, temporal_status=temporal)
    return LiveStatus(status=status or "running", pending_step=pending, temporal_status=temporal)


async def _described(client: Client, session_id: str) -> LiveStatus:
    try:
        description = await client.get_workflow_handle(session_id).describe()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        # Its history is gone (past the namespace's retention).
        return LiveStatus(status="unknown", pending_step=None, temporal_status="NOT_FOUND")
    return live_status(description)
