"""Find an org's runbook session in Temporal: the one check every session route makes.

A session is the workflow whose id is the session id; it belongs to the org named by
its `FirelineOrg` search attribute. Anything else (no such workflow, another type,
another org) is the same 404, so ids of other orgs' sessions cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode

from core.errors import NotFoundError
from workflows.names import SA_ORG, SESSION_WORKFLOW


@dataclass(frozen=True)
class FoundSession:
    handle: WorkflowHandle[object, object]
    description: WorkflowExecutionDescription

    @property
    def is_open(self) -> bool:
        return self.description.status == WorkflowExecutionStatus.RUNNING


async def find_session(client: Client, org: str, session_id: str) -> FoundSession:
    """The session `session_id` of `org`; NotFoundError otherwise."""
    handle = client.get_workflow_handle(session_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise _not_found(session_id) from None
        raise
    if (
        description.workflow_type != SESSION_WORKFLOW
        or description.typed_search_attributes.get(SA_ORG) != org
    ):
        raise _not_found(session_id)
    return FoundSession(handle, description)


def _not_found(session_id: str) -> NotFoundError:
    return NotFoundError(f"runbook session '{session_id}' not found; GET /v1/sessions lists them")
